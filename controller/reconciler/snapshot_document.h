// The facts the controller takes from a decrypted snapshot document: the snapshot format is
// declared, parsed and bounded in api/snapshot_document.h; these names are the reconciler's.
#ifndef EPHEMERA_CONTROLLER_RECONCILER_SNAPSHOT_DOCUMENT_H_
#define EPHEMERA_CONTROLLER_RECONCILER_SNAPSHOT_DOCUMENT_H_

#include <string_view>

#include "api/snapshot_document.h"

namespace ephemera::reconciler {

inline constexpr std::string_view kSnapshotFormat = api::kSnapshotApiVersion;
using api::ParseSnapshotDocument;
using api::SnapshotFacts;

}  // namespace ephemera::reconciler

#endif  // EPHEMERA_CONTROLLER_RECONCILER_SNAPSHOT_DOCUMENT_H_
