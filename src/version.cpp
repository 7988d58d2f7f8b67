#include "samsa/version.hpp"

#include "kafka/library_version.hpp"
#include "samsa/errors.hpp"
#include "samsa/settings.hpp"
#include "version_rule.hpp"

namespace samsa {

namespace detail {

std::string librdkafka_refusal(int built, int loaded, const std::string& file) {
  // Major, minor and revision; the last byte (a pre-release's tag) does not count.
  const bool other_major = (loaded >> 24) != (built >> 24);
  if (!other_major && (loaded >> 8) >= (built >> 8)) return {};
  const std::string from = file.empty() ? "" : " (from " + file + ")";
  return "librdkafka " + version_text(loaded) + " is loaded" + from + ", " +
         (other_major ? "of another major version than" : "older than") + " the librdkafka " +
         version_text(built) +
         " Samsa was built against. The loader found another librdkafka.so.1 than the build's (every "
         "librdkafka has that soname): LD_LIBRARY_PATH, or a binary or libsamsa linked without the rpath to "
         "the build's librdkafka. Run with librdkafka " +
         version_text(built) + ", or build Samsa against " + version_text(loaded);
}

}  // namespace detail

const char* librdkafka_version() { return kafka::loaded_version_str(); }

void check_librdkafka() {
  const int built = kafka::built_version(), loaded = kafka::loaded_version();
  if (detail::librdkafka_refusal(built, loaded, "").empty()) return;
  throw Error(detail::librdkafka_refusal(built, loaded, kafka::loaded_file()));  // naming the file
}

std::string version_report() {
  const std::string file = kafka::loaded_file();
  return std::string("samsa ") + kVersion + " on librdkafka " + librdkafka_version() + "\nlibrdkafka " +
         librdkafka_version() + " (built against " + version_text(kafka::built_version()) + ")" +
         (file.empty() ? "" : " from " + file) + "\nlicense " + kLicense;
}

}  // namespace samsa
