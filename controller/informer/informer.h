// Informer: a local, eventually consistent cache of one resource, kept up to date by List then
// Watch, which tells registered handlers about every change (client-go's reflector + indexer +
// shared informer, for one GroupVersionResource).
//
// Run() loops until stopped:
//   1. List (all pages). The cache is replaced by the listed objects; handlers hear kAdded for new
//      keys, kModified for keys whose (transformed) object changed, and kDeleted for cached keys
//      that the list no longer has (deletions missed while not watching).
//   2. Watch from the list's resourceVersion, applying each event to the cache and then calling
//      the handlers. A normal close re-watches from the newest resourceVersion seen; 410 Gone (as
//      HTTP status or in-stream ERROR) relists; other errors back off (base::Backoff, capped and
//      jittered) and re-watch when AdviseRetry says the error is transient, else relist.
//   List errors back off and retry. The first list reads from the API server's watch cache
//   (resourceVersion "0"); after a 410 the relist is a consistent read (resourceVersion "").
//
// Handlers run on Run's thread, one event at a time, in stream order, with no lock held. They must
// be quick and must not block: they should only enqueue keys (WorkQueue::Add). The objects they
// are given are the cached (transformed) ones.
//
// The optional transform is applied to every object before it is cached or handed to handlers, so
// that a cache of Pods keeps only the fields the controller reads (memory then grows with the
// number of objects, not with their size). It must keep metadata.name and metadata.namespace.
//
// Thread safety: Get, List, Keys, HasSynced and LastSyncResourceVersion may be called from any
// thread at any time. AddEventHandler must be called before Run. Run must be called once.
#ifndef EPHEMERA_CONTROLLER_INFORMER_INFORMER_H_
#define EPHEMERA_CONTROLLER_INFORMER_INFORMER_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "base/backoff.h"
#include "base/clock.h"
#include "base/mutex.h"
#include "kube/client/kube_client.h"
#include "kube/object/resource.h"

namespace ephemera::informer {

enum class EventType { kAdded, kModified, kDeleted };

std::string_view EventTypeName(EventType type);

// `old_object` is null for kAdded; `new_object` is null for kDeleted (where `old_object` is the
// last state known: the watch event's final object, or the cached one when a relist found the
// object gone). Pointers are valid only during the call.
using EventHandler =
    std::function<void(EventType type, const kube::ObjectKey& key, const nlohmann::json* old_object,
                       const nlohmann::json* new_object)>;

// Reduces an object to what the cache keeps. Takes the object by value; returns the kept form.
using Transform = std::function<nlohmann::json(nlohmann::json object)>;

struct InformerOptions {
  kube::GroupVersionResource resource;
  std::string namespace_name;  // "" = all namespaces
  std::string label_selector;
  std::string field_selector;
  Transform transform;  // optional
  // Between failed lists/watches; reset once a list succeeds or a watch delivers events.
  base::BackoffPolicy backoff{.initial = std::chrono::milliseconds(800),
                              .cap = std::chrono::seconds(30),
                              .factor = 2.0,
                              .jitter = 1.0};
  std::int64_t page_size = 500;
};

// The key of an object (metadata.namespace and metadata.name); nullopt when it has no name.
std::optional<kube::ObjectKey> KeyOf(const nlohmann::json& object);

class Informer {
 public:
  // `client` and `clock` must outlive the informer.
  Informer(kube::KubeClient& client, base::Clock& clock, InformerOptions options);
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Registers a handler for every later event. Call before Run.
  void AddEventHandler(EventHandler handler);

  // Lists and watches until `stop` is requested; never returns early on API errors (it backs off
  // and retries). Blocks the calling thread.
  void Run(const std::stop_token& stop);

  // True once the first list has been applied to the cache (and stays true).
  bool HasSynced() const { return synced_.load(); }
  // Blocks until HasSynced() or `stop`; returns HasSynced().
  bool WaitForSync(const std::stop_token& stop);

  // The cached object, shared and immutable; nullptr when not cached.
  std::shared_ptr<const nlohmann::json> Get(const kube::ObjectKey& key) const;
  // Every cached object, in key order.
  std::vector<std::shared_ptr<const nlohmann::json>> List() const;
  std::vector<kube::ObjectKey> Keys() const;
  std::size_t Size() const;
  // The resourceVersion the cache reflects (from the last list, event or bookmark).
  std::string LastSyncResourceVersion() const;

 private:
  using Object = std::shared_ptr<const nlohmann::json>;

  // Lists and replaces the cache; false (after a failed attempt) when the caller should back off.
  bool ListAndReplace(const std::stop_token& stop);
  // One watch; returns what to do next.
  enum class Next { kWatch, kRelist, kBackoffThenWatch, kBackoffThenRelist, kStop };
  Next WatchOnce(const std::stop_token& stop);
  void HandleWatchEvent(const kube::WatchEvent& event);
  Object Prepare(nlohmann::json object) const;
  // Calls the handlers; never with mu_ held.
  void Notify(EventType type, const kube::ObjectKey& key, const Object& old_object,
              const Object& new_object) const EPHEMERA_EXCLUDES(mu_);
  void SetResourceVersion(std::string resource_version);

  kube::KubeClient& client_;
  base::Clock& clock_;
  const InformerOptions options_;
  std::vector<EventHandler> handlers_;  // fixed once Run starts
  base::Backoff backoff_;               // Run's thread only

  // Run's thread only: whether the next list must be a consistent read after a 410.
  bool relist_consistent_ = false;
  // Run's thread only: the server's Retry-After from the last failed watch.
  std::optional<std::chrono::seconds> retry_after_;

  std::atomic<bool> synced_{false};
  mutable base::Mutex mu_;
  base::CondVar synced_cv_;
  std::map<kube::ObjectKey, Object> cache_ EPHEMERA_GUARDED_BY(mu_);
  std::string resource_version_ EPHEMERA_GUARDED_BY(mu_);
};

}  // namespace ephemera::informer

#endif  // EPHEMERA_CONTROLLER_INFORMER_INFORMER_H_
