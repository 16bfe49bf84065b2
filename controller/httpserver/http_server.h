// HttpServer: serves registered path handlers over HTTP/1.1 or HTTPS (Boost.Beast over Asio and
// OpenSSL), with limits that a hostile client cannot get around.
//
// Plain HTTP is for /metrics, /healthz and /readyz. HTTPS is for admission webhooks: the
// certificate chain and key are PEM files (e.g. tls.crt/tls.key from a Secret volume) that are
// checked for changes (mtime, size, inode) on every new connection and reloaded when they change,
// so a rotated certificate is served without a restart. A changed pair that does not load or
// whose key does not match the certificate (say, half-written) is ignored and the previous pair
// stays in use until the files are consistent. The client CA bundle (client_ca_file) is reloaded
// the same way. TLS 1.2 or newer.
//
// Limits, all enforced while reading (nothing is buffered beyond them):
// - a request header over max_header_bytes is answered 431, a body over max_body_bytes (by
//   Content-Length before any of it is read, or chunked as it arrives) 413; the rest is then read
//   and discarded for at most 2 s or 8 MiB (a lingering close, so that a client still sending
//   gets the answer instead of a reset) and the connection closed; nothing of it is kept;
// - a request must arrive whole within request_timeout of its first byte (of the connection, for
//   the first request), else 408 and close (slow-loris); a keep-alive connection that waits longer
//   than idle_timeout for its next request, or a TLS handshake longer than handshake_timeout, is
//   closed;
// - at most max_connections are open. When a new connection arrives at the cap, the connection
//   that has waited longest in the handshake, idle or reading-a-request state is closed to make
//   room, so idle or slow clients cannot starve real requests (a real request arrives whole in
//   milliseconds, a slow one stays "reading" and is the first to go). Connections whose request is
//   in a handler or whose response is being written are never evicted; when all are, the new
//   connection is closed at once;
// - the bytes buffered for requests across all connections (read buffers and bodies) are capped
//   by max_buffered_bytes: a request that would exceed it is answered 503 and its connection
//   closed, so max_connections x max_body_bytes need not fit in memory.
// Responses carry Content-Length and Content-Type; keep-alive follows the request (HTTP/1.1
// default). A response write must finish within request_timeout.
//
// Port 0 picks a free port and Port() reports it.
//
// Threads: one I/O thread runs all connections; handlers run on a fixed pool of handler_threads
// threads (a handler may block briefly; requests beyond the pool wait in a queue bounded by
// max_connections, as each connection has at most one request in flight).
//
// Thread safety: Handle must be called before Start. Start and Stop from one thread. Handlers run
// concurrently. Stop (and the destructor) closes every connection, waits for running handlers and
// joins all threads. Errors never escape as exceptions; a handler's exception becomes a 500.
#ifndef EPHEMERA_CONTROLLER_HTTPSERVER_HTTP_SERVER_H_
#define EPHEMERA_CONTROLLER_HTTPSERVER_HTTP_SERVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "controller/httpserver/http_handler.h"

namespace ephemera::httpserver {

struct TlsFiles {
  std::string cert_file;  // PEM certificate chain, leaf first
  std::string key_file;   // PEM private key
};

// Whether HTTPS clients are asked for a certificate (mutual TLS).
enum class ClientCertMode {
  kNone,     // not asked; HttpRequest::client_verified is always false
  kRequest,  // asked; a client without one is served (client_verified false), a presented
             // certificate that does not verify against client_ca_file fails the handshake
  kRequire,  // the handshake fails unless the client presents a certificate that verifies
};

struct HttpServerOptions {
  std::string address = ":8080";  // host:port, see ParseBindAddress
  std::optional<TlsFiles> tls;    // set = HTTPS
  // Larger bodies are answered 413 without calling the handler, chunked ones included.
  std::size_t max_body_bytes = 3 << 20;
  // Request line plus header fields; larger is answered 431.
  std::size_t max_header_bytes = 16 << 10;
  // From the first byte of a request (or the accept, for a connection's first request) until the
  // whole request is read; also bounds each response write. Exceeded: 408 and close.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(10);
  // A keep-alive connection waiting longer than this for its next request is closed. Longer than
  // the 90 s after which Go clients (the API server, Prometheus) drop idle connections, so that
  // they close first: a POST sent just as the server closes the connection is not retried by Go
  // and would fail the admission call. Idle hogs are bounded by max_connections instead.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(120);
  // TLS handshake, from the accept.
  std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10);
  // Open connections; see the eviction rule above.
  std::size_t max_connections = 64;
  // All connections' request buffers and bodies together; raised to at least what one maximal
  // request may need (2 x max_body_bytes + max_header_bytes + 256 KiB of read buffer). Each
  // connection's first max_header_bytes + 128 KiB count against it but never cause a 503.
  std::size_t max_buffered_bytes = 32 << 20;
  // Threads that run handlers.
  int handler_threads = 4;
  // HTTPS only: client certificates (mutual TLS). kRequest and kRequire need client_ca_file.
  ClientCertMode client_cert_mode = ClientCertMode::kNone;
  std::string client_ca_file{};  // PEM CA bundle that client certificates must chain to
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();

  // Serves `handler` for requests whose path is exactly `path`. Before Start only.
  void Handle(std::string path, HttpHandler handler);

  // Binds and starts serving. kInvalidArgument for a bad address or inconsistent options;
  // kFailedPrecondition when the TLS files or the client CA bundle cannot be loaded;
  // kUnavailable when the address cannot be bound.
  Status Start();
  // Stops accepting, closes every connection, waits for running handlers. Idempotent.
  void Stop();

  // The bound port (after a successful Start), or 0.
  int Port() const { return port_; }
  // How many times the TLS configuration (pair and client CA bundle) has been (re)loaded; 0 for
  // plain HTTP.
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
