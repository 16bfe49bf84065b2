// TlsTestServer: a small HTTPS/1.1 server on 127.0.0.1 built directly on OpenSSL, for testing
// CpprestTransport against real TLS. One connection at a time, one request per connection
// (responses say "Connection: close"). Records each request with the SNI name and the client
// certificate's subject.
#ifndef EPHEMERA_TESTS_KUBE_TRANSPORT_TLS_TEST_SERVER_H_
#define EPHEMERA_TESTS_KUBE_TRANSPORT_TLS_TEST_SERVER_H_

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kube/client/http_transport.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace ephemera::kube {

struct ReceivedRequest {
  std::string method{};
  std::string target{};
  HttpHeaders headers{};
  std::string body{};
  std::string sni{};             // server name the client sent, "" if none
  std::string client_subject{};  // "/CN=..." of the client certificate, "" if none
};

// Writes the response for one request. Write failures are ignored (the client may be gone).
class ResponseWriter {
 public:
  explicit ResponseWriter(SSL* ssl) : ssl_(ssl) {}
  bool WriteRaw(std::string_view bytes);
  void Respond(int status, std::string_view body,
               std::string_view content_type = "application/json",
               const HttpHeaders& extra_headers = {});
  void StartChunked(int status = 200);
  bool WriteChunk(std::string_view data);
  void EndChunked();

 private:
  SSL* ssl_;
};

class TlsTestServer {
 public:
  struct Config {
    std::string certificate_file{};  // server chain, PEM
    std::string key_file{};
    std::string client_ca_file{};  // non-empty: ask for a client certificate verified by this CA
    bool require_client_certificate = false;
  };
  using Handler = std::function<void(const ReceivedRequest&, ResponseWriter&)>;

  // Starts listening on an ephemeral port and serving on a background thread. Aborts the test
  // binary (via ADD_FAILURE and a dead server) on setup errors.
  TlsTestServer(const Config& config, Handler handler);
  ~TlsTestServer();

  int Port() const { return port_; }
  std::vector<ReceivedRequest> Requests();
  int HandshakeFailures() const { return handshake_failures_.load(); }

 private:
  void Serve();
  void HandleConnection(int fd);

  Handler handler_;
  SSL_CTX* ctx_ = nullptr;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> handshake_failures_{0};
  std::mutex mu_;
  std::vector<ReceivedRequest> requests_;
  std::thread thread_;
};

}  // namespace ephemera::kube

#endif  // EPHEMERA_TESTS_KUBE_TRANSPORT_TLS_TEST_SERVER_H_
