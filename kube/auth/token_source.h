// TokenSource: where the client's credentials come from, re-read as they rotate.
//
// A credential is a bearer token and/or a client certificate with its key (PEM). Sources:
//   StaticTokenSource  fixed values from a kubeconfig (token, client-certificate[-data])
//   FileTokenSource    a token file (in-cluster service-account token, kubeconfig tokenFile),
//                      re-read at most every `max_age` (1 minute) and right after Invalidate()
//   ExecTokenSource    an exec credential plugin (exec_credential.h)
// Credentials are secrets: implementations never log them or put them in a Status message.
// Implementations are thread safe.
#ifndef EPHEMERA_KUBE_AUTH_TOKEN_SOURCE_H_
#define EPHEMERA_KUBE_AUTH_TOKEN_SOURCE_H_

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"

namespace ephemera::kube {

struct ClientCredentials {
  std::string bearer_token{};            // empty: send no Authorization header
  std::string client_certificate_pem{};  // empty: present no client certificate
  std::string client_key_pem{};

  friend bool operator==(const ClientCredentials&, const ClientCredentials&) = default;
};

class TokenSource {
 public:
  virtual ~TokenSource() = default;

  // The credentials to use for the next request; may block to read a file or run a plugin.
  // Errors: kUnauthenticated / kUnavailable with a message naming the source, never the secret.
  virtual StatusOr<ClientCredentials> Credentials() = 0;
  // The server rejected the credentials last handed out (HTTP 401): drop any cache so the next
  // Credentials() reads fresh material. Returns true when fresh material may differ (so one retry
  // is worthwhile), false for sources that cannot change (static tokens).
  virtual bool Invalidate() = 0;
};

class StaticTokenSource final : public TokenSource {
 public:
  explicit StaticTokenSource(ClientCredentials credentials)
      : credentials_(std::move(credentials)) {}
  StatusOr<ClientCredentials> Credentials() override { return credentials_; }
  bool Invalidate() override { return false; }

 private:
  const ClientCredentials credentials_;
};

// Reads a bearer token from a file (surrounding whitespace trimmed). Client certificate material,
// if any, is fixed. If a re-read fails but a token was read before, the old token is kept (the
// kubelet replaces the file atomically; a failed read is transient).
class FileTokenSource final : public TokenSource {
 public:
  FileTokenSource(std::string token_path, base::Clock& clock,
                  std::chrono::nanoseconds max_age = std::chrono::minutes(1),
                  ClientCredentials fixed = {});

  StatusOr<ClientCredentials> Credentials() override;
  bool Invalidate() override;

 private:
  const std::string path_;
  base::Clock& clock_;
  const std::chrono::nanoseconds max_age_;
  const ClientCredentials fixed_;
  base::Mutex mu_;
  std::optional<std::string> token_ EPHEMERA_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point read_at_ EPHEMERA_GUARDED_BY(mu_);
  bool stale_ EPHEMERA_GUARDED_BY(mu_) = true;
};

// Reads a whole (small) file, for the kube package's own needs. Errors name the path and the
// errno text; kNotFound when the file does not exist, kInvalidArgument when it is a directory.
StatusOr<std::string> ReadSmallFile(const std::string& path, std::size_t max_bytes = 1 << 20);

}  // namespace ephemera::kube

#endif  // EPHEMERA_KUBE_AUTH_TOKEN_SOURCE_H_
