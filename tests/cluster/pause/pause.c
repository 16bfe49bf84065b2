// The pod sandbox's placeholder process: holds the pod's namespaces, reaps orphans, exits on a
// signal.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void OnTerminate(int signo) {
  (void)signo;
  _exit(0);
}

static void OnChild(int signo) {
  (void)signo;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(int argc, char** argv) {
  if (argc > 1 && argv[1][0] == '-' && argv[1][1] == 'v') {
    printf("ephemera-pause 1.0\n");
    return 0;
  }
  struct sigaction term = {.sa_handler = OnTerminate};
  struct sigaction child = {.sa_handler = OnChild, .sa_flags = SA_NOCLDSTOP};
  if (sigaction(SIGINT, &term, NULL) < 0 || sigaction(SIGTERM, &term, NULL) < 0 ||
      sigaction(SIGCHLD, &child, NULL) < 0) {
    perror("ephemera-pause: sigaction");
    return 1;
  }
  for (;;) pause();
}
