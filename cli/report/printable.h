// Text from a target made safe to print on a terminal: every control character (C0, DEL, C1) and
// bidirectional override becomes a visible escape ("\x1B", "\u009B", "\u202E"), so that a cmdline,
// a thread name or a log line cannot move the cursor, recolour the terminal or reorder what the
// reader sees. Used by the text report and by `kubectl ephemera logs`. Pure; no shared state.
#ifndef EPHEMERA_CLI_REPORT_PRINTABLE_H_
#define EPHEMERA_CLI_REPORT_PRINTABLE_H_

#include <string>
#include <string_view>

namespace ephemera::report {

// `text` with the escapes above; everything else (including other UTF-8) is copied unchanged.
std::string Printable(std::string_view text);

}  // namespace ephemera::report

#endif  // EPHEMERA_CLI_REPORT_PRINTABLE_H_
