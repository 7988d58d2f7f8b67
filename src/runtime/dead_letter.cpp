// Partition (partition.hpp): retries and dead letters. After consume() or after_fetch()
// threw on the batch in hand, run_one_batch's catch block calls
// count_failure_and_dead_letter(), on the job's worker; nothing here throws out of it.
//
// - An attempt counts only when the partition's first unmarked message is among the
//   messages in hand (a consumer that marked the whole batch and then threw, or sought past
//   it, did not fail on the message after it; the count starts again). Failures on the same
//   first unmarked offset add up (Consumer::attempt()); another offset starts again at 1.
// - A message goes to the dead-letter queue when its route has one and the attempt that
//   failed is number max_retries + 1: with dispatch it is produced to the dead-letter topic
//   (its key, payload and headers, plus original_* and error_* headers) and the broker's
//   acknowledgement awaited; without dispatch it is skipped (logged as an error).
// - Only then is that one message marked (and stored), the count reset, a dead_letter event
//   published, and the back-off skipped: the listener rewinds to the message after it at
//   once. A dispatch that was not delivered marks nothing: the partition retries after its
//   back-off, so a message is never skipped because the dead-letter topic is away.
#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "log_text.hpp"
#include "runtime/current_exception.hpp"
#include "runtime/listener.hpp"
#include "runtime/partition.hpp"

namespace samsa::runtime {

void Partition::count_failure_and_dead_letter() {
  try {
    count_failure_and_dead_letter_unguarded();
  } catch (...) {
    // Called inside run_batch's catch block: an error here must not leave the worker.
    listener_.logger().error(at(-1), fmt::format("consumer group {}: {}/{}: the dead-letter handling failed: {}",
                                         listener_.name(), topic_, partition_, current_exception_text()));
  }
}

void Partition::count_failure_and_dead_letter_unguarded() {
  const std::int64_t first = first_unmarked();
  // Only an attempt on a message in hand counts: a consumer that marked the whole batch and
  // then threw (or sought past it) did not fail on the message after it.
  const auto in_hand_end = views_.begin() + static_cast<std::ptrdiff_t>(in_hand_end_);
  const auto it = std::find_if(views_.begin() + static_cast<std::ptrdiff_t>(in_hand_begin_), in_hand_end,
                               [&](const Message& m) { return m.offset() == first; });
  if (it == in_hand_end) {
    failed_offset_ = OffsetTracker::kNone;
    failures_ = 0;
    return;
  }
  if (first == failed_offset_) {
    ++failures_;
  } else {
    failed_offset_ = first;
    failures_ = 1;
  }
  const auto& dlq = route_.dead_letter_queue();
  // The first unmarked message has used its attempts. (After a transaction of unknown
  // outcome it may have been handled: the committed offset is read first, at the next
  // delivery.)
  if (!dlq || failures_ <= dlq->max_retries || txn_resync_) return;
  if (kafka_transactional_) {
    // A transactional group: the dead letter and the mark commit together, or neither.
    bool committed = false;
    std::string what = current_exception_what();
    if (what.size() > 1000) what.resize(1000);
    if (dlq->dispatch)
      with_dead_letter(*it, current_exception_class(), what, [&](const OutgoingMessage& out) {
        committed = dead_letter_in_kafka_transaction(first, &out);
      });
    else
      committed = dead_letter_in_kafka_transaction(first, nullptr);
    if (!committed) return;  // retried after the back-off
    listener_.logger().error(at(first), fmt::format(
        "consumer group {}: {}/{}: the message at offset {} failed {} times ({}); {} in one transaction with its "
        "mark; the partition goes on after it",
        listener_.name(), topic_, partition_, first, failures_, escape_for_log(what),
        dlq->dispatch ? "dispatched to dead-letter topic '" + dlq->topic + "'" : std::string("skipped")));
  } else {
    if (dlq->dispatch) {
      // Dispatched already, its mark in the offset store failed: only the mark is retried.
      if (dispatched_offset_ != first) {
        std::string what = current_exception_what();
        if (what.size() > 1000) what.resize(1000);
        if (!dispatch_dead_letter(*it, current_exception_class(), what)) return;  // retried after the back-off
        dispatched_offset_ = first;
      }
    } else {
      listener_.logger().error(at(first), fmt::format(
          "consumer group {}: {}/{}: the message at offset {} failed {} times; skipped without dispatch "
          "(dead_letter_queue dispatch = false) and marked",
          listener_.name(), topic_, partition_, first, failures_));
    }
    // A route with an offset store writes the mark in a transaction of its own; when that
    // fails nothing is marked and the partition retries after its back-off.
    if (route_.offset_store()) {
      if (!mark_in_store(first)) return;
    } else {
      mark(first);
    }
  }
  dispatched_offset_ = OffsetTracker::kNone;
  store();
  failed_offset_ = OffsetTracker::kNone;
  failures_ = 0;
  skip_backoff_ = true;
  if (listener_.observed()) {
    Event event{EventType::dead_letter, listener_.name(), {{topic_, partition_, first}}, 1, {}};
    event.reason = dlq->dispatch ? dlq->topic : "";
    listener_.publish(event);
  }
}

void Partition::with_dead_letter(const Message& m, const std::string& error_class, const std::string& error_text,
                                 const std::function<void(const OutgoingMessage&)>& send) {
  const auto& dlq = *route_.dead_letter_queue();
  // The values live until send() returned (produce() copies them).
  const std::string partition = std::to_string(partition_), offset = std::to_string(m.offset()),
                    timestamp = std::to_string(
                        m.timestamp().time_since_epoch() == std::chrono::system_clock::duration::zero()
                            ? -1
                            : std::chrono::duration_cast<std::chrono::milliseconds>(m.timestamp().time_since_epoch()).count()),
                    attempts = std::to_string(failures_);
  std::vector<Header> headers = m.headers();
  headers.push_back({"original_topic", topic_});
  headers.push_back({"original_partition", partition});
  headers.push_back({"original_offset", offset});
  headers.push_back({"original_timestamp", timestamp});
  headers.push_back({"original_consumer_group", listener_.name()});
  headers.push_back({"original_attempts", attempts});
  headers.push_back({"error_class", error_class});
  headers.push_back({"error_message", error_text});
  send(OutgoingMessage{dlq.topic, m.has_key() ? std::optional<std::string_view>(m.key()) : std::nullopt,
                       m.has_payload() ? std::optional<std::string_view>(m.raw_payload()) : std::nullopt,
                       std::move(headers)});
}

bool Partition::dispatch_dead_letter(const Message& m, const std::string& error_class, const std::string& error_text) {
  const auto& dlq = *route_.dead_letter_queue();
  Producer* producer = listener_.producer();
  const std::string where = fmt::format("consumer group {}: {}/{}: the message at offset {}", listener_.name(), topic_,
                                        partition_, m.offset());
  if (!producer) {
    listener_.logger().error(at(m.offset()), where + " cannot go to its dead-letter topic: this listener has no producer");
    return false;
  }
  DeliveryReport report;
  with_dead_letter(m, error_class, error_text,
                   [&](const OutgoingMessage& out) { report = producer->produce(out).get(); });
  if (!report.ok()) {
    listener_.logger().error(at(m.offset()), fmt::format(
        "{} failed {} times and could not go to dead-letter topic '{}': {}; nothing is marked, the partition "
        "retries after its back-off",
        where, failures_, dlq.topic, report.error));
    return false;
  }
  listener_.logger().error(at(m.offset()), fmt::format("{} failed {} times ({}: {}); dispatched to dead-letter topic '{}' ({}/{}@{}) "
                                       "and marked; the partition goes on after it",
                                       where, failures_, error_class, escape_for_log(error_text), dlq.topic,
                                       report.topic, report.partition, report.offset));
  return true;
}

}  // namespace samsa::runtime
