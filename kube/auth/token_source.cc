#include "kube/auth/token_source.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ephemera::kube {
namespace {

std::string Trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

}  // namespace

StatusOr<std::string> ReadSmallFile(const std::string& path, std::size_t max_bytes) {
  // An ifstream opens a directory and then fails to read it with no reason to show.
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) {
    return InvalidArgumentError(path + " is a directory; give the path of a file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    std::string message = "cannot read " + path + ": " + std::strerror(err);
    return err == ENOENT ? NotFoundError(message) : UnavailableError(message);
  }
  std::string data;
  char buffer[8192];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    data.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (data.size() > max_bytes) {
      return InvalidArgumentError(path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  if (in.bad()) return UnavailableError("error reading " + path);
  return data;
}

FileTokenSource::FileTokenSource(std::string token_path, base::Clock& clock,
                                 std::chrono::nanoseconds max_age, ClientCredentials fixed)
    : path_(std::move(token_path)), clock_(clock), max_age_(max_age), fixed_(std::move(fixed)) {}

StatusOr<ClientCredentials> FileTokenSource::Credentials() {
  // The read happens under the mutex: it is a small local file, and it keeps concurrent callers
  // from reading it many times at once when the cache expires.
  base::MutexLock lock(mu_);
  const auto now = clock_.SteadyNow();
  if (stale_ || !token_ || now - read_at_ >= max_age_) {
    auto data = ReadSmallFile(path_, std::size_t{64} * 1024);
    if (data.ok()) {
      std::string token = Trim(*data);
      if (token.empty()) {
        if (!token_) return UnauthenticatedError("token file " + path_ + " is empty");
      } else {
        token_ = std::move(token);
      }
    } else if (!token_) {
      return UnauthenticatedError("reading bearer token: " + data.status().message());
    }
    // Whether or not the read worked, wait a full period before trying again (unless invalidated).
    read_at_ = now;
    stale_ = false;
  }
  ClientCredentials credentials = fixed_;
  credentials.bearer_token = *token_;
  return credentials;
}

bool FileTokenSource::Invalidate() {
  base::MutexLock lock(mu_);
  stale_ = true;
  return true;
}

}  // namespace ephemera::kube
