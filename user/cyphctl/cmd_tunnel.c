// SPDX-License-Identifier: MIT
/*
 * `cyphctl tunnel add|set|swap|del`: tunnels and their keys;
 * `cyphctl tunnel unreachable`: no tunnel can be made for a VIP pair;
 * `cyphctl tunnel expect`: hold DATA for an index being set up.
 */
#include <string.h>

#include "commands.h"
#include "runtime/hexkey.h"
#include "nl.h"
#include "parse.h"

struct tunnel_args {
	uint32_t index, peer_index, relay;
	struct in_addr local4, remote4;
	struct in6_addr local6, remote6;
	struct kw_endpoint endpoint;
	uint8_t slot, key_id;
	uint8_t tx[CYPHONIC_KEY_LEN], rx[CYPHONIC_KEY_LEN];
	struct kw kw[16];
};

struct subcommand {
	const char *name;		/* "tunnel add" */
	uint8_t cmd;
	const char *const *keywords;	/* the ones it accepts */
};

static const char *const add_kws[] = {
	"index", "peer-index", "local4", "remote4", "local6", "remote6",
	"endpoint", "relay", "key-id", "tx-key", "tx-key-file", "rx-key",
	"rx-key-file", NULL,
};
static const char *const set_kws[] = {
	"index", "endpoint", "relay", "slot", "key-id", "tx-key",
	"tx-key-file", "rx-key", "rx-key-file", NULL,
};
static const char *const index_kws[] = { "index", NULL };
static const char *const pair_kws[] = {
	"local4", "remote4", "local6", "remote6", NULL,
};

static const struct subcommand subcommands[] = {
	{ "add", CYPHONIC_CMD_TUNNEL_NEW, add_kws },
	{ "set", CYPHONIC_CMD_TUNNEL_SET, set_kws },
	{ "swap", CYPHONIC_CMD_KEY_SWAP, index_kws },
	{ "del", CYPHONIC_CMD_TUNNEL_DEL, index_kws },
	{ "unreachable", CYPHONIC_CMD_TUNNEL_UNREACHABLE, pair_kws },
	{ "expect", CYPHONIC_CMD_TUNNEL_EXPECT, index_kws },
	{ NULL, 0, NULL },
};

static bool listed(const char *const *names, const char *name)
{
	for (; *names; names++)
		if (!strcmp(*names, name))
			return true;
	return false;
}

/* Fills a->kw with the keywords sub accepts, pointing into a. */
static void build_kw(struct tunnel_args *a, const struct subcommand *sub)
{
	const struct kw all[] = {
		{ "index", KW_INDEX, &a->index, false },
		{ "peer-index", KW_U32, &a->peer_index, false },
		{ "local4", KW_IP4, &a->local4, false },
		{ "remote4", KW_IP4, &a->remote4, false },
		{ "local6", KW_IP6, &a->local6, false },
		{ "remote6", KW_IP6, &a->remote6, false },
		{ "endpoint", KW_ENDPOINT, &a->endpoint, false },
		{ "relay", KW_RELAY, &a->relay, false },
		{ "slot", KW_SLOT, &a->slot, false },
		{ "key-id", KW_KEY_ID, &a->key_id, false },
		{ "tx-key", KW_KEY_HEX, a->tx, false },
		{ "tx-key-file", KW_KEY_FILE, a->tx, false },
		{ "rx-key", KW_KEY_HEX, a->rx, false },
		{ "rx-key-file", KW_KEY_FILE, a->rx, false },
	};
	size_t i, n = 0;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (listed(sub->keywords, all[i].name))
			a->kw[n++] = all[i];
	a->kw[n] = (struct kw){ 0 };
}

static bool seen(const struct tunnel_args *a, const char *name)
{
	return kw_seen(a->kw, name);
}

static bool has_key(const struct tunnel_args *a)
{
	return seen(a, "slot") || seen(a, "key-id") || seen(a, "tx-key") ||
	       seen(a, "tx-key-file") || seen(a, "rx-key") ||
	       seen(a, "rx-key-file");
}

/* One key direction: exactly one of NAME and NAME-file. */
static int check_key_dir(const char *cmd, const struct tunnel_args *a,
			 const char *hex, const char *file)
{
	if (seen(a, hex) && seen(a, file))
		return cmd_error(cmd, "%s and %s are mutually exclusive", hex, file);
	if (!seen(a, hex) && !seen(a, file))
		return cmd_error(cmd, "a key needs %s or %s", hex, file);
	return 0;
}

static int check_pair(const char *cmd, const struct tunnel_args *a,
		      const char *l, const char *r)
{
	if (seen(a, l) != seen(a, r))
		return cmd_error(cmd, "%s needs %s", seen(a, l) ? l : r,
				 seen(a, l) ? r : l);
	return 0;
}

static int check_args(const struct subcommand *sub, const struct tunnel_args *a)
{
	const char *cmd = sub->name;

	if (sub->cmd == CYPHONIC_CMD_TUNNEL_UNREACHABLE) {
		if (check_pair(cmd, a, "local4", "remote4") ||
		    check_pair(cmd, a, "local6", "remote6"))
			return -1;
		if (seen(a, "local4") == seen(a, "local6"))
			return cmd_error(cmd, "one VIP pair is required (local4 and remote4, or local6 and remote6)");
		return 0;
	}
	if (!seen(a, "index"))
		return cmd_error(cmd, "index is required");
	if (has_key(a) &&
	    (check_key_dir(cmd, a, "tx-key", "tx-key-file") ||
	     check_key_dir(cmd, a, "rx-key", "rx-key-file")))
		return -1;
	if (sub->cmd == CYPHONIC_CMD_TUNNEL_NEW) {
		if (!seen(a, "peer-index"))
			return cmd_error(cmd, "peer-index is required");
		if (check_pair(cmd, a, "local4", "remote4") ||
		    check_pair(cmd, a, "local6", "remote6"))
			return -1;
		if (!seen(a, "local4") && !seen(a, "local6"))
			return cmd_error(cmd, "a VIP pair is required (local4 and remote4, or local6 and remote6)");
	}
	if (sub->cmd == CYPHONIC_CMD_TUNNEL_SET) {
		if (has_key(a) && !seen(a, "slot"))
			return cmd_error(cmd, "a key needs slot primary or slot next");
		if (!has_key(a) && !seen(a, "endpoint") && !seen(a, "relay"))
			return cmd_error(cmd, "nothing to set (expected endpoint, relay or a key)");
	}
	return 0;
}

static int put_key(struct nl_msg *msg, const struct tunnel_args *a)
{
	struct nlattr *key = nla_nest_start(msg, CYPHONIC_TUNNEL_A_KEY);

	if (!key ||
	    nla_put_u8(msg, CYPHONIC_KEY_A_SLOT,
		       seen(a, "slot") ? a->slot : CYPHONIC_KEY_SLOT_PRIMARY) ||
	    nla_put_u8(msg, CYPHONIC_KEY_A_ID, a->key_id) ||
	    nla_put(msg, CYPHONIC_KEY_A_TX, CYPHONIC_KEY_LEN, a->tx) ||
	    nla_put(msg, CYPHONIC_KEY_A_RX, CYPHONIC_KEY_LEN, a->rx))
		return -1;
	nla_nest_end(msg, key);
	return 0;
}

#define PUT_IF(msg, a, kw, attr, val) \
	(seen(a, kw) && nla_put(msg, attr, sizeof(val), &(val)))

static int put_tunnel(struct nl_msg *msg, const struct tunnel_args *a)
{
	struct nlattr *t = nla_nest_start(msg, CYPHONIC_A_TUNNEL);

	if (!t || (seen(a, "index") &&
		   nla_put_u32(msg, CYPHONIC_TUNNEL_A_INDEX, a->index)) ||
	    (seen(a, "peer-index") &&
	     nla_put_u32(msg, CYPHONIC_TUNNEL_A_PEER_INDEX, a->peer_index)) ||
	    PUT_IF(msg, a, "local4", CYPHONIC_TUNNEL_A_LOCAL4, a->local4) ||
	    PUT_IF(msg, a, "remote4", CYPHONIC_TUNNEL_A_REMOTE4, a->remote4) ||
	    PUT_IF(msg, a, "local6", CYPHONIC_TUNNEL_A_LOCAL6, a->local6) ||
	    PUT_IF(msg, a, "remote6", CYPHONIC_TUNNEL_A_REMOTE6, a->remote6) ||
	    (seen(a, "endpoint") &&
	     nla_put(msg, CYPHONIC_TUNNEL_A_ENDPOINT, (int)a->endpoint.len,
		     &a->endpoint.ss)) ||
	    (seen(a, "relay") &&
	     nla_put_u32(msg, CYPHONIC_TUNNEL_A_RELAY, a->relay)) ||
	    (has_key(a) && put_key(msg, a)))
		return -1;
	nla_nest_end(msg, t);
	return 0;
}

static const char *const cmd_names[] = {
	[CYPHONIC_CMD_TUNNEL_NEW] = "TUNNEL_NEW",
	[CYPHONIC_CMD_TUNNEL_SET] = "TUNNEL_SET",
	[CYPHONIC_CMD_KEY_SWAP] = "KEY_SWAP",
	[CYPHONIC_CMD_TUNNEL_DEL] = "TUNNEL_DEL",
	[CYPHONIC_CMD_TUNNEL_UNREACHABLE] = "TUNNEL_UNREACHABLE",
	[CYPHONIC_CMD_TUNNEL_EXPECT] = "TUNNEL_EXPECT",
};

static int send_tunnel(struct cy_nl *nl, const struct subcommand *sub,
		       uint32_t ifindex, const struct tunnel_args *a)
{
	struct nl_msg *msg = cy_nl_request(nl, sub->cmd, false);

	if (!msg)
		return cmd_error(nl->cmd, "out of memory");
	if (nla_put_u32(msg, CYPHONIC_A_IFINDEX, ifindex) ||
	    put_tunnel(msg, a)) {
		hexkey_wipe(nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len);
		nlmsg_free(msg);
		return cmd_error(nl->cmd, "message too large");
	}
	return cy_nl_report(nl, cy_nl_exchange(nl, msg, NULL, NULL),
			    cmd_names[sub->cmd]);
}

/*
 * Static keys are for tests and manual experiments only: the kernel
 * refuses a key a tunnel has used before, but a tunnel re-created (after
 * a reboot, a module reload, `tunnel del`) with the same key files starts
 * its counters at 0 again and repeats AEAD nonces, which no kernel memory
 * can catch. docs/kernel.md, "Static keys".
 */
static void warn_static_key(const char *cmd)
{
	fprintf(stderr,
		"cyphctl: %s: warning: static keys are for testing only; re-using these keys in a new tunnel (e.g. after a reboot) repeats nonces and breaks encryption; cyphonicd derives fresh keys per tunnel\n",
		cmd);
}

static int run(const struct subcommand *sub, const char *dev,
	       struct tunnel_args *a)
{
	struct cy_nl nl;
	uint32_t ifindex;
	int ret;

	if (check_args(sub, a) || cy_nl_open(&nl, sub->name))
		return 1;
	ifindex = cy_nl_ifindex(&nl, dev);
	ret = !ifindex || send_tunnel(&nl, sub, ifindex, a) ? 1 : 0;
	cy_nl_close(&nl);
	if (!ret && has_key(a))
		warn_static_key(sub->name);
	return ret;
}

int cmd_tunnel(int argc, char **argv)
{
	static const char *const full_names[] = {
		"tunnel add", "tunnel set", "tunnel swap", "tunnel del",
		"tunnel unreachable", "tunnel expect",
	};
	struct tunnel_args a;
	struct subcommand sub;
	size_t i;
	int ret;

	if (argc < 2)
		return usage_error("tunnel");
	for (i = 0; subcommands[i].name; i++)
		if (!strcmp(argv[0], subcommands[i].name))
			break;
	if (!subcommands[i].name) {
		cmd_error("tunnel", "unknown subcommand \"%s\" (expected add, set, swap, del, unreachable or expect)",
			  argv[0]);
		return usage_error("tunnel");
	}
	sub = subcommands[i];
	sub.name = full_names[i];
	memset(&a, 0, sizeof(a));
	build_kw(&a, &sub);
	ret = kw_parse(sub.name, argc - 2, argv + 2, a.kw) ? 1 :
	      run(&sub, argv[1], &a);
	hexkey_wipe(&a, sizeof(a));
	return ret;
}
