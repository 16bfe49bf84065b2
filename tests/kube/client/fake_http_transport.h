// FakeHttpTransport: an HttpTransport that answers from a script and records every request.
//
// Replies are consumed in order; when the script is empty the optional handler answers, else the
// request fails with kUnavailable ("no scripted reply"). Thread safe.
#ifndef EPHEMERA_TESTS_KUBE_CLIENT_FAKE_HTTP_TRANSPORT_H_
#define EPHEMERA_TESTS_KUBE_CLIENT_FAKE_HTTP_TRANSPORT_H_

#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kube/client/http_transport.h"

namespace ephemera::kube {

struct FakeReply {
  int status = 200;
  HttpHeaders headers{};
  std::string body{};
  // For SendStreaming with a 2xx status: the body pieces, delivered in order.
  std::vector<std::string> chunks{};
  // Returned instead of a response (before anything is delivered, or after the chunks when
  // `fail_after_chunks` is set: a connection lost mid-stream).
  std::optional<Status> error{};
  bool fail_after_chunks = false;

  static FakeReply Json(int status, const nlohmann::json& body, HttpHeaders headers = {});
  // A Kubernetes Status object body.
  static FakeReply ApiStatus(int status, const std::string& reason, const std::string& message,
                             HttpHeaders headers = {});
  static FakeReply Stream(std::vector<std::string> chunks);
};

class FakeHttpTransport final : public HttpTransport {
 public:
  using Handler = std::function<FakeReply(const HttpRequest&)>;

  void Enqueue(FakeReply reply);
  void SetHandler(Handler handler);

  StatusOr<HttpResponse> Send(const HttpRequest& request) override;
  StatusOr<HttpResponse> SendStreaming(const HttpRequest& request, const BodyChunkHandler& on_chunk,
                                       std::stop_token stop) override;

  std::vector<HttpRequest> Requests();
  std::size_t Pending();

 private:
  FakeReply Next(const HttpRequest& request);

  std::mutex mu_;
  std::deque<FakeReply> script_;
  Handler handler_;
  std::vector<HttpRequest> requests_;
};

}  // namespace ephemera::kube

#endif  // EPHEMERA_TESTS_KUBE_CLIENT_FAKE_HTTP_TRANSPORT_H_
