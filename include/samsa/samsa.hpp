#pragma once
// Samsa: Kafka consumer applications in C++ with exact offset management.
#include "samsa/admin.hpp"
#include "samsa/app.hpp"
#include "samsa/consumer.hpp"
#include "samsa/errors.hpp"
#include "samsa/instrumentation.hpp"
#include "samsa/logger.hpp"
#include "samsa/message.hpp"
#include "samsa/offset_tracker.hpp"
#include "samsa/producer.hpp"
#include "samsa/routing.hpp"
#include "samsa/settings.hpp"
#include "samsa/version.hpp"
