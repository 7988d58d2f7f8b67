#include "tcp_relay.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "usage_error.hpp"

namespace samsa::tool {

namespace {

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

FixedPortRelay::FixedPortRelay(int port) : port_(port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) throw UsageError("cannot open a socket: " + errno_text(errno));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 128) != 0) {
    int err = errno;
    ::close(listen_fd_);
    if (err == EADDRINUSE)
      throw UsageError("port " + std::to_string(port) +
                       " is already in use on 127.0.0.1 (is another broker running? pick "
                       "another --port, or leave it out for an ephemeral one)");
    throw UsageError("cannot listen on 127.0.0.1:" + std::to_string(port) + ": " +
                     errno_text(err));
  }
  if (::pipe2(stop_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
    ::close(listen_fd_);
    throw UsageError("cannot create a pipe: " + errno_text(errno));
  }
}

FixedPortRelay::~FixedPortRelay() {
  stop();
  ::close(listen_fd_);
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
}

void FixedPortRelay::start(const std::string& target) {
  upstream_ = resolve(target);
  thread_ = std::thread([this] { run(); });
}

void FixedPortRelay::stop() {
  if (!thread_.joinable()) return;
  char c = 0;
  [[maybe_unused]] auto n = ::write(stop_pipe_[1], &c, 1);
  thread_.join();
}

sockaddr_storage FixedPortRelay::resolve(const std::string& target) {
  auto first = target.substr(0, target.find(','));
  auto colon = first.rfind(':');
  if (colon == std::string::npos)
    throw UsageError("unexpected embedded broker address '" + target + "'");
  std::string host = first.substr(0, colon), port = first.substr(colon + 1);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0 || !res)
    throw UsageError("cannot resolve the embedded broker's address '" + first +
                     "': " + gai_strerror(rc));
  sockaddr_storage out{};
  std::memcpy(&out, res->ai_addr, res->ai_addrlen);
  upstream_len_ = res->ai_addrlen;
  ::freeaddrinfo(res);
  return out;
}

void FixedPortRelay::set_nonblocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

void FixedPortRelay::accept_one() {
  int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (client < 0) return;
  int broker = ::socket(upstream_.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  // A blocking connect is fine: the target is on the loopback interface.
  if (broker < 0 ||
      ::connect(broker, reinterpret_cast<const sockaddr*>(&upstream_), upstream_len_) != 0) {
    if (broker >= 0) ::close(broker);
    ::close(client);
    return;
  }
  set_nonblocking(broker);
  int one = 1;
  ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::setsockopt(broker, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  Connection c;
  c.client.fd = client;
  c.broker.fd = broker;
  connections_.push_back(std::move(c));
}

// Reads what `from` has into `to.pending`; false when the connection is over.
bool FixedPortRelay::pump_in(Side& from, Side& to) {
  char buf[65536];
  for (;;) {
    if (to.pending.size() >= kBufferLimit) return true;
    ssize_t n = ::recv(from.fd, buf, sizeof buf, 0);
    if (n > 0) {
      to.pending.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) return false;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  }
}

// Writes `side.pending` to its socket as far as it goes; false when the connection is over.
bool FixedPortRelay::pump_out(Side& side) {
  while (!side.pending.empty()) {
    ssize_t n = ::send(side.fd, side.pending.data(), side.pending.size(), MSG_NOSIGNAL);
    if (n > 0) {
      side.pending.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
  }
  return true;
}

short FixedPortRelay::wanted(const Side& self, const Side& other) {
  short ev = 0;
  if (other.pending.size() < kBufferLimit) ev |= POLLIN;
  if (!self.pending.empty()) ev |= POLLOUT;
  return ev;
}

void FixedPortRelay::run() {
  std::vector<pollfd> fds;
  for (;;) {
    fds.clear();
    fds.push_back({stop_pipe_[0], POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    for (auto& c : connections_) {
      fds.push_back({c.client.fd, wanted(c.client, c.broker), 0});
      fds.push_back({c.broker.fd, wanted(c.broker, c.client), 0});
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents) break;
    if (fds[1].revents & POLLIN) accept_one();
    std::size_t i = 2;
    for (auto it = connections_.begin(); it != connections_.end(); ++it) {
      if (i + 1 >= fds.size()) break;  // accepted in this round: not polled yet
      auto& c = *it;
      short rc = fds[i++].revents, rb = fds[i++].revents;
      bool ok = true;
      if (rc & (POLLIN | POLLHUP | POLLERR)) ok = pump_in(c.client, c.broker) && ok;
      if (rb & (POLLIN | POLLHUP | POLLERR)) ok = pump_in(c.broker, c.client) && ok;
      ok = pump_out(c.broker) && ok;
      ok = pump_out(c.client) && ok;
      c.dead = !ok;
    }
    for (auto it = connections_.begin(); it != connections_.end();) {
      if (!it->dead) {
        ++it;
        continue;
      }
      ::close(it->client.fd);
      ::close(it->broker.fd);
      it = connections_.erase(it);
    }
  }
  for (auto& c : connections_) {
    ::close(c.client.fd);
    ::close(c.broker.fd);
  }
  connections_.clear();
}

}  // namespace samsa::tool
