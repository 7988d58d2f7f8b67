#pragma once
// A C++ type's name for a reader (a log line, a dead-letter header, an error message).
#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <typeinfo>

namespace samsa {

/// The demangled name of `type` ("std::runtime_error", "orders::Order"); the mangled one
/// when it cannot be demangled.
inline std::string demangled_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(type.name());
}

}  // namespace samsa
