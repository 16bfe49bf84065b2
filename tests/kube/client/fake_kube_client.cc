#include "tests/kube/client/fake_kube_client.h"

#include "kube/client/api_error.h"

namespace ephemera::kube {
namespace {

WatchEvent MakeEvent(WatchEventType type, nlohmann::json object) {
  WatchEvent event;
  event.type = type;
  event.object = std::move(object);
  return event;
}

std::string MetadataString(const nlohmann::json& object, const char* field) {
  if (!object.is_object() || !object.contains("metadata")) return "";
  const nlohmann::json& metadata = object["metadata"];
  if (!metadata.is_object() || !metadata.contains(field) || !metadata[field].is_string()) return "";
  return metadata[field].get<std::string>();
}

std::vector<std::string> Split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::string current;
  for (char c : text) {
    if (c == separator) {
      parts.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty() || !parts.empty()) parts.push_back(current);
  return parts;
}

// Equality-based selectors only: "k=v", "k==v", "k!=v" and "k" (exists), comma-separated.
bool MatchesSelector(std::string_view selector,
                     const std::function<std::optional<std::string>(const std::string&)>& lookup) {
  for (const std::string& term : Split(selector, ',')) {
    if (term.empty()) continue;
    std::size_t pos;
    if ((pos = term.find("!=")) != std::string::npos) {
      if (lookup(term.substr(0, pos)) == term.substr(pos + 2)) return false;
    } else if ((pos = term.find("==")) != std::string::npos) {
      if (lookup(term.substr(0, pos)) != term.substr(pos + 2)) return false;
    } else if ((pos = term.find('=')) != std::string::npos) {
      if (lookup(term.substr(0, pos)) != term.substr(pos + 1)) return false;
    } else if (!lookup(term)) {
      return false;
    }
  }
  return true;
}

bool MatchesListOptions(const nlohmann::json& object, const ListOptions& options) {
  auto label = [&](const std::string& key) -> std::optional<std::string> {
    if (!object.is_object() || !object.contains("metadata")) return std::nullopt;
    const nlohmann::json& metadata = object["metadata"];
    if (!metadata.is_object() || !metadata.contains("labels")) return std::nullopt;
    const nlohmann::json& labels = metadata["labels"];
    if (!labels.is_object() || !labels.contains(key) || !labels[key].is_string()) {
      return std::nullopt;
    }
    return labels[key].get<std::string>();
  };
  auto field = [&](const std::string& key) -> std::optional<std::string> {
    if (key == "metadata.name") return MetadataString(object, "name");
    if (key == "metadata.namespace") return MetadataString(object, "namespace");
    return std::nullopt;
  };
  return MatchesSelector(options.label_selector, label) &&
         MatchesSelector(options.field_selector, field);
}

// Strategic merge for the one list the controller patches (ephemeralContainers, merged by name);
// everything else as a merge patch.
void StrategicMerge(nlohmann::json& target, const nlohmann::json& patch) {
  nlohmann::json rest = patch;
  if (patch.contains("spec") && patch["spec"].is_object() &&
      patch["spec"].contains("ephemeralContainers")) {
    nlohmann::json& existing = target["spec"]["ephemeralContainers"];
    if (!existing.is_array()) existing = nlohmann::json::array();
    for (const nlohmann::json& container : patch["spec"]["ephemeralContainers"]) {
      bool replaced = false;
      for (nlohmann::json& current : existing) {
        if (current.value("name", "") == container.value("name", "")) {
          current = container;
          replaced = true;
        }
      }
      if (!replaced) existing.push_back(container);
    }
    rest["spec"].erase("ephemeralContainers");
  }
  target.merge_patch(rest);
}

}  // namespace

WatchScript WatchScript::Closed(std::vector<WatchEvent> events) {
  WatchScript script;
  script.events = std::move(events);
  return script;
}

WatchScript WatchScript::Gone(std::vector<WatchEvent> events) {
  WatchScript script;
  script.events = std::move(events);
  script.end = WatchEnd::kGone;
  return script;
}

WatchScript WatchScript::Failed(Status error, std::vector<WatchEvent> events) {
  WatchScript script;
  script.events = std::move(events);
  script.end = WatchEnd::kError;
  script.error = std::move(error);
  return script;
}

WatchEvent AddedEvent(nlohmann::json object) {
  return MakeEvent(WatchEventType::kAdded, std::move(object));
}
WatchEvent ModifiedEvent(nlohmann::json object) {
  return MakeEvent(WatchEventType::kModified, std::move(object));
}
WatchEvent DeletedEvent(nlohmann::json object) {
  return MakeEvent(WatchEventType::kDeleted, std::move(object));
}
WatchEvent BookmarkEvent(std::string resource_version) {
  return MakeEvent(WatchEventType::kBookmark,
                   {{"kind", "Pod"}, {"metadata", {{"resourceVersion", resource_version}}}});
}

Status ApiError(int http_status, std::string reason, std::string message) {
  nlohmann::json body = {{"kind", "Status"},   {"apiVersion", "v1"}, {"status", "Failure"},
                         {"message", message}, {"reason", reason},   {"code", http_status}};
  return ParseApiError(http_status, body.dump());
}

FakeKubeClient::StoreKey FakeKubeClient::KeyFor(const GroupVersionResource& gvr,
                                                const ObjectKey& key) {
  GroupVersionResource base = gvr;
  base.subresource.clear();
  return {base.ToString(), gvr.namespaced ? key : ObjectKey{"", key.name}};
}

std::string FakeKubeClient::StampLocked(nlohmann::json& object) {
  std::string version = std::to_string(++resource_version_);
  object["metadata"]["resourceVersion"] = version;
  if (!object["metadata"].contains("uid")) {
    object["metadata"]["uid"] = "uid-" + std::to_string(next_uid_++);
  }
  return version;
}

std::optional<Status> FakeKubeClient::TakeFailureLocked(FakeMethod method) {
  ++calls_[method];
  auto& queue = failures_[method];
  if (queue.empty()) return std::nullopt;
  Status status = queue.front();
  queue.pop_front();
  return status;
}

std::string FakeKubeClient::PutObject(const GroupVersionResource& gvr, nlohmann::json object) {
  base::MutexLock lock(mu_);
  const ObjectKey key{MetadataString(object, "namespace"), MetadataString(object, "name")};
  std::string version = StampLocked(object);
  store_[KeyFor(gvr, key)] = std::move(object);
  return version;
}

void FakeKubeClient::RemoveObject(const GroupVersionResource& gvr, const ObjectKey& key) {
  base::MutexLock lock(mu_);
  store_.erase(KeyFor(gvr, key));
  ++resource_version_;
}

std::optional<nlohmann::json> FakeKubeClient::GetObject(const GroupVersionResource& gvr,
                                                        const ObjectKey& key) {
  base::MutexLock lock(mu_);
  auto it = store_.find(KeyFor(gvr, key));
  if (it == store_.end()) return std::nullopt;
  return it->second;
}

std::string FakeKubeClient::CurrentResourceVersion() {
  base::MutexLock lock(mu_);
  return std::to_string(resource_version_);
}

void FakeKubeClient::SetPodLog(const ObjectKey& pod, std::string container, std::string text,
                               bool previous) {
  base::MutexLock lock(mu_);
  pod_logs_[{pod, std::move(container), previous}] = std::move(text);
}

void FakeKubeClient::OnGetPodLog(std::function<std::optional<Status>(const PodLogOptions&)> hook) {
  base::MutexLock lock(mu_);
  on_get_pod_log_ = std::move(hook);
}

std::vector<PodLogOptions> FakeKubeClient::PodLogRequests() {
  base::MutexLock lock(mu_);
  return pod_log_requests_;
}

void FakeKubeClient::FailNext(FakeMethod method, Status status) {
  base::MutexLock lock(mu_);
  failures_[method].push_back(std::move(status));
}

void FakeKubeClient::PushWatch(WatchScript script) {
  base::MutexLock lock(mu_);
  watch_scripts_.push_back(std::move(script));
  cv_.NotifyAll();
}

void FakeKubeClient::SetCreateAnswer(std::string resource, CreateAnswer answer) {
  base::MutexLock lock(mu_);
  create_answers_[std::move(resource)] = std::move(answer);
}

void FakeKubeClient::SetCreateAnswer(std::string resource,
                                     std::function<nlohmann::json(const nlohmann::json&)> answer) {
  SetCreateAnswer(std::move(resource),
                  [answer = std::move(answer)](const nlohmann::json& object, const WriteOptions&) {
                    return StatusOr<nlohmann::json>(answer(object));
                  });
}

void FakeKubeClient::SetBeforeUpdate(
    std::function<void(const GroupVersionResource&, const ObjectKey&)> hook) {
  base::MutexLock lock(mu_);
  before_update_ = std::move(hook);
}

std::vector<ListOptions> FakeKubeClient::ListCalls() {
  base::MutexLock lock(mu_);
  return list_calls_;
}

std::vector<WatchOptions> FakeKubeClient::WatchCalls() {
  base::MutexLock lock(mu_);
  return watch_calls_;
}

int FakeKubeClient::CallCount(FakeMethod method) {
  base::MutexLock lock(mu_);
  return calls_[method];
}

bool FakeKubeClient::WaitForWatchCalls(std::size_t count, std::chrono::milliseconds timeout) {
  base::MutexLock lock(mu_);
  return cv_.WaitUntil(mu_, std::stop_token(), std::chrono::steady_clock::now() + timeout,
                       [this, count]()
                           EPHEMERA_REQUIRES(mu_) { return watch_calls_.size() >= count; });
}

StatusOr<nlohmann::json> FakeKubeClient::Get(const GroupVersionResource& gvr, const ObjectKey& key,
                                             const GetOptions&) {
  base::MutexLock lock(mu_);
  if (auto failure = TakeFailureLocked(FakeMethod::kGet)) return *failure;
  auto it = store_.find(KeyFor(gvr, key));
  if (it == store_.end()) {
    return ApiError(404, "NotFound", gvr.ToString() + " \"" + key.name + "\" not found");
  }
  return it->second;
}

StatusOr<ListResult> FakeKubeClient::List(const GroupVersionResource& gvr,
                                          std::string_view namespace_name,
                                          const ListOptions& options) {
  base::MutexLock lock(mu_);
  list_calls_.push_back(options);
  if (auto failure = TakeFailureLocked(FakeMethod::kList)) return *failure;
  GroupVersionResource base = gvr;
  base.subresource.clear();
  ListResult result;
  for (const auto& [store_key, object] : store_) {
    if (store_key.first != base.ToString()) continue;
    if (gvr.namespaced && !namespace_name.empty() &&
        store_key.second.namespace_name != namespace_name) {
      continue;
    }
    if (!MatchesListOptions(object, options)) continue;
    result.items.push_back(object);
  }
  result.resource_version = std::to_string(resource_version_);
  return result;
}

WatchResult FakeKubeClient::Watch(const GroupVersionResource&, std::string_view,
                                  const WatchOptions& options, const WatchHandler& handler,
                                  std::stop_token stop) {
  WatchScript script;
  {
    base::MutexLock lock(mu_);
    watch_calls_.push_back(options);
    cv_.NotifyAll();
    if (!cv_.Wait(mu_, stop, [this]() EPHEMERA_REQUIRES(mu_) { return !watch_scripts_.empty(); })) {
      return WatchResult{.end = WatchEnd::kStopped,
                         .resource_version = options.resource_version,
                         .error = OkStatus(),
                         .events = 0};
    }
    script = std::move(watch_scripts_.front());
    watch_scripts_.pop_front();
  }
  WatchResult result;
  result.resource_version = options.resource_version;
  for (const WatchEvent& event : script.events) {
    if (stop.stop_requested()) {
      result.end = WatchEnd::kStopped;
      return result;
    }
    handler(event);
    ++result.events;
    std::string version = event.ResourceVersion();
    if (!version.empty()) result.resource_version = version;
  }
  result.end = script.end;
  if (script.end == WatchEnd::kGone) {
    result.error = ApiError(410, "Expired", "too old resource version");
  } else if (script.end == WatchEnd::kError) {
    result.error = script.error;
  }
  return result;
}

StatusOr<nlohmann::json> FakeKubeClient::Create(const GroupVersionResource& gvr,
                                                std::string_view namespace_name,
                                                const nlohmann::json& object,
                                                const WriteOptions& options) {
  base::MutexLock lock(mu_);
  if (auto failure = TakeFailureLocked(FakeMethod::kCreate)) return *failure;
  if (auto answer = create_answers_.find(gvr.resource); answer != create_answers_.end()) {
    return answer->second(object, options);
  }
  nlohmann::json created = object;
  const std::string name = MetadataString(created, "name");
  if (name.empty()) return ApiError(422, "Invalid", "metadata.name: Required value");
  if (gvr.namespaced) created["metadata"]["namespace"] = std::string(namespace_name);
  const ObjectKey key{gvr.namespaced ? std::string(namespace_name) : "", name};
  if (store_.contains(KeyFor(gvr, key))) {
    return ApiError(409, "AlreadyExists", gvr.ToString() + " \"" + name + "\" already exists");
  }
  created["metadata"].erase("resourceVersion");
  StampLocked(created);
  store_[KeyFor(gvr, key)] = created;
  return created;
}

StatusOr<nlohmann::json> FakeKubeClient::Update(const GroupVersionResource& gvr,
                                                const ObjectKey& key, const nlohmann::json& object,
                                                const WriteOptions&) {
  std::function<void(const GroupVersionResource&, const ObjectKey&)> hook;
  {
    base::MutexLock lock(mu_);
    hook = before_update_;
  }
  if (hook) hook(gvr, key);
  base::MutexLock lock(mu_);
  if (auto failure = TakeFailureLocked(FakeMethod::kUpdate)) return *failure;
  auto it = store_.find(KeyFor(gvr, key));
  if (it == store_.end()) {
    return ApiError(404, "NotFound", gvr.ToString() + " \"" + key.name + "\" not found");
  }
  const std::string sent = MetadataString(object, "resourceVersion");
  if (!sent.empty() && sent != MetadataString(it->second, "resourceVersion")) {
    return ApiError(409, "Conflict",
                    "Operation cannot be fulfilled on " + gvr.ToString() + " \"" + key.name +
                        "\": the object has been modified; please apply your changes to the "
                        "latest version and try again");
  }
  nlohmann::json updated;
  if (gvr.subresource == "status") {
    updated = it->second;
    updated["status"] = object.value("status", nlohmann::json::object());
  } else {
    updated = object;
    updated["metadata"]["uid"] = it->second["metadata"].value("uid", "");
  }
  StampLocked(updated);
  it->second = updated;
  return updated;
}

StatusOr<nlohmann::json> FakeKubeClient::Patch(const GroupVersionResource& gvr,
                                               const ObjectKey& key, PatchType type,
                                               const nlohmann::json& patch, const PatchOptions&) {
  base::MutexLock lock(mu_);
  if (auto failure = TakeFailureLocked(FakeMethod::kPatch)) return *failure;
  auto it = store_.find(KeyFor(gvr, key));
  if (it == store_.end()) {
    return ApiError(404, "NotFound", gvr.ToString() + " \"" + key.name + "\" not found");
  }
  nlohmann::json patched = it->second;
  try {
    switch (type) {
      case PatchType::kMerge:
      case PatchType::kApply:
        patched.merge_patch(patch);
        break;
      case PatchType::kStrategicMerge:
        StrategicMerge(patched, patch);
        break;
      case PatchType::kJsonPatch:
        patched = patched.patch(patch);
        break;
    }
  } catch (const nlohmann::json::exception& e) {
    return ApiError(422, "Invalid", std::string("patch does not apply: ") + e.what());
  }
  StampLocked(patched);
  it->second = patched;
  return patched;
}

Status FakeKubeClient::Delete(const GroupVersionResource& gvr, const ObjectKey& key,
                              const DeleteOptions& options) {
  base::MutexLock lock(mu_);
  if (auto failure = TakeFailureLocked(FakeMethod::kDelete)) return *failure;
  auto it = store_.find(KeyFor(gvr, key));
  if (it == store_.end()) {
    return ApiError(404, "NotFound", gvr.ToString() + " \"" + key.name + "\" not found");
  }
  if ((options.precondition_uid &&
       *options.precondition_uid != MetadataString(it->second, "uid")) ||
      (options.precondition_resource_version &&
       *options.precondition_resource_version != MetadataString(it->second, "resourceVersion"))) {
    return ApiError(409, "Conflict", "Precondition failed");
  }
  store_.erase(it);
  ++resource_version_;
  return OkStatus();
}

StatusOr<std::string> FakeKubeClient::GetPodLog(const ObjectKey& pod,
                                                const PodLogOptions& options) {
  std::function<std::optional<Status>(const PodLogOptions&)> hook;
  {
    base::MutexLock lock(mu_);
    hook = on_get_pod_log_;
  }
  if (hook) {
    if (std::optional<Status> answer = hook(options)) {
      base::MutexLock lock(mu_);
      pod_log_requests_.push_back(options);
      return *answer;
    }
  }
  base::MutexLock lock(mu_);
  pod_log_requests_.push_back(options);
  if (auto failure = TakeFailureLocked(FakeMethod::kGetPodLog)) return *failure;
  auto it = pod_logs_.find({pod, options.container, options.previous});
  if (it == pod_logs_.end()) return ApiError(404, "NotFound", "no log for " + pod.ToString());
  std::string text = it->second;
  // tailLines: the last N lines.
  if (options.tail_lines && *options.tail_lines >= 0) {
    std::vector<std::size_t> starts;
    for (std::size_t at = 0; at < text.size();) {
      starts.push_back(at);
      const std::size_t newline = text.find('\n', at);
      if (newline == std::string::npos) break;
      at = newline + 1;
    }
    const auto keep = static_cast<std::size_t>(*options.tail_lines);
    if (starts.size() > keep) text = keep == 0 ? "" : text.substr(starts[starts.size() - keep]);
  }
  // As the API server does with limitBytes: the log is cut at the cap, without an error.
  if (options.limit_bytes && *options.limit_bytes >= 0 &&
      text.size() > static_cast<std::size_t>(*options.limit_bytes)) {
    return text.substr(0, static_cast<std::size_t>(*options.limit_bytes));
  }
  return text;
}

}  // namespace ephemera::kube
