#pragma once
// Human-readable routes and effective settings, for the start-up log and `info`.
#include <string>

#include "samsa/routing.hpp"

namespace samsa::detail {

std::string describe_group(const Settings& app, const ConsumerGroupRoute& group, const std::string& brokers);

}  // namespace samsa::detail
