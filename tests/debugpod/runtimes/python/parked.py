"""Parks threads in known places for the Python stack reader's tests (stdlib only, 3.9+).

Threads: one sleeping in time.sleep under three nested functions whose names are non-ASCII
(Latin-1, BMP and astral characters, to exercise each compact str kind), one blocked acquiring a
threading.Lock, one in queue.Queue.get, WORKERS identical workers blocked on one Lock, a monitor
that prints "ready" once every thread (the main one included) is parked, and the main thread
waiting on an Event. Each line a test looks for ends in "# marker: <name>". SIGUSR1 makes the
main thread time faulthandler.dump_traceback(all_threads=True) (the baseline the benchmark
compares against) and print "faulthandler <runs> <process CPU ns>". Runs until killed.
"""

import faulthandler
import os
import queue
import signal
import sys
import threading
import time

WORKERS = 20

held = threading.Lock()
held.acquire()
work = threading.Lock()
work.acquire()
jobs = queue.Queue()
stop = threading.Event()


class Parker:
    def sleep_here(self):
        time.sleep(3600)  # marker: sleep


def inner_𠀀():
    Parker().sleep_here()  # marker: inner


def middle_λ():
    inner_𠀀()  # marker: middle


def sleeper_café():
    middle_λ()  # marker: outer


def lock_waiter():
    held.acquire()  # marker: lock


def queue_getter():
    jobs.get()  # marker: queue


def wait_for_work():
    work.acquire()  # marker: worker


def worker():
    wait_for_work()  # marker: worker-outer


def parked_at(frame, name):
    """Whether `frame` (a thread's innermost frame) or a caller is at the marker `name`."""
    while frame is not None:
        if frame.f_code.co_filename == __file__ and frame.f_lineno == MARKERS[name]:
            return True
        frame = frame.f_back
    return False


def monitor(expected):
    """Prints "ready" once each thread is in its blocking call, then parks."""
    while True:
        frames = sys._current_frames()
        if all(ident in frames and parked_at(frames[ident], name) for ident, name in expected):
            # The innermost frames must also be the blocking calls, not the lines before them.
            break
        time.sleep(0.01)
    print("ready", flush=True)
    stop.wait()  # marker: monitor


def dump_tracebacks(signum, frame):
    runs = 100
    with open(os.devnull, "w") as sink:
        start = time.process_time_ns()
        for _ in range(runs):
            faulthandler.dump_traceback(file=sink, all_threads=True)
        spent = time.process_time_ns() - start
    print("faulthandler", runs, spent, flush=True)


def read_markers():
    markers = {}
    with open(__file__, encoding="utf-8") as source:
        for number, line in enumerate(source, start=1):
            if "# marker: " in line and not line.lstrip().startswith('"'):
                markers[line.rsplit("# marker: ", 1)[1].strip()] = number
    return markers


MARKERS = read_markers()


def main():
    signal.signal(signal.SIGUSR1, dump_tracebacks)
    expected = []
    for target, marker in [(sleeper_café, "sleep"), (lock_waiter, "lock"), (queue_getter, "queue")]:
        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        expected.append((thread.ident, marker))
    for _ in range(WORKERS):
        thread = threading.Thread(target=worker, daemon=True)
        thread.start()
        expected.append((thread.ident, "worker"))
    expected.append((threading.main_thread().ident, "main-wait"))
    threading.Thread(target=monitor, args=(expected,), daemon=True).start()
    while not stop.is_set():
        stop.wait()  # marker: main-wait


if __name__ == "__main__":
    main()
