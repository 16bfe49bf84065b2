// RunAuditVerify: the `audit verify` command, shared by `ephemera-controller audit verify` and
// `kubectl ephemera audit verify`.
//
//   audit verify [FILE|-] [--anchor CHAIN=[N:]sha256:HEX ...] [--anchors-file FILE]
//                [--allow-partial] [-o text|json]
//
// Reads JSON lines from FILE, or from `in` for "-" or no FILE, and runs VerifyAuditStream. Each
// --anchor gives a chain's trusted head (status.audit of the session: N = records; optional, 0
// or absent checks the hash only). --anchors-file reads the anchors the controller keeps as
// ConfigMaps in its namespace (anchor.h: a ConfigMap or a List, as kubectl get -o json prints it);
// an --anchor for the same chain wins.
// --allow-partial accepts chains that start after seq 1 in the input. Prints FormatVerifyReport
// (text, the default) or VerifyReportToJson (json) on `out`; usage errors and unreadable input go
// to `err`.
//
// Returns the process exit code: 0 verified, 1 problems found, 2 unreadable input or bad usage.
#ifndef EPHEMERA_AUDIT_VERIFY_COMMAND_H_
#define EPHEMERA_AUDIT_VERIFY_COMMAND_H_

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "audit/audit_record.h"

namespace ephemera::audit {

inline constexpr int kVerifyExitVerified = 0;
inline constexpr int kVerifyExitProblems = 1;
inline constexpr int kVerifyExitUnreadable = 2;

// `args` excludes the command words themselves ("audit", "verify"). `fetched` are anchors the
// caller read elsewhere (the CLI, from the cluster); --anchor and --anchors-file win over them for
// their chains.
int RunAuditVerify(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
                   std::ostream& err, const std::map<std::string, ChainHead>& fetched = {});

}  // namespace ephemera::audit

#endif  // EPHEMERA_AUDIT_VERIFY_COMMAND_H_
