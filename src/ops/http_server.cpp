#include "ops/http_server.hpp"

#include <microhttpd.h>
#include <netdb.h>
#include <spdlog/fmt/fmt.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "samsa/errors.hpp"

namespace samsa::ops {

// libmicrohttpd reports why it did not start only through its logger, which it keeps
// calling afterwards (a client that went away, ...) from its threads: only what it says
// while the constructor runs is kept, for the error; the rest is dropped.
struct HttpServer::StartLog {
  std::atomic<bool> starting{true};
  std::string first;
};

namespace {

void log_message(void* cls, const char* format, va_list ap) {
  auto* log = static_cast<HttpServer::StartLog*>(cls);
  if (!log->starting.load(std::memory_order_acquire) || !log->first.empty()) return;
  char buffer[512];
  std::vsnprintf(buffer, sizeof buffer, format, ap);
  log->first = buffer;
  while (!log->first.empty() && (log->first.back() == '\n' || log->first.back() == '.')) log->first.pop_back();
}

MHD_Result handle(void* self, MHD_Connection* connection, const char* url, const char* method, const char*,
                  const char*, size_t* upload_size, void**) {
  // Called once when the headers are in, then for each piece of a body: a GET has none, and
  // the answer goes out on the first call.
  if (*upload_size != 0) {
    *upload_size = 0;
    return MHD_YES;
  }
  const bool get = std::strcmp(method, "GET") == 0;
  const bool head = std::strcmp(method, "HEAD") == 0;
  HttpResponse r;
  if (!get && !head) {
    r = {405, "text/plain; charset=utf-8", "only GET\n"};
  } else {
    try {
      r = (*static_cast<HttpServer::Handler*>(self))(url ? url : "/");
    } catch (const std::exception& e) {
      r = {500, "text/plain; charset=utf-8", std::string(e.what()) + "\n"};
    }
  }
  MHD_Response* response =
      MHD_create_response_from_buffer(r.body.size(), r.body.data(), MHD_RESPMEM_MUST_COPY);
  if (!response) return MHD_NO;
  MHD_add_response_header(response, "Content-Type", r.content_type.c_str());
  MHD_add_response_header(response, "Cache-Control", "no-store");
  MHD_add_response_header(response, "Connection", "close");
  const MHD_Result queued = MHD_queue_response(connection, static_cast<unsigned>(r.status), response);
  MHD_destroy_response(response);
  return queued;
}

}  // namespace

HttpServer::HttpServer(const std::string& host, int port, Handler handler, HttpLimits limits)
    : handler_(std::move(handler)) {
  const std::string address = host + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0)
    throw SettingsError(fmt::format("metrics_host: cannot listen on {}: {} (give an IP address of this host, or "
                                    "0.0.0.0 for every one)",
                                    address, gai_strerror(rc)));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, &freeaddrinfo);
  log_ = std::make_unique<StartLog>();
  StartLog* log = log_.get();
  unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
  if (found->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
  // One thread needs no pool (libmicrohttpd warns when given a pool of one).
  std::vector<MHD_OptionItem> options{
      {MHD_OPTION_SOCK_ADDR, 0, found->ai_addr},
      {MHD_OPTION_CONNECTION_LIMIT, limits.max_connections, nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT, static_cast<intptr_t>(limits.timeout.count()), nullptr},
      {MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&log_message), log},
  };
  if (limits.threads > 1) options.push_back({MHD_OPTION_THREAD_POOL_SIZE, limits.threads, nullptr});
  options.push_back({MHD_OPTION_END, 0, nullptr});
  daemon_ = MHD_start_daemon(flags, static_cast<uint16_t>(port), nullptr, nullptr, &handle, &handler_,
                             MHD_OPTION_ARRAY, options.data(), MHD_OPTION_END);
  log->starting.store(false, std::memory_order_release);
  if (!daemon_)
    throw SettingsError(fmt::format("metrics_port: cannot listen on {}: {} (is the port in use? choose another "
                                    "with --metrics-port or metrics_port, or metrics_host)",
                                    address, log->first.empty() ? "the HTTP server did not start" : log->first));
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
  port_ = info && info->port ? info->port : port;
}

HttpServer::~HttpServer() {
  if (daemon_) MHD_stop_daemon(daemon_);
}

}  // namespace samsa::ops
