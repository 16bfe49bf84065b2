// CpprestTransport: HttpTransport over cpprestsdk's http_client, HTTPS only, with the server's
// certificate always verified.
//
// Verification: the chain must lead to `certificate_authority_pem` (which then REPLACES the system
// trust store; with no CA given the system store is used), and the certificate must name the
// server's host, or `tls_server_name` when set (which is also sent as SNI; it is carried in the
// HTTP Host header, which is how cpprestsdk picks the name to verify). TLS 1.2 or newer. There is
// no switch to turn verification off.
//
// Client certificates come from the optional TokenSource (kubeconfig client-certificate, or an
// exec plugin's); when they change, new connections use the new ones. Bearer tokens are NOT added
// here: wrap this transport in BearerAuthTransport (KubeConnection does).
//
// Every cpprestsdk/Boost/OpenSSL exception is caught here: connection and TLS failures become
// kUnavailable with the library's message, timeouts kDeadlineExceeded. Thread safe.
#ifndef EPHEMERA_KUBE_TRANSPORT_CPPREST_TRANSPORT_H_
#define EPHEMERA_KUBE_TRANSPORT_CPPREST_TRANSPORT_H_

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/mutex.h"
#include "kube/auth/token_source.h"
#include "kube/client/http_transport.h"

namespace web::http::client {
class http_client;
}

namespace ephemera::kube {

struct CpprestTransportOptions {
  std::string server{};  // "https://host:port[/prefix]"
  std::string tls_server_name{};
  std::string certificate_authority_pem{};
  // Non-empty: "http://host:port" of an HTTP proxy; requests go through it in a CONNECT tunnel,
  // TLS still end to end with the API server.
  std::string proxy_url{};
  std::size_t max_response_bytes = 64 << 20;  // Send() fails with kResourceExhausted beyond this
};

class CpprestTransport final : public HttpTransport {
 public:
  // kInvalidArgument for a server that is not an https URL or a CA bundle with no certificate.
  // `client_certificates` (may be null) must outlive the transport.
  static StatusOr<std::unique_ptr<CpprestTransport>> Create(CpprestTransportOptions options,
                                                            TokenSource* client_certificates);
  ~CpprestTransport() override;

  StatusOr<HttpResponse> Send(const HttpRequest& request) override;
  StatusOr<HttpResponse> SendStreaming(const HttpRequest& request, const BodyChunkHandler& on_chunk,
                                       std::stop_token stop) override;

  struct TlsMaterial;  // parsed CA and client certificate (OpenSSL objects)

 private:
  CpprestTransport(CpprestTransportOptions options, TokenSource* client_certificates,
                   std::shared_ptr<const TlsMaterial> ca_only);
  // An http_client for this timeout and the current client certificate; with `cache`, one per
  // timeout value is kept and reused (with its connection pool).
  StatusOr<std::shared_ptr<web::http::client::http_client>> ClientFor(
      std::chrono::milliseconds timeout, bool cache);

  const CpprestTransportOptions options_;
  TokenSource* const client_certificates_;
  const std::shared_ptr<const TlsMaterial> ca_only_;
  base::Mutex mu_;
  // PEM of the client certificate the cache was built for.
  std::string current_certificate_ EPHEMERA_GUARDED_BY(mu_);
  std::shared_ptr<const TlsMaterial> material_ EPHEMERA_GUARDED_BY(mu_);
  std::map<std::chrono::milliseconds, std::shared_ptr<web::http::client::http_client>> clients_
      EPHEMERA_GUARDED_BY(mu_);
};

}  // namespace ephemera::kube

#endif  // EPHEMERA_KUBE_TRANSPORT_CPPREST_TRANSPORT_H_
