#include "kafka/library_version.hpp"

#include <dlfcn.h>
#include <librdkafka/rdkafka.h>
#include <link.h>

namespace samsa::kafka {

int built_version() { return RD_KAFKA_VERSION; }

int loaded_version() { return rd_kafka_version(); }

const char* loaded_version_str() { return rd_kafka_version_str(); }

bool stores_offset_metadata() { return rd_kafka_version() >= 0x020200ff; }

std::string loaded_file() {
  // By soname (every librdkafka has had librdkafka.so.1): the object the loader mapped.
  if (void* handle = dlopen("librdkafka.so.1", RTLD_LAZY | RTLD_NOLOAD)) {
    std::string file;
    link_map* map = nullptr;
    if (dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map != nullptr && map->l_name != nullptr) file = map->l_name;
    dlclose(handle);
    if (!file.empty()) return file;
  }
  // Linked in statically: the object that holds rd_kafka_version.
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&rd_kafka_version), &info) != 0 && info.dli_fname != nullptr) return info.dli_fname;
  return {};
}

}  // namespace samsa::kafka
