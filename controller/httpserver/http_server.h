// HttpServer: serves registered path handlers over HTTP or HTTPS (cpprestsdk's http_listener).
//
// Plain HTTP is for /metrics, /healthz and /readyz. HTTPS is for admission webhooks: the
// certificate chain and key are PEM files (e.g. tls.crt/tls.key from a Secret volume) that are
// checked for changes (mtime, size, inode) on every new connection and reloaded when they change,
// so a rotated certificate is served without a restart. A changed pair that does not load or
// whose key does not match the certificate (say, half-written) is ignored and the previous pair
// stays in use until the files are consistent. TLS 1.2 or newer.
//
// Port 0 picks a free port (found by binding a probe socket, then opening the listener on it;
// retried if another process takes the port in between) and port() reports it.
//
// Thread safety: Handle must be called before Start. Start and Stop from one thread. Handlers run
// concurrently on cpprestsdk's thread pool. Stop (and the destructor) waits for the listener to
// close. Errors never escape as exceptions.
#ifndef EPHEMERA_CONTROLLER_HTTPSERVER_HTTP_SERVER_H_
#define EPHEMERA_CONTROLLER_HTTPSERVER_HTTP_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "controller/httpserver/http_handler.h"
#include "status/status.h"

namespace ephemera::httpserver {

struct TlsFiles {
  std::string cert_file;  // PEM certificate chain, leaf first
  std::string key_file;   // PEM private key
};

struct HttpServerOptions {
  std::string address = ":8080";  // host:port, see ParseBindAddress
  std::optional<TlsFiles> tls;    // set = HTTPS
  // Larger bodies (by Content-Length) are answered 413 without calling the handler.
  std::size_t max_body_bytes = 3 << 20;
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();

  // Serves `handler` for requests whose path is exactly `path`. Before Start only.
  void Handle(std::string path, HttpHandler handler);

  // Binds and starts serving. kInvalidArgument for a bad address; kFailedPrecondition when the
  // TLS files cannot be loaded; kUnavailable when the address cannot be bound.
  Status Start();
  // Stops accepting and closes the listener. Idempotent.
  void Stop();

  // The bound port (after a successful Start), or 0.
  int Port() const { return port_; }
  // How many times the TLS pair has been (re)loaded; 0 for plain HTTP.
  std::uint64_t CertificateLoads() const;

 private:
  class Listener;
  class CertificateStore;

  HttpServerOptions options_;
  Routes routes_;
  std::shared_ptr<CertificateStore> certificates_;
  std::unique_ptr<Listener> listener_;
  int port_ = 0;
};

}  // namespace ephemera::httpserver

#endif  // EPHEMERA_CONTROLLER_HTTPSERVER_HTTP_SERVER_H_
