// The few facts about a pod that detection needs, and the rule that finds unsanctioned ephemeral
// containers in them. Pure.
//
// The controller watches every pod in the cluster, so it must not keep whole pods: ReducePod turns
// a pod into {metadata: {name, namespace, uid}, ephemeral: [{name, image, mark, state, running}]},
// a few hundred bytes, and the cache's memory grows with the number of pods, not with their size.
#ifndef EPHEMERA_CONTROLLER_DETECTION_POD_SUMMARY_H_
#define EPHEMERA_CONTROLLER_DETECTION_POD_SUMMARY_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ephemera::detection {

// An ephemeral container that Ephemera did not add (its mark is missing or wrong).
struct UnsanctionedContainer {
  std::string namespace_name;
  std::string pod;
  std::string pod_uid;
  std::string container;
  std::string image;
  bool running = false;
};

// The informer transform for pods (see above). Accepts a full Pod or an already reduced one.
nlohmann::json ReducePod(nlohmann::json pod);

// "name=state" (state: "", waiting, running, terminated) for each ephemeral container of a reduced
// pod, in order: two pods whose lists differ have containers that appeared, started or ended.
std::vector<std::string> EphemeralStates(const nlohmann::json& reduced);

// The ephemeral containers of `now` (a reduced pod) that `before` (the same pod earlier, reduced;
// null when first seen) did not have, and whose mark is not valid under `mark_key`. With an empty
// key every new container is reported (the controller cannot vouch for any).
std::vector<UnsanctionedContainer> FindUnsanctioned(const nlohmann::json* before,
                                                    const nlohmann::json& now,
                                                    std::string_view mark_key);

}  // namespace ephemera::detection

#endif  // EPHEMERA_CONTROLLER_DETECTION_POD_SUMMARY_H_
