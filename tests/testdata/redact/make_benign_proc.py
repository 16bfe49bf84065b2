#!/usr/bin/env python3
"""Writes benign_proc.txt: text of the kinds a snapshot reads from /proc that holds no secret.

Command lines of JVM, Python, Node, Envoy and Go services, kubelet-style paths with pod UIDs and
container IDs, image references with digests, memory-map paths, fd targets and socket peers,
thread names, file:line locations, trace and span IDs, log lines. IDs are random (seeded), so
the corpus is not tuned to the redactor. Regenerate with:
  python3 tests/testdata/redact/make_benign_proc.py > tests/testdata/redact/benign_proc.txt
"""
import random
import uuid

rng = random.Random(20261206)


def hexs(n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def lower(n, alphabet="bcdfghjklmnpqrstvwxz2456789"):
    return "".join(rng.choice(alphabet) for _ in range(n))


def uid():
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


APPS = ["checkout", "cart", "payments", "search-api", "orders", "inventory", "frontend",
        "auth-proxy", "recommendation", "kafka-consumer", "session-store", "token-service"]
NAMESPACES = ["shop", "prod", "default", "kube-system", "monitoring", "payments-prod"]


def pod():
    return f"{rng.choice(APPS)}-{lower(10, 'bcdfghjklmnpqrstvwxz0123456789')[:rng.choice([9, 10])]}-{lower(5)}"


def image():
    return (f"{rng.choice(['ghcr.io/acme', 'registry.k8s.io', 'docker.io/library', 'quay.io/prometheus'])}/"
            f"{rng.choice(APPS)}:{rng.randint(1, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}@sha256:{hexs(64)}")


def lines():
    for _ in range(60):
        yield (f"java -Xms512m -Xmx{rng.choice([1, 2, 4])}g -XX:+UseG1GC -XX:MaxGCPauseMillis=200 "
               f"-Dspring.profiles.active=prod -Dserver.port={rng.randint(8000, 9000)} "
               f"-Djava.security.egd=file:/dev/./urandom -Dotel.service.name={rng.choice(APPS)} "
               f"-jar /app/{rng.choice(APPS)}-{rng.randint(1, 3)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}.jar")
        yield (f"python3 -m gunicorn app.wsgi:application --workers {rng.randint(2, 8)} "
               f"--bind 0.0.0.0:{rng.randint(8000, 9000)} --timeout 30 --access-logfile -")
        yield (f"node --max-old-space-size={rng.choice([512, 1024, 2048])} /app/dist/server.js "
               f"--port {rng.randint(3000, 4000)}")
        yield (f"envoy -c /etc/envoy/envoy.yaml --service-cluster {rng.choice(APPS)} "
               f"--service-node sidecar~10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}~"
               f"{pod()}.{rng.choice(NAMESPACES)}~{rng.choice(NAMESPACES)}.svc.cluster.local "
               f"--drain-time-s 45 --log-format %Y-%m-%dT%T.%fZ")
        yield (f"/manager --leader-elect --metrics-bind-address=:8080 --health-probe-bind-address=:8081 "
               f"--zap-log-level=info --sync-period=10m")
        yield (f"/usr/local/bin/kube-proxy --config=/var/lib/kube-proxy/config.conf "
               f"--hostname-override=gke-prod-default-pool-{hexs(8)}-{lower(4)}")
        yield f"/var/lib/kubelet/pods/{uid()}/volumes/kubernetes.io~projected/kube-api-access-{lower(5)}"
        yield f"/var/lib/kubelet/pods/{uid()}/volumes/kubernetes.io~secret/{rng.choice(APPS)}-tls"
        yield f"/run/containerd/io.containerd.runtime.v2.task/k8s.io/{hexs(64)}/rootfs"
        yield (f"7f{hexs(10)}-7f{hexs(10)} r-xp 00000000 08:01 {rng.randint(1000, 999999)} "
               f"/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/{rng.randint(10, 999)}/fs/usr/lib/x86_64-linux-gnu/libssl.so.3")
        yield f"image: {image()}"
        yield f"containerID: containerd://{hexs(64)}"
        yield f"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{uid().replace('-', '_')}.slice/cri-containerd-{hexs(64)}.scope"
        yield f"socket:[{rng.randint(10000, 9999999)}] pipe:[{rng.randint(10000, 9999999)}] anon_inode:[eventpoll] /dev/null"
        yield (f"tcp 10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}:{rng.randint(30000, 60000)} -> "
               f"{rng.choice(APPS)}.{rng.choice(NAMESPACES)}.svc.cluster.local:{rng.choice([80, 443, 5432, 6379, 9092])} ESTABLISHED")
        yield (f"{rng.choice(['goroutine', 'main'])} {rng.randint(1, 900)} [running]: "
               f"github.com/acme/{rng.choice(APPS)}/internal/{rng.choice(['auth', 'session', 'token', 'handler'])}.(*Server).Handle(0xc000{hexs(6)})"
               f" /src/internal/{rng.choice(['auth', 'session', 'token'])}/server.go:{rng.randint(10, 900)} +0x{hexs(3)}")
        yield (f"{rng.choice(['INFO', 'WARN', 'DEBUG'])} {rng.randint(2024, 2026)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T1{rng.randint(0, 9)}:2{rng.randint(0, 9)}:0{rng.randint(0, 9)}Z "
               f"trace_id={hexs(32)} span_id={hexs(16)} request_id={uid()} "
               f"GET /api/v1/orders/{rng.randint(1, 99999)}?page={rng.randint(1, 9)} status=200 duration_ms={rng.randint(1, 900)}")
        yield f"traceparent: 00-{hexs(32)}-{hexs(16)}-01"
        yield f"pod {pod()} in namespace {rng.choice(NAMESPACES)} on node ip-10-0-{rng.randint(0, 255)}-{rng.randint(1, 254)}.ec2.internal"
        yield f"thread names: {rng.choice(['http-nio-8080-exec-', 'ForkJoinPool.commonPool-worker-', 'grpc-default-executor-', 'kafka-producer-network-thread | producer-'])}{rng.randint(1, 64)} C2 CompilerThread0 GC Thread#3 VM Periodic Task Thread"
        yield f"/app/.venv/lib/python3.11/site-packages/transformers/tokenization_utils_base.py:{rng.randint(100, 3000)}"
        yield f"--tokenizer=bert-base-uncased --max-sessions={rng.randint(1, 99)} --auth-mode=oidc --session-affinity=ClientIP"
        yield f"/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30"


print("# Benign text of the kinds a snapshot reads from /proc (generated by make_benign_proc.py,")
print("# seeded random IDs). The redactor may redact at most 0.5 % of its tokens.")
for line in lines():
    print(line)
