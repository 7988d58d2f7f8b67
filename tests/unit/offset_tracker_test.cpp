#include "samsa/offset_tracker.hpp"

#include <gtest/gtest.h>

#include <cstdint>

using samsa::OffsetTracker;

TEST(OffsetTracker, NothingIsCommittableBeforeAMark) {
  OffsetTracker t;
  t.start_at(40);
  EXPECT_EQ(t.committable(), OffsetTracker::kNone);
  EXPECT_EQ(t.first_unmarked(), 40);
  EXPECT_FALSE(t.needs_store());
}

TEST(OffsetTracker, AMarkCommitsTheNextOffsetToRead) {
  OffsetTracker t;
  t.start_at(0);
  EXPECT_TRUE(t.mark_through(9));
  EXPECT_EQ(t.committable(), 10);
  EXPECT_EQ(t.first_unmarked(), 10);
}

TEST(OffsetTracker, MarksNeverMoveBackwards) {
  OffsetTracker t;
  t.start_at(0);
  t.mark_through(20);
  EXPECT_FALSE(t.mark_through(5));
  EXPECT_FALSE(t.mark_through(20));
  EXPECT_EQ(t.committable(), 21);
}

TEST(OffsetTracker, StoresOnlyWhenTheMarkMovedPastTheStoredOffset) {
  OffsetTracker t;
  t.start_at(0);
  t.mark_through(4);
  ASSERT_TRUE(t.needs_store());
  t.set_stored(t.committable());
  EXPECT_FALSE(t.needs_store());
  t.mark_through(3);
  EXPECT_FALSE(t.needs_store());
  t.mark_through(7);
  EXPECT_TRUE(t.needs_store());
}

TEST(OffsetTracker, OutOfOrderCompletionCommitsTheContiguousRunOnly) {
  OffsetTracker t;
  t.start_at(100);
  for (int o = 100; o < 105; ++o) t.track(o);
  t.complete(101);
  t.complete(103);
  EXPECT_EQ(t.committable(), OffsetTracker::kNone) << "100 is not done: nothing may be committed";
  EXPECT_EQ(t.first_unmarked(), 100);
  t.complete(100);
  EXPECT_EQ(t.committable(), 102) << "100 and 101 done, 102 not";
  t.complete(102);
  EXPECT_EQ(t.committable(), 104);
  t.complete(104);
  EXPECT_EQ(t.committable(), 105);
  EXPECT_EQ(t.in_flight(), 0u);
}

TEST(OffsetTracker, GapsInTheOffsetSequenceDoNotBlockTheWatermark) {
  // Compacted topics and transaction markers leave holes: only tracked offsets count.
  OffsetTracker t;
  t.start_at(10);
  t.track(10);
  t.track(13);
  t.track(20);
  t.complete(13);
  t.complete(10);
  EXPECT_EQ(t.committable(), 14);
  t.complete(20);
  EXPECT_EQ(t.committable(), 21);
}

TEST(OffsetTracker, ACumulativeMarkCoversTrackedOffsetsBelowIt) {
  OffsetTracker t;
  t.start_at(0);
  for (int o = 0; o < 6; ++o) t.track(o);
  t.complete(4);
  t.mark_through(2);
  EXPECT_EQ(t.committable(), 3);
  EXPECT_EQ(t.in_flight(), 3u);
  t.complete(3);
  EXPECT_EQ(t.committable(), 5) << "3 then the already completed 4";
}

TEST(OffsetTracker, CompletingAnUntrackedOffsetChangesNothing) {
  OffsetTracker t;
  t.start_at(0);
  t.track(0);
  t.complete(7);
  EXPECT_EQ(t.committable(), OffsetTracker::kNone);
}

TEST(OffsetTracker, ARewindKeepsTheMark) {
  OffsetTracker t;
  t.start_at(0);
  t.mark_through(4);
  t.track(5);
  t.start_at(5);  // rewound after an error
  EXPECT_EQ(t.committable(), 5);
  EXPECT_EQ(t.first_unmarked(), 5);
  EXPECT_EQ(t.in_flight(), 0u);
}

TEST(OffsetTracker, NothingCanBeMarkedBeforeADelivery) {
  OffsetTracker t;
  EXPECT_EQ(t.check_mark(0), OffsetTracker::MarkCheck::nothing_delivered);
  t.start_at(10);
  EXPECT_EQ(t.check_mark(10), OffsetTracker::MarkCheck::nothing_delivered) << "started, nothing handed out yet";
}

TEST(OffsetTracker, AMarkMustNameADeliveredOffset) {
  OffsetTracker t;
  t.start_at(10);
  t.delivered(19);
  EXPECT_EQ(t.check_mark(10), OffsetTracker::MarkCheck::ok);
  EXPECT_EQ(t.check_mark(19), OffsetTracker::MarkCheck::ok);
  EXPECT_EQ(t.check_mark(20), OffsetTracker::MarkCheck::above_delivered) << "'the next offset' is not delivered";
  EXPECT_EQ(t.check_mark(INT64_MAX), OffsetTracker::MarkCheck::above_delivered);
  EXPECT_EQ(t.check_mark(9), OffsetTracker::MarkCheck::below_start) << "no rewinding by marking";
  EXPECT_EQ(t.check_mark(-1), OffsetTracker::MarkCheck::below_start);
  t.delivered(15);  // a redelivery after a rewind does not lower the bound
  EXPECT_EQ(t.highest_delivered(), 19);
  EXPECT_EQ(t.check_mark(19), OffsetTracker::MarkCheck::ok);
}

TEST(OffsetTracker, MetadataIsStickyAndCanChangeWithoutMoving) {
  OffsetTracker t;
  t.start_at(0);
  EXPECT_TRUE(t.mark_through(4, "step=1"));
  EXPECT_EQ(t.metadata(), "step=1");
  EXPECT_TRUE(t.mark_through(6)) << "moves the mark";
  EXPECT_EQ(t.metadata(), "step=1") << "a mark without metadata keeps it";
  EXPECT_FALSE(t.mark_through(6, "step=1")) << "same offset, same metadata: no change";
  EXPECT_TRUE(t.mark_through(6, "step=2")) << "same offset, new metadata";
  EXPECT_EQ(t.committable(), 7);
  EXPECT_FALSE(t.mark_through(3, "older")) << "a mark below changes neither";
  EXPECT_EQ(t.metadata(), "step=2");
  EXPECT_TRUE(t.mark_through(6, ""));
  EXPECT_EQ(t.metadata(), "") << "empty clears it";
}

TEST(OffsetTracker, NewMetadataAtTheSameOffsetNeedsAStoreAndACommit) {
  OffsetTracker t;
  t.start_at(0);
  t.mark_through(9, "a");
  t.set_stored(10, "a");
  t.set_committed(10, "a");
  EXPECT_FALSE(t.needs_store());
  EXPECT_FALSE(t.needs_commit());
  t.mark_through(9, "b");
  EXPECT_TRUE(t.needs_store());
  EXPECT_TRUE(t.needs_commit());
  t.set_stored(10, "b");
  EXPECT_FALSE(t.needs_store());
  t.set_committed(10, "a");  // a late answer to the older commit
  EXPECT_TRUE(t.needs_commit()) << "the broker has the old metadata";
  t.set_committed(10, "b");
  EXPECT_FALSE(t.needs_commit());
  t.set_committed(8, "");  // an older offset confirmed late changes nothing
  EXPECT_FALSE(t.needs_commit());
}
