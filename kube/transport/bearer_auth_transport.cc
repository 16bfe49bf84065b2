#include "kube/transport/bearer_auth_transport.h"

namespace ephemera::kube {
namespace {

HttpRequest WithToken(const HttpRequest& request, const std::string& token) {
  HttpRequest copy = request;
  if (!token.empty()) copy.headers.emplace_back("Authorization", "Bearer " + token);
  return copy;
}

}  // namespace

template <typename SendFn>
StatusOr<HttpResponse> BearerAuthTransport::SendWithRetry(const HttpRequest& request,
                                                          const SendFn& send) {
  if (FindHeader(request.headers, "Authorization")) return send(request);
  auto credentials = tokens_.Credentials();
  if (!credentials.ok()) return credentials.status();
  auto response = send(WithToken(request, credentials->bearer_token));
  if (!response.ok() || response->status != 401 || !tokens_.Invalidate()) return response;
  auto fresh = tokens_.Credentials();
  if (!fresh.ok() || *fresh == *credentials) return response;  // nothing new to try
  return send(WithToken(request, fresh->bearer_token));
}

StatusOr<HttpResponse> BearerAuthTransport::Send(const HttpRequest& request) {
  return SendWithRetry(request, [&](const HttpRequest& r) { return inner_.Send(r); });
}

StatusOr<HttpResponse> BearerAuthTransport::SendStreaming(const HttpRequest& request,
                                                          const BodyChunkHandler& on_chunk,
                                                          std::stop_token stop) {
  // Retrying is safe: a 401 answer is not 2xx, so no chunk reached `on_chunk`.
  return SendWithRetry(
      request, [&](const HttpRequest& r) { return inner_.SendStreaming(r, on_chunk, stop); });
}

}  // namespace ephemera::kube
