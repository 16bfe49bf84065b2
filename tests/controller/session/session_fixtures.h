// Builders for DebugSession and Pod objects used by the session tests.
#ifndef EPHEMERA_TESTS_CONTROLLER_SESSION_SESSION_FIXTURES_H_
#define EPHEMERA_TESTS_CONTROLLER_SESSION_SESSION_FIXTURES_H_

#include <nlohmann/json.hpp>

namespace ephemera::session::testing {

inline constexpr const char* kRecipient =
    "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

inline nlohmann::json SessionObject() {
  return {{"apiVersion", "ephemera.dev/v1alpha1"},
          {"kind", "DebugSession"},
          {"metadata",
           {{"name", "checkout-500s"},
            {"namespace", "team-a"},
            {"uid", "8d3c0e7a-0001-4b7e-9d1e-5e0c7b1a2f3d"},
            {"resourceVersion", "100"},
            {"generation", 1},
            {"creationTimestamp", "2026-11-28T10:00:00Z"},
            {"finalizers", {"ephemera.dev/cleanup"}}}},
          {"spec",
           {{"target", {{"pod", "shop-1"}, {"container", "app"}}},
            {"reason", "INC-1234 checkout returns 500"},
            {"ttl", "5m"},
            {"profile", "restricted"},
            {"capture", {"process", "threads", "fds"}},
            {"recipients", {kRecipient}},
            {"requestedBy", {{"username", "alice"}, {"uid", "u-1"}, {"groups", {"devs"}}}}}}};
}

inline nlohmann::json PodObject(bool running = true) {
  nlohmann::json state = running
                             ? nlohmann::json{{"running", {{"startedAt", "2026-11-28T09:00:00Z"}}}}
                             : nlohmann::json{{"waiting", {{"reason", "ContainerCreating"}}}};
  return {{"metadata", {{"name", "shop-1"}, {"namespace", "team-a"}, {"uid", "pod-uid-1"}}},
          {"spec",
           {{"securityContext", {{"runAsUser", 1000}}},
            {"containers",
             {{{"name", "app"},
               {"image", "ephemera.local/target:0.1.0"},
               {"env",
                {{{"name", "DB_PASSWORD"},
                  {"valueFrom", {{"secretKeyRef", {{"name", "db"}, {"key", "password"}}}}}},
                 {{"name", "LOG_LEVEL"}, {"value", "info"}}}}}}}}},
          {"status",
           {{"phase", running ? "Running" : "Pending"},
            {"containerStatuses", {{{"name", "app"}, {"state", state}}}}}}};
}

}  // namespace ephemera::session::testing

#endif  // EPHEMERA_TESTS_CONTROLLER_SESSION_SESSION_FIXTURES_H_
