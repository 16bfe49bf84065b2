// Chain anchors kept in the controller's namespace, as ConfigMaps (pure: building and reading
// them; ConfigMapAnchorStore in anchor_store.h writes them).
//
// A session's status.audit is an anchor the audited requester can delete (with the session), and
// controller chains have no object at all. So the controller also keeps each chain's head in a
// ConfigMap of its own namespace, where people who use sessions have no rights:
//
//   metadata.name    AnchorConfigMapName(chain): "ephemera-audit-" + 20 hex digits of
//                    SHA-256(chain), deterministic and a valid object name for any chain
//   metadata.labels  ephemera.dev/audit-anchor: "true", app.kubernetes.io/managed-by, and
//                    ephemera.dev/audit-session-uid for a session chain (not
//                    ephemera.dev/session-uid: an anchor is not something the session leaves
//                    behind to be cleaned up with it)
//   data             chain, records (decimal), head ("sha256:…"), updated (RFC 3339, when the
//                    head was last written), session ("namespace/name"; empty for controller
//                    chains)
//
// `kubectl get configmaps -n <controller namespace> -l ephemera.dev/audit-anchor -o json` is the
// file `audit verify --anchors-file` reads. Thread safety: values, no shared state.
#ifndef EPHEMERA_AUDIT_ANCHOR_H_
#define EPHEMERA_AUDIT_ANCHOR_H_

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_record.h"
#include "base/status.h"

namespace ephemera::audit {

inline constexpr std::string_view kAnchorLabel = "ephemera.dev/audit-anchor";
// The label selector that finds every anchor.
inline constexpr std::string_view kAnchorSelector = "ephemera.dev/audit-anchor=true";

struct ChainAnchor {
  std::string chain;
  ChainHead head;
  std::string session;  // "namespace/name" of a session chain; empty for a controller chain
  std::string updated;  // RFC 3339 (FormatAuditTime) of the write

  friend bool operator==(const ChainAnchor&, const ChainAnchor&) = default;
};

// "ephemera-audit-<20 lowercase hex digits of SHA-256(chain)>".
std::string AnchorConfigMapName(std::string_view chain);

// The ConfigMap holding `anchor` in `namespace_name` (no resourceVersion). `session_uid`, when not
// empty, becomes the ephemera.dev/audit-session-uid label.
nlohmann::json BuildAnchorConfigMap(const ChainAnchor& anchor, std::string_view namespace_name,
                                    std::string_view session_uid = "");

// True when the object carries the anchor label (ephemera.dev/audit-anchor: "true").
bool IsAnchorConfigMap(const nlohmann::json& object);

// The anchor a ConfigMap holds. kInvalidArgument, naming the ConfigMap and the field, when data is
// missing or malformed (records not a decimal count, head not IsAuditHash, chain empty) or when
// the name is not AnchorConfigMapName(chain) (a ConfigMap that claims another chain's anchor).
StatusOr<ChainAnchor> ParseAnchorConfigMap(const nlohmann::json& config_map);

// The anchors in a JSON document: a ConfigMap, or a List of them (kubectl get -o json); items
// without the anchor label are skipped. kInvalidArgument for a document that is neither, for a
// labelled item that does not parse, and for two anchors of one chain.
StatusOr<std::map<std::string, ChainHead>> AnchorsFromJson(const nlohmann::json& document);

}  // namespace ephemera::audit

#endif  // EPHEMERA_AUDIT_ANCHOR_H_
