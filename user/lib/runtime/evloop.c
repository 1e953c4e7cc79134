// SPDX-License-Identifier: MIT
/* epoll loop, timers, signalfd (evloop.h). */
#include "evloop.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

struct fd_slot {
	cyph_fd_cb cb;
	void *arg;
	uint32_t gen;	/* bumped on every add, so stale events are dropped */
	bool used;
};

struct cyph_timer {
	struct cyph_timer *next;	/* sorted by due */
	uint64_t due, period;
	cyph_timer_cb cb;
	void *arg;
};

#define NSIG_MAX 65

struct cyph_loop {
	int epfd, wakefd, sigfd;
	struct fd_slot *slots;
	size_t nslots;
	struct cyph_timer *timers;
	struct cyph_timer *firing;	/* timer whose callback runs now */
	bool firing_deleted;
	sigset_t sigs;
	cyph_signal_cb sig_cb[NSIG_MAX];
	void *sig_arg[NSIG_MAX];
	atomic_bool stop;
};

uint64_t cyph_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void wake_cb(struct cyph_loop *loop, int fd, uint32_t ev, void *arg)
{
	uint64_t v;

	(void)loop; (void)ev; (void)arg;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: already drained */
	}
}

struct cyph_loop *cyph_loop_new(void)
{
	struct cyph_loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->sigfd = -1;
	sigemptyset(&loop->sigs);
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->epfd < 0 || loop->wakefd < 0 ||
	    cyph_loop_add_fd(loop, loop->wakefd, EPOLLIN, wake_cb, NULL)) {
		cyph_loop_free(loop);
		return NULL;
	}
	return loop;
}

void cyph_loop_free(struct cyph_loop *loop)
{
	struct cyph_timer *t, *n;

	if (!loop)
		return;
	for (t = loop->timers; t; t = n) {
		n = t->next;
		free(t);
	}
	if (loop->sigfd >= 0)
		close(loop->sigfd);
	if (loop->wakefd >= 0)
		close(loop->wakefd);
	if (loop->epfd >= 0)
		close(loop->epfd);
	free(loop->slots);
	free(loop);
}

static int grow_slots(struct cyph_loop *loop, int fd)
{
	size_t n = loop->nslots ? loop->nslots : 64;
	struct fd_slot *s;

	while (n <= (size_t)fd)
		n *= 2;
	if (n == loop->nslots)
		return 0;
	s = realloc(loop->slots, n * sizeof(*s));
	if (!s)
		return -1;
	memset(s + loop->nslots, 0, (n - loop->nslots) * sizeof(*s));
	loop->slots = s;
	loop->nslots = n;
	return 0;
}

int cyph_loop_add_fd(struct cyph_loop *loop, int fd, uint32_t events,
		     cyph_fd_cb cb, void *arg)
{
	struct epoll_event ev = { .events = events };
	struct fd_slot *s;

	if (fd < 0 || !cb) {
		errno = EINVAL;
		return -1;
	}
	if (grow_slots(loop, fd)) {
		errno = ENOMEM;
		return -1;
	}
	s = &loop->slots[fd];
	if (s->used) {
		errno = EEXIST;
		return -1;
	}
	s->gen++;
	ev.data.u64 = (uint64_t)s->gen << 32 | (uint32_t)fd;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -1;
	s->cb = cb;
	s->arg = arg;
	s->used = true;
	return 0;
}

int cyph_loop_mod_fd(struct cyph_loop *loop, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events };

	if (fd < 0 || (size_t)fd >= loop->nslots || !loop->slots[fd].used) {
		errno = ENOENT;
		return -1;
	}
	ev.data.u64 = (uint64_t)loop->slots[fd].gen << 32 | (uint32_t)fd;
	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev);
}

int cyph_loop_del_fd(struct cyph_loop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->nslots || !loop->slots[fd].used) {
		errno = ENOENT;
		return -1;
	}
	loop->slots[fd].used = false;
	loop->slots[fd].gen++;
	return epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static void timer_insert(struct cyph_loop *loop, struct cyph_timer *t)
{
	struct cyph_timer **pp = &loop->timers;

	while (*pp && (*pp)->due <= t->due)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
}

static void timer_unlink(struct cyph_loop *loop, struct cyph_timer *t)
{
	for (struct cyph_timer **pp = &loop->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			return;
		}
	}
}

struct cyph_timer *cyph_loop_add_timer(struct cyph_loop *loop, uint64_t ms,
				       bool repeat, cyph_timer_cb cb, void *arg)
{
	struct cyph_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->due = cyph_now_ms() + ms;
	t->period = repeat ? (ms ? ms : 1) : 0;
	t->cb = cb;
	t->arg = arg;
	timer_insert(loop, t);
	return t;
}

void cyph_loop_del_timer(struct cyph_loop *loop, struct cyph_timer *t)
{
	if (!t)
		return;
	if (t == loop->firing) {
		loop->firing_deleted = true;	/* freed after the callback */
		return;
	}
	timer_unlink(loop, t);
	free(t);
}

void cyph_loop_timer_rearm(struct cyph_loop *loop, struct cyph_timer *t, uint64_t ms)
{
	if (t != loop->firing)
		timer_unlink(loop, t);
	t->due = cyph_now_ms() + ms;
	if (t != loop->firing)
		timer_insert(loop, t);
	else if (!t->period)
		t->period = UINT64_MAX;	/* marker: keep after this one-shot */
}

static void run_timers(struct cyph_loop *loop)
{
	uint64_t now = cyph_now_ms();
	struct cyph_timer *t;

	while ((t = loop->timers) && t->due <= now && !atomic_load(&loop->stop)) {
		uint64_t due_before = t->due;

		loop->timers = t->next;
		loop->firing = t;
		loop->firing_deleted = false;
		t->cb(loop, t, t->arg);
		loop->firing = NULL;
		if (loop->firing_deleted || !t->period) {
			free(t);
			continue;
		}
		if (t->period == UINT64_MAX)	/* one-shot re-armed in its cb */
			t->period = 0;
		else if (t->due == due_before)
			t->due = now + t->period;
		timer_insert(loop, t);
	}
}

static int next_timeout(struct cyph_loop *loop)
{
	uint64_t now, due;

	if (!loop->timers)
		return -1;
	now = cyph_now_ms();
	due = loop->timers->due;
	if (due <= now)
		return 0;
	return due - now > 60000 ? 60000 : (int)(due - now);
}

static void sig_cb(struct cyph_loop *loop, int fd, uint32_t ev, void *arg)
{
	struct signalfd_siginfo si;

	(void)ev; (void)arg;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int s = (int)si.ssi_signo;

		if (s > 0 && s < NSIG_MAX && loop->sig_cb[s])
			loop->sig_cb[s](loop, s, loop->sig_arg[s]);
	}
}

int cyph_loop_on_signal(struct cyph_loop *loop, int signo, cyph_signal_cb cb, void *arg)
{
	if (signo <= 0 || signo >= NSIG_MAX) {
		errno = EINVAL;
		return -1;
	}
	sigaddset(&loop->sigs, signo);
	if (pthread_sigmask(SIG_BLOCK, &loop->sigs, NULL))
		return -1;
	if (loop->sigfd < 0) {
		loop->sigfd = signalfd(-1, &loop->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
		if (loop->sigfd < 0)
			return -1;
		if (cyph_loop_add_fd(loop, loop->sigfd, EPOLLIN, sig_cb, NULL))
			return -1;
	} else if (signalfd(loop->sigfd, &loop->sigs, 0) < 0) {
		return -1;
	}
	loop->sig_cb[signo] = cb;
	loop->sig_arg[signo] = arg;
	return 0;
}

static void dispatch(struct cyph_loop *loop, const struct epoll_event *ev)
{
	int fd = (int)(uint32_t)ev->data.u64;
	uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
	struct fd_slot *s;

	if ((size_t)fd >= loop->nslots)
		return;
	s = &loop->slots[fd];
	if (!s->used || s->gen != gen)
		return;	/* deleted (and maybe re-added) earlier in this batch */
	s->cb(loop, fd, ev->events, s->arg);
}

int cyph_loop_run(struct cyph_loop *loop)
{
	struct epoll_event evs[64];

	while (!atomic_load(&loop->stop)) {
		int n = epoll_wait(loop->epfd, evs, 64, next_timeout(loop));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (int i = 0; i < n && !atomic_load(&loop->stop); i++)
			dispatch(loop, &evs[i]);
		run_timers(loop);
	}
	atomic_store(&loop->stop, false);	/* the loop may be run again */
	return 0;
}

void cyph_loop_stop(struct cyph_loop *loop)
{
	uint64_t one = 1;

	atomic_store(&loop->stop, true);
	if (write(loop->wakefd, &one, sizeof(one)) < 0) {
		/* counter saturated: the loop is awake anyway */
	}
}
