// App::setup and App::routes record their blocks and run them after run() parsed the command
// line, so that a route or a setting may depend on the app's own options (App::option/flag);
// without run(), at the first serve/validate/producer or non-const routes()/settings().
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "samsa/app.hpp"
#include "samsa/errors.hpp"
#include "scoped_env.hpp"

namespace {

using samsa::testing_support::ScopedEnv;

struct NoopConsumer : samsa::Consumer {
  void consume() override {}
};

struct Outcome {
  int code;
  std::string out, err;
};

Outcome run(samsa::App& app, std::vector<std::string> args) {
  args.insert(args.begin(), "app");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  const int rc = app.run(static_cast<int>(argv.size()), argv.data());
  std::string out = testing::internal::GetCapturedStdout();
  return {rc, out, testing::internal::GetCapturedStderr()};
}

// Nothing from the environment of whoever runs the tests.
struct AppBlocks : testing::Test {
  ScopedEnv a{"SAMSA_MAX_MESSAGES", nullptr};
  ScopedEnv b{"SAMSA_CONFIG", nullptr};
  ScopedEnv c{"KAFKA_BROKERS", nullptr};
};

TEST_F(AppBlocks, ARouteDrawnBeforeRunSeesTheOptionsRunParsed) {
  // Declared in the order an app writes them: the routes first, the options after.
  std::string topic = "default_topic", dlq;
  bool manual = false;
  samsa::App app;
  app.routes([&](samsa::Routes& routes) {
    auto& t = routes.consumer_group("g").topic(topic).consumer<NoopConsumer>();
    if (!dlq.empty()) t.dead_letter_queue({.topic = dlq, .max_retries = 2});
    if (manual) t.automatically_mark_as_consumed(false);
  });
  app.option("--topic", topic, "The topic");
  app.option("--dead-letter-topic", dlq, "The dead-letter topic");
  app.flag("--manual", manual, "Mark by hand");
  const Outcome r = run(app, {"info", "--topic", "orders", "--dead-letter-topic=orders_dlq", "--manual"});
  ASSERT_EQ(r.code, samsa::kExitOk) << r.err;
  EXPECT_NE(r.out.find("topic 'orders':"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("default_topic"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dead_letter_queue=orders_dlq max_retries=2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("automatically_mark_as_consumed=false"), std::string::npos) << r.out;
}

TEST_F(AppBlocks, SetupSeesTheOptionsAndTheSettingsFromOutsideStillOverrideIt) {
  int batch = 100;
  samsa::App app;
  app.setup([&](samsa::Settings& s) { s.max_messages = batch; });
  app.routes([](samsa::Routes& r) { r.consumer_group("g").topic("t").consumer<NoopConsumer>(); });
  app.option("--batch", batch, "Messages per batch");
  Outcome r = run(app, {"info", "--batch", "77"});
  ASSERT_EQ(r.code, samsa::kExitOk) << r.err;
  EXPECT_NE(r.out.find("max_messages=77 "), std::string::npos) << r.out;

  samsa::App again;
  again.setup([&](samsa::Settings& s) { s.max_messages = batch; });
  again.routes([](samsa::Routes& r) { r.consumer_group("g").topic("t").consumer<NoopConsumer>(); });
  again.option("--batch", batch, "Messages per batch");
  r = run(again, {"info", "--batch", "77", "--set", "max_messages=5"});
  ASSERT_EQ(r.code, samsa::kExitOk) << r.err;
  EXPECT_NE(r.out.find("max_messages=5 "), std::string::npos) << r.out;
}

TEST_F(AppBlocks, AThrowingDrawIsTheCommandLinesRoutingError) {
  samsa::App app;
  app.routes([](samsa::Routes&) { throw samsa::RoutingError("no such topic option"); });
  const Outcome r = run(app, {"info"});
  EXPECT_EQ(r.code, samsa::kExitConfig);
  EXPECT_NE(r.err.find("no such topic option"), std::string::npos) << r.err;
}

TEST_F(AppBlocks, WithoutRunTheBlocksRunOnceInOrderWhenTheRoutesOrSettingsAreUsed) {
  std::vector<std::string> ran;
  samsa::App app;
  app.setup([&](samsa::Settings& s) {
    ran.push_back("setup 1");
    s.max_messages = 3;
  });
  app.routes([&](samsa::Routes& r) {
    ran.push_back("routes");
    r.consumer_group("g").topic("t").consumer<NoopConsumer>();
  });
  app.setup([&](samsa::Settings&) { ran.push_back("setup 2"); });
  EXPECT_TRUE(ran.empty()) << "recorded, not run";
  EXPECT_EQ(app.settings().max_messages, 3);  // the blocks ran first
  EXPECT_EQ(ran, (std::vector<std::string>{"setup 1", "routes", "setup 2"}));
  app.settings().max_messages = 9;  // after the blocks: it stays
  app.validate();
  EXPECT_EQ(app.settings().max_messages, 9);
  EXPECT_EQ(ran.size(), 3u) << "each block runs once";
  ASSERT_EQ(app.routes().groups().size(), 1u);

  // A block given later runs at the next use, after what ran before.
  app.routes([&](samsa::Routes& r) {
    ran.push_back("routes 2");
    r.consumer_group("h").topic("u").consumer<NoopConsumer>();
  });
  app.validate();
  EXPECT_EQ(ran.back(), "routes 2");
  EXPECT_EQ(app.routes().groups().size(), 2u);
}

TEST_F(AppBlocks, ABlockThatRecordsAnotherRunsItInTheSameApplication) {
  samsa::App app;
  int inner = 0;
  app.setup([&](samsa::Settings&) { app.setup([&](samsa::Settings&) { ++inner; }); });
  app.routes([](samsa::Routes& r) { r.consumer_group("g").topic("t").consumer<NoopConsumer>(); });
  app.validate();
  EXPECT_EQ(inner, 1);
}

}  // namespace
