/* SPDX-License-Identifier: MIT */
/*
 * A small worker pool for blocking or CPU-heavy work (password KDF,
 * certificate signing, store writes) off an event loop's thread.
 *
 * work(arg) runs on a worker thread; done(arg) then runs on the loop's
 * thread, in completion order. Jobs submitted before cyph_workq_free are
 * completed first (free joins the workers and runs remaining done calls).
 */
#ifndef CYPHONIC_WORKQ_H
#define CYPHONIC_WORKQ_H

#include <stddef.h>

struct cyph_loop;
struct cyph_workq;

struct cyph_workq *cyph_workq_new(struct cyph_loop *loop, unsigned int nthreads);
void cyph_workq_free(struct cyph_workq *q);

/* 0, or -1 when out of memory. */
int cyph_workq_submit(struct cyph_workq *q, void (*work)(void *arg),
		      void (*done)(void *arg), void *arg);

/* Jobs submitted and not yet done (for drain). */
size_t cyph_workq_pending(struct cyph_workq *q);

#endif
