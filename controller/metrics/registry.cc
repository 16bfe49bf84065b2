#include "controller/metrics/registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace ephemera::metrics {
namespace {

// Misuse of the registry is a bug in the caller's code (see the header): stop loudly.
[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "ephemera metrics: %s\n", message.c_str());
  std::abort();
}

bool IsValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// `{a="x",b="y"}` (or "" without labels); `extra` is appended as one more label (histogram le).
void AppendLabels(std::string& out, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view extra_name = {},
                  std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out += '{';
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    out += EscapeLabelValue(values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

void AppendSample(std::string& out, std::string_view name, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, double value) {
  out += name;
  AppendLabels(out, names, values);
  out += ' ';
  out += FormatSampleValue(value);
  out += '\n';
}

template <typename Metric>
std::unique_ptr<Metric> MakeMetric(const Registry::FamilyBase&) {
  return std::make_unique<Metric>();
}
template <>
std::unique_ptr<Histogram> MakeMetric<Histogram>(const Registry::FamilyBase& family) {
  return std::make_unique<Histogram>(family.UpperBounds());
}

void RenderChild(std::string& out, const Registry::FamilyBase& family,
                 const std::vector<std::string>& values, const Counter& counter) {
  AppendSample(out, family.Name(), family.LabelNames(), values, counter.Value());
}
void RenderChild(std::string& out, const Registry::FamilyBase& family,
                 const std::vector<std::string>& values, const Gauge& gauge) {
  AppendSample(out, family.Name(), family.LabelNames(), values, gauge.Value());
}
void RenderChild(std::string& out, const Registry::FamilyBase& family,
                 const std::vector<std::string>& values, const Histogram& histogram) {
  const Histogram::Snapshot snapshot = histogram.Read();
  const std::string bucket_name = family.Name() + "_bucket";
  for (std::size_t i = 0; i < snapshot.upper_bounds.size(); ++i) {
    out += bucket_name;
    AppendLabels(out, family.LabelNames(), values, "le",
                 FormatSampleValue(snapshot.upper_bounds[i]));
    out += ' ';
    out += std::to_string(snapshot.cumulative_counts[i]);
    out += '\n';
  }
  out += bucket_name;
  AppendLabels(out, family.LabelNames(), values, "le", "+Inf");
  out += ' ';
  out += std::to_string(snapshot.count);
  out += '\n';
  AppendSample(out, family.Name() + "_sum", family.LabelNames(), values, snapshot.sum);
  out += family.Name() + "_count";
  AppendLabels(out, family.LabelNames(), values);
  out += ' ';
  out += std::to_string(snapshot.count);
  out += '\n';
}

}  // namespace

void Counter::Increment(double amount) {
  if (!(amount >= 0)) return;  // also rejects NaN
  value_.fetch_add(amount, std::memory_order_relaxed);
}

void Gauge::Add(double amount) { value_.fetch_add(amount, std::memory_order_relaxed); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), counts_(upper_bounds_.size(), 0) {}

void Histogram::Observe(double value) {
  // First bucket whose upper bound is >= value; past the end means only the +Inf bucket.
  const auto it = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value);
  base::MutexLock lock(mu_);
  if (it != upper_bounds_.end()) ++counts_[static_cast<std::size_t>(it - upper_bounds_.begin())];
  ++count_;
  sum_ += value;
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  snapshot.upper_bounds = upper_bounds_;
  base::MutexLock lock(mu_);
  std::uint64_t running = 0;
  for (std::uint64_t c : counts_) {
    running += c;
    snapshot.cumulative_counts.push_back(running);
  }
  snapshot.count = count_;
  snapshot.sum = sum_;
  return snapshot;
}

std::vector<double> DefaultBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  if (!(start > 0) || !(factor > 1) || count < 1) {
    Die("ExponentialBuckets needs start > 0, factor > 1 and count >= 1");
  }
  std::vector<double> bounds;
  double bound = start;
  for (int i = 0; i < count; ++i) {
    bounds.push_back(bound);
    bound *= factor;
  }
  return bounds;
}

Registry::FamilyBase::FamilyBase(std::string name, std::string help, MetricType type,
                                 std::vector<std::string> label_names,
                                 std::vector<double> upper_bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)),
      upper_bounds_(std::move(upper_bounds)) {}

void Registry::FamilyBase::CheckLabelCount(const std::vector<std::string>& values) const {
  if (values.size() != label_names_.size()) {
    Die("metric " + name_ + " has " + std::to_string(label_names_.size()) + " labels but got " +
        std::to_string(values.size()) + " values");
  }
}

void Registry::FamilyBase::AddFunc(std::vector<std::string> label_values,
                                   std::function<double()> read) {
  CheckLabelCount(label_values);
  base::MutexLock lock(mu_);
  funcs_[std::move(label_values)] = std::move(read);
}

void Registry::FamilyBase::RenderFuncs(std::string& out) const {
  // Copy the functions out so that they run without the family's lock held.
  std::vector<std::pair<std::vector<std::string>, std::function<double()>>> funcs;
  {
    base::MutexLock lock(mu_);
    funcs.assign(funcs_.begin(), funcs_.end());
  }
  for (const auto& [values, read] : funcs) AppendSample(out, name_, label_names_, values, read());
}

template <typename Metric>
Metric& Family<Metric>::WithLabels(const std::vector<std::string>& label_values) {
  CheckLabelCount(label_values);
  base::MutexLock lock(mu_);
  auto& child = children_[label_values];
  if (!child) child = MakeMetric<Metric>(*this);
  return *child;
}

template <typename Metric>
void Family<Metric>::RenderSamples(std::string& out) const {
  {
    base::MutexLock lock(mu_);
    for (const auto& [values, metric] : children_) RenderChild(out, *this, values, *metric);
  }
  RenderFuncs(out);
}

template <typename Metric>
bool Family<Metric>::IsEmpty() const {
  base::MutexLock lock(mu_);
  return children_.empty() && funcs_.empty();
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Registry::Registry(std::string prefix) : prefix_(std::move(prefix)) {}
Registry::~Registry() = default;

Registry::FamilyBase& Registry::Register(std::unique_ptr<FamilyBase> family) {
  const std::string& name = family->Name();
  if (!IsValidMetricName(name)) Die("invalid metric name \"" + name + "\"");
  for (const std::string& label : family->LabelNames()) {
    if (!IsValidLabelName(label) || (family->Type() == MetricType::kHistogram && label == "le")) {
      std::string message = "metric " + name;
      message += ": invalid or reserved label name \"";
      message += label;
      message += '"';
      Die(message);
    }
  }
  std::vector<std::string> sorted = family->LabelNames();
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    Die("metric " + name + ": duplicate label name");
  }
  base::MutexLock lock(mu_);
  auto [it, inserted] = families_.try_emplace(name, nullptr);
  if (inserted) {
    it->second = std::move(family);
    return *it->second;
  }
  const FamilyBase& existing = *it->second;
  if (existing.Type() != family->Type() || existing.Help() != family->Help() ||
      existing.LabelNames() != family->LabelNames() ||
      existing.UpperBounds() != family->UpperBounds()) {
    Die("metric " + name + " registered twice with a different type, help, labels or buckets");
  }
  return *it->second;
}

Family<Counter>& Registry::AddCounter(std::string_view name, std::string_view help,
                                      std::vector<std::string> label_names) {
  const bool unlabeled = label_names.empty();
  auto& family = static_cast<Family<Counter>&>(Register(std::make_unique<Family<Counter>>(
      prefix_ + std::string(name), std::string(help), MetricType::kCounter, std::move(label_names),
      std::vector<double>{})));
  if (unlabeled) family.Get();  // an unlabeled metric is exposed (as 0) from the start
  return family;
}

Family<Gauge>& Registry::AddGauge(std::string_view name, std::string_view help,
                                  std::vector<std::string> label_names) {
  const bool unlabeled = label_names.empty();
  auto& family = static_cast<Family<Gauge>&>(Register(std::make_unique<Family<Gauge>>(
      prefix_ + std::string(name), std::string(help), MetricType::kGauge, std::move(label_names),
      std::vector<double>{})));
  if (unlabeled) family.Get();
  return family;
}

Family<Histogram>& Registry::AddHistogram(std::string_view name, std::string_view help,
                                          std::vector<std::string> label_names,
                                          std::vector<double> upper_bounds) {
  if (upper_bounds.empty()) upper_bounds = DefaultBuckets();
  for (std::size_t i = 0; i < upper_bounds.size(); ++i) {
    if (!std::isfinite(upper_bounds[i]) || (i > 0 && upper_bounds[i] <= upper_bounds[i - 1])) {
      Die("histogram " + std::string(name) + ": buckets must be finite and strictly ascending");
    }
  }
  const bool unlabeled = label_names.empty();
  auto& family = static_cast<Family<Histogram>&>(Register(std::make_unique<Family<Histogram>>(
      prefix_ + std::string(name), std::string(help), MetricType::kHistogram,
      std::move(label_names), std::move(upper_bounds))));
  if (unlabeled) family.Get();
  return family;
}

void Registry::AddCounterFunc(std::string_view name, std::string_view help,
                              std::vector<std::string> label_names,
                              std::vector<std::string> label_values, std::function<double()> read) {
  Register(std::make_unique<Family<Counter>>(prefix_ + std::string(name), std::string(help),
                                             MetricType::kCounter, std::move(label_names),
                                             std::vector<double>{}))
      .AddFunc(std::move(label_values), std::move(read));
}

void Registry::AddGaugeFunc(std::string_view name, std::string_view help,
                            std::vector<std::string> label_names,
                            std::vector<std::string> label_values, std::function<double()> read) {
  Register(std::make_unique<Family<Gauge>>(prefix_ + std::string(name), std::string(help),
                                           MetricType::kGauge, std::move(label_names),
                                           std::vector<double>{}))
      .AddFunc(std::move(label_values), std::move(read));
}

void Registry::AddUnprefixedCounterFunc(std::string_view name, std::string_view help,
                                        std::function<double()> read) {
  Register(std::make_unique<Family<Counter>>(std::string(name), std::string(help),
                                             MetricType::kCounter, std::vector<std::string>{},
                                             std::vector<double>{}))
      .AddFunc({}, std::move(read));
}

void Registry::AddUnprefixedGaugeFunc(std::string_view name, std::string_view help,
                                      std::function<double()> read) {
  Register(std::make_unique<Family<Gauge>>(std::string(name), std::string(help), MetricType::kGauge,
                                           std::vector<std::string>{}, std::vector<double>{}))
      .AddFunc({}, std::move(read));
}

std::string Registry::RenderPrometheusText() const {
  std::vector<const FamilyBase*> families;
  {
    base::MutexLock lock(mu_);
    for (const auto& [name, family] : families_) families.push_back(family.get());
  }
  // Families are never removed, so the pointers stay valid without the registry's lock.
  std::string out;
  for (const FamilyBase* family : families) {
    if (family->IsEmpty()) continue;
    out += "# HELP " + family->Name() + " " + EscapeHelp(family->Help()) + "\n";
    out += "# TYPE " + family->Name() + " ";
    out += TypeName(family->Type());
    out += '\n';
    family->RenderSamples(out);
  }
  return out;
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatSampleValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  if (ec != std::errc()) return "NaN";
  return std::string(buffer, end);
}

}  // namespace ephemera::metrics
