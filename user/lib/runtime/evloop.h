/* SPDX-License-Identifier: MIT */
/*
 * epoll event loop with timers and signalfd, one per thread.
 *
 * Callbacks run on the loop's thread. A callback may add or delete any fd
 * or timer, including its own; events for an fd deleted earlier in the
 * same batch are not delivered. cyph_loop_stop() may be called from any
 * thread (it wakes the loop through an eventfd).
 *
 * Signals: cyph_loop_on_signal() blocks the signal in the calling thread
 * and reads it through a signalfd. In a multi-threaded daemon, register
 * signals (or block them with pthread_sigmask) in the main thread BEFORE
 * starting other threads, so they inherit the blocked mask.
 */
#ifndef CYPHONIC_EVLOOP_H
#define CYPHONIC_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct cyph_loop;
struct cyph_timer;

typedef void (*cyph_fd_cb)(struct cyph_loop *loop, int fd, uint32_t events, void *arg);
typedef void (*cyph_timer_cb)(struct cyph_loop *loop, struct cyph_timer *t, void *arg);
typedef void (*cyph_signal_cb)(struct cyph_loop *loop, int signo, void *arg);

struct cyph_loop *cyph_loop_new(void);
/* Frees the loop and its timers; does not close registered fds. */
void cyph_loop_free(struct cyph_loop *loop);

/* events: EPOLLIN, EPOLLOUT, ... Returns 0 or -1 (errno set). */
int cyph_loop_add_fd(struct cyph_loop *loop, int fd, uint32_t events,
		     cyph_fd_cb cb, void *arg);
int cyph_loop_mod_fd(struct cyph_loop *loop, int fd, uint32_t events);
int cyph_loop_del_fd(struct cyph_loop *loop, int fd);

/*
 * Fires after ms milliseconds (CLOCK_MONOTONIC), then every ms when
 * repeat. A one-shot timer is freed after its callback returns; a repeating
 * one lives until cyph_loop_del_timer(). Returns NULL on OOM.
 */
struct cyph_timer *cyph_loop_add_timer(struct cyph_loop *loop, uint64_t ms,
				       bool repeat, cyph_timer_cb cb, void *arg);
/* Cancels and frees t (also safe from inside t's own callback). O(log n). */
void cyph_loop_del_timer(struct cyph_loop *loop, struct cyph_timer *t);
/*
 * Re-arms t to fire ms from now (for idle timeouts): O(log n) in the
 * number of timers, never allocates. Timers due in the same millisecond
 * fire in the order they were (re-)armed.
 */
void cyph_loop_timer_rearm(struct cyph_loop *loop, struct cyph_timer *t, uint64_t ms);

/* One handler per signal; a second registration replaces the first. */
int cyph_loop_on_signal(struct cyph_loop *loop, int signo, cyph_signal_cb cb, void *arg);

/* Runs until cyph_loop_stop(); returns 0, or -1 if epoll_wait failed. */
int cyph_loop_run(struct cyph_loop *loop);
/* Thread-safe; the loop returns after the current batch. */
void cyph_loop_stop(struct cyph_loop *loop);

uint64_t cyph_now_ms(void);	/* CLOCK_MONOTONIC */

/*
 * For tests: the loop reads the time for its timers from now(arg) instead
 * of cyph_now_ms(), so timer order can be checked without sleeping. NULL
 * restores the real clock. epoll_wait still sleeps in real milliseconds.
 */
void cyph_loop_set_clock(struct cyph_loop *loop, uint64_t (*now)(void *arg), void *arg);

#endif
