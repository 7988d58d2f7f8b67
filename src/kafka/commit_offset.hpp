#pragma once
// A partition's offset as the group coordinator keeps it: to commit, committed, or read back.
#include <cstdint>
#include <string>

#include "kafka/status.hpp"

namespace samsa::kafka {

/// A partition and an offset, with its commit metadata; in an answer (a commit's, the
/// coordinator's committed offsets), `status` is the broker's verdict for this partition.
struct CommitOffset {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = -1;
  std::string metadata;
  Status status;
};

}  // namespace samsa::kafka
