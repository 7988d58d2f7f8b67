// KIP-848 on real Kafka (4.x): synchronous marks racing the member-epoch bumps of
// rebalances (docs/offsets.md, "A stale member epoch"). A member marks every message with
// mark_as_consumed_sync while a second member joins and leaves the group, again and again:
// each join and leave moves the first member to a new epoch, and a commit that left with the
// old one is refused with STALE_MEMBER_EPOCH. The rules checked:
// - a sync mark that returned true is committed: no read of the broker's committed offsets
//   (taken all along, and at the end) is below an offset confirmed before the read;
// - a sync mark returns false only for a partition that was taken away (owned() is false
//   right after), never while the partition stays assigned;
// - at the end every delivered message is committed, and nothing past it.
// Whether a commit meets a stale epoch at all is a race: the test counts how often it did
// and prints it; its assertions hold whether it did or not.
//
// Under the classic protocol and on the embedded broker there is no member epoch: skipped.
#include <algorithm>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "harness.hpp"

namespace samsa::test {
namespace {

using StaleEpoch = BrokerTest;

/// What the members' sync marks answered, and what the broker had meanwhile.
struct Ledger {
  std::mutex mu;
  std::map<int, std::int64_t> confirmed;   // partition -> offset + 1 of the highest true sync mark
  long trues = 0;
  long taken_away = 0;                     // false, and the partition was no longer the member's
  std::vector<std::string> false_owned;    // false while the partition stayed assigned
  std::vector<std::string> broker_behind;  // a read of the broker below what was confirmed before it
  std::atomic<int> stale{0};               // commits refused with STALE_MEMBER_EPOCH
  std::atomic<int> reads{0};

  void note(int partition, std::int64_t offset, bool ok, bool owned) {
    std::lock_guard lock(mu);
    if (ok) {
      ++trues;
      auto& c = confirmed[partition];
      c = std::max(c, offset + 1);
    } else if (!owned) {
      ++taken_away;
    } else if (false_owned.size() < 20) {
      false_owned.push_back("partition " + std::to_string(partition) + " offset " + std::to_string(offset));
    }
  }
  std::map<int, std::int64_t> snapshot() {
    std::lock_guard lock(mu);
    return confirmed;
  }
};

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += "\n  " + l;
  return out;
}

TEST_F(StaleEpoch, SyncMarksRacingEpochBumpsAreCommittedOrFalseOnlyForPartitionsTakenAway) {
  if (test_group_protocol() != GroupProtocol::consumer)
    GTEST_SKIP() << "member epochs are KIP-848's (SAMSA_TEST_GROUP_PROTOCOL=consumer, Kafka >= 4.0)";
  constexpr int kPartitions = 4, kPerPartition = 10000, kCycles = 4;
  Broker::get().create_topic(topic, kPartitions);
  produce(topic, 0, std::int64_t{kPartitions} * kPerPartition, kPartitions);

  Ledger ledger;
  // Every member marks every message synchronously, in a tight loop.
  auto marker = [&ledger](RecordingConsumer& c) {
    for (const auto& m : c.messages()) {
      const bool ok = c.mark_as_consumed_sync(m);
      const bool owned = c.owned();
      ledger.note(c.partition(), m.offset(), ok, owned);
      if (!ok && !owned) return;  // taken away: the rest is the next owner's
    }
  };
  auto prepare = [&ledger](TestApp& t) {
    t.app.settings().max_messages = 20;  // short jobs: a revocation waits for them
    t.app.monitor().subscribe_inline([&ledger](const Event& e) {
      if (e.type == EventType::commit_failed && e.error.find("epoch is stale") != std::string::npos) ++ledger.stale;
    });
  };

  // The broker's committed offsets, read all along: never below what a true sync mark
  // confirmed before the read began.
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      const auto before = ledger.snapshot();
      std::vector<admin::PartitionOffsets> rows;
      try {
        rows = admin::group_offsets(Broker::get().cluster(), group, {topic}, 10s);
      } catch (const std::exception&) {
        continue;  // no answer this time: nothing to check
      }
      for (const auto& r : rows) {
        const auto it = before.find(r.partition);
        if (it != before.end() && r.committed < it->second) {
          std::lock_guard lock(ledger.mu);
          if (ledger.broker_behind.size() < 20)
            ledger.broker_behind.push_back("partition " + std::to_string(r.partition) + ": committed " +
                                           std::to_string(r.committed) + " after a sync mark confirmed " +
                                           std::to_string(it->second));
        }
      }
      ++ledger.reads;
      std::this_thread::sleep_for(100ms);
    }
  });
  struct Join {
    std::atomic<bool>& done;
    std::thread& t;
    ~Join() {
      done = true;
      if (t.joinable()) t.join();
    }
  } join_reader{done, reader};

  std::vector<std::unique_ptr<TestApp>> members;  // kept: their probes are read at the end
  auto& a = *members.emplace_back(std::make_unique<TestApp>(topic, group, marker));
  prepare(a);
  Running run_a(a.app);
  ASSERT_TRUE(eventually([&] { return a.probe.consumed >= 200; })) << "A never consumed";
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    auto& b = *members.emplace_back(std::make_unique<TestApp>(topic, group, marker));
    prepare(b);
    {
      // B joins: A revokes some partitions (its epoch moves on when it acknowledges),
      // and B receives them once A released them.
      Running run_b(b.app);
      ASSERT_TRUE(eventually([&] { return b.probe.consumed >= 100; }, 90s)) << "cycle " << cycle << ": B never consumed";
      // B leaves: A is given every partition back (its epoch moves on at once).
      EXPECT_EQ(run_b.stop(), kExitOk) << "cycle " << cycle;
    }
    const std::size_t from = a.probe.count_deliveries();
    ASSERT_TRUE(eventually([&] {
      std::lock_guard lock(a.probe.mu);
      std::set<int> parts;
      for (std::size_t i = from; i < a.probe.deliveries.size(); ++i) parts.insert(a.probe.deliveries[i].partition);
      return parts.size() == static_cast<std::size_t>(kPartitions);
    }, 90s)) << "cycle " << cycle << ": A never consumed every partition again";
  }
  EXPECT_EQ(run_a.stop(), kExitOk);
  done = true;
  reader.join();

  std::map<int, std::int64_t> delivered;  // partition -> highest offset delivered to any member
  for (const auto& m : members) {
    std::lock_guard lock(m->probe.mu);
    for (const auto& d : m->probe.deliveries) delivered[d.partition] = std::max(delivered[d.partition], d.offset);
  }
  std::lock_guard lock(ledger.mu);
  std::ostringstream counts;
  counts << "STALE_MEMBER_EPOCH seen " << ledger.stale << " times; sync marks: " << ledger.trues << " true, "
         << ledger.taken_away << " false for a partition taken away, " << ledger.false_owned.size()
         << " false while owned; " << ledger.reads << " reads of the broker";
  std::cout << counts.str() << "\n";
  RecordProperty("stale_member_epoch", ledger.stale.load());
  EXPECT_GT(ledger.trues, 0) << counts.str();
  EXPECT_TRUE(ledger.false_owned.empty()) << "false while the partition stayed assigned:" << join(ledger.false_owned);
  EXPECT_TRUE(ledger.broker_behind.empty()) << "a confirmed sync mark not committed:" << join(ledger.broker_behind);
  for (int p = 0; p < kPartitions; ++p) {
    const std::int64_t on_broker = committed(group, topic, p);
    EXPECT_GE(on_broker, ledger.confirmed[p]) << "partition " << p << ": every true sync mark is committed";
    ASSERT_TRUE(delivered.count(p)) << "partition " << p << " was never delivered";
    EXPECT_EQ(on_broker, delivered[p] + 1) << "partition " << p << ": everything delivered is committed, nothing past";
  }
}

}  // namespace
}  // namespace samsa::test
