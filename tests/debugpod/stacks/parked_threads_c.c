/* parked-threads-c: the C counterpart of parked_threads.cc for stack-capture tests. Threads "alpha"
 * (blocked in read on a pipe in parked_in_alpha) and "beta" (in pthread_cond_wait in
 * parked_in_beta); prints "ready <pid>", answers "p" with "pong" and exits 0 on "q" after joining
 * both threads. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int alpha_pipe[2];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stopping = 0;
static int started = 0;

__attribute__((noinline, noclone)) static void parked_in_alpha(int fd) {
  char c = 0;
  pthread_mutex_lock(&mu);
  started++;
  pthread_mutex_unlock(&mu);
  while (read(fd, &c, 1) < 0 && errno == EINTR) {
  }
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline, noclone)) static void parked_in_beta(void) {
  pthread_mutex_lock(&mu);
  started++;
  while (!stopping) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  __asm__ volatile("" ::: "memory");
}

static void* alpha_main(void* arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "alpha");
  parked_in_alpha(alpha_pipe[0]);
  return NULL;
}

static void* beta_main(void* arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "beta");
  parked_in_beta();
  return NULL;
}

int main(void) {
  pthread_t alpha, beta;
  char line[64];
  if (pipe(alpha_pipe) != 0) return 1;
  pthread_create(&alpha, NULL, alpha_main, NULL);
  pthread_create(&beta, NULL, beta_main, NULL);
  for (;;) {
    pthread_mutex_lock(&mu);
    int n = started;
    pthread_mutex_unlock(&mu);
    if (n == 2) break;
    usleep(1000);
  }
  usleep(20000);
  printf("ready %d\n", (int)getpid());
  fflush(stdout);
  while (fgets(line, sizeof line, stdin)) {
    if (strcmp(line, "p\n") == 0) {
      printf("pong 0\n");
      fflush(stdout);
    } else if (strcmp(line, "q\n") == 0) {
      break;
    }
  }
  pthread_mutex_lock(&mu);
  stopping = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  if (write(alpha_pipe[1], "x", 1) != 1) return 1;
  pthread_join(alpha, NULL);
  pthread_join(beta, NULL);
  printf("bye\n");
  return 0;
}
