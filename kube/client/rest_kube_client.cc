#include "kube/client/rest_kube_client.h"

#include <algorithm>

#include "kube/client/api_error.h"
#include "kube/object/url.h"

namespace ephemera::kube {
namespace {

constexpr int kMaxListRestarts = 2;
constexpr auto kDefaultRetryAfter = std::chrono::seconds(1);
// A watch that stays silent this much longer than its timeoutSeconds is considered dead.
constexpr auto kWatchSilenceSlack = std::chrono::seconds(30);

bool IsSuccess(int status) { return status >= 200 && status < 300; }

Status ErrorFromResponse(const HttpResponse& response) {
  std::optional<std::chrono::seconds> retry_after;
  if (auto header = FindHeader(response.headers, "Retry-After")) {
    retry_after = ParseRetryAfter(*header);
  }
  return ParseApiError(response.status, response.body, retry_after);
}

std::string Join(const std::string& path, const Query& query) { return path + query.Encode(); }

void AddWriteOptions(Query& query, const std::string& field_manager, bool dry_run) {
  query.AddIfNotEmpty("fieldManager", field_manager);
  if (dry_run) query.Add("dryRun", "All");
}

std::string_view PropagationName(PropagationPolicy policy) {
  switch (policy) {
    case PropagationPolicy::kForeground:
      return "Foreground";
    case PropagationPolicy::kBackground:
      return "Background";
    case PropagationPolicy::kOrphan:
      return "Orphan";
    case PropagationPolicy::kServerDefault:
      break;
  }
  return "";
}

// List items come without kind/apiVersion; restore them from the list ("PodList" → "Pod").
void FillItemTypes(const nlohmann::json& list, nlohmann::json& item) {
  if (!item.is_object()) return;
  const std::string kind = list.value("kind", "");
  if (!item.contains("kind") && kind.size() > 4 && kind.ends_with("List")) {
    item["kind"] = kind.substr(0, kind.size() - 4);
  }
  if (!item.contains("apiVersion") && list.contains("apiVersion")) {
    item["apiVersion"] = list["apiVersion"];
  }
}

}  // namespace

// --- Targets ---

StatusOr<std::string> GetTarget(const GroupVersionResource& gvr, const ObjectKey& key,
                                const GetOptions& options) {
  auto path = ObjectPath(gvr, key);
  if (!path.ok()) return path.status();
  return Join(*path, Query().AddIfNotEmpty("resourceVersion", options.resource_version));
}

StatusOr<std::string> ListTarget(const GroupVersionResource& gvr, std::string_view namespace_name,
                                 const ListOptions& options, std::string_view continue_token) {
  auto path = CollectionPath(gvr, namespace_name);
  if (!path.ok()) return path.status();
  Query query;
  query.AddIfNotEmpty("labelSelector", options.label_selector);
  query.AddIfNotEmpty("fieldSelector", options.field_selector);
  if (options.limit > 0) query.AddInt("limit", options.limit);
  if (!continue_token.empty()) {
    // The server rejects resourceVersion together with continue: the token pins the snapshot.
    query.Add("continue", continue_token);
  } else {
    query.AddIfNotEmpty("resourceVersion", options.resource_version);
    query.AddIfNotEmpty("resourceVersionMatch", options.resource_version_match);
  }
  return Join(*path, query);
}

StatusOr<std::string> WatchTarget(const GroupVersionResource& gvr, std::string_view namespace_name,
                                  const WatchOptions& options, std::chrono::seconds timeout) {
  auto path = CollectionPath(gvr, namespace_name);
  if (!path.ok()) return path.status();
  Query query;
  query.Add("watch", "1");
  query.AddIfNotEmpty("resourceVersion", options.resource_version);
  if (options.allow_bookmarks) query.AddBool("allowWatchBookmarks", true);
  query.AddIfNotEmpty("labelSelector", options.label_selector);
  query.AddIfNotEmpty("fieldSelector", options.field_selector);
  query.AddInt("timeoutSeconds", timeout.count());
  return Join(*path, query);
}

StatusOr<std::string> CreateTarget(const GroupVersionResource& gvr, std::string_view namespace_name,
                                   const WriteOptions& options) {
  if (gvr.namespaced && namespace_name.empty()) {
    return InvalidArgumentError("creating " + gvr.ToString() + " needs a namespace");
  }
  auto path = CollectionPath(gvr, namespace_name);
  if (!path.ok()) return path.status();
  Query query;
  AddWriteOptions(query, options.field_manager, options.dry_run);
  return Join(*path, query);
}

StatusOr<std::string> UpdateTarget(const GroupVersionResource& gvr, const ObjectKey& key,
                                   const WriteOptions& options) {
  auto path = ObjectPath(gvr, key);
  if (!path.ok()) return path.status();
  Query query;
  AddWriteOptions(query, options.field_manager, options.dry_run);
  return Join(*path, query);
}

StatusOr<std::string> PatchTarget(const GroupVersionResource& gvr, const ObjectKey& key,
                                  PatchType type, const PatchOptions& options) {
  if (type == PatchType::kApply && options.field_manager.empty()) {
    return InvalidArgumentError("server-side apply needs a field manager");
  }
  if (options.force && type != PatchType::kApply) {
    return InvalidArgumentError("force is only valid for server-side apply");
  }
  auto path = ObjectPath(gvr, key);
  if (!path.ok()) return path.status();
  Query query;
  AddWriteOptions(query, options.field_manager, options.dry_run);
  if (options.force) query.AddBool("force", true);
  return Join(*path, query);
}

StatusOr<std::string> PodLogTarget(const ObjectKey& pod, const PodLogOptions& options) {
  auto path = ObjectPath(PodsResource().WithSubresource("log"), pod);
  if (!path.ok()) return path.status();
  Query query;
  query.AddIfNotEmpty("container", options.container);
  if (options.limit_bytes) query.AddInt("limitBytes", *options.limit_bytes);
  if (options.tail_lines) query.AddInt("tailLines", *options.tail_lines);
  if (options.since_seconds) query.AddInt("sinceSeconds", *options.since_seconds);
  if (options.timestamps) query.AddBool("timestamps", true);
  if (options.previous) query.AddBool("previous", true);
  return Join(*path, query);
}

nlohmann::json DeleteBody(const DeleteOptions& options) {
  nlohmann::json body = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  nlohmann::json preconditions = nlohmann::json::object();
  if (options.precondition_uid) preconditions["uid"] = *options.precondition_uid;
  if (options.precondition_resource_version) {
    preconditions["resourceVersion"] = *options.precondition_resource_version;
  }
  if (!preconditions.empty()) body["preconditions"] = std::move(preconditions);
  if (const auto name = PropagationName(options.propagation); !name.empty()) {
    body["propagationPolicy"] = name;
  }
  if (options.grace_period) body["gracePeriodSeconds"] = options.grace_period->count();
  if (options.dry_run) body["dryRun"] = nlohmann::json::array({"All"});
  return body;
}

// --- RestKubeClient ---

RestKubeClient::RestKubeClient(HttpTransport& transport, base::Clock& clock,
                               RestKubeClientOptions options)
    : transport_(transport),
      clock_(clock),
      options_(std::move(options)),
      limiter_(options_.qps, options_.burst, clock),
      random_(options_.random_seed != 0 ? options_.random_seed : std::random_device{}()) {}

HttpRequest RestKubeClient::NewRequest(std::string method, std::string target) const {
  HttpRequest request;
  request.method = std::move(method);
  request.target = std::move(target);
  request.timeout = options_.request_timeout;
  request.headers = {{"Accept", "application/json"}, {"User-Agent", options_.user_agent}};
  return request;
}

void RestKubeClient::Observe(const HttpRequest& request,
                             const StatusOr<HttpResponse>& response) const {
  if (!options_.on_response) return;
  options_.on_response(request.method, response.ok() ? response->status : 0);
}

StatusOr<HttpResponse> RestKubeClient::Execute(const HttpRequest& request, bool token_taken) {
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0 || !token_taken) limiter_.Wait({});
    const auto sent = clock_.SteadyNow();
    auto response = transport_.Send(request);
    if (options_.on_latency) {
      options_.on_latency(request.method,
                          std::chrono::duration<double>(clock_.SteadyNow() - sent).count());
    }
    Observe(request, response);
    if (!response.ok()) return response;
    const bool throttled = response->status == 429;
    const auto retry_header = FindHeader(response->headers, "Retry-After");
    const bool overloaded = response->status >= 500 && retry_header.has_value();
    // A best-effort request (its token taken in advance) gets one attempt: a retry would wait for
    // a token like any other request.
    if ((!throttled && !overloaded) || attempt >= options_.max_retries || token_taken) {
      return response;
    }
    std::chrono::seconds wait = kDefaultRetryAfter;
    if (retry_header) wait = ParseRetryAfter(*retry_header).value_or(kDefaultRetryAfter);
    clock_.SleepFor(std::min(wait, options_.max_retry_wait), {});
  }
}

StatusOr<nlohmann::json> RestKubeClient::ExecuteJson(const HttpRequest& request, bool token_taken) {
  auto response = Execute(request, token_taken);
  if (!response.ok()) return response.status();
  if (!IsSuccess(response->status)) return ErrorFromResponse(*response);
  nlohmann::json body = nlohmann::json::parse(response->body, nullptr, false);
  if (body.is_discarded()) {
    return DataLossError(request.method + " " + request.target +
                         ": the server answered with a body that is not JSON");
  }
  return body;
}

StatusOr<nlohmann::json> RestKubeClient::Get(const GroupVersionResource& gvr, const ObjectKey& key,
                                             const GetOptions& options) {
  auto target = GetTarget(gvr, key, options);
  if (!target.ok()) return target.status();
  return ExecuteJson(NewRequest("GET", *target));
}

StatusOr<ListResult> RestKubeClient::List(const GroupVersionResource& gvr,
                                          std::string_view namespace_name,
                                          const ListOptions& options) {
  ListOptions effective = options;
  ListResult result;
  std::string continue_token;
  int restarts = 0;
  for (;;) {
    auto target = ListTarget(gvr, namespace_name, effective, continue_token);
    if (!target.ok()) return target.status();
    auto page = ExecuteJson(NewRequest("GET", *target));
    if (!page.ok()) {
      if (IsGone(page.status()) && !continue_token.empty() && restarts < kMaxListRestarts) {
        // The snapshot behind the continue token was compacted: start over, consistently.
        ++restarts;
        result = ListResult();
        continue_token.clear();
        effective.resource_version.clear();
        effective.resource_version_match.clear();
        continue;
      }
      return page.status();
    }
    if (!page->is_object()) return DataLossError("list answer is not a JSON object");
    auto items = page->find("items");
    if (items != page->end() && items->is_array()) {
      for (auto& item : *items) {
        FillItemTypes(*page, item);
        result.items.push_back(std::move(item));
      }
    } else if (items != page->end() && !items->is_null()) {
      return DataLossError("list answer has items that are not an array");
    }
    const nlohmann::json metadata = page->value("metadata", nlohmann::json::object());
    if (continue_token.empty()) result.resource_version = metadata.value("resourceVersion", "");
    continue_token = metadata.value("continue", "");
    if (continue_token.empty()) return result;
  }
}

std::chrono::seconds RestKubeClient::PickWatchTimeout() {
  const auto low = std::min(options_.watch_timeout_min, options_.watch_timeout_max);
  const auto high = std::max(options_.watch_timeout_min, options_.watch_timeout_max);
  base::MutexLock lock(random_mu_);
  std::uniform_int_distribution<std::int64_t> pick(low.count(), high.count());
  return std::chrono::seconds(pick(random_));
}

WatchResult RestKubeClient::Watch(const GroupVersionResource& gvr, std::string_view namespace_name,
                                  const WatchOptions& options, const WatchHandler& handler,
                                  std::stop_token stop) {
  WatchResult result;
  result.resource_version = options.resource_version;
  const auto timeout = options.timeout.value_or(PickWatchTimeout());
  auto target = WatchTarget(gvr, namespace_name, options, timeout);
  if (!target.ok()) {
    result.end = WatchEnd::kError;
    result.error = target.status();
    return result;
  }
  HttpRequest request = NewRequest("GET", *target);
  request.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout) +
                    std::chrono::duration_cast<std::chrono::milliseconds>(kWatchSilenceSlack);
  if (!limiter_.Wait(stop)) {
    result.end = WatchEnd::kStopped;
    return result;
  }

  WatchStreamDecoder decoder(options_.watch_limits);
  std::vector<WatchEvent> events;
  Status stream_error;  // decoder failure or in-stream ERROR event
  const auto on_chunk = [&](std::string_view chunk) {
    events.clear();
    Status fed = decoder.Feed(chunk, &events);
    for (const WatchEvent& event : events) {
      if (event.type == WatchEventType::kError) {
        stream_error = StatusFromApiStatusObject(event.object);
        return false;
      }
      if (const std::string rv = event.ResourceVersion(); !rv.empty()) {
        result.resource_version = rv;
      }
      ++result.events;
      handler(event);
      if (stop.stop_requested()) return false;
    }
    if (!fed.ok()) {
      stream_error = std::move(fed);
      return false;
    }
    return true;
  };
  auto response = transport_.SendStreaming(request, on_chunk, stop);
  Observe(request, response);

  const auto finish = [&](WatchEnd end, Status error) {
    result.end = end;
    result.error = std::move(error);
    return result;
  };
  if (!stream_error.ok()) {
    return finish(IsGone(stream_error) ? WatchEnd::kGone : WatchEnd::kError, stream_error);
  }
  if (stop.stop_requested()) return finish(WatchEnd::kStopped, OkStatus());
  if (!response.ok()) return finish(WatchEnd::kError, response.status());
  if (!IsSuccess(response->status)) {
    Status error = ErrorFromResponse(*response);
    return finish(IsGone(error) ? WatchEnd::kGone : WatchEnd::kError, error);
  }
  if (decoder.HasPartialEvent()) {
    return finish(WatchEnd::kError, UnavailableError("watch stream ended inside an event"));
  }
  return finish(WatchEnd::kClosed, OkStatus());
}

StatusOr<nlohmann::json> RestKubeClient::Create(const GroupVersionResource& gvr,
                                                std::string_view namespace_name,
                                                const nlohmann::json& object,
                                                const WriteOptions& options) {
  auto target = CreateTarget(gvr, gvr.namespaced ? namespace_name : "", options);
  if (!target.ok()) return target.status();
  HttpRequest request = NewRequest("POST", *target);
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = object.dump();
  if (options.spare_budget_only) {
    if (!limiter_.TryAcquire()) {
      return ResourceExhaustedError(
          "not sent: the client-side API rate limit has no request to spare now");
    }
    return ExecuteJson(request, /*token_taken=*/true);
  }
  return ExecuteJson(request);
}

StatusOr<nlohmann::json> RestKubeClient::Update(const GroupVersionResource& gvr,
                                                const ObjectKey& key, const nlohmann::json& object,
                                                const WriteOptions& options) {
  auto target = UpdateTarget(gvr, key, options);
  if (!target.ok()) return target.status();
  HttpRequest request = NewRequest("PUT", *target);
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = object.dump();
  return ExecuteJson(request);
}

StatusOr<nlohmann::json> RestKubeClient::Patch(const GroupVersionResource& gvr,
                                               const ObjectKey& key, PatchType type,
                                               const nlohmann::json& patch,
                                               const PatchOptions& options) {
  auto target = PatchTarget(gvr, key, type, options);
  if (!target.ok()) return target.status();
  if (type == PatchType::kJsonPatch && !patch.is_array()) {
    return InvalidArgumentError("a JSON patch must be an array of operations");
  }
  HttpRequest request = NewRequest("PATCH", *target);
  request.headers.emplace_back("Content-Type", std::string(PatchContentType(type)));
  request.body = patch.dump();  // JSON is valid YAML, so this also serves apply-patch+yaml
  return ExecuteJson(request);
}

Status RestKubeClient::Delete(const GroupVersionResource& gvr, const ObjectKey& key,
                              const DeleteOptions& options) {
  auto path = ObjectPath(gvr, key);
  if (!path.ok()) return path.status();
  HttpRequest request = NewRequest("DELETE", *path);
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = DeleteBody(options).dump();
  auto response = Execute(request);
  if (!response.ok()) return response.status();
  if (!IsSuccess(response->status)) return ErrorFromResponse(*response);
  return OkStatus();
}

StatusOr<std::string> RestKubeClient::GetPodLog(const ObjectKey& pod,
                                                const PodLogOptions& options) {
  auto target = PodLogTarget(pod, options);
  if (!target.ok()) return target.status();
  HttpRequest request = NewRequest("GET", *target);
  request.headers[0].second = "*/*";
  auto response = Execute(request);
  if (!response.ok()) return response.status();
  if (!IsSuccess(response->status)) return ErrorFromResponse(*response);
  return std::move(response->body);
}

}  // namespace ephemera::kube
