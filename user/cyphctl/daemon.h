/* SPDX-License-Identifier: MIT */
/*
 * cyphonicd's view of each device's tunnels for `cyphctl show`: read from
 * the daemon's state file (user/lib/nodestate/statefile.h), never from
 * the daemon itself, so show works the same with no daemon running.
 */
#ifndef CYPHCTL_DAEMON_H
#define CYPHCTL_DAEMON_H

#include <stdio.h>

#include "model.h"

/* Reads the state file of every device of m; never fails. */
void daemon_attach(struct cy_model *m);
void daemon_detach(struct cy_model *m);
/* The daemon's record of tunnel index on d, or NULL. */
const struct nodestate_tunnel *daemon_tunnel(const struct cy_device *d, uint32_t index);
/* How old a wall-clock time (Unix ms) is now, 0 when in the future. */
uint64_t daemon_age_ms(int64_t unix_ms);

void daemon_print_device(FILE *f, const struct cy_device *d);
void daemon_print_gnodes(FILE *f, const struct cy_device *d);
/* print_ms prints a duration the way the rest of show does. */
void daemon_print_tunnel(FILE *f, const struct cy_device *d, uint32_t index,
			 void (*print_ms)(FILE *, uint64_t));

#endif
