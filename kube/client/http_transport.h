// HttpTransport: the one door through which the Kubernetes client reaches the network.
//
// The REST client builds requests (method, path+query, headers, body) and interprets responses;
// the transport only moves bytes. Implementations: CpprestTransport (TLS via cpprestsdk),
// BearerAuthTransport (a decorator adding credentials), FakeHttpTransport in tests.
//
// Contract for every implementation:
//   - Transport failures (connect, TLS, reset, timeout) are a non-OK Status: kUnavailable, or
//     kDeadlineExceeded for a timeout. An HTTP error status (404, 500, ...) is NOT a failure: it is
//     an HttpResponse whose `status` the caller interprets.
//   - No exception escapes.
//   - Thread safe: concurrent calls are allowed.
#ifndef EPHEMERA_KUBE_CLIENT_HTTP_TRANSPORT_H_
#define EPHEMERA_KUBE_CLIENT_HTTP_TRANSPORT_H_

#include <chrono>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace ephemera::kube {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// The value of the first header named `name` (ASCII case-insensitive), if any.
std::optional<std::string> FindHeader(const HttpHeaders& headers, std::string_view name);

struct HttpRequest {
  std::string method = "GET";
  std::string target{};  // absolute path plus encoded query, relative to the server URL
  HttpHeaders headers{};
  std::string body{};
  // Budget for the whole exchange; for streams, the longest silence tolerated between chunks.
  std::chrono::milliseconds timeout{30'000};
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers{};
  std::string body{};  // for SendStreaming with a 2xx status: empty (the body went to the handler)
};

// Receives the body of a streaming response piece by piece, in order. Chunk boundaries are
// arbitrary (they need not match HTTP chunks or JSON documents). Return false to stop reading.
using BodyChunkHandler = std::function<bool(std::string_view chunk)>;

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;

  // Sends the request and reads the whole response.
  virtual StatusOr<HttpResponse> Send(const HttpRequest& request) = 0;

  // Sends the request; for a 2xx status, delivers the body to `on_chunk` as it arrives and returns
  // once the server ends the body, `on_chunk` returns false, or `stop` is requested (all three
  // return the response, with an empty body). A connection lost after the status line is a
  // non-OK Status (kUnavailable) returned after the chunks already delivered. For a non-2xx
  // status the body is read whole into HttpResponse::body and `on_chunk` is never called.
  virtual StatusOr<HttpResponse> SendStreaming(const HttpRequest& request,
                                               const BodyChunkHandler& on_chunk,
                                               std::stop_token stop) = 0;
};

}  // namespace ephemera::kube

#endif  // EPHEMERA_KUBE_CLIENT_HTTP_TRANSPORT_H_
