#pragma once
// The per-partition offset arithmetic of Samsa, with no I/O and no threads.
//
// Contract (docs/offsets.md):
//  - A mark is cumulative: `mark_through(o)` declares every offset <= o handled, and the
//    committable offset becomes o + 1 (Kafka commits "the next offset to read").
//  - Marks never move backwards: marking an older offset changes nothing.
//  - Out-of-order completion is representable: offsets registered with `track()` can be
//    completed in any order with `complete()`, and the committable offset is the end of
//    the contiguous run of completed offsets (the "watermark"). Gaps in the offset
//    sequence (compaction, transaction markers) are fine because only tracked offsets
//    count, never arithmetic on integers.
//  - A mark names a delivered message: `check_mark(o)` refuses an offset above the highest
//    one delivered (`delivered(o)`) or below the first one delivered since start_at, so a
//    mark can neither skip messages nobody handled nor rewind the group.
//  - `first_unmarked()` is the rewind target after an error: the first offset whose
//    handling was not declared, so nothing unhandled is ever skipped.
//  - Offset metadata (a string committed with the offset) is sticky: a mark given metadata
//    sets it, also at the offset already marked (a saga's state can change without moving);
//    a mark without metadata keeps the current one. Empty means none.
//
// Not thread-safe: the owner (runtime::Partition) serialises access.
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace samsa {

class OffsetTracker {
 public:
  /// Means "no offset": nothing marked yet, or no position known.
  static constexpr std::int64_t kNone = -1;

  /// Starts tracking from `first_offset`, the first offset delivered after an assignment
  /// or a seek. Keeps any mark already made (a mark is never forgotten by a rewind).
  void start_at(std::int64_t first_offset);
  bool started() const { return first_ != kNone; }

  /// Records that every offset up to `last_offset` was handed to the consumer.
  void delivered(std::int64_t last_offset) {
    if (last_offset > delivered_) delivered_ = last_offset;
  }
  /// The highest offset handed to the consumer, kNone before any delivery.
  std::int64_t highest_delivered() const { return delivered_; }
  /// The first offset delivered since tracking started, kNone before any delivery.
  std::int64_t first_delivered() const { return first_; }

  /// Whether `offset` may be marked: what check_mark() found.
  enum class MarkCheck { ok, nothing_delivered, above_delivered, below_start };
  MarkCheck check_mark(std::int64_t offset) const;

  /// Declares every offset <= `offset` handled. Returns true when this moved the mark.
  /// Does not validate: the caller runs check_mark() first.
  bool mark_through(std::int64_t offset);
  /// The same, and sets the metadata committed with the mark, also when `offset` is the
  /// offset already marked. Returns true when the mark or its metadata changed. A mark
  /// below the current one changes neither.
  bool mark_through(std::int64_t offset, std::string_view metadata);
  /// The metadata committed with committable(); empty when none was given.
  const std::string& metadata() const { return metadata_; }

  /// Registers an offset handed out for out-of-order processing (ascending order).
  void track(std::int64_t offset);
  /// Declares one tracked offset handled; the watermark moves over the contiguous prefix.
  /// Completing an offset that was not tracked (or is already below the mark) is a no-op.
  void complete(std::int64_t offset);
  /// Offsets tracked and not yet covered by the watermark.
  std::size_t in_flight() const { return pending_.size(); }
  /// The tracked offsets completed above the watermark, as closed intervals in ascending
  /// order: consecutive tracked offsets that are all completed make one interval (offsets
  /// never tracked between them, such as compacted ones, are inside it). What the commit's
  /// metadata carries for the next owner (IncompleteOffsets).
  std::vector<std::pair<std::int64_t, std::int64_t>> completed_ranges() const;

  /// The offset to commit (last handled + 1), or kNone when nothing was marked.
  std::int64_t committable() const { return marked_; }
  /// Where processing must resume after an error: the committable offset when something
  /// was marked since start, else the first delivered offset; kNone before any delivery.
  std::int64_t first_unmarked() const;

  /// Bookkeeping of what was handed to librdkafka / the broker, so that each store or
  /// commit happens only when the mark (or its metadata) changed since.
  bool needs_store() const { return differs(stored_, stored_metadata_); }
  void set_stored(std::int64_t offset, std::string_view metadata = {}) {
    record(stored_, stored_metadata_, offset, metadata);
  }
  std::int64_t stored() const { return stored_; }
  /// The same for what the broker confirmed, so that an unchanged offset is not committed again.
  bool needs_commit() const { return differs(committed_, committed_metadata_); }
  void set_committed(std::int64_t offset, std::string_view metadata = {}) {
    record(committed_, committed_metadata_, offset, metadata);
  }

 private:
  struct Pending {
    std::int64_t offset;
    bool done;
  };
  void advance_over_completed();
  bool differs(std::int64_t offset, const std::string& metadata) const {
    return marked_ != kNone && (marked_ > offset || (marked_ == offset && metadata_ != metadata));
  }
  static void record(std::int64_t& offset, std::string& metadata, std::int64_t new_offset,
                     std::string_view new_metadata) {
    if (new_offset < offset) return;
    offset = new_offset;
    metadata.assign(new_metadata);
  }

  std::int64_t first_ = kNone;
  std::int64_t delivered_ = kNone;
  std::int64_t marked_ = kNone;
  std::int64_t stored_ = kNone;
  std::int64_t committed_ = kNone;
  std::string metadata_, stored_metadata_, committed_metadata_;
  std::deque<Pending> pending_;
};

}  // namespace samsa
