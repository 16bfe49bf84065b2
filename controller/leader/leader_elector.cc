#include "controller/leader/leader_elector.h"

#include <thread>

namespace ephemera::leader {

Status ValidateLeaderElectionConfig(const LeaderElectionConfig& config) {
  if (config.lease.namespace_name.empty() || config.lease.name.empty()) {
    return InvalidArgumentError("leader election needs the Lease's namespace and name");
  }
  if (config.identity.empty()) {
    return InvalidArgumentError("leader election needs a non-empty identity (e.g. the pod name)");
  }
  if (config.retry_period <= std::chrono::seconds::zero()) {
    return InvalidArgumentError("leader election retryPeriod must be positive");
  }
  if (config.lease_duration <= config.renew_deadline) {
    return InvalidArgumentError("leader election leaseDuration (" +
                                std::to_string(config.lease_duration.count()) +
                                "s) must be greater than renewDeadline (" +
                                std::to_string(config.renew_deadline.count()) + "s)");
  }
  if (static_cast<double>(config.renew_deadline.count()) <=
      kRetryJitter * static_cast<double>(config.retry_period.count())) {
    return InvalidArgumentError("leader election renewDeadline (" +
                                std::to_string(config.renew_deadline.count()) +
                                "s) must be greater than 1.2 x retryPeriod (" +
                                std::to_string(config.retry_period.count()) + "s)");
  }
  return OkStatus();
}

LeaderElector::LeaderElector(kube::KubeClient& client, base::Clock& clock,
                             LeaderElectionConfig config, std::uint64_t seed)
    : client_(client), clock_(clock), config_(std::move(config)), random_(seed) {}

void LeaderElector::Observe(const kube::LeaseRecord& record,
                            std::chrono::steady_clock::time_point now) {
  base::MutexLock lock(mu_);
  observed_record_ = record;
  observed_time_ = now;
  last_error_ = OkStatus();
  if (record.holder_identity == config_.identity) gave_up_ = false;
}

bool LeaderElector::Fail(Status status) {
  base::MutexLock lock(mu_);
  last_error_ = std::move(status);
  return false;
}

bool LeaderElector::TryAcquireOrRenew() {
  const auto wall_now = clock_.Now();
  const auto now = clock_.SteadyNow();

  // Fast path: we lead and our own last write is still valid; renew without reading first.
  std::optional<kube::LeaseRecord> renewal;
  {
    base::MutexLock lock(mu_);
    if (observed_record_ && observed_record_->holder_identity == config_.identity &&
        observed_time_ + observed_record_->lease_duration > now) {
      renewal = *observed_record_;
    }
  }
  if (renewal) {
    renewal->renew_time = wall_now;
    renewal->lease_duration = config_.lease_duration;
    auto updated = client_.UpdateLease(config_.lease, *renewal);
    if (updated.ok()) {
      Observe(*updated, now);
      return true;
    }
    // A conflict or a transient error: fall through and decide from a fresh read.
  }

  kube::LeaseRecord desired;
  desired.holder_identity = config_.identity;
  desired.lease_duration = config_.lease_duration;
  desired.acquire_time = wall_now;
  desired.renew_time = wall_now;

  auto current = client_.GetLease(config_.lease);
  if (!current.ok()) {
    if (current.status().code() != StatusCode::kNotFound) {
      return Fail(current.status().WithContext("reading lease " + config_.lease.ToString()));
    }
    auto created = client_.CreateLease(config_.lease, desired);
    if (!created.ok()) {
      return Fail(created.status().WithContext("creating lease " + config_.lease.ToString()));
    }
    Observe(*created, now);
    return true;
  }

  bool held_by_other = false;
  {
    base::MutexLock lock(mu_);
    if (!observed_record_ || observed_record_->resource_version != current->resource_version) {
      observed_record_ = *current;
      observed_time_ = now;
    }
    held_by_other = !current->holder_identity.empty() &&
                    current->holder_identity != config_.identity &&
                    observed_time_ + current->lease_duration > now;
  }
  if (held_by_other) {
    return Fail(UnavailableError("lease " + config_.lease.ToString() + " is held by " +
                                 current->holder_identity));
  }

  desired.resource_version = current->resource_version;
  if (current->holder_identity == config_.identity) {
    desired.acquire_time = current->acquire_time;
    desired.lease_transitions = current->lease_transitions;
  } else {
    desired.lease_transitions = current->lease_transitions + 1;
  }
  auto updated = client_.UpdateLease(config_.lease, desired);
  if (!updated.ok()) {
    return Fail(updated.status().WithContext("updating lease " + config_.lease.ToString()));
  }
  Observe(*updated, now);
  return true;
}

Status LeaderElector::Release() {
  std::optional<kube::LeaseRecord> released;
  {
    base::MutexLock lock(mu_);
    if (!observed_record_ || observed_record_->holder_identity != config_.identity) {
      return OkStatus();
    }
    released = *observed_record_;
  }
  const auto wall_now = clock_.Now();
  released->holder_identity.clear();
  released->lease_duration = std::chrono::seconds(1);
  released->acquire_time = wall_now;
  released->renew_time = wall_now;
  auto updated = client_.UpdateLease(config_.lease, *released);
  if (!updated.ok()) {
    return updated.status().WithContext("releasing lease " + config_.lease.ToString());
  }
  Observe(*updated, clock_.SteadyNow());
  return OkStatus();
}

bool LeaderElector::IsLeader() {
  const auto now = clock_.SteadyNow();
  base::MutexLock lock(mu_);
  return !gave_up_ && observed_record_ && observed_record_->holder_identity == config_.identity &&
         observed_time_ + observed_record_->lease_duration > now;
}

std::string LeaderElector::ObservedHolder() {
  base::MutexLock lock(mu_);
  return observed_record_ ? observed_record_->holder_identity : std::string();
}

Status LeaderElector::LastError() {
  base::MutexLock lock(mu_);
  return last_error_;
}

std::chrono::nanoseconds LeaderElector::JitteredRetryPeriod() {
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  double fraction;
  {
    base::MutexLock lock(mu_);
    fraction = uniform(random_);
  }
  const auto period = std::chrono::duration_cast<std::chrono::nanoseconds>(config_.retry_period);
  return period + std::chrono::nanoseconds(static_cast<std::int64_t>(
                      static_cast<double>(period.count()) * kRetryJitter * fraction));
}

Status LeaderElector::Run(const std::stop_token& stop,
                          const std::function<void(std::stop_token)>& on_started_leading,
                          const std::function<void()>& on_stopped_leading) {
  EPHEMERA_RETURN_IF_ERROR(ValidateLeaderElectionConfig(config_));

  while (!TryAcquireOrRenew()) {
    if (!clock_.SleepFor(JitteredRetryPeriod(), stop)) return OkStatus();
  }
  if (stop.stop_requested()) {
    return Release();
  }

  std::stop_source leading;
  std::stop_callback forward_stop(stop, [&leading] { leading.request_stop(); });
  std::jthread worker([&on_started_leading, token = leading.get_token()] {
    if (on_started_leading) on_started_leading(token);
  });

  bool lost = false;
  auto last_renewal = clock_.SteadyNow();
  while (clock_.SleepFor(config_.retry_period, stop)) {
    if (TryAcquireOrRenew()) {
      last_renewal = clock_.SteadyNow();
      continue;
    }
    const std::string holder = ObservedHolder();
    if ((!holder.empty() && holder != config_.identity) ||
        clock_.SteadyNow() - last_renewal >= config_.renew_deadline) {
      lost = true;
      break;
    }
  }

  if (lost) {
    base::MutexLock lock(mu_);
    gave_up_ = true;
  }
  leading.request_stop();
  worker.join();
  Status result = OkStatus();
  if (lost) {
    result = AbortedError("lost leadership of lease " + config_.lease.ToString() + ": " +
                          LastError().ToString());
  } else {
    result = Release();
  }
  if (on_stopped_leading) on_stopped_leading();
  return result;
}

}  // namespace ephemera::leader
