// The command line of ephemera-snapshot: sections, flags, their defaults and the usage text.
//
// The flags the controller passes are api::ToolArgs (api/tool_args.h), parsed there; this adds the
// tool's own flags for local runs (--pid, --format, --max-output-bytes, --help, --version), the
// section names and the rules between flags. ParseCommandLine is pure: it turns argv (without
// argv[0]) into a CommandLine or an InvalidArgument whose message names the flag and says what to
// do; main prints it and exits 2. Thread safety: pure.
#ifndef EPHEMERA_DEBUGPOD_SNAPSHOT_COMMAND_LINE_H_
#define EPHEMERA_DEBUGPOD_SNAPSHOT_COMMAND_LINE_H_

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/debug_session.h"
#include "api/tool_args.h"
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

// What the profile says about the tool's privileges (the session's spec.profile); to the capture
// it only changes reporting: with kRestricted stacks are not attempted and are reported degraded.
using api::Profile;
using api::ProfileName;

inline constexpr size_t kDefaultMaxOutputBytes = 4 << 20;
inline constexpr size_t kMinMaxOutputBytes = 16 << 10;
inline constexpr size_t kMaxMaxOutputBytes = 64 << 20;

struct CommandLine {
  // The flags the controller passes (--recipient, --profile, --deadline, --cpu-budget,
  // --memory-budget, --container-id,
  // --host-namespaces, --capture, --pii, --allow-env, --secret-env, --extra-pattern). With
  // --host-namespaces allow the controller always passes --container-id too, so a host session
  // still captures only the target container.
  api::ToolArgs tool;
  SectionSet sections = SectionSet::All();   // tool.capture, checked: the sections to capture
  std::optional<int> pid;                    // --pid; unset: the lowest pid other than the tool
  OutputFormat format = OutputFormat::kAge;  // --format; age needs at least one --recipient
  size_t max_output_bytes = kDefaultMaxOutputBytes;  // --max-output-bytes
  // --capture names logs: the tool reads no log (only the controller can: pods/log), but writes
  // the values it hides into the document's controllerOnly section, so that the controller scrubs
  // them from the log it pulls (docs/decisions/log-pull.md). Refused with --format json, which
  // would print them.
  bool value_keys_for_controller = false;
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
