#!/usr/bin/env python3
"""How soon a session completes after the kubelet reports its snapshot container's end.

    capture_end.py KUBECTL KUBECONFIG NAMESPACE POD OUT.json NAME=MANIFEST...

Watches the pod and the namespace's DebugSessions (one `kubectl get -w` each, every event
timestamped as it arrives), applies each manifest in turn (the DebugSession NAME) and waits up to
90 s for it to end. For each session, OUT.json gets: the first moment the pod's watch showed the
session's ephemeral container terminated, the first moment the session's watch showed Completed,
and the difference in seconds. Both moments are seen the same way (an API server watch), so the
difference is the controller's reaction: its pod event, the collection and the status write.
Exits 1 when a session did not complete.
"""
import json
import subprocess
import sys
import threading
import time


class Watch:
    """One `kubectl get -w -o json` stream; each object is kept with its arrival time."""

    def __init__(self, argv):
        self.events = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        decoder = json.JSONDecoder()
        buffer = ""
        for raw in iter(lambda: self.proc.stdout.readline(), b""):
            buffer += raw.decode("utf-8", "replace")
            while buffer.strip():
                try:
                    obj, end = decoder.raw_decode(buffer.lstrip())
                except ValueError:
                    break  # an object split over lines: read on
                buffer = buffer.lstrip()[end:]
                with self.cond:
                    self.events.append((time.monotonic(), obj))
                    self.cond.notify_all()

    def wait_for(self, predicate, timeout):
        """The arrival time of the first event for which predicate(object) holds, or None."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for at, obj in self.events:
                    if predicate(obj):
                        return at
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.cond.wait(remaining)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def main():
    kubectl, kubeconfig, namespace, pod, out_path, *runs = sys.argv[1:]
    base = [kubectl, "--kubeconfig", kubeconfig, "-n", namespace]
    pods = Watch(base + ["get", "pod", pod, "-w", "-o", "json"])
    sessions = Watch(base + ["get", "debugsessions", "-w", "-o", "json"])
    time.sleep(1)  # both watches established
    results = {}
    failed = False
    try:
        for run in runs:
            name, manifest = run.split("=", 1)
            with open(manifest, encoding="utf-8") as f:
                subprocess.run(base + ["apply", "-f", "-"], stdin=f, check=True,
                               stdout=subprocess.DEVNULL)

            def session_is(phases, obj, name=name):
                return (obj.get("metadata", {}).get("name") == name and
                        obj.get("status", {}).get("phase") in phases)

            ended = sessions.wait_for(
                lambda o: session_is({"Completed", "Failed", "Denied", "Expired"}, o), 90)
            completed = sessions.wait_for(lambda o: session_is({"Completed"}, o), 0)
            container = ""
            for _, obj in sessions.events:
                if obj.get("metadata", {}).get("name") == name:
                    container = obj.get("status", {}).get("ephemeralContainer") or container

            def terminated(obj):
                for status in obj.get("status", {}).get("ephemeralContainerStatuses", []):
                    if status.get("name") == container and "terminated" in status.get("state", {}):
                        return True
                return False

            seen_end = pods.wait_for(terminated, 5) if container else None
            entry = {"container": container, "ended": ended is not None,
                     "completed": completed is not None, "terminatedSeen": seen_end is not None}
            if completed is not None and seen_end is not None:
                entry["seconds"] = round(completed - seen_end, 3)
            else:
                failed = True
            results[name] = entry
            print(f"capture-end: {name}: {entry}", flush=True)
    finally:
        pods.stop()
        sessions.stop()
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump(results, out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
