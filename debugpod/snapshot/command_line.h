// The command line of ephemera-snapshot: sections, flags, their defaults and the usage text.
//
// ParseCommandLine is pure: it turns argv (without argv[0]) into a CommandLine or an
// InvalidArgument whose message names the flag and says what to do; main prints it and exits 2.
// Thread safety: pure.
#ifndef EPHEMERA_DEBUGPOD_SNAPSHOT_COMMAND_LINE_H_
#define EPHEMERA_DEBUGPOD_SNAPSHOT_COMMAND_LINE_H_

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "redact/redactor.h"

namespace ephemera::snapshot {

// A part of the snapshot that can be selected with --capture. Declaration order is the canonical
// order in documents and usage text.
enum class Section { kProcess, kThreads, kStacks, kFds, kSockets, kMaps, kLimits, kCgroup, kEnv };

inline constexpr Section kAllSections[] = {Section::kProcess, Section::kThreads, Section::kStacks,
                                           Section::kFds,     Section::kSockets, Section::kMaps,
                                           Section::kLimits,  Section::kCgroup,  Section::kEnv};

// "process", "threads", ... as used in --capture and in documents.
std::string_view SectionName(Section section);
std::optional<Section> SectionFromName(std::string_view name);

// A set of sections, iterated in canonical order.
class SectionSet {
 public:
  static SectionSet All();
  void Add(Section section) { bits_ |= Bit(section); }
  bool Has(Section section) const { return (bits_ & Bit(section)) != 0; }
  bool IsEmpty() const { return bits_ == 0; }
  std::vector<Section> List() const;

 private:
  static unsigned Bit(Section section) { return 1u << static_cast<unsigned>(section); }
  unsigned bits_ = 0;
};

enum class OutputFormat { kAge, kJson };

// What the profile says about the tool's privileges; it only changes reporting: with kRestricted
// stacks are not attempted and are reported degraded.
enum class Profile { kRestricted, kPtrace };

std::string_view ProfileName(Profile profile);

inline constexpr std::chrono::milliseconds kDefaultDeadline{20000};
inline constexpr std::chrono::milliseconds kMinDeadline{1};
inline constexpr std::chrono::milliseconds kMaxDeadline{3600 * 1000};
inline constexpr size_t kMinContainerIdChars = 12;
inline constexpr size_t kDefaultMaxOutputBytes = 4 << 20;
inline constexpr size_t kMinMaxOutputBytes = 16 << 10;
inline constexpr size_t kMaxMaxOutputBytes = 64 << 20;

struct CommandLine {
  std::optional<int> pid;                   // --pid; unset: the lowest pid other than the tool
  SectionSet sections = SectionSet::All();  // --capture
  OutputFormat format = OutputFormat::kAge;
  std::vector<std::string> recipients;  // --recipient, age1… (required with --format age)
  Profile profile = Profile::kPtrace;
  std::chrono::milliseconds deadline = kDefaultDeadline;
  size_t max_output_bytes = kDefaultMaxOutputBytes;
  std::vector<std::string> allow_env;       // --allow-env
  std::vector<std::string> secret_env;      // --secret-env
  std::vector<std::string> extra_patterns;  // --extra-pattern
  // --pii: personal data masked in free text (redact::PiiMode). The default matches the cluster
  // policy's default; the controller always passes the session's mode.
  redact::PiiMode pii = redact::PiiMode::kStandard;
  // --container-id: the runtime ID of the target container (status.containerStatuses[].containerID,
  // with or without its "<runtime>://" scheme; stored without). Only processes whose
  // /proc/<pid>/cgroup names it are captured. "" = every process of the namespace.
  std::string container_id;
  // --host-namespaces allow: the session is a host session (the cluster policy allowed a target
  // pod that shares the node's namespaces). Without it the tool refuses to run in the node's PID
  // namespace. The controller always passes --container-id with it, so a host session still
  // captures only the target container.
  bool host_namespaces = false;
  bool help = false;
  bool version = false;
};

// Flags take their value as the next argument or after '=' ("--pid 7", "--pid=7"). Repeatable flags
// accumulate; --capture takes a comma-separated list (or "all"). --help or --version anywhere wins
// over every other flag and error.
StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args);

// "4194304", "512Ki", "4Mi" → bytes. InvalidArgument on anything else.
StatusOr<size_t> ParseByteSize(std::string_view text);

// The --help text.
std::string UsageText();

}  // namespace ephemera::snapshot

#endif  // EPHEMERA_DEBUGPOD_SNAPSHOT_COMMAND_LINE_H_
