#include "controller/detection/ephemeral_container_watch.h"

#include <thread>

#include "kube/object/resource.h"

namespace ephemera::detection {
namespace {

// All pods, reduced to what detection needs as they arrive.
informer::InformerOptions PodInformerOptions() {
  informer::InformerOptions options;
  options.resource = kube::PodsResource();
  options.transform = [](nlohmann::json pod) { return ReducePod(std::move(pod)); };
  return options;
}

}  // namespace

EphemeralContainerWatch::EphemeralContainerWatch(kube::KubeClient& client, base::Clock& clock,
                                                 std::string mark_key, Reporter report,
                                                 PodChanged pod_changed)
    : mark_key_(std::move(mark_key)),
      report_(std::move(report)),
      pod_changed_(std::move(pod_changed)),
      informer_(client, clock, PodInformerOptions()) {
  informer_.AddEventHandler([this](informer::EventType type, const kube::ObjectKey& key,
                                   const nlohmann::json* old_object,
                                   const nlohmann::json* new_object) {
    if (type == informer::EventType::kDeleted) {
      const std::string uid =
          old_object == nullptr
              ? ""
              : old_object->value("metadata", nlohmann::json::object()).value("uid", "");
      base::MutexLock lock(mu_);
      for (auto it = seen_.lower_bound({uid, ""}); it != seen_.end() && it->first == uid;) {
        it = seen_.erase(it);
      }
      return;
    }
    if (new_object == nullptr) return;
    Enqueue(FindUnsanctioned(old_object, *new_object, mark_key_));
    if (pod_changed_ && old_object != nullptr &&
        EphemeralStates(*old_object) != EphemeralStates(*new_object)) {
      pod_changed_(key);
    }
  });
}

void EphemeralContainerWatch::Enqueue(std::vector<UnsanctionedContainer> found) {
  if (found.empty()) return;
  {
    base::MutexLock lock(mu_);
    for (UnsanctionedContainer& c : found) {
      if (seen_.insert({c.pod_uid, c.container}).second) pending_.push_back(std::move(c));
    }
  }
  cv_.NotifyOne();
}

void EphemeralContainerWatch::Report(const std::stop_token& stop) {
  while (true) {
    UnsanctionedContainer next;
    {
      base::MutexLock lock(mu_);
      cv_.Wait(mu_, stop, [this]() EPHEMERA_REQUIRES(mu_) { return !pending_.empty(); });
      if (pending_.empty()) return;  // stopped with nothing left
      next = std::move(pending_.front());
      pending_.pop_front();
    }
    report_(next);
    reported_.fetch_add(1);
  }
}

void EphemeralContainerWatch::Run(const std::stop_token& stop) {
  std::jthread reporter([this, &stop](const std::stop_token&) { Report(stop); });
  informer_.Run(stop);
}

}  // namespace ephemera::detection
