// SPDX-License-Identifier: MIT
/* Generic netlink family and multicast group lookup (CTRL_CMD_GETFAMILY). */
#include "genl.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

struct lookup {
	const char *group;
	uint16_t id;
	uint32_t group_id;
	bool found_group;
};

static void one_group(const struct nlattr *nest, struct lookup *l)
{
	const struct nlattr *a;
	const char *name = NULL;
	uint32_t id = 0;

	mnl_attr_for_each_nested(a, nest) {
		if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GRP_NAME &&
		    !mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
			name = mnl_attr_get_str(a);
		else if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GRP_ID &&
			 !mnl_attr_validate(a, MNL_TYPE_U32))
			id = mnl_attr_get_u32(a);
	}
	if (name && l->group && !strcmp(name, l->group)) {
		l->group_id = id;
		l->found_group = true;
	}
}

static int on_family(const struct nlmsghdr *nlh, void *arg)
{
	struct lookup *l = arg;
	const struct nlattr *a, *g;

	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		switch (mnl_attr_get_type(a)) {
		case CTRL_ATTR_FAMILY_ID:
			if (!mnl_attr_validate(a, MNL_TYPE_U16))
				l->id = mnl_attr_get_u16(a);
			break;
		case CTRL_ATTR_MCAST_GROUPS:
			mnl_attr_for_each_nested(g, a)
				one_group(g, l);
			break;
		}
	}
	return 0;
}

struct nlmsghdr *kern_genl_msg(void *buf, uint16_t id, uint8_t cmd,
			       uint8_t version, uint16_t flags)
{
	struct nlmsghdr *nlh = kern_nl_msg(buf, id, flags);
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));

	g->cmd = cmd;
	g->version = version;
	return nlh;
}

int kern_genl_resolve(struct kern_nl *nl, const char *family, uint16_t *id,
		      const char *group, uint32_t *group_id)
{
	char buf[KERN_NL_BUFSIZE];
	struct lookup l = { .group = group };
	struct nlmsghdr *nlh;
	int rc;

	nlh = kern_genl_msg(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, 0);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, family);
	rc = kern_nl_talk(nl, nlh, on_family, &l);
	if (rc)
		return rc;
	if (!l.id || (group && !l.found_group))
		return -ENOENT;
	*id = l.id;
	if (group_id)
		*group_id = l.group_id;
	return 0;
}
