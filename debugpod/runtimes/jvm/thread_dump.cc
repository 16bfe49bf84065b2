#include "debugpod/runtimes/jvm/thread_dump.h"

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ephemera::runtimes::jvm {
namespace {

constexpr std::string_view kHeaderPrefix = "Full thread dump ";
constexpr std::string_view kStatePrefix = "java.lang.Thread.State: ";
constexpr std::string_view kOwnableHeader = "Locked ownable synchronizers:";
constexpr std::string_view kDeadlockHeader = "Found one Java-level deadlock:";
constexpr std::string_view kDeadlockStacksHeader = "Java stack information for the threads";

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

std::string_view Trim(std::string_view s) {
  s = TrimLeft(s);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

template <typename T>
bool ParseNumber(std::string_view text, T& out, int base = 10) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out, base);
  return ec == std::errc() && ptr == end;
}

// The value of `key=` among the space-separated attributes of a thread header ("nid=0x4570").
std::string_view Attribute(std::string_view attributes, std::string_view key) {
  size_t pos = 0;
  while ((pos = attributes.find(key, pos)) != std::string_view::npos) {
    if (pos == 0 || attributes[pos - 1] == ' ') {
      std::string_view value = attributes.substr(pos + key.size());
      return value.substr(0, value.find(' '));
    }
    pos += key.size();
  }
  return {};
}

// The largest thread id Linux hands out (PID_MAX_LIMIT on 64-bit kernels).
constexpr int kMaxTid = 4 << 20;

// nid is hexadecimal ("0x4570") before JDK 19 and decimal after. A tid is 1..kMaxTid: anything
// else ("-5", "0x0", "99999999") is no thread's id and is dropped.
std::optional<int> ParseNid(std::string_view nid) {
  int value = 0;
  const bool parsed =
      nid.starts_with("0x") ? ParseNumber(nid.substr(2), value, 16) : ParseNumber(nid, value);
  if (!parsed || value <= 0 || value > kMaxTid) return std::nullopt;
  return value;
}

class DumpParser {
 public:
  DumpParser(const RuntimeLimits& limits, const ThreadDumpLimits& dump_limits)
      : limits_(limits), dump_limits_(dump_limits) {}

  StatusOr<RuntimeStacks> Parse(std::string_view dump) {
    out_.language = "java";
    if (dump.size() > dump_limits_.max_dump_bytes) {
      dump = dump.substr(0, dump_limits_.max_dump_bytes);
      // The last line may be cut anywhere: drop it rather than parse half a frame.
      dump = dump.substr(0, dump.rfind('\n') + 1);
      out_.problems.push_back("jvm: thread dump cut at " +
                              std::to_string(dump_limits_.max_dump_bytes) + " bytes");
    }
    bool cut_line = false;
    while (!dump.empty()) {
      const size_t eol = dump.find('\n');
      std::string_view line = dump.substr(0, eol);
      dump.remove_prefix(eol == std::string_view::npos ? dump.size() : eol + 1);
      if (line.size() > dump_limits_.max_line_bytes) {
        line = line.substr(0, dump_limits_.max_line_bytes);
        cut_line = true;
      }
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      ParseLine(line);
    }
    if (!seen_header_) {
      return InvalidArgumentError("jvm: not a HotSpot thread dump (no \"Full thread dump\" line)");
    }
    FinishEdge();
    if (cut_line) {
      out_.problems.push_back("jvm: lines longer than " +
                              std::to_string(dump_limits_.max_line_bytes) + " bytes were cut");
    }
    if (out_.total > out_.stacks.size()) {
      out_.problems.push_back("jvm: only the first " + std::to_string(out_.stacks.size()) + " of " +
                              std::to_string(out_.total) + " Java threads");
    }
    if (deadlocks_dropped_ > 0) {
      out_.problems.push_back("jvm: " + std::to_string(deadlocks_dropped_) +
                              " more deadlocks not kept");
    }
    if (locks_cut_) {
      out_.problems.push_back("jvm: frames with more than " +
                              std::to_string(dump_limits_.max_locks_per_frame) +
                              " lock lines were cut");
    }
    if (strings_cut_) {
      out_.problems.push_back("jvm: names longer than " + std::to_string(limits_.max_string_bytes) +
                              " bytes were cut");
    }
    return std::move(out_);
  }

 private:
  enum class Mode { kThreads, kOwnable, kDeadlockCycle, kDeadlockStacks };

  std::string Bounded(std::string_view s) {
    if (s.size() > limits_.max_string_bytes) {
      strings_cut_ = true;
      s = s.substr(0, limits_.max_string_bytes);
    }
    return std::string(s);
  }

  void ParseLine(std::string_view line) {
    if (!seen_header_) {
      if (line.starts_with(kHeaderPrefix)) ParseHeader(line.substr(kHeaderPrefix.size()));
      return;
    }
    if (line.starts_with(kDeadlockHeader)) {
      FinishEdge();
      mode_ = Mode::kDeadlockCycle;
      current_ = nullptr;
      if (out_.deadlocks.size() < dump_limits_.max_deadlocks) {
        out_.deadlocks.emplace_back();
        deadlock_ = &out_.deadlocks.back();
      } else {
        ++deadlocks_dropped_;
        deadlock_ = nullptr;
      }
      return;
    }
    switch (mode_) {
      case Mode::kDeadlockCycle:
        ParseDeadlockLine(line);
        return;
      case Mode::kDeadlockStacks:
        return;  // the same stacks again, already read from the thread list
      case Mode::kOwnable:
        if (line.empty() || line.front() != '"') return;
        mode_ = Mode::kThreads;
        break;
      case Mode::kThreads:
        break;
    }
    if (!line.empty() && line.front() == '"') {
      ParseThreadHeader(line);
      return;
    }
    const std::string_view body = TrimLeft(line);
    if (body.starts_with(kOwnableHeader)) {
      mode_ = Mode::kOwnable;
      return;
    }
    if (current_ == nullptr) return;
    if (body.starts_with(kStatePrefix)) {
      std::string_view state = body.substr(kStatePrefix.size());
      current_->state = Bounded(state.substr(0, state.find(' ')));
    } else if (body.starts_with("at ")) {
      ParseFrame(body.substr(3));
    } else if (body.starts_with("- ")) {
      ParseLock(body.substr(2));
    }
  }

  // "OpenJDK 64-Bit Server VM (17.0.15+6-Debian-1deb12u1 mixed mode, sharing):"
  void ParseHeader(std::string_view rest) {
    seen_header_ = true;
    const size_t open = rest.find('(');
    if (open == std::string_view::npos) return;
    std::string_view version = rest.substr(open + 1);
    version = version.substr(0, version.find_first_of(" ,)"));
    out_.version = Bounded(version);
  }

  // "\"worker-0\" #26 [17879] daemon prio=5 os_prio=0 ... tid=0x... nid=17879 waiting on ..."
  // The name may hold any character, quotes too; the attributes after it hold none, so the name
  // ends at the line's last quote.
  void ParseThreadHeader(std::string_view line) {
    current_ = nullptr;
    const size_t close = line.rfind('"');
    if (close == 0) return;
    const std::string_view name = line.substr(1, close - 1);
    const std::string_view attributes = line.substr(close + 1);
    if (!attributes.starts_with(" #")) return;  // a JVM-internal thread: no Java frames
    ++out_.total;
    if (out_.stacks.size() >= limits_.max_stacks) return;
    RuntimeStack& stack = out_.stacks.emplace_back();
    stack.name = Bounded(name);
    std::string_view number = attributes.substr(2);
    stack.id = Bounded(number.substr(0, number.find(' ')));
    stack.tid = ParseNid(Attribute(attributes, "nid="));
    current_ = &stack;
    skipping_frames_ = false;
  }

  // "java.util.concurrent.locks.LockSupport.park(java.base@17.0.15/LockSupport.java:211)",
  // "Parked$$Lambda$2/0x00007f5568001800.run(Unknown Source)", "...(Native Method)".
  void ParseFrame(std::string_view text) {
    if (current_->frames.size() >= limits_.max_frames) {
      current_->frames_truncated = true;
      skipping_frames_ = true;
      return;
    }
    SourceFrame& frame = current_->frames.emplace_back();
    const size_t open = text.rfind('(');
    if (open == std::string_view::npos) {
      frame.function = Bounded(Trim(text));
      return;
    }
    frame.function = Bounded(text.substr(0, open));
    std::string_view location = text.substr(open + 1);
    if (!location.empty() && location.back() == ')') location.remove_suffix(1);
    // "java.base@17.0.15/Thread.java:840", "app//Main.java:12": the module or class loader
    // before the last '/' is not part of the file name.
    if (const size_t slash = location.rfind('/'); slash != std::string_view::npos) {
      location.remove_prefix(slash + 1);
    }
    if (location == "Native Method" || location == "Unknown Source") return;
    if (const size_t colon = location.rfind(':'); colon != std::string_view::npos) {
      int line = 0;
      if (ParseNumber(location.substr(colon + 1), line) && line > 0) {
        frame.line = line;
        location = location.substr(0, colon);
      }
    }
    frame.file = Bounded(location);
  }

  // "locked <0x000000069ec05850> (a java.io.BufferedInputStream)",
  // "parking to wait for  <0x...> (a java.util.concurrent.locks.ReentrantLock$NonfairSync)",
  // "waiting on <no object reference available>".
  void ParseLock(std::string_view text) {
    if (skipping_frames_ || current_->frames.empty()) return;
    const size_t open = text.find('<');
    if (open == std::string_view::npos) return;
    const size_t close = text.find('>', open);
    if (close == std::string_view::npos) return;
    std::vector<LockNote>& locks = current_->frames.back().locks;
    if (locks.size() >= dump_limits_.max_locks_per_frame) {
      locks_cut_ = true;
      return;
    }
    LockNote note;
    note.action = Bounded(Trim(text.substr(0, open)));
    note.id = Bounded(text.substr(open + 1, close - open - 1));
    std::string_view rest = Trim(text.substr(close + 1));
    if (rest.starts_with("(a ") && rest.ends_with(")")) {
      note.class_name = Bounded(rest.substr(3, rest.size() - 4));
    }
    locks.push_back(std::move(note));
  }

  // The cycle: for each member, "\"name\":" then indented lines up to a blank line, e.g.
  //   "deadlock-a":
  //     waiting to lock monitor 0x00007f55580016e0 (object 0x000000069ec1aca0, a java.lang.Object),
  //     which is held by "deadlock-b"
  void ParseDeadlockLine(std::string_view line) {
    if (line.starts_with(kDeadlockStacksHeader)) {
      FinishEdge();
      mode_ = Mode::kDeadlockStacks;
      return;
    }
    if (deadlock_ == nullptr || line.starts_with("===")) return;
    if (line.empty()) {
      FinishEdge();
      return;
    }
    if (line.front() == '"' && line.ends_with("\":")) {
      FinishEdge();
      if (deadlock_->members.size() < dump_limits_.max_deadlock_members) {
        deadlock_->members.push_back(Bounded(line.substr(1, line.size() - 3)));
        edge_ = std::string(line);
        in_edge_ = true;
      }
      return;
    }
    if (in_edge_ && edge_.size() < limits_.max_string_bytes) {
      edge_.append(" ").append(Trim(line));
    }
  }

  void FinishEdge() {
    if (!in_edge_ || deadlock_ == nullptr) return;
    in_edge_ = false;
    if (!deadlock_->description.empty()) deadlock_->description.push_back('\n');
    deadlock_->description.append(Bounded(edge_));
    edge_.clear();
  }

  const RuntimeLimits& limits_;
  const ThreadDumpLimits& dump_limits_;
  RuntimeStacks out_;
  bool seen_header_ = false;
  Mode mode_ = Mode::kThreads;
  RuntimeStack* current_ = nullptr;  // points into out_.stacks, which is only appended to
  bool skipping_frames_ = false;
  Deadlock* deadlock_ = nullptr;
  std::string edge_;
  bool in_edge_ = false;
  size_t deadlocks_dropped_ = 0;
  bool locks_cut_ = false;
  bool strings_cut_ = false;
};

}  // namespace

StatusOr<RuntimeStacks> ParseThreadDump(std::string_view dump, const RuntimeLimits& limits,
                                        const ThreadDumpLimits& dump_limits) {
  return DumpParser(limits, dump_limits).Parse(dump);
}

StatusOr<std::string_view> SplitAttachReply(std::string_view reply) {
  const size_t eol = reply.find('\n');
  if (eol == std::string_view::npos) {
    return DataLossError("jvm: the attach reply has no result line");
  }
  const std::string_view code_text = Trim(reply.substr(0, eol));
  std::string_view body = reply.substr(eol + 1);
  int code = 0;
  if (!ParseNumber(code_text, code)) {
    return DataLossError("jvm: the attach reply does not start with a result code");
  }
  if (code != 0) {
    std::string_view first = Trim(body.substr(0, body.find('\n')));
    if (first.size() > 200) first = first.substr(0, 200);
    return FailedPreconditionError("jvm: attach command failed (code " + std::to_string(code) +
                                   "): " + std::string(first));
  }
  return body;
}

}  // namespace ephemera::runtimes::jvm
