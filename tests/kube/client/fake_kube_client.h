// FakeKubeClient: an in-memory kube::KubeClient for tests of code built on the API (informers,
// leader election, reconcilers).
//
// Objects live in a store keyed by resource and ObjectKey. Every write bumps one global
// resourceVersion counter, as etcd does, and stamps it into metadata.resourceVersion; Update with
// a stale metadata.resourceVersion fails with 409 Conflict (kAborted), Create of an existing name
// with 409 AlreadyExists, reads and writes of missing objects with 404 — all built with
// kube::ParseApiError so IsGone/AdviseRetry/ApiErrorDetailsOf work as against a real server.
// Patch supports merge patches only. GetPodLog cuts a log at limit_bytes, as the API server does.
// List honours equality label selectors ("a=b,c=d") and the metadata.name / metadata.namespace
// field selectors.
//
// Watches are scripted: each Watch call takes the next WatchScript pushed with PushWatch (events
// delivered in order, then the scripted end: normal close, 410 Gone, or an error). When no script
// is queued, Watch blocks until one is pushed or the caller's stop_token is requested. Writes do
// not produce watch events.
//
// Failures are injected per method with FailNext (consumed in order, one per call); a hook can run
// before each Update to simulate a concurrent writer. Calls are recorded for assertions.
//
// Thread safety: all methods may be called concurrently.
#ifndef EPHEMERA_TESTS_KUBE_CLIENT_FAKE_KUBE_CLIENT_H_
#define EPHEMERA_TESTS_KUBE_CLIENT_FAKE_KUBE_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "kube/client/kube_client.h"

namespace ephemera::kube {

enum class FakeMethod { kGet, kList, kCreate, kUpdate, kPatch, kDelete, kGetPodLog };

struct WatchScript {
  std::vector<WatchEvent> events;
  WatchEnd end = WatchEnd::kClosed;  // kClosed, kGone or kError
  Status error;                      // for kError

  // `events`, then the server closes the stream normally.
  static WatchScript Closed(std::vector<WatchEvent> events = {});
  // `events`, then 410 Expired (in-stream ERROR, or the HTTP status when there are no events).
  static WatchScript Gone(std::vector<WatchEvent> events = {});
  // `events`, then `error`.
  static WatchScript Failed(Status error, std::vector<WatchEvent> events = {});
};

// Builders for scripts and errors.
WatchEvent AddedEvent(nlohmann::json object);
WatchEvent ModifiedEvent(nlohmann::json object);
WatchEvent DeletedEvent(nlohmann::json object);
WatchEvent BookmarkEvent(std::string resource_version);
// The Status an API server returns for `http_status` with `reason` (e.g. 409 "Conflict").
Status ApiError(int http_status, std::string reason, std::string message = "injected");

class FakeKubeClient final : public KubeClient {
 public:
  FakeKubeClient() = default;

  // --- Store (bypasses injected failures) ---
  // Creates or replaces an object, stamping the next resourceVersion; returns that version.
  std::string PutObject(const GroupVersionResource& gvr, nlohmann::json object);
  // Removes an object (no error when absent); bumps the resourceVersion.
  void RemoveObject(const GroupVersionResource& gvr, const ObjectKey& key);
  std::optional<nlohmann::json> GetObject(const GroupVersionResource& gvr, const ObjectKey& key);
  std::string CurrentResourceVersion();
  // The log of `container` (its previous instance when `previous`). GetPodLog applies tailLines
  // and limitBytes to it as the API server does; sinceSeconds is recorded, not applied.
  void SetPodLog(const ObjectKey& pod, std::string container, std::string text,
                 bool previous = false);
  // Runs at the start of every GetPodLog (without the fake's lock); a status it returns is the
  // call's answer.
  void OnGetPodLog(std::function<std::optional<Status>(const PodLogOptions&)> hook);
  // The options of every GetPodLog call so far, oldest first.
  std::vector<PodLogOptions> PodLogRequests();

  // --- Scripting ---
  void FailNext(FakeMethod method, Status status);
  void PushWatch(WatchScript script);
  // Runs (without the fake's lock) at the start of every Update, e.g. to write the object
  // meanwhile so that the Update conflicts.
  void SetBeforeUpdate(std::function<void(const GroupVersionResource&, const ObjectKey&)> hook);
  // Creates of `resource` (e.g. "subjectaccessreviews", a virtual resource) are answered by
  // `answer(object, options)` (an object or an error) and not stored.
  using CreateAnswer =
      std::function<StatusOr<nlohmann::json>(const nlohmann::json&, const WriteOptions&)>;
  void SetCreateAnswer(std::string resource, CreateAnswer answer);
  // Same, for an answer that needs only the object.
  void SetCreateAnswer(std::string resource,
                       std::function<nlohmann::json(const nlohmann::json&)> answer);

  // --- Observations ---
  std::vector<ListOptions> ListCalls();
  std::vector<WatchOptions> WatchCalls();
  int CallCount(FakeMethod method);
  // Blocks until Watch has been called at least `count` times (true), or `timeout` (false).
  bool WaitForWatchCalls(std::size_t count, std::chrono::milliseconds timeout);

  // --- KubeClient ---
  StatusOr<nlohmann::json> Get(const GroupVersionResource& gvr, const ObjectKey& key,
                               const GetOptions& options) override;
  StatusOr<ListResult> List(const GroupVersionResource& gvr, std::string_view namespace_name,
                            const ListOptions& options) override;
  WatchResult Watch(const GroupVersionResource& gvr, std::string_view namespace_name,
                    const WatchOptions& options, const WatchHandler& handler,
                    std::stop_token stop) override;
  StatusOr<nlohmann::json> Create(const GroupVersionResource& gvr, std::string_view namespace_name,
                                  const nlohmann::json& object,
                                  const WriteOptions& options) override;
  StatusOr<nlohmann::json> Update(const GroupVersionResource& gvr, const ObjectKey& key,
                                  const nlohmann::json& object,
                                  const WriteOptions& options) override;
  StatusOr<nlohmann::json> Patch(const GroupVersionResource& gvr, const ObjectKey& key,
                                 PatchType type, const nlohmann::json& patch,
                                 const PatchOptions& options) override;
  Status Delete(const GroupVersionResource& gvr, const ObjectKey& key,
                const DeleteOptions& options) override;
  StatusOr<std::string> GetPodLog(const ObjectKey& pod, const PodLogOptions& options) override;

 private:
  using StoreKey = std::pair<std::string, ObjectKey>;  // resource (without subresource), object
  static StoreKey KeyFor(const GroupVersionResource& gvr, const ObjectKey& key);
  std::optional<Status> TakeFailureLocked(FakeMethod method) EPHEMERA_REQUIRES(mu_);
  std::string StampLocked(nlohmann::json& object) EPHEMERA_REQUIRES(mu_);

  base::Mutex mu_;
  base::CondVar cv_;
  std::map<StoreKey, nlohmann::json> store_ EPHEMERA_GUARDED_BY(mu_);
  std::int64_t resource_version_ EPHEMERA_GUARDED_BY(mu_) = 1000;
  std::int64_t next_uid_ EPHEMERA_GUARDED_BY(mu_) = 1;
  std::map<FakeMethod, std::deque<Status>> failures_ EPHEMERA_GUARDED_BY(mu_);
  std::map<FakeMethod, int> calls_ EPHEMERA_GUARDED_BY(mu_);
  std::deque<WatchScript> watch_scripts_ EPHEMERA_GUARDED_BY(mu_);
  std::vector<ListOptions> list_calls_ EPHEMERA_GUARDED_BY(mu_);
  std::vector<WatchOptions> watch_calls_ EPHEMERA_GUARDED_BY(mu_);
  std::map<std::tuple<ObjectKey, std::string, bool>, std::string> pod_logs_
      EPHEMERA_GUARDED_BY(mu_);
  std::vector<PodLogOptions> pod_log_requests_ EPHEMERA_GUARDED_BY(mu_);
  std::function<std::optional<Status>(const PodLogOptions&)> on_get_pod_log_
      EPHEMERA_GUARDED_BY(mu_);
  std::function<void(const GroupVersionResource&, const ObjectKey&)> before_update_
      EPHEMERA_GUARDED_BY(mu_);
  std::map<std::string, CreateAnswer> create_answers_ EPHEMERA_GUARDED_BY(mu_);
};

}  // namespace ephemera::kube

#endif  // EPHEMERA_TESTS_KUBE_CLIENT_FAKE_KUBE_CLIENT_H_
