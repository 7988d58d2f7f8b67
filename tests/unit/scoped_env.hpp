#pragma once
// Sets (or, with nullptr, unsets) an environment variable for a scope, restoring what was
// there. For the tests of what reads the environment; not thread-safe (setenv).
#include <cstdlib>
#include <optional>
#include <string>

namespace samsa::testing_support {

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) setenv(name, value, 1); else unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) setenv(name_, old_->c_str(), 1); else unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace samsa::testing_support
