#pragma once
// Human-readable routes and effective settings, for the start-up log and `info`.
#include <cstddef>
#include <string>

#include "samsa/routing.hpp"

namespace samsa::detail {

/// `groups`: how many consumer groups the app runs (they share max_buffered_bytes).
std::string describe_group(const Settings& app, const ConsumerGroupRoute& group, const std::string& brokers,
                           std::size_t groups = 1);

}  // namespace samsa::detail
