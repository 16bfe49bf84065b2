#include "tests/kube/client/fake_http_transport.h"

namespace ephemera::kube {

FakeReply FakeReply::Json(int status, const nlohmann::json& body, HttpHeaders headers) {
  FakeReply reply;
  reply.status = status;
  reply.body = body.dump();
  reply.headers = std::move(headers);
  reply.headers.emplace_back("Content-Type", "application/json");
  return reply;
}

FakeReply FakeReply::ApiStatus(int status, const std::string& reason, const std::string& message,
                               HttpHeaders headers) {
  return Json(status,
              {{"kind", "Status"},
               {"apiVersion", "v1"},
               {"metadata", nlohmann::json::object()},
               {"status", "Failure"},
               {"message", message},
               {"reason", reason},
               {"code", status}},
              std::move(headers));
}

FakeReply FakeReply::Stream(std::vector<std::string> chunks) {
  FakeReply reply;
  reply.chunks = std::move(chunks);
  return reply;
}

void FakeHttpTransport::Enqueue(FakeReply reply) {
  std::lock_guard lock(mu_);
  script_.push_back(std::move(reply));
}

void FakeHttpTransport::SetHandler(Handler handler) {
  std::lock_guard lock(mu_);
  handler_ = std::move(handler);
}

FakeReply FakeHttpTransport::Next(const HttpRequest& request) {
  Handler handler;
  {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    if (!script_.empty()) {
      FakeReply reply = std::move(script_.front());
      script_.pop_front();
      return reply;
    }
    handler = handler_;
  }
  if (handler) return handler(request);
  FakeReply reply;
  reply.error = UnavailableError("no scripted reply for " + request.method + " " + request.target);
  return reply;
}

StatusOr<HttpResponse> FakeHttpTransport::Send(const HttpRequest& request) {
  FakeReply reply = Next(request);
  if (reply.error && !reply.fail_after_chunks) return *reply.error;
  HttpResponse response{reply.status, reply.headers, reply.body};
  for (const auto& chunk : reply.chunks) response.body += chunk;
  if (reply.error) return *reply.error;
  return response;
}

StatusOr<HttpResponse> FakeHttpTransport::SendStreaming(const HttpRequest& request,
                                                        const BodyChunkHandler& on_chunk,
                                                        std::stop_token stop) {
  FakeReply reply = Next(request);
  if (reply.error && !reply.fail_after_chunks) return *reply.error;
  HttpResponse response{reply.status, reply.headers, ""};
  if (reply.status < 200 || reply.status >= 300) {
    response.body = reply.body;
    return response;
  }
  for (const auto& chunk : reply.chunks) {
    if (stop.stop_requested()) return response;
    if (!on_chunk(chunk)) return response;
  }
  if (reply.error) return *reply.error;
  return response;
}

std::vector<HttpRequest> FakeHttpTransport::Requests() {
  std::lock_guard lock(mu_);
  return requests_;
}

std::size_t FakeHttpTransport::Pending() {
  std::lock_guard lock(mu_);
  return script_.size();
}

}  // namespace ephemera::kube
