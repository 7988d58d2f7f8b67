#include "testing/memory_consumer_client.hpp"

#include <algorithm>

namespace samsa::testing {
namespace {

struct Handle {
  const MemoryConsumerClient::Record* record;
  std::atomic<int>* outstanding;
};

std::string tp(const std::string& topic, std::int32_t partition) { return topic + "/" + std::to_string(partition); }

std::string list(const std::vector<TopicPartitionOffset>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ",") + tp(p.topic, p.partition);
  return out;
}

kafka::Fetched make(void* raw, const kafka::Fetched::Source* source, const MemoryConsumerClient::Record& r) {
  kafka::Fetched::Fields f;
  f.topic_key = r.topic_key ? r.topic_key : &r.topic;
  f.partition = r.partition;
  f.offset = r.offset;
  f.key = r.key.empty() && !r.has_key ? nullptr : r.key.data();
  f.key_len = r.key.size();
  f.payload = r.has_payload ? r.payload.data() : nullptr;
  f.len = r.payload.size();
  return kafka::Fetched(raw, source, f);
}

void headers_of(const MemoryConsumerClient::Record& r, std::vector<Header>& out) {
  for (const auto& [name, value] : r.headers)
    out.push_back({name, value ? std::optional<std::string_view>(*value) : std::nullopt});
}

}  // namespace

const kafka::Fetched::Source MemoryConsumerClient::kSource{
    [](void* raw) {
      auto* h = static_cast<Handle*>(raw);
      --*h->outstanding;
      delete h;
    },
    [](const void* raw) { return static_cast<const Handle*>(raw)->record->topic.c_str(); },
    [](const void* raw) { return static_cast<const Handle*>(raw)->record->timestamp_ms; },
    [](const void* raw, std::vector<Header>& out) { headers_of(*static_cast<const Handle*>(raw)->record, out); },
};

const kafka::Fetched::Source MemoryConsumerClient::kBorrowed{
    [](void*) {},
    [](const void* raw) { return static_cast<const Record*>(raw)->topic.c_str(); },
    [](const void* raw) { return static_cast<const Record*>(raw)->timestamp_ms; },
    [](const void* raw, std::vector<Header>& out) { headers_of(*static_cast<const Record*>(raw), out); },
};

kafka::Fetched MemoryConsumerClient::borrowed(const Record& r) {
  return make(const_cast<Record*>(&r), &kBorrowed, r);
}

MemoryConsumerClient::~MemoryConsumerClient() = default;

void MemoryConsumerClient::produce(const std::string& topic, std::int32_t partition,
                                 const std::vector<std::string>& payloads) {
  {
    std::lock_guard lock(mu_);
    auto& p = parts_[{topic, partition}];
    const std::string* key = &*topics_.insert(topic).first;
    for (const auto& payload : payloads) {
      Record r;
      r.topic = topic;
      r.topic_key = key;
      r.partition = partition;
      r.offset = static_cast<std::int64_t>(p.log.size());
      r.timestamp_ms = 1000 * r.offset;
      r.payload = payload;
      p.log.push_back(std::move(r));
    }
  }
  cv_.notify_all();
}

std::int64_t MemoryConsumerClient::append(Record r) {
  std::int64_t offset;
  {
    std::lock_guard lock(mu_);
    auto& p = parts_[{r.topic, r.partition}];
    r.topic_key = &*topics_.insert(r.topic).first;
    r.offset = offset = static_cast<std::int64_t>(p.log.size());
    p.log.push_back(std::move(r));
  }
  cv_.notify_all();
  return offset;
}

const MemoryConsumerClient::PartitionState* MemoryConsumerClient::find(const std::string& topic,
                                                                       std::int32_t partition) const {
  const auto it = parts_.find({topic, partition});
  return it == parts_.end() ? nullptr : &it->second;
}

std::int64_t MemoryConsumerClient::position(const std::string& topic, std::int32_t partition) const {
  std::lock_guard lock(mu_);
  const PartitionState* p = find(topic, partition);
  return p ? p->position : 0;
}

std::int64_t MemoryConsumerClient::log_end(const std::string& topic, std::int32_t partition) const {
  std::lock_guard lock(mu_);
  const PartitionState* p = find(topic, partition);
  return p ? static_cast<std::int64_t>(p->log.size()) : 0;
}

bool MemoryConsumerClient::rebalance_pending() const {
  std::lock_guard lock(mu_);
  return !rebalances_.empty();
}

std::string MemoryConsumerClient::committed_metadata(const std::string& topic, std::int32_t partition) const {
  std::lock_guard lock(mu_);
  const PartitionState* p = find(topic, partition);
  return p ? p->committed_metadata : std::string();
}

void MemoryConsumerClient::rebalance_assign(const std::vector<TP>& parts) {
  {
    std::lock_guard lock(mu_);
    rebalances_.push_back({true, parts, false});
  }
  cv_.notify_all();
}

void MemoryConsumerClient::rebalance_revoke(const std::vector<TP>& parts, bool lost) {
  {
    std::lock_guard lock(mu_);
    rebalances_.push_back({false, parts, lost});
  }
  cv_.notify_all();
}

void MemoryConsumerClient::report_error(kafka::Status error) {
  std::lock_guard lock(mu_);
  errors_.push_back(std::move(error));
  cv_.notify_all();
}

void MemoryConsumerClient::fail_commits(int n, kafka::Status error) {
  std::lock_guard lock(mu_);
  failing_commits_ = n;
  commit_error_ = std::move(error);
}

void MemoryConsumerClient::set_broker_epoch(std::int32_t epoch) {
  std::lock_guard lock(mu_);
  broker_epoch_ = epoch;
}

void MemoryConsumerClient::set_member_epoch(std::int32_t epoch) {
  std::lock_guard lock(mu_);
  record("member epoch " + std::to_string(epoch));
  member_epoch_ = epoch;
}

std::optional<std::int32_t> MemoryConsumerClient::member_epoch() {
  ++epoch_reads_;
  std::lock_guard lock(mu_);
  return member_epoch_;
}

void MemoryConsumerClient::fail_seeks(int n) {
  std::lock_guard lock(mu_);
  failing_seeks_ = n;
}

std::int64_t MemoryConsumerClient::committed(const std::string& topic, std::int32_t partition) const {
  std::lock_guard lock(mu_);
  const PartitionState* p = find(topic, partition);
  return p ? p->committed : -1;
}

bool MemoryConsumerClient::paused(const std::string& topic, std::int32_t partition) const {
  std::lock_guard lock(mu_);
  const PartitionState* p = find(topic, partition);
  return p && p->paused;
}

std::vector<std::string> MemoryConsumerClient::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

std::vector<std::string> MemoryConsumerClient::calls_starting(const std::string& prefix) const {
  std::vector<std::string> out;
  for (auto& c : calls())
    if (c.rfind(prefix, 0) == 0) out.push_back(c);
  return out;
}

void MemoryConsumerClient::note(const std::string& what) {
  std::lock_guard lock(mu_);
  record(what);
}

void MemoryConsumerClient::record(const std::string& what) { calls_.push_back(what); }

kafka::Status MemoryConsumerClient::subscribe(const std::vector<std::string>&) { return {}; }

kafka::Fetched MemoryConsumerClient::poll(std::chrono::milliseconds timeout) {
  ++polls_;
  const auto until = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  for (;;) {
    // Errors, rebalances and commit answers first, as librdkafka serves its queue in order.
    if (!errors_.empty()) {
      kafka::Status e = std::move(errors_.front());
      errors_.pop_front();
      lock.unlock();
      events_->on_error(e);
      lock.lock();
      continue;
    }
    if (!rebalances_.empty()) {
      Rebalance r = std::move(rebalances_.front());
      rebalances_.pop_front();
      std::vector<TopicPartitionOffset> parts;
      for (const auto& [t, p] : r.parts) parts.push_back({t, p, -1001});
      lost_ = r.lost;
      lock.unlock();
      if (r.assign)
        events_->on_assigned(parts);
      else
        events_->on_revoked(parts, r.lost);
      lock.lock();
      lost_ = false;
      continue;
    }
    if (!async_answers_.empty()) {
      kafka::CommitAnswer a = std::move(async_answers_.front());
      async_answers_.pop_front();
      lock.unlock();
      events_->on_commit(a);
      lock.lock();
      continue;
    }
    // The next message, round robin over the assigned, unpaused partitions.
    for (std::size_t i = 0; i < order_.size(); ++i) {
      const TP& key = order_[(next_ + i) % order_.size()];
      PartitionState& p = parts_[key];
      if (p.paused || p.position >= static_cast<std::int64_t>(p.log.size())) continue;
      next_ = (next_ + i + 1) % order_.size();
      const Record& r = p.log[static_cast<std::size_t>(p.position++)];
      ++outstanding_;
      return make(new Handle{&r, &outstanding_}, &kSource, r);
    }
    if (woken_) {
      woken_ = false;
      return {};
    }
    if (cv_.wait_until(lock, until) == std::cv_status::timeout) {
      if (woken_) woken_ = false;
      return {};
    }
  }
}

void MemoryConsumerClient::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

kafka::Status MemoryConsumerClient::assign(const std::vector<TopicPartitionOffset>& parts) {
  std::lock_guard lock(mu_);
  record("assign " + list(parts));
  if (!incremental_) {
    for (auto& [key, p] : parts_) p.assigned = false;
    order_.clear();
  }
  for (const auto& e : parts) {
    PartitionState& p = parts_[{e.topic, e.partition}];
    p.assigned = true;  // a pause stays, as librdkafka keeps it
    p.position = std::max<std::int64_t>(p.committed, 0);
    p.stored = -1;
    order_.push_back({e.topic, e.partition});
  }
  return {};
}

kafka::Status MemoryConsumerClient::unassign(const std::vector<TopicPartitionOffset>& parts) {
  std::lock_guard lock(mu_);
  record("unassign " + list(parts));
  std::vector<TP> going;
  if (incremental_)
    for (const auto& e : parts) going.push_back({e.topic, e.partition});
  else
    going = order_;
  if (!lost_) commit_stored(going);
  for (const auto& key : going) {
    parts_[key].assigned = false;
    order_.erase(std::remove(order_.begin(), order_.end(), key), order_.end());
  }
  next_ = 0;
  return {};
}

void MemoryConsumerClient::commit_stored(const std::vector<TP>& parts) {
  for (const auto& key : parts) {
    PartitionState& p = parts_[key];
    if (p.stored < 0 || p.stored == p.committed) continue;
    p.committed = p.stored;
    p.committed_metadata = p.stored_metadata;
    record("commit " + tp(key.topic, key.partition) + "@" + std::to_string(p.stored));
  }
}

kafka::Status MemoryConsumerClient::pause(const std::string& topic, std::int32_t partition) {
  std::lock_guard lock(mu_);
  record("pause " + tp(topic, partition));
  parts_[{topic, partition}].paused = true;
  return {};
}

kafka::Status MemoryConsumerClient::resume(const std::string& topic, std::int32_t partition) {
  {
    std::lock_guard lock(mu_);
    record("resume " + tp(topic, partition));
    parts_[{topic, partition}].paused = false;
  }
  cv_.notify_all();
  return {};
}

kafka::Status MemoryConsumerClient::seek(const std::string& topic, std::int32_t partition, std::int64_t offset,
                                       std::chrono::milliseconds) {
  std::lock_guard lock(mu_);
  if (failing_seeks_ > 0) {
    --failing_seeks_;
    record("seek " + tp(topic, partition) + "@" + std::to_string(offset) + " failed");
    return kafka::Status(kafka::Status::Code::other, "_FAIL", "seek failed (in memory)");
  }
  record("seek " + tp(topic, partition) + "@" + std::to_string(offset));
  parts_[{topic, partition}].position = offset;
  return {};
}

kafka::Status MemoryConsumerClient::store(const std::string& topic, std::int32_t partition, std::int64_t offset,
                                        const std::string& metadata) {
  std::lock_guard lock(mu_);
  PartitionState& p = parts_[{topic, partition}];
  if (!p.assigned) return kafka::Status(kafka::Status::Code::state, "_STATE", "not assigned (in memory)", true);
  p.stored = offset;
  p.stored_metadata = metadata;
  return {};
}

kafka::CommitAnswer MemoryConsumerClient::commit(const std::vector<kafka::CommitOffset>& offsets,
                                               std::chrono::milliseconds) {
  std::lock_guard lock(mu_);
  kafka::CommitAnswer a;
  a.answered = true;
  if (failing_commits_ > 0) {
    --failing_commits_;
    record("commit failed " + commit_error_.name());
    a.request = commit_error_;
    if (a.request.code() == kafka::Status::Code::timed_out) a.answered = false;
    return a;
  }
  if (broker_epoch_ && member_epoch_ != broker_epoch_) {
    // As librdkafka answers it: the request's error, and each partition's.
    const kafka::Status stale(kafka::Status::Code::stale_member_epoch, "STALE_MEMBER_EPOCH",
                              "Broker: The member epoch is stale (in memory)", false, true);
    record("commit failed " + stale.name());
    a.request = stale;
    for (auto o : offsets) {
      o.status = stale;
      a.offsets.push_back(std::move(o));
    }
    return a;
  }
  for (const auto& o : offsets) {
    PartitionState& p = parts_[{o.topic, o.partition}];
    p.committed = o.offset;
    p.committed_metadata = o.metadata;
    record("commit " + tp(o.topic, o.partition) + "@" + std::to_string(o.offset));
    a.offsets.push_back(o);
  }
  return a;
}

kafka::Status MemoryConsumerClient::commit_async() {
  std::lock_guard lock(mu_);
  kafka::CommitAnswer a;
  a.answered = true;
  for (auto& [key, p] : parts_) {
    if (!p.assigned || p.stored < 0 || p.stored == p.committed) continue;
    p.committed = p.stored;
    p.committed_metadata = p.stored_metadata;
    record("commit " + tp(key.topic, key.partition) + "@" + std::to_string(p.stored));
    a.offsets.push_back({key.topic, key.partition, p.stored, p.stored_metadata, {}});
  }
  if (a.offsets.empty()) return kafka::Status(kafka::Status::Code::no_offset, "_NO_OFFSET", "nothing stored");
  async_answers_.push_back(std::move(a));
  cv_.notify_all();
  return {};
}

kafka::Status MemoryConsumerClient::committed_metadata(const std::string& topic, std::int32_t partition,
                                                     std::chrono::milliseconds, std::string& metadata) {
  std::lock_guard lock(mu_);
  metadata = parts_[{topic, partition}].committed_metadata;
  return {};
}

kafka::Status MemoryConsumerClient::watermarks(const std::string& topic, std::int32_t partition, std::chrono::milliseconds,
                                             std::int64_t& low, std::int64_t& high) {
  std::lock_guard lock(mu_);
  low = 0;
  high = static_cast<std::int64_t>(parts_[{topic, partition}].log.size());
  return {};
}

kafka::Status MemoryConsumerClient::committed_offsets(const std::vector<TopicPartition>& parts,
                                                    std::chrono::milliseconds, std::vector<std::int64_t>& offsets) {
  std::lock_guard lock(mu_);
  offsets.clear();
  for (const auto& key : parts) offsets.push_back(parts_[key].committed);
  return {};
}

kafka::Status MemoryConsumerClient::offset_for_time(const std::string& topic, std::int32_t partition,
                                                  std::int64_t timestamp_ms, std::chrono::milliseconds,
                                                  std::int64_t& offset) {
  std::lock_guard lock(mu_);
  const auto& log = parts_[{topic, partition}].log;
  offset = static_cast<std::int64_t>(log.size());
  for (const auto& r : log)
    if (r.timestamp_ms >= timestamp_ms) {
      offset = r.offset;
      break;
    }
  return {};
}

kafka::Status MemoryConsumerClient::close() {
  std::vector<TopicPartitionOffset> assigned;
  {
    std::lock_guard lock(mu_);
    record("close");
    for (const auto& key : order_) assigned.push_back({key.topic, key.partition, -1001});
  }
  // librdkafka's close revokes what is still assigned (the runtime's revoke, then unassign).
  if (!assigned.empty()) events_->on_revoked(assigned, false);
  return {};
}

}  // namespace samsa::testing
