#pragma once
// TCP relay for `samsa broker --port P`.
//
// librdkafka 2.0.2's mock cluster listens on ephemeral ports and cannot be told which one,
// so a fixed port is a listener that forwards every connection to the mock broker. Clients
// only bootstrap through it: the metadata they get back names the mock's own address,
// which is reachable on the same loopback interface.
#include <sys/socket.h>

#include <cstddef>
#include <list>
#include <string>
#include <thread>

namespace samsa::tool {

class FixedPortRelay {
 public:
  /// Binds 127.0.0.1:port now, so that a port in use is reported before anything starts.
  explicit FixedPortRelay(int port);

  FixedPortRelay(const FixedPortRelay&) = delete;
  FixedPortRelay& operator=(const FixedPortRelay&) = delete;

  ~FixedPortRelay();

  /// Starts forwarding to `target` ("HOST:PORT", the first broker of the bootstrap list).
  void start(const std::string& target);

  void stop();

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  static constexpr std::size_t kBufferLimit = 1 << 20;

  struct Side {
    int fd = -1;
    std::string pending;  // read from the other side, not yet written to this one
  };
  struct Connection {
    Side client, broker;
    bool dead = false;
  };

  sockaddr_storage resolve(const std::string& target);
  static void set_nonblocking(int fd);
  void accept_one();
  static bool pump_in(Side& from, Side& to);
  static bool pump_out(Side& side);
  static short wanted(const Side& self, const Side& other);
  void run();

  int port_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  socklen_t upstream_len_ = 0;
  sockaddr_storage upstream_{};
  std::list<Connection> connections_;
  std::thread thread_;
};

}  // namespace samsa::tool
