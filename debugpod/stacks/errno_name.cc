#include "debugpod/stacks/errno_name.h"

#include <cerrno>

namespace ephemera::stacks {

std::string ErrnoName(int error) {
  switch (error) {
    case EPERM:
      return "EPERM";
    case ENOENT:
      return "ENOENT";
    case ESRCH:
      return "ESRCH";
    case EINTR:
      return "EINTR";
    case EIO:
      return "EIO";
    case EBADF:
      return "EBADF";
    case ECHILD:
      return "ECHILD";
    case EAGAIN:
      return "EAGAIN";
    case ENOMEM:
      return "ENOMEM";
    case EACCES:
      return "EACCES";
    case EFAULT:
      return "EFAULT";
    case EBUSY:
      return "EBUSY";
    case ENOTDIR:
      return "ENOTDIR";
    case EISDIR:
      return "EISDIR";
    case EINVAL:
      return "EINVAL";
    case EMFILE:
      return "EMFILE";
    case ENOSYS:
      return "ENOSYS";
    case ELOOP:
      return "ELOOP";
    case ENAMETOOLONG:
      return "ENAMETOOLONG";
    case ETIMEDOUT:
      return "ETIMEDOUT";
    default:
      return "errno " + std::to_string(error);
  }
}

}  // namespace ephemera::stacks
