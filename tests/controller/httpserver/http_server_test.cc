// Component tests: a real HttpServer on 127.0.0.1 answering real HTTP and TLS requests, with a CA
// and certificates made by the openssl CLI at test time.
#include "controller/httpserver/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "controller/metrics/registry.h"

// LeakSanitizer (asan preset): OpenSSL 3 keeps per-thread state (error queues, DRBGs) for
// the server's I/O and handler threads, and the client's; when this whole suite runs in one process
// LSan reports that state. It does not grow with connections (100 TLS requests leak nothing in a
// standalone server), so it is suppressed here, for this test binary only.
// NOLINTNEXTLINE(bugprone-reserved-identifier,readability-identifier-naming): LSan's hook name.
extern "C" const char* __lsan_default_suppressions() { return "leak:libcrypto.so\n"; }

namespace ephemera::httpserver {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// A client certificate and key (PEM files) for mutual TLS.
struct ClientCert {
  std::string cert_file;
  std::string key_file;
};

struct FetchResult {
  int status = 0;
  std::string headers;  // raw header block, lower-cased
  std::string body;
  std::string peer_common_name;  // TLS only
};

std::string OpenSslError() {
  char buffer[256];
  ERR_error_string_n(ERR_get_error(), buffer, sizeof(buffer));
  return buffer;
}

// One HTTP/1.1 request over a fresh connection (Connection: close), plain or TLS verified against
// `ca_file` for IP 127.0.0.1.
StatusOr<FetchResult> Fetch(int port, const std::string& method, const std::string& target,
                            const std::string& body = "",
                            const std::optional<std::string>& ca_file = {},
                            const std::optional<ClientCert>& client_cert = {}) {
  const std::string host_port = "127.0.0.1:" + std::to_string(port);
  SSL_CTX* context = nullptr;
  BIO* bio = nullptr;
  if (ca_file) {
    context = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_load_verify_locations(context, ca_file->c_str(), nullptr) != 1) {
      SSL_CTX_free(context);
      return InternalError("loading CA: " + OpenSslError());
    }
    X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(context), "127.0.0.1");
    if (client_cert && (SSL_CTX_use_certificate_file(context, client_cert->cert_file.c_str(),
                                                     SSL_FILETYPE_PEM) != 1 ||
                        SSL_CTX_use_PrivateKey_file(context, client_cert->key_file.c_str(),
                                                    SSL_FILETYPE_PEM) != 1)) {
      SSL_CTX_free(context);
      return InternalError("loading client certificate: " + OpenSslError());
    }
    bio = BIO_new_ssl_connect(context);
    BIO_set_conn_hostname(bio, host_port.c_str());
  } else {
    bio = BIO_new_connect(host_port.c_str());
  }
  auto cleanup = [&] {
    BIO_free_all(bio);
    if (context) SSL_CTX_free(context);
  };
  if (BIO_do_connect(bio) != 1) {
    std::string error = OpenSslError();
    cleanup();
    return UnavailableError("connect/handshake: " + error);
  }
  FetchResult result;
  if (ca_file) {
    SSL* ssl = nullptr;
    BIO_get_ssl(bio, &ssl);
    if (SSL_get_verify_result(ssl) != X509_V_OK) {
      cleanup();
      return UnavailableError("certificate not verified");
    }
    X509* peer = SSL_get1_peer_certificate(ssl);
    char name[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, name, sizeof(name));
    result.peer_common_name = name;
    X509_free(peer);
  }
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: " + host_port +
                        "\r\nConnection: close\r\nX-Test-Header: Value1\r\n";
  if (!body.empty() || method == "POST") {
    request +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  if (BIO_write(bio, request.data(), static_cast<int>(request.size())) !=
      static_cast<int>(request.size())) {
    cleanup();
    return UnavailableError("write failed");
  }
  std::string response;
  char buffer[4096];
  int n;
  while ((n = BIO_read(bio, buffer, sizeof(buffer))) > 0) response.append(buffer, n);
  cleanup();
  const std::size_t header_end = response.find("\r\n\r\n");
  if (!response.starts_with("HTTP/1.1 ") || header_end == std::string::npos) {
    return DataLossError("malformed response: " + response.substr(0, 200));
  }
  result.status = std::stoi(response.substr(9, 3));
  result.headers = response.substr(0, header_end);
  for (char& c : result.headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  result.body = response.substr(header_end + 4);
  return result;
}

// A raw TCP connection to 127.0.0.1 for the limit tests, which need to misbehave as clients.
// Sends give up after one second without progress (the server stopped reading).
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    timeval stall{.tv_sec = 1, .tv_usec = 0};
    if (fd_ >= 0) ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &stall, sizeof(stall));
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }

  bool IsConnected() const { return fd_ >= 0; }

  // Sends all of `data`; false when the connection failed or the server stopped reading.
  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads one response (header block and Content-Length body) arriving within `timeout`.
  StatusOr<FetchResult> ReadResponse(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::string data;
    for (;;) {
      const std::size_t header_end = data.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        FetchResult result;
        result.headers = data.substr(0, header_end);
        for (char& c : result.headers) c = static_cast<char>(std::tolower(c));
        const std::size_t length_at = result.headers.find("content-length: ");
        const std::size_t length =
            length_at == std::string::npos ? 0 : std::stoul(result.headers.substr(length_at + 16));
        if (data.size() >= header_end + 4 + length) {
          if (!data.starts_with("HTTP/1.1 ")) return DataLossError("malformed: " + data);
          result.status = std::stoi(data.substr(9, 3));
          result.body = data.substr(header_end + 4, length);
          return result;
        }
      }
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      pollfd ready{.fd = fd_, .events = POLLIN, .revents = 0};
      if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
        return DeadlineExceededError("no complete response; got: " + data.substr(0, 200));
      }
      char buffer[4096];
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) return UnavailableError("connection closed; got: " + data.substr(0, 200));
      data.append(buffer, static_cast<std::size_t>(n));
    }
  }

  // True when the server closes the connection within `timeout` (anything it sends is skipped).
  bool WaitForClose(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      pollfd ready{.fd = fd_, .events = POLLIN, .revents = 0};
      if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
        return false;
      }
      char buffer[4096];
      if (::recv(fd_, buffer, sizeof(buffer), 0) <= 0) return true;
    }
  }

  // True when the server has closed the connection already (does not wait).
  bool IsClosedByServer() {
    char byte;
    const ssize_t n = ::recv(fd_, &byte, 1, MSG_DONTWAIT | MSG_PEEK);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

 private:
  int fd_ = -1;
};

// Pushes a request `head` and then up to `body_bytes` of body (chunked when `chunked`) until the
// server stops taking it; returns how many body bytes it took.
std::size_t PushBody(RawConnection& connection, const std::string& head, std::size_t body_bytes,
                     bool chunked) {
  if (!connection.Send(head)) return 0;
  const std::string piece(64 << 10, 'x');
  const std::string chunk = chunked ? "10000\r\n" + piece + "\r\n" : piece;
  std::size_t sent = 0;
  while (sent < body_bytes && connection.Send(chunk)) sent += piece.size();
  return sent;
}

HttpServerOptions PlainOptions(std::string address) {
  HttpServerOptions options;
  options.address = std::move(address);
  return options;
}

HttpServerOptions TlsOptions(std::string cert_file, std::string key_file) {
  HttpServerOptions options;
  options.address = "127.0.0.1:0";
  options.tls = TlsFiles{.cert_file = std::move(cert_file), .key_file = std::move(key_file)};
  return options;
}

HttpHandler Text(const std::string& body) {
  return [body](const HttpRequest&) { return HttpResponse{.body = body}; };
}

TEST(HttpServerTest, ServesRegisteredPathsOnPickedPort) {
  HttpServer server(PlainOptions("127.0.0.1:0"));
  server.Handle("/healthz", Text("ok\n"));
  server.Handle("/readyz", [](const HttpRequest&) {
    return HttpResponse{.status = 503, .body = "informers not synced\n"};
  });
  ASSERT_TRUE(server.Start().ok());
  ASSERT_GT(server.Port(), 0);

  auto healthz = Fetch(server.Port(), "GET", "/healthz");
  ASSERT_TRUE(healthz.ok()) << healthz.status().ToString();
  EXPECT_EQ(healthz->status, 200);
  EXPECT_EQ(healthz->body, "ok\n");
  EXPECT_NE(healthz->headers.find("content-type: text/plain; charset=utf-8"), std::string::npos)
      << healthz->headers;

  auto readyz = Fetch(server.Port(), "GET", "/readyz");
  ASSERT_TRUE(readyz.ok());
  EXPECT_EQ(readyz->status, 503);

  auto missing = Fetch(server.Port(), "GET", "/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(server.CertificateLoads(), 0u);
}

TEST(HttpServerTest, HandlerSeesMethodPathQueryHeadersAndBody) {
  HttpServer server(PlainOptions("127.0.0.1:0"));
  server.Handle("/validate", [](const HttpRequest& request) {
    return HttpResponse{.status = 200,
                        .content_type = "application/json",
                        .body = request.method + "|" + request.path + "|" + request.query + "|" +
                                request.Header("X-Test-Header") + "|" +
                                request.Header("content-type") + "|" + request.body};
  });
  ASSERT_TRUE(server.Start().ok());
  auto response = Fetch(server.Port(), "POST", "/validate?timeout=10s", R"({"kind":"Review"})");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body,
            R"(POST|/validate|timeout=10s|Value1|application/json|{"kind":"Review"})");
  EXPECT_NE(response->headers.find("content-type: application/json"), std::string::npos);
}

TEST(HttpServerTest, ServesMetricsRegistry) {
  metrics::Registry registry;
  auto& reconciles = registry.AddCounter("reconcile_total", "Reconciles.", {"result"});
  reconciles.WithLabels({"success"}).Increment(3);
  HttpServer server(PlainOptions("127.0.0.1:0"));
  server.Handle("/metrics", [&registry](const HttpRequest&) {
    return HttpResponse{.status = 200,
                        .content_type = std::string(metrics::Registry::kContentType),
                        .body = registry.RenderPrometheusText()};
  });
  ASSERT_TRUE(server.Start().ok());
  auto response = Fetch(server.Port(), "GET", "/metrics");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_NE(response->body.find("ephemera_reconcile_total{result=\"success\"} 3\n"),
            std::string::npos);
  EXPECT_NE(response->headers.find("content-type: text/plain; version=0.0.4"), std::string::npos);
}

TEST(HttpServerTest, RejectsOversizedBodyAndSurvivesThrowingHandler) {
  HttpServerOptions options = PlainOptions("127.0.0.1:0");
  options.max_body_bytes = 16;
  HttpServer server(options);
  std::atomic<int> calls{0};
  server.Handle("/echo", [&calls](const HttpRequest& request) {
    ++calls;
    return HttpResponse{.body = request.body};
  });
  server.Handle("/throw",
                [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("bug"); });
  ASSERT_TRUE(server.Start().ok());
  auto big = Fetch(server.Port(), "POST", "/echo", std::string(17, 'x'));
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(calls.load(), 0);
  auto thrown = Fetch(server.Port(), "GET", "/throw");
  ASSERT_TRUE(thrown.ok()) << thrown.status().ToString();
  EXPECT_EQ(thrown->status, 500);
  auto small = Fetch(server.Port(), "POST", "/echo", "0123456789abcdef");
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->body, "0123456789abcdef");
}

TEST(HttpServerTest, BusyPortFailsAndStopReleasesIt) {
  HttpServer first(PlainOptions("127.0.0.1:0"));
  first.Handle("/healthz", Text("ok"));
  ASSERT_TRUE(first.Start().ok());
  const std::string address = "127.0.0.1:" + std::to_string(first.Port());
  HttpServer second(PlainOptions(address));
  Status busy = second.Start();
  EXPECT_EQ(busy.code(), StatusCode::kUnavailable) << busy.ToString();
  first.Stop();
  EXPECT_FALSE(Fetch(first.Port(), "GET", "/healthz").ok()) << "stopped server still answers";
  HttpServer third(PlainOptions(address));
  third.Handle("/healthz", Text("third"));
  ASSERT_TRUE(third.Start().ok());
  auto response = Fetch(third.Port(), "GET", "/healthz");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body, "third");
}

TEST(HttpServerTest, InvalidAddress) {
  HttpServer server(PlainOptions("localhost"));
  EXPECT_EQ(server.Start().code(), StatusCode::kInvalidArgument);
}

// H1 regression tests: limits enforced while reading. Each one fails on the cpprestsdk listener
// (b333313), which buffered whole bodies and headers and never timed out or capped connections.

constexpr std::size_t kMiB = 1 << 20;

// A server with a small body limit and a handler that counts its calls.
class HttpServerLimitsTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options) {
    server_ = std::make_unique<HttpServer>(std::move(options));
    server_->Handle("/echo", [this](const HttpRequest& request) {
      ++calls_;
      return HttpResponse{.body = request.body};
    });
    server_->Handle("/healthz", Text("ok\n"));
    ASSERT_TRUE(server_->Start().ok());
  }
  static HttpServerOptions SmallBodyOptions() {
    HttpServerOptions options = PlainOptions("127.0.0.1:0");
    options.max_body_bytes = 64 << 10;
    return options;
  }

  std::unique_ptr<HttpServer> server_;
  std::atomic<int> calls_{0};
};

TEST_F(HttpServerLimitsTest, ChunkedBodyOverLimitIs413AndTheRestIsNotRead) {
  StartServer(SmallBodyOptions());
  RawConnection client(server_->Port());
  ASSERT_TRUE(client.IsConnected());
  const std::size_t sent =
      PushBody(client, "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n",
               200 * kMiB, /*chunked=*/true);
  // Whatever the kernel's socket buffers absorb, but nowhere near the 200 MiB offered.
  EXPECT_LT(sent, 32 * kMiB);
  auto response = client.ReadResponse(milliseconds(5000));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 413);
  EXPECT_NE(response->headers.find("connection: close"), std::string::npos) << response->headers;
  EXPECT_TRUE(client.WaitForClose(milliseconds(2000)));
  EXPECT_EQ(calls_.load(), 0);
}

// A client that is still sending when the 413 goes out must get it. Closing a socket with unread
// bytes makes the kernel reset the connection, and the reset can destroy the answer (seen on the
// cluster); the server lingers instead: it stops sending and discards what still arrives.
TEST_F(HttpServerLimitsTest, A413ReachesAClientThatIsStillSending) {
  StartServer(SmallBodyOptions());
  RawConnection client(server_->Port());
  ASSERT_TRUE(client.IsConnected());
  ASSERT_TRUE(client.Send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 4194304\r\n\r\n"));
  ASSERT_TRUE(client.Send(std::string(1 << 20, 'x')));
  std::this_thread::sleep_for(milliseconds(300));  // the 413 is out; the rest of the body is not
  EXPECT_TRUE(client.Send(std::string(1 << 20, 'x'))) << "the server reset the connection";
  auto response = client.ReadResponse(milliseconds(5000));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HttpServerLimitsTest, ContentLengthOverLimitIs413WithoutReadingTheBody) {
  StartServer(SmallBodyOptions());
  RawConnection client(server_->Port());
  ASSERT_TRUE(client.IsConnected());
  const std::size_t sent = PushBody(
      client, "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 314572800\r\n\r\n", 300 * kMiB,
      /*chunked=*/false);
  EXPECT_LT(sent, 32 * kMiB);
  auto response = client.ReadResponse(milliseconds(5000));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(calls_.load(), 0);

  // A body within the limit is still served, chunked or not.
  RawConnection chunked(server_->Port());
  ASSERT_TRUE(
      chunked.Send("POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5\r\nhello\r\n0\r\n\r\n"));
  auto echoed = chunked.ReadResponse(milliseconds(5000));
  ASSERT_TRUE(echoed.ok()) << echoed.status().ToString();
  EXPECT_EQ(echoed->status, 200);
  EXPECT_EQ(echoed->body, "hello");
}

TEST_F(HttpServerLimitsTest, HeadersOverLimitAre431) {
  StartServer(PlainOptions("127.0.0.1:0"));  // default limit, 16 KiB
  RawConnection fits(server_->Port());
  ASSERT_TRUE(fits.Send(
      "GET /healthz HTTP/1.1\r\nHost: test\r\nX-Fill: " + std::string(8 << 10, 'a') + "\r\n\r\n"));
  auto ok = fits.ReadResponse(milliseconds(5000));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status, 200);

  RawConnection big(server_->Port());
  // The server may answer and close before it has read all of it: the send result is ignored.
  (void)big.Send("GET /healthz HTTP/1.1\r\nHost: test\r\nX-Fill: " + std::string(64 << 10, 'a') +
                 "\r\n\r\n");
  auto response = big.ReadResponse(milliseconds(5000));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 431);
  EXPECT_TRUE(big.WaitForClose(milliseconds(2000)));

  RawConnection many_fields(server_->Port());
  std::string head = "GET /healthz HTTP/1.1\r\nHost: test\r\n";
  for (int i = 0; i < 2000; ++i) {
    head += "X-Field-";
    head += std::to_string(i);
    head += ": v\r\n";
  }
  (void)many_fields.Send(head + "\r\n");
  auto fields = many_fields.ReadResponse(milliseconds(5000));
  ASSERT_TRUE(fields.ok()) << fields.status().ToString();
  EXPECT_EQ(fields->status, 431);
}

TEST_F(HttpServerLimitsTest, SlowRequestIsCutOffAtRequestTimeout) {
  HttpServerOptions options = PlainOptions("127.0.0.1:0");
  options.request_timeout = milliseconds(1000);
  StartServer(options);

  // Slow-loris: one byte every 100 ms of a request that would take 30 s to send.
  RawConnection slow(server_->Port());
  ASSERT_TRUE(slow.IsConnected());
  const std::string request =
      "GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: " + std::string(300, 'a') + "\r\n\r\n";
  const auto start = Clock::now();
  bool answered = false;
  for (char c : request) {
    if (!slow.Send(std::string_view(&c, 1))) break;
    if (Clock::now() - start > milliseconds(6000)) break;
    auto early = slow.ReadResponse(milliseconds(100));
    if (early.ok()) {
      answered = true;
      EXPECT_EQ(early->status, 408);
      break;
    }
    if (early.status().code() != StatusCode::kDeadlineExceeded) break;  // closed
  }
  const auto elapsed = Clock::now() - start;
  EXPECT_TRUE(answered) << "a slow request was not answered 408";
  EXPECT_GE(elapsed, milliseconds(800));
  EXPECT_LT(elapsed, milliseconds(4000));
  EXPECT_TRUE(slow.WaitForClose(milliseconds(2000)));

  // A connection that never sends anything is closed at the same timeout, without an answer.
  RawConnection silent(server_->Port());
  ASSERT_TRUE(silent.IsConnected());
  EXPECT_TRUE(silent.WaitForClose(milliseconds(4000)));
}

TEST_F(HttpServerLimitsTest, KeepAliveWorksAndIdleConnectionIsClosedAfterIdleTimeout) {
  HttpServerOptions options = PlainOptions("127.0.0.1:0");
  options.idle_timeout = milliseconds(1000);
  StartServer(options);
  RawConnection client(server_->Port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.Send("GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"));
    auto response = client.ReadResponse(milliseconds(5000));
    ASSERT_TRUE(response.ok()) << "request " << i << ": " << response.status().ToString();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "ok\n");
    EXPECT_NE(response->headers.find("content-length: 3"), std::string::npos);
  }
  const auto idle_since = Clock::now();
  EXPECT_TRUE(client.WaitForClose(milliseconds(5000))) << "idle connection left open";
  EXPECT_GE(Clock::now() - idle_since, milliseconds(800));
}

TEST_F(HttpServerLimitsTest, ConnectionCapHoldsAndRealRequestsAreStillServed) {
  HttpServerOptions options = PlainOptions("127.0.0.1:0");
  options.max_connections = 8;
  options.request_timeout = milliseconds(60000);  // timeouts must not be what frees the slots
  options.idle_timeout = milliseconds(60000);
  StartServer(options);
  std::vector<std::unique_ptr<RawConnection>> hogs;
  for (int i = 0; i < 60; ++i) {
    hogs.push_back(std::make_unique<RawConnection>(server_->Port()));
    ASSERT_TRUE(hogs.back()->IsConnected());
    if (i % 2 == 1) {
      ASSERT_TRUE(hogs.back()->Send("GET /healthz HTTP/1.1\r\nHost: te"));
    }
  }
  for (int i = 0; i < 3; ++i) {
    auto response = Fetch(server_->Port(), "GET", "/healthz");
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->status, 200);
  }
  // The server closed all but at most max_connections of the 60 (closing takes a moment).
  std::size_t open = hogs.size();
  for (const auto deadline = Clock::now() + milliseconds(3000); Clock::now() < deadline;) {
    open = 0;
    for (auto& hog : hogs) open += hog->IsClosedByServer() ? 0 : 1;
    if (open <= options.max_connections) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_LE(open, options.max_connections);
}

TEST_F(HttpServerLimitsTest, BufferBudgetClosesTheOldestLargeRequestFirst) {
  HttpServerOptions options = PlainOptions("127.0.0.1:0");
  options.max_body_bytes = 1 * kMiB;
  options.max_buffered_bytes = 0;  // raised to the minimum: about two maximal bodies
  StartServer(options);
  // Two uploads of 900 KiB fit in the budget (2 MiB + 272 KiB), three do not.
  const std::size_t upload = 900 << 10;
  const std::string head =
      "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(upload) + "\r\n\r\n";
  const std::string part(100 << 10, 'y');
  std::vector<std::unique_ptr<RawConnection>> uploads;
  for (int i = 0; i < 3; ++i) {
    uploads.push_back(std::make_unique<RawConnection>(server_->Port()));
    ASSERT_TRUE(uploads.back()->Send(head + part));
    std::this_thread::sleep_for(milliseconds(100));  // a distinct age for each
  }
  // The third upload does not fit beside the first two: the oldest one is closed for it.
  EXPECT_TRUE(uploads[0]->WaitForClose(milliseconds(3000)));
  for (int i = 1; i < 3; ++i) {
    ASSERT_TRUE(uploads[i]->Send(std::string(upload - part.size(), 'y')));
    auto response = uploads[i]->ReadResponse(milliseconds(5000));
    ASSERT_TRUE(response.ok()) << "upload " << i << ": " << response.status().ToString();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body.size(), upload);
  }
}

// A CA and server certificates for 127.0.0.1, made with the openssl CLI in a temp directory.
class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ephemera-httpserver-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=ephemera-test-ca -keyout ca.key -out ca.crt");
    std::ofstream(dir_ / "san.ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    MakeServerCert("server-1");
    MakeServerCert("server-2");
    fs::copy_file(dir_ / "server-1.crt", dir_ / "tls.crt");
    fs::copy_file(dir_ / "server-1.key", dir_ / "tls.key");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Run(const std::string& command) {
    const std::string full = "cd '" + dir_.string() + "' && " + command + " >>openssl.log 2>&1";
    ASSERT_EQ(std::system(full.c_str()), 0) << full;
  }
  void MakeServerCert(const std::string& name) {
    Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" + name +
        " -keyout " + name + ".key -out " + name + ".csr");
    Run("openssl x509 -req -in " + name +
        ".csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 "
        "-extfile san.ext -out " +
        name + ".crt");
  }
  // Replaces `to` by a copy of `from` atomically (write a temp file, rename over), as kubelet
  // swaps Secret volume contents.
  void Swap(const std::string& from, const std::string& to) {
    fs::copy_file(dir_ / from, dir_ / (to + ".tmp"), fs::copy_options::overwrite_existing);
    fs::rename(dir_ / (to + ".tmp"), dir_ / to);
  }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }

  fs::path dir_;
};

TEST_F(TlsServerTest, ServesHttpsWithVerifiedCertificate) {
  HttpServer server(TlsOptions(Path("tls.crt"), Path("tls.key")));
  server.Handle("/validate", Text("allowed"));
  ASSERT_TRUE(server.Start().ok());
  auto response = Fetch(server.Port(), "GET", "/validate", "", Path("ca.crt"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "allowed");
  EXPECT_EQ(response->peer_common_name, "server-1");
  auto plain = Fetch(server.Port(), "GET", "/validate");
  EXPECT_TRUE(!plain.ok() || plain->status != 200) << "plain HTTP served on the TLS port";
}

TEST_F(TlsServerTest, ReloadsSwappedCertificateForNewConnections) {
  HttpServer server(TlsOptions(Path("tls.crt"), Path("tls.key")));
  server.Handle("/validate", Text("allowed"));
  ASSERT_TRUE(server.Start().ok());
  auto before = Fetch(server.Port(), "GET", "/validate", "", Path("ca.crt"));
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(before->peer_common_name, "server-1");
  const std::uint64_t loads = server.CertificateLoads();

  Swap("server-2.key", "tls.key");
  Swap("server-2.crt", "tls.crt");
  auto after = Fetch(server.Port(), "GET", "/validate", "", Path("ca.crt"));
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->peer_common_name, "server-2");
  EXPECT_GT(server.CertificateLoads(), loads);
}

TEST_F(TlsServerTest, KeepsServingOldPairWhileNewPairIsInconsistent) {
  HttpServer server(TlsOptions(Path("tls.crt"), Path("tls.key")));
  server.Handle("/validate", Text("allowed"));
  ASSERT_TRUE(server.Start().ok());
  ASSERT_TRUE(Fetch(server.Port(), "GET", "/validate", "", Path("ca.crt")).ok());

  Swap("server-2.crt", "tls.crt");  // key not swapped yet: mismatch
  auto mismatched = Fetch(server.Port(), "GET", "/validate", "", Path("ca.crt"));
  ASSERT_TRUE(mismatched.ok()) << mismatched.status().ToString();
  EXPECT_EQ(mismatched->peer_common_name, "server-1");

  std::ofstream(Path("garbage.pem")) << "not a certificate\n";
  Swap("garbage.pem", "tls.crt");
  auto garbage = Fetch(server.Port(), "GET", "/validate", "", Path("ca.crt"));
  ASSERT_TRUE(garbage.ok()) << garbage.status().ToString();
  EXPECT_EQ(garbage->peer_common_name, "server-1");

  Swap("server-2.crt", "tls.crt");
  Swap("server-2.key", "tls.key");
  auto fixed = Fetch(server.Port(), "GET", "/validate", "", Path("ca.crt"));
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_EQ(fixed->peer_common_name, "server-2");
}

TEST_F(TlsServerTest, StartFailsWithoutUsableCertificate) {
  HttpServer missing(TlsOptions(Path("none.crt"), Path("tls.key")));
  EXPECT_EQ(missing.Start().code(), StatusCode::kFailedPrecondition);
  HttpServer mismatched(
      {.address = "127.0.0.1:0",
       .tls = TlsFiles{.cert_file = Path("server-2.crt"), .key_file = Path("server-1.key")}});
  Status status = mismatched.Start();
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("server-1.key"), std::string::npos) << status.ToString();
  EXPECT_NE(status.message().find("mismatch"), std::string::npos) << status.ToString();
}

// mTLS (for M4): a client CA of its own and another CA whose certificates must not pass.
class MutualTlsTest : public TlsServerTest {
 protected:
  void SetUp() override {
    TlsServerTest::SetUp();
    std::ofstream(dir_ / "client.ext") << "extendedKeyUsage=clientAuth\n";
    MakeCa("client-ca");
    MakeCa("other-ca");
    MakeClientCert("apiserver", "client-ca");
    MakeClientCert("intruder", "other-ca");
  }
  void MakeCa(const std::string& ca) {
    Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "
        "/CN=" +
        ca + " -keyout " + ca + ".key -out " + ca + ".crt");
  }
  void MakeClientCert(const std::string& name, const std::string& ca) {
    Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" + name +
        "-client -keyout " + name + ".key -out " + name + ".csr");
    Run("openssl x509 -req -in " + name + ".csr -CA " + ca + ".crt -CAkey " + ca +
        ".key -CAcreateserial -days 1 -extfile client.ext -out " + name + ".crt");
  }
  HttpServerOptions MutualOptions(ClientCertMode mode) {
    fs::copy_file(dir_ / "client-ca.crt", dir_ / "clients.crt",
                  fs::copy_options::overwrite_existing);
    HttpServerOptions options = TlsOptions(Path("tls.crt"), Path("tls.key"));
    options.client_cert_mode = mode;
    options.client_ca_file = Path("clients.crt");
    return options;
  }
  // Answers "verified|<CN>" or "unverified|<CN>" and counts its calls.
  void HandleWhoAmI(HttpServer& server) {
    server.Handle("/whoami", [this](const HttpRequest& request) {
      ++calls_;
      return HttpResponse{.body = std::string(request.client_verified ? "verified" : "unverified") +
                                  "|" + request.client_common_name};
    });
  }
  StatusOr<FetchResult> FetchAs(const HttpServer& server, const std::optional<std::string>& who) {
    std::optional<ClientCert> cert;
    if (who) cert = ClientCert{.cert_file = Path(*who + ".crt"), .key_file = Path(*who + ".key")};
    return Fetch(server.Port(), "GET", "/whoami", "", Path("ca.crt"), cert);
  }

  std::atomic<int> calls_{0};
};

TEST_F(MutualTlsTest, RequireModeServesOnlyClientsOfTheClientCa) {
  HttpServer server(MutualOptions(ClientCertMode::kRequire));
  HandleWhoAmI(server);
  ASSERT_TRUE(server.Start().ok());

  auto anonymous = FetchAs(server, std::nullopt);
  EXPECT_TRUE(!anonymous.ok() || anonymous->status != 200) << "served a client without a cert";
  auto intruder = FetchAs(server, "intruder");
  EXPECT_TRUE(!intruder.ok() || intruder->status != 200) << "served a cert from another CA";
  EXPECT_EQ(calls_.load(), 0);

  auto apiserver = FetchAs(server, "apiserver");
  ASSERT_TRUE(apiserver.ok()) << apiserver.status().ToString();
  EXPECT_EQ(apiserver->status, 200);
  EXPECT_EQ(apiserver->body, "verified|apiserver-client");
  EXPECT_EQ(calls_.load(), 1);
}

TEST_F(MutualTlsTest, RequestModeServesClientsWithAndWithoutCertificate) {
  HttpServer server(MutualOptions(ClientCertMode::kRequest));
  HandleWhoAmI(server);
  ASSERT_TRUE(server.Start().ok());

  auto anonymous = FetchAs(server, std::nullopt);
  ASSERT_TRUE(anonymous.ok()) << anonymous.status().ToString();
  EXPECT_EQ(anonymous->body, "unverified|");
  auto apiserver = FetchAs(server, "apiserver");
  ASSERT_TRUE(apiserver.ok()) << apiserver.status().ToString();
  EXPECT_EQ(apiserver->body, "verified|apiserver-client");
  // A certificate that is presented must verify (Go's VerifyClientCertIfGiven).
  auto intruder = FetchAs(server, "intruder");
  EXPECT_TRUE(!intruder.ok() || intruder->body != "verified|intruder-client");
  EXPECT_EQ(calls_.load(), 2);
}

TEST_F(MutualTlsTest, NoneModeReportsNoClientIdentity) {
  HttpServer server(TlsOptions(Path("tls.crt"), Path("tls.key")));
  HandleWhoAmI(server);
  ASSERT_TRUE(server.Start().ok());
  auto apiserver = FetchAs(server, "apiserver");
  ASSERT_TRUE(apiserver.ok()) << apiserver.status().ToString();
  EXPECT_EQ(apiserver->body, "unverified|");
}

TEST_F(MutualTlsTest, ReloadsRotatedClientCaBundle) {
  HttpServer server(MutualOptions(ClientCertMode::kRequire));
  HandleWhoAmI(server);
  ASSERT_TRUE(server.Start().ok());
  ASSERT_TRUE(FetchAs(server, "apiserver").ok());
  const std::uint64_t loads = server.CertificateLoads();

  std::ofstream(Path("garbage.pem")) << "not a certificate\n";
  Swap("garbage.pem", "clients.crt");  // ignored: the previous bundle stays
  auto still = FetchAs(server, "apiserver");
  ASSERT_TRUE(still.ok()) << still.status().ToString();
  EXPECT_EQ(still->body, "verified|apiserver-client");

  Swap("other-ca.crt", "clients.crt");
  auto rotated = FetchAs(server, "intruder");
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->body, "verified|intruder-client");
  auto old = FetchAs(server, "apiserver");
  EXPECT_TRUE(!old.ok() || old->status != 200) << "a client of the rotated-out CA was served";
  EXPECT_GT(server.CertificateLoads(), loads);
}

TEST_F(MutualTlsTest, StartFailsWithoutUsableClientCa) {
  HttpServerOptions missing = MutualOptions(ClientCertMode::kRequire);
  missing.client_ca_file = Path("none.crt");
  EXPECT_EQ(HttpServer(missing).Start().code(), StatusCode::kFailedPrecondition);
  HttpServerOptions plain = PlainOptions("127.0.0.1:0");
  plain.client_cert_mode = ClientCertMode::kRequire;
  plain.client_ca_file = Path("client-ca.crt");
  EXPECT_EQ(HttpServer(plain).Start().code(), StatusCode::kInvalidArgument);
}

TEST_F(TlsServerTest, HandshakeTimeoutAndConnectionCapHoldOnTls) {
  HttpServerOptions options = TlsOptions(Path("tls.crt"), Path("tls.key"));
  options.max_connections = 4;
  options.handshake_timeout = milliseconds(1000);
  HttpServer server(options);
  server.Handle("/validate", Text("allowed"));
  ASSERT_TRUE(server.Start().ok());
  // TCP connections that never start the handshake fill the cap...
  std::vector<std::unique_ptr<RawConnection>> silent;
  for (int i = 0; i < 20; ++i) {
    silent.push_back(std::make_unique<RawConnection>(server.Port()));
    ASSERT_TRUE(silent.back()->IsConnected());
  }
  // ...yet a real client is served,
  auto response = Fetch(server.Port(), "GET", "/validate", "", Path("ca.crt"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body, "allowed");
  // and the survivors are closed at the handshake timeout.
  const auto deadline = Clock::now() + milliseconds(4000);
  for (auto& connection : silent) {
    EXPECT_TRUE(connection->WaitForClose(std::max(
        milliseconds(0), std::chrono::duration_cast<milliseconds>(deadline - Clock::now()))));
  }
}

}  // namespace
}  // namespace ephemera::httpserver
