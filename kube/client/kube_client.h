// KubeClient: the controller's port to the Kubernetes API, on plain JSON objects.
//
// Resources are named by GroupVersionResource (with an optional subresource), objects by
// ObjectKey. Failures are Statuses built by api_error.h: the code says what to do next
// (AdviseRetry), IsGone() marks an expired resourceVersion/continue token, RetryAfterOf() the
// server's requested wait. The production implementation is RestKubeClient; a test double only
// has to implement the eight virtual methods, and gets the helpers (status subresource,
// ephemeral containers, events, leases, access reviews) for free.
//
// Thread safety: implementations must allow concurrent calls.
#ifndef EPHEMERA_KUBE_CLIENT_KUBE_CLIENT_H_
#define EPHEMERA_KUBE_CLIENT_KUBE_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "kube/client/watch_decoder.h"
#include "kube/object/access_review.h"
#include "kube/object/event.h"
#include "kube/object/lease.h"
#include "kube/object/resource.h"

namespace ephemera::kube {

struct GetOptions {
  std::string resource_version{};  // "" = most recent (quorum read); "0" = any cached version
};

struct ListOptions {
  std::string label_selector{};
  std::string field_selector{};
  std::string resource_version{};
  std::string resource_version_match{};  // "", "NotOlderThan" or "Exact"
  std::int64_t limit = 500;              // page size; 0 = no pagination
};

struct ListResult {
  std::vector<nlohmann::json> items{};
  std::string resource_version{};  // the list's metadata.resourceVersion: start a watch from here
};

struct WatchOptions {
  std::string resource_version{};  // start after this version (from a List, or the last event)
  std::string label_selector{};
  std::string field_selector{};
  bool allow_bookmarks = true;
  // The server-side timeoutSeconds; unset = random in the client's [min, max] (5m..10m by
  // default) so that many watches do not all reconnect at once.
  std::optional<std::chrono::seconds> timeout{};
};

enum class WatchEnd {
  kClosed,   // the server ended the stream (normal timeout): watch again from resource_version
  kGone,     // 410 (HTTP or in-stream ERROR, reason Expired/Gone): relist, then watch
  kStopped,  // the caller's stop_token was requested
  kError,    // see `error`; AdviseRetry(error) says whether to back off and watch again
};

struct WatchResult {
  WatchEnd end = WatchEnd::kClosed;
  // The newest resourceVersion seen (events and bookmarks), or the one the watch started from.
  std::string resource_version{};
  Status error{};          // set only for kError (and carries the 410 message for kGone)
  std::size_t events = 0;  // events delivered to the handler, bookmarks included
};

// Called once per event in stream order on the watching thread (ADDED, MODIFIED, DELETED,
// BOOKMARK; ERROR events end the watch instead). Must not block for long.
using WatchHandler = std::function<void(const WatchEvent& event)>;

struct WriteOptions {
  std::string field_manager{};  // recorded in managedFields
  bool dry_run = false;         // ?dryRun=All: validate and admit without persisting
  // Best-effort writes (Events): sent only if the client-side rate limit has a request to spare
  // right now, so that they never delay the control loop's own requests; otherwise
  // kResourceExhausted at once and nothing is sent. Honoured by Create.
  bool spare_budget_only = false;
};

enum class PatchType {
  kMerge,           // application/merge-patch+json (RFC 7386)
  kJsonPatch,       // application/json-patch+json (RFC 6902): `patch` is an array of ops
  kStrategicMerge,  // application/strategic-merge-patch+json (built-in types only)
  kApply,           // application/apply-patch+yaml: server-side apply, needs field_manager
};
std::string_view PatchContentType(PatchType type);

struct PatchOptions {
  std::string field_manager{};
  bool force = false;  // apply only: take ownership of conflicting fields
  bool dry_run = false;
};

enum class PropagationPolicy { kServerDefault, kForeground, kBackground, kOrphan };

struct DeleteOptions {
  std::optional<std::string> precondition_uid{};  // delete only this incarnation of the name
  std::optional<std::string> precondition_resource_version{};
  PropagationPolicy propagation = PropagationPolicy::kServerDefault;
  std::optional<std::chrono::seconds> grace_period{};
  bool dry_run = false;
};

struct PodLogOptions {
  std::string container{};  // required when the pod has several containers; ephemeral ones too
  std::optional<std::int64_t> limit_bytes{};
  std::optional<std::int64_t> tail_lines{};
  bool timestamps = false;
  bool previous = false;
  std::optional<std::int64_t> since_seconds{};
};

class KubeClient {
 public:
  virtual ~KubeClient() = default;

  virtual StatusOr<nlohmann::json> Get(const GroupVersionResource& gvr, const ObjectKey& key,
                                       const GetOptions& options = {}) = 0;
  // All pages (limit/continue). An expired continue token (410) restarts the listing from the
  // first page, at most twice; then the 410 is returned (IsGone).
  virtual StatusOr<ListResult> List(const GroupVersionResource& gvr,
                                    std::string_view namespace_name,
                                    const ListOptions& options = {}) = 0;
  // Streams events to `handler` until the server closes the stream, an error, or `stop`.
  virtual WatchResult Watch(const GroupVersionResource& gvr, std::string_view namespace_name,
                            const WatchOptions& options, const WatchHandler& handler,
                            std::stop_token stop) = 0;
  // POST; for cluster-scoped resources `namespace_name` is ignored. Returns the created object.
  virtual StatusOr<nlohmann::json> Create(const GroupVersionResource& gvr,
                                          std::string_view namespace_name,
                                          const nlohmann::json& object,
                                          const WriteOptions& options = {}) = 0;
  // PUT (optimistic concurrency: a stale metadata.resourceVersion gives kAborted).
  virtual StatusOr<nlohmann::json> Update(const GroupVersionResource& gvr, const ObjectKey& key,
                                          const nlohmann::json& object,
                                          const WriteOptions& options = {}) = 0;
  // PATCH. kInvalidArgument locally for kApply without a field manager, or force without kApply.
  virtual StatusOr<nlohmann::json> Patch(const GroupVersionResource& gvr, const ObjectKey& key,
                                         PatchType type, const nlohmann::json& patch,
                                         const PatchOptions& options = {}) = 0;
  // DELETE. kNotFound when already gone (callers that only want it gone may treat that as OK);
  // kAborted when a precondition no longer holds.
  virtual Status Delete(const GroupVersionResource& gvr, const ObjectKey& key,
                        const DeleteOptions& options = {}) = 0;
  // GET pods/log as text (ciphertext, for Ephemera's snapshot container).
  virtual StatusOr<std::string> GetPodLog(const ObjectKey& pod, const PodLogOptions& options) = 0;

  // --- Helpers built on the methods above. ---

  // PUT/PATCH on the status subresource (only .status changes).
  StatusOr<nlohmann::json> UpdateStatus(const GroupVersionResource& gvr, const ObjectKey& key,
                                        const nlohmann::json& object,
                                        const WriteOptions& options = {});
  StatusOr<nlohmann::json> PatchStatus(const GroupVersionResource& gvr, const ObjectKey& key,
                                       PatchType type, const nlohmann::json& patch,
                                       const PatchOptions& options = {});
  // Strategic-merge PATCH of pods/<pod>/ephemeralcontainers, e.g.
  // {"spec":{"ephemeralContainers":[{…}]}}: appends by name. Returns the updated Pod.
  StatusOr<nlohmann::json> PatchEphemeralContainers(const ObjectKey& pod,
                                                    const nlohmann::json& patch,
                                                    const PatchOptions& options = {});
  // Builds (event.h) and creates an events.k8s.io/v1 Event.
  StatusOr<nlohmann::json> CreateEvent(const EventRecord& record,
                                       std::chrono::system_clock::time_point event_time,
                                       const WriteOptions& options = {});
  StatusOr<LeaseRecord> GetLease(const ObjectKey& key);
  StatusOr<LeaseRecord> CreateLease(const ObjectKey& key, const LeaseRecord& lease);
  // PUT with lease.resource_version: kAborted when someone else wrote the Lease meanwhile.
  StatusOr<LeaseRecord> UpdateLease(const ObjectKey& key, const LeaseRecord& lease);
  StatusOr<AccessReviewResult> CreateSubjectAccessReview(const AccessReviewRequest& request);
};

}  // namespace ephemera::kube

#endif  // EPHEMERA_KUBE_CLIENT_KUBE_CLIENT_H_
