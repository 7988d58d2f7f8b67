#include "samsa/settings.hpp"

#include <gtest/gtest.h>

#include "app_info.hpp"
#include "kafka/handle.hpp"
#include "samsa/app.hpp"
#include "samsa/errors.hpp"
#include "samsa/routing.hpp"

using namespace std::chrono_literals;
using samsa::Settings;
using samsa::SettingsError;

TEST(Settings, DefaultsAreKarafkas) {
  Settings s;
  EXPECT_TRUE(s.automatically_mark_as_consumed);
  EXPECT_TRUE(s.batch_fetching);
  EXPECT_EQ(s.initial_offset, samsa::InitialOffset::earliest);
  EXPECT_TRUE(s.problems().empty());
}

TEST(Settings, SetByNameParsesEachType) {
  Settings s;
  s.set("automatically_mark_as_consumed", "false");
  s.set("max_messages", "500");
  s.set("max_wait_time", "250ms");
  s.set("shutdown_timeout", "5s");
  s.set("pause_max_timeout", "2m");
  s.set("initial_offset", "latest");
  s.set("kafka.fetch.wait.max.ms", "100");
  EXPECT_FALSE(s.automatically_mark_as_consumed);
  EXPECT_EQ(s.max_messages, 500);
  EXPECT_EQ(s.max_wait_time, 250ms);
  EXPECT_EQ(s.shutdown_timeout, 5000ms);
  EXPECT_EQ(s.pause_max_timeout, 120000ms);
  EXPECT_EQ(s.initial_offset, samsa::InitialOffset::latest);
  EXPECT_EQ(s.kafka.at("fetch.wait.max.ms"), "100");
}

TEST(Settings, AnUnknownNameIsRejectedWithASuggestion) {
  Settings s;
  try {
    s.set("max_mesages", "5");
    FAIL() << "accepted an unknown setting";
  } catch (const SettingsError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("'max_mesages'"), std::string::npos) << what;
    EXPECT_NE(what.find("did you mean 'max_messages'"), std::string::npos) << what;
  }
}

TEST(Settings, AValueOfTheWrongTypeNamesTheKeyAndTheReason) {
  Settings s;
  EXPECT_THROW(s.set("batch_fetching", "sometimes"), SettingsError);
  EXPECT_THROW(s.set("concurrency", "two"), SettingsError);
  EXPECT_THROW(s.set("max_wait_time", "5 hours"), SettingsError);
  try {
    s.set("concurrency", "two");
  } catch (const SettingsError& e) {
    EXPECT_NE(std::string(e.what()).find("'concurrency': expected an integer, got 'two'"), std::string::npos)
        << e.what();
  }
}

TEST(Settings, ValidateListsEveryProblem) {
  Settings s;
  s.concurrency = 0;
  s.max_messages = 0;
  s.rebalance_protocol = "sticky";
  s.kafka["enable.auto.offset.store"] = "true";
  auto p = s.problems();
  ASSERT_EQ(p.size(), 4u);
  EXPECT_THROW(s.validate(), SettingsError);
}

TEST(Settings, ExponentialBackoffDoublesUpToTheMaximum) {
  samsa::TopicSettings t;
  t.pause_timeout = 100ms;
  t.pause_max_timeout = 500ms;
  EXPECT_EQ(t.pause_for_attempt(1), 100ms);
  EXPECT_EQ(t.pause_for_attempt(2), 200ms);
  EXPECT_EQ(t.pause_for_attempt(3), 400ms);
  EXPECT_EQ(t.pause_for_attempt(4), 500ms);
  t.pause_with_exponential_backoff = false;
  EXPECT_EQ(t.pause_for_attempt(4), 100ms);
}

// ---- Secrets ----

TEST(Secrets, EachSecretPropertyIsRedacted) {
  for (const char* name :
       {"ssl.key.pem", "ssl_key", "ssl.key.password", "ssl.keystore.password", "sasl.password",
        "sasl.oauthbearer.config", "sasl.oauthbearer.client.secret", "SSL.KEY.PEM", "Sasl.Password",
        "kafka.sasl.password", "my.plugin.password", "plugin.api.secret.value",
        "sasl.oauthbearer.assertion.private.key.pem", "sasl.oauthbearer.assertion.private.key.passphrase",
        "x.sasl.oauthbearer.config.extra"}) {
    EXPECT_TRUE(samsa::is_secret_kafka_property(name)) << name;
    EXPECT_EQ(samsa::redacted_value(name, "hunter2"), "[redacted]") << name;
  }
}

TEST(Secrets, OrdinaryPropertiesAndCertificatesAreShown) {
  for (const char* name :
       {"bootstrap.servers", "ssl.key.location", "sasl.username", "ssl.certificate.pem", "ssl.ca.pem",
        "ssl.certificate.location", "ssl.keystore.location", "sasl.mechanisms", "security.protocol",
        "sasl.oauthbearer.token.endpoint.url", "fetch.wait.max.ms"}) {
    EXPECT_FALSE(samsa::is_secret_kafka_property(name)) << name;
    EXPECT_EQ(samsa::redacted_value(name, "value-1"), "value-1") << name;
  }
}

TEST(Secrets, DescribeGroupShowsNoSecretValue) {
  samsa::Settings app;
  app.kafka["sasl.password"] = "hunter2";
  app.kafka["ssl.keystore.password"] = "ks-pass";
  samsa::Routes routes;
  auto& group = routes.consumer_group("events")
                    .kafka("ssl.key.pem", "-----BEGIN PRIVATE KEY-----abc")
                    .kafka("sasl.oauthbearer.config", "principal=me extension_token=oauthtok")
                    .kafka("sasl.username", "alice");
  auto text = samsa::detail::describe_group(app, group, "b:9092");
  EXPECT_EQ(text.find("abc"), std::string::npos) << text;
  EXPECT_EQ(text.find("BEGIN PRIVATE KEY"), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_EQ(text.find("ks-pass"), std::string::npos) << text;
  EXPECT_EQ(text.find("oauthtok"), std::string::npos) << text;
  EXPECT_NE(text.find("kafka.ssl.key.pem=[redacted]"), std::string::npos) << text;
  EXPECT_NE(text.find("kafka.sasl.username=alice"), std::string::npos) << text;
  EXPECT_NE(text.find("kafka.bootstrap.servers=b:9092"), std::string::npos) << text;
}

TEST(Secrets, LibrdkafkasReasonForARefusedSecretValueDoesNotQuoteIt) {
  // librdkafka quotes a refused value for enum-like types: 'Invalid value "..." for ...'.
  auto text = samsa::kafka::conf_error_text(
      "sasl.password", "hunter2", "Invalid value \"hunter2\" for configuration property \"sasl.password\"", 512);
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_NE(text.find("\"[redacted]\" for configuration property \"sasl.password\""), std::string::npos) << text;
  // A reason that filled librdkafka's buffer may end in a cut-off copy: dropped whole.
  auto cut = samsa::kafka::conf_error_text("ssl.key.pem", std::string(600, 'k'),
                                           "Invalid value \"" + std::string(496, 'k'), 512);  // 511 bytes + NUL
  EXPECT_EQ(cut.find("kkkk"), std::string::npos) << cut;
  // Other properties keep librdkafka's reason as it is.
  EXPECT_EQ(samsa::kafka::conf_error_text("security.protocol", "tls", "Invalid value \"tls\"", 512),
            "Invalid value \"tls\"");
}

TEST(Secrets, MakeConfNamesTheSecretPropertyButNotItsValue) {
  // ssl_key is internal to librdkafka: always refused, with a reason that names it.
  try {
    (void)samsa::kafka::make_conf({{"ssl_key", "hunter2"}});
    FAIL() << "librdkafka accepted the internal property ssl_key";
  } catch (const SettingsError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("'kafka.ssl_key'"), std::string::npos) << what;
    EXPECT_EQ(what.find("hunter2"), std::string::npos) << what;
  }
}

TEST(Secrets, ASetWithoutEqualsDoesNotEchoASecret) {
  samsa::App app;
  std::string arg = "kafka.sasl.password:hunter2";
  std::vector<char*> argv = {const_cast<char*>("app"), const_cast<char*>("info"),
                             const_cast<char*>("--set"), arg.data()};
  testing::internal::CaptureStderr();
  int code = app.run(static_cast<int>(argv.size()), argv.data());
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(code, samsa::kExitConfig);
  EXPECT_EQ(err.find("hunter2"), std::string::npos) << err;
  EXPECT_NE(err.find("expected KEY=VALUE"), std::string::npos) << err;
}

TEST(GroupProtocol, IsClassicByDefaultAndSetByNameAtAppAndGroupLevel) {
  Settings s;
  EXPECT_EQ(s.group_protocol, samsa::GroupProtocol::classic);
  s.set("group_protocol", "consumer");
  EXPECT_EQ(s.group_protocol, samsa::GroupProtocol::consumer);
  EXPECT_THROW(s.set("group_protocol", "kip848"), SettingsError);
  samsa::Routes routes;
  auto& g = routes.consumer_group("g");
  g.set("group_protocol", "classic");
  g.topic("t").consumer([] { return std::unique_ptr<samsa::Consumer>(); });
  EXPECT_EQ(samsa::effective(s, g).group_protocol, samsa::GroupProtocol::classic) << "the group's wins";
  g.topic("t").set("group_protocol", "consumer");
  bool named = false;
  for (const auto& p : routes.problems()) named |= p.find("group_protocol: set it on the consumer group") != std::string::npos;
  EXPECT_TRUE(named) << "one librdkafka consumer serves a group: not per topic";
}

TEST(GroupProtocol, ConsumerNeedsLibrdkafka212AndRefusesClassicOnlyProperties) {
  using samsa::GroupProtocol;
  const std::map<std::string, std::string> classic = {{"session.timeout.ms", "6000"},
                                                      {"heartbeat.interval.ms", "500"},
                                                      {"partition.assignment.strategy", "range"},
                                                      {"fetch.wait.max.ms", "50"}};
  EXPECT_TRUE(samsa::protocol_problems(GroupProtocol::classic, classic, 0x020002ff, "").empty());
  auto old = samsa::protocol_problems(GroupProtocol::consumer, {}, 0x020002ff, "consumer group 'g': ");
  ASSERT_EQ(old.size(), 1u);
  EXPECT_NE(old[0].find("needs librdkafka >= 2.12 and Kafka >= 4.0"), std::string::npos) << old[0];
  EXPECT_NE(old[0].find("runs librdkafka 2.0.2"), std::string::npos) << old[0];
  auto props = samsa::protocol_problems(GroupProtocol::consumer, classic, 0x020e02ff, "");
  ASSERT_EQ(props.size(), 3u) << "fetch.wait.max.ms is fine";
  for (const auto& p : props) EXPECT_NE(p.find("the broker"), std::string::npos) << p;
  EXPECT_TRUE(samsa::protocol_problems(GroupProtocol::consumer, {{"group.remote.assignor", "range"}},
                                       0x020c0000, "").empty());
  EXPECT_EQ(samsa::version_text(0x020e02ff), "2.14.2");
}

TEST(FetchQueueDefaults, ShortBackoffAndTheBudgetFrom2_1AndALargerQueueBefore) {
  std::map<std::string, std::string> modern, old;
  samsa::add_fetch_queue_defaults(modern, 0x020e02ff, 32 << 20);  // 2.14.2, 32 MiB
  EXPECT_EQ(modern, (std::map<std::string, std::string>{{"fetch.queue.backoff.ms", "20"},
                                                       {"queued.max.messages.kbytes", "32768"},
                                                       {"queued.min.messages", "65536"}}));
  samsa::add_fetch_queue_defaults(old, 0x020002ff, 32 << 20);  // 2.0.2: no fetch.queue.backoff.ms
  EXPECT_EQ(old, (std::map<std::string, std::string>{{"queued.min.messages", "300000"},
                                                    {"queued.max.messages.kbytes", "131072"}}));
  std::map<std::string, std::string> tiny;
  samsa::add_fetch_queue_defaults(tiny, 0x020e02ff, 100);  // within librdkafka's ranges
  EXPECT_EQ(tiny.at("queued.max.messages.kbytes"), "1");
  EXPECT_EQ(tiny.at("queued.min.messages"), "1");
}

TEST(BufferShare, EvenlyBetweenTheGroupsThenHalfEach) {
  Settings s;
  EXPECT_EQ(s.max_buffered_bytes, 48 << 20);
  const samsa::BufferShare one = samsa::buffer_share(s, 1);
  EXPECT_EQ(one.queues, 24 << 20);
  EXPECT_EQ(one.librdkafka, 24 << 20);
  const samsa::BufferShare four = samsa::buffer_share(s, 4);
  EXPECT_EQ(four.queues, 6 << 20);
  EXPECT_EQ(four.librdkafka, 6 << 20);
  EXPECT_EQ(samsa::buffer_share(s, 0).queues, 24 << 20) << "no group counts as one";
  s.max_buffered_bytes = 3;
  EXPECT_EQ(samsa::buffer_share(s, 1).queues + samsa::buffer_share(s, 1).librdkafka, 3);
}

TEST(FetchQueueDefaults, TheUsersValuesWin) {
  std::map<std::string, std::string> kafka = {{"fetch.queue.backoff.ms", "1000"}, {"queued.min.messages", "5000"}};
  samsa::add_fetch_queue_defaults(kafka, 0x020e02ff, 32 << 20);
  EXPECT_EQ(kafka.at("fetch.queue.backoff.ms"), "1000");
  EXPECT_EQ(kafka.at("queued.min.messages"), "5000");
  EXPECT_EQ(kafka.at("queued.max.messages.kbytes"), "32768");
  kafka.erase("queued.max.messages.kbytes");
  samsa::add_fetch_queue_defaults(kafka, 0x020002ff, 32 << 20);
  EXPECT_EQ(kafka.at("queued.min.messages"), "5000");
  EXPECT_EQ(kafka.at("queued.max.messages.kbytes"), "131072");
}

TEST(Settings, TheSchedulerSettingsParseAndAreChecked) {
  Settings s;
  EXPECT_EQ(s.revoke_timeout, std::chrono::milliseconds(30000));
  EXPECT_EQ(s.queue_max_messages, 10000);
  EXPECT_EQ(s.max_buffered_bytes, 48 * 1024 * 1024);
  s.set("revoke_timeout", "5s");
  s.set("queue_max_messages", "50");
  s.set("max_buffered_bytes", "1048576");
  EXPECT_EQ(s.revoke_timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(s.queue_max_messages, 50);
  EXPECT_EQ(s.max_buffered_bytes, 1048576);
  EXPECT_TRUE(s.problems().empty());
  s.set("max_buffered_bytes", "512KiB");
  EXPECT_EQ(s.max_buffered_bytes, 512 * 1024);
  s.set("max_buffered_bytes", "3GiB");
  EXPECT_EQ(s.max_buffered_bytes, std::int64_t{3} << 30) << "beyond an int";
  s.set("queue_max_messages", "0");
  s.set("max_buffered_bytes", "100");
  s.set("revoke_timeout", "-1");
  const auto problems = s.problems();
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_NE(problems[0].find("revoke_timeout"), std::string::npos);
  EXPECT_NE(problems[1].find("queue_max_messages"), std::string::npos);
  EXPECT_NE(problems[2].find("max_buffered_bytes: must be at least 1MiB"), std::string::npos) << problems[2];
  EXPECT_THROW(s.set("max_buffered_bytes", "lots"), SettingsError);
  EXPECT_THROW(s.set("max_buffered_bytes", "64MB"), SettingsError) << "MiB, not MB";
  EXPECT_THROW(s.set("max_buffered_bytes", "99999999999GiB"), SettingsError);
  try {
    s.set("queue_max_bytes", "1048576");
    ADD_FAILURE() << "queue_max_bytes is no longer a setting";
  } catch (const SettingsError& e) {
    EXPECT_NE(std::string(e.what()).find("max_buffered_bytes"), std::string::npos) << e.what();
  }
}
