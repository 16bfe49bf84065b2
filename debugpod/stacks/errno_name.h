// ErrnoName: "EPERM", "ESRCH", ... for messages that name the errno rather than its locale text.
#ifndef EPHEMERA_DEBUGPOD_STACKS_ERRNO_NAME_H_
#define EPHEMERA_DEBUGPOD_STACKS_ERRNO_NAME_H_

#include <string>

namespace ephemera::stacks {

std::string ErrnoName(int error);

}  // namespace ephemera::stacks

#endif  // EPHEMERA_DEBUGPOD_STACKS_ERRNO_NAME_H_
