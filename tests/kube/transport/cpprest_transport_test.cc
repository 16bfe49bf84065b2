// CpprestTransport against a real local TLS server, with a CA, server and client certificates made
// by the openssl CLI in a temporary directory for this run.
#include "kube/transport/cpprest_transport.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "base/clock.h"
#include "kube/transport/bearer_auth_transport.h"
#include "kube/transport/kube_connection.h"
#include "tests/kube/transport/tls_test_server.h"

namespace ephemera::kube {
namespace {

using namespace std::chrono_literals;

std::filesystem::path g_dir;

std::string ReadFile(const std::string& name) {
  std::ifstream in(g_dir / name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string PathOf(const std::string& name) { return (g_dir / name).string(); }

class CpprestTransportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The server may write to a connection the client already closed (timeouts, cancellation).
    ::signal(SIGPIPE, SIG_IGN);
    g_dir = std::filesystem::temp_directory_path() /
            ("ephemera-kube-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(g_dir);
    const std::string script = R"(set -e
cd ")" + g_dir.string() + R"("
gen() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
          -keyout "$1.key" -out "$1.crt" -subj "/CN=$1" 2>/dev/null; }
gen test-ca
gen other-ca
leaf() { # name subject extensions
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" \
    -subj "$2" 2>/dev/null
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA test-ca.crt -CAkey test-ca.key -CAcreateserial -days 2 \
    -out "$1.crt" -extfile "$1.ext" 2>/dev/null
}
leaf server /CN=kube-apiserver "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kube.test
extendedKeyUsage=serverAuth"
leaf client /CN=ephemera-client "extendedKeyUsage=clientAuth"
)";
    const std::string script_path = (g_dir / "make-certs.sh").string();
    std::ofstream(script_path) << script;
    ASSERT_EQ(std::system(("bash " + script_path).c_str()), 0) << "openssl failed";
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(g_dir); }

  static TlsTestServer::Config ServerConfig(bool require_client_certificate = false) {
    return {PathOf("server.crt"), PathOf("server.key"), PathOf("test-ca.crt"),
            require_client_certificate};
  }
  static std::unique_ptr<CpprestTransport> Transport(const std::string& server,
                                                     const std::string& ca_file,
                                                     TokenSource* certificates = nullptr,
                                                     const std::string& tls_server_name = "") {
    auto transport = CpprestTransport::Create({.server = server,
                                               .tls_server_name = tls_server_name,
                                               .certificate_authority_pem = ReadFile(ca_file)},
                                              certificates);
    EXPECT_TRUE(transport.ok()) << transport.status().ToString();
    return transport.ok() ? std::move(*transport) : nullptr;
  }
  static std::string Url(const TlsTestServer& server, const std::string& host = "127.0.0.1") {
    return "https://" + host + ":" + std::to_string(server.Port());
  }
  static HttpRequest Get(const std::string& target) {
    HttpRequest request;
    request.target = target;
    request.timeout = 10s;
    return request;
  }
};

void RespondOk(const ReceivedRequest&, ResponseWriter& writer) {
  writer.Respond(200, R"({"kind":"Status","status":"Success"})");
}

TEST_F(CpprestTransportTest, VerifiesServerAgainstConfiguredCaAndSendsBearerAndClientCert) {
  TlsTestServer server(ServerConfig(), RespondOk);
  StaticTokenSource credentials({.bearer_token = "bearer-123",
                                 .client_certificate_pem = ReadFile("client.crt"),
                                 .client_key_pem = ReadFile("client.key")});
  auto tls = Transport(Url(server), "test-ca.crt", &credentials);
  ASSERT_NE(tls, nullptr);
  BearerAuthTransport auth(*tls, credentials);
  auto response = auth.Send(Get("/api/v1/namespaces/ns/pods/p?x=a%20b"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, R"({"kind":"Status","status":"Success"})");
  EXPECT_EQ(FindHeader(response->headers, "Content-Type"), "application/json");
  const auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/api/v1/namespaces/ns/pods/p?x=a%20b");
  EXPECT_EQ(FindHeader(requests[0].headers, "Authorization"), "Bearer bearer-123");
  EXPECT_EQ(requests[0].client_subject, "/CN=ephemera-client");
}

TEST_F(CpprestTransportTest, WrongCaIsRejected) {
  TlsTestServer server(ServerConfig(), RespondOk);
  auto tls = Transport(Url(server), "other-ca.crt");
  ASSERT_NE(tls, nullptr);
  auto response = tls->Send(Get("/healthz"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(response.status().message().find("handshake"), std::string::npos)
      << response.status().message();
  EXPECT_TRUE(server.Requests().empty());
}

TEST_F(CpprestTransportTest, SystemTrustStoreDoesNotTrustTestCa) {
  TlsTestServer server(ServerConfig(), RespondOk);
  auto transport = CpprestTransport::Create({.server = Url(server)}, nullptr);
  ASSERT_TRUE(transport.ok());
  EXPECT_FALSE((*transport)->Send(Get("/healthz")).ok());
  EXPECT_TRUE(server.Requests().empty());
}

TEST_F(CpprestTransportTest, HostnameIsVerifiedAndTlsServerNameOverridesIt) {
  TlsTestServer server(ServerConfig(), RespondOk);
  // The certificate names 127.0.0.1, localhost and kube.test, not other.test.
  auto wrong = Transport(Url(server), "test-ca.crt", nullptr, "other.test");
  ASSERT_NE(wrong, nullptr);
  EXPECT_FALSE(wrong->Send(Get("/healthz")).ok());
  EXPECT_TRUE(server.Requests().empty());

  auto right = Transport(Url(server), "test-ca.crt", nullptr, "kube.test");
  ASSERT_NE(right, nullptr);
  auto response = right->Send(Get("/healthz"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(server.Requests().size(), 1u);
  EXPECT_EQ(server.Requests()[0].sni, "kube.test");

  auto by_name = Transport(Url(server, "localhost"), "test-ca.crt");
  ASSERT_NE(by_name, nullptr);
  ASSERT_TRUE(by_name->Send(Get("/healthz")).ok());
  EXPECT_EQ(server.Requests().back().sni, "localhost");
}

TEST_F(CpprestTransportTest, ServerRequiringClientCertificate) {
  TlsTestServer server(ServerConfig(/*require_client_certificate=*/true), RespondOk);
  auto anonymous = Transport(Url(server), "test-ca.crt");
  ASSERT_NE(anonymous, nullptr);
  EXPECT_FALSE(anonymous->Send(Get("/healthz")).ok());
  EXPECT_TRUE(server.Requests().empty());

  StaticTokenSource credentials(
      {.client_certificate_pem = ReadFile("client.crt"), .client_key_pem = ReadFile("client.key")});
  auto authenticated = Transport(Url(server), "test-ca.crt", &credentials);
  ASSERT_NE(authenticated, nullptr);
  auto response = authenticated->Send(Get("/healthz"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(server.Requests().size(), 1u);
  EXPECT_EQ(server.Requests()[0].client_subject, "/CN=ephemera-client");
}

TEST_F(CpprestTransportTest, MismatchedClientKeyIsRejectedBeforeConnecting) {
  TlsTestServer server(ServerConfig(), RespondOk);
  StaticTokenSource credentials(
      {.client_certificate_pem = ReadFile("client.crt"), .client_key_pem = ReadFile("server.key")});
  auto tls = Transport(Url(server), "test-ca.crt", &credentials);
  ASSERT_NE(tls, nullptr);
  auto response = tls->Send(Get("/healthz"));
  EXPECT_EQ(response.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(response.status().message().find("does not match"), std::string::npos);
}

TEST_F(CpprestTransportTest, SendsBodyWithExactContentType) {
  TlsTestServer server(ServerConfig(), RespondOk);
  auto tls = Transport(Url(server), "test-ca.crt");
  ASSERT_NE(tls, nullptr);
  HttpRequest request = Get("/apis/ephemera.dev/v1alpha1/namespaces/ns/debugsessions/s/status");
  request.method = "PATCH";
  request.headers.emplace_back("Content-Type", "application/merge-patch+json");
  request.body = R"({"status":{"phase":"Injecting"}})";
  auto response = tls->Send(request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(server.Requests().size(), 1u);
  const ReceivedRequest received = server.Requests()[0];
  EXPECT_EQ(received.method, "PATCH");
  EXPECT_EQ(received.body, request.body);
  EXPECT_EQ(FindHeader(received.headers, "Content-Type"), "application/merge-patch+json");
}

TEST_F(CpprestTransportTest, ErrorStatusIsAResponseNotAFailure) {
  TlsTestServer server(ServerConfig(), [](const ReceivedRequest&, ResponseWriter& writer) {
    writer.Respond(429, R"({"kind":"Status","reason":"TooManyRequests","code":429})",
                   "application/json", {{"Retry-After", "3"}});
  });
  auto tls = Transport(Url(server), "test-ca.crt");
  ASSERT_NE(tls, nullptr);
  auto response = tls->Send(Get("/api"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 429);
  EXPECT_EQ(FindHeader(response->headers, "Retry-After"), "3");
}

TEST_F(CpprestTransportTest, ChunkedBodyIsDeliveredIncrementally) {
  std::promise<void> first_chunk_seen;
  std::atomic<bool> seen_before_second{false};
  TlsTestServer server(ServerConfig(), [&](const ReceivedRequest&, ResponseWriter& writer) {
    writer.StartChunked();
    writer.WriteChunk(R"({"type":"ADDED","object":{"metadata":{"resourceVersion":"1"}}})");
    // Hold the second chunk until the client has seen the first: if the transport buffered the
    // whole body, this wait times out.
    seen_before_second = first_chunk_seen.get_future().wait_for(5s) == std::future_status::ready;
    writer.WriteChunk(R"({"type":"ADDED","object":{"metadata":{"resourceVersion":"2"}}})");
    writer.EndChunked();
  });
  auto tls = Transport(Url(server), "test-ca.crt");
  ASSERT_NE(tls, nullptr);
  std::string received;
  bool signalled = false;
  auto response =
      tls->SendStreaming(Get("/api/v1/pods?watch=1"),
                         [&](std::string_view chunk) {
                           received += chunk;
                           if (!signalled && received.find("\"1\"}}}") != std::string::npos) {
                             signalled = true;
                             first_chunk_seen.set_value();
                           }
                           return true;
                         },
                         {});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(response->body.empty());
  EXPECT_TRUE(seen_before_second);
  EXPECT_NE(received.find("\"resourceVersion\":\"2\""), std::string::npos);
}

TEST_F(CpprestTransportTest, StopTokenCancelsABlockedStream) {
  std::promise<void> release;
  auto released = release.get_future().share();
  TlsTestServer server(ServerConfig(), [released](const ReceivedRequest&, ResponseWriter& writer) {
    writer.StartChunked();
    writer.WriteChunk(R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"1"}}})");
    released.wait_for(10s);  // stays silent: the client must cancel on its own
  });
  auto tls = Transport(Url(server), "test-ca.crt");
  ASSERT_NE(tls, nullptr);
  std::stop_source stop;
  std::jthread stopper;
  const auto start = std::chrono::steady_clock::now();
  auto response = tls->SendStreaming(
      Get("/api/v1/pods?watch=1"),
      [&](std::string_view) {
        stopper = std::jthread([&stop] {
          std::this_thread::sleep_for(100ms);
          stop.request_stop();
        });
        return true;
      },
      stop.get_token());
  const auto elapsed = std::chrono::steady_clock::now() - start;
  release.set_value();
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_LT(elapsed, 5s);
}

TEST_F(CpprestTransportTest, SilentServerTimesOut) {
  std::promise<void> release;
  auto released = release.get_future().share();
  TlsTestServer server(ServerConfig(), [released](const ReceivedRequest&, ResponseWriter&) {
    released.wait_for(10s);
  });
  auto tls = Transport(Url(server), "test-ca.crt");
  ASSERT_NE(tls, nullptr);
  HttpRequest request = Get("/api");
  request.timeout = 300ms;
  auto response = tls->Send(request);
  release.set_value();
  EXPECT_EQ(response.status().code(), StatusCode::kDeadlineExceeded)
      << response.status().ToString();
}

TEST_F(CpprestTransportTest, ConnectionRefusedIsUnavailable) {
  int port = 0;
  {
    TlsTestServer server(ServerConfig(), RespondOk);
    port = server.Port();
  }
  auto tls = Transport("https://127.0.0.1:" + std::to_string(port), "test-ca.crt");
  ASSERT_NE(tls, nullptr);
  auto response = tls->Send(Get("/api"));
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
}

TEST_F(CpprestTransportTest, RejectsPlainHttpAndBadCa) {
  EXPECT_EQ(CpprestTransport::Create({.server = "http://127.0.0.1:80"}, nullptr).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CpprestTransport::Create(
                {.server = "https://127.0.0.1", .certificate_authority_pem = "not pem"}, nullptr)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

// The whole stack from a kubeconfig file, as the controller and the integration tests use it.
TEST_F(CpprestTransportTest, KubeConnectionFromKubeconfigListsAndWatches) {
  TlsTestServer server(ServerConfig(true), [](const ReceivedRequest& request,
                                              ResponseWriter& writer) {
    if (request.target.find("watch=1") != std::string::npos) {
      writer.StartChunked();
      const std::string events =
          R"({"type":"ADDED","object":{"kind":"DebugSession","metadata":{"name":"s1","resourceVersion":"11"}}})"
          "\n"
          R"({"type":"BOOKMARK","object":{"kind":"DebugSession","metadata":{"resourceVersion":"12"}}})"
          "\n";
      // Deliberately cut mid-event across HTTP chunks.
      writer.WriteChunk(events.substr(0, 30));
      writer.WriteChunk(events.substr(30, 70));
      writer.WriteChunk(events.substr(100));
      writer.EndChunked();
      return;
    }
    writer.Respond(200, R"({"kind":"DebugSessionList","apiVersion":"ephemera.dev/v1alpha1",
        "metadata":{"resourceVersion":"10"},"items":[{"metadata":{"name":"s1"}}]})");
  });
  const std::string kubeconfig = PathOf("kubeconfig");
  std::ofstream(kubeconfig) << "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
                               "clusters:\n- name: test\n  cluster:\n    server: "
                            << Url(server)
                            << "\n    certificate-authority: test-ca.crt\n"
                               "contexts:\n- name: test\n  context: {cluster: test, user: me, "
                               "namespace: shop}\n"
                               "users:\n- name: me\n  user:\n    client-certificate: client.crt\n"
                               "    client-key: client.key\n    token: kubeconfig-token\n";
  auto config = KubeConfig::FromFile(kubeconfig);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  base::SystemClock clock;
  auto connection = KubeConnection::Open(*config, clock);
  ASSERT_TRUE(connection.ok()) << connection.status().ToString();
  KubeClient& client = (*connection)->Client();
  EXPECT_EQ((*connection)->NamespaceName(), "shop");

  auto list = client.List(DebugSessionsResource(), "shop");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->items.size(), 1u);
  EXPECT_EQ(list->items[0]["kind"], "DebugSession");

  std::vector<WatchEvent> events;
  const WatchResult watch = client.Watch(
      DebugSessionsResource(), "shop", {.resource_version = list->resource_version, .timeout = 60s},
      [&](const WatchEvent& e) { events.push_back(e); }, {});
  EXPECT_EQ(watch.end, WatchEnd::kClosed) << watch.error.ToString();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].object["metadata"]["name"], "s1");
  EXPECT_EQ(watch.resource_version, "12");

  const auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].target,
            "/apis/ephemera.dev/v1alpha1/namespaces/shop/debugsessions?watch=1&resourceVersion=10"
            "&allowWatchBookmarks=true&timeoutSeconds=60");
  for (const auto& request : requests) {
    EXPECT_EQ(FindHeader(request.headers, "Authorization"), "Bearer kubeconfig-token");
    EXPECT_EQ(request.client_subject, "/CN=ephemera-client");
  }
}

}  // namespace
}  // namespace ephemera::kube
