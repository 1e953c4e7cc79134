/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Deficit round robin (DRR) over the tunnels waiting in one device crypt
 * queue, so that the crypt workers serve tunnels in turn, by bytes,
 * instead of in the order their units arrived (see docs/pipeline.md).
 *
 * A flow is one tunnel's direction with units waiting. The caller keeps
 * each flow's units and tells the scheduler when a flow gets a unit
 * (cyph_drr_wake) and what the unit it took cost (cyph_drr_charge); the
 * scheduler only decides whose turn it is. It knows nothing of skbs or
 * tunnels, so KUnit tests it alone. The caller serialises every call on
 * one scheduler (the crypt queue's lock).
 */
#ifndef _CYPH_SCHED_H
#define _CYPH_SCHED_H

#include <linux/list.h>
#include <linux/types.h>

/*
 * Bytes a flow may take per turn. About two full-size packets: small
 * enough that tunnels interleave finely across the workers, large enough
 * that a turn is not all bookkeeping. A unit larger than this (a GSO
 * burst) is taken whole and paid back in later turns.
 */
#define CYPH_DRR_QUANTUM	3072

struct cyph_drr_flow {
	struct list_head node;	/* in cyph_drr.active while it has units */
	int deficit;		/* bytes it may still take this turn */
};

struct cyph_drr {
	struct list_head active;	/* flows with units, in turn order */
	unsigned int quantum;
};

void cyph_drr_init(struct cyph_drr *d, unsigned int quantum);
void cyph_drr_flow_init(struct cyph_drr_flow *f);
void cyph_drr_wake(struct cyph_drr *d, struct cyph_drr_flow *f);
struct cyph_drr_flow *cyph_drr_next(struct cyph_drr *d);
void cyph_drr_charge(struct cyph_drr_flow *f, unsigned int cost, bool empty);

static inline bool cyph_drr_flow_active(const struct cyph_drr_flow *f)
{
	return !list_empty(&f->node);
}

#endif /* _CYPH_SCHED_H */
