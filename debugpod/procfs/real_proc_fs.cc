#include "debugpod/procfs/real_proc_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <string>
#include <utility>

namespace ephemera::procfs {
namespace {

// Closes a file descriptor on scope exit.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

StatusOr<std::vector<int>> ListNumericEntries(const std::string& dir_path) {
  DIR* dir = opendir(dir_path.c_str());
  if (dir == nullptr) return ErrnoToStatus(errno, "opendir " + dir_path);
  std::vector<int> ids;
  errno = 0;
  while (dirent* entry = readdir(dir)) {
    std::string_view name = entry->d_name;
    int id = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
    if (ec == std::errc() && end == name.data() + name.size() && id >= 0) ids.push_back(id);
    errno = 0;
  }
  int err = errno;
  closedir(dir);
  if (err != 0) return ErrnoToStatus(err, "readdir " + dir_path);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

namespace {

// Reads the file open at `fd` (named `path` in errors) after checking it is a regular file: a
// FIFO, socket or device the target put where a file is expected could block a read or never
// end. Every /proc and cgroup file the tool reads is a regular file, so this refuses none of them.
StatusOr<std::string> ReadOpenFile(int fd, const std::string& path, size_t max_bytes) {
  FdCloser closer(fd);
  struct stat st {};
  if (fstat(fd, &st) != 0) return ErrnoToStatus(errno, "fstat " + path);
  if (!S_ISREG(st.st_mode)) {
    return FailedPreconditionError("not a regular file: " + path);
  }
  std::string data;
  // /proc files report size 0, so grow as we go; one extra byte detects files over the cap.
  size_t chunk = 4096;
  while (true) {
    size_t old_size = data.size();
    size_t want = std::min(chunk, max_bytes + 1 - old_size);
    data.resize(old_size + want);
    ssize_t n = read(fd, data.data() + old_size, want);
    if (n < 0) {
      if (errno == EINTR) {
        data.resize(old_size);
        continue;
      }
      return ErrnoToStatus(errno, "read " + path);
    }
    data.resize(old_size + static_cast<size_t>(n));
    if (n == 0) break;
    if (data.size() > max_bytes) {
      return ResourceExhaustedError("file larger than the " + std::to_string(max_bytes) +
                                    "-byte read cap: " + path);
    }
    chunk = std::min(chunk * 2, size_t{256} * 1024);
  }
  return data;
}

}  // namespace

StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (regular files ignore the flag).
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return ErrnoToStatus(errno, "open " + path);
  return ReadOpenFile(fd, path, max_bytes);
}

StatusOr<std::string> ReadSmallFileAt(int dir_fd, const std::string& name, size_t max_bytes) {
  int fd = openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0) return ErrnoToStatus(errno, "open " + name);
  return ReadOpenFile(fd, name, max_bytes);
}

RealProcFs::RealProcFs(std::string root, size_t max_file_bytes)
    : root_(std::move(root)), max_file_bytes_(max_file_bytes) {}

std::string RealProcFs::PidPath(int pid) const { return root_ + "/" + std::to_string(pid); }

StatusOr<std::string> RealProcFs::ReadFile(int pid, std::string_view relative) const {
  EPHEMERA_RETURN_IF_ERROR(ValidateRelativePath(relative));
  return ReadSmallFile(PidPath(pid) + "/" + std::string(relative), max_file_bytes_);
}

StatusOr<std::string> RealProcFs::ReadTaskFile(int pid, int tid, std::string_view relative) const {
  EPHEMERA_RETURN_IF_ERROR(ValidateRelativePath(relative));
  return ReadSmallFile(PidPath(pid) + "/task/" + std::to_string(tid) + "/" + std::string(relative),
                       max_file_bytes_);
}

StatusOr<std::string> RealProcFs::ReadLink(int pid, std::string_view relative) const {
  EPHEMERA_RETURN_IF_ERROR(ValidateRelativePath(relative));
  std::string path = PidPath(pid) + "/" + std::string(relative);
  std::string target(PATH_MAX, '\0');
  ssize_t n = readlink(path.c_str(), target.data(), target.size());
  if (n < 0) return ErrnoToStatus(errno, "readlink " + path);
  target.resize(static_cast<size_t>(n));
  return target;
}

StatusOr<std::string> RealProcFs::ReadNetFile(int pid, std::string_view name) const {
  EPHEMERA_RETURN_IF_ERROR(ValidateRelativePath(name));
  if (name.find('/') != std::string_view::npos) {
    return InvalidArgumentError("net file name must be a single component: \"" + std::string(name) +
                                "\"");
  }
  return ReadSmallFile(PidPath(pid) + "/net/" + std::string(name), max_file_bytes_);
}

StatusOr<std::string> RealProcFs::ReadSystemFile(std::string_view relative) const {
  EPHEMERA_RETURN_IF_ERROR(ValidateRelativePath(relative));
  return ReadSmallFile(root_ + "/" + std::string(relative), max_file_bytes_);
}

StatusOr<std::vector<int>> RealProcFs::ListPids() const { return ListNumericEntries(root_); }

StatusOr<std::vector<int>> RealProcFs::ListTasks(int pid) const {
  return ListNumericEntries(PidPath(pid) + "/task");
}

StatusOr<std::vector<int>> RealProcFs::ListFds(int pid) const {
  return ListNumericEntries(PidPath(pid) + "/fd");
}

RealCgroupFs::RealCgroupFs(std::string root, size_t max_file_bytes)
    : root_(std::move(root)), max_file_bytes_(max_file_bytes) {}

StatusOr<std::string> RealCgroupFs::ReadFile(std::string_view relative) const {
  EPHEMERA_RETURN_IF_ERROR(ValidateRelativePath(relative));
  return ReadSmallFile(root_ + "/" + std::string(relative), max_file_bytes_);
}

}  // namespace ephemera::procfs
