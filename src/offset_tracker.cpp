#include "samsa/offset_tracker.hpp"

#include <algorithm>

namespace samsa {

void OffsetTracker::start_at(std::int64_t first_offset) {
  first_ = first_offset;
  // Offsets tracked before a rewind will be delivered (and tracked) again.
  pending_.clear();
}

OffsetTracker::MarkCheck OffsetTracker::check_mark(std::int64_t offset) const {
  if (first_ == kNone || delivered_ == kNone) return MarkCheck::nothing_delivered;
  if (offset > delivered_) return MarkCheck::above_delivered;
  if (offset < first_) return MarkCheck::below_start;
  return MarkCheck::ok;
}

bool OffsetTracker::mark_through(std::int64_t offset) {
  const std::int64_t next = offset + 1;
  if (marked_ != kNone && next <= marked_) return false;
  marked_ = next;
  while (!pending_.empty() && pending_.front().offset < next) pending_.pop_front();
  advance_over_completed();
  return true;
}

bool OffsetTracker::mark_through(std::int64_t offset, std::string_view metadata) {
  if (mark_through(offset)) {
    metadata_.assign(metadata);
    return true;
  }
  if (offset + 1 != marked_ || metadata == metadata_) return false;
  metadata_.assign(metadata);
  return true;
}

void OffsetTracker::track(std::int64_t offset) {
  if (marked_ != kNone && offset < marked_) return;
  if (!pending_.empty() && offset <= pending_.back().offset) return;
  pending_.push_back({offset, false});
}

void OffsetTracker::complete(std::int64_t offset) {
  auto it = std::lower_bound(pending_.begin(), pending_.end(), offset,
                             [](const Pending& p, std::int64_t o) { return p.offset < o; });
  if (it == pending_.end() || it->offset != offset) return;
  it->done = true;
  advance_over_completed();
}

void OffsetTracker::advance_over_completed() {
  while (!pending_.empty() && pending_.front().done) {
    marked_ = pending_.front().offset + 1;
    pending_.pop_front();
  }
}

std::vector<std::pair<std::int64_t, std::int64_t>> OffsetTracker::completed_ranges() const {
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  bool open = false;  // the last pending offset was done: out.back() may grow
  for (const Pending& p : pending_) {
    if (!p.done) {
      open = false;
    } else if (open) {
      out.back().second = p.offset;
    } else {
      out.emplace_back(p.offset, p.offset);
      open = true;
    }
  }
  return out;
}

std::int64_t OffsetTracker::first_unmarked() const {
  if (marked_ != kNone && (first_ == kNone || marked_ >= first_)) return marked_;
  return first_;
}

}  // namespace samsa
