#include "debugpod/procfs/pressure.h"

#include <string>
#include <vector>

#include "debugpod/procfs/process_files.h"

namespace ephemera::procfs {
namespace {

// "12.34" → 12.34; the kernel prints "%lu.%02lu", so anything else is refused, as are values over
// 100 percent.
std::optional<double> ParsePercent(std::string_view text) {
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.size() > 3 || fraction.size() > 2) return std::nullopt;
  if (dot != std::string_view::npos && fraction.empty()) return std::nullopt;
  std::optional<uint64_t> w = ParseUnsigned(whole);
  std::optional<uint64_t> f =
      fraction.empty() ? std::optional<uint64_t>(0) : ParseUnsigned(fraction);
  if (!w || !f) return std::nullopt;
  double hundredths = static_cast<double>(*w * 100 + (fraction.size() == 1 ? *f * 10 : *f));
  if (hundredths > 10000) return std::nullopt;
  return hundredths / 100;
}

StatusOr<PressureLine> ParsePressureLine(const std::vector<std::string_view>& fields) {
  PressureLine line;
  constexpr std::string_view kAverages[] = {"avg10", "avg60", "avg300"};
  double* const averages[] = {&line.avg10_percent, &line.avg60_percent, &line.avg300_percent};
  bool seen[4] = {false, false, false, false};  // the averages, then total
  for (size_t i = 1; i < fields.size(); ++i) {
    size_t eq = fields[i].find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgumentError("malformed pressure: field without '='");
    }
    std::string_view key = fields[i].substr(0, eq);
    std::string_view value = fields[i].substr(eq + 1);
    size_t index = 0;
    while (index < 3 && kAverages[index] != key) ++index;
    if (index == 3 && key != "total") continue;  // a key a later kernel may add
    if (seen[index]) {
      return InvalidArgumentError("malformed pressure: " + std::string(key) + " given twice");
    }
    seen[index] = true;
    if (index == 3) {
      std::optional<uint64_t> total = ParseUnsigned(value);
      if (!total) return InvalidArgumentError("malformed pressure: total is not a number");
      line.total_micros = *total;
      continue;
    }
    std::optional<double> percent = ParsePercent(value);
    if (!percent) {
      return InvalidArgumentError("malformed pressure: " + std::string(key) +
                                  " is not a percentage");
    }
    *averages[index] = *percent;
  }
  for (bool s : seen) {
    if (!s) {
      return InvalidArgumentError("malformed pressure: avg10, avg60, avg300 or total missing");
    }
  }
  return line;
}

}  // namespace

StatusOr<Pressure> ParsePressure(std::string_view text) {
  if (text.size() > kMaxPressureBytes) {
    return InvalidArgumentError("malformed pressure: more than " +
                                std::to_string(kMaxPressureBytes) + " bytes");
  }
  std::optional<PressureLine> some;
  std::optional<PressureLine> full;
  for (std::string_view raw : SplitLines(text)) {
    std::vector<std::string_view> fields = SplitFields(raw);
    if (fields.empty()) continue;
    std::optional<PressureLine>* slot = fields[0] == "some"   ? &some
                                        : fields[0] == "full" ? &full
                                                              : nullptr;
    if (slot == nullptr) continue;
    if (slot->has_value()) {
      return InvalidArgumentError("malformed pressure: \"" + std::string(fields[0]) +
                                  "\" given twice");
    }
    StatusOr<PressureLine> line = ParsePressureLine(fields);
    if (!line.ok()) return line.status();
    *slot = *line;
  }
  if (!some) return InvalidArgumentError("malformed pressure: no \"some\" line");
  return Pressure{*some, full};
}

}  // namespace ephemera::procfs
