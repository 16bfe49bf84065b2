#include "debugpod/stacks/file_byte_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "debugpod/stacks/errno_name.h"

namespace ephemera::stacks {

StatusOr<std::unique_ptr<FileByteSource>> FileByteSource::Open(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    int e = errno;
    std::string message = ErrnoName(e) + ": cannot open " + path;
    if (e == ENOENT || e == ENOTDIR) return NotFoundError(message);
    if (e == EACCES || e == EPERM) return PermissionDeniedError(message);
    return UnavailableError(message);
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return FailedPreconditionError(path + " is not a regular file");
  }
  return std::unique_ptr<FileByteSource>(
      new FileByteSource(fd, static_cast<uint64_t>(st.st_size), static_cast<uint64_t>(st.st_ino)));
}

FileByteSource::~FileByteSource() { close(fd_); }

Status FileByteSource::ReadAt(uint64_t offset, std::span<uint8_t> out) const {
  if (offset > size_ || size_ - offset < out.size()) {
    return DataLossError("read past the end of the file");
  }
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return UnavailableError(ErrnoName(errno) + ": read failed");
    }
    if (n == 0) return DataLossError("file shrank while reading");
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

}  // namespace ephemera::stacks
