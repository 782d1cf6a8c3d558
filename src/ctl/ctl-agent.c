/* Running pkttyagent (see ctl-agent.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl/ctl-agent.h"

#define AGENT_BINARY "pkttyagent"
/* pkttyagent writes to the notify pipe once registered; a polkit that
 * does not answer must not hold the call forever. */
#define AGENT_REGISTER_TIMEOUT_MS 10000

static _Noreturn void exec_agent(int notify_fd) {
        char fd_text[16], pid_text[16];

        snprintf(fd_text, sizeof fd_text, "%d", notify_fd);
        snprintf(pid_text, sizeof pid_text, "%d", (int) getppid());
        execlp(AGENT_BINARY, AGENT_BINARY, "--notify-fd", fd_text, "--fallback", "--process", pid_text,
               (char *) NULL);
        _exit(127);     /* not installed: the parent sees the pipe close */
}

/* Whether the agent wrote to the pipe (registered) before closing it. */
static bool wait_registered(int fd) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        char c;
        int r;

        do
                r = poll(&p, 1, AGENT_REGISTER_TIMEOUT_MS);
        while (r < 0 && errno == EINTR);
        return r > 0 && read(fd, &c, 1) == 1;
}

bool ctl_agent_terminal(void) {
        int fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);

        if (fd < 0)
                return false;
        close(fd);
        return true;
}

pid_t ctl_agent_open(void) {
        int fds[2];
        pid_t pid;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return 0;
        pid = fork();
        if (pid == 0) {
                close(fds[0]);
                /* The notify end stays open across exec. */
                if (fcntl(fds[1], F_SETFD, 0) < 0)
                        _exit(127);
                exec_agent(fds[1]);
        }
        close(fds[1]);
        bool registered = pid > 0 && wait_registered(fds[0]);
        close(fds[0]);
        if (pid > 0 && !registered) {
                ctl_agent_close(pid);
                return 0;
        }
        return pid > 0 ? pid : 0;
}

void ctl_agent_close(pid_t pid) {
        if (pid <= 0)
                return;
        (void) kill(pid, SIGTERM);
        (void) kill(pid, SIGCONT);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}
