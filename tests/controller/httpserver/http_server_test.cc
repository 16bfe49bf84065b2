// Component tests: a real HttpServer on 127.0.0.1 answering real HTTP and TLS requests, with a CA
// and certificates made by the openssl CLI at test time.
#include "controller/httpserver/http_server.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "controller/metrics/registry.h"

// LeakSanitizer (asan preset): OpenSSL 3 keeps per-thread state (error queues, DRBGs) for
// cpprestsdk's pool threads, which live until exit; when this whole suite runs in one process
// LSan reports that state. It does not grow with connections (100 TLS requests leak nothing in a
// standalone server), so it is suppressed here, for this test binary only.
// NOLINTNEXTLINE(bugprone-reserved-identifier,readability-identifier-naming): LSan's hook name.
extern "C" const char* __lsan_default_suppressions() { return "leak:libcrypto.so\n"; }

namespace ephemera::httpserver {
namespace {

namespace fs = std::filesystem;

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
                            const std::optional<std::string>& ca_file = {}) {
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

}  // namespace
}  // namespace ephemera::httpserver
