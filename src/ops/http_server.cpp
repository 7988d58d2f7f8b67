#include "ops/http_server.hpp"

#include <civetweb.h>
#include <spdlog/fmt/fmt.h>

#include <mutex>

#include "samsa/errors.hpp"

namespace samsa::ops {
namespace {

// civetweb reports why mg_start failed only through its log callback.
thread_local std::string start_error;

int log_message(const mg_connection*, const char* message) {
  if (start_error.empty()) start_error = message;
  return 1;  // handled: civetweb prints nothing itself
}

void answer(mg_connection* conn, const HttpResponse& r, bool head) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
            "Connection: close\r\n\r\n",
            r.status, mg_get_response_code_text(conn, r.status), r.content_type.c_str(), r.body.size());
  if (!head) mg_write(conn, r.body.data(), r.body.size());
}

}  // namespace

HttpServer::HttpServer(const std::string& host, int port, Handler handler, int threads) : handler_(std::move(handler)) {
  static std::once_flag init;
  std::call_once(init, [] { mg_init_library(0); });
  const std::string address = host + ":" + std::to_string(port);
  const std::string thread_count = std::to_string(threads);
  const char* options[] = {"listening_ports", address.c_str(), "num_threads", thread_count.c_str(),
                           "request_timeout_ms", "10000", nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = &log_message;
  start_error.clear();
  ctx_ = mg_start(&callbacks, this, options);
  if (!ctx_)
    throw SettingsError(fmt::format("metrics_port: cannot listen on {}: {} (is the port in use? choose another "
                                    "with --metrics-port or metrics_port, or metrics_host)",
                                    address, start_error.empty() ? "civetweb did not start" : start_error));
  mg_server_port ports[4] = {};
  const int n = mg_get_server_ports(ctx_, 4, ports);
  port_ = n > 0 ? ports[0].port : port;
  mg_set_request_handler(ctx_, "/", &HttpServer::handle, this);
}

HttpServer::~HttpServer() {
  if (ctx_) mg_stop(ctx_);
}

int HttpServer::handle(mg_connection* conn, void* self) {
  const mg_request_info* ri = mg_get_request_info(conn);
  HttpResponse r;
  if (std::string(ri->request_method) != "GET" && std::string(ri->request_method) != "HEAD") {
    r = {405, "text/plain; charset=utf-8", "only GET\n"};
  } else {
    try {
      r = static_cast<HttpServer*>(self)->handler_(ri->local_uri ? ri->local_uri : "/");
    } catch (const std::exception& e) {
      r = {500, "text/plain; charset=utf-8", std::string(e.what()) + "\n"};
    }
  }
  answer(conn, r, std::string(ri->request_method) == "HEAD");
  return r.status;
}

}  // namespace samsa::ops
