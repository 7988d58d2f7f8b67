#include "runtime/partition.hpp"

#include <spdlog/fmt/fmt.h>

#include "kafka/handle.hpp"
#include "runtime/consumer_access.hpp"
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
      consumer_(route.factory()()) {
  detail::ConsumerAccess::bind(*consumer_, this);
}

Partition::~Partition() { clear_batch(); }

bool Partition::mark(std::int64_t offset) {
  if (!owned()) return false;
  std::lock_guard lock(mu_);
  if (tracker_.mark_through(offset)) dirty_.store(true, std::memory_order_relaxed);
  return true;
}

std::int64_t Partition::uncommitted() const {
  std::lock_guard lock(mu_);
  return tracker_.needs_commit() ? tracker_.committable() : OffsetTracker::kNone;
}

void Partition::committed(std::int64_t offset) {
  std::lock_guard lock(mu_);
  tracker_.set_committed(offset);
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
  {
    std::lock_guard lock(mu_);
    if (!tracker_.needs_store()) return owned();
    offset = tracker_.committable();
  }
  if (!owned()) return false;
  auto list = kafka::make_list(1);
  rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), partition_)->offset = offset;
  rd_kafka_resp_err_t err = rd_kafka_offsets_store(listener_.handle(), list.get());
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = list->elems[0].err;
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::lock_guard lock(mu_);
    tracker_.set_stored(offset);
    return true;
  }
  if (kafka::is_ownership_lost(err)) {
    // librdkafka >= 1.9 refuses to store for a partition that is not assigned: the free
    // ownership check of DESIGN.md.
    disown();
    listener_.logger().warn(fmt::format("{}/{}: offset {} not stored, the partition is no longer "
                                        "assigned to this process ({})",
                                        topic_, partition_, offset, rd_kafka_err2name(err)));
    return false;
  }
  dirty_.store(true, std::memory_order_relaxed);  // try again at the next store
  listener_.logger().warn(fmt::format("{}/{}: storing offset {} failed: {}", topic_, partition_,
                                      offset, rd_kafka_err2str(err)));
  return owned();
}

void Partition::clear_batch() {
  for (auto* m : raw_) rd_kafka_message_destroy(m);
  raw_.clear();
  views_.clear();
}

void Partition::fail(const std::exception* e, std::int64_t offset, std::size_t count) {
  failed_ = true;
  ++attempt_;
  std::string what = e ? e->what() : "an exception not derived from std::exception";
  listener_.logger().error(fmt::format(
      "consumer group {}: consume failed on {}/{} ({} offset {}): {} (attempt {}; nothing "
      "of it is marked automatically; the partition pauses, then resumes from the first "
      "unmarked message)",
      listener_.name(), topic_, partition_,
      count == 1 ? std::string("the message at") : fmt::format("the batch of {} messages from", count),
      offset, what, attempt_));
  if (listener_.observed())
    listener_.publish({EventType::consume_failed, listener_.name(), {{topic_, partition_, offset}}, 0, what});
}

void Partition::run_batch() {
  failed_ = false;
  views_.resize(raw_.size());
  for (std::size_t i = 0; i < raw_.size(); ++i)
    detail::MessageAccess::fill(views_[i], raw_[i], &topic_, &route_.deserializer());
  {
    std::lock_guard lock(mu_);
    if (!tracker_.started()) tracker_.start_at(views_.front().offset());
  }
  Consumer& c = *consumer_;
  const Messages all(views_.data(), views_.size());
  std::int64_t current = views_.front().offset();
  const bool automatic = settings_.automatically_mark_as_consumed;
  try {
    detail::ConsumerAccess::set_messages(c, &all);
    c.after_fetch();
    if (settings_.batch_fetching) {
      c.consume();
      if (automatic) mark(all.last().offset());
    } else {
      for (const Message& m : all) {
        current = m.offset();
        const Messages one(&m, 1);
        detail::ConsumerAccess::set_messages(c, &one);
        c.consume();
        if (automatic) mark(m.offset());
      }
    }
    attempt_ = 0;
    if (listener_.observed())
      listener_.publish({EventType::batch_consumed, listener_.name(), {{topic_, partition_, all.first().offset()}}, all.size(), {}});
  } catch (const std::exception& e) {
    fail(&e, current, settings_.batch_fetching ? all.size() : 1);
  } catch (...) {
    fail(nullptr, current, settings_.batch_fetching ? all.size() : 1);
  }
  detail::ConsumerAccess::set_messages(c, nullptr);
  store();
}

void Partition::run_hook(void (Consumer::*hook)(), const char* name) {
  try {
    (consumer_.get()->*hook)();
  } catch (const std::exception& e) {
    listener_.logger().error(fmt::format("consumer group {}: {} failed on {}/{}: {}",
                                         listener_.name(), name, topic_, partition_, e.what()));
  } catch (...) {
    listener_.logger().error(fmt::format("consumer group {}: {} failed on {}/{} (unknown exception)",
                                         listener_.name(), name, topic_, partition_));
  }
}

}  // namespace samsa::runtime
