#!/bin/sh
# A tiny exec credential plugin for tests. Usage: exec-plugin.sh --token VALUE [--count FILE]
#   [--expires RFC3339]. Prints an ExecCredential; with --count, appends a line to FILE per run so
# tests can count invocations. PLUGIN_MODE=fail makes it exit 3; PLUGIN_MODE=garbage prints junk.
token=""; count=""; expires=""
while [ $# -gt 0 ]; do
  case "$1" in
    --token) token="$2"; shift 2 ;;
    --count) count="$2"; shift 2 ;;
    --expires) expires="$2"; shift 2 ;;
    *) shift ;;
  esac
done
[ -n "$count" ] && echo run >> "$count"
case "${PLUGIN_MODE:-token}" in
  fail) echo "plugin failed on purpose" >&2; exit 3 ;;
  garbage) echo "this is not json"; exit 0 ;;
esac
# Echo back whether KUBERNETES_EXEC_INFO arrived (its apiVersion), through the token suffix.
case "$KUBERNETES_EXEC_INFO" in
  *client.authentication.k8s.io/v1*) info="-info" ;;
  *) info="-noinfo" ;;
esac
if [ -n "$expires" ]; then
  printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s%s","expirationTimestamp":"%s"}}\n' "$token" "$info" "$expires"
else
  printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s%s"}}\n' "$token" "$info"
fi
