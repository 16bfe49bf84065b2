#include "cli/commands/delivery.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ostream>
#include <utility>
#include <vector>

#include "base/hash.h"
#include "base/json_access.h"
#include "base/json_depth.h"
#include "base/secret_bytes.h"
#include "cli/commands/session_view.h"
#include "cli/report/report.h"
#include "envelope/envelope.h"
#include "kube/object/resource.h"

namespace ephemera::commands {
namespace {

using command_line::ExitCode;
using command_line::OutputFormat;
using nlohmann::json;

// The decrypted document of one snapshot is bounded by the tool's output cap; this is far above it.
constexpr std::size_t kMaxPlaintextBytes = std::size_t{256} << 20;

using base::StringAt;

}  // namespace

CommandOutcome WritePrivateFile(const std::string& path, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return CommandOutcome::Failure(ExitCode::kFailed,
                                   "cannot write " + path + ": " + std::strerror(errno));
  }
  // An existing file keeps its mode on O_TRUNC; a report holds process details, so narrow it.
  if (::fchmod(fd, 0600) != 0) {
    const int error = errno;
    ::close(fd);
    return CommandOutcome::Failure(ExitCode::kFailed,
                                   "cannot set mode 0600 on " + path + ": " + std::strerror(error));
  }
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      return CommandOutcome::Failure(ExitCode::kFailed,
                                     "cannot write " + path + ": " + std::strerror(error));
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::close(fd) != 0) {
    return CommandOutcome::Failure(ExitCode::kFailed,
                                   "cannot write " + path + ": " + std::strerror(errno));
  }
  return CommandOutcome::Success();
}

OutcomeOr<DecryptedSnapshot> FetchAndDecrypt(Cluster& cluster, const json& session,
                                             const identity::Identity& identity) {
  const std::string session_name = StringAt(session, "/metadata/name");
  std::string snapshot_name = StringAt(session, "/status/snapshot/name");
  if (snapshot_name.empty()) snapshot_name = session_name;

  auto snapshot = cluster.Client().Get(kube::DebugSnapshotsResource(),
                                       {cluster.NamespaceName(), snapshot_name});
  if (!snapshot.ok()) {
    if (snapshot.status().code() == StatusCode::kNotFound) {
      // Completed, but the controller may have wiped it at expiry since we read the session.
      auto fresh = cluster.Client().Get(kube::DebugSessionsResource(),
                                        {cluster.NamespaceName(), session_name});
      if (fresh.ok()) {
        CommandOutcome why = CheckFetchable(*fresh);
        if (!why.Succeeded()) return why;
      }
      return CommandOutcome::Failure(
          ExitCode::kNotFound, "DebugSnapshot " + snapshot_name + " of session " + session_name +
                                   " not found in namespace " + cluster.NamespaceName() +
                                   " (wiped, or deleted by someone)");
    }
    return ExplainApiFailure(snapshot.status(),
                             cluster.Request("get", "debugsnapshots.ephemera.dev", snapshot_name));
  }

  const std::string ciphertext = StringAt(*snapshot, "/spec/ciphertext");
  const std::string recorded = StringAt(*snapshot, "/spec/sha256");
  const std::string expected = StringAt(session, "/status/snapshot/sha256");
  const std::string actual = base::Sha256Hex(ciphertext);
  if (ciphertext.empty() || actual != recorded || (!expected.empty() && actual != expected)) {
    return CommandOutcome::Failure(ExitCode::kFailed,
                                   "DebugSnapshot " + snapshot_name +
                                       " does not match its digest (ciphertext sha256 " + actual +
                                       ", recorded " + (expected.empty() ? recorded : expected) +
                                       "): it was altered after delivery, so it is not decrypted");
  }

  std::vector<std::string> recipients;
  const json::json_pointer recipients_at("/spec/recipients");
  if (snapshot->contains(recipients_at) && snapshot->at(recipients_at).is_array()) {
    for (const json& r : snapshot->at(recipients_at)) {
      if (r.is_string()) recipients.push_back(r.get<std::string>());
    }
  }
  const bool listed =
      std::find(recipients.begin(), recipients.end(), identity.Recipient()) != recipients.end();
  if (!recipients.empty() && !listed) {
    return CommandOutcome::Failure(
        ExitCode::kIdentity,
        WrongIdentityMessage(recipients, identity.Recipient(), identity.Path()));
  }

  auto opened = envelope::Open(ciphertext, identity.Secrets(), kMaxPlaintextBytes);
  if (!opened.ok()) {
    if (opened.status().code() == StatusCode::kPermissionDenied) {
      return CommandOutcome::Failure(
          ExitCode::kIdentity,
          WrongIdentityMessage(recipients, identity.Recipient(), identity.Path()));
    }
    return CommandOutcome::Failure(
        ExitCode::kFailed,
        "cannot decrypt DebugSnapshot " + snapshot_name + ": " + opened.status().message());
  }
  auto plaintext = base::SecretBytes::Adopt(std::move(*opened));
  // Depth-limited: -o json prints the document, which recurses once per level.
  json document = base::ParseJsonWithinDepth(plaintext.View());
  if (document.is_discarded()) {
    return CommandOutcome::Failure(ExitCode::kFailed,
                                   "DebugSnapshot " + snapshot_name +
                                       " decrypted to something that is not "
                                       "JSON; is your kubectl-ephemera too old?");
  }
  return DecryptedSnapshot{std::move(*snapshot), std::move(document)};
}

CommandOutcome DeliverReport(Cluster& cluster, const json& session,
                             const identity::Identity& identity, OutputFormat format,
                             const std::string& file, const report::ReportOptions& options,
                             Io& io) {
  auto decrypted = FetchAndDecrypt(cluster, session, identity);
  if (!decrypted.HasValue()) return decrypted.Outcome();
  const json& document = decrypted->document;
  const std::string session_name = StringAt(session, "/metadata/name");

  StatusOr<std::string> rendered = std::string();
  if (format == OutputFormat::kJson) {
    rendered = document.dump(2) + "\n";
  } else {
    report::ReportContext context;
    context.session = session_name;
    context.namespace_name = cluster.NamespaceName();
    context.requester = StringAt(session, "/spec/requestedBy/username");
    context.reason = StringAt(session, "/spec/reason");
    context.captured_at = StringAt(decrypted->snapshot, "/spec/capturedAt");
    context.pod = StringAt(session, "/spec/target/pod");
    context.container = StringAt(session, "/spec/target/container");
    rendered = format == OutputFormat::kHtml ? report::RenderHtml(document, context, options)
                                             : report::RenderText(document, context, options);
  }
  if (!rendered.ok()) {
    return CommandOutcome::Failure(
        ExitCode::kFailed,
        "cannot render the snapshot of " + session_name + ": " + rendered.status().message());
  }
  auto output = base::SecretBytes::Adopt(std::move(*rendered));
  if (file.empty()) {
    io.out << output.View();
    io.out.flush();
    return CommandOutcome::Success();
  }
  CommandOutcome written = WritePrivateFile(file, output.View());
  if (written.Succeeded()) {
    io.err << "Wrote the " << command_line::OutputFormatName(format) << " report of session "
           << session_name << " to " << file << " (mode 0600)\n";
  }
  return written;
}

}  // namespace ephemera::commands
