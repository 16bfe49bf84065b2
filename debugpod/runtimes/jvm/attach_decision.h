// Whether the jvm reader may start a HotSpot JVM's attach listener with SIGQUIT. Pure; thread-safe.
//
// A JVM that catches SIGQUIT but will not start its attach listener prints a full thread dump to
// its stdout (the pod's log, in plaintext, past the snapshot's encryption); a JVM that does not
// catch SIGQUIT (-Xrs, -XX:+ReduceSignalUsage) dies of it. So the reader never signals on a guess:
// it signals only when every fact it can read says the listener will start, and otherwise reports
// why it did not (docs/decisions/jvm-stacks.md). An attach socket that already exists needs no
// signal at all.
#ifndef EPHEMERA_DEBUGPOD_RUNTIMES_JVM_ATTACH_DECISION_H_
#define EPHEMERA_DEBUGPOD_RUNTIMES_JVM_ATTACH_DECISION_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ephemera::runtimes::jvm {

// What the reader learned about the JVM before deciding. Unknown facts are nullopt.
struct AttachFacts {
  bool socket_exists = false;  // .java_pid<nspid> in the JVM's /tmp, a socket owned by its user
  // SigCgt (/proc/<pid>/status) has SIGQUIT: the JVM installed its handler.
  std::optional<bool> sigquit_caught;
  // sun.rt.jvmCapabilities from the JVM's perf-data file; its first character is '1' when the
  // attach mechanism is enabled. nullopt: no perf data (-XX:-UsePerfData) or unreadable.
  std::optional<std::string> capabilities;
  std::vector<std::string> command_line;  // /proc/<pid>/cmdline, split at NUL
  // The values of JAVA_TOOL_OPTIONS, JDK_JAVA_OPTIONS and _JAVA_OPTIONS where set. nullopt: the
  // environment could not be read. Only searched for options, never reported.
  std::optional<std::vector<std::string>> option_variables;
  // The tool's effective UID and GID, and the JVM's (Uid/Gid lines of its status).
  unsigned tool_uid = 0;
  unsigned tool_gid = 0;
  std::optional<unsigned> jvm_uid;
  std::optional<unsigned> jvm_gid;
  // kill(pid, 0) succeeded: the kernel would let the tool signal the JVM.
  bool may_signal = false;
};

struct AttachPlan {
  enum class Action {
    kConnect,           // the socket is there: connect, send nothing else
    kSignalAndConnect,  // create the trigger file, SIGQUIT, wait for the socket, connect
    kRefuse,            // do neither; `reason` says why, ending in "no signal sent"
  };
  Action action = Action::kRefuse;
  std::string reason;
};

AttachPlan DecideAttach(const AttachFacts& facts);

// What HotSpot's options say about the attach mechanism, last setting winning, in the order the
// VM reads them: JAVA_TOOL_OPTIONS, JDK_JAVA_OPTIONS (the launcher's), the command line,
// _JAVA_OPTIONS. True for -XX:+DisableAttachMechanism, false for -XX:-DisableAttachMechanism,
// nullopt when neither appears.
std::optional<bool> AttachDisabledByOptions(const AttachFacts& facts);

// True when SIGQUIT's bit is set in a SigCgt hex mask ("0000000101005ccd"); nullopt when the
// mask does not parse.
std::optional<bool> SigQuitCaught(std::string_view sigcgt_hex);

}  // namespace ephemera::runtimes::jvm

#endif  // EPHEMERA_DEBUGPOD_RUNTIMES_JVM_ATTACH_DECISION_H_
