#!/usr/bin/env bash
# Lint: clang-format (no diff allowed), clang-tidy over the project's own sources, shellcheck on scripts.
#   lint.sh BUILD_DIR   check (BUILD_DIR holds compile_commands.json)
#   lint.sh --fix       rewrite sources with clang-format
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t sources < <(git ls-files '*.cc' '*.h' '*.c')
mapfile -t scripts < <(git ls-files '*.sh' .ci/run)

if [ "${1:-}" = --fix ]; then
  clang-format -i "${sources[@]}"
  echo "lint: formatted ${#sources[@]} files"
  exit 0
fi
build_dir=${1:?usage: lint.sh BUILD_DIR | --fix}
status=0

echo "lint: clang-format on ${#sources[@]} files"
clang-format --dry-run -Werror "${sources[@]}" || { status=1; echo "lint: run 'make format' to fix formatting"; }

echo "lint: shellcheck on ${#scripts[@]} scripts"
shellcheck -x "${scripts[@]}" || status=1

mapfile -t units < <(git ls-files '*.cc')
echo "lint: clang-tidy on ${#units[@]} translation units (this takes a while)"
# The GCC-only flags in the compile database are dropped for clang-tidy.
printf '%s\n' "${units[@]}" | xargs -P 2 -n 4 clang-tidy -p "$build_dir" --quiet \
  --extra-arg=-Wno-unknown-warning-option 2>/dev/null || status=1

[ $status -eq 0 ] && echo "lint: clean" || echo "lint: problems found (see above)"
exit $status
