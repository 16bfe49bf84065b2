// EventRecorder: sends Kubernetes Events in the background, on the API budget the control loop
// leaves over.
//
// Events are for people (`kubectl describe`); the audit trail is the record. So an Event must never
// hold up a session: Record only queues it, and one thread sends the queue in order with
// WriteOptions::spare_budget_only, i.e. only when the client's rate limiter has a request to spare.
// While the workers use the whole budget (a burst of sessions), Events wait and go out once the
// burst is over. The queue is bounded: when it is full the oldest Event is dropped and counted. An
// Event the API server refuses (any error other than "no budget to spare") is reported and dropped,
// not retried: it would only be refused again.
//
//   EventRecorder events(client, clock, {});
//   std::jthread sender([&](std::stop_token stop) { events.Run(stop); });
//   events.Record(event);   // from any thread
//
// Thread safety: Record and Stats from any thread; Run on one thread.
#ifndef EPHEMERA_KUBE_CLIENT_EVENT_RECORDER_H_
#define EPHEMERA_KUBE_CLIENT_EVENT_RECORDER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <stop_token>
#include <string>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"
#include "kube/client/kube_client.h"
#include "kube/object/event.h"

namespace ephemera::kube {

struct EventRecorderOptions {
  // Filled into every Event that does not set them.
  std::string reporting_controller;
  std::string reporting_instance;
  std::size_t max_queued = 1000;
  // How long to wait before trying again when the budget had nothing to spare.
  std::chrono::milliseconds retry_every{100};
  // Told about an Event the API server refused (for logs); may be empty.
  std::function<void(const EventRecord&, const Status&)> on_error;
};

struct EventRecorderStats {
  std::uint64_t sent = 0;
  std::uint64_t dropped = 0;   // queue full, refused by the API server, or left at shutdown
  std::uint64_t deferred = 0;  // attempts put off because the budget had nothing to spare
  std::size_t queued = 0;
};

class EventRecorder {
 public:
  // Borrows client and clock; both must outlive the recorder.
  EventRecorder(KubeClient& client, base::Clock& clock, EventRecorderOptions options);
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Queues `event`, stamped with the clock's time now, with the options' reporting controller and
  // instance where it has none. Never blocks on the API server.
  void Record(EventRecord event);
  // Sends queued Events until `stop`; what is still queued then is dropped (and counted).
  void Run(const std::stop_token& stop);
  EventRecorderStats Stats();

 private:
  struct Pending {
    EventRecord record;
    std::chrono::system_clock::time_point time;
    std::uint64_t sequence = 0;
  };

  KubeClient& client_;
  base::Clock& clock_;
  const EventRecorderOptions options_;
  base::Mutex mu_;
  base::CondVar cv_;
  std::deque<Pending> queue_ EPHEMERA_GUARDED_BY(mu_);
  std::uint64_t recorded_ EPHEMERA_GUARDED_BY(mu_) = 0;
  EventRecorderStats stats_ EPHEMERA_GUARDED_BY(mu_);
};

}  // namespace ephemera::kube

#endif  // EPHEMERA_KUBE_CLIENT_EVENT_RECORDER_H_
