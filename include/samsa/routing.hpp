#pragma once
// Routes: consumer groups, each with topics routed to a consumer class. Pure data, no I/O.
//
//   app.routes([](samsa::Routes& routes) {
//     routes.consumer_group("events", [](samsa::ConsumerGroupRoute& group) {
//       group.automatically_mark_as_consumed(false);
//       group.topic("user_events").consumer<EventsConsumer>();
//     });
//   });
//
// Settings inherit app -> consumer group -> topic; `effective()` resolves them.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "samsa/consumer.hpp"
#include "samsa/message.hpp"
#include "samsa/offset_store.hpp"
#include "samsa/settings.hpp"

namespace samsa {

using ConsumerFactory = std::function<std::unique_ptr<Consumer>()>;

/// Where a topic's messages go when they keep failing (TopicRoute::dead_letter_queue).
///
/// Counting: each failure of consume() (or after_fetch()) of a batch that holds the
/// partition's first unmarked message is an attempt on that message (Consumer::attempt()). When the attempt that fails is number
/// max_retries + 1 (the first delivery and max_retries retries, each after the topic's
/// back-off), that one message is
///  - dispatch = true: produced to `topic` with the app's producer (same key, payload and
///    headers, plus the headers below), and once the broker acknowledged it, marked; the
///    partition then goes on right after it (the rest of the batch is delivered again
///    normally, attempt() 1). When the produce fails, nothing is marked, the error is
///    logged, and the partition keeps retrying the dispatch after its back-off: a message
///    is never skipped because the dead-letter topic is away;
///  - dispatch = false: marked without producing ("skip after N"), logged as an error
///    naming its offset.
/// The counting is per partition and per first unmarked offset, in memory: it starts again
/// at 1 when a mark moves past the message, after a rebalance (the new owner starts at 1)
/// and after a restart. So a message can be attempted up to max_retries + 1 times per
/// assignment.
///
/// Headers added to the dispatched message (values as text):
///   original_topic, original_partition, original_offset, original_timestamp (ms since the
///   epoch, -1 when none), original_consumer_group, original_attempts (max_retries + 1),
///   error_class (the exception's type, demangled), error_message (its what(), at most
///   1,000 bytes)
struct DeadLetterQueue {
  std::string topic;
  int max_retries = 3;
  bool dispatch = true;
};

/// Which optional hooks a consumer class overrides, so that the listener does not call the
/// empty ones of every partition around every poll (their cost would grow with the number
/// of idle partitions). Unknown (a factory) counts as overridden.
struct ConsumerHooks {
  bool poll = true;  // before_poll or after_poll
  bool tick = true;
};

namespace detail {
// &C::hook names Consumer's own member when C does not override it; when C's override is
// not accessible here the expression fails and the hook counts as overridden.
template <class C, class = void>
struct overrides_poll_hooks : std::true_type {};
template <class C>
struct overrides_poll_hooks<C, std::enable_if_t<std::is_same_v<decltype(&C::before_poll), void (Consumer::*)()> &&
                                                std::is_same_v<decltype(&C::after_poll), void (Consumer::*)()>>>
    : std::false_type {};
template <class C, class = void>
struct overrides_tick : std::true_type {};
template <class C>
struct overrides_tick<C, std::enable_if_t<std::is_same_v<decltype(&C::tick), void (Consumer::*)()>>>
    : std::false_type {};
}  // namespace detail

class TopicRoute {
 public:
  explicit TopicRoute(std::string name) : name_(std::move(name)) {}

  /// Routes the topic to consumer class C (default-constructed once per partition).
  template <class C>
  TopicRoute& consumer() {
    static_assert(std::is_base_of_v<Consumer, C>, "a consumer derives from samsa::Consumer");
    factory_ = [] { return std::unique_ptr<Consumer>(std::make_unique<C>()); };
    hooks_ = {detail::overrides_poll_hooks<C>::value, detail::overrides_tick<C>::value};
    return *this;
  }
  /// Routes the topic to consumers made by `factory`, for a consumer class that needs
  /// constructor arguments (a database pool, a client): called once per assigned partition,
  /// on the consumer group's listener thread while the partition is assigned, and must
  /// return a new instance each time. What it captures must outlive App::serve(). A throw
  /// or a null pointer stops the app (serve() returns kExitFatal, the error logged): the
  /// partition's messages could not be handled. Work that may fail and be retried (opening
  /// a connection) belongs in Consumer::initialized().
  ///   group.topic("orders").consumer([&pool] { return std::make_unique<OrdersConsumer>(pool); });
  TopicRoute& consumer(ConsumerFactory factory) {
    factory_ = std::move(factory);
    hooks_ = {};
    return *this;
  }
  /// Decodes the topic's payloads into a T with `f` (f(const Message&) returns a T; see
  /// DeserializerOf): consumers read them with Message::payload<T>(), decoded lazily on
  /// the consumer's thread, once per delivery. One type per route; T may be move-only.
  ///   group.topic("orders").consumer<OrdersConsumer>().deserializer<Order>(parse_order);
  template <class T, class F>
  TopicRoute& deserializer(F f) {
    deserializer_ = AnyDeserializer::of<T>(std::move(f));
    return *this;
  }
  /// A JSON deserializer (T = nlohmann::json, read with Message::payload()): the default
  /// is json_deserializer.
  TopicRoute& deserializer(Deserializer d) { deserializer_ = AnyDeserializer::of<nlohmann::json>(std::move(d)); return *this; }
  /// A deserializer made with AnyDeserializer::of<T>, e.g. one shared by several routes.
  TopicRoute& deserializer(AnyDeserializer d) { deserializer_ = std::move(d); return *this; }
  /// After max_retries failed retries of the same message, sends it to a dead-letter topic
  /// (or skips it) and goes on (see DeadLetterQueue).
  TopicRoute& dead_letter_queue(DeadLetterQueue dlq) { dlq_ = std::move(dlq); return *this; }
  const std::optional<DeadLetterQueue>& dead_letter_queue() const { return dlq_; }

  /// Keeps this topic's offsets in `store`, written by the consumer's transaction() with
  /// its output (samsa/offset_store.hpp, docs/exactly-once.md): each partition starts from
  /// the store's offset, automatic marking is off, and marks outside transaction() throw.
  /// One store may serve several routes and groups (its rows are keyed by group, topic
  /// and partition).
  TopicRoute& offset_store(std::shared_ptr<OffsetStore> store) { store_ = std::move(store); return *this; }
  const std::shared_ptr<OffsetStore>& offset_store() const { return store_; }

  TopicRoute& automatically_mark_as_consumed(bool v) { overrides_.automatically_mark_as_consumed = v; return *this; }
  TopicRoute& batch_fetching(bool v) { overrides_.batch_fetching = v; return *this; }
  TopicRoute& pause_timeout(std::chrono::milliseconds v) { overrides_.pause_timeout = v; return *this; }
  TopicRoute& pause_max_timeout(std::chrono::milliseconds v) { overrides_.pause_max_timeout = v; return *this; }
  TopicRoute& pause_with_exponential_backoff(bool v) { overrides_.pause_with_exponential_backoff = v; return *this; }
  /// Any override by name (see Overrides::set).
  TopicRoute& set(std::string_view key, std::string_view value) { overrides_.set(key, value); return *this; }
  /// For `topics create` and `topics plan`: how to create the topic, and what the cluster's
  /// topic is checked against (`topics plan` reports differences, it changes nothing).
  /// Not declared (-1, the default): `topics create` creates a missing topic with the
  /// broker's default count (num.partitions) and `topics plan` checks no count.
  TopicRoute& partitions(int n) { partitions_ = n; return *this; }
  /// -1: the broker's default (default.replication.factor); not checked by `topics plan`.
  TopicRoute& replication_factor(int n) { replication_factor_ = n; return *this; }
  /// A topic-level config of the topic (Kafka's names and values, as `kafka-configs.sh`
  /// takes them: "retention.ms", "86400000"; "cleanup.policy", "compact"). Set at creation
  /// by `topics create`; `topics plan` compares each with the broker's value as text. A
  /// second call with the same key replaces the value.
  TopicRoute& config(std::string key, std::string value) { configs_[std::move(key)] = std::move(value); return *this; }

  const std::string& name() const { return name_; }
  const ConsumerFactory& factory() const { return factory_; }
  const ConsumerHooks& hooks() const { return hooks_; }
  const AnyDeserializer& deserializer() const { return deserializer_; }
  const Overrides& overrides() const { return overrides_; }
  int partitions() const { return partitions_; }
  int replication_factor() const { return replication_factor_; }
  const std::map<std::string, std::string>& configs() const { return configs_; }

 private:
  std::string name_;
  ConsumerFactory factory_;
  ConsumerHooks hooks_;
  AnyDeserializer deserializer_ = AnyDeserializer::of<nlohmann::json>(json_deserializer);
  std::optional<DeadLetterQueue> dlq_;
  std::shared_ptr<OffsetStore> store_;
  Overrides overrides_;
  int partitions_ = -1;  // not declared
  int replication_factor_ = 1;
  std::map<std::string, std::string> configs_;
};

class ConsumerGroupRoute {
 public:
  explicit ConsumerGroupRoute(std::string name) : name_(std::move(name)) {}

  /// The route of `topic` in this group, created on first use.
  TopicRoute& topic(const std::string& name);
  ConsumerGroupRoute& topic(const std::string& name, const std::function<void(TopicRoute&)>& draw);

  ConsumerGroupRoute& automatically_mark_as_consumed(bool v) { overrides_.automatically_mark_as_consumed = v; return *this; }
  ConsumerGroupRoute& batch_fetching(bool v) { overrides_.batch_fetching = v; return *this; }
  ConsumerGroupRoute& max_messages(int v) { overrides_.max_messages = v; return *this; }
  ConsumerGroupRoute& max_wait_time(std::chrono::milliseconds v) { overrides_.max_wait_time = v; return *this; }
  ConsumerGroupRoute& initial_offset(InitialOffset v) { overrides_.initial_offset = v; return *this; }
  ConsumerGroupRoute& group_protocol(GroupProtocol v) { overrides_.group_protocol = v; return *this; }
  /// Kafka transactions (docs/exactly-once.md): the group's offsets are committed only by
  /// its consumers' transaction([&](samsa::KafkaTransaction& tx) {...}), atomically with
  /// what they produce in it. Needs the app's transactional_id setting. The group's consumer
  /// reads with isolation.level=read_committed (it waits for a previous owner's open
  /// transaction before it starts) and never auto-commits; automatic marking is off, and a
  /// mark outside transaction() throws. Its routes cannot have an offset_store.
  ConsumerGroupRoute& transactional(bool v) { transactional_ = v; return *this; }
  bool transactional() const { return transactional_; }
  /// A librdkafka property for this group's consumer only.
  ConsumerGroupRoute& kafka(const std::string& key, const std::string& value) { overrides_.kafka[key] = value; return *this; }
  ConsumerGroupRoute& set(std::string_view key, std::string_view value) { overrides_.set(key, value); return *this; }

  const std::string& name() const { return name_; }
  const std::vector<std::unique_ptr<TopicRoute>>& topics() const { return topics_; }
  const TopicRoute* find(const std::string& topic) const;
  const Overrides& overrides() const { return overrides_; }

 private:
  std::string name_;
  std::vector<std::unique_ptr<TopicRoute>> topics_;
  Overrides overrides_;
  bool transactional_ = false;
};

class Routes {
 public:
  /// The consumer group `name`, created on first use.
  ConsumerGroupRoute& consumer_group(const std::string& name);
  Routes& consumer_group(const std::string& name, const std::function<void(ConsumerGroupRoute&)>& draw);

  const std::vector<std::unique_ptr<ConsumerGroupRoute>>& groups() const { return groups_; }
  const ConsumerGroupRoute* find(const std::string& group) const;

  /// Every problem of the routes, one sentence each (empty when valid):
  /// no groups, a topic without a consumer, topic-level overrides that only make sense per
  /// group, invalid values.
  std::vector<std::string> problems() const;

 private:
  std::vector<std::unique_ptr<ConsumerGroupRoute>> groups_;
};

/// The effective settings of a consumer group (app, then group overrides).
TopicSettings effective(const Settings& app, const ConsumerGroupRoute& group);
/// The effective settings of a topic (app, then group, then topic overrides).
TopicSettings effective(const Settings& app, const ConsumerGroupRoute& group, const TopicRoute& topic);
/// The librdkafka properties of a consumer group (app's, then the group's).
std::map<std::string, std::string> effective_kafka(const Settings& app, const ConsumerGroupRoute& group);

}  // namespace samsa
