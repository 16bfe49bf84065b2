#!/usr/bin/env python3
"""Component test: the ephemera-snapshot binary, as a pod's restricted profile runs it (the target's
user, no capabilities, its own sandbox), reads the language stacks of real Go, Python and Java
programs on this host: the language readers' test programs (tests/debugpod/runtimes/*), each run
as user 65534 with its stdin kept open. Checks each process's `runtime` object
(docs/snapshot-format.md) and that the target was not stopped (Go, Python).

  runtime_stacks_tool_test.py BUILD_DIR     (as root: it switches users with setpriv)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(sys.argv[1])
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TOOL = os.path.join(BUILD, "debugpod/snapshot/ephemera-snapshot")
USER = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
JAVA = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"

failures = []


def start(argv):
    p = subprocess.Popen(USER + argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        if line.strip() == b"ready":
            return p
    p.kill()
    sys.exit("runtime-stacks-tool: %s did not print ready" % argv)


def snapshot(pid):
    run = subprocess.run(USER + [TOOL, "--pid", str(pid), "--capture", "stacks", "--profile",
                                 "restricted", "--format", "json", "--host-namespaces", "allow"],
                         capture_output=True, timeout=60)
    if run.returncode != 0:
        sys.exit("runtime-stacks-tool: the tool exited %d: %s" % (run.returncode, run.stderr[-500:]))
    return json.loads(run.stdout)


def check(name, condition, detail):
    print("%s %s" % ("PASS" if condition else "FAIL", name))
    if not condition:
        print("    " + str(detail)[:1500])
        failures.append(name)


def functions(group):
    return [f.get("function", "") for f in group.get("frames", [])]


def read(language, argv, expect_function, expect_count, stopped_ok=False):
    p = start(argv)
    try:
        doc = snapshot(p.pid)
    finally:
        p.kill()
        p.wait(10)
    runtime = doc["processes"][0].get("runtime")
    check("%s: a runtime object in the restricted profile" % language,
          isinstance(runtime, dict) and runtime.get("language") == language, doc.get("degraded"))
    if not isinstance(runtime, dict):
        return
    groups = [g for g in runtime.get("groups", [])
              if any(expect_function in f for f in functions(g)) and g.get("count", 0) >= expect_count]
    check("%s: %d or more stacks grouped at %s" % (language, expect_count, expect_function), groups,
          [(g.get("count"), g.get("state"), functions(g)[:4]) for g in runtime.get("groups", [])])
    if not stopped_ok:
        check("%s: the target was not stopped" % language, runtime.get("freezeMicros") == 0,
              runtime.get("freezeMicros"))
    reasons = [d.get("reason", "") for d in doc.get("degraded", [])]
    check("%s: no reader error in degraded" % language,
          not any(r.startswith(("go:", "python:", "jvm:", "java:")) for r in reasons), reasons)


def main():
    global TOOL
    if os.geteuid() != 0:
        sys.exit("runtime-stacks-tool: needs root (it runs the targets and the tool as user 65534)")
    # User 65534 may not reach the checkout (a private parent folder): the programs and the tool
    # run from a copy it can read.
    copy = tempfile.mkdtemp(prefix="runtime-stacks-tool-")
    try:
        os.chmod(copy, 0o755)
        TOOL = shutil.copy(TOOL, copy)
        go = shutil.copy(os.path.join(BUILD, "tests/debugpod/runtimes/golang/go-parked-stripped"), copy)
        py = shutil.copy(os.path.join(REPO, "tests/debugpod/runtimes/python/parked.py"), copy)
        classes = shutil.copytree(os.path.join(BUILD, "tests/debugpod/runtimes/jvm/parked_classes"),
                                  os.path.join(copy, "classes"))
        read("go", [go], "main.receiveWork", 100)
        read("python", ["/usr/bin/python3", py], "wait_for_work", 20)
        read("java", [JAVA, "-cp", classes, "Parked"], "Parked.worker", 20, stopped_ok=True)
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    print("%d failed" % len(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
