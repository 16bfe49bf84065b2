#!/usr/bin/env python3
"""Writes benign_proc.txt: text of the kinds a snapshot reads from /proc that holds no secret.

Command lines of JVM, Python, Node, Envoy and Go services, kubelet-style paths with pod UIDs and
container IDs, image references with digests, memory-map paths, fd targets and socket peers,
thread names, file:line locations, trace and span IDs, log lines; then log lines that look
numeric without holding personal data (dates, times, durations, versions, build numbers, ports,
byte counts, Unix timestamps of 10/13/19 digits, numeric and hex request IDs, image digests,
package@version specs, Go and Java stack lines, /proc/<pid>/stat and /proc/net lines), so that
the false-positive rate with the PII mode on means something. IDs are random (seeded), so the
corpus is not tuned to the redactor. Regenerate with:
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


def ts_seconds():
    return rng.randint(1_600_000_000, 1_800_000_000)


def iso_time():
    return (f"{rng.randint(2023, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}."
            f"{rng.randint(0, 999999):06d}Z")


def semver():
    pre = rng.choice(["", "", "", f"-rc.{rng.randint(1, 5)}", f"-beta.{rng.randint(1, 9)}"])
    build = rng.choice(["", "", f"+build.{rng.randint(1, 9999)}", f"+{hexs(7)}"])
    return f"{rng.randint(0, 30)}.{rng.randint(0, 40)}.{rng.randint(0, 200)}{pre}{build}"


def u64():
    return rng.getrandbits(64)


def ulid():
    """A ULID: 48-bit millisecond time then 80 random bits, in Crockford's base32 (26 chars)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    value = (ts_seconds() * 1000 + rng.randint(0, 999)) << 80 | rng.getrandbits(80)
    return "".join(alphabet[(value >> (5 * k)) & 31] for k in reversed(range(26)))


def log_lines():
    for _ in range(40):
        yield (f"{iso_time()} INFO  [main] o.s.b.w.embedded.tomcat.TomcatWebServer - Tomcat started on "
               f"port(s): {rng.randint(1024, 65535)} (http) with context path '' in {rng.randint(1, 60)}.{rng.randint(0, 999):03d} seconds")
        yield (f"{rng.randint(2023, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
               f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d},{rng.randint(0, 999):03d} "
               f"WARN  retry attempt={rng.randint(1, 9)} backoff={rng.randint(1, 900)}ms elapsed={rng.randint(0, 59)}m{rng.randint(0, 59)}.{rng.randint(0, 999)}s")
        yield (f"ts={ts_seconds()} ts_ms={ts_seconds()}{rng.randint(0, 999):03d} "
               f"time_unix_nano={ts_seconds()}{rng.randint(0, 999_999_999):09d} level=debug msg=\"tick\"")
        yield (f"dd.trace_id={u64()} dd.span_id={u64()} http.status_code={rng.choice([200, 201, 204, 404, 503])} "
               f"duration={rng.randint(1, 99_999_999)}")
        yield (f"X-Request-Id: {uid()} x-b3-traceid={hexs(32)} x-b3-spanid={hexs(16)} "
               f"x-amzn-trace-id=Root=1-{hexs(8)}-{hexs(24)}")
        yield (f"request_id={ulid()} job_id={rng.randint(10**8, 10**12)} "
               f"build #{rng.randint(1, 99999)} BUILD_NUMBER={rng.randint(1, 99999)} build_id={rng.randint(2023, 2026)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}.{rng.randint(1, 9999)}")
        yield (f"{rng.choice(APPS)} version {semver()} (commit {hexs(40)}, built {iso_time()}, "
               f"go{rng.randint(19, 23)}.{rng.randint(0, 12)} linux/amd64)")
        yield (f"openjdk version \"{rng.choice([11, 17, 21])}.0.{rng.randint(1, 25)}\" {rng.randint(2023, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
               f"LTS Python 3.{rng.randint(8, 13)}.{rng.randint(0, 20)} node v{rng.randint(16, 22)}.{rng.randint(0, 20)}.{rng.randint(0, 9)} kernel 6.{rng.randint(1, 12)}.{rng.randint(0, 99)}-{rng.randint(1, 200)}-generic")
        yield (f"npm http fetch GET 200 https://registry.npmjs.org/@{rng.choice(['babel', 'types', 'aws-sdk', 'nestjs'])}/"
               f"{rng.choice(['core', 'node', 'client-s3', 'common'])}/-/core-{semver()}.tgz {rng.randint(1, 999)}ms "
               f"@{rng.choice(['babel', 'types', 'angular'])}/{rng.choice(['core', 'node', 'cli'])}@{semver()}")
        yield (f"go: downloading github.com/{rng.choice(['acme', 'prometheus', 'grpc-ecosystem'])}/"
               f"{rng.choice(['client_golang', 'grpc-gateway', 'lib'])} v{semver()} "
               f"golang.org/x/net@v0.{rng.randint(10, 40)}.0")
        yield f"image: {image()} imageID: docker-pullable://{rng.choice(APPS)}@sha256:{hexs(64)}"
        yield (f"Successfully pulled image \"{rng.choice(APPS)}:{semver()}\" in {rng.randint(100, 9999)}ms "
               f"({rng.randint(100, 9999)}ms including waiting). Image size: {rng.randint(10**6, 10**10)} bytes.")
        yield (f"rss={rng.randint(10**6, 10**10)} vsz={rng.randint(10**7, 10**11)} read_bytes={rng.randint(0, 10**12)} "
               f"write_bytes={rng.randint(0, 10**12)} Content-Length: {rng.randint(0, 10**7)} heap {rng.randint(1, 64)}.{rng.randint(0, 9)}GiB")
        yield (f"goroutine {rng.randint(1, 9999)} [{rng.choice(['running', 'select', 'IO wait', 'chan receive'])}, "
               f"{rng.randint(1, 59)} minutes]:")
        yield (f"\t/usr/local/go/src/runtime/proc.go:{rng.randint(100, 4000)} +0x{hexs(3)} "
               f"created by net/http.(*Server).Serve in goroutine {rng.randint(1, 99)}")
        yield (f"\tat com.acme.{rng.choice(['billing', 'orders', 'auth'])}.{rng.choice(['Service', 'Handler', 'Repository'])}"
               f".process({rng.choice(['Service', 'Handler'])}.java:{rng.randint(10, 2000)}) ~[app.jar:{semver()}]")
        yield (f"\tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:{rng.randint(1000, 1200)}) "
               f"java.lang.Object@{hexs(8)} com.acme.Cache$Entry@{hexs(7)}")
        pid = rng.randint(1, 4194304)
        yield (f"{pid} ({rng.choice(['java', 'python3', 'node', 'envoy', 'manager'])}) S {rng.randint(0, 999)} {pid} {pid} 0 -1 "
               f"{rng.choice([4194560, 4194304, 1077936448])} {rng.randint(0, 10**7)} 0 {rng.randint(0, 999)} 0 "
               f"{rng.randint(0, 10**6)} {rng.randint(0, 10**5)} 0 0 20 0 {rng.randint(1, 200)} 0 {rng.randint(10**4, 10**8)} "
               f"{rng.randint(10**7, 10**10)} {rng.randint(1000, 10**6)} 18446744073709551615 {rng.randint(10**5, 10**6)} "
               f"{rng.randint(10**5, 10**6)} 140{rng.randint(10**11, 10**12 - 1)} 0 0 4096 {rng.randint(0, 99999)} 0 0 0 17 "
               f"{rng.randint(0, 7)} 0 0 0 0 0")
        yield (f"  {rng.randint(0, 99)}: {hexs(8).upper()}:{hexs(4).upper()} {hexs(8).upper()}:{hexs(4).upper()} 0A "
               f"00000000:00000000 00:00000000 00000000 {rng.randint(0, 65534):5d} 0 {rng.randint(10**4, 10**7)} 1 "
               f"{hexs(16)} 100 0 0 10 0")
        yield (f"Mem: {rng.randint(10**6, 10**8)} kB MemFree: {rng.randint(10**5, 10**7)} kB uptime "
               f"{rng.randint(1000, 10**7)}.{rng.randint(0, 99):02d} {rng.randint(1000, 10**8)}.{rng.randint(0, 99):02d} "
               f"loadavg 0.{rng.randint(0, 99):02d} 1.{rng.randint(0, 99):02d} 0.{rng.randint(0, 99):02d} {rng.randint(1, 9)}/{rng.randint(100, 999)} {pid}")
        yield (f"listening on :{rng.randint(1024, 65535)} [::]:{rng.choice([80, 443, 8443])} 127.0.0.1:{rng.randint(1024, 65535)} "
               f"0.0.0.0:{rng.randint(1024, 65535)} localhost:{rng.choice([5432, 6379, 9092])} ports {rng.randint(30000, 31000)}-32767")
        yield (f"{rng.choice(['http_requests_total', 'process_cpu_seconds_total', 'go_memstats_alloc_bytes'])}"
               f"{{code=\"{rng.choice([200, 500])}\",instance=\"{rng.choice(APPS)}:{rng.randint(8000, 9999)}\"}} "
               f"{rng.randint(0, 10**9)} {ts_seconds()}{rng.randint(0, 999):03d}")
        yield (f"resourceVersion: \"{rng.randint(10**6, 10**10)}\" uid: {uid()} generation: {rng.randint(1, 99)} "
               f"observedGeneration: {rng.randint(1, 99)} restartCount: {rng.randint(0, 20)}")
        yield (f"inet 10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}/{rng.choice([16, 24, 32])} "
               f"brd 10.{rng.randint(0, 255)}.255.255 inet6 fe80::{hexs(4).lstrip('0') or '1'}:{hexs(2)}ff:fe{hexs(2)}:{hexs(4).lstrip('0') or '1'}/64 "
               f"link/ether 02:42:{hexs(2)}:{hexs(2)}:{hexs(2)}:{hexs(2)} brd ff:ff:ff:ff:ff:ff")
        yield (f"sha256sum {hexs(64)} md5 {hexs(32)} crc32 {rng.randint(0, 2**32 - 1)} "
               f"inode {rng.randint(1, 10**9)} dev {rng.randint(1, 300)}:{rng.randint(0, 255)} size {rng.randint(0, 10**11)}")


print("# Benign text of the kinds a snapshot reads from /proc (generated by make_benign_proc.py,")
print("# seeded random IDs). The redactor may redact at most 0.5 % of its tokens.")
for line in lines():
    print(line)
for line in log_lines():
    print(line)
