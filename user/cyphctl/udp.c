// SPDX-License-Identifier: MIT
/* The UDP sockets `cyphctl set listen-port` hands to the kernel. */
#include "udp.h"

#include <stdio.h>

#include "kernel/udppair.h"
#include "parse.h"

int udp_open_pair(const char *cmd, uint16_t port, int *fd4, int *fd6)
{
	char note[256], err[256];

	if (kern_udp_open_pair(port, fd4, fd6, note, sizeof(note), err, sizeof(err)))
		return cmd_error(cmd, "%s", err);
	if (note[0])
		fprintf(stderr, "cyphctl: %s: %s\n", cmd, note);
	return 0;
}
