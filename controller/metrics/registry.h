// A small Prometheus metrics registry: counters, gauges and histograms with labels, rendered in the
// text exposition format 0.0.4 for the controller's /metrics endpoint.
//
// Every metric name gets the registry's prefix ("ephemera_"), so code registers
// "reconcile_total" and scrapers see "ephemera_reconcile_total". Families are created once at
// startup; a family's children (one per label-value combination) are created on first use by
// WithLabels and live as long as the registry, so references to them may be kept.
//
// Errors: registering an invalid name, a label name that is invalid or reserved, the same name
// with a different type, help, labels or buckets, or calling WithLabels with the wrong number of
// values are programming errors: the process aborts with a message naming the metric. (Names and
// labels are constants in the code, so the first test run finds them.) Registering the same name
// again with the same shape returns the existing family.
//
// Thread safety: everything may be used concurrently. Counter and Gauge updates are lock-free;
// Histogram::Observe takes the histogram's own mutex; rendering takes each family's mutex in turn
// and calls value functions (AddCounterFunc/AddGaugeFunc) without holding the registry's lock.
#ifndef EPHEMERA_CONTROLLER_METRICS_REGISTRY_H_
#define EPHEMERA_CONTROLLER_METRICS_REGISTRY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"

namespace ephemera::metrics {

// A monotonically increasing value (events, seconds spent).
class Counter {
 public:
  // `amount` must be >= 0; negative amounts are ignored (a counter never goes down).
  void Increment(double amount = 1.0);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// A value that goes up and down (queue depth, sessions active).
class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double amount);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Observations counted into cumulative buckets by upper bound, plus their sum and count.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;              // ascending, without +Inf
    std::vector<std::uint64_t> cumulative_counts;  // per upper bound: observations <= it
    std::uint64_t count = 0;                       // all observations (the +Inf bucket)
    double sum = 0;
  };
  Snapshot Read() const;

 private:
  const std::vector<double> upper_bounds_;
  mutable base::Mutex mu_;
  std::vector<std::uint64_t> counts_ EPHEMERA_GUARDED_BY(mu_);  // per bucket, not cumulative
  std::uint64_t count_ EPHEMERA_GUARDED_BY(mu_) = 0;
  double sum_ EPHEMERA_GUARDED_BY(mu_) = 0;
};

// {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}: Prometheus' defaults, for seconds.
std::vector<double> DefaultBuckets();
// `count` bounds start, start*factor, ...; start > 0, factor > 1, count >= 1.
std::vector<double> ExponentialBuckets(double start, double factor, int count);

enum class MetricType { kCounter, kGauge, kHistogram };

// One metric name with its label names; children per label values. Created only by Registry.
template <typename Metric>
class Family;

class Registry {
 public:
  explicit Registry(std::string prefix = "ephemera_");
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry();

  Family<Counter>& AddCounter(std::string_view name, std::string_view help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(std::string_view name, std::string_view help,
                          std::vector<std::string> label_names = {});
  // `upper_bounds` strictly ascending and finite (+Inf is implicit); empty = DefaultBuckets().
  Family<Histogram>& AddHistogram(std::string_view name, std::string_view help,
                                  std::vector<std::string> label_names,
                                  std::vector<double> upper_bounds = {});

  // Samples read when rendering, for values owned elsewhere (WorkQueue::Stats()). `read` is called
  // on the rendering thread and must be thread safe and fast. Several calls with the same name
  // (and label names) but different label values add children to one family.
  void AddCounterFunc(std::string_view name, std::string_view help,
                      std::vector<std::string> label_names, std::vector<std::string> label_values,
                      std::function<double()> read);
  void AddGaugeFunc(std::string_view name, std::string_view help,
                    std::vector<std::string> label_names, std::vector<std::string> label_values,
                    std::function<double()> read);

  // AddCounterFunc and AddGaugeFunc, unlabelled, for the names every Prometheus client exports as
  // they are, without the registry's prefix (process_cpu_seconds_total, …).
  void AddUnprefixedCounterFunc(std::string_view name, std::string_view help,
                                std::function<double()> read);
  void AddUnprefixedGaugeFunc(std::string_view name, std::string_view help,
                              std::function<double()> read);

  // The text exposition format 0.0.4 ("text/plain; version=0.0.4; charset=utf-8"): families in
  // name order, each with # HELP and # TYPE, children in label-value order. Labeled families with
  // no children yet are left out.
  std::string RenderPrometheusText() const;

  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

  class FamilyBase;

 private:
  FamilyBase& Register(std::unique_ptr<FamilyBase> family);

  const std::string prefix_;
  mutable base::Mutex mu_;
  // By full name.
  std::map<std::string, std::unique_ptr<FamilyBase>> families_ EPHEMERA_GUARDED_BY(mu_);
};

// The part of a family the registry renders.
class Registry::FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type,
             std::vector<std::string> label_names, std::vector<double> upper_bounds);
  virtual ~FamilyBase() = default;

  const std::string& Name() const { return name_; }
  const std::string& Help() const { return help_; }
  MetricType Type() const { return type_; }
  const std::vector<std::string>& LabelNames() const { return label_names_; }
  const std::vector<double>& UpperBounds() const { return upper_bounds_; }

  // Appends this family's sample lines (without HELP/TYPE).
  virtual void RenderSamples(std::string& out) const = 0;
  virtual bool IsEmpty() const = 0;
  void AddFunc(std::vector<std::string> label_values, std::function<double()> read);

 protected:
  void CheckLabelCount(const std::vector<std::string>& values) const;
  void RenderFuncs(std::string& out) const;

  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
  const std::vector<double> upper_bounds_;  // histograms only
  mutable base::Mutex mu_;
  std::map<std::vector<std::string>, std::function<double()>> funcs_ EPHEMERA_GUARDED_BY(mu_);
};

template <typename Metric>
class Family final : public Registry::FamilyBase {
 public:
  using FamilyBase::FamilyBase;

  // The child for these label values (in label-name order), created on first use. The reference
  // stays valid for the registry's lifetime. Aborts when the number of values is wrong.
  Metric& WithLabels(const std::vector<std::string>& label_values);
  // The only child of a family without labels.
  Metric& Get() { return WithLabels({}); }

  void RenderSamples(std::string& out) const override;
  bool IsEmpty() const override;

 private:
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_ EPHEMERA_GUARDED_BY(mu_);
};

// Defined (and explicitly instantiated) in registry.cc for the three metric types.
extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

// Exposition-format helpers (exposed for tests and other writers of the format).
// Label values: backslash, double quote and newline escaped. HELP text: backslash and newline.
std::string EscapeLabelValue(std::string_view value);
std::string EscapeHelp(std::string_view help);
// Shortest round-trip decimal; "NaN", "+Inf", "-Inf".
std::string FormatSampleValue(double value);

}  // namespace ephemera::metrics

#endif  // EPHEMERA_CONTROLLER_METRICS_REGISTRY_H_
