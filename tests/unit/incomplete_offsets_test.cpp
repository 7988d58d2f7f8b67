// The completed offsets above the committed one, in the commit's metadata (src/
// incomplete_offsets.hpp), and the tracker's completed_ranges() that feed it.
#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

#include "incomplete_offsets.hpp"
#include "samsa/offset_tracker.hpp"

namespace samsa {
namespace {

using Ranges = std::vector<IncompleteOffsets::Range>;

TEST(IncompleteOffsets, RoundTripsRangesAndTheUsersMetadata) {
  const Ranges ranges{{101, 101}, {103, 110}, {5000, 5000}, {1'000'000'000'000, 1'000'000'000'100}};
  for (const std::string user : {"", "saga step 3", "a|b|c", "samsa:io1:looks like ours"}) {
    const std::string text = IncompleteOffsets::encode(100, ranges, user);
    EXPECT_EQ(text.size(), IncompleteOffsets::encoded_size(100, ranges, user.size())) << text;
    EXPECT_EQ(text.rfind("samsa:io1:", 0), 0u);
    const auto back = IncompleteOffsets::decode(100, text);
    ASSERT_TRUE(back) << text;
    EXPECT_EQ(back->completed, ranges);
    EXPECT_EQ(back->user_metadata, user);
  }
}

TEST(IncompleteOffsets, WithoutRangesTheMetadataIsTheUsersAlone) {
  EXPECT_EQ(IncompleteOffsets::encode(7, {}, "step 2"), "step 2");
  const auto plain = IncompleteOffsets::decode(7, "step 2");
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->completed.empty());
  EXPECT_EQ(plain->user_metadata, "step 2");
  // A user's metadata that begins like an encoding is wrapped, so it reads back as it was.
  const std::string tricky = "samsa:io1:AQA";
  const auto back = IncompleteOffsets::decode(7, IncompleteOffsets::encode(7, {}, tricky));
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->completed.empty());
  EXPECT_EQ(back->user_metadata, tricky);
}

TEST(IncompleteOffsets, UnreadableBodiesAreRefusedNotGuessed) {
  EXPECT_FALSE(IncompleteOffsets::decode(0, "samsa:io1:***"));    // not base64url
  EXPECT_FALSE(IncompleteOffsets::decode(0, "samsa:io1:gA"));     // a varint cut short
  EXPECT_FALSE(IncompleteOffsets::decode(0, "samsa:io1:AAA"));    // a gap of 0: the committed offset itself
  EXPECT_FALSE(IncompleteOffsets::decode(0, "samsa:io1:A"));      // not a whole byte
  EXPECT_FALSE(IncompleteOffsets::decode(0, "samsa:io1:AQ"));     // a first without a last
}

TEST(IncompleteOffsets, RangesMustAscendAboveTheCommittedOffset) {
  EXPECT_THROW(IncompleteOffsets::encode(10, {{10, 12}}, ""), std::invalid_argument);
  EXPECT_THROW(IncompleteOffsets::encode(10, {{12, 11}}, ""), std::invalid_argument);
  EXPECT_THROW(IncompleteOffsets::encode(10, {{12, 14}, {14, 15}}, ""), std::invalid_argument);
  EXPECT_THROW(IncompleteOffsets::encode(10, {{20, 21}, {12, 14}}, ""), std::invalid_argument);
}

TEST(IncompleteOffsets, ContainsFindsTheIntervals) {
  const Ranges ranges{{3, 3}, {5, 9}, {20, 20}};
  for (std::int64_t o : {3, 5, 7, 9, 20}) EXPECT_TRUE(IncompleteOffsets::contains(ranges, o)) << o;
  for (std::int64_t o : {0, 2, 4, 10, 19, 21}) EXPECT_FALSE(IncompleteOffsets::contains(ranges, o)) << o;
  EXPECT_FALSE(IncompleteOffsets::contains({}, 3));
}

// The worst case for the budget: every other offset completed, far apart. fits() stops the
// growth while one more completion, wherever it lands, still fits in Kafka's 4 KiB.
TEST(IncompleteOffsets, FitsKeepsTheNextCompletionWithinFourKilobytes) {
  const std::string user(200, 'u');
  std::mt19937_64 random(7);
  for (const std::int64_t spread : {2, 1000, 1'000'000'000}) {
    Ranges ranges;
    std::int64_t last = 1'000;
    while (IncompleteOffsets::fits(1'000, ranges, user.size())) {
      const std::int64_t first = last + 2 + static_cast<std::int64_t>(random() % spread);
      ranges.emplace_back(first, first);
      last = first;
    }
    ASSERT_FALSE(ranges.empty());
    // The completion fits() had allowed last: far above everything, a new interval.
    Ranges worst = ranges;
    worst.emplace_back(INT64_MAX / 2, INT64_MAX / 2);
    EXPECT_LE(IncompleteOffsets::encode(1'000, worst, user).size(), IncompleteOffsets::kMaxMetadataBytes)
        << "spread " << spread << ", " << ranges.size() << " intervals";
  }
}

TEST(OffsetTracker, CompletedRangesSpanUntrackedOffsetsButNeverAnIncompleteOne) {
  OffsetTracker t;
  t.start_at(10);
  // Delivered: 10, 11, 12, 15 (13 and 14 compacted away), 16, 17.
  for (std::int64_t o : {10, 11, 12, 15, 16, 17}) t.track(o);
  t.delivered(17);
  t.complete(12);
  t.complete(15);
  t.complete(17);
  EXPECT_EQ(t.completed_ranges(), (Ranges{{12, 15}, {17, 17}}));
  EXPECT_EQ(t.committable(), OffsetTracker::kNone) << "10 is not done";
  t.complete(10);
  EXPECT_EQ(t.committable(), 11);
  EXPECT_EQ(t.completed_ranges(), (Ranges{{12, 15}, {17, 17}}));
  t.complete(11);
  EXPECT_EQ(t.committable(), 16) << "over 12..15";
  EXPECT_EQ(t.completed_ranges(), (Ranges{{17, 17}}));
  t.complete(16);
  EXPECT_EQ(t.committable(), 18);
  EXPECT_TRUE(t.completed_ranges().empty());
}

}  // namespace
}  // namespace samsa
