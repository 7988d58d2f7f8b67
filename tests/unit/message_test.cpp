// Message views over hand-made fetched messages (no broker): has_payload and the errors of
// json_deserializer.
#include <gtest/gtest.h>

#include <cstring>

#include "fake_consumer_client.hpp"
#include "runtime/message_access.hpp"
#include "samsa/errors.hpp"

namespace {

// A Message over a hand-made record (a null `payload`: a tombstone).
struct Fixture {
  samsa::test::FakeConsumerClient::Record record;
  samsa::kafka::Fetched fetched;
  std::string topic = "events";
  samsa::Deserializer deserializer = samsa::json_deserializer;
  samsa::Message message;

  explicit Fixture(const char* payload, std::size_t len) {
    record.topic = topic;
    record.partition = 3;
    record.offset = 17;
    record.has_payload = payload != nullptr;
    if (payload) record.payload.assign(payload, len);
    fetched = samsa::test::FakeConsumerClient::borrowed(record);
    samsa::detail::MessageAccess::fill(message, fetched, &topic, &deserializer);
  }
};

std::string deserialization_error(const samsa::Message& m) {
  try {
    (void)m.payload();
  } catch (const samsa::DeserializationError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no DeserializationError";
  return {};
}

// True when `text` is printable ASCII and well-formed UTF-8 only: no control character, no
// byte >= 0x80 outside a valid sequence.
bool printable_utf8(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) return false;
    std::size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                    : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (len == 0 || i + len > text.size()) return false;
    for (std::size_t j = 1; j < len; ++j)
      if ((static_cast<unsigned char>(text[i + j]) & 0xc0) != 0x80) return false;
    i += len;
  }
  return true;
}

}  // namespace

TEST(Message, ANullPayloadHasNoPayloadAndAnEmptyOneHas) {
  Fixture tombstone(nullptr, 0);
  EXPECT_FALSE(tombstone.message.has_payload());
  EXPECT_TRUE(tombstone.message.raw_payload().empty());
  EXPECT_FALSE(tombstone.message.has_key());

  Fixture empty("", 0);
  EXPECT_TRUE(empty.message.has_payload());
  EXPECT_TRUE(empty.message.raw_payload().empty());

  Fixture json("{}", 2);
  EXPECT_TRUE(json.message.has_payload());
  EXPECT_EQ(json.message.raw_payload(), "{}");
  EXPECT_EQ(json.message.partition(), 3);
  EXPECT_EQ(json.message.offset(), 17);
}

TEST(Message, JsonDeserializerTellsATombstoneFromAnEmptyPayload) {
  Fixture tombstone(nullptr, 0);
  auto null_error = deserialization_error(tombstone.message);
  EXPECT_NE(null_error.find("the payload is null (a tombstone), not JSON"), std::string::npos) << null_error;
  EXPECT_NE(null_error.find("events/3@17"), std::string::npos) << null_error;

  Fixture empty("", 0);
  auto empty_error = deserialization_error(empty.message);
  EXPECT_NE(empty_error.find("the payload is empty, not JSON"), std::string::npos) << empty_error;
  EXPECT_EQ(empty_error.find("tombstone"), std::string::npos) << empty_error;
}

TEST(Message, ADeserializationErrorQuotesNoRawBytesOfThePayload) {
  const char payload[] = "\xff{bad\n\x01\x1b[2J";
  Fixture bad(payload, sizeof payload - 1);
  auto what = deserialization_error(bad.message);
  EXPECT_NE(what.find("invalid JSON"), std::string::npos) << what;
  EXPECT_TRUE(printable_utf8(what)) << what;
  EXPECT_NE(what.find("\\xff"), std::string::npos) << "the bad byte is shown escaped: " << what;
}

TEST(Message, ADeserializationErrorFromAnyDeserializerIsEscapedAndBounded) {
  samsa::DeserializationError e("t", 0, 1, "bad bytes: \xc3\x28 \x07" + std::string(1000, 'x'));
  std::string what = e.what();
  EXPECT_TRUE(printable_utf8(what)) << what;
  EXPECT_NE(what.find("more bytes)"), std::string::npos) << what;
  EXPECT_LT(what.size(), 600u);
}
