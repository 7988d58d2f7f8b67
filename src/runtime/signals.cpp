#include "runtime/signals.hpp"

#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace samsa::runtime {
namespace {

int g_pipe[2] = {-1, -1};
volatile std::sig_atomic_t g_count = 0;
struct sigaction g_old_int, g_old_term;

void handler(int sig) {
  g_count = g_count + 1;
  if (g_count >= 2) {
    static const char msg[] = "samsa: second signal, stopping at once (exit 130)\n";
    (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
    _exit(130);
  }
  unsigned char s = static_cast<unsigned char>(sig);
  (void)!write(g_pipe[1], &s, 1);
}

}  // namespace

SignalGuard::SignalGuard(std::function<void(int)> on_first) : on_first_(std::move(on_first)) {
  if (pipe2(g_pipe, O_CLOEXEC) != 0) return;
  g_count = 0;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
  watcher_ = std::thread([this] {
    unsigned char s = 0;
    // Returns 0 when the write end is closed by the destructor.
    if (read(g_pipe[0], &s, 1) == 1) on_first_(s);
  });
}

SignalGuard::~SignalGuard() {
  if (g_pipe[1] < 0) return;
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
  close(g_pipe[1]);
  if (watcher_.joinable()) watcher_.join();
  close(g_pipe[0]);
  g_pipe[0] = g_pipe[1] = -1;
}

}  // namespace samsa::runtime
