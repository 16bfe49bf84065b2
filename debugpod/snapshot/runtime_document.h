// The `runtime` object of a process (docs/snapshot-format.md): a runtimes::RuntimeStacks with
// identical stacks grouped (runtimes::GroupStacks), at most api::kMaxRuntimeGroups groups of at
// most api::kMaxRuntimeGroupMembers listed members each, every string from the target passed
// through `redact` first. Pure; thread safety: none needed.
#ifndef EPHEMERA_DEBUGPOD_SNAPSHOT_RUNTIME_DOCUMENT_H_
#define EPHEMERA_DEBUGPOD_SNAPSHOT_RUNTIME_DOCUMENT_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "debugpod/runtimes/runtime_stacks.h"
#include "debugpod/snapshot/capture.h"

namespace ephemera::snapshot {

// Redacts one string from the target, named by its field path (for redaction.droppedFields);
// nullopt: the redactor failed and the field is left out.
using RedactText =
    std::function<std::optional<std::string>(std::string_view text, const std::string& path)>;

// {language, version, method, freezeMicros, count, groups, groupsOmitted, deadlocks}.
// `path` is the runtime object's own path ("processes[pid=7].runtime").
Json RuntimeDocument(const runtimes::RuntimeStacks& stacks, const std::string& path,
                     const RedactText& redact);

}  // namespace ephemera::snapshot

#endif  // EPHEMERA_DEBUGPOD_SNAPSHOT_RUNTIME_DOCUMENT_H_
