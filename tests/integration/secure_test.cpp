// Security settings that do not fit the broker's listener: an app stops at start with a
// fatal error (kExitFatal) whose message names the setting to fix, instead of retrying for
// ever (Listener::on_error). Runs on the TLS or SASL listener of make test's secure step
// (SAMSA_TEST_KAFKA_PROPERTIES); elsewhere it is skipped, and not registered (ctest label
// "secure" only).

#include "harness.hpp"

namespace samsa::test {
namespace {

class Secure : public BrokerTest {
 protected:
  // Serves an app whose kafka settings are the test's, changed by `spoil`; returns its exit
  // code (nullopt: still running after 60 s, i.e. retrying) and keeps its log.
  std::optional<int> serve_with(const std::function<void(std::map<std::string, std::string>&)>& spoil) {
    app_ = std::make_unique<TestApp>(topic, group);
    app_->app.logger(log);
    app_->app.setup([&](Settings& s) { spoil(s.kafka); });
    Running running(app_->app);
    auto code = running.wait(60s);
    if (!code) running.stop();
    return code;
  }
  std::string log_lines(const std::string& text) const {
    std::string out;
    for (const auto& l : log->grep(text)) out += l + "\n";
    return out;
  }
  std::shared_ptr<CapturingLogger> log = std::make_shared<CapturingLogger>();
  std::unique_ptr<TestApp> app_;
};

TEST_F(Secure, AWrongSaslPasswordStopsTheAppAtStartNamingTheSetting) {
  if (!Broker::get().properties().count("sasl.password")) GTEST_SKIP() << "needs the SASL listener";
  const auto code = serve_with([](auto& kafka) { kafka["sasl.password"] = "not-the-password"; });
  ASSERT_TRUE(code.has_value()) << "serve() was still retrying after 60 s";
  EXPECT_EQ(*code, kExitFatal);
  const std::string fatal = log_lines("cannot connect to the Kafka cluster");
  EXPECT_NE(fatal.find("kafka.sasl.password"), std::string::npos) << fatal;
  EXPECT_NE(fatal.find("kafka.sasl.username"), std::string::npos) << fatal;
  EXPECT_EQ(fatal.find("not-the-password"), std::string::npos) << "the password is logged: " << fatal;
}

TEST_F(Secure, ABrokerCertificateFromAnUntrustedCaStopsTheAppAtStartNamingTheSetting) {
  if (!Broker::get().properties().count("ssl.ca.location")) GTEST_SKIP() << "needs the TLS listener";
  // Without ssl.ca.location the system's CAs are trusted, which did not sign the test CA.
  const auto code = serve_with([](auto& kafka) { kafka.erase("ssl.ca.location"); });
  ASSERT_TRUE(code.has_value()) << "serve() was still retrying after 60 s";
  EXPECT_EQ(*code, kExitFatal);
  const std::string fatal = log_lines("cannot connect to the Kafka cluster");
  EXPECT_NE(fatal.find("kafka.ssl.ca.location"), std::string::npos) << fatal;
  EXPECT_NE(fatal.find("not trusted"), std::string::npos) << fatal;
}

TEST_F(Secure, TheRightSettingsServeAndCommitOverTheSecureListener) {
  if (Broker::get().properties().empty()) GTEST_SKIP() << "needs a TLS or SASL listener";
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 10);
  TestApp t(topic, group);
  t.app.logger(log);
  {
    Running running(t.app);
    EXPECT_TRUE(eventually([&] { return committed(group, topic) == 10; }));
    EXPECT_EQ(running.stop(), kExitOk);
  }
  EXPECT_TRUE(log->grep("cannot connect").empty()) << log_lines("cannot connect");
}

}  // namespace
}  // namespace samsa::test
