#include "debugpod/procfs/proc_fs.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace ephemera::procfs {

Status ErrnoToStatus(int err, std::string_view what) {
  const char* name = strerrorname_np(err);
  std::string message = (name != nullptr ? std::string(name) : "errno " + std::to_string(err)) +
                        ": " + std::string(what);
  switch (err) {
    case EACCES:
    case EPERM:
      return PermissionDeniedError(std::move(message));
    case ENOENT:
    case ESRCH:
      return NotFoundError(std::move(message));
    default:
      return UnavailableError(std::move(message));
  }
}

Status ValidateRelativePath(std::string_view relative) {
  if (relative.empty() || relative.front() == '/') {
    return InvalidArgumentError("path must be relative and non-empty: \"" + std::string(relative) +
                                "\"");
  }
  size_t start = 0;
  while (start <= relative.size()) {
    size_t end = relative.find('/', start);
    if (end == std::string_view::npos) end = relative.size();
    std::string_view part = relative.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return InvalidArgumentError("path must not contain empty, \".\" or \"..\" components: \"" +
                                  std::string(relative) + "\"");
    }
    start = end + 1;
  }
  return OkStatus();
}

StatusOr<std::string> ProcFs::ReadSystemFile(std::string_view relative) const {
  return NotFoundError("ENOENT: this ProcFs reads no system files: " + std::string(relative));
}

}  // namespace ephemera::procfs
