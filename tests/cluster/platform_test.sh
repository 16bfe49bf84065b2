#!/usr/bin/env bash
# Integration test of the local cluster itself (ctest label: integration). Needs `make cluster-up`.
# Shows that the scheduler and controller-manager work (a Deployment becomes Available), that an
# ephemeral container targeting a container sees its processes and its log is readable, that a pod using
# in-cluster configuration reaches the API server through the kubernetes Service, and that RBAC holds for
# the cluster's people. Fails with the reason when the cluster is not up; it never skips.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
ns=platform-test
passed=0
failed=0

fail_setup() { echo "platform test: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

"$here/cluster.sh" status >/dev/null 2>&1 ||
  fail_setup "the local cluster is not up (run 'make cluster-up'; component logs: $("$here/cluster.sh" logs))"
kubectl_bin=$("$here/cluster.sh" kubectl-path)
as() { local user=$1; shift; "$kubectl_bin" --kubeconfig "$("$here/cluster.sh" kubeconfig "$user")" "$@"; }

check() { # description command...
  local what=$1; shift
  local out
  if out=$("$@" 2>&1); then
    passed=$((passed + 1)); echo "PASS $what"
  else
    failed=$((failed + 1)); echo "FAIL $what"; echo "$out" | sed 's/^/    /' | tail -n 20
  fi
}

cleanup() {
  as admin delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  as admin delete clusterrolebinding platform-test-namespace-reader >/dev/null 2>&1 || true
}
trap cleanup EXIT
as admin delete namespace "$ns" --wait=true --timeout=60s >/dev/null 2>&1 || true
as admin create namespace "$ns" >/dev/null

# 1. A Deployment of the test target becomes Available.
as admin -n "$ns" create deployment target --image=ephemera.local/target:0.1.0 >/dev/null
deployment_available() {
  as admin -n "$ns" wait deployment/target --for=condition=Available --timeout=120s
}
check "Deployment of the test target becomes Available" deployment_available
pod=$(as admin -n "$ns" get pods -l app=target -o jsonpath='{.items[0].metadata.name}')

# 2. kubectl debug adds an ephemeral container that sees the target's processes; its log is readable.
ephemeral_container_sees_target() {
  as admin -n "$ns" debug "pod/$pod" --target=target --image=ephemera.local/target:0.1.0 \
    --image-pull-policy=IfNotPresent --profile=restricted --container=probe -- /ephemera-target ps
  local deadline=$((SECONDS + 60))
  until [ -n "$(as admin -n "$ns" get pod "$pod" \
      -o jsonpath='{.status.ephemeralContainerStatuses[?(@.name=="probe")].state.terminated.reason}')" ]; do
    [ $SECONDS -lt $deadline ] || { echo "ephemeral container did not terminate in 60s"; return 1; }
    sleep 0.5
  done
  local log; log=$(as admin -n "$ns" logs "$pod" -c probe)
  echo "$log"
  # The target's own process (not the probe's `ps`) must be listed.
  echo "$log" | grep -E '^1 +ephemera-target +/ephemera-target *$'
}
check "ephemeral container targeting the container sees its processes (kubectl debug + logs)" \
  ephemeral_container_sees_target

# 3. A pod using in-cluster configuration lists namespaces through the kubernetes Service.
in_cluster_pod_lists_namespaces() {
  as admin -n "$ns" create serviceaccount namespace-reader >/dev/null
  as admin create clusterrolebinding platform-test-namespace-reader --clusterrole=view \
    --serviceaccount="$ns:namespace-reader" >/dev/null
  as admin -n "$ns" run lister --image=ephemera.local/kubectl:0.1.0 --restart=Never \
    --overrides='{"spec":{"serviceAccountName":"namespace-reader"}}' -- get namespaces -o name >/dev/null
  as admin -n "$ns" wait pod/lister --for=jsonpath='{.status.phase}'=Succeeded --timeout=90s ||
    { as admin -n "$ns" logs lister; return 1; }
  as admin -n "$ns" logs lister | grep -x 'namespace/team-a'
}
check "pod with in-cluster config lists namespaces via the kubernetes Service" in_cluster_pod_lists_namespaces

# 4. RBAC for the cluster's people.
expect_no() { [ "$(as "$1" auth can-i "${@:2}" 2>/dev/null)" = no ]; }
expect_yes() { [ "$(as "$1" auth can-i "${@:2}" 2>/dev/null)" = yes ]; }
carol_forbidden() {
  local out
  if out=$(as carol -n team-a get pods 2>&1); then echo "carol listed pods: $out"; return 1; fi
  echo "$out" | grep -q 'Forbidden' || { echo "unexpected error: $out"; return 1; }
}
check "carol is forbidden to list pods" carol_forbidden
check "alice may create pods in team-a" expect_yes alice create pods -n team-a
check "alice may not create pods in default" expect_no alice create pods -n default
check "bob may list pods in team-a" expect_yes bob list pods -n team-a
check "bob may not create pods in team-a" expect_no bob create pods -n team-a
check "admin may do anything" expect_yes admin '*' '*' --all-namespaces

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
