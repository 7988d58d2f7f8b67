#pragma once
#include <stdexcept>

namespace samsa::tool {

/// A problem with the command line or the local environment (exit code 2).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace samsa::tool
