#!/usr/bin/env bash
# Lint: clang-format (no diff allowed), shellcheck on scripts, the layering check, and clang-tidy
# over the project's own sources.
#
#   lint.sh BUILD_DIR             everything: clang-tidy on every translation unit (10-17 min on
#   lint.sh --all BUILD_DIR       2 cores; `make lint-all`)
#   lint.sh --changed BUILD_DIR   the same, but clang-tidy only on what changed since the tidy
#                                 baseline (`make lint`, and the lint phase of `make test`)
#   lint.sh --fix                 rewrite sources with clang-format
#
# BUILD_DIR holds compile_commands.json (build/dev).
#
# The tidy baseline (hack/tidy-baseline) is a commit at which clang-tidy was run over every
# translation unit and the tree was clean, apart from the findings listed in docs/testing.md in
# files that were being changed elsewhere at the time. --changed runs clang-tidy on the .cc files
# that differ from it (committed or not, and new files), and on those that include, directly or
# through other headers, a header that differs from it. Whatever has not changed since the
# baseline was clean then and is clean now, as long as .clang-tidy and the compiler stay the
# same: when they change, run `make lint-all`, fix what it finds and move the baseline to that
# commit. Without the baseline commit in the clone's history (a shallow clone, or a baseline
# rewritten away), --changed falls back to clang-tidy on everything.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t sources < <(git ls-files '*.cc' '*.h' '*.c')
mapfile -t scripts < <(git ls-files '*.sh' .ci/run)

mode=all
case "${1:-}" in
  --fix)
    clang-format -i "${sources[@]}"
    echo "lint: formatted ${#sources[@]} files"
    exit 0
    ;;
  --changed) mode=changed; shift ;;
  --all) shift ;;
esac
build_dir=${1:?usage: lint.sh [--changed | --all] BUILD_DIR | lint.sh --fix}
if [ ! -f "$build_dir/compile_commands.json" ]; then
  echo "lint: no $build_dir/compile_commands.json: configure first (cmake --preset dev)" >&2
  exit 2
fi
status=0

echo "lint: clang-format on ${#sources[@]} files"
clang-format --dry-run -Werror "${sources[@]}" || { status=1; echo "lint: run 'make format' to fix formatting"; }

echo "lint: shellcheck on ${#scripts[@]} scripts"
shellcheck -x "${scripts[@]}" || status=1

echo "lint: include layering (hack/check-layers.py)"
hack/check-layers.py . || status=1

# Prints the .cc files to tidy in --changed mode, or nothing when everything must be tidied.
changed_units() {
  local baseline
  baseline=$(grep -Eo '^[0-9a-f]{40}' hack/tidy-baseline || true)
  if [ -z "$baseline" ] || ! git cat-file -e "$baseline^{commit}" 2>/dev/null; then
    echo "lint: tidy baseline '${baseline:-none}' is not in this clone's history;" \
      "clang-tidy on everything" >&2
    return 1
  fi
  if ! git diff --quiet "$baseline" -- .clang-tidy; then
    echo "lint: .clang-tidy changed since the tidy baseline; clang-tidy on everything" >&2
    return 1
  fi
  local changed
  changed=$( (git diff --name-only "$baseline" -- '*.cc' '*.h'
    git ls-files --others --exclude-standard -- '*.cc' '*.h') | sort -u)
  # Files deleted since the baseline are in the diff but not on disk.
  local files=()
  local f
  for f in $changed; do [ -f "$f" ] && files+=("$f"); done
  local headers=() units=()
  for f in "${files[@]}"; do
    case "$f" in
      *.h) headers+=("$f") ;;
      *.cc) units+=("$f") ;;
    esac
  done
  # Headers that include a changed header, until no new one turns up; then the .cc files that
  # include any of them. Includes are spelled from the repository root ("controller/x/y.h").
  local patterns includers
  patterns=$(mktemp)
  while [ ${#headers[@]} -gt 0 ]; do
    printf '#include "%s"\n' "${headers[@]}" >"$patterns"
    mapfile -t includers < <(git ls-files '*.h' | xargs grep -lF -f "$patterns" || true)
    local added=()
    for f in "${includers[@]}"; do
      [[ " ${headers[*]} " == *" $f "* ]] || added+=("$f")
    done
    [ ${#added[@]} -eq 0 ] && break
    headers+=("${added[@]}")
  done
  if [ ${#headers[@]} -gt 0 ]; then
    printf '#include "%s"\n' "${headers[@]}" >"$patterns"
    mapfile -t includers < <(git ls-files '*.cc' | xargs grep -lF -f "$patterns" || true)
    units+=("${includers[@]}")
  fi
  rm -f "$patterns"
  echo "lint: since tidy baseline ${baseline:0:12}: ${#files[@]} changed files," \
    "${#headers[@]} headers affected" >&2
  # At least one line, so that "nothing changed" is not read as "everything".
  echo "-"
  [ ${#units[@]} -eq 0 ] || printf '%s\n' "${units[@]}" | sort -u
}

units=()
if [ "$mode" = changed ] && listed=$(changed_units); then
  mapfile -t units < <(grep -v '^-$' <<<"$listed" || true)
else
  mapfile -t units < <(git ls-files '*.cc')
fi
if [ ${#units[@]} -eq 0 ]; then
  echo "lint: clang-tidy: nothing changed since the tidy baseline"
else
  echo "lint: clang-tidy on ${#units[@]} translation units (about 4 s each on 2 cores)"
  # The GCC-only flags in the compile database are dropped for clang-tidy.
  printf '%s\n' "${units[@]}" | xargs -P 2 -n 4 clang-tidy -p "$build_dir" --quiet \
    --extra-arg=-Wno-unknown-warning-option 2>/dev/null || status=1
fi

[ $status -eq 0 ] && echo "lint: clean" || echo "lint: problems found (see above)"
exit $status
