#include "controller/audit/anchor_store.h"

#include <utility>

#include "base/json_access.h"
#include "base/rfc3339.h"

namespace ephemera::audit {
namespace {

// Sessions still in memory are a few thousand at most; past this the cache starts over, which
// costs one GET per chain on its next save.
constexpr std::size_t kMaxCachedHeads = 4096;

kube::GroupVersionResource ConfigMapsResource() { return {"", "v1", "configmaps", true, ""}; }

std::string ResourceVersionOf(const nlohmann::json& object) {
  if (!object.is_object() || !object.contains("metadata")) return "";
  return base::StringField(object["metadata"], "resourceVersion");
}

std::string Describe(const ChainHead& head) {
  return std::to_string(head.records) + ":" + head.hash;
}

}  // namespace

ConfigMapAnchorStore::ConfigMapAnchorStore(kube::KubeClient& client, base::Clock& clock,
                                           AnchorStoreOptions options)
    : client_(client), clock_(clock), options_(std::move(options)) {}

Status ConfigMapAnchorStore::Save(std::string_view chain, const ChainHead& head,
                                  std::string_view session, std::string_view session_uid) {
  if (chain.empty() || head.records == 0 || !IsAuditHash(head.hash)) {
    return InvalidArgumentError("an audit anchor needs a chain and a head with records");
  }
  std::string written_version;  // of this store's last write, when head moves forward from it
  {
    base::MutexLock lock(mu_);
    auto it = saved_.find(chain);
    if (it != saved_.end() && it->second.head == head) return OkStatus();
    if (it != saved_.end() && it->second.head.records < head.records) {
      written_version = it->second.resource_version;
    }
  }
  const ChainAnchor anchor{std::string(chain), head, std::string(session),
                           FormatAuditTime(clock_.Now())};
  const kube::ObjectKey key{options_.namespace_name, AnchorConfigMapName(chain)};
  const kube::WriteOptions write{"ephemera-controller", false, false};
  nlohmann::json object = BuildAnchorConfigMap(anchor, options_.namespace_name, session_uid);
  if (!written_version.empty()) {
    // Unchanged since this store wrote an earlier head, the anchor moves forward in one request;
    // if someone else wrote it meanwhile (a conflict) or removed it, it is read and checked below.
    object["metadata"]["resourceVersion"] = written_version;
    auto updated = client_.Update(ConfigMapsResource(), key, object, write);
    if (updated.ok()) {
      Remember(chain, head, ResourceVersionOf(*updated));
      return OkStatus();
    }
    const StatusCode code = updated.status().code();
    if (code != StatusCode::kAborted && code != StatusCode::kNotFound) {
      return updated.status().WithContext("writing audit anchor " + key.name);
    }
    object["metadata"].erase("resourceVersion");
  }
  auto existing = client_.Get(ConfigMapsResource(), key);
  if (existing.ok()) {
    StatusOr<ChainAnchor> stored = ParseAnchorConfigMap(*existing);
    if (stored.ok() && stored->chain != anchor.chain) {
      return FailedPreconditionError("ConfigMap " + key.ToString() + " anchors chain " +
                                     stored->chain + ", not " + anchor.chain);
    }
    if (stored.ok() && stored->head != head) {
      if (stored->head.records >= head.records) {
        return FailedPreconditionError("the audit anchor of chain " + anchor.chain + " is at " +
                                       Describe(stored->head) + "; it does not move back to " +
                                       Describe(head));
      }
    }
    std::string version = ResourceVersionOf(*existing);
    if (!stored.ok() || stored->head != head) {
      object["metadata"]["resourceVersion"] = version;
      auto updated = client_.Update(ConfigMapsResource(), key, object, write);
      if (!updated.ok()) return updated.status().WithContext("writing audit anchor " + key.name);
      version = ResourceVersionOf(*updated);
    }
    Remember(chain, head, std::move(version));
  } else if (existing.status().code() == StatusCode::kNotFound) {
    auto created = client_.Create(ConfigMapsResource(), options_.namespace_name, object, write);
    if (!created.ok()) return created.status().WithContext("creating audit anchor " + key.name);
    Remember(chain, head, ResourceVersionOf(*created));
  } else {
    return existing.status().WithContext("reading audit anchor " + key.name);
  }
  return OkStatus();
}

void ConfigMapAnchorStore::Remember(std::string_view chain, const ChainHead& head,
                                    std::string resource_version) {
  base::MutexLock lock(mu_);
  if (saved_.size() >= kMaxCachedHeads) saved_.clear();
  saved_.insert_or_assign(std::string(chain), Saved{head, std::move(resource_version)});
}

void ConfigMapAnchorStore::KeepAnchored(const AuditLog& log, const std::string& chain,
                                        const std::stop_token& stop) {
  auto save = [&] {
    const ChainHead head = log.Head(chain);
    if (head.records == 0) return;  // nothing written yet
    if (Status s = Save(chain, head); !s.ok()) ReportError("anchoring chain " + chain, s);
  };
  while (clock_.SleepFor(options_.replica_interval, stop)) save();
  save();  // the records written since the last save, at shutdown
}

StatusOr<std::size_t> ConfigMapAnchorStore::Sweep() {
  kube::ListOptions list;
  list.label_selector = std::string(kAnchorSelector);
  auto anchors = client_.List(ConfigMapsResource(), options_.namespace_name, list);
  if (!anchors.ok()) return anchors.status().WithContext("listing audit anchors");
  const auto cutoff = clock_.Now() - options_.retention;
  std::size_t deleted = 0;
  for (const nlohmann::json& object : anchors->items) {
    StatusOr<ChainAnchor> anchor = ParseAnchorConfigMap(object);
    if (anchor.ok()) {
      auto updated = base::ParseRfc3339(anchor->updated);
      if (updated.ok() && *updated >= cutoff) continue;
    }
    const kube::ObjectKey key{options_.namespace_name, object["metadata"].value("name", "")};
    kube::DeleteOptions options;
    // Only the version read: an anchor written meanwhile is current again.
    options.precondition_resource_version = object["metadata"].value("resourceVersion", "");
    Status s = client_.Delete(ConfigMapsResource(), key, options);
    if (s.ok()) {
      ++deleted;
      if (anchor.ok()) {
        base::MutexLock lock(mu_);
        saved_.erase(anchor->chain);
      }
    } else if (s.code() != StatusCode::kNotFound && s.code() != StatusCode::kAborted) {
      return s.WithContext("deleting audit anchor " + key.name);
    }
  }
  return deleted;
}

void ConfigMapAnchorStore::SweepPeriodically(const std::stop_token& stop) {
  do {
    auto swept = Sweep();
    if (!swept.ok()) ReportError("sweeping audit anchors", swept.status());
  } while (clock_.SleepFor(options_.sweep_interval, stop));
}

void ConfigMapAnchorStore::ReportError(std::string_view what, const Status& status) const {
  if (options_.on_error) options_.on_error(what, status);
}

}  // namespace ephemera::audit
