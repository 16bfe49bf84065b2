#include "audit/audit_verifier.h"

#include <algorithm>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>

#include "base/json_depth.h"

namespace ephemera::audit {
namespace {

struct Entry {
  std::uint64_t seq = 0;
  std::string prev;
  std::string hash;
  std::size_t line = 0;
  ForkNote fork;
};

std::string Plural(std::uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string SeqRange(std::uint64_t first, std::uint64_t last) {
  if (first == last) return "record seq " + std::to_string(first) + " is";
  return "records seq " + std::to_string(first) + " to " + std::to_string(last) + " are";
}

class ChainChecker {
 public:
  ChainChecker(std::string chain, ChainReport& report)
      : chain_(std::move(chain)), report_(report) {}

  void Add(const SealedRecord& r, std::size_t line) {
    if (ComputeRecordHash(r) != r.hash) {
      Problem(line, "changed record seq " + std::to_string(r.seq) +
                        ": its hash does not match its content");
    }
    entries_.push_back(Entry{r.seq, r.prev, r.hash, line, r.fork});
  }

  void Finish(const VerifyOptions& options) {
    auto anchor = options.anchors.find(chain_);
    const ChainHead* anchored = anchor != options.anchors.end() ? &anchor->second : nullptr;
    if (!entries_.empty()) {
      CheckSequence(options, anchored);
      CheckLinks();
    }
    if (anchored != nullptr) CheckAnchor(*anchored);
    std::stable_sort(report_.problems.begin(), report_.problems.end(),
                     [](const VerifyProblem& a, const VerifyProblem& b) {
                       if ((a.line == 0) != (b.line == 0)) return b.line == 0;
                       return a.line < b.line;
                     });
  }

 private:
  void Problem(std::size_t line, std::string message) {
    report_.problems.push_back(VerifyProblem{line, chain_, std::move(message)});
  }

  // Gaps, repeats, forks, order and the chain's start; fills the report's counts and head.
  void CheckSequence(const VerifyOptions& options, const ChainHead* anchor) {
    std::uint64_t max_seq = 0;
    std::size_t max_line = 0;
    std::set<std::uint64_t> forked;
    for (const Entry& e : entries_) {
      auto [first, inserted] = first_by_seq_.try_emplace(e.seq, &e);
      if (!inserted) {
        const Entry& earlier = *first->second;
        if (earlier.hash == e.hash) {
          Problem(e.line, "record seq " + std::to_string(e.seq) + " repeats the record at line " +
                              std::to_string(earlier.line));
        } else {
          forked.insert(e.seq);
        }
        continue;
      }
      if (e.seq < max_seq) {
        Problem(e.line, "record seq " + std::to_string(e.seq) + " comes after seq " +
                            std::to_string(max_seq) + " (line " + std::to_string(max_line) +
                            "): records are out of order");
      } else {
        max_seq = e.seq;
        max_line = e.line;
      }
    }
    report_.records = entries_.size();
    const std::set<std::string> committed =
        anchor != nullptr ? AnchoredPath(*anchor) : std::set<std::string>();
    const std::set<std::string> abandoned = ResolveForks(forked, committed, anchor != nullptr);
    const auto& [lowest_seq, lowest] = *first_by_seq_.begin();
    report_.first_seq = lowest_seq;
    // The head is the highest record not on an abandoned branch. With a fork at the top, the
    // anchored record is the head; without an anchor, the later one (the chain went on from it).
    std::uint64_t head_seq = 0;
    for (const Entry& e : entries_) {
      if (abandoned.count(e.hash) == 0) head_seq = std::max(head_seq, e.seq);
    }
    const Entry* head = nullptr;
    for (const Entry& e : entries_) {
      if (e.seq != head_seq || abandoned.count(e.hash) > 0) continue;
      if (head == nullptr || committed.empty() || committed.count(e.hash) > 0) head = &e;
    }
    report_.head = ChainHead{head_seq, head->hash};
    report_.head_line = head->line;

    if (lowest_seq > 1 && !options.allow_partial_chains) {
      Problem(lowest->line, "the chain starts at seq " + std::to_string(lowest_seq) + ": " +
                                SeqRange(1, lowest_seq - 1) +
                                " not in the input (allow a partial chain if the stream was cut)");
    }
    std::uint64_t expected = lowest_seq;
    const Entry* before = nullptr;
    for (const auto& [seq, entry] : first_by_seq_) {
      if (seq != expected) {
        Problem(entry->line, SeqRange(expected, seq - 1) + " missing (between line " +
                                 std::to_string(before->line) + " and line " +
                                 std::to_string(entry->line) + ")");
      }
      expected = seq + 1;
      before = entry;
    }
  }

  // The hashes of the records from the anchored head back to the chain's start (or as far as the
  // stream reaches), following prev: the chain as the session's status committed it.
  std::set<std::string> AnchoredPath(const ChainHead& anchor) const {
    std::map<std::string, const Entry*> by_hash;
    for (const Entry& e : entries_) by_hash.emplace(e.hash, &e);
    std::set<std::string> path;
    auto at = by_hash.find(anchor.hash);
    const Entry* e = at == by_hash.end() ? nullptr : at->second;
    if (e != nullptr && anchor.records != 0 && e->seq != anchor.records) e = nullptr;
    while (e != nullptr && path.insert(e->hash).second && e->seq > 1) {
      auto before = by_hash.find(e->prev);
      e = before == by_hash.end() ? nullptr : before->second;
    }
    return path;
  }

  // A seq written twice with different content is a fork. When exactly one of the copies is on
  // the anchored chain, the others start branches that leave the chain; otherwise the fork is a
  // problem (no anchor, or neither copy leads to it). A branch is every record that goes on from
  // such a copy (a step writes several records, and an abandoned attempt may have written more of
  // them than the one that counts). Branches are grouped by the record they leave the chain after
  // and accepted only when explained (ExplainBranches); all their records are superseded, so the
  // head and the anchor are judged on the anchored chain alone. Returns those records' hashes.
  std::set<std::string> ResolveForks(const std::set<std::uint64_t>& forked,
                                     const std::set<std::string>& committed, bool anchored) {
    std::map<std::string, const Entry*> off_path;  // hash -> first record with it
    for (const Entry& e : entries_) {
      if (committed.count(e.hash) == 0) off_path.emplace(e.hash, &e);
    }
    // The branches' first records by the hash they follow (the fork point).
    std::map<std::string, std::vector<const Entry*>> roots_after;
    std::set<std::string> rooted;
    std::map<std::uint64_t, std::vector<const Entry*>> unresolved;
    for (std::uint64_t seq : forked) {
      std::vector<const Entry*> copies;
      for (const Entry& e : entries_) {
        if (e.seq == seq) copies.push_back(&e);
      }
      const auto on_path = std::count_if(copies.begin(), copies.end(), [&](const Entry* e) {
        return committed.count(e->hash) > 0;
      });
      if (on_path == 1) {
        for (const Entry* e : copies) {
          if (committed.count(e->hash) > 0) continue;
          const Entry* root = RootOf(*e, off_path);
          if (rooted.insert(root->hash).second) roots_after[root->prev].push_back(root);
        }
      } else {
        unresolved.emplace(seq, std::move(copies));
      }
    }
    std::set<std::string> superseded;
    for (auto& [fork_point, roots] : roots_after) {
      std::sort(roots.begin(), roots.end(),
                [](const Entry* a, const Entry* b) { return a->line < b->line; });
      const Entry* continuation = nullptr;  // the anchored chain's record after the fork point
      for (const Entry& e : entries_) {
        if (e.prev == fork_point && committed.count(e.hash) > 0) continuation = &e;
      }
      ExplainBranches(continuation, roots, off_path, superseded);
    }
    for (const auto& [seq, copies] : unresolved) {
      // Copies past the anchored head on branches judged above (two abandoned attempts that both
      // went further than the retry that counts) are not a fork of their own.
      const bool on_branches =
          anchored && std::all_of(copies.begin(), copies.end(),
                                  [&](const Entry* e) { return superseded.count(e->hash) > 0; });
      if (on_branches) continue;
      Problem(copies[1]->line,
              "record seq " + std::to_string(seq) +
                  " appears twice with different content (lines " +
                  std::to_string(copies[0]->line) + " and " + std::to_string(copies[1]->line) +
                  "): the chain forked (a controller restart between writing a record and saving "
                  "its head, or tampering)" +
                  (anchored ? "; neither copy leads to the anchored head"
                            : "; the session's status.audit as an anchor tells which copy counts"));
    }
    report_.superseded += superseded.size();
    return superseded;
  }

  // The first record of the off-path branch `e` is on: follows prev while it is off the path.
  static const Entry* RootOf(const Entry& e, const std::map<std::string, const Entry*>& off_path) {
    const Entry* root = &e;
    for (std::size_t steps = 0; steps < off_path.size(); ++steps) {
      auto before = off_path.find(root->prev);
      if (before == off_path.end()) break;
      root = before->second;
    }
    return root;
  }

  // The records of the branch that starts at `root`, in chain order, when it is one straight line
  // (no record with two successors); nullopt when it splits.
  std::optional<std::vector<const Entry*>> BranchOf(
      const Entry* root, const std::map<std::string, const Entry*>& off_path) const {
    std::vector<const Entry*> branch{root};
    std::set<std::string> seen{root->hash};
    for (;;) {
      std::set<std::string> next;
      const Entry* successor = nullptr;
      for (const auto& [hash, e] : off_path) {
        if (e->prev == branch.back()->hash && next.insert(hash).second) successor = e;
      }
      // successor is set whenever next is not empty; the null test says so to the analyzer.
      if (next.empty() || successor == nullptr) return branch;
      if (next.size() > 1 || !seen.insert(successor->hash).second) return std::nullopt;
      branch.push_back(successor);
    }
  }

  // The branches that leave the anchored chain at one point. The anchored record that continues
  // the chain there, and every branch it explains, may explain one more: by naming a branch's last
  // record (ForkNote::abandons: a running controller retried a failed step from its saved head),
  // or, once per record marked ForkNote::resumes (the first record of a new process or leader), one
  // branch nobody named. Anything else is a forged or unexplained branch, a problem. Adds every
  // branch record to `superseded`.
  void ExplainBranches(const Entry* continuation, const std::vector<const Entry*>& roots,
                       const std::map<std::string, const Entry*>& off_path,
                       std::set<std::string>& superseded) {
    std::vector<std::optional<std::vector<const Entry*>>> branches;
    for (const Entry* root : roots) {
      branches.push_back(BranchOf(root, off_path));
      if (branches.back()) {
        for (const Entry* e : *branches.back()) superseded.insert(e->hash);
      } else {
        for (const auto& [hash, e] : off_path) {
          if (RootOf(*e, off_path) == root) superseded.insert(hash);
        }
      }
    }
    std::vector<bool> explained(roots.size(), false);
    std::vector<const Entry*> explaining;
    if (continuation != nullptr) explaining.push_back(continuation);
    std::size_t unnamed_allowed = 0;
    for (std::size_t i = 0; i < explaining.size(); ++i) {
      const Entry* x = explaining[i];
      if (x->fork.resumes) ++unnamed_allowed;
      if (x->fork.abandons.empty()) continue;
      for (std::size_t b = 0; b < roots.size(); ++b) {
        if (!explained[b] && branches[b] && branches[b]->back()->hash == x->fork.abandons) {
          explained[b] = true;
          explaining.push_back(roots[b]);
          break;
        }
      }
    }
    for (std::size_t b = 0; b < roots.size(); ++b) {
      if (explained[b]) continue;
      if (branches[b] && unnamed_allowed > 0) {
        --unnamed_allowed;
        continue;
      }
      const Entry* root = roots[b];
      const std::string what =
          branches[b] ? "a branch of " + Plural(branches[b]->size(), "record", "records") +
                            " (to line " + std::to_string(branches[b]->back()->line) + ")"
                      : "a branch that splits again";
      Problem(root->line, "record seq " + std::to_string(root->seq) + " starts " + what +
                              " beside the anchored chain that no record explains (neither named "
                              "as abandoned nor left at a controller restart): a forged or "
                              "unexplained branch");
    }
  }

  // Each record's prev is the hash of the record before it (any copy of it, so a fork reports
  // once), and seq 1 starts from the genesis hash.
  void CheckLinks() {
    std::map<std::uint64_t, std::set<std::string>> hashes;
    for (const Entry& e : entries_) hashes[e.seq].insert(e.hash);
    const std::string genesis = GenesisHash(chain_);
    for (const Entry& e : entries_) {
      if (e.seq == 1) {
        if (e.prev != genesis) {
          Problem(e.line,
                  "record seq 1 does not start this chain: its prev is not the chain's "
                  "genesis hash");
        }
        continue;
      }
      auto before = hashes.find(e.seq - 1);
      if (before == hashes.end()) continue;  // reported as missing or as the chain's start
      if (before->second.count(e.prev) == 0) {
        Problem(e.line, "record seq " + std::to_string(e.seq) + " does not follow seq " +
                            std::to_string(e.seq - 1) + " (line " +
                            std::to_string(first_by_seq_.at(e.seq - 1)->line) +
                            "): its prev is not that record's hash (a record was replaced or "
                            "inserted)");
      }
    }
  }

  void CheckAnchor(const ChainHead& anchor) {
    const std::string says =
        "the anchor says " +
        (anchor.records > 0 ? Plural(anchor.records, "record", "records") + ", " : std::string()) +
        "head " + anchor.hash;
    if (entries_.empty()) {
      Problem(0, "no records of this chain in the input, but " + says);
      return;
    }
    const ChainHead& last = report_.head;
    // The record at seq: the copy with the anchored hash when the seq forked, else the last.
    auto hash_at = [this, &anchor](std::uint64_t seq) -> const Entry* {
      const Entry* found = nullptr;
      for (const Entry& e : entries_) {
        if (e.seq == seq && (found == nullptr || found->hash != anchor.hash)) found = &e;
      }
      return found;
    };
    if (anchor.records == 0) {
      if (last.hash == anchor.hash) return;
      for (const Entry& e : entries_) {
        if (e.hash == anchor.hash) {
          Problem(report_.head_line, "the chain goes on past the anchored head (seq " +
                                         std::to_string(e.seq) + ", line " +
                                         std::to_string(e.line) + ") to seq " +
                                         std::to_string(last.records) + "; " + says);
          return;
        }
      }
      Problem(report_.head_line, "the chain ends at seq " + std::to_string(last.records) +
                                     " but no record has the anchored head: " + says +
                                     " (records were removed or the chain was rewritten)");
      return;
    }
    if (last.records < anchor.records) {
      Problem(report_.head_line, "the chain ends at seq " + std::to_string(last.records) + " but " +
                                     says + ": " + SeqRange(last.records + 1, anchor.records) +
                                     " missing at the end");
      return;
    }
    const Entry* at_anchor = hash_at(anchor.records);
    if (at_anchor == nullptr) return;  // reported as missing
    if (at_anchor->hash != anchor.hash) {
      Problem(at_anchor->line, "record seq " + std::to_string(anchor.records) +
                                   " is not the anchored head: " + says +
                                   " (the chain was rewritten)");
      return;
    }
    if (last.records > anchor.records) {
      Problem(report_.head_line,
              "the chain goes on past the anchored head (seq " + std::to_string(anchor.records) +
                  ", line " + std::to_string(at_anchor->line) + ") to seq " +
                  std::to_string(last.records) +
                  ": the anchor is older than the stream, or records were added");
    }
  }

  std::string chain_;
  ChainReport& report_;
  std::vector<Entry> entries_;  // stream order; pointers into it are stable once reading ends
  std::map<std::uint64_t, const Entry*> first_by_seq_;
};

bool LooksLikeRecord(std::string_view line) {
  return line.find("\"chain\"") != std::string_view::npos &&
         line.find("\"hash\"") != std::string_view::npos;
}

}  // namespace

bool VerifyReport::Verified() const { return readable && ProblemCount() == 0; }

std::size_t VerifyReport::ProblemCount() const {
  std::size_t n = problems.size();
  for (const auto& [chain, report] : chains) n += report.problems.size();
  return n;
}

VerifyReport VerifyAuditStream(std::istream& json_lines, const VerifyOptions& options) {
  VerifyReport report;
  // Each chain keeps seq, prev, hash and line of its records until the end (about 200 bytes a
  // record), so reordering can be told apart from loss.
  std::map<std::string, ChainChecker> checkers;
  auto checker_for = [&](const std::string& chain) -> ChainChecker& {
    return checkers.try_emplace(chain, chain, report.chains[chain]).first->second;
  };
  std::string line;
  while (std::getline(json_lines, line)) {
    ++report.lines;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // Nesting deeper than any record has is refused before parsing: copying or printing such a
    // value recurses once per level and would overflow the stack.
    if (base::NestsDeeperThan(line)) {
      if (LooksLikeRecord(line)) {
        report.problems.push_back(VerifyProblem{report.lines, "",
                                                "malformed audit record: nested deeper than " +
                                                    std::to_string(base::kMaxJsonDepth) +
                                                    " levels"});
      } else {
        ++report.skipped_lines;
      }
      continue;
    }
    const nlohmann::json json = nlohmann::json::parse(line, nullptr, false);
    const bool is_record = json.is_object() && json.contains("chain") && json.contains("hash");
    if (!is_record) {
      if (json.is_discarded() && LooksLikeRecord(line)) {
        report.problems.push_back(VerifyProblem{
            report.lines, "", "malformed audit record: the line is not complete JSON"});
      } else {
        ++report.skipped_lines;
      }
      continue;
    }
    StatusOr<SealedRecord> record = SealedRecordFromJson(json);
    if (!record.ok()) {
      const auto& chain = json.at("chain");
      report.problems.push_back(
          VerifyProblem{report.lines, chain.is_string() ? chain.get<std::string>() : "",
                        "malformed audit record: " + record.status().message()});
      continue;
    }
    ++report.records;
    checker_for(record->record.chain).Add(*record, report.lines);
  }
  report.readable = !json_lines.bad();

  for (const auto& [chain, unused] : options.anchors) checker_for(chain);
  for (auto& [chain, checker] : checkers) checker.Finish(options);
  if (report.records == 0 && report.problems.empty()) {
    report.problems.push_back(VerifyProblem{
        0, "", "no audit records in the input (" + Plural(report.lines, "line", "lines") + ")"});
  }
  return report;
}

VerifyReport VerifyAuditStream(std::istream& json_lines,
                               const std::map<std::string, ChainHead>& anchors) {
  VerifyOptions options;
  options.anchors = anchors;
  return VerifyAuditStream(json_lines, options);
}

namespace {

std::vector<VerifyProblem> AllProblems(const VerifyReport& report) {
  std::vector<VerifyProblem> all = report.problems;
  for (const auto& [chain, c] : report.chains) {
    all.insert(all.end(), c.problems.begin(), c.problems.end());
  }
  std::stable_sort(all.begin(), all.end(), [](const VerifyProblem& a, const VerifyProblem& b) {
    if ((a.line == 0) != (b.line == 0)) return b.line == 0;
    return a.line < b.line;
  });
  return all;
}

}  // namespace

std::string FormatVerifyReport(const VerifyReport& report) {
  std::ostringstream out;
  const std::string counts = Plural(report.chains.size(), "chain", "chains") + ", " +
                             Plural(report.records, "record", "records");
  if (report.Verified()) {
    std::uint64_t superseded = 0;
    for (const auto& [chain, c] : report.chains) superseded += c.superseded;
    out << "verified " << counts;
    if (superseded > 0) {
      out << " (" << Plural(superseded, "record", "records")
          << " superseded: written again after a controller restart, not on the anchored chain)";
    }
    out << "\n";
    return out.str();
  }
  for (const VerifyProblem& p : AllProblems(report)) {
    if (p.line > 0) out << "line " << p.line << ": ";
    if (!p.chain.empty()) out << "chain " << p.chain << ": ";
    out << p.message << "\n";
  }
  if (!report.readable) out << "the input could not be read to its end\n";
  out << "NOT verified: " << Plural(report.ProblemCount(), "problem", "problems") << " in "
      << counts << "\n";
  return out.str();
}

nlohmann::json VerifyReportToJson(const VerifyReport& report) {
  auto problem_json = [](const VerifyProblem& p) {
    return nlohmann::json{{"line", p.line}, {"chain", p.chain}, {"message", p.message}};
  };
  nlohmann::json chains = nlohmann::json::array();
  for (const auto& [chain, c] : report.chains) {
    nlohmann::json problems = nlohmann::json::array();
    for (const VerifyProblem& p : c.problems) {
      problems.push_back({{"line", p.line}, {"message", p.message}});
    }
    chains.push_back({{"chain", chain},
                      {"records", c.records},
                      {"firstSeq", c.first_seq},
                      {"head", ToJson(c.head)},
                      {"superseded", c.superseded},
                      {"problems", std::move(problems)}});
  }
  nlohmann::json problems = nlohmann::json::array();
  for (const VerifyProblem& p : AllProblems(report)) problems.push_back(problem_json(p));
  return nlohmann::json{{"verified", report.Verified()},  {"readable", report.readable},
                        {"lines", report.lines},          {"skippedLines", report.skipped_lines},
                        {"records", report.records},      {"chains", std::move(chains)},
                        {"problems", std::move(problems)}};
}

}  // namespace ephemera::audit
