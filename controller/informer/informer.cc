#include "controller/informer/informer.h"

#include <algorithm>

#include "kube/client/api_error.h"

namespace ephemera::informer {
namespace {

const nlohmann::json* StringField(const nlohmann::json& object, const char* field) {
  if (!object.is_object()) return nullptr;
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return nullptr;
  auto value = metadata->find(field);
  if (value == metadata->end() || !value->is_string()) return nullptr;
  return &*value;
}

}  // namespace

std::string_view EventTypeName(EventType type) {
  switch (type) {
    case EventType::kAdded:
      return "Added";
    case EventType::kModified:
      return "Modified";
    case EventType::kDeleted:
      return "Deleted";
  }
  return "Unknown";
}

std::optional<kube::ObjectKey> KeyOf(const nlohmann::json& object) {
  const nlohmann::json* name = StringField(object, "name");
  if (name == nullptr || name->get_ref<const std::string&>().empty()) return std::nullopt;
  const nlohmann::json* namespace_name = StringField(object, "namespace");
  return kube::ObjectKey{namespace_name ? namespace_name->get<std::string>() : std::string(),
                         name->get<std::string>()};
}

Informer::Informer(kube::KubeClient& client, base::Clock& clock, InformerOptions options)
    : client_(client), clock_(clock), options_(std::move(options)), backoff_(options_.backoff) {}

void Informer::AddEventHandler(EventHandler handler) { handlers_.push_back(std::move(handler)); }

void Informer::Run(const std::stop_token& stop) {
  bool need_list = true;
  while (!stop.stop_requested()) {
    if (need_list) {
      if (!ListAndReplace(stop)) {
        if (!clock_.SleepFor(backoff_.Next(), stop)) return;
        continue;
      }
    }
    const Next next = WatchOnce(stop);
    if (next == Next::kStop) return;
    if (next == Next::kBackoffThenWatch || next == Next::kBackoffThenRelist) {
      std::chrono::nanoseconds delay = backoff_.Next();
      if (retry_after_) delay = std::max<std::chrono::nanoseconds>(delay, *retry_after_);
      retry_after_.reset();
      if (!clock_.SleepFor(delay, stop)) return;
    }
    need_list = next == Next::kRelist || next == Next::kBackoffThenRelist;
  }
}

bool Informer::ListAndReplace(const std::stop_token& stop) {
  // Two tries: a 410 for the resourceVersion we asked for is answered at once by a consistent
  // read; any other failure goes back to Run for a backoff.
  for (int attempt = 0; attempt < 2 && !stop.stop_requested(); ++attempt) {
    kube::ListOptions list_options;
    list_options.label_selector = options_.label_selector;
    list_options.field_selector = options_.field_selector;
    list_options.limit = options_.page_size;
    if (!relist_consistent_) {
      base::MutexLock lock(mu_);
      list_options.resource_version = resource_version_.empty() ? "0" : resource_version_;
      list_options.resource_version_match = "NotOlderThan";
    }
    auto listed = client_.List(options_.resource, options_.namespace_name, list_options);
    if (!listed.ok()) {
      if (kube::IsGone(listed.status()) && !relist_consistent_) {
        relist_consistent_ = true;
        continue;
      }
      return false;
    }

    std::map<kube::ObjectKey, Object> fresh;
    for (nlohmann::json& item : listed->items) {
      std::optional<kube::ObjectKey> key = KeyOf(item);
      if (!key) continue;  // nameless objects cannot be addressed; the API server never sends them
      fresh[*key] = Prepare(std::move(item));
    }

    struct Change {
      EventType type;
      kube::ObjectKey key;
      Object old_object;
      Object new_object;
    };
    std::vector<Change> changes;
    {
      base::MutexLock lock(mu_);
      for (const auto& [key, object] : fresh) {
        auto cached = cache_.find(key);
        if (cached == cache_.end()) {
          changes.push_back({EventType::kAdded, key, nullptr, object});
        } else if (*cached->second != *object) {
          changes.push_back({EventType::kModified, key, cached->second, object});
        }
      }
      for (const auto& [key, object] : cache_) {
        if (!fresh.contains(key)) changes.push_back({EventType::kDeleted, key, object, nullptr});
      }
      cache_ = std::move(fresh);
      resource_version_ = listed->resource_version;
    }
    relist_consistent_ = false;
    backoff_.Reset();
    for (const Change& change : changes) {
      Notify(change.type, change.key, change.old_object, change.new_object);
    }
    if (!synced_.exchange(true)) {
      base::MutexLock lock(mu_);
      synced_cv_.NotifyAll();
    }
    return true;
  }
  return false;
}

Informer::Next Informer::WatchOnce(const std::stop_token& stop) {
  kube::WatchOptions watch_options;
  watch_options.resource_version = LastSyncResourceVersion();
  watch_options.label_selector = options_.label_selector;
  watch_options.field_selector = options_.field_selector;
  watch_options.allow_bookmarks = true;
  const kube::WatchResult result = client_.Watch(
      options_.resource, options_.namespace_name, watch_options,
      [this](const kube::WatchEvent& event) { HandleWatchEvent(event); }, stop);
  if (!result.resource_version.empty()) SetResourceVersion(result.resource_version);
  switch (result.end) {
    case kube::WatchEnd::kStopped:
      return Next::kStop;
    case kube::WatchEnd::kClosed:
      // A stream that closes without delivering anything, again and again, must not spin.
      if (result.events == 0) return Next::kBackoffThenWatch;
      backoff_.Reset();
      return Next::kWatch;
    case kube::WatchEnd::kGone:
      relist_consistent_ = true;
      return Next::kRelist;
    case kube::WatchEnd::kError:
      break;
  }
  if (result.events > 0) backoff_.Reset();
  retry_after_ = kube::RetryAfterOf(result.error);
  if (kube::IsGone(result.error)) {
    relist_consistent_ = true;
    return Next::kRelist;
  }
  // Transient trouble (timeouts, 5xx, 429, a dropped connection): watch again from where we are.
  // Anything else (403, a stream that cannot be decoded) may have lost events: start over.
  return kube::AdviseRetry(result.error) == kube::RetryAdvice::kRetryLater
             ? Next::kBackoffThenWatch
             : Next::kBackoffThenRelist;
}

void Informer::HandleWatchEvent(const kube::WatchEvent& event) {
  if (event.type == kube::WatchEventType::kError) return;  // the client ends the watch with it
  const std::string resource_version = event.ResourceVersion();
  if (event.type == kube::WatchEventType::kBookmark) {
    if (!resource_version.empty()) SetResourceVersion(resource_version);
    return;
  }
  std::optional<kube::ObjectKey> key = KeyOf(event.object);
  if (!key) {
    if (!resource_version.empty()) SetResourceVersion(resource_version);
    return;
  }
  Object object = Prepare(event.object);
  Object old_object;
  {
    base::MutexLock lock(mu_);
    auto cached = cache_.find(*key);
    if (cached != cache_.end()) old_object = cached->second;
    if (event.type == kube::WatchEventType::kDeleted) {
      if (cached != cache_.end()) cache_.erase(cached);
    } else {
      cache_[*key] = object;
    }
    if (!resource_version.empty()) resource_version_ = resource_version;
  }
  if (event.type == kube::WatchEventType::kDeleted) {
    Notify(EventType::kDeleted, *key, object, nullptr);
  } else {
    Notify(old_object ? EventType::kModified : EventType::kAdded, *key, old_object, object);
  }
}

Informer::Object Informer::Prepare(nlohmann::json object) const {
  if (options_.transform) object = options_.transform(std::move(object));
  return std::make_shared<const nlohmann::json>(std::move(object));
}

void Informer::Notify(EventType type, const kube::ObjectKey& key, const Object& old_object,
                      const Object& new_object) const {
  for (const EventHandler& handler : handlers_) {
    handler(type, key, old_object.get(), new_object.get());
  }
}

void Informer::SetResourceVersion(std::string resource_version) {
  base::MutexLock lock(mu_);
  resource_version_ = std::move(resource_version);
}

bool Informer::WaitForSync(const std::stop_token& stop) {
  base::MutexLock lock(mu_);
  synced_cv_.Wait(mu_, stop, [this] { return synced_.load(); });
  return synced_.load();
}

std::shared_ptr<const nlohmann::json> Informer::Get(const kube::ObjectKey& key) const {
  base::MutexLock lock(mu_);
  auto it = cache_.find(key);
  return it == cache_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const nlohmann::json>> Informer::List() const {
  base::MutexLock lock(mu_);
  std::vector<Object> objects;
  objects.reserve(cache_.size());
  for (const auto& [key, object] : cache_) objects.push_back(object);
  return objects;
}

std::vector<kube::ObjectKey> Informer::Keys() const {
  base::MutexLock lock(mu_);
  std::vector<kube::ObjectKey> keys;
  keys.reserve(cache_.size());
  for (const auto& [key, object] : cache_) keys.push_back(key);
  return keys;
}

std::size_t Informer::Size() const {
  base::MutexLock lock(mu_);
  return cache_.size();
}

std::string Informer::LastSyncResourceVersion() const {
  base::MutexLock lock(mu_);
  return resource_version_;
}

}  // namespace ephemera::informer
