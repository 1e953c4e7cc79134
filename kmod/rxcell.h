/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CYPH_RXCELL_H
#define _CYPH_RXCELL_H

#include <linux/netdevice.h>
#include <linux/skbuff.h>

#include "codel.h"

/*
 * One CPU's receive cell: opened packets waiting to be fed to the stack,
 * and CoDel's state for their wait (under the NAPI context: one poll at
 * a time). While @held, its packets wait for the holder's
 * cyph_rx_cells_run() instead (this CPU, bottom halves off).
 */
struct cyph_rx_cell {
	struct sk_buff_head skbs;
	struct napi_struct napi;
	struct cyph_codel codel;
	bool held;
};

struct cyph_rx_cells {
	struct cyph_rx_cell __percpu *cells;
};

int cyph_rx_cells_init(struct cyph_rx_cells *rc, struct net_device *dev);
void cyph_rx_cells_destroy(struct cyph_rx_cells *rc);
int cyph_rx_cells_receive(struct cyph_rx_cells *rc, struct sk_buff *skb);
void cyph_rx_cells_hold(struct cyph_rx_cells *rc);
void cyph_rx_cells_run(struct cyph_rx_cells *rc, unsigned int max);
bool cyph_rx_cells_listed_here(void);
bool cyph_rx_cell_idle(const struct cyph_rx_cells *rc, unsigned int cpu);

#endif /* _CYPH_RXCELL_H */
