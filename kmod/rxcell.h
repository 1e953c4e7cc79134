/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CYPH_RXCELL_H
#define _CYPH_RXCELL_H

#include <linux/netdevice.h>
#include <linux/skbuff.h>

/*
 * One CPU's receive cell: opened packets waiting for its next softirq.
 * Its counts let a serial stage tell whether the packets it released
 * here have gone on (cyph_rx_cell_passed()).
 */
struct cyph_rx_cell {
	struct sk_buff_head skbs;
	struct napi_struct napi;
	u32 queued;		/* packets ever queued, under skbs.lock */
	/* Of them, handed whole to the stack; by the poll, as is @unhanded. */
	u32 handed;
	unsigned int unhanded;	/* out of GRO, reaching the stack */
	/* Where the last poll's packets went on (-1: none yet): its CPU's backlog count. */
	unsigned int backlog_mark;
	int backlog_cpu;
};

struct cyph_rx_cells {
	struct cyph_rx_cell __percpu *cells;
};

int cyph_rx_cells_init(struct cyph_rx_cells *rc, struct net_device *dev);
void cyph_rx_cells_destroy(struct cyph_rx_cells *rc);
int cyph_rx_cells_receive(struct cyph_rx_cells *rc, struct sk_buff *skb);
u32 cyph_rx_cell_mark(const struct cyph_rx_cells *rc);
bool cyph_rx_cell_passed(const struct cyph_rx_cells *rc, unsigned int cpu,
			 u32 mark, int *backlog_cpu, unsigned int *backlog_mark);
bool cyph_rx_cell_idle(const struct cyph_rx_cells *rc, unsigned int cpu);

#endif /* _CYPH_RXCELL_H */
