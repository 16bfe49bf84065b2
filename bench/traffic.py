#!/usr/bin/env python3
"""What a service's users feel while it is being debugged: the traffic benchmark, on this host.

ephemera-target --http serves HTTP with N worker threads; vegeta sends it requests at a fixed rate
(open loop: a request is sent on schedule whether or not earlier ones were answered, so a frozen
target shows in the latency instead of slowing the load). For each thread count, --rounds rounds
of one window per method (the same rate and length each, the methods interleaved so that a drift
of a shared machine touches them alike; each method's windows are pooled into one row):

  undisturbed          nothing else runs
  ephemera restricted  ephemera-snapshot --profile restricted, as the target's user with no
                       capabilities (what the restricted profile's container is), every --every s
  ephemera ptrace      ephemera-snapshot --profile ptrace as root, every section (stacks included)
  eu-stack             eu-stack -p PID (elfutils), what `kubectl debug` with eu-stack would run
  gdb                  gdb -batch -p PID -ex 'thread apply all bt'

A capture starts every --every seconds, or as soon as the previous one ended if it took longer. Each
row prints the requests, failures, latency p50/p99/p99.9/max of the answered requests (failures
are counted apart: a refused connection is no latency) and the ratios against the undisturbed row
of the same thread count, then the goals of issue #20 with their verdicts.
"Restarts" counts target processes that did not survive a window (on this host nothing restarts
them: one that died fails the rest of its level). A benchmark: it prints figures, it does not pass
or fail on them (the exit code is non-zero only when it could not run).

  bench/traffic.py --target BIN --snapshot BIN --vegeta BIN [--threads 10,100,1000] [--rate 1000]
                   [--window 15] [--rounds 2] [--every 1.0] [--port 18080] [--json FILE]

With --url instead of --target, the target runs elsewhere (bench/traffic_cluster.sh: a pod behind a
Service): each --disturb 'NAME=SHELL COMMAND' is a window (an empty command: undisturbed), each
command run every --every seconds, and --restarts-cmd prints the target's restart count (read
before and after each window). --threads then only labels the rows and caps vegeta's connections.
"""
import argparse
import csv
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

NOBODY = 65534
WARMUP_SECONDS = 3


def percentile(sorted_values, q):
    """The q-quantile (0..1) of sorted values, nearest rank; None for no values."""
    if not sorted_values:
        return None
    rank = max(1, -(-int(q * len(sorted_values) * 1000) // 1000))  # ceil without float drift
    return sorted_values[min(rank, len(sorted_values)) - 1]


def as_nobody(argv):
    """argv run as the target's user (nobody) with no capabilities at all."""
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", *argv]


class Target:
    """ephemera-target --http as nobody, on 127.0.0.1:port."""

    def __init__(self, binary, threads, port, log_path):
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(as_nobody([binary, "--http", "--threads", str(threads),
                                                "--port", str(port)]),
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if "serving" not in line:
            self.proc.kill()
            self.proc.wait()
            self.log.close()
            with open(log_path) as f:
                stderr = f.read().strip()
            raise SystemExit(f"traffic: ephemera-target did not start: "
                             f"{line.strip() or stderr or 'no output'}")
        self.pid = self.proc.pid
        self.started = self.start_time()

    def start_time(self):
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[19]
        except OSError:
            return None

    def alive(self):
        return self.proc.poll() is None and self.start_time() == self.started

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Disturbance(threading.Thread):
    """Runs argv every `every` seconds (at once when one run outlasts it) until stop(). Each run
    is its own process group, killed whole after `timeout`. A run that could not be started is
    recorded in `error`, and no further run starts."""

    def __init__(self, argv, every, timeout):
        super().__init__(daemon=True)
        self.argv, self.every, self.timeout = argv, every, timeout
        self.stopping = threading.Event()
        self.runs = []  # (wall seconds, cpu seconds, exit status)
        self.error = None

    def run(self):
        next_at = time.monotonic()
        while not self.stopping.is_set():
            began = time.monotonic()
            try:
                proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
            except OSError as e:
                self.error = f"{self.argv[0]}: {e}"
                return
            # Killed by pid, never through Popen (whose poll() could reap it before wait4 does).
            timer = threading.Timer(self.timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
            timer.start()
            _, status, usage = os.wait4(proc.pid, 0)
            timer.cancel()
            proc.returncode = os.waitstatus_to_exitcode(status)
            self.runs.append((time.monotonic() - began, usage.ru_utime + usage.ru_stime,
                              proc.returncode))
            next_at = max(next_at + self.every, time.monotonic())
            self.stopping.wait(max(0.0, next_at - time.monotonic()))

    def stop(self):
        self.stopping.set()
        self.join()


def attack(vegeta, url, rate, seconds, connections, out_path):
    """Starts vegeta's open-loop attack on url; returns the process (results in out_path). With
    seconds None it runs until SIGINT."""
    duration = "0" if seconds is None else f"{seconds}s"
    proc = subprocess.Popen(
        [vegeta, "attack", f"-rate={rate}/1s", f"-duration={duration}", "-timeout=10s",
         f"-max-connections={connections}", f"-output={out_path}"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    proc.stdin.write(f"GET {url}\n")
    proc.stdin.close()
    return proc


def read_results(vegeta, path):
    """Latencies (ms, sorted) and failures of a vegeta results file."""
    encoded = subprocess.run([vegeta, "encode", "--to", "csv", path], check=True,
                             capture_output=True, text=True).stdout
    latencies, failures, errors = [], 0, {}
    for row in csv.reader(io.StringIO(encoded)):
        if len(row) < 6:
            continue
        code, latency_ns, error = int(row[1]), int(row[2]), row[5]
        if code != 200 or error:
            # Counted apart: a refused connection (0 ms) or a timeout (10 s) is no latency.
            failures += 1
            key = error or f"HTTP {code}"
            errors[key] = errors.get(key, 0) + 1
        else:
            latencies.append(latency_ns / 1e6)
    latencies.sort()
    return latencies, failures, errors


def run_window(args, restarts, name, argv, threads, work):
    """One window of load, disturbed by argv every --every seconds (none: undisturbed).
    restarts() counts the target's restarts so far. Captures start 1 s into the window and none
    starts in its last second; the load goes on until the last one has ended, so every capture is
    under load and all of its effect is measured."""
    out = os.path.join(work, f"{threads}-{name.replace(' ', '-')}.bin")
    restarts_before = restarts()
    load = attack(args.vegeta, args.url, args.rate, None, threads, out)
    began = time.monotonic()
    disturbance = None
    if argv:
        time.sleep(1.0)
        disturbance = Disturbance(argv, args.every, timeout=max(60.0, args.window))
        disturbance.start()
        time.sleep(max(0.0, args.window - 2.0))
        disturbance.stop()
    time.sleep(max(0.0, args.window - (time.monotonic() - began)))
    load.send_signal(signal.SIGINT)
    stderr = load.stderr.read()
    load.wait()
    seconds = time.monotonic() - began
    if load.returncode != 0:
        raise SystemExit(f"traffic: vegeta failed ({load.returncode}): {stderr.strip()}")
    if disturbance and disturbance.error:
        raise SystemExit(f"traffic: the {name} captures could not run: {disturbance.error}")
    latencies, failures, errors = read_results(args.vegeta, out)
    os.unlink(out)
    return {"threads": threads, "method": name, "seconds": seconds, "latencies": latencies,
            "failures": failures, "errors": errors, "restarts": restarts() - restarts_before,
            "runs": disturbance.runs if disturbance else []}


def summarize(windows):
    """One row from the windows of one method at one thread count: their latencies pooled."""
    latencies = sorted(v for w in windows for v in w["latencies"])
    runs = [r for w in windows for r in w["runs"]]
    errors = {}
    for w in windows:
        for key, count in w["errors"].items():
            errors[key] = errors.get(key, 0) + count
    failures = sum(w["failures"] for w in windows)
    return {
        "threads": windows[0]["threads"], "method": windows[0]["method"],
        "windows": len(windows), "seconds": sum(w["seconds"] for w in windows),
        "requests": len(latencies) + failures, "failures": failures, "errors": errors,
        "restarts": sum(w["restarts"] for w in windows),
        "p50_ms": percentile(latencies, 0.50), "p99_ms": percentile(latencies, 0.99),
        "p999_ms": percentile(latencies, 0.999), "max_ms": latencies[-1] if latencies else None,
        # Each window's own p99: their spread in the undisturbed row is the machine's noise.
        "p99_windows_ms": [percentile(w["latencies"], 0.99) for w in windows],
        "captures": len(runs), "captures_failed": sum(1 for r in runs if r[2] != 0),
        "capture_wall_s": sorted(r[0] for r in runs)[len(runs) // 2] if runs else None,
        "capture_cpu_s": sorted(r[1] for r in runs)[len(runs) // 2] if runs else None,
    }


def run_rounds(args, restarts, methods, threads, work, alive=lambda: True):
    """--rounds rounds of one window per method, interleaved (so that a drift of the machine
    touches every method alike); one row per method, its windows pooled."""
    windows = {name: [] for name in methods}
    for _ in range(args.rounds):
        for name, argv in methods.items():
            if not alive():
                print(f"traffic: the target died before the {name} window; the level stops")
                return [summarize(w) for w in windows.values() if w]
            windows[name].append(run_window(args, restarts, name, argv, threads, work))
    return [summarize(w) for w in windows.values() if w]


def fmt(value, spec):
    return "-" if value is None else format(value, spec)


def print_level(rows):
    if not rows:
        return
    base = next((r for r in rows if r["method"] == "undisturbed"), None)
    if base is None:
        print("traffic: no undisturbed window at this level: no ratios")
        base = {"p99_ms": None, "p999_ms": None}
    print(f"{'method':<24} {'s':>4} {'requests':>8} {'failed':>6} {'restarts':>8} {'p50 ms':>7} "
          f"{'p99 ms':>7} {'p99.9 ms':>8} {'max ms':>7} {'p99 x':>6} {'p99.9 +ms':>9} "
          f"{'captures':>8} {'wall s':>6} {'cpu s':>6}  p99 per window")
    for r in rows:
        ratio = r["p99_ms"] / base["p99_ms"] if r["p99_ms"] and base["p99_ms"] else None
        delta = r["p999_ms"] - base["p999_ms"] if r["p999_ms"] and base["p999_ms"] else None
        r["p99_ratio"], r["p999_delta_ms"] = ratio, delta
        captures = "-" if not r["captures"] else (
            f"{r['captures']}" + (f" ({r['captures_failed']} failed)" if r["captures_failed"] else ""))
        print(f"{r['method']:<24} {r['seconds']:>4.0f} {r['requests']:>8} {r['failures']:>6} "
              f"{r['restarts']:>8} "
              f"{fmt(r['p50_ms'], '.2f'):>7} {fmt(r['p99_ms'], '.2f'):>7} "
              f"{fmt(r['p999_ms'], '.2f'):>8} {fmt(r['max_ms'], '.1f'):>7} "
              f"{fmt(ratio, '.2f'):>6} {fmt(delta, '+.2f'):>9} {captures:>8} "
              f"{fmt(r['capture_wall_s'], '.2f'):>6} {fmt(r['capture_cpu_s'], '.3f'):>6}  "
              f"{' / '.join(fmt(v, '.2f') for v in r['p99_windows_ms'])}")
        for error, count in sorted(r["errors"].items(), key=lambda e: -e[1])[:3]:
            print(f"    {count} x {error}")


def print_goals(all_rows, floor=None):
    """Issue #20's goals, each with the figure it is judged on, and the machine's noise: how far
    apart the undisturbed windows' own p99s were; then Ephemera's methods against the alternatives,
    and each method against the --floor row."""
    print("\ngoals (issue #20):")
    for r in all_rows:
        if r["method"] == "undisturbed" and len(r["p99_windows_ms"]) > 1:
            lo, hi = min(r["p99_windows_ms"]), max(r["p99_windows_ms"])
            print(f"  {r['threads']:>4} threads: noise: the undisturbed windows' p99 ranged "
                  f"{lo:.2f}-{hi:.2f} ms ({hi / lo:.2f}x); a ratio within that says nothing")
    for r in all_rows:
        if r["method"] == "undisturbed":
            continue
        ok = r["failures"] == 0 and r["restarts"] == 0
        print(f"  {r['threads']:>4} threads, {r['method']:<24} 0 failed requests and 0 restarts: "
              f"{'met' if ok else 'NOT met'} ({r['failures']} failed, {r['restarts']} restarts)")
    for r in all_rows:
        if r["method"] == "ephemera restricted" and r["p99_ratio"] is not None:
            met = r["p99_ratio"] <= 1.1
            print(f"  {r['threads']:>4} threads, restricted p99 <= 1.1x undisturbed: "
                  f"{'met' if met else 'NOT met'} ({r['p99_ratio']:.2f}x)")
        if r["method"] == "ephemera ptrace" and r["threads"] >= 1000 and r["p99_ratio"] is not None:
            met = r["p99_ratio"] <= 1.5 and r["p999_delta_ms"] <= 5.0
            print(f"  {r['threads']:>4} threads, ptrace stacks p99 <= 1.5x and p99.9 <= +5 ms: "
                  f"{'met' if met else 'NOT met'} ({r['p99_ratio']:.2f}x, "
                  f"{r['p999_delta_ms']:+.2f} ms)")
    # Each of Ephemera's methods against each way a user would otherwise capture the same (the
    # floor is no capture, so it is not one of them).
    for r in all_rows:
        if not r["method"].startswith("ephemera") or not r["p99_ms"]:
            continue
        for alt in all_rows:
            if (alt["threads"] != r["threads"] or alt["method"] in ("undisturbed", floor)
                    or alt["method"].startswith("ephemera") or not alt["p99_ms"]):
                continue
            delta = (r["p999_ms"] - alt["p999_ms"]) if r["p999_ms"] and alt["p999_ms"] else None
            print(f"  {r['threads']:>4} threads, {r['method']:<24} against {alt['method']}: "
                  f"p99 {r['p99_ms'] / alt['p99_ms']:.2f}x, p99.9 {fmt(delta, '+.2f')} ms")
    # The floor: a window whose disturbance is only what every method pays (on the cluster,
    # starting an ephemeral container that captures nothing). Each method against it says how
    # much of its cost is its own.
    floors = {r["threads"]: r for r in all_rows if r["method"] == floor and r["p99_ms"]}
    for r in all_rows:
        base = floors.get(r["threads"])
        if base is None or r["method"] in ("undisturbed", floor) or not r["p99_ms"]:
            continue
        print(f"  {r['threads']:>4} threads, {r['method']:<24} against the floor "
              f"({floor}): p99 {r['p99_ms'] / base['p99_ms']:.2f}x, p99.9 "
              f"{fmt(r['p999_ms'] - base['p999_ms'] if r['p999_ms'] and base['p999_ms'] else None, '+.2f')} ms")


def host_level(args, threads, recipient, work):
    """The rows of one thread count, with ephemera-target run here."""
    target = Target(args.target, threads, args.port, os.path.join(work, "target.log"))
    try:
        pid = str(target.pid)
        tool = [args.snapshot, "--pid", pid, "--host-namespaces", "allow", "--recipient", recipient,
                "--deadline", "20s"]
        methods = {
            "undisturbed": [],
            "ephemera restricted": as_nobody([*tool, "--profile", "restricted"]),
            "ephemera ptrace": [*tool, "--profile", "ptrace"],
            "eu-stack": ["eu-stack", "-p", pid] if shutil.which("eu-stack") else None,
            "gdb": ["gdb", "-nx", "-batch", "-p", pid, "-ex", "thread apply all bt"]
            if shutil.which("gdb") else None,
        }
        wanted = args.methods.split(",")
        unknown = [m for m in wanted if m not in methods]
        if unknown:
            sys.exit(f"traffic: unknown method {unknown[0]!r}; known: {', '.join(methods)}")
        print(f"\n== {threads} threads on this host (target pid {pid}, load average {load()})")
        warm_up(args, threads)
        chosen = {}
        for name in wanted:
            if methods[name] is None:
                print(f"MISSING {name}: its row is skipped (install it with 'make deps')")
            else:
                chosen[name] = methods[name]
        return run_rounds(args, lambda: 0 if target.alive() else 1, chosen, threads, work,
                          alive=target.alive)
    finally:
        target.stop()


def remote_level(args, threads, work):
    """The rows of one target reached at --url, disturbed by the --disturb commands."""
    def restarts():
        if not args.restarts_cmd:
            return 0
        out = subprocess.run(["bash", "-c", args.restarts_cmd], capture_output=True, text=True)
        try:
            return int(out.stdout.strip())
        except ValueError:
            sys.exit(f"traffic: --restarts-cmd printed {out.stdout.strip()!r}, not a count "
                     f"({out.stderr.strip()})")
    print(f"\n== {threads} threads at {args.url} (load average {load()})")
    warm_up(args, threads)
    methods = {}
    for spec in args.disturb:
        name, _, command = spec.partition("=")
        methods[name] = ["bash", "-c", command] if command.strip() else []
    return run_rounds(args, restarts, methods, threads, work)


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def warm_up(args, threads):
    """Connections open, pages faulted in, caches filled."""
    warm = attack(args.vegeta, args.url, args.rate, WARMUP_SECONDS, threads, os.devnull)
    warm.stderr.read()
    warm.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", help="ephemera-target, run here as nobody")
    parser.add_argument("--snapshot", help="ephemera-snapshot (with --target)")
    parser.add_argument("--vegeta", required=True)
    parser.add_argument("--threads", default="10,100,1000")
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--window", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--every", type=float, default=1.0)
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--methods", default="undisturbed,ephemera restricted,ephemera ptrace,"
                                             "eu-stack,gdb")
    parser.add_argument("--url", help="a target run elsewhere (instead of --target)")
    parser.add_argument("--disturb", action="append", default=[],
                        help="with --url: NAME=SHELL COMMAND, one window each, in order")
    parser.add_argument("--restarts-cmd", help="with --url: prints the target's restart count")
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument("--floor", help="the method whose cost every other one pays too (each "
                                        "row is then also compared with it)")
    args = parser.parse_args()
    if bool(args.target) == bool(args.url):
        sys.exit("traffic: give either --target (with --snapshot) or --url (with --disturb)")
    if args.target and (not args.snapshot or os.geteuid() != 0):
        sys.exit("traffic: --target needs --snapshot and root: the target runs as nobody and the "
                 "ptrace rows attach to it")
    if args.url and not args.disturb:
        sys.exit("traffic: --url needs at least one --disturb NAME=COMMAND (the first is the "
                 "baseline: 'undisturbed=')")
    if args.window < 5:
        sys.exit("traffic: --window must be at least 5 seconds")
    if args.target:
        args.url = f"http://127.0.0.1:{args.port}/checkout"
    work = tempfile.mkdtemp(prefix="ephemera-traffic-")
    os.chmod(work, 0o755)
    # Enough file descriptors for vegeta's connections.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    print(f"traffic: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, {os.cpu_count()} "
          f"CPUs, load average {load()}; {args.rate} req/s, {args.rounds} rounds of a "
          f"{args.window:.0f} s window per method (interleaved, pooled), a capture every "
          f"{args.every} s")
    all_rows = []
    try:
        recipient = None
        if args.target:
            keygen = subprocess.run(["age-keygen"], check=True, capture_output=True,
                                    text=True).stdout
            recipient = next(line.split(": ", 1)[1] for line in keygen.splitlines()
                             if line.startswith("# public key: "))
        for threads in (int(t) for t in args.threads.split(",")):
            rows = (host_level(args, threads, recipient, work) if args.target
                    else remote_level(args, threads, work))
            print_level(rows)
            all_rows.extend(rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_goals(all_rows, args.floor)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(all_rows, f, indent=1)


if __name__ == "__main__":
    main()
