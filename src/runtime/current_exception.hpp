#pragma once
// The exception in flight, described for a log line or a dead-letter header: call these
// only inside a catch block (they rethrow it to read it).
#include <cxxabi.h>

#include <exception>
#include <string>
#include <typeinfo>

#include "log_text.hpp"
#include "type_name.hpp"

namespace samsa::runtime {

// The type of the exception in flight, demangled ("std::runtime_error"). Only inside a
// catch block.
inline std::string current_exception_class() {
  const std::type_info* type = abi::__cxa_current_exception_type();
  return type ? demangled_name(*type) : "unknown";
}

// The what() of the exception in flight, as it is (for a header, not a log line).
inline std::string current_exception_what() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception not derived from std::exception";
  }
}

// The text of the exception in flight. Only inside a catch block.
inline std::string current_exception_text() {
  try {
    throw;
  } catch (const std::exception& e) {
    return escape_for_log(e.what());
  } catch (...) {
    return "an exception not derived from std::exception";
  }
}

}  // namespace samsa::runtime
