#include "audit/verify_command.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <istream>
#include <iterator>
#include <map>
#include <optional>
#include <ostream>

#include "audit/anchor.h"
#include "audit/audit_verifier.h"
#include "base/json_depth.h"
#include "base/status.h"

namespace ephemera::audit {
namespace {

constexpr std::string_view kUsage =
    "usage: audit verify [FILE|-] [--anchor CHAIN=[N:]sha256:HEX ...] [--anchors-file FILE] "
    "[--allow-partial] [-o text|json]\n"
    "Checks the audit hash chains in a stream of JSON lines (the controller's stdout).\n"
    "  FILE|-            the stream (default: standard input)\n"
    "  --anchor          a chain's trusted head, e.g. from a session's status.audit:\n"
    "                    session/<uid>=<records>:<head>; repeatable\n"
    "  --anchors-file    the anchors the controller keeps in its namespace, as written by\n"
    "                    kubectl get configmaps -n <controller namespace>\n"
    "                    -l ephemera.dev/audit-anchor=true -o json; --anchor wins for its chain\n"
    "  --allow-partial   accept chains whose first records are not in the input\n"
    "  -o text|json      output format (default text)\n"
    "Exit code: 0 verified, 1 problems found, 2 unreadable input or bad usage.\n";

struct Args {
  std::string file = "-";
  std::string anchors_file;
  VerifyOptions options;
  bool json = false;
  bool help = false;
};

// "CHAIN=[N:]sha256:HEX"; the chain is everything before the last '='.
StatusOr<std::pair<std::string, ChainHead>> ParseAnchor(std::string_view text) {
  const auto eq = text.rfind('=');
  if (eq == std::string_view::npos || eq == 0) {
    return InvalidArgumentError("--anchor wants CHAIN=[N:]sha256:HEX, got \"" + std::string(text) +
                                "\"");
  }
  std::string chain(text.substr(0, eq));
  std::string_view value = text.substr(eq + 1);
  ChainHead head;
  if (!value.starts_with("sha256:")) {
    const auto colon = value.find(':');
    std::uint64_t records = 0;
    const auto* end = value.data() + (colon == std::string_view::npos ? value.size() : colon);
    auto [ptr, ec] = std::from_chars(value.data(), end, records);
    if (colon == std::string_view::npos || ec != std::errc() || ptr != end) {
      return InvalidArgumentError("--anchor for " + chain +
                                  ": the record count before the head must be an integer, as in "
                                  "5:sha256:<hex>");
    }
    head.records = records;
    value = value.substr(colon + 1);
  }
  if (!IsAuditHash(value)) {
    return InvalidArgumentError("--anchor for " + chain +
                                ": the head must be sha256: and 64 lowercase hex digits");
  }
  head.hash = std::string(value);
  return std::make_pair(std::move(chain), std::move(head));
}

StatusOr<Args> ParseArgs(const std::vector<std::string>& argv) {
  Args args;
  bool have_file = false;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    auto value = [&](std::string_view flag) -> StatusOr<std::string> {
      const std::string with_eq = std::string(flag) + "=";
      if (a.starts_with(with_eq)) return a.substr(with_eq.size());
      if (i + 1 >= argv.size()) return InvalidArgumentError(std::string(flag) + " needs a value");
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      args.help = true;
    } else if (a == "--allow-partial") {
      args.options.allow_partial_chains = true;
    } else if (a == "--anchor" || a.starts_with("--anchor=")) {
      StatusOr<std::string> v = value("--anchor");
      if (!v.ok()) return v.status();
      auto anchor = ParseAnchor(*v);
      if (!anchor.ok()) return anchor.status();
      if (!args.options.anchors.insert(std::move(*anchor)).second) {
        return InvalidArgumentError("--anchor given twice for one chain");
      }
    } else if (a == "--anchors-file" || a.starts_with("--anchors-file=")) {
      StatusOr<std::string> v = value("--anchors-file");
      if (!v.ok()) return v.status();
      if (!args.anchors_file.empty()) return InvalidArgumentError("--anchors-file given twice");
      args.anchors_file = *v;
    } else if (a == "-o" || a == "--output" || a.starts_with("-o=") || a.starts_with("--output=")) {
      StatusOr<std::string> v = value(a.starts_with("--output") ? "--output" : "-o");
      if (!v.ok()) return v.status();
      if (*v != "text" && *v != "json") {
        return InvalidArgumentError("-o must be text or json, got \"" + *v + "\"");
      }
      args.json = *v == "json";
    } else if (a != "-" && a.starts_with("-")) {
      return InvalidArgumentError("unknown flag " + a);
    } else {
      if (have_file) return InvalidArgumentError("only one input file may be given");
      args.file = a;
      have_file = true;
    }
  }
  return args;
}

// Adds the anchors of the ConfigMaps in `path` to `anchors`, where no --anchor named the chain.
Status ReadAnchorsFile(const std::string& path, std::map<std::string, ChainHead>& anchors) {
  std::ifstream file(path, std::ios::binary);
  if (!file.is_open()) {
    return UnavailableError("cannot open " + path + ": " + std::strerror(errno));
  }
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) return UnavailableError("reading " + path + " failed");
  const nlohmann::json document = base::ParseJsonWithinDepth(text);
  if (document.is_discarded()) return InvalidArgumentError(path + " is not JSON");
  auto from_file = AnchorsFromJson(document);
  if (!from_file.ok()) return from_file.status().WithContext(path);
  for (auto& [chain, head] : *from_file) anchors.emplace(chain, std::move(head));
  return OkStatus();
}

}  // namespace

int RunAuditVerify(const std::vector<std::string>& argv, std::istream& in, std::ostream& out,
                   std::ostream& err, const std::map<std::string, ChainHead>& fetched) {
  StatusOr<Args> args = ParseArgs(argv);
  if (!args.ok()) {
    err << "audit verify: " << args.status().message() << "\n" << kUsage;
    return kVerifyExitUnreadable;
  }
  if (args->help) {
    out << kUsage;
    return kVerifyExitVerified;
  }
  if (!args->anchors_file.empty()) {
    if (Status read = ReadAnchorsFile(args->anchors_file, args->options.anchors); !read.ok()) {
      err << "audit verify: --anchors-file: " << read.message() << "\n";
      return kVerifyExitUnreadable;
    }
  }
  for (const auto& [chain, head] : fetched) args->options.anchors.emplace(chain, head);
  std::ifstream file;
  std::istream* input = &in;
  if (args->file != "-") {
    file.open(args->file, std::ios::binary);
    if (!file.is_open()) {
      err << "audit verify: cannot open " << args->file << ": " << std::strerror(errno) << "\n";
      return kVerifyExitUnreadable;
    }
    input = &file;
  }
  const VerifyReport report = VerifyAuditStream(*input, args->options);
  if (args->json) {
    out << VerifyReportToJson(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
        << "\n";
  } else {
    out << FormatVerifyReport(report);
  }
  if (!report.readable) {
    err << "audit verify: reading " << (args->file == "-" ? "standard input" : args->file)
        << " failed before its end\n";
    return kVerifyExitUnreadable;
  }
  return report.Verified() ? kVerifyExitVerified : kVerifyExitProblems;
}

}  // namespace ephemera::audit
