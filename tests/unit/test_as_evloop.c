// SPDX-License-Identifier: MIT
/* Event loop (fds, timers, signals, cross-thread stop), worker pool, drain. */
#include "runtime/daemon.h"
#include "runtime/evloop.h"
#include "tap.h"
#include "runtime/workq.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fd_hits, timer_hits, repeat_hits, sig_hits;
static int pipe_a[2], pipe_b[2];

static void on_fd(struct cyph_loop *loop, int fd, uint32_t ev, void *arg)
{
	char c;

	(void)ev; (void)arg;
	if (read(fd, &c, 1) == 1)
		fd_hits++;
	/* deleting the other fd must suppress its pending event */
	cyph_loop_del_fd(loop, fd == pipe_a[0] ? pipe_b[0] : pipe_a[0]);
}

static void on_timer(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	(void)t; (void)arg;
	timer_hits++;
	cyph_loop_stop(loop);
}

static void on_repeat(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	(void)arg;
	if (++repeat_hits == 3) {
		cyph_loop_del_timer(loop, t);	/* delete itself */
		cyph_loop_stop(loop);
	}
}

static void on_sig(struct cyph_loop *loop, int signo, void *arg)
{
	(void)arg;
	if (signo == SIGUSR1)
		sig_hits++;
	cyph_loop_stop(loop);
}

static void *stopper(void *arg)
{
	usleep(50000);
	cyph_loop_stop(arg);
	return NULL;
}

static void test_loop(void)
{
	struct cyph_loop *loop = cyph_loop_new();
	struct cyph_timer *t;
	pthread_t th;
	uint64_t t0;

	TAP_CHECK(loop != NULL, "loop created");
	pipe(pipe_a);
	pipe(pipe_b);
	cyph_loop_add_fd(loop, pipe_a[0], EPOLLIN, on_fd, NULL);
	cyph_loop_add_fd(loop, pipe_b[0], EPOLLIN, on_fd, NULL);
	TAP_CHECK(cyph_loop_add_fd(loop, pipe_a[0], EPOLLIN, on_fd, NULL) == -1,
		  "adding an fd twice fails");
	write(pipe_a[1], "x", 1);
	write(pipe_b[1], "y", 1);
	cyph_loop_add_timer(loop, 30, false, on_timer, NULL);
	cyph_loop_run(loop);
	TAP_CHECK(fd_hits == 1, "fd deleted earlier in the batch not delivered (%d)", fd_hits);
	TAP_CHECK(timer_hits == 1, "one-shot timer fired");
	t0 = cyph_now_ms();
	cyph_loop_add_timer(loop, 10, true, on_repeat, NULL);
	cyph_loop_run(loop);
	TAP_CHECK(repeat_hits == 3 && cyph_now_ms() - t0 >= 28, "repeating timer, deleted in its callback");
	t = cyph_loop_add_timer(loop, 10, false, on_timer, NULL);
	cyph_loop_del_timer(loop, t);
	pthread_create(&th, NULL, stopper, loop);
	cyph_loop_run(loop);
	pthread_join(th, NULL);
	TAP_CHECK(timer_hits == 1, "cancelled timer did not fire; stop from another thread works");
	TAP_CHECK(!cyph_loop_on_signal(loop, SIGUSR1, on_sig, NULL), "signal handler registered");
	kill(getpid(), SIGUSR1);
	cyph_loop_run(loop);
	TAP_CHECK(sig_hits == 1, "signal delivered through signalfd");
	cyph_loop_free(loop);
	close(pipe_a[0]); close(pipe_a[1]); close(pipe_b[0]); close(pipe_b[1]);
}

static int done_count, work_count;
static pthread_t loop_thread;
static bool done_on_loop_thread = true;

static void work(void *arg)
{
	usleep(1000);
	__atomic_add_fetch(&work_count, 1, __ATOMIC_SEQ_CST);
	(void)arg;
}

static void done(void *arg)
{
	struct cyph_loop *loop = arg;

	if (!pthread_equal(pthread_self(), loop_thread))
		done_on_loop_thread = false;
	if (++done_count == 20)
		cyph_loop_stop(loop);
}

static bool idle_flag;
static bool is_idle(void *arg)
{
	(void)arg;
	return idle_flag;
}

static void set_idle(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	(void)loop; (void)t; (void)arg;
	idle_flag = true;
}

static void test_workq_and_drain(void)
{
	struct cyph_loop *loop = cyph_loop_new();
	struct cyph_workq *q = cyph_workq_new(loop, 3);
	struct cyph_drain d = { 0 };
	uint64_t t0;

	loop_thread = pthread_self();
	for (int i = 0; i < 20; i++)
		cyph_workq_submit(q, work, done, loop);
	TAP_CHECK(cyph_workq_pending(q) == 20, "20 jobs pending");
	cyph_loop_run(loop);
	TAP_CHECK(work_count == 20 && done_count == 20 && cyph_workq_pending(q) == 0,
		  "all jobs ran and completed");
	TAP_CHECK(done_on_loop_thread, "completions run on the loop thread");
	cyph_workq_submit(q, work, NULL, NULL);
	cyph_workq_free(q);
	TAP_CHECK(work_count == 21, "free finishes queued work");

	t0 = cyph_now_ms();
	cyph_drain_start(&d, loop, 5000, is_idle, NULL);
	cyph_loop_add_timer(loop, 50, false, set_idle, NULL);
	cyph_loop_run(loop);
	/* Upper bounds far from the expected 50-100 ms: the machine may be loaded. */
	TAP_CHECK(!d.timed_out && cyph_now_ms() - t0 < 4000, "drain ends when idle");
	idle_flag = false;
	t0 = cyph_now_ms();
	cyph_drain_start(&d, loop, 100, is_idle, NULL);
	cyph_loop_run(loop);
	TAP_CHECK(d.timed_out && cyph_now_ms() - t0 >= 100 && cyph_now_ms() - t0 < 4000,
		  "drain ends at the grace period");
	cyph_loop_free(loop);
}

static int loads, load_rc;

static int fake_load(void *arg, char *err, size_t errlen)
{
	(void)arg;
	loads++;
	snprintf(err, errlen, "f.conf:3: [x] y: bad");
	return load_rc;
}

/* The shared start of the daemons' main(): exit codes and when it loads. */
static void test_begin(void)
{
	char *plain[] = { "p", "-c", "f.conf", NULL };
	char *bogus[] = { "p", "--bogus", NULL };
	struct cyph_daemon_args a;
	FILE *saved = stderr;
	int saved_fd, null_fd;

	TAP_CHECK(cyph_daemon_begin(3, plain, "t", "x", NULL, 0, &a, fake_load, NULL) == -1 &&
		  loads == 1, "begin: config loaded once, daemon goes on");
	cyph_daemon_args_free(&a);
	/* the log writes to fd 2: silence it for the expected errors */
	fflush(stderr);
	saved_fd = dup(2);
	null_fd = open("/dev/null", O_WRONLY);
	dup2(null_fd, 2);
	stderr = fopen("/dev/null", "w");
	load_rc = -1;
	TAP_CHECK(cyph_daemon_begin(3, plain, "t", "x", NULL, 0, &a, fake_load, NULL) == 1,
		  "begin: a config error exits 1");
	cyph_daemon_args_free(&a);
	TAP_CHECK(cyph_daemon_begin(2, bogus, "t", "x", NULL, 0, &a, fake_load, NULL) == 2 &&
		  loads == 2, "begin: a usage error exits 2 before loading");
	cyph_daemon_args_free(&a);
	fclose(stderr);
	stderr = saved;
	dup2(saved_fd, 2);
	close(saved_fd);
	close(null_fd);
}

static void test_args(void)
{
	char *argv1[] = { "p", "-c", "f.conf", "--set", "a.b=1", "--set", "c.d=2", "--check", NULL };
	char *argv2[] = { "p", "extra", NULL };
	char *argv3[] = { "p", "--bogus", NULL };
	struct cyph_daemon_args a;
	FILE *saved = stderr;

	TAP_CHECK(cyph_daemon_parse_args(8, argv1, "x", &a) == 0 && !strcmp(a.config, "f.conf") &&
		  a.nsets == 2 && !strcmp(a.sets[1], "c.d=2") && a.check, "daemon flags parsed");
	cyph_daemon_args_free(&a);
	stderr = fopen("/dev/null", "w");
	TAP_CHECK(cyph_daemon_parse_args(2, argv2, "x", &a) == 2, "stray argument is a usage error");
	cyph_daemon_args_free(&a);
	TAP_CHECK(cyph_daemon_parse_args(2, argv3, "x", &a) == 2, "unknown flag is a usage error");
	cyph_daemon_args_free(&a);
	fclose(stderr);
	stderr = saved;
}

int main(void)
{
	test_loop();
	test_workq_and_drain();
	test_args();
	test_begin();
	return tap_done();
}
