#!/usr/bin/env python3
"""Timing helper for bench/session_latency.sh.

Times are taken on this host with time.time() as events arrive on a `kubectl get -w
--output-watch-events -o json` stream (not from the API's one-second timestamps, not by polling).

  session_latency.py sessions KUBECTL ADMIN_KUBECONFIG ALICE_KUBECONFIG NAMESPACE SELECTOR FILE COUNT
      TIMEOUT OUT [POD_SELECTOR CONTAINERD_SOCKET]
    Watches DebugSessions matching SELECTOR, then creates FILE (a multi-document YAML) as alice with one
    `kubectl create -f`. start = just before that call; for each session, the time each phase was
    first seen, and its snapshot container's name. Writes {"start": t0, "sessions": {name: {phase:
    seconds after start, "container": name}}} to OUT.
    With POD_SELECTOR, also the time each ephemeral container of those pods was first seen running
    and terminated through a pod watch ("containers": {name: {state: seconds, "id": container id}}); with
    CONTAINERD_SOCKET, the time containerd announced each task's start and exit (`$CTR events`,
    "tasks": {container id: {"start"|"exit": seconds}}): the moment the tool's process ended, to
    the millisecond, which the kubelet reports only at its next relist.

  session_latency.py debug KUBECTL ADMIN_KUBECONFIG NAMESPACE SELECTOR JOBS TIMEOUT OUT
    The kubectl-debug baseline. JOBS is a JSON file: [{"pod", "container", "argv"}] where argv is the
    whole `kubectl debug` command line after the kubectl binary. Watches the pods matching SELECTOR,
    starts every `kubectl debug` at once (start = just before each), and when a container's
    ephemeralContainerStatuses first shows it terminated, runs `kubectl logs` of it; end = when that
    returns. Writes {name: {"latency", "exitCode", "logBytes", "terminatedSeen"}} to OUT.

  session_latency.py stats FILE...
    Prints "n p50 p90 p99" (seconds, nearest rank) of the numbers in each FILE (one per line).
"""

import json
import math
import os
import selectors
import subprocess
import sys
import time

TERMINAL_PHASES = ("Completed", "Failed", "Denied", "Expired")


class WatchStream:
    """A `kubectl get -w --output-watch-events -o json` process, decoded as events arrive."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buffer = ""
        self.decoder = json.JSONDecoder()

    def fileobj(self):
        return self.proc.stdout

    def read_events(self):
        """Events completed by the bytes available now, with their arrival time."""
        arrived = time.time()
        chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
        if not chunk:
            return None
        self.buffer += chunk.decode("utf-8", errors="replace")
        events = []
        while True:
            text = self.buffer.lstrip()
            if not text:
                self.buffer = ""
                break
            try:
                event, end = self.decoder.raw_decode(text)
            except json.JSONDecodeError:
                self.buffer = text
                break
            events.append((arrived, event))
            self.buffer = text[end:]
        return events

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def kubectl_argv(kubectl, kubeconfig, *args):
    return [kubectl, "--kubeconfig", kubeconfig, *args]


def watch_argv(kubectl, kubeconfig, namespace, resource, selector):
    return kubectl_argv(kubectl, kubeconfig, "-n", namespace, "get", resource, "-l", selector,
                        "-w", "--output-watch-events", "-o", "json")


class TaskEvents:
    """`ctr events` of containerd's k8s.io namespace: task start and exit lines as they arrive."""

    def __init__(self, socket):
        self.proc = subprocess.Popen([os.environ.get("CTR", "ctr"), "--address", socket, "events"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buffer = b""

    def fileobj(self):
        return self.proc.stdout

    def read_tasks(self):
        """(arrival time, "start" or "exit", container id) for each whole line available now."""
        arrived = time.time()
        chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
        if not chunk:
            return None
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        found = []
        for line in lines:
            text = line.decode("utf-8", errors="replace")
            kind = "start" if "/tasks/start" in text else "exit" if "/tasks/exit" in text else None
            if kind is None or "{" not in text:
                continue
            try:
                body = json.loads(text[text.index("{"):])
            except json.JSONDecodeError:
                continue
            if body.get("container_id") and body.get("id", body["container_id"]) == body["container_id"]:
                found.append((arrived, kind, body["container_id"]))
        return found

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def ephemeral_states(pod):
    """{container name: (state, container id)} of a pod's running or terminated ephemeral containers."""
    states = {}
    for status in pod.get("status", {}).get("ephemeralContainerStatuses", []):
        for state in ("running", "terminated"):
            if state in status.get("state", {}):
                states[status.get("name")] = (state, status.get("containerID", "").split("://")[-1])
    return states


def time_sessions(args):
    kubectl, admin, alice, namespace, selector, manifest, count, timeout, out = args[:9]
    pod_selector, socket = (args[9:] + ["", ""])[:2]
    count, timeout = int(count), float(timeout)
    watch = WatchStream(watch_argv(kubectl, admin, namespace, "debugsessions", selector))
    sel = selectors.DefaultSelector()
    sel.register(watch.fileobj(), selectors.EVENT_READ)
    pods = tasks = None
    if pod_selector:
        pods = WatchStream(watch_argv(kubectl, admin, namespace, "pods", pod_selector))
        sel.register(pods.fileobj(), selectors.EVENT_READ, "pods")
    if socket:
        tasks = TaskEvents(socket)
        sel.register(tasks.fileobj(), selectors.EVENT_READ, "tasks")
    containers, task_times = {}, {}
    # The watch lists, then watches from that list's resourceVersion: nothing created after the list
    # can be missed. The pause only lets the list happen before the clock starts.
    time.sleep(1.5)
    start = time.time()
    create = subprocess.Popen(kubectl_argv(kubectl, alice, "create", "-f", manifest),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen = {}
    done = set()
    deadline = start + timeout
    while len(done) < count and time.time() < deadline:
        if create.poll() is not None and create.returncode != 0:
            sys.stderr.write(create.stderr.read().decode(errors="replace"))
            watch.stop()
            sys.exit("kubectl create failed")
        ready = sel.select(timeout=0.05)
        if not ready:
            continue
        for key, _ in ready:
            if key.data == "pods":
                for arrived, event in pods.read_events() or []:
                    if event.get("type") != "MODIFIED":
                        continue  # the list: containers of earlier rounds
                    for name, (state, cid) in ephemeral_states(event.get("object", {})).items():
                        entry = containers.setdefault(name, {})
                        entry.setdefault(state, round(arrived - start, 6))
                        if cid:
                            entry["id"] = cid
            elif key.data == "tasks":
                for arrived, kind, container_id in tasks.read_tasks() or []:
                    task_times.setdefault(container_id, {}).setdefault(kind, round(arrived - start, 6))
        if not any(key.data is None for key, _ in ready):
            continue
        events = watch.read_events()
        if events is None:
            break
        for arrived, event in events:
            obj = event.get("object", {})
            name = obj.get("metadata", {}).get("name")
            phase = obj.get("status", {}).get("phase")
            if not name or not phase:
                continue
            phases = seen.setdefault(name, {})
            phases.setdefault(phase, round(arrived - start, 6))
            container = obj.get("status", {}).get("ephemeralContainer")
            if container:
                phases["container"] = container
            if phase in TERMINAL_PHASES:
                done.add(name)
    watch.stop()
    for stream in (pods, tasks):
        if stream is not None:
            stream.stop()
    create.wait()
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"start": start, "sessions": seen, "containers": containers, "tasks": task_times},
                  f, indent=1)
    if len(done) < count:
        sys.exit(f"only {len(done)} of {count} sessions ended within {timeout:.0f}s")


def time_kubectl_debug(args):
    kubectl, admin, namespace, selector, jobs_file, timeout, out = args
    timeout = float(timeout)
    with open(jobs_file, encoding="utf-8") as f:
        jobs = json.load(f)
    by_container = {job["container"]: job for job in jobs}
    watch = WatchStream(watch_argv(kubectl, admin, namespace, "pods", selector))
    time.sleep(1.5)
    sel = selectors.DefaultSelector()
    sel.register(watch.fileobj(), selectors.EVENT_READ)
    starts, debugs, logs, log_files, results = {}, {}, {}, {}, {}
    for job in jobs:
        starts[job["container"]] = time.time()
        debugs[job["container"]] = subprocess.Popen([kubectl, *job["argv"]],
                                                    stdout=subprocess.DEVNULL,
                                                    stderr=subprocess.PIPE)
    deadline = time.time() + timeout

    def finished():
        return sum(1 for r in results.values() if "latency" in r)

    while finished() < len(jobs) and time.time() < deadline:
        for name, proc in list(debugs.items()):
            if proc.poll() is not None:
                if proc.returncode != 0:
                    sys.stderr.write(proc.stderr.read().decode(errors="replace"))
                    results[name] = {"latency": None, "error": "kubectl debug failed"}
                del debugs[name]
        for name, proc in list(logs.items()):
            if proc.poll() is not None:
                results[name]["latency"] = round(time.time() - starts[name], 6)
                log_files.pop(name).close()
                results[name]["logBytes"] = os.path.getsize(f"{out}.{name}.log")
                del logs[name]
        if not sel.select(timeout=0.02):
            continue
        events = watch.read_events()
        if events is None:
            break
        for arrived, event in events:
            pod = event.get("object", {})
            for status in pod.get("status", {}).get("ephemeralContainerStatuses", []) or []:
                name = status.get("name")
                terminated = status.get("state", {}).get("terminated")
                if name not in by_container or not terminated or name in results:
                    continue
                results[name] = {"terminatedSeen": round(arrived - starts[name], 6),
                                 "exitCode": terminated.get("exitCode")}
                # To a file, not a pipe: a pipe left unread would block a large log.
                log_files[name] = open(f"{out}.{name}.log", "wb")
                logs[name] = subprocess.Popen(
                    kubectl_argv(kubectl, admin, "-n", namespace, "logs",
                                 by_container[name]["pod"], "-c", name),
                    stdout=log_files[name], stderr=subprocess.DEVNULL)
    watch.stop()
    with open(out, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
    if finished() < len(jobs):
        sys.exit(f"only {finished()} of {len(jobs)} kubectl debug captures ended within {timeout:.0f}s")


def nearest_rank(sorted_values, fraction):
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def print_stats(files):
    for path in files:
        with open(path, encoding="utf-8") as f:
            values = sorted(float(line) for line in f if line.strip())
        if not values:
            print("0 - - -")
            continue
        print(len(values), *(f"{nearest_rank(values, q):.2f}" for q in (0.5, 0.9, 0.99)))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "sessions" and len(rest) in (9, 11):
        time_sessions(rest)
    elif command == "debug" and len(rest) == 7:
        time_kubectl_debug(rest)
    elif command == "stats" and rest:
        print_stats(rest)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
