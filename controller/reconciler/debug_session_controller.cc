#include "controller/reconciler/debug_session_controller.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>
#include <vector>

#include "base/rfc3339.h"

namespace ephemera::reconciler {
namespace {

informer::InformerOptions SessionInformerOptions() {
  informer::InformerOptions options;
  options.resource = kube::DebugSessionsResource();
  options.transform = WithoutManagedFields;
  return options;
}

}  // namespace

nlohmann::json WithoutManagedFields(nlohmann::json session) {
  auto metadata = session.find("metadata");
  if (metadata != session.end() && metadata->is_object()) metadata->erase("managedFields");
  return session;
}

std::uint64_t SessionAgeRank(const nlohmann::json& session, std::uint64_t arrival) {
  std::uint64_t created_seconds = 0;
  const auto metadata = session.find("metadata");
  if (metadata != session.end() && metadata->is_object()) {
    auto created = base::ParseRfc3339(metadata->value("creationTimestamp", ""));
    if (created.ok()) {
      created_seconds = static_cast<std::uint64_t>(std::max<std::int64_t>(
          0,
          std::chrono::duration_cast<std::chrono::seconds>(created->time_since_epoch()).count()));
    }
  }
  return (created_seconds << 24) | (arrival & 0xFFFFFF);
}

DebugSessionController::DebugSessionController(kube::KubeClient& client, base::Clock& clock,
                                               DebugSessionReconciler& reconciler, int workers)
    : reconciler_(reconciler),
      workers_(workers < 1 ? 1 : workers),
      informer_(client, clock, SessionInformerOptions()),
      queue_(clock) {
  informer_.AddEventHandler([this](informer::EventType type, const kube::ObjectKey& key,
                                   const nlohmann::json*, const nlohmann::json* object) {
    if (type == informer::EventType::kDeleted) {
      queue_.ForgetRank(key);
    } else if (type == informer::EventType::kAdded && object != nullptr) {
      queue_.SetRank(key, SessionAgeRank(*object, arrivals_++));
    } else if (object != nullptr && reconciler_.IsEchoOfOwnWrite(key, *object)) {
      return;  // our own write coming back: the reconciler has moved on from it already
    }
    queue_.Add(key);
  });
}

void DebugSessionController::Run(
    const std::stop_token& stop,
    const std::function<void(const kube::ObjectKey&, const Status&)>& on_error) {
  std::jthread informer_thread([this](const std::stop_token& s) { informer_.Run(s); });
  std::stop_callback on_stop(stop, [this, &informer_thread] {
    informer_thread.request_stop();
    queue_.ShutDown();
  });
  if (!informer_.WaitForSync(stop)) return;
  std::vector<std::jthread> workers;
  workers.reserve(static_cast<size_t>(workers_));
  for (int i = 0; i < workers_; ++i) {
    workers.emplace_back([this, &on_error](const std::stop_token& s) { Work(s, on_error); });
  }
  for (auto& w : workers) w.join();
}

void DebugSessionController::Work(
    const std::stop_token& stop,
    const std::function<void(const kube::ObjectKey&, const Status&)>& on_error) {
  while (auto key = queue_.Get(stop)) {
    // Reconcile does not throw; this is the last line of defence (an exception escaping a worker
    // thread would end the whole process, and with it every other session).
    StatusOr<ReconcileResult> result = InternalError("not reconciled");
    try {
      result = reconciler_.Reconcile(*key, informer_.Get(*key));
    } catch (const std::exception& e) {
      result = InternalError("reconciling DebugSession " + key->ToString() + " threw: " + e.what());
    } catch (...) {
      result = InternalError("reconciling DebugSession " + key->ToString() +
                             " threw an exception of unknown type");
    }
    if (result.ok()) {
      ++ok_;
      queue_.Forget(*key);
      if (result->requeue_after) queue_.AddAfter(*key, *result->requeue_after);
    } else {
      ++errors_;
      if (on_error) on_error(*key, result.status());
      queue_.AddRateLimited(*key);
    }
    queue_.Done(*key);
  }
}

void DebugSessionController::EnqueueSessionsForPod(const kube::ObjectKey& pod) {
  for (const auto& session : informer_.List()) {
    const nlohmann::json& metadata = (*session)["metadata"];
    if (!metadata.is_object() || metadata.value("namespace", "") != pod.namespace_name) continue;
    const nlohmann::json* spec = session->contains("spec") ? &(*session)["spec"] : nullptr;
    if (spec == nullptr || !spec->is_object() || !spec->contains("target")) continue;
    const nlohmann::json& target = (*spec)["target"];
    if (target.is_object() && target.contains("pod") && target["pod"] == pod.name) {
      if (auto key = informer::KeyOf(*session)) queue_.Add(*key);
    }
  }
}

ControllerStats DebugSessionController::Stats() {
  const workqueue::WorkQueueStats queue = queue_.Stats();
  return ControllerStats{.reconciles_ok = ok_.load(),
                         .reconciles_error = errors_.load(),
                         .sessions_cached = informer_.Size(),
                         .queue_depth = queue.depth,
                         .in_progress = queue.processing};
}

}  // namespace ephemera::reconciler
