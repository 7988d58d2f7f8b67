#pragma once
// The unit tests' name for the in-memory Kafka client of libsamsa_testing
// (src/testing/memory_consumer_client.hpp), which samsa::testing::ConsumerTest runs users'
// consumers on: the runtime's tests and the kit share one fake.
#include "testing/memory_consumer_client.hpp"

namespace samsa::test {
using FakeConsumerClient = testing::MemoryConsumerClient;
}
