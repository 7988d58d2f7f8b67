#pragma once
// The runtime's access to a Consumer's private binding (its partition, its current batch).
#include "samsa/consumer.hpp"

namespace samsa::detail {

struct ConsumerAccess {
  static void bind(Consumer& c, runtime::Partition* p) { c.partition_ = p; }
  static void set_messages(Consumer& c, const Messages* m) { c.messages_ = m; }
};

}  // namespace samsa::detail
