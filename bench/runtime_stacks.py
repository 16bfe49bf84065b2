#!/usr/bin/env python3
"""Language stacks: what the snapshot tool costs, against what a user would run instead, in one run.

For each runtime, a test program of its reader (tests/debugpod/runtimes/*: parked goroutines,
Python threads, Java threads with a deadlock) runs as an unprivileged user, and:
- the tool (ephemera-snapshot --capture stacks --profile restricted --format json, as that same
  user, sandboxed as in a pod) reads it ROUNDS times: its wall time, CPU and peak RSS (from the
  document's own overhead figures) and the target's freeze (runtime.freezeMicros);
- the baseline, ROUNDS times where it can be repeated:
  Go      runtime.Stack(buf, true) called in the process (the program's "dump" mode): it stops the
          world, so its wall time is the target's freeze;
  Python  faulthandler.dump_traceback(all_threads=True) in the process (SIGUSR1 in parked.py),
          CPU per dump, spent by the target itself;
  Java    the JDK's jstack: wall, CPU and peak RSS of the jstack process (the safepoint pause is
          inside the JVM; the tool reports its own measure of it as freezeMicros).
Prints medians and the ratios. Figures, not pass/fail.

  bench/runtime_stacks.py BUILD_DIR [ROUNDS]      (BUILD_DIR: build/release)
"""
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/release")
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(BUILD, "debugpod/snapshot/ephemera-snapshot")
JDK = "/usr/lib/jvm/java-17-openjdk-amd64"
USER = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]


def start(argv, ready=b"ready"):
    """Starts argv as the unprivileged user, stdin kept open; waits for its `ready` line. setpriv
    execs the program, so the child's pid is the program's."""
    p = subprocess.Popen(USER + argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        if line.strip() == ready:
            return p
    p.kill()
    sys.exit("bench: %s did not print ready" % argv[0])


def tool_runs(pid):
    rows = []
    for _ in range(ROUNDS):
        out = subprocess.run(USER + [TOOL, "--pid", str(pid), "--capture", "stacks", "--profile",
                                     "restricted", "--format", "json", "--host-namespaces", "allow"],
                             capture_output=True, check=True).stdout
        doc = json.loads(out)
        runtime = doc["processes"][0].get("runtime")
        if not runtime:
            sys.exit("bench: the tool read no runtime from pid %d: %s" % (pid, doc.get("degraded")))
        o = doc["overhead"]
        rows.append((o["wallMillis"], o["toolCpuMillis"], o["toolMaxRssKiB"], runtime["freezeMicros"],
                     runtime["count"], runtime["version"]))
    return rows


def median(rows, i):
    return statistics.median(r[i] for r in rows)


def report(language, rows, baseline_name, base):
    """base: dict with wall_ms, cpu_ms, rss_kib, freeze_us (None where not measured)."""
    wall, cpu, rss, freeze = (median(rows, i) for i in range(4))
    print("%-7s %s, %d threads/goroutines" % (language, rows[0][5], rows[0][4]))
    print("  %-34s wall %7.1f ms  cpu %7.1f ms  rss %7.0f KiB  target freeze %8.0f us"
          % ("ephemera-snapshot (restricted)", wall, cpu, rss, freeze))

    def fmt(value, unit, width):
        return ("%" + str(width) + ".1f %s") % (value, unit) if value is not None else ("%" + str(width + 3) + "s") % "-"
    print("  %-34s wall %s  cpu %s  rss %s  target freeze %s" % (
        baseline_name, fmt(base.get("wall_ms"), "ms", 7), fmt(base.get("cpu_ms"), "ms", 7),
        fmt(base.get("rss_kib"), "KiB", 7), fmt(base.get("freeze_us"), "us", 8)))
    ratios = []
    for name, ours, theirs in (("cpu", cpu, base.get("cpu_ms")), ("wall", wall, base.get("wall_ms")),
                               ("rss", rss, base.get("rss_kib"))):
        if theirs:
            ratios.append("%s %.2fx" % (name, ours / theirs))
    print("  ratio ephemera/baseline: %s; the target is stopped %s" % (
        ", ".join(ratios) or "-",
        "0 us by ephemera" if freeze == 0 else "%.0f us by ephemera" % freeze))


def go():
    binary = os.path.join(BUILD, "tests/debugpod/runtimes/golang/go-parked-stripped")
    p = start([binary])
    rows = tool_runs(p.pid)
    p.stdin.close()
    p.wait(10)
    walls, cpus = [], []
    for _ in range(ROUNDS):
        out = subprocess.run(USER + [binary, "dump"], capture_output=True, text=True, check=True).stdout
        fields = dict(f.split("=") for f in out.split() if "=" in f)
        walls.append(int(fields["wall_us"]) / 1000)
        cpus.append(int(fields["cpu_us"]) / 1000)
    w = statistics.median(walls)
    report("go", rows, "runtime.Stack(all) in the process",
           {"wall_ms": w, "cpu_ms": statistics.median(cpus), "freeze_us": w * 1000})


def python():
    p = start(["/usr/bin/python3", os.path.join(REPO, "tests/debugpod/runtimes/python/parked.py")])
    rows = tool_runs(p.pid)
    p.send_signal(signal.SIGUSR1)
    line = p.stdout.readline().split()  # b"faulthandler RUNS NANOSECONDS"
    p.kill()
    p.wait(10)
    per_dump_ms = int(line[2]) / int(line[1]) / 1e6
    report("python", rows, "faulthandler (in the process)", {"cpu_ms": per_dump_ms})


def java():
    classes = os.path.join(BUILD, "tests/debugpod/runtimes/jvm/parked_classes")
    p = start([JDK + "/bin/java", "-cp", classes, "Parked"])
    rows = tool_runs(p.pid)
    walls, cpus, rsses = [], [], []
    for _ in range(min(ROUNDS, 5)):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        subprocess.run(USER + [JDK + "/bin/jstack", str(p.pid)], capture_output=True, check=True)
        walls.append((time.monotonic() - t0) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000)
        rsses.append(after.ru_maxrss)  # the largest child so far: jstack's JVM dwarfs the others
    p.stdin.close()
    p.kill()
    p.wait(10)
    report("java", rows, "jstack (JDK 17)", {"wall_ms": statistics.median(walls),
                                             "cpu_ms": statistics.median(cpus),
                                             "rss_kib": max(rsses)})


def main():
    global BUILD, REPO, TOOL
    if os.geteuid() != 0:
        sys.exit("bench: run as root (it starts the targets and the tool as user 65534 with setpriv)")
    print("runtime stacks: %d rounds each; medians; the tool in the restricted profile" % ROUNDS)
    # User 65534 may not reach the checkout: it runs copies laid out like BUILD and REPO.
    copy = tempfile.mkdtemp(prefix="runtime-stacks-bench-")
    try:
        os.chmod(copy, 0o755)
        for root, relative in ((BUILD, "debugpod/snapshot/ephemera-snapshot"),
                               (BUILD, "tests/debugpod/runtimes/golang/go-parked-stripped"),
                               (REPO, "tests/debugpod/runtimes/python/parked.py")):
            os.makedirs(os.path.join(copy, os.path.dirname(relative)), exist_ok=True)
            shutil.copy(os.path.join(root, relative), os.path.join(copy, relative))
        shutil.copytree(os.path.join(BUILD, "tests/debugpod/runtimes/jvm/parked_classes"),
                        os.path.join(copy, "tests/debugpod/runtimes/jvm/parked_classes"))
        BUILD = REPO = copy
        TOOL = os.path.join(copy, "debugpod/snapshot/ephemera-snapshot")
        for dir_path, dirs, _ in os.walk(copy):
            for d in dirs:
                os.chmod(os.path.join(dir_path, d), 0o755)
        go()
        python()
        java()
    finally:
        shutil.rmtree(copy, ignore_errors=True)


if __name__ == "__main__":
    main()
