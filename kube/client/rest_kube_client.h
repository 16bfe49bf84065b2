// RestKubeClient: KubeClient over an HttpTransport (JSON over the Kubernetes REST API).
//
// Every request first takes a token from a client-side TokenBucket (QPS/burst). A 429, or a 5xx
// carrying Retry-After, is retried after the server's requested wait (default 1s, capped), up to
// `max_retries` times; other failures return at once with the Status from api_error.h.
// Authentication is the transport's business (BearerAuthTransport, CpprestTransport).
// Thread safe; the transport and clock are borrowed and must outlive the client.
#ifndef EPHEMERA_KUBE_CLIENT_REST_KUBE_CLIENT_H_
#define EPHEMERA_KUBE_CLIENT_REST_KUBE_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <random>
#include <string>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/token_bucket.h"
#include "kube/client/http_transport.h"
#include "kube/client/kube_client.h"
#include "kube/client/watch_decoder.h"

namespace ephemera::kube {

struct RestKubeClientOptions {
  double qps = 20;
  int burst = 30;
  std::chrono::milliseconds request_timeout{30'000};
  // Watches without an explicit timeout get timeoutSeconds uniformly in [min, max].
  std::chrono::seconds watch_timeout_min{300};
  std::chrono::seconds watch_timeout_max{600};
  int max_retries = 3;
  std::chrono::seconds max_retry_wait{30};
  WatchDecoderLimits watch_limits{};
  std::string user_agent = "ephemera-controller";
  std::uint64_t random_seed = 0;  // 0: seeded from std::random_device
  // Called once per request sent, retries and watches included, with the HTTP method and the
  // answer's status (0 when no answer came: connection refused, timeout). For metrics; may be
  // empty; must be cheap and thread-safe.
  std::function<void(const std::string& method, int status)> on_response;
  // Called once per request sent that is not a watch, retries included, with the HTTP method and
  // the seconds until its answer (or its failure) came. For the latency metric; may be empty;
  // must be cheap and thread-safe.
  std::function<void(const std::string& method, double seconds)> on_latency;
};

class RestKubeClient final : public KubeClient {
 public:
  RestKubeClient(HttpTransport& transport, base::Clock& clock, RestKubeClientOptions options = {});

  StatusOr<nlohmann::json> Get(const GroupVersionResource& gvr, const ObjectKey& key,
                               const GetOptions& options = {}) override;
  StatusOr<ListResult> List(const GroupVersionResource& gvr, std::string_view namespace_name,
                            const ListOptions& options = {}) override;
  WatchResult Watch(const GroupVersionResource& gvr, std::string_view namespace_name,
                    const WatchOptions& options, const WatchHandler& handler,
                    std::stop_token stop) override;
  StatusOr<nlohmann::json> Create(const GroupVersionResource& gvr, std::string_view namespace_name,
                                  const nlohmann::json& object,
                                  const WriteOptions& options = {}) override;
  StatusOr<nlohmann::json> Update(const GroupVersionResource& gvr, const ObjectKey& key,
                                  const nlohmann::json& object,
                                  const WriteOptions& options = {}) override;
  StatusOr<nlohmann::json> Patch(const GroupVersionResource& gvr, const ObjectKey& key,
                                 PatchType type, const nlohmann::json& patch,
                                 const PatchOptions& options = {}) override;
  Status Delete(const GroupVersionResource& gvr, const ObjectKey& key,
                const DeleteOptions& options = {}) override;
  StatusOr<std::string> GetPodLog(const ObjectKey& pod, const PodLogOptions& options) override;

 private:
  HttpRequest NewRequest(std::string method, std::string target) const;
  // Rate limit, send, retry 429 / 5xx-with-Retry-After. Returns the final response, any status.
  void Observe(const HttpRequest& request, const StatusOr<HttpResponse>& response) const;
  // `token_taken`: a best-effort request whose caller already took its token from the rate
  // limiter; it gets one attempt (no retry on 429 or 5xx with Retry-After).
  StatusOr<HttpResponse> Execute(const HttpRequest& request, bool token_taken = false);
  // Execute, then: 2xx → the parsed JSON body; otherwise ParseApiError.
  StatusOr<nlohmann::json> ExecuteJson(const HttpRequest& request, bool token_taken = false);
  std::chrono::seconds PickWatchTimeout();

  HttpTransport& transport_;
  base::Clock& clock_;
  const RestKubeClientOptions options_;
  base::TokenBucket limiter_;
  base::Mutex random_mu_;
  std::mt19937_64 random_ EPHEMERA_GUARDED_BY(random_mu_);
};

// --- Request targets (path + query), pure; exposed for tests. ---

StatusOr<std::string> GetTarget(const GroupVersionResource& gvr, const ObjectKey& key,
                                const GetOptions& options);
StatusOr<std::string> ListTarget(const GroupVersionResource& gvr, std::string_view namespace_name,
                                 const ListOptions& options, std::string_view continue_token);
StatusOr<std::string> WatchTarget(const GroupVersionResource& gvr, std::string_view namespace_name,
                                  const WatchOptions& options, std::chrono::seconds timeout);
StatusOr<std::string> CreateTarget(const GroupVersionResource& gvr, std::string_view namespace_name,
                                   const WriteOptions& options);
StatusOr<std::string> UpdateTarget(const GroupVersionResource& gvr, const ObjectKey& key,
                                   const WriteOptions& options);
// kInvalidArgument for kApply without field_manager, or force without kApply.
StatusOr<std::string> PatchTarget(const GroupVersionResource& gvr, const ObjectKey& key,
                                  PatchType type, const PatchOptions& options);
StatusOr<std::string> PodLogTarget(const ObjectKey& pod, const PodLogOptions& options);
// The DeleteOptions body (apiVersion v1, kind DeleteOptions).
nlohmann::json DeleteBody(const DeleteOptions& options);

}  // namespace ephemera::kube

#endif  // EPHEMERA_KUBE_CLIENT_REST_KUBE_CLIENT_H_
