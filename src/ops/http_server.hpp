#pragma once
// HttpServer: a small HTTP/1.1 server for the operations endpoints, on civetweb (the
// embeddable server prometheus-cpp's own exposer uses). GET only; each request is answered
// by one function of the path.
//
// Threads: civetweb's own (`threads` of them); the handler is called on them, concurrently,
// and must be thread-safe. A handler that throws answers 500 with the exception's text.
#include <functional>
#include <string>

struct mg_context;
struct mg_connection;

namespace samsa::ops {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class HttpServer {
 public:
  /// path (without the query) -> response; a path it does not know: status 404.
  using Handler = std::function<HttpResponse(const std::string& path)>;

  /// Listens on `host`:`port` (port 0: any free port, see port()). Throws SettingsError
  /// naming the address and civetweb's reason when it cannot (port in use, bad address).
  HttpServer(const std::string& host, int port, Handler handler, int threads = 3);
  /// Stops listening and waits for the requests being answered.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// The port it listens on.
  int port() const { return port_; }

 private:
  static int handle(mg_connection* conn, void* self);
  Handler handler_;
  mg_context* ctx_ = nullptr;
  int port_ = 0;
};

}  // namespace samsa::ops
