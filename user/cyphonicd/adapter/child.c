// SPDX-License-Identifier: MIT
/*
 * A helper program the adapter runs and supervises (dnsmasq, hostapd):
 * it runs in the foreground as our child; a pidfd on the loop says when
 * it exits, and it is started again after a backoff (1 s doubling to
 * 30 s, reset once it has run for a minute). Stopping sends SIGTERM and
 * reaps it. The owner's started() hook runs after every start, so state
 * that lives in the child (hostapd's control interface) is picked up
 * again after a restart.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "runtime/evloop.h"
#include "internal.h"

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000
#define STABLE_MS 60000

static void on_exit_fd(struct cyph_loop *loop, int fd, uint32_t events, void *arg);

static void spawn(struct cyd_child *c)
{
	pid_t pid = fork();

	if (pid < 0) {
		log_err("[adapter] %s: fork: %s", c->what, strerror(errno));
		return;
	}
	if (pid == 0) {
		sigset_t none;

		/* the loop blocked signals for its signalfd: undo for the child */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(c->path, c->argv);
		_exit(127);
	}
	c->pid = pid;
	c->started_ms = cyph_now_ms();
	c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (c->pidfd < 0 || cyph_loop_add_fd(c->loop, c->pidfd, EPOLLIN, on_exit_fd, c))
		log_err("[adapter] %s: cannot watch pid %d: %s", c->what, pid, strerror(errno));
	log_info("[adapter] %s started (pid %d, %s)", c->what, pid, c->argv[1]);
	if (c->started)
		c->started(c, c->arg);
}

static void on_restart(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	struct cyd_child *c = arg;

	(void)loop;
	(void)t;
	c->restart = NULL;	/* one-shot */
	spawn(c);
}

/* Stops watching and reaps; the exit status in *status. */
static void reap(struct cyd_child *c, int *status)
{
	*status = 0;
	if (c->pidfd >= 0) {
		cyph_loop_del_fd(c->loop, c->pidfd);
		close(c->pidfd);
	}
	c->pidfd = -1;
	if (c->pid > 0)
		waitpid(c->pid, status, 0);
	c->pid = 0;
}

static void on_exit_fd(struct cyph_loop *loop, int fd, uint32_t events, void *arg)
{
	struct cyd_child *c = arg;
	uint64_t ran = cyph_now_ms() - c->started_ms;
	pid_t pid = c->pid;
	int status;

	(void)loop;
	(void)fd;
	(void)events;
	reap(c, &status);
	if (ran >= STABLE_MS)
		c->backoff_ms = BACKOFF_FIRST_MS;
	c->restarts++;
	log_err("[adapter] %s (pid %d) %s %d: restarting in %llu ms", c->what, pid,
		WIFSIGNALED(status) ? "killed by signal" : "exited with",
		WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
		(unsigned long long)c->backoff_ms);
	c->restart = cyph_loop_add_timer(c->loop, c->backoff_ms, false, on_restart, c);
	c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
}

int cyd_child_start(struct cyd_child *c, struct cyph_loop *loop)
{
	c->loop = loop;
	c->pid = 0;
	c->pidfd = -1;
	c->backoff_ms = BACKOFF_FIRST_MS;
	c->restart = NULL;
	spawn(c);
	return c->pid > 0 ? 0 : -1;
}

void cyd_child_signal(struct cyd_child *c, int sig)
{
	if (c->pid > 0 && kill(c->pid, sig))
		log_warn("[adapter] %s: signal %d: %s", c->what, sig, strerror(errno));
}

void cyd_child_stop(struct cyd_child *c)
{
	int status;

	if (!c->loop)
		return;
	if (c->restart)
		cyph_loop_del_timer(c->loop, c->restart);
	c->restart = NULL;
	if (c->pid > 0) {
		kill(c->pid, SIGTERM);
		reap(c, &status);
	}
	c->loop = NULL;
}

void cyd_child_restart(struct cyd_child *c)
{
	struct cyph_loop *loop = c->loop;

	if (!loop)
		return;
	cyd_child_stop(c);
	cyd_child_start(c, loop);
}
