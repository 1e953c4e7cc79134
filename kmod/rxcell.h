/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CYPH_RXCELL_H
#define _CYPH_RXCELL_H

#include <linux/netdevice.h>
#include <linux/skbuff.h>

#include "codel.h"

/*
 * One CPU's receive cell: opened packets waiting for its next softirq,
 * and CoDel's state for their wait (under the NAPI context: one poll at
 * a time).
 */
struct cyph_rx_cell {
	struct sk_buff_head skbs;
	struct napi_struct napi;
	struct cyph_codel codel;
};

struct cyph_rx_cells {
	struct cyph_rx_cell __percpu *cells;
};

int cyph_rx_cells_init(struct cyph_rx_cells *rc, struct net_device *dev);
void cyph_rx_cells_destroy(struct cyph_rx_cells *rc);
int cyph_rx_cells_receive(struct cyph_rx_cells *rc, struct sk_buff *skb);
bool cyph_rx_cell_idle(const struct cyph_rx_cells *rc, unsigned int cpu);

#endif /* _CYPH_RXCELL_H */
