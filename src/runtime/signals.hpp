#pragma once
// SIGINT/SIGTERM for a serving app: the first signal asks for a graceful shutdown, a
// second one ends the process at once (exit code 130) without waiting for anything.
//
// The handler only writes to a pipe (async-signal-safe); a watcher thread turns that into
// the `on_first` call. Installed for the duration of App::serve, then restored.
#include <functional>
#include <thread>

namespace samsa::runtime {

class SignalGuard {
 public:
  /// `on_first` runs on the watcher thread.
  explicit SignalGuard(std::function<void(int signal)> on_first);
  ~SignalGuard();
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  std::function<void(int)> on_first_;
  std::thread watcher_;
};

}  // namespace samsa::runtime
