#include "cli/identity/identity_file.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

#include "base/rfc3339.h"
#include "base/secret_bytes.h"
#include "envelope/envelope.h"

namespace ephemera::identity {
namespace {

constexpr std::size_t kMaxIdentityFileBytes = std::size_t{64} * 1024;

std::string ModeText(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

std::string ErrnoText(int error) { return std::strerror(error); }

// Reads the whole file through an already open descriptor.
StatusOr<std::string> ReadAll(int fd, const std::string& path) {
  std::string text;
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return PermissionDeniedError("cannot read identity file " + path + ": " + ErrnoText(errno));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    OPENSSL_cleanse(buffer, sizeof buffer);
    if (text.size() > kMaxIdentityFileBytes) {
      base::WipeString(text);
      return InvalidArgumentError("identity file " + path + " is too large to be an age identity");
    }
  }
  return text;
}

// Creates the missing directories of `dir` (mode 0700 for each one created here).
Status CreateDirectories(const std::filesystem::path& dir) {
  if (dir.empty()) return OkStatus();
  std::error_code error;
  if (std::filesystem::is_directory(dir, error)) return OkStatus();
  EPHEMERA_RETURN_IF_ERROR(CreateDirectories(dir.parent_path()));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return InternalError("cannot create directory " + dir.string() + ": " + ErrnoText(errno));
  }
  return OkStatus();
}

Status WriteAll(int fd, std::string_view text, const std::string& path) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return InternalError("cannot write identity file " + path + ": " + ErrnoText(errno));
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fsync(fd) != 0) {
    return InternalError("cannot write identity file " + path + ": " + ErrnoText(errno));
  }
  return OkStatus();
}

}  // namespace

std::string IdentityPath(const kube::EnvironmentLookup& getenv) {
  if (auto explicit_path = getenv("EPHEMERA_IDENTITY"); explicit_path && !explicit_path->empty()) {
    return *explicit_path;
  }
  if (auto xdg = getenv("XDG_CONFIG_HOME"); xdg && !xdg->empty()) {
    return *xdg + "/ephemera/identity.txt";
  }
  if (auto home = getenv("HOME"); home && !home->empty()) {
    return *home + "/.config/ephemera/identity.txt";
  }
  return "";
}

Identity::Identity(std::string path, std::string secret, std::string recipient)
    : path_(std::move(path)), recipient_(std::move(recipient)) {
  secrets_.push_back(std::move(secret));
}

Identity::~Identity() {
  for (std::string& secret : secrets_) base::WipeString(secret);
}

Identity::Identity(Identity&& other) noexcept
    : path_(std::move(other.path_)),
      secrets_(std::move(other.secrets_)),
      recipient_(std::move(other.recipient_)) {
  other.secrets_.clear();
}

StatusOr<Identity> LoadIdentity(const std::string& path) {
  if (path.empty()) {
    return NotFoundError(
        "no identity file location: set EPHEMERA_IDENTITY, XDG_CONFIG_HOME or HOME");
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) {
      return NotFoundError("no identity at " + path +
                           "; run 'kubectl ephemera keys' to create one");
    }
    return PermissionDeniedError("cannot open identity file " + path + ": " + ErrnoText(errno));
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    ::close(fd);
    return PermissionDeniedError("cannot stat identity file " + path + ": " + ErrnoText(errno));
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return InvalidArgumentError("identity path " + path + " is not a regular file");
  }
  if ((info.st_mode & 0077) != 0) {
    ::close(fd);
    return PermissionDeniedError("identity file " + path + " is accessible by others (mode " +
                                 ModeText(info.st_mode) + "); run chmod 600 " + path + "");
  }
  auto text = ReadAll(fd, path);
  ::close(fd);
  if (!text.ok()) return text.status();
  auto identities = envelope::ParseIdentities(*text);
  base::WipeString(*text);
  if (!identities.ok()) {
    return InvalidArgumentError("identity file " + path +
                                " is not an age identity file: " + identities.status().message());
  }
  if (identities->empty()) {
    return InvalidArgumentError("identity file " + path + " holds no identity");
  }
  std::string secret = std::move(identities->front());
  for (std::string& other : *identities) base::WipeString(other);
  auto recipient = envelope::RecipientOf(secret);
  if (!recipient.ok()) {
    base::WipeString(secret);
    return InvalidArgumentError("identity file " + path + " holds no usable X25519 identity: " +
                                recipient.status().message());
  }
  return Identity(path, std::move(secret), std::move(*recipient));
}

StatusOr<EnsuredIdentity> EnsureIdentity(const std::string& path,
                                         std::chrono::system_clock::time_point now) {
  auto existing = LoadIdentity(path);
  if (existing.ok()) return EnsuredIdentity{std::move(*existing), false};
  if (existing.status().code() != StatusCode::kNotFound || path.empty()) return existing.status();

  EPHEMERA_RETURN_IF_ERROR(CreateDirectories(std::filesystem::path(path).parent_path()));
  auto generated = envelope::GenerateIdentity();
  if (!generated.ok()) return generated.status().WithContext("generating an age identity");
  std::string contents = "# created: " + base::FormatRfc3339(now) +
                         "\n# public key: " + generated->recipient + "\n" + generated->identity +
                         "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    const int error = errno;
    base::WipeString(contents);
    base::WipeString(generated->identity);
    if (error == EEXIST) {  // created meanwhile (another invocation): use that one
      auto raced = LoadIdentity(path);
      if (!raced.ok()) return raced.status();
      return EnsuredIdentity{std::move(*raced), false};
    }
    return InternalError("cannot create identity file " + path + ": " + ErrnoText(error));
  }
  Status written = OkStatus();
  if (::fchmod(fd, 0600) != 0) {
    written = InternalError("cannot set mode 0600 on " + path + ": " + ErrnoText(errno));
  }
  if (written.ok()) written = WriteAll(fd, contents, path);
  ::close(fd);
  base::WipeString(contents);
  if (!written.ok()) {
    ::unlink(path.c_str());
    base::WipeString(generated->identity);
    return written;
  }
  return EnsuredIdentity{Identity(path, std::move(generated->identity), generated->recipient),
                         true};
}

}  // namespace ephemera::identity
