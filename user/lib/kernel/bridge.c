// SPDX-License-Identifier: MIT
/* Bridge ports through rtnetlink: the port a MAC was learned on. */
#include "bridge.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

struct fdb_find {
	uint32_t br;
	const uint8_t *mac;
	uint32_t port;
	bool found;
};

static int on_fdb(const struct nlmsghdr *nlh, void *arg)
{
	struct fdb_find *f = arg;
	const struct ndmsg *ndm;
	const struct nlattr *a;
	const uint8_t *lladdr = NULL;
	uint32_t master = 0;

	if (nlh->nlmsg_type != RTM_NEWNEIGH || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ndm))
		return 0;
	ndm = mnl_nlmsg_get_payload(nlh);
	/* the bridge's own addresses are local entries, not a port's device */
	if (ndm->ndm_family != AF_BRIDGE || (ndm->ndm_state & NUD_PERMANENT))
		return 0;
	mnl_attr_for_each(a, nlh, sizeof(*ndm)) {
		if (mnl_attr_get_type(a) == NDA_LLADDR && mnl_attr_get_payload_len(a) == 6)
			lladdr = mnl_attr_get_payload(a);
		else if (mnl_attr_get_type(a) == NDA_MASTER && !mnl_attr_validate(a, MNL_TYPE_U32))
			master = mnl_attr_get_u32(a);
	}
	if (lladdr && master == f->br && (uint32_t)ndm->ndm_ifindex != f->br &&
	    !memcmp(lladdr, f->mac, 6)) {
		f->port = (uint32_t)ndm->ndm_ifindex;
		f->found = true;
	}
	return 0;
}

int kern_bridge_fdb_port(struct kern_nl *nl, uint32_t br_ifindex, const uint8_t mac[6],
			 uint32_t *port)
{
	char buf[KERN_NL_BUFSIZE];
	struct nlmsghdr *nlh = kern_nl_msg(buf, RTM_GETNEIGH, NLM_F_DUMP);
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	struct fdb_find f = { .br = br_ifindex, .mac = mac };
	int rc;

	/* a bare ndmsg: the legacy dump filter would read attributes as ifinfomsg's */
	ndm->ndm_family = AF_BRIDGE;
	rc = kern_nl_talk(nl, nlh, on_fdb, &f);
	if (rc)
		return rc;
	if (!f.found)
		return -ENOENT;
	*port = f.port;
	return 0;
}
