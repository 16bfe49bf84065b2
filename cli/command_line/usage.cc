#include "cli/command_line/usage.h"

#ifndef EPHEMERA_VERSION
#define EPHEMERA_VERSION "0.0.0"
#endif

namespace ephemera::command_line {
namespace {

constexpr const char* kGlobalFlagsText = R"(Global flags (anywhere on the line):
  --kubeconfig FILE     kubeconfig to use (default: $KUBECONFIG, its first entry, else ~/.kube/config)
  -n, --namespace NS    namespace (default: the kubeconfig context's namespace, else "default")
  --context NAME        kubeconfig context (default: its current-context)
  -h, --help            this help
)";

constexpr const char* kExitCodesText = R"(Exit codes:
  0   success
  1   other failure (e.g. a snapshot that fails its sha256 check, a session not finished yet)
  2   usage error, or a request the API server rejected as invalid
  3   cannot use or reach the cluster (kubeconfig, network, TLS) or not authenticated
  4   no rights: the message names the verb, resource and namespace
  5   no such session, pod or container
  6   the session was denied (its reason is printed)
  7   the session failed (its reason is printed)
  8   the session's TTL is over: its snapshot was wiped, nothing to fetch
  9   your age identity is missing, unsafe (file mode) or not a recipient of the snapshot
  10  snapshot or logs: --timeout passed before the session finished
)";

constexpr const char* kOverview =
    R"(kubectl-ephemera: look inside a running container without a shell, a debug port or a leaked
secret. Ephemera's controller injects a shell-less ephemeral container that captures the process
state (threads, stacks, open files, sockets, memory, redacted environment), encrypts it to your
age key, and destroys it when the session's TTL lapses.

Usage: kubectl ephemera COMMAND [ARGS] [FLAGS]    (or kubectl-ephemera …)

Commands:
  keys                   create (if absent) and print your age recipient
  snapshot POD           capture a snapshot of POD and print the report
  logs POD               read POD's recent log, redacted, through a session (like kubectl logs)
  get SESSION            show one session's status
  list                   list the sessions in the namespace
  fetch SESSION          fetch and decrypt a completed session's snapshot
  audit verify [FILE|-]  verify an audit trail (hash chain)
  version                print the version
  completion bash        print a bash completion script for kubectl-ephemera (kubectl ephemera
                         completes through kubectl_complete-ephemera, installed beside it)

Run 'kubectl ephemera COMMAND --help' for a command's flags.

)";

constexpr const char* kKeys = R"(Usage: kubectl ephemera keys [--show]

Creates your age identity if it does not exist yet and prints its public recipient (age1…), which
snapshots are encrypted to. The identity (secret) stays in a file only you can read:
  $EPHEMERA_IDENTITY, else $XDG_CONFIG_HOME/ephemera/identity.txt, else ~/.config/ephemera/identity.txt
created with mode 0600 in a directory created with mode 0700, in the format age-keygen writes (so
`age -d -i FILE` decrypts Ephemera's snapshots too). An identity file that others can read is
refused: run chmod 600 on it.

Flags:
  --show    print the recipient of the existing identity; never create one

)";

constexpr const char* kSnapshot = R"(Usage: kubectl ephemera snapshot POD --reason TEXT [flags]

Creates a DebugSession for POD (creating your identity first if needed) with your recipient, shows
its progress on stderr, then fetches the DebugSnapshot, checks its sha256, decrypts it with your
identity and prints the report.

Flags:
  -c, --container NAME   target container (default: the pod's default container)
  --reason TEXT          why (required, at least 10 characters), e.g. "INC-1234 checkout returns 500"
  --ttl DURATION         how long the session and its snapshot live, 30s..24h (default: the
                         cluster policy's defaultTtl, 5m unless configured)
  --profile NAME         restricted (default; Go, Python, Java stacks) or ptrace (+native; grant)
  --capture LIST         sections, comma-separated: process,threads,stacks,fds,sockets,maps,limits,
                         cgroup,env,logs (default: all but env and logs)
  --tail N               with logs: the last N lines of each instance (default: the cluster's, 1000)
  --limit-bytes N        with logs: read at most N bytes per instance (default: the cluster's, 256Ki)
  --since DURATION       with logs: only lines newer than DURATION, e.g. 10m (default: no window)
  --previous[=BOOL]      with logs: also read the previous instance after a restart (default true);
  --no-previous          --no-previous or --previous=false reads the current instance only
  --pii MODE             personal data masked in free text: none, standard (e-mail, card numbers,
                         IBANs, phone numbers) or strict (also IP addresses); default: the
                         cluster's (standard unless its policy says otherwise)
  --name NAME            session name (default: generated from the pod name)
  --timeout DURATION     how long to wait for the snapshot (default 2m)
  -o, --output FORMAT    text (default), json (the decrypted document) or html (one file)
  -f, --file FILE        write the report to FILE (mode 0600) instead of stdout
  --native-frames        also show the native stacks of threads that have a Go, Python or Java
                         stack (text: hidden, one line says how many; html: expanded)

Example:
  kubectl ephemera snapshot checkout-7d9f -n shop -c app --reason "INC-1234 checkout returns 500"

)";

constexpr const char* kLogs =
    R"(Usage: kubectl ephemera logs POD --reason TEXT [-c CONTAINER] [--tail N] [--since DURATION]
                           [--limit-bytes N] [--no-previous] [--timestamps] [-o text|json]

Reads the recent log of a container of POD the way Ephemera reads everything: it creates a
DebugSession with capture [logs] (creating your identity first if needed), shows its progress on
stderr, and the controller reads the log through pods/log after checking that you may (get
pods/log, or use on debugprofiles/logs when the cluster's policy says so), redacts it like the rest
of a snapshot, encrypts it to you and records the pull in the audit trail. The CLI then fetches the
DebugSnapshot, checks its sha256 and decrypts it with your identity.

Output: per instance of the container, oldest first (the previous instance, then the current one),
a header line on stderr, e.g.
  == previous instance (restart count 3; exited 137, OOMKilled, at 2026-12-06T17:57:00Z) ==
then its redacted lines on stdout, with terminal control characters shown as escapes (\x1B).
An instance that could not be read says why on stderr. -o json prints the logs section as JSON.

Flags:
  -c, --container NAME   container (default: the pod's default container)
  --reason TEXT          why (required, at least 10 characters), e.g. "INC-1234 checkout crashes"
  --tail N               the last N lines of each instance (default: the cluster's, 1000)
  --limit-bytes N        read at most N bytes per instance (default: the cluster's, 256Ki)
  --since DURATION       only lines newer than DURATION, e.g. 10m (default: no window)
  --previous[=BOOL]      also read the previous instance after a restart (default true; unlike
  --no-previous          kubectl logs, where --previous reads only that one)
  --timestamps           keep the kubelet's RFC 3339 timestamp in front of each line
  --pii MODE             personal data masked: none, standard or strict (default: the cluster's)
  --ttl DURATION         how long the session and its snapshot live, 30s..24h (default: the
                         cluster policy's defaultTtl, 5m unless configured)
  --name NAME            session name (default: generated from the pod name)
  --timeout DURATION     how long to wait for the log (default 2m)
  -o, --output FORMAT    text (default) or json (the logs section of the document)

The cluster's policy caps --tail, --limit-bytes and --since; a request above a cap is refused with
the cap in the message. Exit code 0 when at least one instance was read (an absent previous
instance is not an error), 1 when none could be.

Example:
  kubectl ephemera logs checkout-7d9f -n shop -c app --since 15m --reason "INC-1234 checkout 500s"

)";

constexpr const char* kGet = R"(Usage: kubectl ephemera get SESSION [-o text|json|yaml]

Shows one DebugSession: phase, target, requester, reason, time left, conditions, snapshot digest and
audit head. -o json and -o yaml print the object as the API server returns it.

)";

constexpr const char* kList = R"(Usage: kubectl ephemera list [-A] [-o text|json|yaml|wide]

Lists the DebugSessions of the namespace: NAME PHASE TARGET REQUESTER AGE EXPIRES-IN.
  -A, --all-namespaces   every namespace's sessions, with a NAMESPACE column first
  -o wide                also PROFILE, EPHEMERAL-CONTAINER and REASON
  -o json, -o yaml       a List of the objects, as kubectl prints one

)";

constexpr const char* kFetch =
    R"(Usage: kubectl ephemera fetch SESSION [-o text|json|html] [-f FILE] [--native-frames]

Fetches the DebugSnapshot of a Completed session, checks its sha256 against the session's status,
decrypts it with your identity and prints the report (text), the document (json) or one HTML file.

Flags:
  -o, --output FORMAT    text (default), json or html
  -f, --file FILE        write to FILE (mode 0600) instead of stdout
  --native-frames        also show the native stacks of threads that have a Go, Python or Java
                         stack (text: hidden, one line says how many; html: expanded)

)";

constexpr const char* kAuditVerify =
    R"(Usage: kubectl ephemera audit verify [FILE|-] [--anchor CHAIN=[N:]sha256:HEX ...]
                                    [--anchors-file FILE] [--controller-namespace NS]
                                    [--session NAME ...] [--allow-partial] [-o text|json]

Verifies an audit trail (the controller's JSON-lines audit records, from FILE or stdin): every
record's hash, every chain's links. Each --anchor gives a chain's trusted head; a session's chain is
"session/<session uid>" and its head is in the session's status.audit. With --session NAME
(repeatable) those sessions' heads are fetched and used as anchors; when --kubeconfig, --namespace
or --context is given and neither --anchor nor --session, every DebugSession of the namespace is.
--controller-namespace NS also reads the heads the controller keeps as ConfigMaps in its namespace
(label ephemera.dev/audit-anchor), where requesters cannot delete them; they win over the
sessions' status. --anchors-file reads the same from kubectl get configmaps -o json.

Exit codes of audit verify: 0 verified, 1 problems found, 2 unreadable input or bad usage,
3/4 as below when fetching anchors from the cluster.

)";

}  // namespace

std::string UsageText(Command command) {
  std::string text;
  switch (command) {
    case Command::kNone:
    case Command::kVersion:
      text = kOverview;
      break;
    case Command::kKeys:
      text = kKeys;
      break;
    case Command::kSnapshot:
      text = kSnapshot;
      break;
    case Command::kLogs:
      text = kLogs;
      break;
    case Command::kGet:
      text = kGet;
      break;
    case Command::kList:
      text = kList;
      break;
    case Command::kFetch:
      text = kFetch;
      break;
    case Command::kAuditVerify:
      text = kAuditVerify;
      break;
  }
  return text + kGlobalFlagsText + "\n" + kExitCodesText;
}

std::string VersionText() { return std::string("kubectl-ephemera ") + EPHEMERA_VERSION + "\n"; }

}  // namespace ephemera::command_line
