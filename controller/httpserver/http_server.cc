#include "controller/httpserver/http_server.h"

#include <arpa/inet.h>
#include <cpprest/http_listener.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/ssl.hpp>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

namespace ephemera::httpserver {
namespace {

namespace http = web::http;
namespace listener = web::http::experimental::listener;
namespace ssl = boost::asio::ssl;

// What identifies one version of a file: a rewrite changes mtime or size, a rename-swap (as
// kubelet does for Secret volumes) changes the inode.
struct FileStamp {
  std::int64_t mtime_ns = 0;
  std::int64_t size = 0;
  std::uint64_t inode = 0;
  std::uint64_t device = 0;
  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

StatusOr<FileStamp> StampOf(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return FailedPreconditionError("cannot stat " + path + ": " + std::strerror(errno));
  }
  return FileStamp{
      .mtime_ns =
          static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec,
      .size = static_cast<std::int64_t>(info.st_size),
      .inode = static_cast<std::uint64_t>(info.st_ino),
      .device = static_cast<std::uint64_t>(info.st_dev),
  };
}

StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return FailedPreconditionError("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

void ApplyTlsPolicy(ssl::context& context) {
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                      ssl::context::single_dh_use);
}

// Loads the pair into `context`; kFailedPrecondition when it does not parse or does not match.
Status LoadPair(ssl::context& context, const std::string& cert_pem, const std::string& key_pem) {
  try {
    context.use_certificate_chain(boost::asio::buffer(cert_pem));
    context.use_private_key(boost::asio::buffer(key_pem), ssl::context::pem);
  } catch (const std::exception& e) {
    return FailedPreconditionError(std::string("invalid TLS certificate or key: ") + e.what());
  }
  if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
    return FailedPreconditionError("TLS private key does not match the certificate");
  }
  return OkStatus();
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// A port that is free on `host` right now (the kernel's choice for port 0).
StatusOr<int> FindFreePort(const std::string& host) {
  const bool v6 = host.find(':') != std::string::npos;
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return UnavailableError(std::string("socket: ") + std::strerror(errno));
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (v6) {
    auto* address = reinterpret_cast<sockaddr_in6*>(&storage);
    address->sin6_family = AF_INET6;
    if (::inet_pton(AF_INET6, host.c_str(), &address->sin6_addr) != 1) {
      ::close(fd);
      return InvalidArgumentError("not an IPv6 address: " + host);
    }
    length = sizeof(sockaddr_in6);
  } else {
    auto* address = reinterpret_cast<sockaddr_in*>(&storage);
    address->sin_family = AF_INET;
    if (::inet_pton(AF_INET, host.c_str(), &address->sin_addr) != 1) {
      ::close(fd);
      return InvalidArgumentError("port 0 needs a numeric IP host, not \"" + host + "\"");
    }
    length = sizeof(sockaddr_in);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    const std::string error = std::strerror(errno);
    ::close(fd);
    return UnavailableError("cannot find a free port on " + host + ": " + error);
  }
  ::close(fd);
  return ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port
                  : reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
}

// Joins `parts` (one allocation; for messages built inside loops).
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view part : parts) out += part;
  return out;
}

HttpResponse TextResponse(int status, std::string body) {
  return HttpResponse{
      .status = status, .content_type = "text/plain; charset=utf-8", .body = std::move(body)};
}

}  // namespace

// The current certificate pair, reloaded when the files change. Thread safe; file reads happen
// outside the mutex.
class HttpServer::CertificateStore {
 public:
  explicit CertificateStore(TlsFiles files) : files_(std::move(files)) {}

  // The first load must succeed: a server without a usable certificate should not start.
  Status LoadInitial() { return Reload(/*required=*/true); }

  // Called by cpprestsdk for every new connection with that connection's fresh context.
  void Configure(ssl::context& context) {
    Reload(/*required=*/false).ok();  // a failed reload keeps the previous pair
    std::string cert, key;
    {
      std::lock_guard lock(mu_);
      cert = cert_pem_;
      key = key_pem_;
    }
    ApplyTlsPolicy(context);
    LoadPair(context, cert, key).ok();  // validated when loaded; a failure fails the handshake
  }

  std::uint64_t Loads() {
    std::lock_guard lock(mu_);
    return loads_;
  }

 private:
  Status Reload(bool required) {
    auto cert_stamp = StampOf(files_.cert_file);
    auto key_stamp = StampOf(files_.key_file);
    if (!cert_stamp.ok()) return cert_stamp.status();
    if (!key_stamp.ok()) return key_stamp.status();
    {
      std::lock_guard lock(mu_);
      if (!required && *cert_stamp == tried_cert_ && *key_stamp == tried_key_) return OkStatus();
      // Remember what was tried so a bad pair is not re-read on every connection.
      tried_cert_ = *cert_stamp;
      tried_key_ = *key_stamp;
    }
    auto cert = ReadWholeFile(files_.cert_file);
    auto key = ReadWholeFile(files_.key_file);
    if (!cert.ok()) return cert.status();
    if (!key.ok()) return key.status();
    ssl::context probe(ssl::context::tls_server);
    EPHEMERA_RETURN_IF_ERROR(
        LoadPair(probe, *cert, *key)
            .WithContext("loading " + files_.cert_file + " and " + files_.key_file));
    std::lock_guard lock(mu_);
    cert_pem_ = std::move(*cert);
    key_pem_ = std::move(*key);
    ++loads_;
    return OkStatus();
  }

  const TlsFiles files_;
  std::mutex mu_;
  FileStamp tried_cert_;
  FileStamp tried_key_;
  std::string cert_pem_;
  std::string key_pem_;
  std::uint64_t loads_ = 0;
};

class HttpServer::Listener {
 public:
  std::unique_ptr<listener::http_listener> http_listener;
};

HttpServer::HttpServer(HttpServerOptions options) : options_(std::move(options)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(std::string path, HttpHandler handler) {
  routes_[std::move(path)] = std::move(handler);
}

std::uint64_t HttpServer::CertificateLoads() const {
  return certificates_ ? certificates_->Loads() : 0;
}

Status HttpServer::Start() {
  if (listener_) return FailedPreconditionError("HttpServer already started");
  auto bind = ParseBindAddress(options_.address);
  if (!bind.ok()) return bind.status();
  if (options_.tls) {
    certificates_ = std::make_shared<CertificateStore>(*options_.tls);
    EPHEMERA_RETURN_IF_ERROR(certificates_->LoadInitial());
  }

  const std::string scheme = options_.tls ? "https" : "http";
  const std::string host =
      bind->host.find(':') != std::string::npos ? "[" + bind->host + "]" : bind->host;
  const int attempts = bind->port == 0 ? 5 : 1;
  Status last_error = OkStatus();
  for (int attempt = 0; attempt < attempts; ++attempt) {
    int port = bind->port;
    if (port == 0) {
      auto free_port = FindFreePort(bind->host);
      if (!free_port.ok()) return free_port.status();
      port = *free_port;
    }
    listener::http_listener_config config;
    config.set_timeout(std::chrono::seconds(30));
    if (certificates_) {
      std::shared_ptr<CertificateStore> store = certificates_;
      config.set_ssl_context_callback([store](ssl::context& context) {
        try {
          store->Configure(context);
        } catch (...) {
          // Never let an exception into cpprestsdk's accept path; the handshake fails instead.
        }
      });
    }
    const std::string url = Cat({scheme, "://", host, ":", std::to_string(port)});
    auto listener = std::make_unique<Listener>();
    try {
      listener->http_listener = std::make_unique<listener::http_listener>(http::uri(url), config);
      listener->http_listener->support([this](http::http_request request) {
        const std::size_t limit = options_.max_body_bytes;
        HttpResponse response;
        try {
          HttpRequest converted;
          converted.method = request.method();
          const http::uri relative = request.relative_uri();
          converted.path = relative.path();
          converted.query = relative.query();
          for (const auto& [name, value] : request.headers()) {
            converted.headers[Lower(name)] = value;
          }
          if (request.headers().content_length() > limit) {
            response = TextResponse(413, "request body too large\n");
          } else {
            std::vector<unsigned char> body = request.extract_vector().get();
            if (body.size() > limit) {
              response = TextResponse(413, "request body too large\n");
            } else {
              converted.body.assign(body.begin(), body.end());
              response = RouteRequest(routes_, converted);
            }
          }
        } catch (...) {
          response = TextResponse(500, "internal error\n");
        }
        http::http_response reply(static_cast<http::status_code>(response.status));
        reply.set_body(std::vector<unsigned char>(response.body.begin(), response.body.end()));
        reply.headers().set_content_type(response.content_type);
        // pplx picks a task-based continuation by this exact by-value parameter type.
        request.reply(reply).then(
            [](pplx::task<void> sent) {  // NOLINT(performance-unnecessary-value-param)
              try {
                sent.get();
              } catch (...) {
                // The client went away; nothing to do.
              }
            });
      });
      listener->http_listener->open().wait();
    } catch (const std::exception& e) {
      last_error = UnavailableError(Cat({"cannot listen on ", url, ": ", e.what()}));
      continue;
    }
    listener_ = std::move(listener);
    port_ = port;
    return OkStatus();
  }
  return last_error;
}

void HttpServer::Stop() {
  if (!listener_) return;
  try {
    listener_->http_listener->close().wait();
  } catch (...) {
    // Closing a listener whose socket already failed: it is closed either way.
  }
  listener_.reset();
}

}  // namespace ephemera::httpserver
