#!/usr/bin/env bash
# Unit tests of the Helm chart (ctest label: unit): no cluster, only `helm lint` and `helm template`.
#
#   chart_unit_test.sh lint       helm lint --strict is clean
#   chart_unit_test.sh template   renders with the CI values, with rbac.create=false and with
#                                 serviceAccount.create=false; objects, labels, namespace, security;
#                                 refuses missing image digests and a removed security context
#   chart_unit_test.sh schema     values.schema.json refuses bad values with an error naming them
#                                 (a root or privilege-escalating controller among them)
#   chart_unit_test.sh crds       helm/ephemera/crds/ is byte-identical to crds/
#   chart_unit_test.sh admission_policy
#                                 the ValidatingAdmissionPolicy and its binding: the controller's
#                                 ServiceAccount, the snapshot image by digest, the forbidden
#                                 namespaces, the ptrace capabilities that
#                                 controller/session/ephemeral_container.cc builds and the tool
#                                 flags of api/tool_args.cc
#   chart_unit_test.sh network_policy
#                                 the webhook port admits only the API server's addresses (plus
#                                 networkPolicy.webhookFrom); without them the chart refuses
#   chart_unit_test.sh gitops     certificates.mode certManager / existingSecret render the same
#                                 bytes twice; a parent chart with global values; the PDB, the
#                                 ephemeral-containers webhook's namespaces, ServiceMonitor and
#                                 PrometheusRule (docs/install.md's alerts)
#
# Helm is the pinned one hack/build-kube.sh builds (`make kube`); when it is not built yet the test
# says so and is skipped (exit code 77), except `crds`, which needs no Helm.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
chart=$repo/helm/ephemera
ci_values=$chart/ci/test-values.yaml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failed=1; }

find_helm() {
  local bin
  if bin=$("$repo/hack/build-kube.sh" --cached-only 2>/dev/null | tail -n 1) && [ -x "$bin/helm" ]; then
    helm=$bin/helm
  elif command -v helm >/dev/null; then
    helm=$(command -v helm)
  else
    echo "SKIP helm is not built yet: run 'make kube' (hack/build-kube.sh builds the pinned Helm)"
    exit 77
  fi
}

# render NAME [helm template args...]: the manifests in $work/NAME.yaml, helm's stderr in NAME.err.
render() {
  local name=$1; shift
  "$helm" template ephemera "$chart" --namespace ephemera-test --kube-version 1.34.0 "$@" >"$work/$name.yaml" 2>"$work/$name.err"
}

# expect_failure DESCRIPTION PATTERN helm-template-args...: rendering fails with PATTERN in the error.
expect_failure() {
  local what=$1 pattern=$2; shift 2
  if render refused "$@"; then
    fail "$what: rendered although it must not"
  elif grep -qE "$pattern" "$work/refused.err"; then
    pass "$what: $(grep -E "$pattern" "$work/refused.err" | head -n 1 | cut -c1-160)"
  else
    fail "$what: the error does not match /$pattern/:"; sed 's/^/    /' "$work/refused.err"
  fi
}

test_lint() {
  find_helm
  local out
  if out=$("$helm" lint --strict "$chart" -f "$ci_values" 2>&1); then
    pass "helm lint --strict with ci/test-values.yaml"
  else
    fail "helm lint --strict:"; printf '%s\n' "$out"
  fi
  if grep -qE '^\[(WARNING|ERROR)\]' <<<"$out"; then fail "helm lint reports:"; echo "$out"; fi
  # Lint mode turns `fail` and `required` into [INFO] lines: with the CI values there must be none.
  if grep -qE '\[INFO\] (Fail|Missing required value)' <<<"$out"; then
    fail "the CI values do not satisfy the chart's own checks:"; echo "$out"
  fi
}

# check_manifests FILE NAMESPACE EXPECT_RBAC EXPECT_SA SA_NAME: properties every rendering must have.
check_manifests() {
  python3 - "$@" <<'PY'
import base64, json, subprocess, sys, tempfile, os
import yaml

path, namespace, expect_rbac, expect_sa, sa_name = sys.argv[1:6]
docs = [d for d in yaml.safe_load_all(open(path)) if d]
errors = []
def err(msg): errors.append(msg)
# What `helm test` runs is checked apart (below); the rest is the installation.
def is_test(d): return d["metadata"].get("annotations", {}).get("helm.sh/hook") == "test"
kinds, tests = {}, {}
for d in docs:
    (tests if is_test(d) else kinds).setdefault(d["kind"], []).append(d)
cluster_scoped = {"ClusterRole", "ClusterRoleBinding", "MutatingWebhookConfiguration",
                  "ValidatingWebhookConfiguration", "ValidatingAdmissionPolicy",
                  "ValidatingAdmissionPolicyBinding"}
for d in docs:
    md = d["metadata"]
    labels = md.get("labels", {})
    for key in ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
                "app.kubernetes.io/managed-by", "helm.sh/chart"):
        if key not in labels:
            err(f"{d['kind']}/{md['name']} lacks label {key}")
    if d["kind"] in cluster_scoped:
        if "namespace" in md:
            err(f"cluster-scoped {d['kind']}/{md['name']} has a namespace")
    elif md.get("namespace") != namespace:
        err(f"{d['kind']}/{md['name']} is in namespace {md.get('namespace')!r}, not the release's {namespace}")

rbac_kinds = ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]
if expect_rbac == "yes":
    for k in rbac_kinds:
        if k not in kinds:
            err(f"no {k} rendered")
    for role in kinds.get("ClusterRole", []) + kinds.get("Role", []):
        for rule in role["rules"]:
            if "*" in rule.get("verbs", []) or "*" in rule.get("resources", []):
                err(f"{role['metadata']['name']} grants a wildcard: {rule}")
            if "secrets" in rule.get("resources", []) and role["kind"] == "ClusterRole":
                err(f"ClusterRole {role['metadata']['name']} grants Secrets cluster-wide")
else:
    for k in rbac_kinds:
        if k in kinds:
            err(f"{k} rendered with rbac.create=false")
if (expect_sa == "yes") != ("ServiceAccount" in kinds):
    err(f"ServiceAccount rendered: {'ServiceAccount' in kinds}, expected {expect_sa}")

(dep,) = kinds["Deployment"]
spec = dep["spec"]["template"]["spec"]
if spec["serviceAccountName"] != sa_name:
    err(f"Deployment uses ServiceAccount {spec['serviceAccountName']}, not {sa_name}")
if dep["spec"]["replicas"] != 2:
    err("replicas is not 2")
(c,) = spec["containers"]
args = c["args"]
for a in ("--leader-elect=true", "--webhook-cert-dir=/etc/ephemera/webhook-tls",
          f"--namespace={namespace}"):
    if a not in args:
        err(f"controller args lack {a}: {args}")
if not any(a.startswith("--snapshot-image=") and "@sha256:" in a for a in args):
    err(f"snapshot image not pinned by digest: {args}")
if "@sha256:" not in c["image"]:
    err(f"controller image not pinned by digest: {c['image']}")
pod_verbs = {v for role in kinds.get("ClusterRole", []) for r in role["rules"]
             if r.get("resources") == ["pods"] for v in r["verbs"]}
if expect_rbac == "yes" and pod_verbs != {"get", "list", "watch"}:
    err(f"with the default policy the controller may do more than read pods: {pod_verbs}")
if not any(e["name"] == "POD_NAME" and e["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
           for e in c.get("env", [])):
    err("POD_NAME does not come from the downward API")
psc, sc = spec["securityContext"], c["securityContext"]
if not (psc.get("runAsNonRoot") and psc.get("seccompProfile", {}).get("type") == "RuntimeDefault"):
    err(f"pod securityContext is not restricted: {psc}")
if not (sc.get("allowPrivilegeEscalation") is False and sc.get("readOnlyRootFilesystem") is True
        and sc.get("capabilities", {}).get("drop") == ["ALL"]):
    err(f"container securityContext is not restricted: {sc}")
if c["livenessProbe"]["httpGet"]["path"] != "/healthz" or c["readinessProbe"]["httpGet"]["path"] != "/readyz":
    err("probes are not /healthz and /readyz")
if not c.get("resources", {}).get("limits") or not c.get("resources", {}).get("requests"):
    err("no resource requests and limits")
(pdb,) = kinds["PodDisruptionBudget"]
if pdb["spec"]["minAvailable"] != 1:
    err("PodDisruptionBudget minAvailable is not 1")
if "NetworkPolicy" not in kinds:
    err("no NetworkPolicy")

# Webhooks: distinct names from the host-run test's, Fail, and (certificates.mode helm) a caBundle
# that signed the Secret's cert, or (controller, the default) no certificate at all: the controller
# makes it, sets the caBundle and may touch only its own Secrets and webhook configurations.
host_names = {"ephemera-requester", "ephemera-policy", "ephemera-ephemeral-containers"}
tls_secrets = [s for s in kinds.get("Secret", []) if s["type"] == "kubernetes.io/tls"]
(cm,) = [m for m in kinds["ConfigMap"] if m["metadata"]["name"].endswith("-config")]
controller_config = yaml.safe_load(cm["data"]["config.yaml"])
configurations = [cfg for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
                  for cfg in kinds[kind]]
for cfg in configurations:
    if cfg["metadata"]["name"] in host_names:
        err(f"{cfg['kind']} is named like tests/e2e/webhooks.yaml.in's: {cfg['metadata']['name']}")
    for wh in cfg["webhooks"]:
        for field, want in (("failurePolicy", "Fail"), ("sideEffects", "None"),
                            ("matchPolicy", "Equivalent"), ("admissionReviewVersions", ["v1"])):
            if wh.get(field) != want:
                err(f"{cfg['kind']} {wh['name']}: {field} is {wh.get(field)!r}, not {want!r}")
if "certificates" in controller_config:
    kept = controller_config["certificates"]
    if tls_secrets:
        err(f"certificates.mode controller renders certificate Secrets: {[s['metadata']['name'] for s in tls_secrets]}")
    refs = {("mutating/" if c["kind"].startswith("Mutating") else "validating/") + c["metadata"]["name"]
            for c in configurations}
    if set(kept["webhookConfigurations"]) != refs:
        err(f"the controller sets the caBundle of {kept['webhookConfigurations']}, the chart renders {sorted(refs)}")
    if not kept["webhookConfigurations"][0].startswith("mutating/"):
        err("the Secrets' owner is not the mutating webhook configuration")
    for cfg in configurations:
        for wh in cfg["webhooks"]:
            if "caBundle" in wh["clientConfig"]:
                err(f"{cfg['kind']} {wh['name']} renders a caBundle in controller mode")
    services = {s["metadata"]["name"] for s in kinds["Service"]}
    for key in ("webhookService", "metricsService"):
        if kept[key] not in services:
            err(f"certificates.{key} {kept[key]} is not a Service of the chart: {services}")
    volumes = {v["name"]: v for v in spec["volumes"]}
    for name in ("webhook-tls", "metrics-tls"):
        if volumes[name].get("emptyDir", {}).get("medium") != "Memory":
            err(f"volume {name} is not an in-memory emptyDir: {volumes[name]}")
    if expect_rbac == "yes":
        (role,) = kinds["Role"]
        named = [r for r in role["rules"] if "secrets" in r.get("resources", []) and r.get("resourceNames")]
        if [(sorted(r["resourceNames"]), r["verbs"]) for r in named] != \
                [(sorted([kept["webhookSecret"], kept["metricsSecret"]]), ["update"])]:
            err(f"the Role does not grant update on exactly the two certificate Secrets: {named}")
        granted = {(res, n) for cr in kinds["ClusterRole"] for r in cr["rules"]
                   for res in r.get("resources", []) if res.endswith("webhookconfigurations")
                   for n in r.get("resourceNames", ["*ALL*"])}
        wanted = {(("mutating" if ref.startswith("mutating/") else "validating") + "webhookconfigurations",
                   ref.split("/", 1)[1]) for ref in kept["webhookConfigurations"]}
        if granted != wanted:
            err(f"webhook configurations the controller may update: {sorted(granted)}, not {sorted(wanted)}")
else:
    (secret,) = [s for s in tls_secrets if s["metadata"]["name"].endswith("-webhook-tls")]
    with tempfile.TemporaryDirectory() as tmp:
        for key in ("ca.crt", "tls.crt"):
            open(os.path.join(tmp, key), "wb").write(base64.b64decode(secret["data"][key]))
        for cfg in configurations:
            for wh in cfg["webhooks"]:
                if base64.b64decode(wh["clientConfig"]["caBundle"]) != base64.b64decode(secret["data"]["ca.crt"]):
                    err(f"{cfg['kind']} caBundle is not the Secret's ca.crt")
                svc = wh["clientConfig"]["service"]
                host = f"{svc['name']}.{svc['namespace']}.svc"
        verify = subprocess.run(["openssl", "verify", "-CAfile", os.path.join(tmp, "ca.crt"),
                                 "-verify_hostname", host, os.path.join(tmp, "tls.crt")],
                                capture_output=True, text=True)
        if verify.returncode != 0:
            err(f"the serving certificate does not verify for {host}: {verify.stdout}{verify.stderr}")

# helm test: one pod from the controller image (by digest), restricted like the controller, not
# selected by the controller's Deployment or NetworkPolicy, as a ServiceAccount that may only
# create DebugSessions here; every piece a test hook removed when it passes.
want_tests = ["Pod", "Role", "RoleBinding", "ServiceAccount"] if expect_rbac == "yes" else ["Pod", "ServiceAccount"]
if sorted(tests) != want_tests or any(len(v) != 1 for v in tests.values()):
    err(f"helm test renders {sorted((k, len(v)) for k, v in tests.items())}, not one each of {want_tests}")
else:
    (tpod,), (tsa,) = tests["Pod"], tests["ServiceAccount"]
    for d in [v[0] for v in tests.values()]:
        if "hook-succeeded" not in d["metadata"]["annotations"].get("helm.sh/hook-delete-policy", ""):
            err(f"test {d['kind']} is not removed when the test passes")
    tspec = tpod["spec"]
    (tc,) = tspec["containers"]
    if tc["image"] != c["image"]:
        err(f"the test pod runs {tc['image']}, not the controller image {c['image']}")
    if tc["args"][:1] != ["check-install"] or f"--namespace={namespace}" not in tc["args"]:
        err(f"the test pod's args are {tc['args']}")
    if tspec["serviceAccountName"] != tsa["metadata"]["name"] or tspec["serviceAccountName"] == sa_name:
        err(f"the test pod runs as {tspec['serviceAccountName']}, not its own ServiceAccount")
    if tspec.get("restartPolicy") != "Never":
        err("the test pod restarts")
    if tspec["securityContext"] != psc or tc["securityContext"] != sc:
        err("the test pod is not restricted like the controller")
    selector = dep["spec"]["selector"]["matchLabels"]
    if all(tpod["metadata"]["labels"].get(k) == v for k, v in selector.items()):
        err("the controller's Deployment selects the test pod")
if expect_rbac == "yes" and sorted(tests) == want_tests:
    (trole,), (tbinding,), (tsa,) = tests["Role"], tests["RoleBinding"], tests["ServiceAccount"]
    if trole["rules"] != [{"apiGroups": ["ephemera.dev"], "resources": ["debugsessions"], "verbs": ["create"]}]:
        err(f"the test Role grants {trole['rules']}")
    if tbinding["roleRef"]["name"] != trole["metadata"]["name"] or \
       tbinding["subjects"] != [{"kind": "ServiceAccount", "name": tsa["metadata"]["name"], "namespace": namespace}]:
        err(f"the test RoleBinding binds {tbinding['subjects']} to {tbinding['roleRef']}")
for e in errors:
    print("    " + e)
sys.exit(1 if errors else 0)
PY
}

test_template() {
  find_helm
  if render defaults -f "$ci_values" && check_manifests "$work/defaults.yaml" ephemera-test yes yes ephemera; then
    pass "renders with the CI values: labels, release namespace, restricted pods, RBAC without wildcards, no certificate (the controller's, with rights on its own Secrets and webhooks only)"
  else
    fail "rendering with the CI values"; sed 's/^/    /' "$work/defaults.err"
  fi
  if render helm-mode -f "$ci_values" --set certificates.mode=helm &&
     check_manifests "$work/helm-mode.yaml" ephemera-test yes yes ephemera; then
    pass "certificates.mode=helm: a webhook certificate that verifies for the Service, its CA as caBundle"
  else
    fail "rendering with certificates.mode=helm"; sed 's/^/    /' "$work/helm-mode.err"
  fi
  if render ec-webhook -f "$ci_values" --set webhooks.ephemeralContainers.enabled=true &&
     check_manifests "$work/ec-webhook.yaml" ephemera-test yes yes ephemera; then
    pass "with the pods/ephemeralcontainers webhook the controller also sets its caBundle, and may"
  else
    fail "rendering with webhooks.ephemeralContainers.enabled=true"; sed 's/^/    /' "$work/ec-webhook.err"
  fi
  if render no-rbac -f "$ci_values" --set rbac.create=false &&
     check_manifests "$work/no-rbac.yaml" ephemera-test no yes ephemera; then
    pass "rbac.create=false renders no Role, ClusterRole or binding"
  else
    fail "rendering with rbac.create=false"; sed 's/^/    /' "$work/no-rbac.err"
  fi
  if render no-sa -f "$ci_values" --set serviceAccount.create=false --set serviceAccount.name=existing-sa &&
     check_manifests "$work/no-sa.yaml" ephemera-test yes no existing-sa; then
    pass "serviceAccount.create=false uses serviceAccount.name and renders no ServiceAccount"
  else
    fail "rendering with serviceAccount.create=false"; sed 's/^/    /' "$work/no-sa.err"
  fi
  if render no-tests -f "$ci_values" --set tests.enabled=false && ! grep -q 'helm.sh/hook: test' "$work/no-tests.yaml" &&
     grep -q 'helm.sh/hook: test' "$work/defaults.yaml"; then
    pass "tests.enabled=false renders nothing for helm test (the default renders it)"
  else
    fail "tests.enabled=false"; grep -n 'helm.sh/hook' "$work/no-tests.yaml" "$work/no-tests.err" | sed 's/^/    /'
  fi
  expect_failure "serviceAccount.create=false without a name" "serviceAccount.name is required" \
    -f "$ci_values" --set serviceAccount.create=false
  expect_failure "the default values alone (no digests): both named, and how to get them" \
    "image.digest and snapshotImage.digest are required: .*imagetools inspect"
  expect_failure "no image.digest: the controller image is never repository:tag" \
    "image.digest is required: the chart names its images only by digest" -f "$ci_values" --set image.digest=
  expect_failure "no snapshotImage.digest" "snapshotImage.digest is required: " -f "$ci_values" --set snapshotImage.digest=
  expect_failure "policy.ephemeralContainers=enforce without its webhook" "needs webhooks.ephemeralContainers.enabled=true" \
    -f "$ci_values" --set policy.ephemeralContainers=enforce
  if render policy -f "$ci_values" --set 'policy.allowedNamespaces={team-a}' --set policy.maxTtl=30m \
       --set policy.annotateDebuggedPods=true --set policy.ephemeralContainers=enforce \
       --set webhooks.ephemeralContainers.enabled=true &&
     python3 - "$work/policy.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
(cm,) = [d for d in docs if d["kind"] == "ConfigMap"]
policy = yaml.safe_load(cm["data"]["config.yaml"])["policy"]
assert policy["allowedNamespaces"] == ["team-a"] and policy["maxTtl"] == "30m", policy
assert policy["ephemeralContainers"] == "enforce", policy
(dep,) = [d for d in docs if d["kind"] == "Deployment"]
assert "--config=/etc/ephemera/config/config.yaml" in dep["spec"]["template"]["spec"]["containers"][0]["args"]
(role,) = [d for d in docs if d["kind"] == "ClusterRole" and d["metadata"]["name"].endswith("-controller-role")]
pod_verbs = {v for r in role["rules"] if r.get("resources") == ["pods"] for v in r["verbs"]}
assert pod_verbs == {"get", "list", "watch", "patch"}, pod_verbs
hooks = [d for d in docs if d["kind"] == "ValidatingWebhookConfiguration"
         and d["webhooks"][0]["rules"][0]["resources"] == ["pods/ephemeralcontainers"]]
assert len(hooks) == 1 and hooks[0]["metadata"]["name"] != "ephemera-ephemeral-containers", hooks
PY
  then
    pass "policy values reach the controller's --config file; annotate adds patch on pods; the pods/ephemeralcontainers webhook renders"
  else
    fail "policy values"; sed 's/^/    /' "$work/policy.err"
  fi
  if render tag -f "$ci_values" --set image.tag=0.1.0-rc1 &&
     grep -qx '        image: ephemera.local/controller@sha256:0\{64\}' "$work/tag.yaml" &&
     grep -qx '        ephemera.dev/controller-image-tag: "0.1.0-rc1"' "$work/tag.yaml"; then
    pass "image.tag only annotates the pods; the controller image stays repository@digest"
  else
    fail "with image.tag set the image is not ephemera.local/controller@<digest> with the tag in an annotation"
    grep -E 'image:|image-tag' "$work/tag.yaml" || true
  fi
  expect_failure "podSecurityContext removed (null): runAsNonRoot must be true" \
    "podSecurityContext.runAsNonRoot must be true" -f "$ci_values" --set podSecurityContext=null
  expect_failure "securityContext removed (null): allowPrivilegeEscalation must be false" \
    "securityContext.allowPrivilegeEscalation must be false" -f "$ci_values" --set securityContext=null
}

test_schema() {
  find_helm
  expect_failure 'replicaCount: "two"' "replicaCount.*(integer|got string)" -f "$ci_values" --set-string replicaCount=two
  expect_failure "an unknown top-level value (typo)" "(additional properties|additionalProperties).*replicas" \
    -f "$ci_values" --set replicas=2
  expect_failure "a snapshot digest that is not sha256:<64 hex>" "snapshotImage.*digest" \
    -f "$ci_values" --set snapshotImage.digest=latest
  expect_failure "a log level the controller does not know" "logLevel" -f "$ci_values" --set logLevel=verbose
  expect_failure "podSecurityContext.runAsNonRoot=false" "podSecurityContext.*runAsNonRoot" \
    -f "$ci_values" --set podSecurityContext.runAsNonRoot=false
  expect_failure "podSecurityContext.runAsUser=0 (root)" "podSecurityContext.*runAsUser" \
    -f "$ci_values" --set podSecurityContext.runAsUser=0
  expect_failure "securityContext.allowPrivilegeEscalation=true" "securityContext.*allowPrivilegeEscalation" \
    -f "$ci_values" --set securityContext.allowPrivilegeEscalation=true
  expect_failure "securityContext.privileged=true" "securityContext.*privileged" \
    -f "$ci_values" --set securityContext.privileged=true
  expect_failure "securityContext.capabilities.add={SYS_ADMIN}" "securityContext.*capabilities.*add" \
    -f "$ci_values" --set 'securityContext.capabilities.add={SYS_ADMIN}'
  expect_failure "securityContext.capabilities.drop without ALL" "securityContext.*capabilities.*drop" \
    -f "$ci_values" --set 'securityContext.capabilities.drop={NET_RAW}'
}

test_crds() {
  local a b names_top names_chart
  names_top=$(cd "$repo/crds" && ls)
  names_chart=$(cd "$chart/crds" && ls)
  if [ "$names_top" != "$names_chart" ]; then
    fail "helm/ephemera/crds/ holds [$names_chart], crds/ holds [$names_top]"
  fi
  for a in "$repo"/crds/*; do
    b=$chart/crds/$(basename "$a")
    if cmp -s "$a" "$b"; then pass "helm/ephemera/crds/$(basename "$a") is identical to crds/"
    else fail "helm/ephemera/crds/$(basename "$a") differs from crds/ (copy it: cp crds/*.yaml helm/ephemera/crds/)"
    fi
  done
}

test_admission_policy() {
  find_helm
  # check_admission_policy FILE NAMESPACE SA_NAME FORBIDDEN ALLOWED_PROFILES
  check_admission_policy() {
    python3 - "$repo" "$@" <<'PY'
import json, re, sys
import yaml

repo, path, namespace, sa_name, forbidden, profiles = sys.argv[1:7]
docs = [d for d in yaml.safe_load_all(open(path)) if d]
errors = []
def err(msg): errors.append(msg)
(policy,) = [d for d in docs if d["kind"] == "ValidatingAdmissionPolicy"]
(binding,) = [d for d in docs if d["kind"] == "ValidatingAdmissionPolicyBinding"]
(dep,) = [d for d in docs if d["kind"] == "Deployment"]
spec = policy["spec"]
if binding["spec"]["policyName"] != policy["metadata"]["name"]:
    err(f"the binding names policy {binding['spec']['policyName']}, not {policy['metadata']['name']}")
if binding["spec"].get("validationActions") != ["Deny"]:
    err(f"validationActions is {binding['spec'].get('validationActions')}, not [Deny]")
if spec.get("failurePolicy") != "Fail":
    err(f"failurePolicy is {spec.get('failurePolicy')!r}, not Fail")
if spec["matchConstraints"]["resourceRules"] != [{"apiGroups": [""], "apiVersions": ["v1"],
                                                  "operations": ["UPDATE"],
                                                  "resources": ["pods/ephemeralcontainers"]}]:
    err(f"matchConstraints is not UPDATE of pods/ephemeralcontainers: {spec['matchConstraints']}")
user = f"system:serviceaccount:{namespace}:{sa_name}"
conditions = [c["expression"] for c in spec.get("matchConditions", [])]
if conditions != [f'request.userInfo.username == "{user}"']:
    err(f"matchConditions do not select only {user}: {conditions}")
variables = {v["name"]: v["expression"] for v in spec["variables"]}
args = dep["spec"]["template"]["spec"]["containers"][0]["args"]
(image,) = [a.split("=", 1)[1] for a in args if a.startswith("--snapshot-image=")]
if "@sha256:" not in image:
    err(f"the controller's snapshot image is not pinned by digest: {image}")
if f'c.image != "{image}"' not in variables.get("badImage", ""):
    err(f"the policy does not pin the image the controller gets ({image}): {variables.get('badImage')}")
validations = [v["expression"] for v in spec["validations"]]
want = "!(request.namespace in " + json.dumps(json.loads(forbidden), separators=(",", ":")) + ")"
if want not in validations:
    err(f"no validation {want!r} (policy.forbiddenNamespaces): {validations[:2]}")
if json.loads(variables.get("allowedProfiles", "null")) != json.loads(profiles):
    err(f"allowedProfiles is {variables.get('allowedProfiles')}, not {profiles}")
for v in spec["validations"]:
    if not v.get("message"):
        err(f"validation {v['expression'][:60]!r} has no message")

# The policy must allow exactly what the controller builds: compare with the code.
source = open(f"{repo}/controller/session/ephemeral_container.cc").read()
m = re.search(r'\{"add",\s*\{([^}]*)\}\}', source)
code_caps = re.findall(r'"([A-Z_]+)"', m.group(1)) if m else None
chart_caps = json.loads(variables.get("ptraceCapabilities", "null"))
if code_caps is None or sorted(code_caps) != sorted(chart_caps or []):
    err(f"the ptrace capabilities differ: chart {chart_caps}, ephemeral_container.cc {code_caps}")
# The flags: api/tool_args.cc (BuildToolArgs and ParseToolArgs) holds the controller's flags and no
# other.
code_flags = set(re.findall(r'"(--[a-z-]+)"', open(f"{repo}/api/tool_args.cc").read()))
chart_flags = set(re.findall(r"--[a-z-]+", variables.get("badArgs", "")))
if not code_flags or code_flags - chart_flags:
    err(f"flags the controller passes that the policy refuses: {sorted(code_flags - chart_flags)}")
if chart_flags - code_flags:
    err(f"flags the policy allows that the controller never passes: {sorted(chart_flags - code_flags)}")
if '["/ephemera-snapshot"]' not in variables.get("badCommand", "") or '"/ephemera-snapshot"' not in source:
    err("the command the policy pins is not the controller's /ephemera-snapshot")
for e in errors:
    print("    " + e)
sys.exit(1 if errors else 0)
PY
  }
  if render vap -f "$ci_values" && check_admission_policy "$work/vap.yaml" ephemera-test ephemera \
       '["kube-system"]' '["restricted","ptrace"]'; then
    pass "the ValidatingAdmissionPolicy and its Deny binding render for the controller's ServiceAccount, with the snapshot image by digest, the forbidden namespaces, and the capabilities of ephemeral_container.cc and the flags of api/tool_args.cc"
  else
    fail "the ValidatingAdmissionPolicy with the CI values"; sed 's/^/    /' "$work/vap.err"
  fi
  if render vap-values -f "$ci_values" --set serviceAccount.create=false --set serviceAccount.name=existing-sa \
       --set 'policy.forbiddenNamespaces={kube-system,payments}' --set 'policy.allowedProfiles={restricted}' \
       --set snapshotImage.repository=registry.example/ephemera-snapshot &&
     check_admission_policy "$work/vap-values.yaml" ephemera-test existing-sa '["kube-system","payments"]' '["restricted"]'; then
    pass "the policy follows serviceAccount.name, snapshotImage, policy.forbiddenNamespaces and policy.allowedProfiles"
  else
    fail "the ValidatingAdmissionPolicy with changed values"; sed 's/^/    /' "$work/vap-values.err"
  fi
  if render vap-allowed -f "$ci_values" --set 'policy.allowedNamespaces={team-a}' &&
     grep -qF "request.namespace in [\"team-a\"]" "$work/vap-allowed.yaml"; then
    pass "policy.allowedNamespaces becomes a validation of the policy"
  else
    fail "policy.allowedNamespaces is not in the policy"; sed 's/^/    /' "$work/vap-allowed.err"
  fi
  if render no-vap -f "$ci_values" --set admissionPolicy.enabled=false &&
     ! grep -qE '^kind: ValidatingAdmissionPolicy' "$work/no-vap.yaml"; then
    pass "admissionPolicy.enabled=false renders no ValidatingAdmissionPolicy"
  else
    fail "admissionPolicy.enabled=false"; sed 's/^/    /' "$work/no-vap.err"
  fi
}

test_network_policy() {
  find_helm
  # check_network_policy FILE EXPECTED_WEBHOOK_PEERS_JSON: the webhook rule admits exactly these
  # peers; the metrics rule is the chart's own.
  check_network_policy() {
    python3 - "$@" <<'PY'
import json, sys
import yaml

path, want = sys.argv[1], json.loads(sys.argv[2])
docs = [d for d in yaml.safe_load_all(open(path)) if d]
(np,) = [d for d in docs if d["kind"] == "NetworkPolicy"]
webhook = [r for r in np["spec"]["ingress"] if {"port": "webhook", "protocol": "TCP"} in r["ports"]]
if len(webhook) != 1:
    sys.exit(f"    {len(webhook)} ingress rules for the webhook port: {np['spec']['ingress']}")
if webhook[0]["ports"] != [{"port": "webhook", "protocol": "TCP"}]:
    sys.exit(f"    the webhook rule opens other ports too: {webhook[0]['ports']}")
if webhook[0].get("from") != want:
    sys.exit(f"    the webhook port admits {webhook[0].get('from')!r}, not {want!r}")
PY
  }
  if render np -f "$ci_values" && check_network_policy "$work/np.yaml" '[{"ipBlock": {"cidr": "192.0.2.10/32"}}]'; then
    pass "the webhook port admits only the API server's addresses (networkPolicy.apiServer.cidrs)"
  else
    fail "the webhook rule of the NetworkPolicy"; sed 's/^/    /' "$work/np.err"
  fi
  if render np-from -f "$ci_values" --set 'networkPolicy.webhookFrom[0].ipBlock.cidr=10.20.0.0/16' &&
     check_network_policy "$work/np-from.yaml" \
       '[{"ipBlock": {"cidr": "192.0.2.10/32"}}, {"ipBlock": {"cidr": "10.20.0.0/16"}}]'; then
    pass "networkPolicy.webhookFrom adds peers to the API server's addresses"
  else
    fail "networkPolicy.webhookFrom"; sed 's/^/    /' "$work/np-from.err"
  fi
  if render np-only-from -f "$ci_values" --set 'networkPolicy.apiServer.cidrs=null' \
       --set 'networkPolicy.webhookFrom[0].namespaceSelector.matchLabels.name=konnectivity' &&
     check_network_policy "$work/np-only-from.yaml" \
       '[{"namespaceSelector": {"matchLabels": {"name": "konnectivity"}}}]'; then
    pass "without the API server's addresses (helm template) networkPolicy.webhookFrom alone renders"
  else
    fail "networkPolicy.webhookFrom without apiServer.cidrs"; sed 's/^/    /' "$work/np-only-from.err"
  fi
  expect_failure "helm template without the API server's addresses: the webhook port would admit nothing" \
    "networkPolicy: the API server's addresses are unknown .*networkPolicy.apiServer.cidrs" \
    -f "$ci_values" --set 'networkPolicy.apiServer.cidrs=null'
  if render np-off -f "$ci_values" --set 'networkPolicy.apiServer.cidrs=null' --set networkPolicy.enabled=false &&
     ! grep -qx 'kind: NetworkPolicy' "$work/np-off.yaml"; then
    pass "networkPolicy.enabled=false renders without the API server's addresses"
  else
    fail "networkPolicy.enabled=false"; sed 's/^/    /' "$work/np-off.err"
  fi
  expect_failure "a networkPolicy.apiServer.cidrs entry that is not a CIDR" "apiServer.*cidrs" \
    -f "$ci_values" --set 'networkPolicy.apiServer.cidrs={10.0.0.1}'
}

# GitOps and umbrella charts (issue 19 item 3): certificates.mode certManager and existingSecret
# with markKey.create=false render the same bytes every time; a parent chart's `global` is
# accepted; the PodDisruptionBudget never blocks a drain; the pods/ephemeralcontainers webhook
# leaves kube-system and the release's namespace alone unless told otherwise; the ServiceMonitor
# selects only the metrics Service and the PrometheusRule holds docs/install.md's alerts.
test_gitops() {
  find_helm
  local mode a b
  # A real CA for existingSecret (the schema wants a PEM certificate).
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=gitops-test-ca \
    -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
  # renders_twice_the_same LABEL WHAT ARGS...: helm template twice gives the same bytes.
  renders_twice_the_same() {
    local label=$1 what=$2; shift 2
    if render "$label-1" "$@" && render "$label-2" "$@"; then
      if cmp -s "$work/$label-1.yaml" "$work/$label-2.yaml"; then
        pass "$what: helm template twice is byte-identical"
      else
        fail "$what: two renders differ:"; diff "$work/$label-1.yaml" "$work/$label-2.yaml" | head -n 20
      fi
    else
      fail "rendering $what"; sed 's/^/    /' "$work/$label-1.err"
    fi
  }
  # The defaults: the controller makes the certificates and the mark key.
  renders_twice_the_same default "the default values" -f "$ci_values"
  if render default-helm -f "$ci_values" --set certificates.mode=helm && render default-helm-2 -f "$ci_values" --set certificates.mode=helm &&
     ! cmp -s "$work/default-helm.yaml" "$work/default-helm-2.yaml"; then
    pass "certificates.mode=helm renders new certificates each time (the comparison above can fail)"
  else
    fail "certificates.mode=helm rendered the same certificate twice: the byte-identical check proves nothing"
  fi
  local gitops=(-f "$ci_values" --set markKey.create=false)
  local existing=(--set certificates.mode=existingSecret --set webhooks.certificate.existingSecret=my-webhook-tls
    --set metrics.certificate.existingSecret=my-metrics-tls --set-file "webhooks.certificate.caBundle=$work/ca.crt")
  for mode in certManager existingSecret; do
    local extra=(--set certificates.mode=certManager)
    [ "$mode" = existingSecret ] && extra=("${existing[@]}")
    renders_twice_the_same "$mode" "certificates.mode=$mode with markKey.create=false" "${gitops[@]}" "${extra[@]}"
  done
  if python3 - "$work/certManager-1.yaml" "$work/existingSecret-1.yaml" "$work/ca.crt" <<'PY'
import base64, sys, yaml
def load(path):
    return [d for d in yaml.safe_load_all(open(path)) if d]
def volumes(docs):
    (dep,) = [d for d in docs if d["kind"] == "Deployment"]
    pod = dep["spec"]["template"]
    assert not any(k.startswith("checksum/") and "certificate" in k for k in pod["metadata"]["annotations"]), \
        pod["metadata"]["annotations"]
    return {v["name"]: v["secret"]["secretName"] for v in pod["spec"]["volumes"] if "secret" in v}
for path in sys.argv[1:3]:
    docs = load(path)
    secrets = [d for d in docs if d["kind"] == "Secret"]
    assert not secrets, f"{path}: Secrets rendered: {[s['metadata']['name'] for s in secrets]}"
# certManager: the Certificates write the Secrets the pods mount, and cainjector is pointed at the
# webhook's Certificate on every webhook configuration, which carries no caBundle of its own.
docs = load(sys.argv[1])
certs = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Certificate"}
mounted = volumes(docs)
assert certs["ephemera-webhook"]["spec"]["secretName"] == mounted["webhook-tls"], (certs, mounted)
assert certs["ephemera-metrics"]["spec"]["secretName"] == mounted["metrics-tls"], (certs, mounted)
assert "ephemera-webhook.ephemera-test.svc" in certs["ephemera-webhook"]["spec"]["dnsNames"]
issuers = {d["metadata"]["name"] for d in docs if d["kind"] == "Issuer"}
for c in certs.values():
    assert c["spec"]["issuerRef"]["name"] in issuers, (c["spec"]["issuerRef"], issuers)
hooks = [d for d in docs if d["kind"].endswith("WebhookConfiguration")]
assert len(hooks) == 2, hooks
for h in hooks:
    assert h["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == "ephemera-test/ephemera-webhook"
    for w in h["webhooks"]:
        assert "caBundle" not in w["clientConfig"], w["clientConfig"]
# existingSecret: the pods mount the user's Secrets and the webhooks trust the given CA.
docs = load(sys.argv[2])
assert volumes(docs) == {"webhook-tls": "my-webhook-tls", "metrics-tls": "my-metrics-tls"}, volumes(docs)
ca = open(sys.argv[3], "rb").read()
for h in [d for d in docs if d["kind"].endswith("WebhookConfiguration")]:
    for w in h["webhooks"]:
        assert base64.b64decode(w["clientConfig"]["caBundle"]) == ca, "caBundle is not the given CA"
assert not [d for d in docs if d["kind"] in ("Certificate", "Issuer")]
PY
  then
    pass "certManager: Certificates for the mounted Secrets, cainjector on both webhooks; existingSecret: the user's Secrets and CA; no Secret rendered"
  else
    fail "what certificates.mode certManager / existingSecret render"
  fi
  expect_failure "certificates.mode=existingSecret without its Secrets and CA: all three named" \
    "certificates.mode existingSecret needs webhooks.certificate.existingSecret, webhooks.certificate.caBundle, metrics.certificate.existingSecret" \
    -f "$ci_values" --set certificates.mode=existingSecret
  expect_failure "an unknown certificates.mode" "certificates.*mode" -f "$ci_values" --set certificates.mode=vault
  if render issuer -f "$ci_values" --set certificates.mode=certManager --set certificates.certManager.issuerRef.name=corp-ca \
       --set certificates.certManager.issuerRef.kind=ClusterIssuer &&
     python3 - "$work/issuer.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
assert not [d for d in docs if d["kind"] == "Issuer"], "the chart's own CA is rendered beside the given issuer"
refs = [d["spec"]["issuerRef"] for d in docs if d["kind"] == "Certificate"]
assert refs == [{"name": "corp-ca", "kind": "ClusterIssuer"}] * 2, refs
PY
  then
    pass "certificates.certManager.issuerRef: both Certificates use the given ClusterIssuer and no CA of the chart's is made"
  else
    fail "certificates.certManager.issuerRef"; sed 's/^/    /' "$work/issuer.err"
  fi

  # A parent chart with this one as a dependency, and `global` values as Helm passes them.
  local parent=$work/parent
  mkdir -p "$parent/charts"
  cp -r "$chart" "$parent/charts/ephemera"
  printf 'apiVersion: v2\nname: platform\nversion: 1.0.0\ndependencies:\n- name: ephemera\n  version: "*"\n' >"$parent/Chart.yaml"
  { printf 'global:\n  imageRegistry: registry.example\n  team: platform\nephemera:\n'; sed 's/^/  /' "$ci_values"; } >"$parent/values.yaml"
  if "$helm" template platform "$parent" --namespace ephemera-test --kube-version 1.34.0 >"$work/parent.yaml" 2>"$work/parent.err" &&
     grep -qx 'kind: Deployment' "$work/parent.yaml"; then
    pass "as a subchart of a parent chart with global values: renders (the schema accepts global)"
  else
    fail "as a subchart"; sed 's/^/    /' "$work/parent.err"
  fi

  # PodDisruptionBudget: none with one replica (it would block every drain), and never minAvailable
  # >= replicas.
  if render one -f "$ci_values" --set replicaCount=1 && ! grep -qx 'kind: PodDisruptionBudget' "$work/one.yaml"; then
    pass "replicaCount=1: no PodDisruptionBudget, so a drain is never blocked"
  else
    fail "replicaCount=1 renders a PodDisruptionBudget"
  fi
  expect_failure "podDisruptionBudget.minAvailable=2 with 2 replicas" "minAvailable \(2\) must be below replicaCount \(2\)" \
    -f "$ci_values" --set podDisruptionBudget.minAvailable=2

  # The pods/ephemeralcontainers webhook's namespaces.
  if render ns-default -f "$ci_values" --set webhooks.ephemeralContainers.enabled=true &&
     render ns-given -f "$ci_values" --set webhooks.ephemeralContainers.enabled=true \
       --set webhooks.ephemeralContainers.namespaceSelector.matchLabels.debug-watch=on &&
     python3 - "$work/ns-default.yaml" "$work/ns-given.yaml" <<'PY'
import sys, yaml
def selector(path):
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    (hook,) = [w for d in docs if d["kind"] == "ValidatingWebhookConfiguration" for w in d["webhooks"]
               if w["rules"][0]["resources"] == ["pods/ephemeralcontainers"]]
    return hook["namespaceSelector"]
default = selector(sys.argv[1])
assert default == {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                                         "values": ["kube-system", "ephemera-test"]}]}, default
assert selector(sys.argv[2]) == {"matchLabels": {"debug-watch": "on"}}, selector(sys.argv[2])
PY
  then
    pass "the pods/ephemeralcontainers webhook skips kube-system and the release namespace; a namespaceSelector value replaces that"
  else
    fail "the pods/ephemeralcontainers webhook's namespaceSelector"
  fi

  # ServiceMonitor and PrometheusRule.
  if render monitoring -f "$ci_values" --set metrics.serviceMonitor.enabled=true --set metrics.prometheusRule.enabled=true \
       --set metrics.serviceMonitor.labels.release=prometheus &&
     python3 - "$work/monitoring.yaml" "$repo/docs/install.md" <<'PY'
import re, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
(sm,) = [d for d in docs if d["kind"] == "ServiceMonitor"]
assert sm["metadata"]["labels"]["release"] == "prometheus"
want = sm["spec"]["selector"]["matchLabels"]
selected = [d["metadata"]["name"] for d in docs if d["kind"] == "Service"
            and all(d["metadata"]["labels"].get(k) == v for k, v in want.items())]
assert selected == ["ephemera-metrics"], selected
(endpoint,) = sm["spec"]["endpoints"]
assert endpoint["port"] == "metrics" and endpoint["scheme"] == "https", endpoint
assert endpoint["tlsConfig"]["serverName"] == "ephemera-metrics.ephemera-test.svc"
assert endpoint["tlsConfig"]["ca"]["secret"] == {"name": "ephemera-metrics-tls", "key": "ca.crt"}
(rule,) = [d for d in docs if d["kind"] == "PrometheusRule"]
chart = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"]}
# The alerts as docs/install.md writes them (its job label is the default scrape job's).
text = open(sys.argv[2]).read()
block = re.search(r"Suggested alerts.*?```yaml\n(.*?)```", text, re.S).group(1)
documented = {r["alert"]: r for g in yaml.safe_load(block)["groups"] for r in g["rules"]}
assert set(chart) == set(documented), (sorted(chart), sorted(documented))
for name, r in documented.items():
    c = chart[name]
    assert c["expr"] == r["expr"], (name, c["expr"], r["expr"])
    assert c.get("for") == r.get("for") and c.get("annotations") == r.get("annotations"), (name, c, r)
PY
  then
    pass "ServiceMonitor selects only the metrics Service over HTTPS with its CA; PrometheusRule holds exactly docs/install.md's alerts"
  else
    fail "ServiceMonitor / PrometheusRule"; sed 's/^/    /' "$work/monitoring.err"
  fi
}

case "${1:-}" in
  gitops) test_gitops ;;
  lint) test_lint ;;
  template) test_template ;;
  schema) test_schema ;;
  crds) test_crds ;;
  admission_policy) test_admission_policy ;;
  network_policy) test_network_policy ;;
  *) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
exit "$failed"
