// Clock: the snapshot's only source of elapsed time, so deadline handling is testable without
// sleeping. SteadyClock reads std::chrono::steady_clock. Thread-safe.
#ifndef EPHEMERA_DEBUGPOD_SNAPSHOT_CLOCK_H_
#define EPHEMERA_DEBUGPOD_SNAPSHOT_CLOCK_H_

#include <chrono>

namespace ephemera::snapshot {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point Now() const = 0;
};

class SteadyClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() const override {
    return std::chrono::steady_clock::now();
  }
};

}  // namespace ephemera::snapshot

#endif  // EPHEMERA_DEBUGPOD_SNAPSHOT_CLOCK_H_
