#!/bin/sh
# An exec credential plugin that logs in the way an OIDC or SSO helper does: it asks the person at
# the terminal (on standard error) and reads the answer from standard input. Usage:
#   prompting-plugin.sh [--count FILE] [--think SECONDS]
# The answer "open sesame" earns the token "prompted-<interactive>", where <interactive> is what
# KUBERNETES_EXEC_INFO's spec.interactive said; anything else (or no input at all) exits 4.
# --think waits before reading, as a person typing would; --count appends a line per run.
count=""; think=0
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count="$2"; shift 2 ;;
    --think) think="$2"; shift 2 ;;
    *) shift ;;
  esac
done
[ -n "$count" ] && echo run >> "$count"
printf 'password for the test cluster: ' >&2
sleep "$think"
IFS= read -r answer || exit 4
[ "$answer" = "open sesame" ] || exit 4
case "$KUBERNETES_EXEC_INFO" in
  *'"interactive":true'*) interactive=true ;;
  *) interactive=false ;;
esac
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"prompted-%s"}}\n' "$interactive"
