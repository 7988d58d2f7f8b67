// The package test's app, built both ways a user builds one: with find_package(samsa)
// (CMakeLists.txt here) and with one line of pkg-config,
//   g++ -std=c++20 app.cpp $(pkg-config --cflags --libs samsa)
// An ordinary Samsa app (App::run: --version, info, server): `server --expect N` consumes
// the topic package_events, reading each event's JSON (nlohmann-json: the public part of the
// API), until N events have been handled, then stops gracefully (committing them).
#include <samsa/samsa.hpp>

#include <atomic>
#include <iostream>

namespace {

samsa::App* the_app = nullptr;
std::atomic<int> handled{0};
int expected = 0;
std::atomic<long long> id_sum{0};

class PackageEvents : public samsa::Consumer {
 public:
  void consume() override {
    for (const auto& message : messages()) {
      id_sum += message.payload().at("id").get<long long>();
      mark_as_consumed(message);
      if (++handled == expected) the_app->stop();
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  samsa::App app;
  the_app = &app;
  app.option("--expect", expected, "Stop after handling this many events");
  app.setup([](samsa::Settings& s) { s.client_id = "package_app"; });
  app.routes([](samsa::Routes& r) { r.consumer_group("package_app").topic("package_events").consumer<PackageEvents>(); });
  const int code = app.run(argc, argv);
  if (expected > 0)
    std::cout << "package_app: handled " << handled << " events (sum of ids " << id_sum << "), exit " << code << "\n";
  return code;
}
