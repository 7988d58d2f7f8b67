#pragma once
// The librdkafka producer behind samsa::Producer (App::producer()).
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "samsa/logger.hpp"
#include "samsa/producer.hpp"
#include "samsa/settings.hpp"

namespace samsa::kafka {

/// The librdkafka properties of the app's producer (see make_producer), without the check
/// for bootstrap servers. The transactional producers start from them too.
std::map<std::string, std::string> producer_properties(const Settings& settings, const std::string& brokers);

/// The app's producer: the app's connection properties (settings.kafka: bootstrap.servers,
/// security.*, ssl.*, sasl.*, ...; the consumer-only ones are ignored by librdkafka and
/// their warning is not logged), then settings.producer_kafka, then Samsa's defaults where
/// neither set one: enable.idempotence=true (which implies acks=all), client.id. `brokers`
/// overrides bootstrap.servers when not empty. Throws SettingsError for a bad or missing
/// property, before anything connects. Starts the thread that serves delivery reports.
std::unique_ptr<Producer> make_producer(const Settings& settings, const std::string& brokers, Logger& logger);
/// What a producer has done since it was made, for /metrics.
struct ProducerCounts {
  std::uint64_t delivered = 0;  ///< acknowledged by the broker
  std::uint64_t failed = 0;     ///< reported as not delivered
  std::size_t in_flight = 0;    ///< produced, not yet delivered or failed
};
/// The counts of a producer make_producer made; for another Producer only its in_flight().
ProducerCounts counts_of(const Producer& producer);

/// Checks the librdkafka properties make_producer would use (settings.kafka with
/// settings.producer_kafka over them; see check_client_properties), without connecting:
/// `info` runs it. Throws SettingsError.
void check_producer(const Settings& settings);

}  // namespace samsa::kafka
