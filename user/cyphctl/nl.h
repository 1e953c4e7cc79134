/* SPDX-License-Identifier: MIT */
/*
 * The generic netlink connection to the cyphonic family: socket setup,
 * family and group resolution, request/ack and dump exchanges with the
 * kernel's extended-ack message captured, and error reporting.
 */
#ifndef CYPHCTL_NL_H
#define CYPHCTL_NL_H

#include <stdbool.h>
#include <stdint.h>
#include <netlink/netlink.h>
#include <netlink/genl/genl.h>

struct cy_nl {
	struct nl_sock *sk;
	int family;
	const char *cmd;	/* command name for messages, e.g. "tunnel add" */
	int error;		/* errno of the last kernel error, positive */
	char extack[256];	/* its extended-ack message, "" if none */
	char detail[128];	/* a local (libnl) failure, "" if none */
	bool dump_intr;		/* NLM_F_DUMP_INTR seen in this dump */
};

/* Called for each reply message; returns 0 or -errno (stops the exchange). */
typedef int (*cy_nl_reply_fn)(struct nlattr **attrs, void *arg);

/* Opens and resolves the family; prints the reason and returns -1 on error. */
int cy_nl_open(struct cy_nl *nl, const char *cmd);
void cy_nl_close(struct cy_nl *nl);

/* A new request for cmd with NLM_F_ACK (and NLM_F_DUMP if dump). */
struct nl_msg *cy_nl_request(struct cy_nl *nl, uint8_t cmd, bool dump);

/*
 * Sends msg (and frees it, wiping its buffer, which may hold keys), then
 * reads replies until the ack or the end of the dump. Each reply is parsed
 * with the family's top-level policy and handed to fn (may be NULL).
 * Returns 0 or -errno; a dump interrupted by a concurrent change
 * (NLM_F_DUMP_INTR) returns -EINTR so that the caller can repeat it.
 */
int cy_nl_exchange(struct cy_nl *nl, struct nl_msg *msg,
		   cy_nl_reply_fn fn, void *arg);

/* Prints "cyphctl: CMD: WHAT: strerror (kernel: extack)" for err < 0. */
int cy_nl_report(const struct cy_nl *nl, int err, const char *what);

/* Resolves a device name to an ifindex; prints an error and returns 0. */
uint32_t cy_nl_ifindex(const struct cy_nl *nl, const char *dev);

/* Resolves the multicast group id; prints an error and returns -1. */
int cy_nl_group(struct cy_nl *nl, const char *group);

#endif
