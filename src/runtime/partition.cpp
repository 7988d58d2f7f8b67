#include "runtime/partition.hpp"

#include <spdlog/fmt/fmt.h>

#include <stdexcept>
#include <thread>

#include "runtime/consumer_access.hpp"
#include "runtime/current_exception.hpp"
#include "runtime/listener.hpp"
#include "runtime/message_access.hpp"

namespace samsa::runtime {

Partition::Partition(Listener& listener, const TopicRoute& route, TopicSettings settings,
                     std::int32_t partition)
    : listener_(listener),
      route_(route),
      topic_(route.name()),
      partition_(partition),
      settings_(settings),
      consumer_logger_(listener.logger(), listener.name(), topic_, partition),
      consumer_(route.factory()()),
      kafka_transactional_(listener.transactional()) {
  // Listener::assign stops the app on this (a partition without a consumer cannot go on).
  if (!consumer_) throw std::logic_error("the consumer factory of topic '" + topic_ + "' returned no consumer");
  detail::ConsumerAccess::bind(*consumer_, this);
}

Partition::~Partition() {
  clear_batch();
  drop_queue(0);
  // The consumer first: statements it prepared on its store session must be gone before
  // the session closes its connection.
  consumer_.reset();
  session_.reset();
}

namespace {

// Why `tracker` refuses a mark of `offset` (see OffsetTracker::check_mark).
std::string refusal(const OffsetTracker& tracker, OffsetTracker::MarkCheck check, std::int64_t offset) {
  switch (check) {
    case OffsetTracker::MarkCheck::nothing_delivered:
      return "no message has been delivered to this consumer in this assignment yet; a mark names "
             "the offset of a delivered message";
    case OffsetTracker::MarkCheck::above_delivered:
      return fmt::format("offset {} was never delivered to this consumer (the highest delivered is {}); "
                         "a mark names a handled message and covers it and every earlier one, it is "
                         "not 'the next offset to read'",
                         offset, tracker.highest_delivered());
    case OffsetTracker::MarkCheck::below_start:
      return fmt::format("offset {} is below {}, the first offset delivered in this assignment; "
                         "marking never moves a group backwards (that is an admin operation on a "
                         "stopped group)",
                         offset, tracker.first_delivered());
    case OffsetTracker::MarkCheck::ok:
      break;
  }
  return {};
}

}  // namespace

bool Partition::mark_checked(std::int64_t offset, std::optional<std::string_view> metadata) {
  // With an offset store, or in a transactional group, a mark is written by the
  // transaction it is made in (whoever owns the partition: the store's compare-and-set or
  // the group coordinator decides), never on its own.
  const bool transactional = has_store() || kafka_transactional_;
  if (transactional) {
    // Only for the errors below: a mark's own path builds no text.
    const auto where = [&] {
      return has_store() ? "a route with an offset store (store " + route_.offset_store()->describe() + ")"
                         : std::string("a transactional consumer group");
    };
    if (transaction_thread_.load(std::memory_order_acquire) != std::this_thread::get_id())
      throw std::logic_error(fmt::format(
          "mark_as_consumed({}) on {}/{}: mark inside transaction() on {}, so that the mark is written with "
          "your output",
          offset, topic_, partition_, where()));
    if (metadata && !metadata->empty())
      throw std::logic_error(fmt::format("mark_as_consumed({}, metadata) on {}/{}: {} keeps no offset metadata; "
                                         "keep it with your output",
                                         offset, topic_, partition_, where()));
  } else if (!owned()) {
    return false;
  }
  std::lock_guard lock(mu_);
  const auto check = tracker_.check_mark(offset);
  // After the consumer's seek to sought_: a message before it is one the consumer moved
  // away from (refused), or one a backward seek delivers again below where the assignment
  // began (committed already; marking it would move the group backwards).
  if (sought_ != OffsetTracker::kNone &&
      (offset < sought_ || check == OffsetTracker::MarkCheck::below_start)) {
    // In a transaction a refused mark must not let its output commit without the offset.
    if (transactional)
      throw std::logic_error(fmt::format("mark_as_consumed({}) on {}/{}: refused, the consumer sought to {}; the "
                                         "transaction is rolled back",
                                         offset, topic_, partition_, sought_));
    if (listener_.logger().level() <= LogLevel::debug)
      listener_.logger().debug(at(offset), fmt::format("{}/{}: mark of offset {} refused: the consumer sought to {}", topic_,
                                           partition_, offset, sought_));
    return false;
  }
  if (check != OffsetTracker::MarkCheck::ok)
    throw std::invalid_argument(fmt::format("mark_as_consumed({}) on {}/{}: {}", offset, topic_, partition_,
                                            refusal(tracker_, check, offset)));
  if (transactional) {
    pending_mark_ = std::max(pending_mark_, offset);
    return true;
  }
  apply_mark(offset, metadata);
  return true;
}

void Partition::apply_mark(std::int64_t offset, std::optional<std::string_view> metadata) {
  const std::int64_t before = tracker_.committable();
  if (metadata ? tracker_.mark_through(offset, *metadata) : tracker_.mark_through(offset)) {
    dirty_.store(true, std::memory_order_relaxed);
    // Progress: the back-off starts again (not for new metadata at the same offset).
    if (tracker_.committable() != before) attempt_.store(0, std::memory_order_relaxed);
  }
}

bool Partition::mark(std::int64_t offset) { return mark_checked(offset, std::nullopt); }

bool Partition::mark(std::int64_t offset, std::string_view metadata) {
  // Short texts, the remedy included: a log line keeps 200 bytes of an exception's text
  // (and already names the topic and partition).
  if (metadata.size() > kMaxMetadataBytes)
    throw std::invalid_argument(fmt::format(
        "mark_as_consumed({}, metadata): {} bytes of metadata, more than the {} Kafka accepts by "
        "default (offset.metadata.max.bytes); keep a key in it, the state elsewhere",
        offset, metadata.size(), kMaxMetadataBytes));
  if (!metadata.empty() && !listener_.client().stores_offset_metadata())
    throw std::logic_error(fmt::format(
        "mark_as_consumed({}, metadata): offset metadata needs librdkafka >= 2.2.0 (this process "
        "runs {}, whose offset store drops it); build against a newer one (the default build, librdkafka 2.14.2)",
        offset, listener_.client().version()));
  return mark_checked(offset, metadata);
}

Partition::Mark Partition::uncommitted() const {
  std::lock_guard lock(mu_);
  if (!tracker_.needs_commit()) return {};
  return {tracker_.committable(), tracker_.metadata()};
}

void Partition::committed(std::int64_t offset, std::string_view metadata) {
  std::lock_guard lock(mu_);
  tracker_.set_committed(offset, metadata);
}

std::int64_t Partition::first_unmarked() const {
  std::lock_guard lock(mu_);
  return tracker_.first_unmarked();
}

bool Partition::store() {
  if (!dirty_.exchange(false, std::memory_order_acq_rel)) return owned();
  // One store at a time per partition: two interleaved stores could hand librdkafka an
  // older offset last (the worker's end-of-job store and a commit from another thread).
  std::lock_guard store_lock(store_mu_);
  std::int64_t offset;
  std::string metadata;
  {
    std::lock_guard lock(mu_);
    if (!tracker_.needs_store()) return owned();
    offset = tracker_.committable();
    metadata = tracker_.metadata();
  }
  if (!owned()) return false;
  const kafka::Status err = listener_.client().store(topic_, partition_, offset, metadata);
  if (!err) {
    {
      std::lock_guard lock(mu_);
      tracker_.set_stored(offset, metadata);
    }
    if (listener_.observed())
      listener_.publish({EventType::offsets_marked, listener_.name(), {{topic_, partition_, offset}}, 1, {}});
    return true;
  }
  if (err.ownership_lost()) {
    // librdkafka >= 1.9 refuses to store for a partition that is not assigned: the free
    // ownership check (docs/offsets.md).
    disown();
    listener_.logger().warn(at(offset), fmt::format("{}/{}: offset {} not stored, the partition is no longer "
                                        "assigned to this process ({})",
                                        topic_, partition_, offset, err.name()));
    return false;
  }
  dirty_.store(true, std::memory_order_relaxed);  // try again at the next store
  listener_.logger().warn(at(offset), fmt::format("{}/{}: storing offset {} failed: {}", topic_, partition_,
                                      offset, err.text()));
  return owned();
}

void Partition::enqueue(kafka::Fetched m) {
  queued_bytes_ += m.footprint();
  last_queued_ = m.offset();
  queued_.push_back(std::move(m));
}

std::size_t Partition::take_batch(std::size_t max, std::size_t max_bytes) {
  wind_down_.store(false, std::memory_order_relaxed);  // the job starts after this (the pool's lock)
  std::size_t bytes = 0;
  if (head_ == 0 && queued_.size() <= max && queued_bytes_ <= max_bytes) {
    raw_.swap(queued_);  // the common case: all of it, no copy (both keep their capacity)
    bytes = queued_bytes_;
  } else {
    std::size_t n = 0;
    const std::size_t available = std::min(max, queued());
    while (n < available && (n == 0 || bytes < max_bytes)) bytes += queued_[head_ + n++].footprint();
    const auto begin = queued_.begin() + static_cast<std::ptrdiff_t>(head_);
    raw_.assign(std::make_move_iterator(begin), std::make_move_iterator(begin + static_cast<std::ptrdiff_t>(n)));
    head_ += n;
    if (head_ == queued_.size()) {
      queued_.clear();  // the moved-from slots hold nothing
      head_ = 0;
    } else if (head_ >= queued_.size() / 2) {
      queued_.erase(queued_.begin(), queued_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  queued_bytes_ -= bytes;
  batch_bytes_ = bytes;
  return bytes;
}

namespace {
template <class T>
void trim_vector(std::vector<T>& v, std::size_t used, std::size_t keep_bytes) {
  if (v.capacity() * sizeof(T) <= keep_bytes || used * 4 > v.capacity()) return;
  if (used == 0) {
    std::vector<T>().swap(v);
  } else {
    v.resize(used);
    v.shrink_to_fit();
  }
}
}  // namespace

void Partition::trim(std::size_t keep_bytes) {
  if (head_ == 0) trim_vector(queued_, queued_.size(), keep_bytes);
  trim_vector(raw_, raw_.size(), keep_bytes);
  // The views beyond raw_ are stale (released by clear_batch): none needs keeping.
  trim_vector(views_, std::min(views_.size(), raw_.size()), keep_bytes);
}

std::size_t Partition::drop_queue(std::int64_t rewound_to) {
  queued_.clear();  // releases the messages
  head_ = 0;
  const std::size_t bytes = queued_bytes_;
  queued_bytes_ = 0;
  last_queued_ = rewound_to - 1;
  return bytes;
}

void Partition::note_batch(std::size_t count, std::chrono::steady_clock::duration took) {
  const double seconds = std::max(std::chrono::duration<double>(took).count(), 1e-6);
  const double now = static_cast<double>(count) / seconds;
  rate_ = rate_ == 0 ? now : 0.7 * rate_ + 0.3 * now;
}

std::size_t Partition::clear_batch() {
  // views_ keeps its elements (a job resizes it only to grow): their parsed payloads go
  // now, the rest is overwritten by the next job's fill.
  for (std::size_t i = 0; i < raw_.size() && i < views_.size(); ++i) detail::MessageAccess::release(views_[i]);
  raw_.clear();  // releases the messages
  return std::exchange(batch_bytes_, 0);
}

const char* to_string(Hook hook) {
  switch (hook) {
    case Hook::initialized: return "initialized";
    case Hook::after_fetch: return "after_fetch";
    case Hook::consume: return "consume";
    case Hook::before_poll: return "before_poll";
    case Hook::after_poll: return "after_poll";
    case Hook::tick: return "tick";
    case Hook::revoked: return "revoked";
    case Hook::before_stop: return "before_stop";
  }
  return "?";
}

bool pauses_on_failure(Hook hook) { return hook != Hook::revoked && hook != Hook::before_stop; }

void Partition::fail(Hook hook, std::int64_t offset, std::size_t count) {
  const std::string what = current_exception_text();
  std::string where =
      fmt::format("consumer group {}: {} failed on {}/{}", listener_.name(), to_string(hook), topic_, partition_);
  if (count > 0)
    where += count == 1 ? fmt::format(" (the message at offset {})", offset)
                        : fmt::format(" (the batch of {} messages from offset {})", count, offset);
  std::string then;
  if (!pauses_on_failure(hook)) {
    then = "its marks stay as they were; what was not marked is delivered again to the next owner";
  } else {
    failed_ = true;
    const int attempt = attempt_.fetch_add(1, std::memory_order_relaxed) + 1;
    const std::int64_t resume = first_unmarked();
    then = fmt::format("attempt {}; ", attempt);
    if (hook == Hook::initialized)
      then += "no message of this partition is handled before initialized() succeeds; it runs again "
              "after a back-off";
    else
      then += fmt::format("nothing more is marked automatically; the partition pauses, then resumes "
                          "from its first unmarked message{}",
                          resume >= 0 ? fmt::format(" (offset {})", resume) : std::string());
  }
  listener_.logger().error(at(count > 0 ? offset : -1), fmt::format("{}: {} ({})", where, what, then));
  if (listener_.observed()) {
    Event event{EventType::hook_failed, listener_.name(), {{topic_, partition_, offset}}, count, what};
    event.hook = to_string(hook);
    if (pauses_on_failure(hook)) event.attempt = attempt_.load(std::memory_order_relaxed);
    listener_.publish(event);
  }
}

void Partition::publish_consumed(const Messages& all, std::size_t handed, std::chrono::steady_clock::time_point began) {
  if (handed == 0 || !listener_.observed()) return;
  Event event{EventType::batch_consumed, listener_.name(), {{topic_, partition_, all.first().offset()}}, handed, {}};
  event.duration = std::chrono::steady_clock::now() - began;
  event.last_offset = all[handed - 1].offset();
  for (std::size_t i = 0; i < handed; ++i) event.bytes += all[i].raw_payload().size();
  listener_.publish(event);
}

void Partition::run_batch() {
  failed_ = false;
  handled_ = 0;
  if (views_.size() < raw_.size()) views_.resize(raw_.size());
  for (std::size_t i = 0; i < raw_.size(); ++i)
    detail::MessageAccess::fill(views_[i], raw_[i], &topic_, &route_.deserializer());
  {
    std::lock_guard lock(mu_);
    if (!tracker_.started()) {
      tracker_.start_at(views_.front().offset());
      assignment_start_ = views_.front().offset();
    }
  }
  // A transaction of unknown outcome failed the last job: where to go on from is the
  // group's committed offset, not this batch's first message.
  if (txn_resync_) {
    if (!resync_from_kafka()) {
      failed_ = true;  // the listener pauses with the back-off and tries again
      attempt_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (control_) return;
  }
  // An instance whose initialized() failed never sees a message: try it again first (a
  // failure rewinds to this batch's first message, where the tracker starts).
  if (!ready_) {
    if (!run_hook(Hook::initialized)) return;
    // It asked for a seek (its own, or to the offset store's offset): nothing of this batch
    // is delivered (the tracker already starts where the seek goes: request_control, or
    // the store's offset).
    if (control_ && !control_->pause) return;
  }
  // One consume() per max_messages of the job's messages, in order. The job stops early,
  // its other messages unhandled (delivered again from the first unmarked one, or to the
  // next owner), after a failure, a seek or pause of the consumer, a lost partition, or
  // when the listener asks it to (a revocation, the shutdown).
  const auto per_batch = static_cast<std::size_t>(std::max(settings_.max_messages, 1));
  const std::size_t count = raw_.size();
  for (std::size_t from = 0; from < count; from += per_batch) {
    if (from > 0 && (failed_ || control_ || !owned() || wind_down_.load(std::memory_order_acquire))) break;
    in_hand_begin_ = from;
    in_hand_end_ = std::min(from + per_batch, count);
    run_one_batch(Messages(views_.data() + from, in_hand_end_ - from));
    handled_ = in_hand_end_;
  }
  store();
}

void Partition::run_one_batch(const Messages& all) {
  {
    std::lock_guard lock(mu_);
    tracker_.delivered(all.last().offset());
  }
  Consumer& c = *consumer_;
  std::int64_t current = all.first().offset();
  const bool automatic = settings_.automatically_mark_as_consumed;
  Hook stage = Hook::after_fetch;
  hook_thread_.store(std::this_thread::get_id(), std::memory_order_release);
  const auto began = std::chrono::steady_clock::now();
  delivery_attempt_ = attempt_of(current);
  set_position(current);  // after_fetch: the batch is not handled yet
  std::size_t handed = 0;  // messages handed to consume() calls that returned
  try {
    detail::ConsumerAccess::set_messages(c, &all);
    c.after_fetch();
    stage = Hook::consume;
    // A batch in which the consumer sought or paused is not marked automatically: it
    // said where to go on from. Per message, the messages after that one are not
    // delivered (they come again from the new position).
    if (settings_.batch_fetching) {
      if (!control_) {
        set_position(all.last().offset() + 1);
        c.consume();
        handed = all.size();
      }
      if (automatic && !control_) mark(all.last().offset());
    } else {
      for (const Message& m : all) {
        if (control_) break;
        current = m.offset();
        delivery_attempt_ = attempt_of(current);
        set_position(current + 1);  // the message in hand is being handled
        const Messages one(&m, 1);
        detail::ConsumerAccess::set_messages(c, &one);
        c.consume();
        ++handed;
        if (automatic && !control_) mark(m.offset());
      }
    }
    publish_consumed(all, handed, began);
  } catch (...) {
    publish_consumed(all, handed, began);  // one message at a time: those before the failure
    fail(stage, current, settings_.batch_fetching ? all.size() : 1);
    count_failure_and_dead_letter();
    set_position(OffsetTracker::kNone);  // it resumes from its first unmarked message
  }
  hook_thread_.store(std::thread::id(), std::memory_order_release);
  delivery_attempt_ = 0;
  detail::ConsumerAccess::set_messages(c, nullptr);
}


bool Partition::run_hook(Hook hook) {
  // A half-built consumer (initialized() threw) is never used: no hook but initialized.
  if (hook != Hook::initialized && !ready_) return true;
  void (Consumer::*fn)() = nullptr;
  switch (hook) {
    case Hook::initialized: fn = &Consumer::initialized; break;
    case Hook::before_poll: fn = &Consumer::before_poll; break;
    case Hook::after_poll: fn = &Consumer::after_poll; break;
    case Hook::tick: fn = &Consumer::tick; break;
    case Hook::revoked: fn = &Consumer::revoked; break;
    case Hook::before_stop: fn = &Consumer::before_stop; break;
    case Hook::after_fetch:
    case Hook::consume:
      return true;  // run_batch's, with the batch in hand
  }
  struct InHook {
    std::atomic<std::thread::id>& thread;
    explicit InHook(std::atomic<std::thread::id>& t) : thread(t) {
      thread.store(std::this_thread::get_id(), std::memory_order_release);
    }
    ~InHook() { thread.store(std::thread::id(), std::memory_order_release); }
  } in_hook(hook_thread_);
  try {
    if (hook == Hook::initialized) load_stored_before_delivery();
    (consumer_.get()->*fn)();
    if (hook == Hook::initialized) ready_ = true;
    return true;
  } catch (...) {
    fail(hook, first_unmarked(), 0);
    if (pauses_on_failure(hook)) set_position(OffsetTracker::kNone);
  }
  return false;
}

void Partition::check_transaction_call() const {
  if (!in_hook())
    throw std::logic_error(fmt::format("{}/{}: transaction() outside the consumer's hooks (or from another thread "
                                       "while one runs); call it from consume() or another hook of this consumer",
                                       topic_, partition_));
  if (transaction_thread_.load(std::memory_order_acquire) != std::thread::id())
    throw std::logic_error(fmt::format("{}/{}: transaction() inside another transaction()", topic_, partition_));
}

// ---- The consumer's seek and pause ----

bool Partition::request_control(std::int64_t position, bool pause, std::chrono::milliseconds pause_for) {
  if (!in_hook())
    throw std::logic_error(fmt::format(
        "{}/{}: seek/pause called outside the consumer's hooks (or from another thread while one runs); call them "
        "from consume(), tick() or another hook of this consumer (from another thread only resume())",
        topic_, partition_));
  if (position < 0 && !(pause && position == OffsetTracker::kNone))
    throw std::invalid_argument(fmt::format("{}/{}: seek to offset {}: an offset is >= 0", topic_, partition_, position));
  if (!owned()) return false;
  if (!pause) {
    rewind_to(position, pause_for);
    return true;
  }
  // A pause leaves marking alone (the consumer may mark what it handled before the message
  // it pauses at).
  control_ = Control{position, pause_for, pause};
  if (position != OffsetTracker::kNone) set_position(position);
  return true;
}

void Partition::rewind_to(std::int64_t position, std::chrono::milliseconds pause_for) {
  {
    std::lock_guard lock(mu_);
    // After a seek, marks below the new position are refused (mark_checked). The mark
    // itself stays: a seek does not change the committed offset; the next mark at or after
    // `position` moves it (past what a forward seek skipped).
    sought_ = position;
    if (tracker_.started() || assignment_start_ != OffsetTracker::kNone)
      tracker_.start_at(std::max(position, assignment_start_));
  }
  control_ = Control{position, pause_for, false};
  set_position(position);
}

void Partition::set_position(std::int64_t offset) { position_.store(offset, std::memory_order_relaxed); }

std::int64_t Partition::consumer_position() const { return position_.load(std::memory_order_relaxed); }

std::int64_t Partition::next_to_deliver() const {
  std::lock_guard lock(mu_);
  const std::int64_t delivered = tracker_.highest_delivered();
  return delivered == OffsetTracker::kNone ? OffsetTracker::kNone : delivered + 1;
}

std::optional<Partition::Control> Partition::take_control() { return std::exchange(control_, std::nullopt); }

}  // namespace samsa::runtime
