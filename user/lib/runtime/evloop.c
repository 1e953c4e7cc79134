// SPDX-License-Identifier: MIT
/* epoll loop, timers, signalfd (evloop.h). */
#include "evloop.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
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

/*
 * Timers live in a binary min-heap. Each timer keeps its own heap index,
 * so cancel and re-arm find it without a search: the AS re-arms one idle
 * timer per connection on every read, and a sorted list made that
 * O(connections).
 *
 * A timer fires in (due, seq) order; seq is taken from a loop-wide counter
 * on every (re-)arm, so equal deadlines fire in arming order, as they did
 * in the list. The heap is ordered by a key (hdue, hseq) that may lag
 * behind: a re-arm to a later time (the idle-timeout case) only writes
 * due and seq, O(1), and the timer is moved once, when its stale key
 * reaches the top (timer_first). Invariant: (hdue, hseq) <= (due, seq),
 * so a top whose key is up to date is the true earliest timer. A re-arm
 * to an earlier time sifts up at once, O(log n).
 */
#define TIMER_NOT_QUEUED SIZE_MAX

struct cyph_timer {
	uint64_t due, period;
	uint64_t seq;		/* arming order, breaks ties between equal dues */
	uint64_t hdue, hseq;	/* the key the heap is ordered by */
	size_t idx;		/* position in loop->heap, or TIMER_NOT_QUEUED */
	bool rearmed;		/* re-armed from inside its own callback */
	cyph_timer_cb cb;
	void *arg;
};

#define NSIG_MAX 65

struct cyph_loop {
	int epfd, wakefd, sigfd;
	struct fd_slot *slots;
	size_t nslots;
	struct cyph_timer **heap;	/* heap[0] is due first */
	size_t nheap, heap_cap;
	size_t ntimers;		/* live timers: the heap plus the one firing */
	uint64_t next_seq;
	struct cyph_timer *firing;	/* timer whose callback runs now */
	bool firing_deleted;
	sigset_t sigs;
	cyph_signal_cb sig_cb[NSIG_MAX];
	void *sig_arg[NSIG_MAX];
	atomic_bool stop;
	uint64_t (*clock)(void *arg);	/* NULL: cyph_now_ms() */
	void *clock_arg;
};

uint64_t cyph_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void cyph_loop_set_clock(struct cyph_loop *loop, uint64_t (*now)(void *arg), void *arg)
{
	loop->clock = now;
	loop->clock_arg = arg;
}

static uint64_t loop_now(const struct cyph_loop *loop)
{
	return loop->clock ? loop->clock(loop->clock_arg) : cyph_now_ms();
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
	if (!loop)
		return;
	for (size_t i = 0; i < loop->nheap; i++)
		free(loop->heap[i]);
	free(loop->heap);
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

static bool key_before(uint64_t due_a, uint64_t seq_a, uint64_t due_b, uint64_t seq_b)
{
	return due_a < due_b || (due_a == due_b && seq_a < seq_b);
}

/* Heap order: by the heap keys. */
static bool timer_before(const struct cyph_timer *a, const struct cyph_timer *b)
{
	return key_before(a->hdue, a->hseq, b->hdue, b->hseq);
}

static bool key_stale(const struct cyph_timer *t)
{
	return t->hdue != t->due || t->hseq != t->seq;
}

static void heap_set(struct cyph_loop *loop, size_t i, struct cyph_timer *t)
{
	loop->heap[i] = t;
	t->idx = i;
}

static void sift_up(struct cyph_loop *loop, size_t i)
{
	struct cyph_timer *t = loop->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!timer_before(t, loop->heap[parent]))
			break;
		heap_set(loop, i, loop->heap[parent]);
		i = parent;
	}
	heap_set(loop, i, t);
}

static void sift_down(struct cyph_loop *loop, size_t i)
{
	struct cyph_timer *t = loop->heap[i];
	size_t n = loop->nheap;

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= n)
			break;
		if (child + 1 < n && timer_before(loop->heap[child + 1], loop->heap[child]))
			child++;
		if (!timer_before(loop->heap[child], t))
			break;
		heap_set(loop, i, loop->heap[child]);
		i = child;
	}
	heap_set(loop, i, t);
}

/* Restores the heap order at i after t's key changed either way. */
static void heap_fix(struct cyph_loop *loop, size_t i)
{
	if (i > 0 && timer_before(loop->heap[i], loop->heap[(i - 1) / 2]))
		sift_up(loop, i);
	else
		sift_down(loop, i);
}

/*
 * The heap always has room for every live timer (see reserve_timer), so
 * queueing never allocates and cannot fail: re-arming, and putting a
 * repeating timer back after its callback, must not.
 */
static void timer_queue(struct cyph_loop *loop, struct cyph_timer *t)
{
	t->seq = loop->next_seq++;
	t->hdue = t->due;
	t->hseq = t->seq;
	loop->heap[loop->nheap] = t;
	t->idx = loop->nheap++;
	sift_up(loop, t->idx);
}

static void timer_dequeue(struct cyph_loop *loop, struct cyph_timer *t)
{
	size_t i = t->idx;
	struct cyph_timer *last = loop->heap[--loop->nheap];

	t->idx = TIMER_NOT_QUEUED;
	if (last == t)
		return;
	heap_set(loop, i, last);
	heap_fix(loop, i);
}

/* Makes room in the heap for one more live timer (doubling, amortised O(1)). */
static int reserve_timer(struct cyph_loop *loop)
{
	struct cyph_timer **h;
	size_t cap;

	if (loop->ntimers < loop->heap_cap)
		return 0;
	cap = loop->heap_cap ? loop->heap_cap * 2 : 16;
	h = realloc(loop->heap, cap * sizeof(*h));
	if (!h)
		return -1;
	loop->heap = h;
	loop->heap_cap = cap;
	return 0;
}

struct cyph_timer *cyph_loop_add_timer(struct cyph_loop *loop, uint64_t ms,
				       bool repeat, cyph_timer_cb cb, void *arg)
{
	struct cyph_timer *t;

	if (reserve_timer(loop))
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->due = loop_now(loop) + ms;
	t->period = repeat ? (ms ? ms : 1) : 0;
	t->cb = cb;
	t->arg = arg;
	loop->ntimers++;
	timer_queue(loop, t);
	return t;
}

static void timer_free(struct cyph_loop *loop, struct cyph_timer *t)
{
	loop->ntimers--;
	free(t);
}

void cyph_loop_del_timer(struct cyph_loop *loop, struct cyph_timer *t)
{
	if (!t)
		return;
	if (t == loop->firing) {
		loop->firing_deleted = true;	/* freed after the callback */
		return;
	}
	timer_dequeue(loop, t);
	timer_free(loop, t);
}

void cyph_loop_timer_rearm(struct cyph_loop *loop, struct cyph_timer *t, uint64_t ms)
{
	t->due = loop_now(loop) + ms;
	if (t == loop->firing) {
		t->rearmed = true;	/* queued again after the callback */
		return;
	}
	/* a fresh seq puts it behind timers already armed for the same ms */
	t->seq = loop->next_seq++;
	if (!key_before(t->due, t->seq, t->hdue, t->hseq))
		return;		/* later: the heap key may lag (timer_first) */
	t->hdue = t->due;
	t->hseq = t->seq;
	sift_up(loop, t->idx);
}

/*
 * The earliest timer, or NULL. Brings stale keys at the top up to date
 * first: each such timer sinks once for any number of re-arms.
 */
static struct cyph_timer *timer_first(struct cyph_loop *loop)
{
	while (loop->nheap && key_stale(loop->heap[0])) {
		struct cyph_timer *t = loop->heap[0];

		t->hdue = t->due;
		t->hseq = t->seq;
		sift_down(loop, 0);
	}
	return loop->nheap ? loop->heap[0] : NULL;
}

/* Runs t's callback with t out of the heap; then frees or re-queues it. */
static void fire(struct cyph_loop *loop, struct cyph_timer *t, uint64_t now)
{
	timer_dequeue(loop, t);
	loop->firing = t;
	loop->firing_deleted = false;
	t->rearmed = false;
	t->cb(loop, t, t->arg);
	loop->firing = NULL;
	if (loop->firing_deleted || (!t->period && !t->rearmed)) {
		timer_free(loop, t);
		return;
	}
	if (!t->rearmed)
		t->due = now + t->period;
	timer_queue(loop, t);
}

static void run_timers(struct cyph_loop *loop)
{
	uint64_t now = loop_now(loop);
	struct cyph_timer *t;

	while ((t = timer_first(loop)) && t->due <= now && !atomic_load(&loop->stop))
		fire(loop, t, now);
}

static int next_timeout(struct cyph_loop *loop)
{
	struct cyph_timer *t = timer_first(loop);
	uint64_t now, due;

	if (!t)
		return -1;
	now = loop_now(loop);
	due = t->due;
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
