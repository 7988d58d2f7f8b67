#pragma once
// The unit tests' name for libsamsa_testing's recording producer
// (src/testing/recording_producer.hpp), the one samsa::testing::ConsumerTest gives the app.
#include "testing/recording_producer.hpp"

namespace samsa::test {
using FakeProducer = testing::RecordingProducer;
}
