#include "controller/metrics/scrape_authorizer.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "base/hash.h"
#include "kube/client/token_review.h"
#include "kube/object/access_review.h"

namespace ephemera::metrics {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

httpserver::HttpResponse Text(int status, std::string body) {
  return httpserver::HttpResponse{
      .status = status, .content_type = "text/plain; charset=utf-8", .body = std::move(body)};
}

}  // namespace

std::optional<std::string_view> BearerTokenOf(std::string_view authorization) {
  authorization = Trim(authorization);
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      !EqualsIgnoringCase(authorization.substr(0, kScheme.size()), kScheme) ||
      !IsSpace(authorization[kScheme.size()])) {
    return std::nullopt;
  }
  std::string_view token = Trim(authorization.substr(kScheme.size()));
  if (token.empty()) return std::nullopt;
  for (char c : token) {
    if (IsSpace(c) || std::iscntrl(static_cast<unsigned char>(c))) return std::nullopt;
  }
  return token;
}

std::string TokenDigest(std::string_view token) { return base::Sha256Hex(token); }

ScrapeAuthorizer::ScrapeAuthorizer(kube::KubeClient& client, base::Clock& clock,
                                   ScrapeAuthorizerOptions options)
    : client_(client), clock_(clock), options_(std::move(options)) {}

ScrapeDecision ScrapeAuthorizer::Authorize(const httpserver::HttpRequest& request) {
  const std::string header = request.Header("authorization");
  const std::optional<std::string_view> token = BearerTokenOf(header);
  if (!token) return ScrapeDecision::kUnauthenticated;
  std::string digest = TokenDigest(*token);
  {
    base::MutexLock lock(mu_);
    const auto it = cache_.find(digest);
    if (it != cache_.end() && clock_.SteadyNow() < it->second.expires) return it->second.decision;
  }
  const ScrapeDecision decision = AskApiServer(*token);
  if (decision != ScrapeDecision::kUnavailable) {
    Remember(std::move(digest), decision, clock_.SteadyNow());
  }
  return decision;
}

ScrapeDecision ScrapeAuthorizer::AskApiServer(std::string_view token) {
  auto reviewed = kube::CreateTokenReview(client_, token);
  if (!reviewed.ok()) {
    if (options_.on_api_error) options_.on_api_error("TokenReview", reviewed.status());
    return ScrapeDecision::kUnavailable;
  }
  if (!reviewed->authenticated) return ScrapeDecision::kUnauthenticated;
  kube::AccessReviewRequest access;
  access.user = reviewed->user.username;
  access.uid = reviewed->user.uid;
  access.groups = reviewed->user.groups;
  access.extra = reviewed->user.extra;
  access.non_resource = kube::NonResourceAttributes{.path = options_.path, .verb = "get"};
  auto allowed = client_.CreateSubjectAccessReview(access);
  if (!allowed.ok()) {
    if (options_.on_api_error) options_.on_api_error("SubjectAccessReview", allowed.status());
    return ScrapeDecision::kUnavailable;
  }
  return allowed->allowed ? ScrapeDecision::kAllowed : ScrapeDecision::kForbidden;
}

void ScrapeAuthorizer::Remember(std::string digest, ScrapeDecision decision,
                                std::chrono::steady_clock::time_point now) {
  if (options_.max_cache_entries == 0 || options_.cache_ttl.count() <= 0) return;
  base::MutexLock lock(mu_);
  if (cache_.size() >= options_.max_cache_entries && !cache_.contains(digest)) {
    std::erase_if(cache_, [now](const auto& entry) { return entry.second.expires <= now; });
    if (cache_.size() >= options_.max_cache_entries) {
      cache_.erase(std::min_element(cache_.begin(), cache_.end(), [](const auto& a, const auto& b) {
        return a.second.expires < b.second.expires;
      }));
    }
  }
  cache_[std::move(digest)] = CachedDecision{decision, now + options_.cache_ttl};
}

std::size_t ScrapeAuthorizer::CachedDecisions() const {
  base::MutexLock lock(mu_);
  return cache_.size();
}

httpserver::HttpHandler RequireScrapeAuthorization(std::shared_ptr<ScrapeAuthorizer> authorizer,
                                                   httpserver::HttpHandler inner) {
  return [authorizer = std::move(authorizer),
          inner = std::move(inner)](const httpserver::HttpRequest& request) {
    if (request.method != "GET") return Text(405, "GET only\n");
    switch (authorizer->Authorize(request)) {
      case ScrapeDecision::kAllowed:
        return inner(request);
      case ScrapeDecision::kUnauthenticated:
        return Text(401, "Unauthorized: send a ServiceAccount token as Authorization: Bearer\n");
      case ScrapeDecision::kForbidden:
        return Text(403, "Forbidden: the token's identity may not get this path\n");
      case ScrapeDecision::kUnavailable:
        break;
    }
    return Text(503, "Cannot check the token with the Kubernetes API now; retry\n");
  };
}

}  // namespace ephemera::metrics
