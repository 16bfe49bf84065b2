#include "kube/transport/cpprest_transport.h"

#include <cpprest/http_client.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pplx/pplxtasks.h>

#include <algorithm>
#include <stop_token>
#include <system_error>
#include <vector>

namespace ephemera::kube {

namespace http = web::http;

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

struct CpprestTransport::TlsMaterial {
  std::vector<X509Ptr> authorities;   // empty: system trust store
  std::vector<X509Ptr> client_chain;  // leaf first
  PkeyPtr client_key;
};

namespace {

StatusOr<std::vector<X509Ptr>> ParseCertificates(const std::string& pem, const char* what) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  std::vector<X509Ptr> certs;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert);
  }
  ERR_clear_error();  // the loop ends on a "no start line" error
  if (certs.empty()) return InvalidArgumentError(std::string(what) + " holds no PEM certificate");
  return certs;
}

StatusOr<PkeyPtr> ParseKey(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();  // OpenSSL's text could echo nothing secret, but keep it short
    return InvalidArgumentError("client key is not a PEM private key");
  }
  return key;
}

// Runs inside cpprestsdk for every new connection; must not throw. Failures here surface as a
// failed handshake.
void ConfigureContext(const CpprestTransport::TlsMaterial& material, SSL_CTX* ctx) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (!material.authorities.empty()) {
    X509_STORE* store = X509_STORE_new();
    for (const auto& cert : material.authorities) X509_STORE_add_cert(store, cert.get());
    SSL_CTX_set_cert_store(ctx, store);  // takes ownership; drops the system store
  }
  if (!material.client_chain.empty() && material.client_key) {
    SSL_CTX_use_certificate(ctx, material.client_chain.front().get());
    for (std::size_t i = 1; i < material.client_chain.size(); ++i) {
      SSL_CTX_add1_chain_cert(ctx, material.client_chain[i].get());
    }
    SSL_CTX_use_PrivateKey(ctx, material.client_key.get());
  }
  ERR_clear_error();
}

Status StatusFromException(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const http::http_exception& e) {
    if (e.error_code() == std::errc::timed_out) {
      return DeadlineExceededError(std::string("request timed out: ") + e.what());
    }
    return UnavailableError(e.what());
  } catch (const pplx::task_canceled&) {
    return UnavailableError("request cancelled");
  } catch (const std::exception& e) {
    return UnavailableError(e.what());
  } catch (...) {
    return UnavailableError("unknown error in the HTTP client");
  }
}

HttpHeaders CopyHeaders(const http::http_headers& headers) {
  HttpHeaders out;
  for (const auto& [name, value] : headers) out.emplace_back(name, value);
  return out;
}

bool IsSuccess(int status) { return status >= 200 && status < 300; }

}  // namespace

StatusOr<std::unique_ptr<CpprestTransport>> CpprestTransport::Create(
    CpprestTransportOptions options, TokenSource* client_certificates) {
  if (options.server.rfind("https://", 0) != 0) {
    return InvalidArgumentError("server \"" + options.server + "\" is not an https:// URL");
  }
  try {
    web::uri parsed(options.server);
    if (parsed.host().empty()) return InvalidArgumentError("server URL has no host");
  } catch (const std::exception& e) {
    return InvalidArgumentError("server URL \"" + options.server + "\": " + e.what());
  }
  auto material = std::make_shared<TlsMaterial>();
  if (!options.certificate_authority_pem.empty()) {
    auto authorities =
        ParseCertificates(options.certificate_authority_pem, "certificate authority");
    if (!authorities.ok()) return authorities.status();
    material->authorities = std::move(*authorities);
  }
  return std::unique_ptr<CpprestTransport>(
      new CpprestTransport(std::move(options), client_certificates, std::move(material)));
}

CpprestTransport::CpprestTransport(CpprestTransportOptions options,
                                   TokenSource* client_certificates,
                                   std::shared_ptr<const TlsMaterial> ca_only)
    : options_(std::move(options)),
      client_certificates_(client_certificates),
      ca_only_(std::move(ca_only)),
      material_(ca_only_) {}

CpprestTransport::~CpprestTransport() = default;

StatusOr<std::shared_ptr<http::client::http_client>> CpprestTransport::ClientFor(
    std::chrono::milliseconds timeout, bool cache) {
  ClientCredentials credentials;
  if (client_certificates_ != nullptr) {
    auto current = client_certificates_->Credentials();
    if (!current.ok()) return current.status();
    credentials = std::move(*current);
  }
  base::MutexLock lock(mu_);
  if (credentials.client_certificate_pem != current_certificate_) {
    auto material = std::make_shared<TlsMaterial>();
    for (const auto& cert : ca_only_->authorities) {
      X509_up_ref(cert.get());
      material->authorities.emplace_back(cert.get());
    }
    if (!credentials.client_certificate_pem.empty()) {
      auto chain = ParseCertificates(credentials.client_certificate_pem, "client certificate");
      if (!chain.ok()) return chain.status();
      auto key = ParseKey(credentials.client_key_pem);
      if (!key.ok()) return key.status();
      if (X509_check_private_key(chain->front().get(), key->get()) != 1) {
        ERR_clear_error();
        return InvalidArgumentError("client key does not match the client certificate");
      }
      material->client_chain = std::move(*chain);
      material->client_key = std::move(*key);
    }
    material_ = std::move(material);
    current_certificate_ = credentials.client_certificate_pem;
    clients_.clear();  // requests in flight keep their own client alive
  }
  if (cache) {
    if (auto it = clients_.find(timeout); it != clients_.end()) return it->second;
  }
  std::shared_ptr<http::client::http_client> client;
  try {
    http::client::http_client_config config;
    config.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
    config.set_validate_certificates(true);
    if (!options_.proxy_url.empty()) config.set_proxy(web::web_proxy(web::uri(options_.proxy_url)));
    std::shared_ptr<const TlsMaterial> material = material_;
    config.set_ssl_context_callback([material](boost::asio::ssl::context& context) {
      ConfigureContext(*material, context.native_handle());
    });
    client = std::make_shared<http::client::http_client>(web::uri(options_.server), config);
  } catch (const std::exception& e) {
    return UnavailableError(std::string("creating HTTP client: ") + e.what());
  }
  if (cache) clients_[timeout] = client;
  return client;
}

namespace {

StatusOr<http::http_request> BuildRequest(const HttpRequest& request,
                                          const std::string& tls_server_name) {
  try {
    http::http_request out(request.method);
    out.set_request_uri(web::uri(request.target));
    std::string content_type = "application/json";
    for (const auto& [name, value] : request.headers) {
      if (FindHeader({{name, value}}, "Content-Type")) {
        content_type = value;
      } else {
        out.headers().add(name, value);
      }
    }
    if (!tls_server_name.empty()) out.headers().add("Host", tls_server_name);
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
        request.method == "PATCH") {
      // The byte-vector overload: the std::string one type-puns a char buffer as bytes inside
      // cpprestsdk (UBSan flags it).
      out.set_body(std::vector<unsigned char>(request.body.begin(), request.body.end()));
      out.headers().set_content_type(content_type);
    }
    return out;
  } catch (const std::exception& e) {
    return InvalidArgumentError("malformed request " + request.method + " " + request.target +
                                ": " + e.what());
  }
}

}  // namespace

StatusOr<HttpResponse> CpprestTransport::Send(const HttpRequest& request) {
  auto client = ClientFor(request.timeout, /*cache=*/true);
  if (!client.ok()) return client.status();
  auto built = BuildRequest(request, options_.tls_server_name);
  if (!built.ok()) return built.status();
  try {
    http::http_response response = (*client)->request(*built).get();
    HttpResponse out;
    out.status = response.status_code();
    out.headers = CopyHeaders(response.headers());
    const std::vector<unsigned char> body = response.extract_vector().get();
    if (body.size() > options_.max_response_bytes) {
      return ResourceExhaustedError("response to " + request.method + " " + request.target +
                                    " is larger than " +
                                    std::to_string(options_.max_response_bytes) + " bytes");
    }
    out.body.assign(body.begin(), body.end());
    return out;
  } catch (...) {
    return StatusFromException(std::current_exception());
  }
}

StatusOr<HttpResponse> CpprestTransport::SendStreaming(const HttpRequest& request,
                                                       const BodyChunkHandler& on_chunk,
                                                       std::stop_token stop) {
  // Streams get a client (and connection) of their own: watches are long-lived and their
  // jittered timeouts would otherwise fill the cache with one client per value.
  auto client = ClientFor(request.timeout, /*cache=*/false);
  if (!client.ok()) return client.status();
  auto built = BuildRequest(request, options_.tls_server_name);
  if (!built.ok()) return built.status();
  pplx::cancellation_token_source cancel;
  std::stop_callback on_stop(stop, [&cancel] { cancel.cancel(); });
  bool stopped_by_handler = false;
  HttpResponse out;
  try {
    http::http_response response = (*client)->request(*built, cancel.get_token()).get();
    out.status = response.status_code();
    out.headers = CopyHeaders(response.headers());
    if (!IsSuccess(out.status)) {
      const std::vector<unsigned char> body = response.extract_vector().get();
      out.body.assign(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                       body.size(), options_.max_response_bytes)));
      return out;
    }
    // The default response body is a producer/consumer buffer that the client fills chunk by
    // chunk: wait for at least one byte, then take whatever else is already there.
    auto buffer = response.body().streambuf();
    std::vector<unsigned char> chunk(std::size_t{64} * 1024);
    while (!stop.stop_requested()) {
      std::size_t got = buffer.getn(chunk.data(), 1).get();
      if (got == 0) break;  // end of body
      const std::size_t ready = std::min(buffer.in_avail(), chunk.size() - 1);
      if (ready > 0) got += buffer.getn(chunk.data() + 1, ready).get();
      if (!on_chunk(std::string_view(reinterpret_cast<const char*>(chunk.data()), got))) {
        stopped_by_handler = true;
        cancel.cancel();
        break;
      }
    }
    return out;
  } catch (...) {
    if (stopped_by_handler || stop.stop_requested()) return out;
    return StatusFromException(std::current_exception());
  }
}

}  // namespace ephemera::kube
