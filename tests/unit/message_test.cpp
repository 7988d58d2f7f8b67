// Message views over hand-made fetched messages (no broker): has_payload, the errors of
// json_deserializer, and typed payloads (decoded once, on first use, of the route's type
// only; moved with the message; freed with its batch).
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "fake_consumer_client.hpp"
#include "runtime/message_access.hpp"
#include "samsa/errors.hpp"

namespace {

// A Message over a hand-made record (a null `payload`: a tombstone), decoded with
// `deserializer` (the default JSON one unless given).
struct Fixture {
  samsa::test::FakeConsumerClient::Record record;
  samsa::kafka::Fetched fetched;
  std::string topic = "events";
  samsa::AnyDeserializer deserializer;
  samsa::Message message;

  explicit Fixture(const char* payload, std::size_t len,
                   samsa::AnyDeserializer d = samsa::AnyDeserializer::of<nlohmann::json>(samsa::json_deserializer))
      : deserializer(std::move(d)) {
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

namespace typed_test {

// A move-only payload type that counts the live decoded objects (a moved-from Order owns
// nothing and counts for nothing).
std::atomic<int> live{0};
struct Tracked {
  Tracked() { ++live; }
  ~Tracked() { --live; }
  Tracked(const Tracked&) = delete;
  Tracked& operator=(const Tracked&) = delete;
};
struct Order {
  std::string text;
  std::unique_ptr<Tracked> tracked = std::make_unique<Tracked>();
};

// Decodes the payload as an Order, counting its calls; throws DeserializationError for a
// payload starting with '!'.
samsa::AnyDeserializer order_deserializer(std::atomic<int>& calls) {
  return samsa::AnyDeserializer::of<Order>([&calls](const samsa::Message& m) {
    ++calls;
    if (m.raw_payload().starts_with("!"))
      throw samsa::DeserializationError(m.topic(), m.partition(), m.offset(), "not an order");
    return Order{std::string(m.raw_payload())};
  });
}

std::string logic_error_of(const std::function<void()>& read) {
  try {
    read();
  } catch (const std::logic_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no std::logic_error";
  return {};
}

}  // namespace typed_test

using typed_test::Order;

TEST(TypedPayload, IsDecodedOnlyWhenAskedAndOnceAndKeptWithTheMessage) {
  std::atomic<int> calls{0};
  {
    Fixture f("order 1", 7, typed_test::order_deserializer(calls));
    EXPECT_EQ(f.deserializer.type(), typeid(Order));
    EXPECT_EQ(calls, 0) << "filling a message decodes nothing";
    EXPECT_EQ(typed_test::live, 0);
    const Order& first = f.message.payload<Order>();
    EXPECT_EQ(first.text, "order 1");
    const Order& again = f.message.payload<Order>();
    EXPECT_EQ(&first, &again) << "the same object, kept with the message";
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(typed_test::live, 1);
  }
  EXPECT_EQ(typed_test::live, 0) << "freed with the message";
}

TEST(TypedPayload, AThrowingDeserializerKeepsNothingAndTheNextCallDecodesAgain) {
  std::atomic<int> calls{0};
  Fixture f("!bad", 4, typed_test::order_deserializer(calls));
  try {
    (void)f.message.payload<Order>();
    ADD_FAILURE() << "no DeserializationError";
  } catch (const samsa::DeserializationError& e) {
    EXPECT_NE(std::string(e.what()).find("events/3@17: not an order"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)f.message.payload<Order>(), samsa::DeserializationError);
  EXPECT_EQ(calls, 2) << "a failed decode is not cached";
  EXPECT_EQ(typed_test::live, 0);
}

TEST(TypedPayload, AnotherTypeThanTheRoutesIsALogicErrorNamingTheTopicAndTheRoutesType) {
  std::atomic<int> calls{0};
  Fixture typed("order", 5, typed_test::order_deserializer(calls));
  const std::string as_string = typed_test::logic_error_of([&] { (void)typed.message.payload<std::string>(); });
  EXPECT_NE(as_string.find("payload<std::string>() on a message of topic 'events'"), std::string::npos) << as_string;
  EXPECT_NE(as_string.find("decodes payloads to typed_test::Order"), std::string::npos) << as_string;
  EXPECT_NE(as_string.find("read it with payload<typed_test::Order>()"), std::string::npos) << as_string;
  const std::string as_json = typed_test::logic_error_of([&] { (void)typed.message.payload(); });
  EXPECT_NE(as_json.find("payload() on a message of topic 'events'"), std::string::npos) << as_json;
  EXPECT_EQ(calls, 0) << "nothing is decoded for the wrong type";

  Fixture json("{}", 2);
  const std::string on_json = typed_test::logic_error_of([&] { (void)json.message.payload<Order>(); });
  EXPECT_NE(on_json.find("decodes payloads to nlohmann::json (the JSON deserializer, the default)"),
            std::string::npos) << on_json;
  EXPECT_NE(on_json.find("read it with payload()"), std::string::npos) << on_json;
  EXPECT_TRUE(json.message.payload<nlohmann::json>().is_object()) << "payload() is payload<nlohmann::json>()";
  EXPECT_EQ(&json.message.payload(), &json.message.payload<nlohmann::json>());
}

TEST(TypedPayload, AMessageNotFilledBySamsaHasNoPayloadToDecode) {
  samsa::Message empty;
  EXPECT_THROW((void)empty.payload(), std::logic_error);
}

TEST(TypedPayload, MovingAMessageMovesItsDecodedPayloadWithoutDecodingAgain) {
  static_assert(std::is_nothrow_move_constructible_v<samsa::Message> && std::is_nothrow_move_assignable_v<samsa::Message>);
  static_assert(!std::is_copy_constructible_v<samsa::Message>, "a Message owns its decoded payload");
  std::atomic<int> calls{0};
  {
    Fixture a("order a", 7, typed_test::order_deserializer(calls));
    Fixture b("order b", 7, typed_test::order_deserializer(calls));
    const Order* decoded = &a.message.payload<Order>();
    (void)b.message.payload<Order>();
    EXPECT_EQ(typed_test::live, 2);

    samsa::Message moved(std::move(a.message));
    EXPECT_EQ(&moved.payload<Order>(), decoded) << "the same object moved along";
    EXPECT_EQ(moved.offset(), 17);
    moved = std::move(b.message);  // frees a's payload, takes b's
    EXPECT_EQ(typed_test::live, 1);
    EXPECT_EQ(moved.payload<Order>().text, "order b");
    EXPECT_EQ(calls, 2) << "nothing decoded twice";
  }
  EXPECT_EQ(typed_test::live, 0) << "no leak, and (under ASan) no double free";
}

TEST(TypedPayload, FillingTheViewAgainFreesTheLastBatchsPayload) {
  std::atomic<int> calls{0};
  Fixture f("order 1", 7, typed_test::order_deserializer(calls));
  (void)f.message.payload<Order>();
  samsa::detail::MessageAccess::release(f.message);
  EXPECT_EQ(typed_test::live, 0);
  samsa::detail::MessageAccess::fill(f.message, f.fetched, &f.topic, &f.deserializer);
  (void)f.message.payload<Order>();
  // The next batch's fill over a view whose payload is still there (as Partition reuses them).
  samsa::detail::MessageAccess::fill(f.message, f.fetched, &f.topic, &f.deserializer);
  EXPECT_EQ(typed_test::live, 0);
  EXPECT_EQ(f.message.payload<Order>().text, "order 1");
  EXPECT_EQ(calls, 3) << "decoded again for each delivery";
}

TEST(TypedPayload, AMessageStaysSmall) {
  // Built per message on the hot path: the decoded payload costs one pointer and its
  // deleter, nothing is allocated until payload<T>() is called.
  EXPECT_LE(sizeof(samsa::Message), 12 * sizeof(void*));
}
