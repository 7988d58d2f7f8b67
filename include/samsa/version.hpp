#pragma once
#include <string>

namespace samsa {
inline constexpr const char* kVersion = "0.1.0";
/// Samsa's license, as an SPDX identifier (the LICENSE file; NOTICE beside it).
inline constexpr const char* kLicense = "Apache-2.0";
/// The librdkafka version Samsa runs on (the library loaded), e.g. "2.0.2".
const char* librdkafka_version();
/// Throws samsa::Error when the librdkafka loaded is not one this build of Samsa runs on:
/// older than the one it was built against, or of another major version. The message names
/// both versions, the file loaded and the likely cause (the loader found another
/// librdkafka.so.1, e.g. through LD_LIBRARY_PATH or a missing rpath). A newer one of the same
/// major version runs. App::run and App::serve check first, the samsa tool before a command.
void check_librdkafka();
/// What `--version` prints, for apps and the samsa tool alike:
///   samsa 0.1.0 on librdkafka 2.14.2
///   librdkafka 2.14.2 (built against 2.14.2) from /path/to/librdkafka.so.1
///   license Apache-2.0
std::string version_report();
}  // namespace samsa
