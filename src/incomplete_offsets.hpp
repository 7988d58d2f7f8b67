#pragma once
// The offsets completed above a partition's committed one, written into the commit's
// metadata so that the next owner (after a rebalance or a crash) skips them instead of
// handling them again. Virtual partitions complete a partition's offsets out of order: the
// committed offset is the first incomplete one, and what was completed above it would
// otherwise all come again.
//
// Pure: no I/O, no threads. The owner (the runtime's partition) serialises access.
//
// Encoding, version 1, text (Kafka's offset metadata is a string):
//
//   "samsa:io1:" BASE64URL(ranges) [ "|" user metadata ]
//
// `ranges` are the completed offsets as closed intervals [first, last] in ascending order,
// each a pair of unsigned LEB128 varints relative to the previous interval's last offset
// (the first relative to the committed offset): first - previous, then last - first. The
// committed offset itself is never in them (it is the first incomplete one), so the first
// delta is at least 1. An interval may span offsets that were never delivered (compacted
// away, transaction markers) when no incomplete offset lies between its ends, which keeps
// a long run of completed offsets one interval wherever the log has holes. The user's own
// metadata (Consumer::mark_as_consumed with metadata) follows the "|", unchanged.
//
// A partition whose encoding would outgrow kMaxMetadataBytes stops taking work until its
// committed offset moves (the runtime's back-pressure): fits() says whether the next
// completion cannot overflow it.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace samsa {

class IncompleteOffsets {
 public:
  /// A closed interval of completed offsets.
  using Range = std::pair<std::int64_t, std::int64_t>;
  /// Kafka's default offset.metadata.max.bytes: a broker refuses longer metadata.
  static constexpr std::size_t kMaxMetadataBytes = 4096;
  static constexpr std::string_view kPrefix = "samsa:io1:";

  /// The metadata to commit with `committed` (the first incomplete offset): `completed`
  /// (ascending, disjoint, each above `committed`) and the user's metadata. Without ranges
  /// the user's metadata alone, as a commit without virtual partitions. Throws
  /// std::invalid_argument for ranges that are not ascending, overlap or start at or below
  /// `committed`.
  static std::string encode(std::int64_t committed, const std::vector<Range>& completed,
                            std::string_view user_metadata);
  /// The length encode() would return.
  static std::size_t encoded_size(std::int64_t committed, const std::vector<Range>& completed,
                                  std::size_t user_metadata_bytes);
  /// Whether the encoding of `completed` stays within kMaxMetadataBytes whatever offset is
  /// completed next: completing one adds at most one interval (two varints of at most 10
  /// bytes each, 28 characters of base64), so fits() keeps kGrowthReserve characters free.
  static bool fits(std::int64_t committed, const std::vector<Range>& completed, std::size_t user_metadata_bytes);
  static constexpr std::size_t kGrowthReserve = 32;

  struct Decoded {
    std::vector<Range> completed;
    std::string user_metadata;
  };
  /// Reads what encode() wrote for `committed`. Metadata without the prefix is the user's
  /// alone (a commit by a route without virtual partitions, or by an older Samsa). Returns
  /// std::nullopt for a prefix whose body cannot be read (corrupt, or another version):
  /// the caller then skips nothing, which redoes work but loses none.
  static std::optional<Decoded> decode(std::int64_t committed, std::string_view metadata);

  /// Whether `offset` is in one of `completed` (ascending): binary search.
  static bool contains(const std::vector<Range>& completed, std::int64_t offset);
};

}  // namespace samsa
