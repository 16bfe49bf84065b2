#!/usr/bin/env bash
# The chart as GitOps tools and umbrella charts use it, on the local cluster (ctest: helm.gitops_e2e,
# label integration):
#   1. a parent chart with ephemera as a dependency and `global` values, rendered with
#      certificates.mode=certManager, markKey.create=false, a ServiceMonitor and a PrometheusRule,
#      is accepted by the API server object by object (server-side dry run) against the real CRDs
#      of cert-manager and the Prometheus Operator, taken from their Go modules;
#   2. the same parent chart installed for real with certificates.mode=existingSecret (a CA and
#      serving certificates made here with openssl) and markKey.create=false: the controller
#      becomes ready, creates its own mark key, the API server calls the webhooks through the given
#      CA (the mutating webhook stamps spec.requestedBy on a new DebugSession, which the controller
#      then takes through to a clear failure), and uninstalling leaves no chart object behind.
# Third-party CRDs that were not installed before are removed at the end.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cluster=$repo/tests/cluster/cluster.sh
work=$(mktemp -d)
# shellcheck source=tests/e2e/e2e_lib.sh
source "$repo/tests/e2e/e2e_lib.sh"
# shellcheck source=tests/e2e/crd_wait.sh
source "$repo/tests/e2e/crd_wait.sh"
as_admin() { as admin "$@"; }

namespace=ephemera-gitops
release=platform
cert_manager_module=github.com/cert-manager/cert-manager@v1.21.2
prometheus_operator_module=github.com/prometheus-operator/prometheus-operator@v0.85.0
added_crds=()
installed=false

cleanup() {
  set +e
  as admin -n team-a delete debugsession gitops-s1 --ignore-not-found --wait=false >/dev/null 2>&1
  if [ "$installed" = true ]; then
    "$helm" --kubeconfig "$kubeconfig" -n "$namespace" uninstall "$release" --wait --timeout 2m >/dev/null 2>&1
  fi
  as admin -n team-a patch debugsession gitops-s1 --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1
  as admin delete namespace "$namespace" --ignore-not-found --wait=false >/dev/null 2>&1
  local crd
  for crd in "${added_crds[@]}"; do as admin delete crd "$crd" --ignore-not-found >/dev/null 2>&1; done
}
e2e_trap_exit
"$cluster" status >/dev/null 2>&1 || e2e_setup_failed "the local cluster is not up (run 'make cluster-up')"
command -v go >/dev/null || e2e_setup_failed "go is needed to fetch the cert-manager and Prometheus Operator CRDs from the Go module proxy"
helm=$("$cluster" helm-path)
kubeconfig=$("$cluster" kubeconfig admin)
controller_image=$("$cluster" image-ref ephemera.local/controller:0.1.0)
snapshot_image=$("$cluster" image-ref ephemera.local/snapshot:0.1.0)

# The CRDs, from the projects' own Go modules (their YAML ships in the module).
module_dir() {
  (cd "$work" && GOFLAGS=-mod=mod go mod download -json "$1") |
    python3 -c 'import json, sys; d = json.load(sys.stdin); print(d.get("Dir") or sys.exit(d.get("Error", "no Dir")))'
}
cm_dir=$(module_dir "$cert_manager_module") || e2e_setup_failed "go mod download $cert_manager_module failed"
po_dir=$(module_dir "$prometheus_operator_module") || e2e_setup_failed "go mod download $prometheus_operator_module failed"
for file in "$cm_dir/deploy/crds/cert-manager.io_certificates.yaml" "$cm_dir/deploy/crds/cert-manager.io_issuers.yaml" \
  "$po_dir/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
  "$po_dir/example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml"; do
  crd=$(basename "$file" .yaml | sed 's/^\([^_]*\)_\(.*\)$/\2.\1/')
  if ! as admin get crd "$crd" >/dev/null 2>&1; then
    as admin apply --server-side -f "$file" >/dev/null || e2e_setup_failed "applying $file"
    added_crds+=("$crd")
  fi
  wait_crd_established as_admin 60 "$crd" || e2e_setup_failed "$crd not established"
done

# The parent chart: ephemera as a dependency, global values, the images of this build.
parent=$work/parent
mkdir -p "$parent/charts"
cp -r "$repo/helm/ephemera" "$parent/charts/ephemera"
cat >"$parent/Chart.yaml" <<'YAML'
apiVersion: v2
name: platform
version: 1.0.0
dependencies:
- name: ephemera
  version: "*"
YAML
cat >"$parent/values.yaml" <<YAML
global:
  imageRegistry: registry.example
ephemera:
  replicaCount: 1
  markKey: {create: false}
  image: {repository: ${controller_image%@*}, digest: ${controller_image#*@}}
  snapshotImage: {repository: ${snapshot_image%@*}, digest: ${snapshot_image#*@}}
YAML
as admin create namespace "$namespace" >/dev/null

certmanager_objects_are_valid() {
  # `helm template` looks nothing up: the API server's address is given, as a GitOps user would.
  local api kinds
  api=$(as admin -n default get endpointslice kubernetes -o jsonpath='{.endpoints[0].addresses[0]}')
  # What a GitOps tool applies: the release without its `helm test` hooks.
  "$helm" template "$release" "$parent" -n "$namespace" --kube-version 1.34.0 --skip-tests \
    --set ephemera.certificates.mode=certManager --set ephemera.metrics.serviceMonitor.enabled=true \
    --set ephemera.metrics.prometheusRule.enabled=true \
    --set "ephemera.networkPolicy.apiServer.cidrs={$api/32}" >"$work/certmanager.yaml"
  kinds=$(grep -E '^kind: (Certificate|Issuer|ServiceMonitor|PrometheusRule)$' "$work/certmanager.yaml" |
    sort | uniq -c | awk '{printf "%s %s, ", $1, $3}')
  [ "$kinds" = "3 Certificate, 2 Issuer, 1 PrometheusRule, 1 ServiceMonitor, " ] ||
    { echo "rendered: $kinds"; return 1; }
  as admin apply --dry-run=server -f "$work/certmanager.yaml" >"$work/dry-run.out"
  grep -c "(server dry run)" "$work/dry-run.out"
}
check "parent chart, certificates.mode=certManager + ServiceMonitor + PrometheusRule: the API server accepts every object against cert-manager's and the Prometheus Operator's CRDs" \
  certmanager_objects_are_valid

# existingSecret: a CA and the two serving certificates, made here.
make_certificates() {
  local name
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=gitops-e2e-ca \
    -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
  for name in webhook metrics; do
    local svc=$release-ephemera-$name
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$svc.$namespace.svc" \
      -keyout "$work/$name.key" -out "$work/$name.csr" 2>/dev/null
    printf 'subjectAltName=DNS:%s.%s.svc,DNS:%s.%s.svc.cluster.local,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
      "$svc" "$namespace" "$svc" "$namespace" >"$work/$name.ext"
    openssl x509 -req -in "$work/$name.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
      -extfile "$work/$name.ext" -out "$work/$name.crt" 2>/dev/null
    as admin -n "$namespace" create secret generic "my-$name-tls" --type=kubernetes.io/tls \
      --from-file=tls.crt="$work/$name.crt" --from-file=tls.key="$work/$name.key" --from-file=ca.crt="$work/ca.crt" >/dev/null
  done
}
make_certificates

install_existing_secret() {
  installed=true
  "$helm" --kubeconfig "$kubeconfig" install "$release" "$parent" -n "$namespace" \
    --set ephemera.certificates.mode=existingSecret \
    --set ephemera.webhooks.certificate.existingSecret=my-webhook-tls \
    --set ephemera.metrics.certificate.existingSecret=my-metrics-tls \
    --set-file "ephemera.webhooks.certificate.caBundle=$work/ca.crt" --wait --timeout 4m >/dev/null
  local bundle
  bundle=$(as admin get mutatingwebhookconfiguration "$release-ephemera-mutating-webhook" \
    -o jsonpath='{.webhooks[0].clientConfig.caBundle}' | base64 -d)
  [ "$bundle" = "$(cat "$work/ca.crt")" ] || { echo "the caBundle is not the given CA"; return 1; }
  [ -z "$(as admin -n "$namespace" get secrets -l app.kubernetes.io/instance=$release -o name)" ] ||
    { echo "the chart rendered Secrets:"; as admin -n "$namespace" get secrets -l app.kubernetes.io/instance=$release; return 1; }
}
check "parent chart, certificates.mode=existingSecret and markKey.create=false: installs and becomes ready with the given Secrets and CA" \
  install_existing_secret

mark_key_made_by_the_controller() {
  local deadline=$((SECONDS + 60)) manager
  while [ $SECONDS -lt $deadline ]; do
    manager=$(as admin -n "$namespace" get secret ephemera-mark-key -o jsonpath='{.metadata.labels.app\.kubernetes\.io/managed-by}' 2>/dev/null || true)
    [ -n "$manager" ] && break
    sleep 1
  done
  [ "$manager" = ephemera-controller ] || { echo "ephemera-mark-key managed by '$manager'"; return 1; }
}
check "markKey.create=false: the controller created ephemera-mark-key itself" mark_key_made_by_the_controller

webhooks_answer_through_the_given_ca() {
  age-keygen -o "$work/key.txt" 2>/dev/null
  local recipient
  recipient=$(age-keygen -y "$work/key.txt")
  as alice -n team-a apply -f - >/dev/null <<YAML
apiVersion: ephemera.dev/v1alpha1
kind: DebugSession
metadata: {name: gitops-s1, namespace: team-a}
spec:
  target: {pod: gitops-no-such-pod, container: app}
  reason: "GITOPS-E2E the webhooks answer through the given CA"
  ttl: 2m
  profile: restricted
  capture: [process]
  recipients: ["$recipient"]
YAML
  [ "$(as admin -n team-a get debugsession gitops-s1 -o jsonpath='{.spec.requestedBy.username}')" = alice ] ||
    { echo "requestedBy was not stamped"; return 1; }
  # The controller of this release reconciles it: a pod that does not exist is a clear failure.
  wait_phase gitops-s1 Failed 60
}
check "the API server calls the webhooks through the given CA (requestedBy stamped) and the controller reconciles the session" \
  webhooks_answer_through_the_given_ca

# The subchart's `helm test` runs through the parent release, with the given CA.
helm_test_passes_through_the_parent() {
  "$helm" --kubeconfig "$kubeconfig" -n "$namespace" test "$release" --timeout 2m >"$work/helm-test.out" 2>&1 ||
    { cat "$work/helm-test.out"; return 1; }
  if ! grep -q "check-install" "$work/helm-test.out" || ! grep -q "Phase:.*Succeeded" "$work/helm-test.out"; then
    cat "$work/helm-test.out"; return 1
  fi
}
check "helm test of the parent release runs the subchart's install check, which passes with the given CA" \
  helm_test_passes_through_the_parent

# The same test must fail, and say why, when the API server cannot trust the webhook: the mutating
# webhook's caBundle is swapped for another CA's (nothing puts it back in this mode), then restored.
helm_test_fails_on_a_wrong_ca() {
  local config=$release-ephemera-mutating-webhook original out=0
  original=$(as admin get mutatingwebhookconfiguration "$config" -o jsonpath='{.webhooks[0].clientConfig.caBundle}')
  [ -n "$original" ]
  set_ca_bundle() {
    as admin patch mutatingwebhookconfiguration "$config" --type=json -p "[{\"op\": \"replace\",
      \"path\": \"/webhooks/0/clientConfig/caBundle\", \"value\": \"$1\"}]" >/dev/null
  }
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=not-ephemera \
    -keyout "$work/wrong-ca.key" -out "$work/wrong-ca.crt" 2>/dev/null
  # The check runs in a subshell: its EXIT trap puts the CA back however it ends.
  trap 'set_ca_bundle "$original"' EXIT
  set_ca_bundle "$(base64 -w0 "$work/wrong-ca.crt")"
  "$helm" --kubeconfig "$kubeconfig" -n "$namespace" test "$release" --timeout 2m >"$work/helm-test-wrong.out" 2>&1 || out=$?
  as admin -n "$namespace" logs "pod/$release-ephemera-check-install" >"$work/check-install.log" 2>&1 || true
  set_ca_bundle "$original"
  trap - EXIT
  [ "$out" -ne 0 ] || { echo "helm test passed with a wrong caBundle:"; cat "$work/helm-test-wrong.out"; return 1; }
  if ! grep -q "FAIL: the API server calls Ephemera's webhooks" "$work/check-install.log" ||
     ! grep -q "certificate signed by unknown authority" "$work/check-install.log" ||
     ! grep -q "caBundle" "$work/check-install.log"; then
    cat "$work/check-install.log"; return 1
  fi
  # Put back, the test passes again (the failed run's pod is replaced, then removed).
  helm_test_passes_through_the_parent
}
check "helm test fails, naming the unknown authority and the caBundle, when the API server cannot trust the webhook's certificate; passes again once it is put back" \
  helm_test_fails_on_a_wrong_ca

uninstall_leaves_no_chart_object() {
  as admin -n team-a delete debugsession gitops-s1 --wait=true --timeout=60s >/dev/null
  "$helm" --kubeconfig "$kubeconfig" -n "$namespace" uninstall "$release" --wait --timeout 2m >/dev/null
  installed=false
  # The pods take their grace period to go.
  local left deadline=$((SECONDS + 90))
  while :; do
    left=$(as admin get clusterroles,clusterrolebindings,mutatingwebhookconfigurations,validatingwebhookconfigurations,validatingadmissionpolicies,validatingadmissionpolicybindings \
      -l "app.kubernetes.io/instance=$release" -o name)
    left+=$(as admin -n "$namespace" get all,secrets,configmaps,leases,networkpolicies -l "app.kubernetes.io/instance=$release" -o name)
    [ -z "$left" ] && return 0
    [ $SECONDS -lt $deadline ] || { echo "left 90 s after the uninstall: $left"; return 1; }
    sleep 1
  done
}
check "helm uninstall of the parent chart leaves no object with the release's label" uninstall_leaves_no_chart_object
