#include "tests/kube/transport/tls_test_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>

namespace ephemera::kube {

bool ResponseWriter::WriteRaw(std::string_view bytes) {
  while (!bytes.empty()) {
    const int n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
    if (n <= 0) {
      ERR_clear_error();
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void ResponseWriter::Respond(int status, std::string_view body, std::string_view content_type,
                             const HttpHeaders& extra_headers) {
  std::string head =
      "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + std::string(content_type) +
      "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n";
  for (const auto& [name, value] : extra_headers) {
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  head += "\r\n";
  head += body;
  WriteRaw(head);
}

void ResponseWriter::StartChunked(int status) {
  WriteRaw("HTTP/1.1 " + std::to_string(status) +
           " X\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
           "Connection: close\r\n\r\n");
}

bool ResponseWriter::WriteChunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return WriteRaw(std::string(size) + std::string(data) + "\r\n");
}

void ResponseWriter::EndChunked() { WriteRaw("0\r\n\r\n"); }

TlsTestServer::TlsTestServer(const Config& config, Handler handler) : handler_(std::move(handler)) {
  ctx_ = SSL_CTX_new(TLS_server_method());
  if (SSL_CTX_use_certificate_chain_file(ctx_, config.certificate_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx_, config.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    ADD_FAILURE() << "test server cannot load its certificate";
    return;
  }
  if (!config.client_ca_file.empty()) {
    SSL_CTX_load_verify_locations(ctx_, config.client_ca_file.c_str(), nullptr);
    SSL_CTX_set_client_CA_list(ctx_, SSL_load_client_CA_file(config.client_ca_file.c_str()));
    SSL_CTX_set_verify(
        ctx_,
        SSL_VERIFY_PEER | (config.require_client_certificate ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
        nullptr);
  }
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ADD_FAILURE() << "test server cannot listen";
    return;
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

TlsTestServer::~TlsTestServer() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  SSL_CTX_free(ctx_);
}

std::vector<ReceivedRequest> TlsTestServer::Requests() {
  std::lock_guard lock(mu_);
  return requests_;
}

void TlsTestServer::Serve() {
  while (!stopping_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    HandleConnection(fd);
    ::close(fd);
  }
}

void TlsTestServer::HandleConnection(int fd) {
  SSL* ssl = SSL_new(ctx_);
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) != 1) {
    ERR_clear_error();
    ++handshake_failures_;
    SSL_free(ssl);
    return;
  }
  ReceivedRequest request;
  if (const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) request.sni = sni;
  if (X509* peer = SSL_get1_peer_certificate(ssl)) {
    char subject[256];
    X509_NAME_oneline(X509_get_subject_name(peer), subject, sizeof subject);
    request.client_subject = subject;
    X509_free(peer);
  }
  std::string data;
  char buffer[4096];
  std::size_t header_end = std::string::npos;
  while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
    const int n = SSL_read(ssl, buffer, sizeof buffer);
    if (n <= 0) break;
    data.append(buffer, static_cast<std::size_t>(n));
  }
  if (header_end == std::string::npos) {
    ERR_clear_error();
    SSL_free(ssl);
    return;
  }
  const std::string head = data.substr(0, header_end);
  std::string body = data.substr(header_end + 4);
  std::size_t line_end = head.find("\r\n");
  const std::string request_line = head.substr(0, line_end);
  const auto sp1 = request_line.find(' ');
  const auto sp2 = request_line.find(' ', sp1 + 1);
  request.method = request_line.substr(0, sp1);
  request.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    auto next = head.find("\r\n", pos);
    if (next == std::string::npos) next = head.size();
    const std::string line = head.substr(pos, next - pos);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      request.headers.emplace_back(line.substr(0, colon), value);
    }
    pos = next + 2;
  }
  if (auto length = FindHeader(request.headers, "Content-Length")) {
    const std::size_t want = std::stoul(*length);
    while (body.size() < want) {
      const int n = SSL_read(ssl, buffer, sizeof buffer);
      if (n <= 0) break;
      body.append(buffer, static_cast<std::size_t>(n));
    }
  }
  request.body = body;
  {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
  }
  ResponseWriter writer(ssl);
  handler_(request, writer);
  SSL_shutdown(ssl);
  ERR_clear_error();
  SSL_free(ssl);
}

}  // namespace ephemera::kube
