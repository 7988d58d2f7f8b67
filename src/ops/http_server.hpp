#pragma once
// HttpServer: a small HTTP/1.1 server for the operations endpoints, on GNU libmicrohttpd.
// GET and HEAD only; each request is answered by one function of the path.
//
// Why libmicrohttpd: its threads wait on epoll for every connection at once, so a connection
// that is idle or sends its request slowly holds no thread. A server with a thread per
// connection (civetweb, before) let three unfinished requests delay /health/live by seconds,
// and two hundred of them starve every probe: a healthy pod restarted by its liveness probe.
//
// Limits (HttpLimits, from the settings http_threads, http_timeout, http_max_connections):
// the threads that serve requests, each with its own epoll; the time a connection may stay
// idle or incomplete before it is closed; and how many connections are open at once (more
// are refused at accept, so the file descriptors of the process are never exhausted by it).
//
// Threads: the handler is called on libmicrohttpd's threads, concurrently, and must be
// thread-safe. A handler that throws answers 500 with the exception's text.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

struct MHD_Daemon;

namespace samsa::ops {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct HttpLimits {
  int threads = 2;
  std::chrono::seconds timeout{10};
  int max_connections = 1000;
};

class HttpServer {
 public:
  /// path (without the query) -> response; a path it does not know: status 404.
  using Handler = std::function<HttpResponse(const std::string& path)>;

  /// Listens on `host`:`port` (port 0: any free port, see port()); `host` is an IPv4 or IPv6
  /// address or a name. Throws SettingsError naming the address and the reason when it
  /// cannot (port in use, bad address).
  HttpServer(const std::string& host, int port, Handler handler, HttpLimits limits = {});
  /// Stops listening and waits for the requests being answered.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// The port it listens on.
  int port() const { return port_; }

  /// What libmicrohttpd logs while the server starts (http_server.cpp).
  struct StartLog;

 private:
  Handler handler_;
  std::unique_ptr<StartLog> log_;  // outlives the daemon, whose threads may call its logger
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
};

}  // namespace samsa::ops
