#!/usr/bin/env bash
# A real single-node Kubernetes cluster on this machine: etcd and runc from Debian, containerd 2.x; the pinned
# upstream kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and kube-proxy built by
# hack/build-kube.sh. Nothing is mocked.
#
#   cluster.sh up                 start (or adopt a healthy running) cluster; prints the time to a Ready node
#   cluster.sh down               stop every process it started, remove mounts, network and iptables state
#   cluster.sh status             exit 0 when the API server answers and the node is Ready
#   cluster.sh kubeconfig USER    path of USER's kubeconfig (admin, alice, bob, carol)
#   cluster.sh kubectl-path       path of the kubectl it built (helm-path likewise)
#   cluster.sh load-image NAME    import a local Docker image into containerd's k8s.io namespace
#   cluster.sh image-ref NAME     the digest-pinned reference of a loaded image
#   cluster.sh logs               where the component logs are
#   cluster.sh pki-path           the cluster CA and certificates (ca.crt, ephemera-webhook.crt, …;
#                                 webhook-client-ca.crt: the CA of the API server's webhook client cert)
#   cluster.sh node-ip            the node's address, where host-run webhooks listen
#   cluster.sh containerd-socket  the node's containerd socket (for `ctr --address`)
#   cluster.sh ctr-path           the ctr of the node's containerd (hack/build-kube.sh builds both)
#   cluster.sh restart-apiserver  kill -9 the API server and start it again (fault tests); waits
#                                 until it is ready; its previous log is kept as kube-apiserver.log.1
#
# State lives in $EPHEMERA_CLUSTER_DIR (default /var/lib/ephemera-cluster); runtime sockets in
# /run/ephemera. Needs root (kubelet, containerd, iptables).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
state=${EPHEMERA_CLUSTER_DIR:-/var/lib/ephemera-cluster}
run=/run/ephemera
pki=$state/pki
kubeconfigs=$state/kubeconfig
logs=$state/logs
pids=$state/pids

node_name=ephemera-node
# The node, the API server's advertised address and the pods' gateway share one bridge that this script
# creates; nothing is routed or masqueraded beyond the machine.
bridge=ephemera0
node_ip=10.244.0.1
pod_cidr=10.244.0.0/24
service_cidr=10.96.0.0/16
kubernetes_service_ip=10.96.0.1
apiserver_port=6443
etcd_port=12379
containerd_sock=$run/containerd/containerd.sock

log() { echo "cluster: $*" >&2; }
seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
die() { echo "cluster: error: $*" >&2; exit 1; }

kube_bin() { "$repo/hack/build-kube.sh" | tail -n 1; }
# containerd 2.x built by hack/build-kube.sh (containerd, its runc shim and ctr), ahead of anything
# on PATH (Debian's 1.6 may be installed for Docker): every containerd, shim and ctr here is it.
if containerd_dir=$("$repo/hack/build-kube.sh" --containerd-path 2>/dev/null); then
  PATH="$containerd_dir:$PATH"
fi
# The binaries' folder without building them (for quick queries); fails when they are not built.
cached_kube_bin() { "$repo/hack/build-kube.sh" --cached-only | tail -n 1; }

require_root() {
  [ "$(id -u)" -eq 0 ] || die "the local cluster needs root (kubelet, containerd, iptables); run as root"
}

# ---------------------------------------------------------------------------------------------------
# PKI: one CA signs every serving and client certificate; keys never leave $pki.

issue_cert() { # name CN O [SANs] [CA name, default ca]
  local name=$1 cn=$2 org=$3 sans=${4:-} ca=${5:-ca}
  [ -f "$pki/$name.crt" ] && return 0
  local subj="/CN=$cn"
  [ -n "$org" ] && subj="/O=$org$subj"
  openssl genrsa -out "$pki/$name.key" 2048 2>/dev/null
  openssl req -new -key "$pki/$name.key" -subj "$subj" -out "$pki/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [ -n "$sans" ]; then
      echo "extendedKeyUsage=serverAuth,clientAuth"
      echo "subjectAltName=$sans"
    else
      echo "extendedKeyUsage=clientAuth"
    fi
  } >"$pki/$name.ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/$ca.crt" -CAkey "$pki/$ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$pki/$name.ext" -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$pki/$name.ext"
  chmod 600 "$pki/$name.key"
}

make_ca() { # name CN
  [ -f "$pki/$1.crt" ] && return 0
  openssl genrsa -out "$pki/$1.key" 2048 2>/dev/null
  openssl req -x509 -new -key "$pki/$1.key" -subj "/CN=$2" -days 3650 -sha256 -out "$pki/$1.crt" 2>/dev/null
  chmod 600 "$pki/$1.key"
}

make_pki() {
  mkdir -p "$pki" && chmod 700 "$pki"
  [ -f "$pki/ca.crt" ] || log "generating the cluster CA and certificates with OpenSSL"
  make_ca ca ephemera-local-ca
  # The API server authenticates itself to admission webhooks with a client certificate from a CA of
  # its own (webhook-client-ca.crt): no user's certificate can pass for the API server's, since
  # every user certificate comes from ca.crt (docs/security.md, M4).
  make_ca webhook-client-ca ephemera-local-webhook-client-ca
  issue_cert apiserver-webhook-client kube-apiserver-admission "" "" webhook-client-ca
  issue_cert apiserver kube-apiserver "" \
    "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$node_ip,IP:$kubernetes_service_ip"
  issue_cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  issue_cert kubelet "system:node:$node_name" system:nodes "DNS:$node_name,DNS:localhost,IP:127.0.0.1,IP:$node_ip"
  issue_cert controller-manager system:kube-controller-manager ""
  issue_cert scheduler system:kube-scheduler ""
  issue_cert kube-proxy system:kube-proxy ""
  issue_cert admin admin system:masters
  for user in alice bob carol; do issue_cert "$user" "$user" ""; done
  # Ephemera's controller when it runs on this host (make run, the host-run tests): its own identity
  # with only the RBAC the chart grants, and a serving certificate for its webhooks on the node address.
  issue_cert ephemera-controller ephemera-controller ""
  issue_cert ephemera-webhook ephemera-webhook "" "DNS:localhost,IP:127.0.0.1,IP:$node_ip"
  if [ ! -f "$pki/sa.key" ]; then
    openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
    openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
    chmod 600 "$pki/sa.key"
  fi
}

write_kubeconfig() { # name cert-name
  local name=$1 cert=$2 file=$kubeconfigs/$1.kubeconfig
  [ -f "$file" ] && return 0
  mkdir -p "$kubeconfigs"
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ephemera-local
  cluster:
    server: https://127.0.0.1:$apiserver_port
    certificate-authority-data: $(base64 -w0 <"$pki/ca.crt")
users:
- name: $name
  user:
    client-certificate-data: $(base64 -w0 <"$pki/$cert.crt")
    client-key-data: $(base64 -w0 <"$pki/$cert.key")
contexts:
- name: $name@ephemera-local
  context: {cluster: ephemera-local, user: $name}
current-context: $name@ephemera-local
EOF
  chmod 600 "$file"
}

make_kubeconfigs() {
  for c in admin alice bob carol ephemera-controller kubelet controller-manager scheduler kube-proxy; do
    write_kubeconfig "$c" "$c"
  done
}

# ---------------------------------------------------------------------------------------------------
# Processes: each daemon runs in its own session, its pid in $pids, its output in $logs.

start_daemon() { # name command...
  local name=$1; shift
  mkdir -p "$pids" "$logs"
  setsid "$@" >"$logs/$name.log" 2>&1 </dev/null &
  echo $! >"$pids/$name.pid"
}

is_running() { [ -f "$pids/$1.pid" ] && kill -0 "$(cat "$pids/$1.pid")" 2>/dev/null; }

wait_for() { # description timeout-seconds command...
  local what=$1 timeout=$2; shift 2
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "timed out after ${timeout}s waiting for $what; last log lines:"
      for f in "$logs"/*.log; do echo "--- $f" >&2; tail -n 15 "$f" >&2; done
      return 1
    fi
    sleep 0.3
  done
}

admin_kubectl() { "$bin/kubectl" --kubeconfig "$kubeconfigs/admin.kubeconfig" "$@"; }

start_etcd() {
  rm -rf "$state/etcd"
  start_daemon etcd etcd --name ephemera --data-dir "$state/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
    --initial-cluster "ephemera=http://127.0.0.1:$((etcd_port + 1))" \
    --quota-backend-bytes 2147483648 --snapshot-count 10000
  wait_for etcd 30 curl -sf "http://127.0.0.1:$etcd_port/health"
}

# The API server presents apiserver-webhook-client.crt to every admission webhook ('*'), so that
# webhooks can tell its calls from anyone else's (the chart's webhooks.clientAuth).
write_admission_config() {
  local dir=$state/admission plugin
  mkdir -p "$dir" && chmod 700 "$dir"
  cat >"$dir/webhook-client.kubeconfig" <<EOF
apiVersion: v1
kind: Config
users:
- name: '*'
  user:
    client-certificate: $pki/apiserver-webhook-client.crt
    client-key: $pki/apiserver-webhook-client.key
EOF
  {
    echo "apiVersion: apiserver.config.k8s.io/v1"
    echo "kind: AdmissionConfiguration"
    echo "plugins:"
    for plugin in ValidatingAdmissionWebhook MutatingAdmissionWebhook; do
      echo "- name: $plugin"
      echo "  configuration:"
      echo "    apiVersion: apiserver.config.k8s.io/v1"
      echo "    kind: WebhookAdmissionConfiguration"
      echo "    kubeConfigFile: $dir/webhook-client.kubeconfig"
    done
  } >"$dir/admission-config.yaml"
}

start_apiserver() {
  write_admission_config
  start_daemon kube-apiserver "$bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 0.0.0.0 --secure-port "$apiserver_port" --advertise-address "$node_ip" \
    --service-cluster-ip-range "$service_cidr" \
    --authorization-mode Node,RBAC \
    --enable-admission-plugins NodeRestriction,PodSecurity,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy \
    --admission-control-config-file "$state/admission/admission-config.yaml" \
    --client-ca-file "$pki/ca.crt" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$pki/ca.crt" \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --kubelet-preferred-address-types InternalIP,Hostname \
    --allow-privileged=true --profiling=false --v=1
  wait_for kube-apiserver 90 admin_kubectl get --raw /readyz
}

start_control_plane() {
  start_daemon kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig "$kubeconfigs/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$kubeconfigs/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$kubeconfigs/controller-manager.kubeconfig" \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --use-service-account-credentials --leader-elect=false --allocate-node-cidrs=false \
    --service-cluster-ip-range "$service_cidr" --bind-address 127.0.0.1 --profiling=false --v=1
  start_daemon kube-scheduler "$bin/kube-scheduler" \
    --kubeconfig "$kubeconfigs/scheduler.kubeconfig" \
    --authentication-kubeconfig "$kubeconfigs/scheduler.kubeconfig" \
    --authorization-kubeconfig "$kubeconfigs/scheduler.kubeconfig" \
    --leader-elect=false --bind-address 127.0.0.1 --profiling=false --v=1
}

write_network() {
  if ! ip link show "$bridge" >/dev/null 2>&1; then
    ip link add "$bridge" type bridge
  fi
  ip addr replace "$node_ip/24" dev "$bridge"
  ip link set "$bridge" up
  mkdir -p "$state/cni/net.d" "$state/cni/ipam"
  cat >"$state/cni/net.d/10-ephemera.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "ephemera",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$bridge",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$state/cni/ipam",
        "ranges": [[{"subnet": "$pod_cidr", "gateway": "$node_ip"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
}

start_containerd() {
  mkdir -p "$run/containerd" "$state/containerd"
  cat >"$state/containerd.toml" <<EOF
version = 3
root = "$state/containerd"
state = "$run/containerd/state"
[grpc]
  address = "$containerd_sock"
[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "ephemera.local/pause:1.0"
# Processes here lack CAP_SYS_RESOURCE, so no OOM score may go below containerd's own (the kubelet asks -998
# for pod sandboxes, which runc then fails to set: "failed to update /proc/self/oom_score_adj").
[plugins.'io.containerd.cri.v1.runtime']
  restrict_oom_score_adj = true
  enable_unprivileged_ports = false
  enable_unprivileged_icmp = false
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "$state/cni/net.d"
EOF
  start_daemon containerd containerd --config "$state/containerd.toml"
  wait_for containerd 30 ctr --address "$containerd_sock" version
}

start_node() {
  mkdir -p "$state/kubelet" "$state/pod-logs"
  cat >"$state/kubelet-config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine mounts cgroup v1; recent kubelets refuse it unless told otherwise.
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$containerd_sock
imageServiceEndpoint: unix://$containerd_sock
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$pki/ca.crt"}
authorization: {mode: Webhook}
tlsCertFile: "$pki/kubelet.crt"
tlsPrivateKeyFile: "$pki/kubelet.key"
address: "$node_ip"
healthzBindAddress: 127.0.0.1
podLogsDir: "$state/pod-logs"
failSwapOn: false
resolvConf: /etc/resolv.conf
serializeImagePulls: false
evictionHard: {memory.available: "100Mi", nodefs.available: "2%", imagefs.available: "2%"}
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
maxPods: 250
# No CAP_SYS_RESOURCE on this machine: the kubelet cannot lower its own OOM score.
oomScoreAdj: 0
EOF
  # EPHEMERA_NODE_RESERVED_CPUS (e.g. 0) for measurements; unset in tests. The kubelet's static CPU
  # manager keeps those CPUs for system daemons and gives each Guaranteed pod's integer-CPU
  # container CPUs of its own; start the cluster under `taskset -c` of the same CPUs so that the
  # daemons (control plane, containerd, kubelet) stay on them too.
  rm -f "$state/kubelet/cpu_manager_state"
  if [ -n "${EPHEMERA_NODE_RESERVED_CPUS:-}" ]; then
    printf 'cpuManagerPolicy: static\nreservedSystemCPUs: "%s"\n' "$EPHEMERA_NODE_RESERVED_CPUS" \
      >>"$state/kubelet-config.yaml"
    log "kubelet: static CPU manager, CPUs $EPHEMERA_NODE_RESERVED_CPUS reserved for the system"
  fi
  # EPHEMERA_KUBELET_FEATURE_GATES (e.g. EventedPLEG=true) for measurements; unset in tests.
  local gates=()
  if [ -n "${EPHEMERA_KUBELET_FEATURE_GATES:-}" ]; then
    gates=(--feature-gates "$EPHEMERA_KUBELET_FEATURE_GATES")
    log "kubelet feature gates: $EPHEMERA_KUBELET_FEATURE_GATES"
  fi
  start_daemon kubelet "$bin/kubelet" --config "$state/kubelet-config.yaml" \
    --kubeconfig "$kubeconfigs/kubelet.kubeconfig" --hostname-override "$node_name" \
    --node-ip "$node_ip" --root-dir "$state/kubelet" --v=1 "${gates[@]}"

  cat >"$state/kube-proxy-config.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: "$pod_cidr"
hostnameOverride: "$node_name"
clientConnection: {kubeconfig: "$kubeconfigs/kube-proxy.kubeconfig"}
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack: {maxPerCore: 0}
oomScoreAdj: 0
EOF
  start_daemon kube-proxy "$bin/kube-proxy" --config "$state/kube-proxy-config.yaml" --v=1
}

node_ready() {
  [ "$(admin_kubectl get node "$node_name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

bootstrap_objects() {
  admin_kubectl apply -f "$here/identities.yaml" >/dev/null
}

# ---------------------------------------------------------------------------------------------------
# Images: built with the local Docker engine (no registry, nothing pulled) and imported into containerd.

load_image() { # docker-image-name
  local image=$1 id
  id=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null) || die "no local Docker image $image; build it first"
  mkdir -p "$state/image-ids"
  local stamp; stamp="$state/image-ids/$(echo "$image" | tr '/:' '__')"
  if ! { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$id" ] &&
         ctr --address "$containerd_sock" -n k8s.io images ls -q | grep -qxF "$image"; }; then
    log "importing $image into containerd"
    docker save "$image" | ctr --address "$containerd_sock" -n k8s.io images import --all-platforms - >/dev/null
    echo "$id" >"$stamp"
  fi
  # Also name it by digest, so that references pinned by digest resolve without a registry.
  local digest
  digest=$(ctr --address "$containerd_sock" -n k8s.io images ls | awk -v ref="$image" '$1 == ref {print $3}')
  [ -n "$digest" ] || die "containerd does not list $image after importing it"
  ctr --address "$containerd_sock" -n k8s.io images tag --force "$image" "${image%:*}@$digest" >/dev/null
  echo "${image%:*}@$digest" >"$stamp.pinned"
}

# The digest-pinned reference of a loaded image, e.g. ephemera.local/snapshot@sha256:….
image_ref() { # docker-image-name
  local stamp; stamp="$state/image-ids/$(echo "$1" | tr '/:' '__').pinned"
  [ -f "$stamp" ] || die "image $1 is not loaded; run 'make cluster-up'"
  cat "$stamp"
}

# EPHEMERA_CLUSTER_IMAGES: the short names of the images to build and load (default: all that
# images.sh builds unasked); `make demo` names only those it runs.
build_images() {
  local wanted=()
  # shellcheck disable=SC2206 # a space-separated list of names
  [ -z "${EPHEMERA_CLUSTER_IMAGES:-}" ] || wanted=(${EPHEMERA_CLUSTER_IMAGES})
  "$here/images.sh" build "${wanted[@]}"
  for image in $("$here/images.sh" list "${wanted[@]}"); do load_image "$image"; done
}

# ---------------------------------------------------------------------------------------------------

up() {
  require_root
  local t0; t0=$(date +%s.%N)
  bin=$(kube_bin)
  containerd_dir=$("$repo/hack/build-kube.sh" --containerd-path) ||
    die "containerd is not built; run 'make kube'"
  PATH="$containerd_dir:$PATH"
  mkdir -p "$state" "$run"
  make_pki
  make_kubeconfigs
  if is_running kube-apiserver && is_running kubelet && node_ready; then
    build_images
    log "already up: node $node_name Ready (kubeconfigs in $kubeconfigs)"
    return 0
  fi
  down_quiet
  mkdir -p "$run"
  write_network
  log "starting etcd, containerd and kube-apiserver"
  start_containerd
  start_etcd
  start_apiserver
  start_control_plane
  start_node
  bootstrap_objects
  build_images &
  local images_pid=$!
  log "waiting for node $node_name to be Ready"
  wait_for "node $node_name Ready" 120 node_ready
  local ready; ready=$(date +%s.%N)
  wait "$images_pid" || die "building or loading images failed"
  log "node $node_name Ready $(seconds_between "$t0" "$ready")s after start" \
    "(images loaded after $(seconds_between "$t0" "$(date +%s.%N)")s)"
  log "kubeconfigs: $kubeconfigs/{admin,alice,bob,carol}.kubeconfig; logs: $logs"
}

# A crash, not a shutdown: clients see their watches and requests cut without a goodbye.
restart_apiserver() {
  require_root
  bin=$(cached_kube_bin) || die "no Kubernetes binaries; run 'make cluster-up' first"
  is_running kube-apiserver || die "the API server is not running; run 'make cluster-up' first"
  local pid; pid=$(cat "$pids/kube-apiserver.pid")
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  mv -f "$logs/kube-apiserver.log" "$logs/kube-apiserver.log.1"
  local t0; t0=$(date +%s.%N)
  start_apiserver
  log "kube-apiserver restarted; ready after $(seconds_between "$t0" "$(date +%s.%N)")s"
}

kill_pidfile() { # name
  local f=$pids/$1.pid
  [ -f "$f" ] || return 0
  local pid; pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# kube-proxy --cleanup removes its own rules; the kubelet's (KUBE-FIREWALL, KUBE-KUBELET-CANARY) stay.
remove_kube_iptables() {
  local ipt table rule chain
  for ipt in iptables ip6tables; do
    command -v "$ipt" >/dev/null || continue
    for table in filter nat mangle; do
      "$ipt" -t "$table" -S 2>/dev/null | awk '/^-A .* -j KUBE-/ {sub(/^-A/, "-D"); print}' |
        while read -r rule; do eval "$ipt -t $table $rule" 2>/dev/null || true; done
      for chain in $("$ipt" -t "$table" -S 2>/dev/null | awk '/^-N KUBE-/ {print $2}'); do
        "$ipt" -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $("$ipt" -t "$table" -S 2>/dev/null | awk '/^-N KUBE-/ {print $2}'); do
        "$ipt" -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  done
}

down_quiet() {
  # Order: stop the node agent so it does not restart containers, then the containers, then the rest.
  kill_pidfile kubelet
  if [ -S "$containerd_sock" ] && ctr --address "$containerd_sock" version >/dev/null 2>&1; then
    for task in $(ctr --address "$containerd_sock" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr --address "$containerd_sock" -n k8s.io tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
    done
    sleep 0.5
    for task in $(ctr --address "$containerd_sock" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr --address "$containerd_sock" -n k8s.io tasks delete -f "$task" >/dev/null 2>&1 || true
    done
    for c in $(ctr --address "$containerd_sock" -n k8s.io containers ls -q 2>/dev/null); do
      ctr --address "$containerd_sock" -n k8s.io containers delete "$c" >/dev/null 2>&1 || true
    done
  fi
  for name in kube-proxy kube-scheduler kube-controller-manager kube-apiserver etcd containerd; do
    kill_pidfile "$name"
  done
  # After a crash the pid files may be gone: find our processes by the files they were started with.
  pkill -KILL -f "containerd-shim.*-address $containerd_sock" 2>/dev/null || true
  pkill -KILL -f "containerd --config $state/containerd.toml" 2>/dev/null || true
  pkill -KILL -f "etcd --name ephemera --data-dir $state/etcd" 2>/dev/null || true
  if [ -n "${bin:-}" ]; then
    for b in kubelet kube-proxy kube-scheduler kube-controller-manager kube-apiserver; do
      pkill -KILL -f "^$bin/$b " 2>/dev/null || true
    done
    if [ -x "$bin/kube-proxy" ]; then "$bin/kube-proxy" --cleanup >/dev/null 2>&1 || true; fi
  fi
  remove_kube_iptables
  # Mounts under the kubelet and containerd folders, deepest first.
  awk -v a="$state/" -v b="$run/" 'index($2, a) == 1 || index($2, b) == 1 {print $2}' /proc/mounts |
    sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  # Network namespaces that the CNI plugins made for our pods, and the bridge.
  for ns in $(ip netns list 2>/dev/null | awk '/^cni-/{print $1}'); do ip netns delete "$ns" 2>/dev/null || true; done
  ip link delete "$bridge" 2>/dev/null || true
  rm -rf "$state/cni/ipam" "$run"
  # Pod cgroups the kubelet created (cgroup v1: one tree per controller), deepest first.
  for ctl in /sys/fs/cgroup/*/; do
    [ -d "$ctl/kubepods" ] || continue
    find "$ctl/kubepods" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

down() {
  require_root
  bin=$(cached_kube_bin 2>/dev/null || true)
  down_quiet
  log "down: processes stopped, mounts, network namespaces, bridge and iptables rules removed"
}

status() {
  bin=$(cached_kube_bin) || return 1
  admin_kubectl get --raw /readyz >/dev/null 2>&1 || { log "API server not answering"; return 1; }
  node_ready || { log "node $node_name not Ready"; return 1; }
  log "up: node $node_name Ready"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  kubeconfig)
    user=${2:?usage: cluster.sh kubeconfig USER}
    [ -f "$kubeconfigs/$user.kubeconfig" ] ||
      die "no kubeconfig for '$user' (known: admin alice bob carol ephemera-controller); run 'make cluster-up' first"
    echo "$kubeconfigs/$user.kubeconfig" ;;
  kubectl-path) echo "$(cached_kube_bin)/kubectl" ;;
  helm-path) echo "$(cached_kube_bin)/helm" ;;
  load-image) load_image "${2:?usage: cluster.sh load-image IMAGE}" ;;
  image-ref) image_ref "${2:?usage: cluster.sh image-ref IMAGE}" ;;
  logs) echo "$logs" ;;
  pki-path) echo "$pki" ;;
  node-ip) echo "$node_ip" ;;
  containerd-socket) echo "$containerd_sock" ;;
  ctr-path) command -v ctr ;;
  restart-apiserver) restart_apiserver ;;
  *) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
