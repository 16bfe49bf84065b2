#include "cli/commands/commands.h"

#include <istream>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <utility>

#include "audit/anchor.h"
#include "audit/verify_command.h"
#include "cli/command_line/completion.h"
#include "cli/command_line/usage.h"
#include "cli/commands/cluster.h"
#include "cli/commands/delivery.h"
#include "cli/commands/session_view.h"
#include "cli/commands/yaml_view.h"
#include "cli/identity/identity_file.h"
#include "kube/object/resource.h"

namespace ephemera::commands {
namespace {

using command_line::Command;
using command_line::CommandLine;
using command_line::ExitCode;
using command_line::OutputFormat;
using nlohmann::json;

constexpr const char* kSessionsResource = "debugsessions.ephemera.dev";

CommandOutcome IdentityFailure(const Status& status) {
  return CommandOutcome::Failure(ExitCode::kIdentity, status.message());
}

}  // namespace

OutcomeOr<std::unique_ptr<Cluster>> OpenCluster(const command_line::GlobalOptions& global, Io& io) {
  if (io.open_cluster) return io.open_cluster(global);
  return Cluster::Open(global, io.getenv, io.clock);
}

int RunCommandLine(const std::vector<std::string>& args, Io& io) {
  // Shell completion: what kubectl_complete-ephemera and the bash script ask for.
  if (!args.empty() && args[0] == "__complete") {
    io.out << command_line::FormatCompletion(
        command_line::Complete(std::vector<std::string>(args.begin() + 1, args.end())));
    return 0;
  }
  if (!args.empty() && args[0] == "completion") {
    if (args.size() == 2 && args[1] == "bash") {
      io.out << command_line::BashCompletionScript();
      return 0;
    }
    io.err << "error: completion takes the name of a shell: 'kubectl-ephemera completion bash' "
              "(kubectl ephemera completes in any shell kubectl completes in, through "
              "kubectl_complete-ephemera)\n";
    return command_line::ToInt(ExitCode::kUsage);
  }
  auto cl = command_line::ParseCommandLine(args);
  if (!cl.ok()) {
    io.err << "error: " << cl.status().message() << "\n";
    return command_line::ToInt(ExitCode::kUsage);
  }
  if (cl->help || cl->command == Command::kNone) {
    if (cl->command == Command::kAuditVerify) {
      io.out << command_line::UsageText(Command::kAuditVerify);
      return 0;
    }
    (cl->help ? io.out : io.err) << command_line::UsageText(cl->command);
    return cl->help ? 0 : command_line::ToInt(ExitCode::kUsage);
  }
  CommandOutcome outcome;
  switch (cl->command) {
    case Command::kKeys:
      outcome = RunKeys(*cl, io);
      break;
    case Command::kSnapshot:
      outcome = RunSnapshot(*cl, io);
      break;
    case Command::kLogs:
      outcome = RunLogs(*cl, io);
      break;
    case Command::kGet:
      outcome = RunGet(*cl, io);
      break;
    case Command::kList:
      outcome = RunList(*cl, io);
      break;
    case Command::kFetch:
      outcome = RunFetch(*cl, io);
      break;
    case Command::kAuditVerify:
      outcome = RunAuditVerifyCommand(*cl, io);
      break;
    case Command::kVersion:
      io.out << command_line::VersionText();
      break;
    case Command::kNone:
      break;
  }
  if (!outcome.message.empty()) io.err << "error: " << outcome.message << "\n";
  return command_line::ToInt(outcome.exit_code);
}

CommandOutcome RunKeys(const CommandLine& cl, Io& io) {
  const std::string path = identity::IdentityPath(io.getenv);
  if (cl.keys.show) {
    auto loaded = identity::LoadIdentity(path);
    if (!loaded.ok()) return IdentityFailure(loaded.status());
    io.out << loaded->Recipient() << "\n";
    return CommandOutcome::Success();
  }
  auto ensured = identity::EnsureIdentity(path, io.clock.Now());
  if (!ensured.ok()) return IdentityFailure(ensured.status());
  if (ensured->created) {
    io.err << "Created your age identity at " << path
           << " (mode 0600); snapshots will be encrypted to its recipient:\n";
  }
  io.out << ensured->identity.Recipient() << "\n";
  return CommandOutcome::Success();
}

CommandOutcome RunGet(const CommandLine& cl, Io& io) {
  auto cluster = OpenCluster(cl.global, io);
  if (!cluster.HasValue()) return cluster.Outcome();
  Cluster& c = **cluster;
  auto session =
      c.Client().Get(kube::DebugSessionsResource(), {c.NamespaceName(), cl.query.session});
  if (!session.ok()) {
    return ExplainApiFailure(session.status(),
                             c.Request("get", kSessionsResource, cl.query.session));
  }
  if (cl.query.output == OutputFormat::kJson) {
    io.out << ForPrinting(*session).dump(2) << "\n";
  } else if (cl.query.output == OutputFormat::kYaml) {
    io.out << ToYaml(ForPrinting(*session));
  } else {
    io.out << FormatSessionDetails(*session, io.clock.Now());
  }
  return CommandOutcome::Success();
}

CommandOutcome RunList(const CommandLine& cl, Io& io) {
  auto cluster = OpenCluster(cl.global, io);
  if (!cluster.HasValue()) return cluster.Outcome();
  Cluster& c = **cluster;
  // An empty namespace lists every namespace's sessions (the path without /namespaces/NS).
  const bool all = cl.query.all_namespaces;
  auto list = c.Client().List(kube::DebugSessionsResource(), all ? "" : c.NamespaceName());
  if (!list.ok()) {
    ApiRequest request = c.Request("list", kSessionsResource);
    if (all) request.namespace_name.clear();
    return ExplainApiFailure(list.status(), request);
  }
  if (cl.query.output == OutputFormat::kJson || cl.query.output == OutputFormat::kYaml) {
    // A List, as kubectl prints one.
    json items = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", json::array()}};
    for (const json& item : list->items) items["items"].push_back(ForPrinting(item));
    io.out << (cl.query.output == OutputFormat::kJson ? items.dump(2) + "\n" : ToYaml(items));
    return CommandOutcome::Success();
  }
  if (list->items.empty()) {
    io.err << (all ? std::string("No DebugSessions in any namespace.\n")
                   : "No DebugSessions in namespace " + c.NamespaceName() + ".\n");
    return CommandOutcome::Success();
  }
  io.out << FormatSessionTable(
      list->items, io.clock.Now(),
      SessionTableOptions{.all_namespaces = all, .wide = cl.query.output == OutputFormat::kWide});
  return CommandOutcome::Success();
}

CommandOutcome RunFetch(const CommandLine& cl, Io& io) {
  auto cluster = OpenCluster(cl.global, io);
  if (!cluster.HasValue()) return cluster.Outcome();
  Cluster& c = **cluster;
  auto session =
      c.Client().Get(kube::DebugSessionsResource(), {c.NamespaceName(), cl.fetch.session});
  if (!session.ok()) {
    return ExplainApiFailure(session.status(),
                             c.Request("get", kSessionsResource, cl.fetch.session));
  }
  CommandOutcome fetchable = CheckFetchable(*session);
  if (!fetchable.Succeeded()) return fetchable;
  const std::string path = identity::IdentityPath(io.getenv);
  auto loaded = identity::LoadIdentity(path);
  if (!loaded.ok()) {
    if (loaded.status().code() != StatusCode::kNotFound) return IdentityFailure(loaded.status());
    // A new identity would not help: say which one the snapshot needs.
    std::string recipients;
    for (const json& r :
         session->value("spec", json::object()).value("recipients", json::array())) {
      if (!r.is_string()) continue;
      if (!recipients.empty()) recipients += ", ";
      recipients += r.get<std::string>();
    }
    return CommandOutcome::Failure(
        ExitCode::kIdentity, "no identity at " + path + ": this snapshot is encrypted to " +
                                 recipients +
                                 "; fetch it where that identity is, or set EPHEMERA_IDENTITY to "
                                 "its file");
  }
  return DeliverReport(c, *session, *loaded, cl.fetch.output, cl.fetch.file,
                       report::ReportOptions{cl.fetch.native_frames}, io);
}

namespace {

// A session's chain and the head its status records, if it records one.
std::optional<std::pair<std::string, audit::ChainHead>> AnchorOf(const json& session) {
  const json::json_pointer uid_at("/metadata/uid");
  const json::json_pointer audit_at("/status/audit");
  if (!session.contains(uid_at) || !session.at(uid_at).is_string() || !session.contains(audit_at)) {
    return std::nullopt;
  }
  auto head = audit::ChainHeadFromJson(session.at(audit_at));
  if (!head.ok() || head->hash.empty()) return std::nullopt;
  return std::make_pair(audit::SessionChain(session.at(uid_at).get<std::string>()), *head);
}

}  // namespace

CommandOutcome RunAuditVerifyCommand(const CommandLine& cl, Io& io) {
  const bool from_sessions = (!cl.global.kubeconfig.empty() || !cl.global.namespace_name.empty() ||
                              !cl.global.context.empty() || !cl.audit.sessions.empty()) &&
                             !cl.audit.has_anchor;
  const bool from_controller = !cl.audit.controller_namespace.empty();
  std::map<std::string, audit::ChainHead> anchors;
  if (from_sessions || from_controller) {
    auto cluster = OpenCluster(cl.global, io);
    if (!cluster.HasValue()) return cluster.Outcome();
    Cluster& c = **cluster;
    std::vector<json> sessions;
    if (from_sessions && cl.audit.sessions.empty()) {
      auto list = c.Client().List(kube::DebugSessionsResource(), c.NamespaceName());
      if (!list.ok()) return ExplainApiFailure(list.status(), c.Request("list", kSessionsResource));
      sessions = std::move(list->items);
    }
    for (const std::string& name : cl.audit.sessions) {
      auto session = c.Client().Get(kube::DebugSessionsResource(), {c.NamespaceName(), name});
      if (!session.ok()) {
        return ExplainApiFailure(session.status(), c.Request("get", kSessionsResource, name));
      }
      sessions.push_back(std::move(*session));
    }
    if (from_controller) {
      // The heads the controller keeps in its own namespace, which the sessions' requesters
      // cannot delete: they win over status.audit. With --session, only those sessions' chains.
      kube::ListOptions options;
      options.label_selector = std::string(audit::kAnchorSelector);
      const kube::GroupVersionResource config_maps{"", "v1", "configmaps", true, ""};
      auto list = c.Client().List(config_maps, cl.audit.controller_namespace, options);
      if (!list.ok()) {
        return ExplainApiFailure(list.status(), c.Request("list", "configmaps"));
      }
      auto kept = audit::AnchorsFromJson(json{{"items", std::move(list->items)}});
      if (!kept.ok()) {
        return CommandOutcome::Failure(
            ExitCode::kUsage, "the audit anchors in namespace " + cl.audit.controller_namespace +
                                  " cannot be read: " + kept.status().message());
      }
      std::set<std::string> wanted;
      for (const json& session : sessions) {
        if (auto anchor = AnchorOf(session)) wanted.insert(anchor->first);
      }
      for (auto& [chain, head] : *kept) {
        if (cl.audit.sessions.empty() || wanted.count(chain) > 0) anchors.emplace(chain, head);
      }
      io.err << "Anchoring " << anchors.size() << " chain(s) at the heads kept in namespace "
             << cl.audit.controller_namespace << "\n";
    }
    if (from_sessions) {
      std::size_t added = 0;
      for (const json& session : sessions) {
        if (auto anchor = AnchorOf(session)) added += anchors.emplace(*anchor).second ? 1 : 0;
      }
      io.err << "Anchoring " << added << " session chain(s) at the heads recorded in namespace "
             << c.NamespaceName() << "\n";
    }
  }
  const int code = audit::RunAuditVerify(cl.audit.args, io.in, io.out, io.err, anchors);
  return CommandOutcome{static_cast<ExitCode>(code), ""};
}

}  // namespace ephemera::commands
