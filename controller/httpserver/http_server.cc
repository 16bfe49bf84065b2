#include "controller/httpserver/http_server.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <type_traits>
#include <vector>

#include "base/mutex.h"

namespace ephemera::httpserver {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

// Beast reads into the connection's buffer in steps of up to this much.
constexpr std::size_t kReadStepBytes = 64 << 10;
// Lingering close after an error answer (Connection::Linger): how long, and how many bytes the
// client may still send, before the connection is closed anyway.
constexpr std::chrono::milliseconds kLingerTime{2000};
constexpr std::size_t kLingerMaxBytes = 8 << 20;

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

// Loads the pair into `context`; kFailedPrecondition when it does not parse or does not match.
Status LoadPair(ssl::context& context, const std::string& cert_pem, const std::string& key_pem) {
  ErrorCode error;
  context.use_certificate_chain(asio::buffer(cert_pem), error);
  if (!error) context.use_private_key(asio::buffer(key_pem), ssl::context::pem, error);
  if (error) {
    return FailedPreconditionError("invalid TLS certificate or key: " + error.message());
  }
  if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
    ERR_clear_error();
    return FailedPreconditionError("TLS private key does not match the certificate");
  }
  return OkStatus();
}

// Trusts every certificate in `ca_pem` for client certificates and announces their subjects as
// acceptable issuers (clients such as Go's pick their certificate by that list).
Status LoadClientCas(SSL_CTX* context, const std::string& ca_pem) {
  BIO* bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  if (bio == nullptr) return InternalError("BIO_new_mem_buf failed");
  int count = 0;
  Status status = OkStatus();
  while (X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(SSL_CTX_get_cert_store(context), ca) != 1 ||
        SSL_CTX_add_client_CA(context, ca) != 1) {
      status = FailedPreconditionError("cannot use a certificate of the client CA bundle");
    }
    X509_free(ca);
    ++count;
  }
  ERR_clear_error();  // the read that ends the loop leaves "no start line"
  BIO_free(bio);
  if (status.ok() && count == 0) {
    return FailedPreconditionError("the client CA bundle holds no PEM certificate");
  }
  return status;
}

struct TlsMaterial {
  std::string cert_pem;
  std::string key_pem;
  std::string client_ca_pem;  // "" when client certificates are not asked for
};

// A server context for one version of the files: TLS >= 1.2, no session resumption (a rotated
// pair or CA bundle then applies to every new connection), client certificates per `mode`.
StatusOr<std::shared_ptr<ssl::context>> BuildContext(const TlsMaterial& material,
                                                     ClientCertMode mode) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  EPHEMERA_RETURN_IF_ERROR(LoadPair(*context, material.cert_pem, material.key_pem));
  if (mode != ClientCertMode::kNone) {
    EPHEMERA_RETURN_IF_ERROR(LoadClientCas(native, material.client_ca_pem));
    const int verify = mode == ClientCertMode::kRequire
                           ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                           : SSL_VERIFY_PEER;
    SSL_CTX_set_verify(native, verify, nullptr);
  }
  return context;
}

// The subject CN of `certificate` in UTF-8, or "".
std::string CommonNameOf(X509* certificate) {
  X509_NAME* subject = X509_get_subject_name(certificate);
  const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return "";
  std::string name(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return name;
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

HttpResponse TextResponse(int status, std::string body) {
  return HttpResponse{
      .status = status, .content_type = "text/plain; charset=utf-8", .body = std::move(body)};
}

// Enough for one maximal request: a chunked body's string can reach twice the body limit while it
// grows, and the read buffer a header plus a few read steps.
std::size_t MinimumBudget(const HttpServerOptions& options) {
  return 2 * options.max_body_bytes + options.max_header_bytes + 4 * kReadStepBytes;
}

bool IsParseError(const ErrorCode& error) {
  return error.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
         error != bhttp::error::end_of_stream && error != bhttp::error::partial_message;
}

}  // namespace

namespace {

// The current TLS configuration, rebuilt when the files change. Thread safe; file reads happen
// outside the mutex.
class TlsContextStore {
 public:
  TlsContextStore(TlsFiles files, ClientCertMode mode, std::string client_ca_file)
      : files_(std::move(files)), mode_(mode), client_ca_file_(std::move(client_ca_file)) {}

  // The first load must succeed: a server without a usable certificate should not start.
  Status LoadInitial() { return Reload(/*required=*/true); }

  // The context for a new connection, after reloading changed files (a failed reload keeps the
  // previous context). Not null after LoadInitial succeeded.
  std::shared_ptr<ssl::context> Current() {
    (void)Reload(/*required=*/false);
    base::MutexLock lock(mu_);
    return context_;
  }

  std::uint64_t Loads() {
    base::MutexLock lock(mu_);
    return loads_;
  }

 private:
  Status Reload(bool required) {
    std::vector<std::string> paths = {files_.cert_file, files_.key_file};
    if (mode_ != ClientCertMode::kNone) paths.push_back(client_ca_file_);
    std::vector<FileStamp> stamps;
    for (const std::string& path : paths) {
      auto stamp = StampOf(path);
      if (!stamp.ok()) return stamp.status();
      stamps.push_back(*stamp);
    }
    {
      base::MutexLock lock(mu_);
      if (!required && stamps == tried_) return OkStatus();
      // Remember what was tried so a bad version is not re-read on every connection.
      tried_ = stamps;
    }
    std::vector<std::string> contents;
    for (const std::string& path : paths) {
      auto content = ReadWholeFile(path);
      if (!content.ok()) return content.status();
      contents.push_back(std::move(*content));
    }
    TlsMaterial material{
        .cert_pem = std::move(contents[0]),
        .key_pem = std::move(contents[1]),
        .client_ca_pem = contents.size() > 2 ? std::move(contents[2]) : std::string(),
    };
    auto context = BuildContext(material, mode_);
    if (!context.ok()) {
      std::string what = "loading " + files_.cert_file + " and " + files_.key_file;
      if (mode_ != ClientCertMode::kNone) what += " with client CA " + client_ca_file_;
      return context.status().WithContext(what);
    }
    base::MutexLock lock(mu_);
    context_ = std::move(*context);
    ++loads_;
    return OkStatus();
  }

  const TlsFiles files_;
  const ClientCertMode mode_;
  const std::string client_ca_file_;
  base::Mutex mu_;
  std::vector<FileStamp> tried_ EPHEMERA_GUARDED_BY(mu_);
  std::shared_ptr<ssl::context> context_ EPHEMERA_GUARDED_BY(mu_);
  std::uint64_t loads_ EPHEMERA_GUARDED_BY(mu_) = 0;
};

// One accepted connection, as the server sees it for the connection cap and the buffer budget.
// I/O thread only (or the stopping thread once the I/O thread has been joined).
class Connection {
 public:
  enum class Phase {
    kHandshake,  // TLS handshake
    kIdle,       // keep-alive, waiting for the first byte of the next request
    kReading,    // reading a request
    kBusy,       // request in a handler, or response being written
    kClosed,
  };
  virtual ~Connection() = default;

  Phase CurrentPhase() const { return phase_; }
  SteadyClock::time_point PhaseSince() const { return phase_since_; }
  std::size_t ChargedBytes() const { return charged_; }
  bool IsEvictable() const {
    return phase_ == Phase::kHandshake || phase_ == Phase::kIdle || phase_ == Phase::kReading;
  }

  virtual void Start() = 0;
  // Closes the socket at once; pending operations finish with errors and release the connection.
  virtual void Close() = 0;

 protected:
  void SetPhase(Phase phase) {
    phase_ = phase;
    phase_since_ = SteadyClock::now();
  }

  Phase phase_ = Phase::kHandshake;
  SteadyClock::time_point phase_since_ = SteadyClock::now();
  std::size_t charged_ = 0;  // bytes counted against the server's buffer budget
};

// The acceptor, the I/O thread, the handler pool, the live connections and the buffer budget.
class Server {
 public:
  Server(const HttpServerOptions& options, const Routes& routes,
         std::shared_ptr<TlsContextStore> certificates);

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server() { Stop(); }

  Status Listen(const BindAddress& bind);
  int Port() const { return port_; }
  void Run();
  void Stop();

  const HttpServerOptions& Options() const { return options_; }
  const Routes& HandlerRoutes() const { return routes_; }
  asio::io_context& Io() { return io_; }
  asio::thread_pool& HandlerPool() { return pool_; }
  bool IsStopping() const { return stopping_.load(); }

  // Changes `connection`'s charge by `delta` (may be negative). A growth that takes the total
  // over the budget first closes the connections that have been reading longest while holding
  // more than the free allowance; false (and no change) if that is not enough.
  bool Charge(Connection& connection, std::size_t& charged, std::size_t new_charge);

 private:
  void Accept();
  void OnAccept(const ErrorCode& error, tcp::socket socket);
  // Frees a slot under max_connections, evicting if needed; false when every connection is busy.
  bool MakeRoom();

  const HttpServerOptions options_;
  const Routes& routes_;
  const std::shared_ptr<TlsContextStore> certificates_;
  const std::size_t budget_;
  const std::size_t free_allowance_;
  std::size_t buffered_ = 0;
  std::vector<std::weak_ptr<Connection>> connections_;
  std::atomic<bool> stopping_{false};
  bool stopped_ = false;
  int port_ = 0;
  // Declared after the state above: destroying the io_context destroys queued handlers, and with
  // them connections, which still uncharge the budget.
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::thread_pool pool_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_retry_;
  std::thread io_thread_;
};

template <bool kTls>
class Session : public Connection, public std::enable_shared_from_this<Session<kTls>> {
 public:
  using Stream = std::conditional_t<kTls, ssl::stream<tcp::socket>, tcp::socket>;

  Session(Server& server, tcp::socket socket, std::shared_ptr<ssl::context> context) requires kTls
      : server_(server),
        context_(std::move(context)),
        stream_(std::move(socket), *context_),
        timer_(server.Io()) {}
  Session(Server& server, tcp::socket socket) requires(!kTls)
      : server_(server), stream_(std::move(socket)), timer_(server.Io()) {}

  ~Session() override {
    std::size_t charged = charged_;
    (void)server_.Charge(*this, charged, 0);
  }

  void Start() override {
    if constexpr (kTls) {
      SetPhase(Phase::kHandshake);
      Arm(server_.Options().handshake_timeout, Deadline::kHandshake);
      stream_.async_handshake(
          ssl::stream_base::server,
          [self = this->shared_from_this()](const ErrorCode& error) { self->OnHandshake(error); });
    } else {
      StartRequest(/*first=*/true);
    }
  }

  void Close() override {
    if (phase_ == Phase::kClosed) return;
    SetPhase(Phase::kClosed);
    Disarm();
    ErrorCode ignored;
    Socket().shutdown(tcp::socket::shutdown_both, ignored);
    Socket().close(ignored);
    parser_.reset();
    buffer_ = beast::flat_buffer();
    (void)server_.Charge(*this, charged_, 0);
  }

 private:
  enum class Deadline { kNone, kHandshake, kIdle, kRequest, kWrite, kLinger };

  tcp::socket& Socket() {
    if constexpr (kTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }

  void Arm(std::chrono::milliseconds after, Deadline deadline) {
    deadline_ = deadline;
    timer_.expires_after(after);
    timer_.async_wait([self = this->shared_from_this(), generation = ++generation_](
                          const ErrorCode& error) { self->OnDeadline(generation, error); });
  }

  void Disarm() {
    deadline_ = Deadline::kNone;
    ++generation_;
    timer_.cancel();
  }

  void OnDeadline(std::uint64_t generation, const ErrorCode& error) {
    if (error || generation != generation_ || phase_ == Phase::kClosed) return;
    if (deadline_ == Deadline::kRequest && ReceivedSome()) {
      // Slow request: stop the read and answer 408 (see OnRead).
      timed_out_ = true;
      ErrorCode ignored;
      Socket().cancel(ignored);
      return;
    }
    Close();  // handshake, idle, a request that never started, or a write that stalled
  }

  void OnHandshake(const ErrorCode& error) {
    if (phase_ == Phase::kClosed) return;
    if (error) {
      Close();
      return;
    }
    if constexpr (kTls) {
      SSL* ssl = stream_.native_handle();
      X509* peer = SSL_get0_peer_certificate(ssl);
      if (server_.Options().client_cert_mode != ClientCertMode::kNone && peer != nullptr &&
          SSL_get_verify_result(ssl) == X509_V_OK) {
        client_verified_ = true;
        client_common_name_ = CommonNameOf(peer);
      }
    }
    StartRequest(/*first=*/true);
  }

  bool ReceivedSome() const { return buffer_.size() > 0 || (parser_ && parser_->got_some()); }

  // Reads the next request. The first request of a connection must arrive within request_timeout
  // of the accept (or handshake); later ones may wait idle_timeout for their first byte.
  void StartRequest(bool first) {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(server_.Options().max_header_bytes, UINT32_MAX)));
    parser_->body_limit(static_cast<std::uint64_t>(server_.Options().max_body_bytes));
    timed_out_ = false;
    if (first || ReceivedSome()) {
      SetPhase(Phase::kReading);
      Arm(server_.Options().request_timeout, Deadline::kRequest);
    } else {
      SetPhase(Phase::kIdle);
      Arm(server_.Options().idle_timeout, Deadline::kIdle);
    }
    ReadSome();
  }

  void ReadSome() {
    bhttp::async_read_some(stream_, buffer_, *parser_,
                           [self = this->shared_from_this()](const ErrorCode& error, std::size_t) {
                             self->OnRead(error);
                           });
  }

  void OnRead(const ErrorCode& error) {
    if (phase_ == Phase::kClosed) return;
    if (phase_ == Phase::kIdle && ReceivedSome()) {
      SetPhase(Phase::kReading);
      Arm(server_.Options().request_timeout, Deadline::kRequest);
    }
    if (timed_out_) {
      Fail(TextResponse(408, "request not received in time\n"));
      return;
    }
    if (error == bhttp::error::header_limit || error == bhttp::error::buffer_overflow) {
      Fail(TextResponse(431, "request header too large\n"));
      return;
    }
    if (error == bhttp::error::body_limit) {
      Fail(TextResponse(413, "request body too large\n"));
      return;
    }
    if (IsParseError(error)) {
      Fail(TextResponse(400, "malformed HTTP request\n"));
      return;
    }
    if (error) {
      Close();  // the client went away (end of stream, reset, TLS error)
      return;
    }
    if (!UpdateCharge()) {
      Fail(TextResponse(503, "server busy: too many request bytes in flight\n"));
      return;
    }
    if (!parser_->is_done()) {
      ReadSome();
      return;
    }
    Dispatch();
  }

  // Bytes this connection holds for requests: the read buffer and the body being read.
  bool UpdateCharge() {
    std::size_t bytes = buffer_.capacity();
    if (parser_) bytes += parser_->get().body().capacity();
    return server_.Charge(*this, charged_, bytes);
  }

  void Dispatch() {
    Disarm();
    SetPhase(Phase::kBusy);
    bhttp::request<bhttp::string_body> message = parser_->release();
    parser_.reset();
    keep_alive_ = message.keep_alive();
    version_ = message.version();
    HttpRequest request;
    request.method = std::string(message.method_string().data(), message.method_string().size());
    const std::string target(message.target().data(), message.target().size());
    const std::size_t question = target.find('?');
    request.path = target.substr(0, question);
    if (question != std::string::npos) request.query = target.substr(question + 1);
    for (const auto& field : message) {
      std::string& value =
          request
              .headers[Lower(std::string(field.name_string().data(), field.name_string().size()))];
      if (!value.empty()) value += ", ";
      value.append(field.value().data(), field.value().size());
    }
    request.body = std::move(message.body());
    request.client_verified = client_verified_;
    request.client_common_name = client_common_name_;
    asio::post(server_.HandlerPool(), [self = this->shared_from_this(),
                                       request = std::move(request)]() mutable {
      HttpResponse response;
      if (self->server_.IsStopping()) {
        response = TextResponse(503, "server stopping\n");
      } else {
        try {
          response = RouteRequest(self->server_.HandlerRoutes(), request);
        } catch (...) {
          response = TextResponse(500, "internal error\n");
        }
      }
      request = HttpRequest();
      // The last reference moves to the I/O thread: a connection is never destroyed here.
      Server& server = self->server_;
      asio::post(server.Io(), [self = std::move(self), response = std::move(response)]() mutable {
        self->Respond(std::move(response), self->keep_alive_);
      });
    });
  }

  void Fail(HttpResponse response) {
    parser_.reset();
    linger_ = true;
    Respond(std::move(response), /*keep_alive=*/false);
  }

  // After an error answer to a request the client may still be sending (a body over the limit):
  // stop sending, then read and discard for a moment before closing. Closing with unread bytes
  // would make the kernel reset the connection, and a reset can destroy the answer before the
  // client reads it (the "lingering close" of HTTP servers). Bounded in time and bytes, holds no
  // buffer budget, and may be evicted like an idle connection.
  void Linger() {
    SetPhase(Phase::kIdle);
    ErrorCode ignored;
    Socket().shutdown(tcp::socket::shutdown_send, ignored);
    Arm(kLingerTime, Deadline::kLinger);
    DiscardSome();
  }

  void DiscardSome() {
    Socket().async_read_some(
        asio::buffer(discard_),
        [self = this->shared_from_this()](const ErrorCode& error, std::size_t bytes) {
          if (self->phase_ == Phase::kClosed) return;
          self->discarded_ += bytes;
          if (error || self->discarded_ > kLingerMaxBytes) {
            self->Close();
            return;
          }
          self->DiscardSome();
        });
  }

  void Respond(HttpResponse response, bool keep_alive) {
    if (phase_ == Phase::kClosed) return;
    SetPhase(Phase::kBusy);
    if (response.status < 100 || response.status > 999) {
      response = TextResponse(500, "internal error: invalid status\n");
    }
    keep_alive = keep_alive && !server_.IsStopping();
    response_.emplace();
    response_->version(version_);
    response_->result(static_cast<unsigned>(response.status));
    response_->set(bhttp::field::content_type, response.content_type);
    response_->body() = std::move(response.body);
    response_->keep_alive(keep_alive);
    response_->prepare_payload();
    Arm(server_.Options().request_timeout, Deadline::kWrite);
    bhttp::async_write(
        stream_, *response_,
        [self = this->shared_from_this(), keep_alive](const ErrorCode& error, std::size_t) {
          self->OnWrite(error, keep_alive);
        });
  }

  void OnWrite(const ErrorCode& error, bool keep_alive) {
    if (phase_ == Phase::kClosed) return;
    Disarm();
    response_.reset();
    if (error || !keep_alive) {
      if (!error && linger_) {
        Linger();
        return;
      }
      Close();
      return;
    }
    if (buffer_.size() == 0) buffer_.shrink_to_fit();
    (void)UpdateCharge();  // only shrinks
    StartRequest(/*first=*/false);
  }

  Server& server_;
  std::shared_ptr<ssl::context> context_;  // kTls only; outlives stream_, which uses it
  Stream stream_;
  asio::steady_timer timer_;
  Deadline deadline_ = Deadline::kNone;
  std::uint64_t generation_ = 0;  // tells a stale timer completion from the armed one
  bool timed_out_ = false;
  bool linger_ = false;  // the answer was an error: linger before closing (see Linger)
  std::size_t discarded_ = 0;
  std::array<char, 4096> discard_{};
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::string_body>> response_;
  bool keep_alive_ = false;
  unsigned version_ = 11;
  bool client_verified_ = false;
  std::string client_common_name_;
};

Server::Server(const HttpServerOptions& options, const Routes& routes,
               std::shared_ptr<TlsContextStore> certificates)
    : options_(options),
      routes_(routes),
      certificates_(std::move(certificates)),
      budget_(std::max(options.max_buffered_bytes, MinimumBudget(options))),
      free_allowance_(options.max_header_bytes + 2 * kReadStepBytes),
      work_(asio::make_work_guard(io_)),
      pool_(static_cast<std::size_t>(options.handler_threads)),
      acceptor_(io_),
      accept_retry_(io_) {}

Status Server::Listen(const BindAddress& bind) {
  ErrorCode error;
  asio::ip::address address = asio::ip::make_address(bind.host, error);
  if (error) {
    tcp::resolver resolver(io_);
    auto results = resolver.resolve(bind.host, std::to_string(bind.port), error);
    if (error || results.empty()) {
      return UnavailableError("cannot resolve " + bind.host + ": " + error.message());
    }
    address = results.begin()->endpoint().address();
  }
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(bind.port));
  const std::string where = bind.host + ":" + std::to_string(bind.port);
  acceptor_.open(endpoint.protocol(), error);
  if (!error) acceptor_.set_option(asio::socket_base::reuse_address(true), error);
  if (!error) acceptor_.bind(endpoint, error);
  if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    ErrorCode ignored;
    acceptor_.close(ignored);
    return UnavailableError("cannot listen on " + where + ": " + error.message());
  }
  port_ = acceptor_.local_endpoint(error).port();
  if (error) return UnavailableError("cannot read the bound port: " + error.message());
  return OkStatus();
}

void Server::Run() {
  Accept();
  io_thread_ = std::thread([this] {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (...) {
        // A handler threw (e.g. bad_alloc): that operation is lost, the server goes on.
      }
    }
  });
}

void Server::Stop() {
  if (stopped_) return;
  stopped_ = true;
  stopping_ = true;
  work_.reset();
  io_.stop();
  if (io_thread_.joinable()) io_thread_.join();
  // The I/O thread is gone: close everything from this thread. Handlers of the closed operations
  // stay queued and are destroyed with the io_context.
  ErrorCode ignored;
  acceptor_.close(ignored);
  accept_retry_.cancel();
  for (const auto& weak : connections_) {
    if (auto connection = weak.lock()) connection->Close();
  }
  pool_.join();
}

void Server::Accept() {
  acceptor_.async_accept(io_, [this](const ErrorCode& error, tcp::socket socket) {
    OnAccept(error, std::move(socket));
  });
}

void Server::OnAccept(const ErrorCode& error, tcp::socket socket) {
  if (!acceptor_.is_open() || error == asio::error::operation_aborted) return;
  if (error) {
    // Out of file descriptors or similar: try again shortly instead of spinning.
    accept_retry_.expires_after(std::chrono::milliseconds(50));
    accept_retry_.async_wait([this](const ErrorCode& wait_error) {
      if (!wait_error) Accept();
    });
    return;
  }
  if (!MakeRoom()) {
    ErrorCode ignored;
    socket.close(ignored);
    Accept();
    return;
  }
  ErrorCode ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::shared_ptr<Connection> connection;
  if (certificates_) {
    connection =
        std::make_shared<Session<true>>(*this, std::move(socket), certificates_->Current());
  } else {
    connection = std::make_shared<Session<false>>(*this, std::move(socket));
  }
  connections_.push_back(connection);
  connection->Start();
  Accept();
}

bool Server::MakeRoom() {
  std::erase_if(connections_, [](const std::weak_ptr<Connection>& weak) {
    auto connection = weak.lock();
    return !connection || connection->CurrentPhase() == Connection::Phase::kClosed;
  });
  if (connections_.size() < options_.max_connections) return true;
  std::shared_ptr<Connection> oldest;
  for (const auto& weak : connections_) {
    auto connection = weak.lock();
    if (connection && connection->IsEvictable() &&
        (!oldest || connection->PhaseSince() < oldest->PhaseSince())) {
      oldest = std::move(connection);
    }
  }
  if (!oldest) return false;
  oldest->Close();
  return true;
}

bool Server::Charge(Connection& connection, std::size_t& charged, std::size_t new_charge) {
  if (new_charge <= charged) {
    buffered_ -= charged - new_charge;
    charged = new_charge;
    return true;
  }
  const std::size_t growth = new_charge - charged;
  while (buffered_ + growth > budget_ && new_charge > free_allowance_) {
    std::shared_ptr<Connection> oldest;
    for (const auto& weak : connections_) {
      auto other = weak.lock();
      if (other && other.get() != &connection &&
          other->CurrentPhase() == Connection::Phase::kReading &&
          other->ChargedBytes() > free_allowance_ &&
          (!oldest || other->PhaseSince() < oldest->PhaseSince())) {
        oldest = std::move(other);
      }
    }
    if (!oldest) return false;
    oldest->Close();  // uncharges it
  }
  buffered_ += growth;
  charged = new_charge;
  return true;
}

}  // namespace

class HttpServer::CertificateStore : public TlsContextStore {
 public:
  using TlsContextStore::TlsContextStore;
};

// Owns the running server; the indirection keeps Asio out of the public header.
class HttpServer::Listener {
 public:
  Listener(const HttpServerOptions& options, const Routes& routes,
           std::shared_ptr<CertificateStore> certificates)
      : server(options, routes, std::move(certificates)) {}
  Server server;
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
  if (options_.max_connections == 0 || options_.handler_threads < 1 ||
      options_.max_header_bytes == 0) {
    return InvalidArgumentError(
        "HttpServer needs max_connections, handler_threads and max_header_bytes above 0");
  }
  if (options_.client_cert_mode != ClientCertMode::kNone &&
      (!options_.tls || options_.client_ca_file.empty())) {
    return InvalidArgumentError("client certificates need TLS and a client CA file");
  }
  if (options_.tls) {
    certificates_ = std::make_shared<CertificateStore>(*options_.tls, options_.client_cert_mode,
                                                       options_.client_ca_file);
    EPHEMERA_RETURN_IF_ERROR(certificates_->LoadInitial());
  }
  try {
    auto listener = std::make_unique<Listener>(options_, routes_, certificates_);
    EPHEMERA_RETURN_IF_ERROR(listener->server.Listen(*bind));
    listener->server.Run();
    port_ = listener->server.Port();
    listener_ = std::move(listener);
  } catch (const std::exception& e) {
    return UnavailableError(std::string("cannot start the HTTP server: ") + e.what());
  }
  return OkStatus();
}

void HttpServer::Stop() {
  if (!listener_) return;
  listener_->server.Stop();
  listener_.reset();
}

}  // namespace ephemera::httpserver
