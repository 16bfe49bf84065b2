// The JVM the jvm reader's component test dumps: threads with known names parked in known places.
// Each blocking call's line carries a marker comment; the test finds the line numbers by grepping
// this file for the markers (a synchronized block stays on one line: the JVM may give its
// monitorenter the line of the block's body). Prints "ready" once every thread is where it should
// be, then blocks until stdin closes.
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.ReentrantLock;

public final class Parked {
  private static final Object waitMonitor = new Object();
  private static final Object lockA = new Object();
  private static final Object lockB = new Object();
  private static final ReentrantLock reentrantLock = new ReentrantLock();
  private static final int WORKERS = 20;

  static void waitForever() throws InterruptedException {
    synchronized (waitMonitor) {
      while (true) {
        waitMonitor.wait(); // MARKER:object-wait
      }
    }
  }

  static void sleepForever() throws InterruptedException {
    while (true) {
      Thread.sleep(3_600_000); // MARKER:sleep
    }
  }

  static void lockForever() {
    reentrantLock.lock(); // MARKER:reentrant-lock
  }

  static void worker(CountDownLatch started) throws InterruptedException {
    started.countDown();
    while (true) {
      Thread.sleep(3_600_000); // MARKER:worker
    }
  }

  static void deadlockA(CountDownLatch bothHold) throws InterruptedException {
    synchronized (lockA) {
      bothHold.countDown();
      bothHold.await();
      synchronized (lockB) { System.out.println("unreachable"); } // MARKER:deadlock-a
    }
  }

  static void deadlockB(CountDownLatch bothHold) throws InterruptedException {
    synchronized (lockB) {
      bothHold.countDown();
      bothHold.await();
      synchronized (lockA) { System.out.println("unreachable"); } // MARKER:deadlock-b
    }
  }

  interface Body {
    void run() throws InterruptedException;
  }

  static Thread start(String name, Body body) {
    Thread t = new Thread(() -> {
      try {
        body.run();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  static void awaitState(Thread t, Thread.State state) throws InterruptedException {
    while (t.getState() != state) Thread.sleep(5);
  }

  public static void main(String[] args) throws Exception {
    reentrantLock.lock();
    Thread waiter = start("parked-object-wait", Parked::waitForever);
    Thread sleeper = start("parked-sleep", Parked::sleepForever);
    Thread locker = start("parked-reentrant-lock", Parked::lockForever);
    CountDownLatch bothHold = new CountDownLatch(2);
    Thread a = start("deadlock-a", () -> deadlockA(bothHold));
    Thread b = start("deadlock-b", () -> deadlockB(bothHold));
    CountDownLatch started = new CountDownLatch(WORKERS);
    Thread[] workers = new Thread[WORKERS];
    for (int i = 0; i < WORKERS; ++i) {
      workers[i] = start("worker-" + i, () -> worker(started));
    }
    started.await();
    awaitState(waiter, Thread.State.WAITING);
    awaitState(sleeper, Thread.State.TIMED_WAITING);
    awaitState(locker, Thread.State.WAITING);
    awaitState(a, Thread.State.BLOCKED);
    awaitState(b, Thread.State.BLOCKED);
    for (Thread w : workers) awaitState(w, Thread.State.TIMED_WAITING);
    System.out.println("ready");
    System.out.flush();
    while (System.in.read() >= 0) {
      // blocks until the test closes stdin
    }
  }
}
