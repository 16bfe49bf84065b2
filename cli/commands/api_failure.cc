#include "cli/commands/api_failure.h"

#include <optional>

#include "kube/client/api_error.h"

namespace ephemera::commands {
namespace {

using command_line::ExitCode;

std::string Where(const ApiRequest& request) {
  return request.namespace_name.empty() ? "" : " in namespace " + request.namespace_name;
}

std::string What(const ApiRequest& request) {
  return request.name.empty() ? request.resource : request.resource + " " + request.name;
}

// The user the API server says it saw: `User "bob" cannot …`.
std::optional<std::string> ForbiddenUser(const std::string& message) {
  const std::string marker = "User \"";
  auto start = message.find(marker);
  if (start == std::string::npos) return std::nullopt;
  start += marker.size();
  auto end = message.find('"', start);
  if (end == std::string::npos) return std::nullopt;
  return message.substr(start, end - start);
}

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

std::string ServerMessage(const Status& status) {
  const std::string& message = status.message();
  if (kube::ApiErrorDetailsOf(status)) {
    auto suffix = message.rfind(" (HTTP ");
    if (suffix != std::string::npos) return message.substr(0, suffix);
  }
  return message;
}

CommandOutcome ExplainApiFailure(const Status& status, const ApiRequest& request) {
  const auto details = kube::ApiErrorDetailsOf(status);
  const std::string server_message = ServerMessage(status);
  const std::string server = request.server.empty() ? "the cluster" : request.server;

  if (!details) {
    // Nothing came back from the server: the transport failed, or our own validation did.
    if (status.code() == StatusCode::kUnavailable ||
        status.code() == StatusCode::kDeadlineExceeded) {
      return CommandOutcome::Failure(
          ExitCode::kUnreachable, "cannot reach the cluster at " + server + " (" + server_message +
                                      "): is the cluster up, and is --kubeconfig right?");
    }
    if (status.code() == StatusCode::kUnauthenticated) {
      return CommandOutcome::Failure(ExitCode::kUnreachable,
                                     "cannot authenticate to " + server + " (" + server_message +
                                         "): check the credentials of your kubeconfig's user");
    }
    return CommandOutcome::Failure(
        ExitCode::kFailed,
        "cannot " + request.verb + " " + What(request) + Where(request) + ": " + server_message);
  }

  switch (status.code()) {
    case StatusCode::kPermissionDenied: {
      if (Contains(server_message, "admission webhook") ||
          Contains(server_message, "denied the request") ||
          Contains(server_message, "ValidatingAdmissionPolicy")) {
        return CommandOutcome::Failure(ExitCode::kDenied,
                                       "the cluster's policy refused to " + request.verb + " " +
                                           What(request) + Where(request) + ": " + server_message);
      }
      const auto user = ForbiddenUser(server_message);
      const std::string who = user ? "you (" + *user + ") may" : "you may";
      const std::string scope =
          request.namespace_name.empty() ? "the cluster" : "namespace " + request.namespace_name;
      return CommandOutcome::Failure(ExitCode::kForbidden,
                                     "no rights: " + who + " not " + request.verb + " " +
                                         request.resource + Where(request) +
                                         "; ask an administrator of " + scope +
                                         " for that right (Ephemera's docs/cli.md lists what each "
                                         "command needs)");
    }
    case StatusCode::kUnauthenticated:
      return CommandOutcome::Failure(
          ExitCode::kUnreachable,
          "the cluster at " + server +
              " did not accept your credentials (401 Unauthorized): check the user in your "
              "kubeconfig (an expired token or certificate?)");
    case StatusCode::kNotFound:
      if (Contains(server_message, "the server could not find the requested resource")) {
        return CommandOutcome::Failure(ExitCode::kNotFound,
                                       "the cluster at " + server + " does not serve " +
                                           request.resource +
                                           ": Ephemera is not installed there (ask your cluster "
                                           "administrator to install its CRDs and controller)");
      }
      if (Contains(server_message, "namespaces \"")) {
        return CommandOutcome::Failure(ExitCode::kNotFound,
                                       "namespace " + request.namespace_name + " not found");
      }
      return CommandOutcome::Failure(ExitCode::kNotFound,
                                     What(request) + " not found" + Where(request));
    case StatusCode::kAlreadyExists:
      return CommandOutcome::Failure(
          ExitCode::kUsage,
          What(request) + " already exists" + Where(request) + ": choose another name");
    case StatusCode::kInvalidArgument:
      return CommandOutcome::Failure(ExitCode::kUsage, "the API server refused to " + request.verb +
                                                           " " + What(request) + ": " +
                                                           server_message);
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kResourceExhausted:
      return CommandOutcome::Failure(
          ExitCode::kUnreachable, "the API server at " + server + " could not " + request.verb +
                                      " " + What(request) + " right now (HTTP " +
                                      std::to_string(details->http_status) + " " + details->reason +
                                      ": " + server_message + "); try again in a moment");
    default:
      return CommandOutcome::Failure(
          ExitCode::kFailed,
          "cannot " + request.verb + " " + What(request) + Where(request) + ": " + server_message);
  }
}

CommandOutcome ExplainKubeconfigFailure(const Status& status,
                                        const kube::KubeConfigLocation& location) {
  if (status.code() == StatusCode::kNotFound && !location.in_cluster) {
    return CommandOutcome::Failure(
        ExitCode::kUnreachable,
        "no kubeconfig at " + location.Describe() + ": pass --kubeconfig FILE or set KUBECONFIG");
  }
  return CommandOutcome::Failure(ExitCode::kUnreachable,
                                 "cannot use " +
                                     std::string(location.in_cluster ? "" : "kubeconfig ") +
                                     location.Describe() + ": " + status.message());
}

}  // namespace ephemera::commands
