#include "controller/certificates/certificate_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

namespace ephemera::certificates {
namespace {

bool HoldsAlready(const std::string& path, const std::string& contents) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  const std::string existing((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  return existing == contents;
}

Status ReplaceFile(const std::string& path, const std::string& contents, mode_t mode) {
  if (HoldsAlready(path, contents)) return OkStatus();
  const std::string temporary = path + ".new";
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return UnavailableError("cannot create " + temporary + ": " + std::strerror(errno));
  std::size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      close(fd);
      unlink(temporary.c_str());
      return UnavailableError("cannot write " + temporary + ": " + std::strerror(error));
    }
    written += static_cast<std::size_t>(n);
  }
  if (fchmod(fd, mode) != 0 || fsync(fd) != 0 || close(fd) != 0 ||
      std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    unlink(temporary.c_str());
    return UnavailableError("cannot replace " + path + ": " + std::strerror(error));
  }
  return OkStatus();
}

}  // namespace

Status WriteServingFiles(const std::string& dir, const ServingCertificate& certificate) {
  EPHEMERA_RETURN_IF_ERROR(ReplaceFile(dir + "/tls.key", certificate.key_pem, 0600));
  return ReplaceFile(dir + "/tls.crt", certificate.cert_pem, 0644);
}

}  // namespace ephemera::certificates
