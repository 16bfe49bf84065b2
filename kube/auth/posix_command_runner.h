// PosixCommandRunner: CommandRunner over posix_spawn, pipes and poll.
#ifndef EPHEMERA_KUBE_AUTH_POSIX_COMMAND_RUNNER_H_
#define EPHEMERA_KUBE_AUTH_POSIX_COMMAND_RUNNER_H_

#include "kube/auth/exec_credential.h"

namespace ephemera::kube {

// Output beyond 1 MiB per stream is discarded (the process is still waited for). Thread safe:
// each Run is independent.
class PosixCommandRunner final : public CommandRunner {
 public:
  StatusOr<Result> Run(const std::string& command, const std::vector<std::string>& args,
                       const std::vector<std::pair<std::string, std::string>>& extra_env,
                       std::chrono::milliseconds timeout) override;
  StatusOr<Result> RunInteractive(
      const std::string& command, const std::vector<std::string>& args,
      const std::vector<std::pair<std::string, std::string>>& extra_env) override;
};

}  // namespace ephemera::kube

#endif  // EPHEMERA_KUBE_AUTH_POSIX_COMMAND_RUNNER_H_
