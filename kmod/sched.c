// SPDX-License-Identifier: GPL-2.0
/*
 * Deficit round robin (Shreedhar and Varghese, 1995) for the crypt queues.
 *
 * Flows with units wait in one list, in turn order. The flow at the front
 * takes units while its deficit is positive, each unit's cost (its bytes)
 * taken off; when its deficit is spent it gets a quantum more and goes to
 * the back. So every flow with units waiting gets the same bytes of crypt
 * work per round, whatever its units' sizes and however many it has
 * queued: a tunnel that queues more no longer gets more.
 *
 * A flow that runs out of units leaves the list and keeps a debt (the
 * deficit it overspent on its last, large unit), but no credit: credit
 * saved while idle would let it take more than its turn when it returns,
 * while a debt forgiven would let a flow with one large unit at a time
 * take more than its share by emptying after each. A flow that gets a
 * unit again joins at the back, so a burst of new flows cannot overtake
 * the ones already waiting.
 */

#include <linux/limits.h>
#include <linux/minmax.h>

#include "sched.h"

void cyph_drr_init(struct cyph_drr *d, unsigned int quantum)
{
	INIT_LIST_HEAD(&d->active);
	d->quantum = quantum;
}

void cyph_drr_flow_init(struct cyph_drr_flow *f)
{
	INIT_LIST_HEAD(&f->node);
	f->deficit = 0;
}

/* @f has a unit waiting: join the round, at the back, unless already in. */
void cyph_drr_wake(struct cyph_drr *d, struct cyph_drr_flow *f)
{
	if (!cyph_drr_flow_active(f))
		list_add_tail(&f->node, &d->active);
}

/**
 * cyph_drr_next() - the flow whose unit the workers take next
 * @d: the scheduler
 *
 * Flows at the front whose deficit is spent get their quantum and go to
 * the back until one may take a unit; this ends because each pass adds a
 * quantum to a flow's deficit.
 *
 * Return: that flow, which stays at the front until it is charged, or
 * NULL if no flow has units.
 */
struct cyph_drr_flow *cyph_drr_next(struct cyph_drr *d)
{
	struct cyph_drr_flow *f;

	for (;;) {
		f = list_first_entry_or_null(&d->active, struct cyph_drr_flow,
					     node);
		if (!f || f->deficit > 0)
			return f;
		f->deficit += d->quantum;
		list_move_tail(&f->node, &d->active);
	}
}

/**
 * cyph_drr_charge() - account a unit taken from the flow cyph_drr_next() chose
 * @f: that flow
 * @cost: the unit's bytes
 * @empty: the flow has no unit left: it leaves the round
 */
void cyph_drr_charge(struct cyph_drr_flow *f, unsigned int cost, bool empty)
{
	f->deficit -= min_t(unsigned int, cost, INT_MAX / 2);
	if (empty) {
		list_del_init(&f->node);
		f->deficit = min(f->deficit, 0);
	}
}
