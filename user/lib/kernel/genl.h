/* SPDX-License-Identifier: MIT */
/* Generic netlink: a family's id and a multicast group's id by name. */
#ifndef CYPHONIC_KERNEL_GENL_H
#define CYPHONIC_KERNEL_GENL_H

#include <stdint.h>
#include "nlsock.h"

/*
 * Resolves family (and, when group is not NULL, its multicast group) on a
 * NETLINK_GENERIC socket. Returns 0, -ENOENT when the family or group is
 * not registered (module not loaded), or another -errno.
 */
int kern_genl_resolve(struct kern_nl *nl, const char *family, uint16_t *id,
		      const char *group, uint32_t *group_id);

/* Starts a request for family id with cmd and version in buf. */
struct nlmsghdr *kern_genl_msg(void *buf, uint16_t id, uint8_t cmd,
			       uint8_t version, uint16_t flags);

#endif
