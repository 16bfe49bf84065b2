// BearerAuthTransport: an HttpTransport decorator that adds "Authorization: Bearer <token>" from a
// TokenSource and, when the server answers 401, invalidates the source and retries once if the
// credentials changed (rotated service-account token, re-run exec plugin).
#ifndef EPHEMERA_KUBE_TRANSPORT_BEARER_AUTH_TRANSPORT_H_
#define EPHEMERA_KUBE_TRANSPORT_BEARER_AUTH_TRANSPORT_H_

#include "kube/auth/token_source.h"
#include "kube/client/http_transport.h"

namespace ephemera::kube {

// Borrows `inner` and `tokens`, which must outlive it. A request that already carries an
// Authorization header is sent unchanged. Thread safe if `inner` and `tokens` are.
class BearerAuthTransport final : public HttpTransport {
 public:
  BearerAuthTransport(HttpTransport& inner, TokenSource& tokens) : inner_(inner), tokens_(tokens) {}

  StatusOr<HttpResponse> Send(const HttpRequest& request) override;
  StatusOr<HttpResponse> SendStreaming(const HttpRequest& request, const BodyChunkHandler& on_chunk,
                                       std::stop_token stop) override;

 private:
  template <typename SendFn>
  StatusOr<HttpResponse> SendWithRetry(const HttpRequest& request, const SendFn& send);

  HttpTransport& inner_;
  TokenSource& tokens_;
};

}  // namespace ephemera::kube

#endif  // EPHEMERA_KUBE_TRANSPORT_BEARER_AUTH_TRANSPORT_H_
