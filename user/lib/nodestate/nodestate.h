/* SPDX-License-Identifier: MIT */
/*
 * nodestate: what cyphonicd tells other programs on the same host about
 * its tunnels, beyond what the kernel holds: the path each tunnel takes
 * (direct, punched, relayed), the peer's FQDN, the last handshake and how
 * long route direction and the handshake took. `cyphctl show` reads it.
 *
 *	statefile.h	the state file: its name, its text format (write and
 *			parse), and whether the daemon that wrote it lives
 *
 * May include: runtime
 *
 * The "May include:" line is the rule scripts/check-lib-deps.sh enforces
 * on every file in this folder.
 */
#ifndef CYPHONIC_LIB_NODESTATE_H
#define CYPHONIC_LIB_NODESTATE_H
#include "statefile.h"
#endif
