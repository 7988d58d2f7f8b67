// Settings from outside the code: a config file, SAMSA_* environment variables and --set,
// their precedence, and `info`'s check of the librdkafka properties.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "cli/config_sources.hpp"
#include "cli/suggest.hpp"
#include "kafka/properties.hpp"
#include "samsa/app.hpp"
#include "samsa/errors.hpp"
#include "samsa/version.hpp"
#include "scoped_env.hpp"

using samsa::SettingsError;
using samsa::cli::Assignment;

using samsa::testing_support::ScopedEnv;

namespace {

struct NoopConsumer : samsa::Consumer {
  void consume() override {}
};


// A file in the test's temporary directory, removed at the end.
struct TempFile {
  std::filesystem::path path;
  TempFile(const std::string& name, const std::string& text)
      : path(std::filesystem::temp_directory_path() /
             (std::to_string(::getpid()) + "-" + testing::UnitTest::GetInstance()->current_test_info()->name() +
              "-" + name)) {
    std::ofstream(path) << text;
  }
  ~TempFile() { std::filesystem::remove(path); }
  std::string str() const { return path.string(); }
};

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const SettingsError& e) {
    return e.what();
  }
  return "(nothing thrown)";
}

struct Run {
  int code;
  std::string out, err;
};

// Runs `app <args>` with one routed group, after `code` set max_messages (when > 0).
Run run_app(std::vector<std::string> args, int code_max_messages = 0) {
  samsa::App app;
  if (code_max_messages > 0) app.setup([&](samsa::Settings& s) { s.max_messages = code_max_messages; });
  app.routes([](samsa::Routes& r) { r.consumer_group("g").topic("t").consumer<NoopConsumer>(); });
  args.insert(args.begin(), "app");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  int rc = app.run(static_cast<int>(argv.size()), argv.data());
  std::string out = testing::internal::GetCapturedStdout();
  return {rc, out, testing::internal::GetCapturedStderr()};
}

// The max_messages `info` reports for the group.
std::string max_messages_in(const std::string& info) {
  // No std::regex: GCC 12 warns (maybe-uninitialized) inside it under the sanitizers' -O2.
  const auto at = info.find("max_messages=");
  if (at == std::string::npos) return "(none)";
  const auto from = at + std::string_view("max_messages=").size();
  return info.substr(from, info.find_first_not_of("0123456789", from) - from);
}

// Nothing from the environment of whoever runs the tests.
struct ConfigTest : testing::Test {
  ScopedEnv a{"SAMSA_MAX_MESSAGES", nullptr};
  ScopedEnv b{"SAMSA_CONFIG", nullptr};
  ScopedEnv c{"SAMSA_LOG_FORMAT", nullptr};
  ScopedEnv d{"KAFKA_BROKERS", nullptr};
};

}  // namespace

TEST_F(ConfigTest, ATomlFileGivesSettingsKafkaPropertiesAndTheProducersProperties) {
  TempFile f("app.toml", R"(# the app
max_messages = 500
pause_timeout = "2s"
batch_fetching = false

[kafka]
bootstrap.servers = "broker-1:9092,broker-2:9092"
"socket.timeout.ms" = 3000   # quoted key

[producer.kafka]
linger.ms = 5
)");
  auto got = samsa::cli::read_config_file(f.str());
  std::vector<std::pair<std::string, std::string>> kv;
  for (const auto& a : got) {
    kv.emplace_back(a.key, a.value);
    EXPECT_EQ(a.origin.rfind("config file " + f.str() + ", line ", 0), 0u) << a.origin;
  }
  EXPECT_EQ(got.front().origin, "config file " + f.str() + ", line 2") << "the value's own line";
  const std::vector<std::pair<std::string, std::string>> want = {
      {"max_messages", "500"},
      {"pause_timeout", "2s"},
      {"batch_fetching", "false"},
      {"kafka.bootstrap.servers", "broker-1:9092,broker-2:9092"},
      {"kafka.socket.timeout.ms", "3000"},
      {"producer.kafka.linger.ms", "5"}};
  EXPECT_EQ(kv, want);

  samsa::Settings s;
  samsa::cli::apply(s, got);
  EXPECT_EQ(s.max_messages, 500);
  EXPECT_EQ(s.pause_timeout, std::chrono::seconds(2));
  EXPECT_FALSE(s.batch_fetching);
  EXPECT_EQ(s.kafka.at("bootstrap.servers"), "broker-1:9092,broker-2:9092");
  EXPECT_EQ(s.producer_kafka.at("linger.ms"), "5");
}

TEST_F(ConfigTest, AnIniFileIsReadAsIni) {
  TempFile f("app.ini", "; the app\nmax_messages=7\n[kafka]\nfetch.wait.max.ms=100\n");
  samsa::Settings s;
  samsa::cli::apply(s, samsa::cli::read_config_file(f.str()));
  EXPECT_EQ(s.max_messages, 7);
  EXPECT_EQ(s.kafka.at("fetch.wait.max.ms"), "100");
}

TEST_F(ConfigTest, AFileErrorNamesTheFileAndTheKeyAsSetDoes) {
  TempFile typo("typo.toml", "max_mesages = 5\n");
  samsa::Settings s;
  auto what = message_of([&] { samsa::cli::apply(s, samsa::cli::read_config_file(typo.str())); });
  EXPECT_NE(what.find("config file " + typo.str() + ", line 1: "), std::string::npos) << what;
  // The rest is Settings::set's own message, as for --set.
  EXPECT_NE(what.find(message_of([] { samsa::Settings().set("max_mesages", "5"); })), std::string::npos) << what;

  TempFile type("type.toml", "max_messages = \"many\"\n");
  what = message_of([&] { samsa::cli::apply(s, samsa::cli::read_config_file(type.str())); });
  EXPECT_NE(what.find("setting 'max_messages'"), std::string::npos) << what;

  TempFile list("list.toml", "max_messages = [1, 2]\n");
  what = message_of([&] { samsa::cli::read_config_file(list.str()); });
  EXPECT_NE(what.find("'max_messages' needs exactly one value"), std::string::npos) << what;

  what = message_of([] { samsa::cli::read_config_file("/nonexistent/app.toml"); });
  EXPECT_NE(what.find("config file /nonexistent/app.toml: cannot be read"), std::string::npos) << what;
}

TEST_F(ConfigTest, TheEnvironmentMapsSamsaNamesToSettings) {
  auto env = samsa::cli::environment_settings(
      {"SAMSA_MAX_MESSAGES=250", "SAMSA_KAFKA_BOOTSTRAP_SERVERS=b:9092", "SAMSA_PRODUCER_KAFKA_LINGER_MS=5",
       "SAMSA_STUCK_JOB_AFTER=10m", "PATH=/usr/bin", "KAFKA_BROKERS=x:1", "SAMSA_LOG_LEVEL=debug",
       "SAMSA_LOG_FORMAT=json", "SAMSA_CONFIG=app.toml", "SAMSA_MAX_MESAGES=1", "SAMSA_KAFKA_DIR=/tmp/k",
       "SAMSA_KAFKA_=1", "NOT_SAMSA_MAX_MESSAGES=1", "SAMSA_NO_EQUALS"},
      samsa::kafka::is_librdkafka_property);
  std::vector<std::pair<std::string, std::string>> kv;
  for (const auto& a : env.settings) kv.emplace_back(a.key, a.value);
  const std::vector<std::pair<std::string, std::string>> want = {{"max_messages", "250"},
                                                                  {"kafka.bootstrap.servers", "b:9092"},
                                                                  {"producer.kafka.linger.ms", "5"},
                                                                  {"stuck_job_after", "10m"}};
  EXPECT_EQ(kv, want);
  EXPECT_EQ(env.settings.front().origin, "environment variable SAMSA_MAX_MESSAGES");
  // Named, for a warning: a typo, a tool's variable, a prefix alone. Read elsewhere: not listed.
  EXPECT_EQ(env.ignored, (std::vector<std::string>{"SAMSA_MAX_MESAGES", "SAMSA_KAFKA_DIR", "SAMSA_KAFKA_"}));
}

TEST_F(ConfigTest, AnEnvironmentValueIsValidatedAsSetValidatesIt) {
  auto env = samsa::cli::environment_settings({"SAMSA_MAX_MESSAGES=lots"}, samsa::kafka::is_librdkafka_property);
  samsa::Settings s;
  auto what = message_of([&] { samsa::cli::apply(s, env.settings); });
  EXPECT_EQ(what, "environment variable SAMSA_MAX_MESSAGES: " +
                      message_of([] { samsa::Settings().set("max_messages", "lots"); }));
}

TEST_F(ConfigTest, PrecedenceIsDefaultsThenCodeThenFileThenEnvironmentThenSet) {
  TempFile f("app.toml", "max_messages = 2\n");
  EXPECT_EQ(max_messages_in(run_app({"info"}).out), "100") << "the default";
  EXPECT_EQ(max_messages_in(run_app({"info"}, 1).out), "1") << "the code over the default";
  EXPECT_EQ(max_messages_in(run_app({"info", "--config", f.str()}, 1).out), "2") << "the file over the code";
  {
    ScopedEnv env("SAMSA_MAX_MESSAGES", "3");
    EXPECT_EQ(max_messages_in(run_app({"info", "--config", f.str()}, 1).out), "3") << "the environment over the file";
    EXPECT_EQ(max_messages_in(run_app({"info", "--config", f.str(), "--set", "max_messages=4"}, 1).out), "4")
        << "--set over the environment";
  }
  {
    ScopedEnv env("SAMSA_CONFIG", f.str().c_str());
    EXPECT_EQ(max_messages_in(run_app({"info"}, 1).out), "2") << "SAMSA_CONFIG names the file";
  }
}

TEST_F(ConfigTest, InfoRefusesWhatLibrdkafkaWouldRefuseAtServer) {
  // A bad value, from each source: exit 2 and the property named, before anything connects.
  auto r = run_app({"info", "--set", "kafka.socket.timeout.ms=soon"});
  EXPECT_EQ(r.code, samsa::kExitConfig);
  EXPECT_NE(r.err.find("setting 'kafka.socket.timeout.ms': Invalid value"), std::string::npos) << r.err;
  {
    ScopedEnv env("SAMSA_KAFKA_SOCKET_TIMEOUT_MS", "soon");
    r = run_app({"info"});
    EXPECT_EQ(r.code, samsa::kExitConfig);
    EXPECT_NE(r.err.find("environment variable SAMSA_KAFKA_SOCKET_TIMEOUT_MS: setting 'kafka.socket.timeout.ms'"),
              std::string::npos)
        << r.err;
  }
  // Values that parse one by one but that librdkafka refuses together, when the client is
  // built: today's `server` would fail on them, so `info` does too.
  r = run_app({"info", "--set", "kafka.fetch.max.bytes=10"});
  EXPECT_EQ(r.code, samsa::kExitConfig);
  EXPECT_NE(r.err.find("consumer group 'g': librdkafka refuses the configuration: `fetch.max.bytes`"),
            std::string::npos)
      << r.err;
  r = run_app({"info", "--set", "producer.kafka.acks=0"});
  EXPECT_EQ(r.code, samsa::kExitConfig);
  EXPECT_NE(r.err.find("the producer: librdkafka refuses the configuration"), std::string::npos) << r.err;
  // And a good configuration passes.
  r = run_app({"info", "--set", "kafka.socket.timeout.ms=5000"});
  EXPECT_EQ(r.code, samsa::kExitOk) << r.err;
}

TEST_F(ConfigTest, AnIgnoredEnvironmentVariableIsNamedInAWarning) {
  ScopedEnv env("SAMSA_MAX_MESAGES", "5");
  auto r = run_app({"info"});
  EXPECT_EQ(r.code, samsa::kExitOk);
  EXPECT_NE(r.err.find("environment variable SAMSA_MAX_MESAGES names no setting"), std::string::npos) << r.err;
}

TEST_F(ConfigTest, VersionAndLogFormat) {
  auto r = run_app({"--version"});
  EXPECT_EQ(r.code, samsa::kExitOk);
  EXPECT_EQ(r.out.rfind("samsa " + std::string(samsa::kVersion) + " on librdkafka ", 0), 0u) << r.out;
  r = run_app({"info", "--log-format", "yaml"});
  EXPECT_EQ(r.code, samsa::kExitConfig);
  EXPECT_NE(r.err.find("--log-format"), std::string::npos) << r.err;
  r = run_app({"--log-format", "json", "info", "--set", "no_such_setting=1"});
  EXPECT_EQ(r.code, samsa::kExitConfig);
}

TEST_F(ConfigTest, AMistypedCommandNamesTheCommandsAndTheNearestOne) {
  auto r = run_app({"serve"});
  EXPECT_EQ(r.code, samsa::kExitConfig);
  EXPECT_NE(r.err.find("unknown command 'serve': the commands are server, info, topics plan and topics create; "
                       "did you mean `server`?"),
            std::string::npos)
      << r.err;
  r = run_app({"consume"});
  EXPECT_EQ(r.code, samsa::kExitConfig);
  EXPECT_EQ(r.err.find("did you mean"), std::string::npos) << "nothing near: " << r.err;
}

TEST_F(ConfigTest, HelpListsTheExitCodes) {
  const auto r = run_app({"--help"});
  EXPECT_EQ(r.code, samsa::kExitOk);
  EXPECT_NE(r.out.find("Exit codes: 0 ok; 2 a setting"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("5 the broker did not confirm"), std::string::npos) << r.out;
}

TEST(Suggest, NearestCommandWithinTwoEditsOrAPrefix) {
  const std::vector<std::string> commands{"server", "info", "topics"};
  EXPECT_EQ(samsa::detail::did_you_mean("serve", commands), "; did you mean `server`?");
  EXPECT_EQ(samsa::detail::did_you_mean("sever", commands), "; did you mean `server`?");
  EXPECT_EQ(samsa::detail::did_you_mean("topic", commands), "; did you mean `topics`?");
  EXPECT_EQ(samsa::detail::did_you_mean("nfo", commands), "; did you mean `info`?");
  EXPECT_EQ(samsa::detail::did_you_mean("produce", commands), "");
  EXPECT_EQ(samsa::detail::did_you_mean("", commands), "");
}

TEST_F(ConfigTest, InfoShowsTheProducersPropertiesBesideTheConsumers) {
  const auto r = run_app({"info", "--set", "producer.kafka.linger.ms=7", "--set", "kafka.client.rack=r1"});
  EXPECT_EQ(r.code, samsa::kExitOk) << r.err;
  EXPECT_NE(r.out.find("producer.kafka.linger.ms=7"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("producer.kafka.enable.idempotence=true"), std::string::npos) << "Samsa's default: " << r.out;
  EXPECT_EQ(r.out.find("producer.kafka.client.rack"), std::string::npos) << "shared with the consumer: " << r.out;
}

TEST_F(ConfigTest, ABrokenFileNamesItsLineAndWhatIsWrong) {
  TempFile table("table.toml", "max_messages = 5\n[kafka\nbootstrap.servers = \"b:9092\"\n");
  auto what = message_of([&] { samsa::cli::read_config_file(table.str()); });
  EXPECT_NE(what.find("config file " + table.str() + ", line 2, column"), std::string::npos) << what;
  EXPECT_EQ(what.find("unknown setting"), std::string::npos) << what;

  TempFile twice("twice.toml", "max_messages = 5\nmax_messages = 6\n");
  what = message_of([&] { samsa::cli::read_config_file(twice.str()); });
  EXPECT_NE(what.find("config file " + twice.str() + ", line 2"), std::string::npos) << what;
  EXPECT_EQ(what.find("needs exactly one value"), std::string::npos) << what;

  // An inline table is the same as a [kafka] table.
  TempFile inline_table("inline.toml", "kafka = { \"bootstrap.servers\" = \"b:9092\", \"linger.ms\" = 5 }\n");
  samsa::Settings s;
  samsa::cli::apply(s, samsa::cli::read_config_file(inline_table.str()));
  EXPECT_EQ(s.kafka.at("bootstrap.servers"), "b:9092");
  EXPECT_EQ(s.kafka.at("linger.ms"), "5");

  // A setting's own error names the line of its value.
  TempFile type("type.toml", "\n\nmax_messages = \"many\"\n");
  what = message_of([&] { samsa::cli::apply(s, samsa::cli::read_config_file(type.str())); });
  EXPECT_NE(what.find("config file " + type.str() + ", line 3: setting 'max_messages'"), std::string::npos) << what;
}
