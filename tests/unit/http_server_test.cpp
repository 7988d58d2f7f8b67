// The operations endpoint's HTTP server (src/ops/http_server.hpp) under connections that
// hold it up: hundreds of idle ones and of unfinished requests must not delay a probe.
#include "ops/http_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

namespace samsa::ops {
namespace {

using Clock = std::chrono::steady_clock;

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

// GET `path` on a new connection; the status line, or "" when nothing came within `limit`.
std::string probe(int port, const std::string& path, std::chrono::milliseconds limit) {
  const int fd = connect_to(port);
  if (fd < 0) return "";
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string got;
  const auto deadline = Clock::now() + limit;
  while (got.find("\r\n") == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    char buffer[512];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    got.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return got.substr(0, got.find("\r\n"));
}

HttpResponse answer(const std::string& path) {
  if (path == "/health/live") return {200, "text/plain; charset=utf-8", "ok\n"};
  return {404, "text/plain; charset=utf-8", "not found\n"};
}

TEST(HttpServer, ProbesAnswerWithinASecondWhile500IdleOrSlowConnectionsAreOpen) {
  // 500 connections here and 500 accepted by the server: more descriptors than the usual
  // soft limit of 1,024.
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 4096);
  ::setrlimit(RLIMIT_NOFILE, &limit);
  ASSERT_GE(limit.rlim_cur, 1200u) << "the test needs 1,200 file descriptors";

  HttpServer server("127.0.0.1", 0, answer, HttpLimits{2, std::chrono::seconds(10), 1000});
  ASSERT_EQ(probe(server.port(), "/health/live", std::chrono::seconds(1)), "HTTP/1.1 200 OK");
  std::vector<int> held;
  const std::string unfinished = "GET /metrics HTTP/1.1\r\nHost: x\r\n";  // no blank line: never complete
  for (int i = 0; i < 500; ++i) {
    const int fd = connect_to(server.port());
    ASSERT_GE(fd, 0) << "connection " << i;
    if (i % 2 == 0) ::send(fd, unfinished.data(), unfinished.size(), MSG_NOSIGNAL);
    held.push_back(fd);
  }
  for (int i = 0; i < 5; ++i) {
    const auto began = Clock::now();
    EXPECT_EQ(probe(server.port(), "/health/live", std::chrono::seconds(1)), "HTTP/1.1 200 OK") << "probe " << i;
    EXPECT_LT(Clock::now() - began, std::chrono::seconds(1)) << "probe " << i;
  }
  for (int fd : held) ::close(fd);
}

TEST(HttpServer, ConnectionsBeyondTheLimitAreRefusedAndTheServerGoesOn) {
  HttpServer server("127.0.0.1", 0, answer, HttpLimits{1, std::chrono::seconds(10), 20});
  std::vector<int> held;
  for (int i = 0; i < 20; ++i) held.push_back(connect_to(server.port()));
  // The 21st is accepted by the kernel and closed by the server: no answer.
  EXPECT_EQ(probe(server.port(), "/health/live", std::chrono::milliseconds(500)), "");
  for (int fd : held) ::close(fd);
  bool answered = false;
  for (int i = 0; i < 20 && !answered; ++i)
    answered = probe(server.port(), "/health/live", std::chrono::seconds(1)) == "HTTP/1.1 200 OK";
  EXPECT_TRUE(answered) << "answers again once connections closed";
}

TEST(HttpServer, AnIdleConnectionIsClosedAfterTheTimeout) {
  HttpServer server("127.0.0.1", 0, answer, HttpLimits{1, std::chrono::seconds(1), 100});
  const int fd = connect_to(server.port());
  ASSERT_GE(fd, 0);
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1) << "not closed within 5 s";
  char c;
  EXPECT_EQ(::recv(fd, &c, 1, 0), 0) << "closed by the server";
  ::close(fd);
}

TEST(HttpServer, APortInUseIsASettingsError) {
  HttpServer first("127.0.0.1", 0, answer);
  EXPECT_THROW(HttpServer("127.0.0.1", first.port(), answer), std::exception);
}

}  // namespace
}  // namespace samsa::ops
