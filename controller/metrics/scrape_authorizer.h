// ScrapeAuthorizer: who may read /metrics, decided the way the API server decides (the scheme of
// controller-runtime's secure metrics serving and kube-rbac-proxy).
//
// A scrape must carry "Authorization: Bearer <token>". The token goes to the API server in a
// TokenReview (authentication.k8s.io/v1); the identity it names (user, uid, groups, extra) goes
// back in a SubjectAccessReview for the non-resource path (`get` on "/metrics", what RBAC grants
// with nonResourceURLs). Answers: 401 without a token or with one the API server does not accept,
// 403 when RBAC does not allow the identity, 503 when the API server cannot be asked (not cached,
// so the next scrape asks again), otherwise the wrapped handler's answer.
//
// Decisions are cached for `cache_ttl` (30 s), keyed by the token's SHA-256 (the token itself is
// never kept, logged or put in an error), in at most `max_cache_entries` entries: when full,
// expired entries go first, then the one closest to expiry. So a revoked token or binding can still
// scrape for up to `cache_ttl`.
//
// Thread safety: Authorize and the handler may be called concurrently; the cache's mutex is never
// held while asking the API server. The client and clock are borrowed and must outlive this.
#ifndef EPHEMERA_CONTROLLER_METRICS_SCRAPE_AUTHORIZER_H_
#define EPHEMERA_CONTROLLER_METRICS_SCRAPE_AUTHORIZER_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"
#include "controller/httpserver/http_handler.h"
#include "kube/client/kube_client.h"

namespace ephemera::metrics {

enum class ScrapeDecision {
  kAllowed,
  kUnauthenticated,  // no token, a malformed header, or a token the API server did not accept
  kForbidden,        // authenticated, but not allowed to get the path
  kUnavailable,      // the TokenReview or SubjectAccessReview failed
};

struct ScrapeAuthorizerOptions {
  std::string path = "/metrics";  // the nonResourceAttributes.path asked about (verb "get")
  std::chrono::seconds cache_ttl{30};
  std::size_t max_cache_entries = 1024;
  // Called (outside the lock) when the API server cannot be asked: which review, and the error.
  // The error never contains the token.
  std::function<void(std::string_view review, const Status& error)> on_api_error{};
};

// The token of an "Authorization" header value "Bearer <token>" (scheme case-insensitive, spaces
// around it ignored); nullopt when the value is empty, another scheme, or the token is empty or
// contains whitespace.
std::optional<std::string_view> BearerTokenOf(std::string_view authorization);
// Lower-case hex SHA-256 of `token`: the cache key.
std::string TokenDigest(std::string_view token);

class ScrapeAuthorizer {
 public:
  ScrapeAuthorizer(kube::KubeClient& client, base::Clock& clock, ScrapeAuthorizerOptions options);
  ScrapeAuthorizer(const ScrapeAuthorizer&) = delete;
  ScrapeAuthorizer& operator=(const ScrapeAuthorizer&) = delete;

  // Decides for the request's Authorization header.
  ScrapeDecision Authorize(const httpserver::HttpRequest& request);

  // Cached decisions right now (expired ones included until evicted), for tests and metrics.
  std::size_t CachedDecisions() const;

 private:
  struct CachedDecision {
    ScrapeDecision decision;
    std::chrono::steady_clock::time_point expires;
  };
  ScrapeDecision AskApiServer(std::string_view token);
  void Remember(std::string digest, ScrapeDecision decision,
                std::chrono::steady_clock::time_point now);

  kube::KubeClient& client_;
  base::Clock& clock_;
  const ScrapeAuthorizerOptions options_;
  mutable base::Mutex mu_;
  std::unordered_map<std::string, CachedDecision> cache_
      EPHEMERA_GUARDED_BY(mu_);  // by TokenDigest
};

// `inner` behind `authorizer`: GET only (405 otherwise), then 401/403/503 as decided, or inner's
// answer. The handler shares ownership of the authorizer.
httpserver::HttpHandler RequireScrapeAuthorization(std::shared_ptr<ScrapeAuthorizer> authorizer,
                                                   httpserver::HttpHandler inner);

}  // namespace ephemera::metrics

#endif  // EPHEMERA_CONTROLLER_METRICS_SCRAPE_AUTHORIZER_H_
