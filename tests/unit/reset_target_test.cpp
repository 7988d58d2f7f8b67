// admin::ResetTarget: what `samsa offsets reset --to` accepts, and the message for what it
// does not.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "samsa/admin.hpp"

namespace samsa::admin {
namespace {

using Kind = ResetTarget::Kind;

std::string refusal(const std::string& text) {
  try {
    ResetTarget::parse(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "'" << text << "' was accepted";
  return {};
}

TEST(ResetTarget, EarliestLatestAndOffsets) {
  EXPECT_EQ(ResetTarget::parse("earliest").kind, Kind::earliest);
  EXPECT_EQ(ResetTarget::parse("latest").kind, Kind::latest);
  ResetTarget t = ResetTarget::parse("42");
  EXPECT_EQ(t.kind, Kind::offset);
  EXPECT_EQ(t.offset, 42);
  EXPECT_EQ(ResetTarget::parse("0").offset, 0);
  EXPECT_EQ(ResetTarget::parse("123456789012345678").offset, 123456789012345678);
  EXPECT_EQ(t.text(), "42");
  EXPECT_EQ(ResetTarget::parse("latest").text(), "latest");
}

TEST(ResetTarget, UtcTimesInMilliseconds) {
  ResetTarget t = ResetTarget::parse("2026-12-01T10:00:00Z");
  EXPECT_EQ(t.kind, Kind::time);
  EXPECT_EQ(t.time_ms, 1796119200000);  // date -u -d 2026-12-01T10:00:00Z +%s, in ms
  EXPECT_EQ(ResetTarget::parse("1970-01-01T00:00:00Z").time_ms, 0);
  EXPECT_EQ(ResetTarget::parse("2024-02-29T23:59:59.5Z").time_ms, 1709251199500);
  EXPECT_EQ(ResetTarget::parse("2026-12-01t10:00:00.123z").time_ms, 1796119200123);
  EXPECT_EQ(t.text(), "2026-12-01T10:00:00.000Z");
  EXPECT_EQ(ResetTarget::parse(t.text()).time_ms, t.time_ms) << "text() reads back";
}

TEST(ResetTarget, ZoneOffsetsAreUtcPlusOrMinusThem) {
  const auto utc = ResetTarget::parse("2026-12-01T10:00:00Z").time_ms;
  EXPECT_EQ(ResetTarget::parse("2026-12-01T11:00:00+01:00").time_ms, utc);
  EXPECT_EQ(ResetTarget::parse("2026-12-01T04:30:00-05:30").time_ms, utc);
  EXPECT_EQ(ResetTarget::parse("2026-12-01T10:00:00+00:00").time_ms, utc);
  EXPECT_EQ(ResetTarget::parse("2026-12-02T00:00:00+14:00").time_ms, utc);
}

TEST(ResetTarget, FractionsBeyondMillisecondsRoundUp) {
  // The first message at or after 10:00:00.0005 is at 10:00:00.001 at the earliest.
  const auto base = ResetTarget::parse("2026-12-01T10:00:00Z").time_ms;
  EXPECT_EQ(ResetTarget::parse("2026-12-01T10:00:00.0005Z").time_ms, base + 1);
  EXPECT_EQ(ResetTarget::parse("2026-12-01T10:00:00.999999999Z").time_ms, base + 1000);
  EXPECT_EQ(ResetTarget::parse("2026-12-01T10:00:00.000000Z").time_ms, base);
}

TEST(ResetTarget, BadInputIsRefusedSayingWhatIsWrongAndWhatIsAccepted) {
  const std::string accepted = "expected earliest, latest, an offset";
  for (const char* bad : {"", "first", "EARLIEST", "-1", "12abc", "1.5", "2026-12-01",
                          "2026-12-01T10:00:00", "2026-12-01T10:00Z", "2026-12-01 10:00:00Z",
                          "2026-13-01T10:00:00Z", "2026-02-30T10:00:00Z", "2025-02-29T10:00:00Z",
                          "2026-12-01T24:00:00Z", "2026-12-01T10:60:00Z",
                          "2026-12-01T10:00:00+0100", "2026-12-01T10:00:00+24:00",
                          "2026-12-01T10:00:00.Z", "2026-12-01T10:00:00.1234567890Z",
                          "2026-12-01T10:00:00 UTC", "1969-12-31T23:59:59Z",
                          "1234567890123456789"}) {
    std::string msg = refusal(bad);
    EXPECT_NE(msg.find("cannot reset to '" + std::string(bad) + "'"), std::string::npos) << msg;
    EXPECT_NE(msg.find(accepted), std::string::npos) << msg;
  }
  EXPECT_NE(refusal("-1").find("cannot be negative"), std::string::npos);
  EXPECT_NE(refusal("2026-12-01T10:00:00").find("add Z for UTC"), std::string::npos);
  EXPECT_NE(refusal("2026-13-01T10:00:00Z").find("no month 13"), std::string::npos);
  EXPECT_NE(refusal("2026-02-30T10:00:00Z").find("no day 30"), std::string::npos);
  EXPECT_NE(refusal("1969-12-31T23:59:59Z").find("before 1970"), std::string::npos);
}

TEST(Cluster, IsImplicitFromABrokersStringAndFallsBackToTheBootstrapProperty) {
  Cluster from_string = std::string("h:1");
  Cluster from_literal = "h:2";
  EXPECT_EQ(from_string.bootstrap_servers(), "h:1");
  EXPECT_EQ(from_literal.bootstrap_servers(), "h:2");
  EXPECT_TRUE(from_literal.kafka.empty());
  Cluster both("h:3", {{"bootstrap.servers", "other:1"}});
  EXPECT_EQ(both.bootstrap_servers(), "h:3") << "brokers win";
  Cluster property("", {{"bootstrap.servers", "h:4"}});
  EXPECT_EQ(property.bootstrap_servers(), "h:4");
}

}  // namespace
}  // namespace samsa::admin
