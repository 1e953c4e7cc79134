// SPDX-License-Identifier: MIT
/* cyphctl's command table and help texts. */
#include "commands.h"

#include <string.h>

const struct command commands[] = {
	{ "show", cmd_show,
	  "cyphctl show [DEV] [--json]\n",
	  "Shows every cyphonic device (or only DEV): listening ports, cipher,\n"
	  "workers, counters (drop counters only when non-zero), local\n"
	  "identities, and each tunnel with its VIPs, endpoint, relay session,\n"
	  "keys (slot, key id, age, tx/rx counters; never key material), time\n"
	  "since the last authenticated packet and its counters.\n"
	  "Where cyphonicd manages the device, also its view (from its state\n"
	  "file in /run/cyphonic, or $CYPHONIC_RUNTIME_DIR): each tunnel's\n"
	  "path (direct, punched, relayed), peer name, last handshake and how\n"
	  "long route direction and the handshake took; without a daemon it\n"
	  "says so.\n"
	  "--json prints one JSON document with every counter (see\n"
	  "docs/cyphctl.md for its shape).\n" },
	{ "set", cmd_set,
	  "cyphctl set DEV [listen-port PORT] [cipher aes-gcm|chacha20-poly1305]\n"
	  "                [workers N] [detach 4|6|all]\n"
	  "                [max-tunnels N] [max-locals N]\n",
	  "listen-port PORT  opens a UDP socket for IPv4 and one for IPv6\n"
	  "                  (IPV6_V6ONLY), binds both to PORT (0 = any free port,\n"
	  "                  the same for both if possible) and hands them to the\n"
	  "                  kernel. The kernel uses a socket only while user space\n"
	  "                  keeps it open, so a background process\n"
	  "                  (cyphctl-socks) keeps them until the kernel lets go\n"
	  "                  of both; killing it detaches them from the device.\n"
	  "                  Without IPv6 (or IPv4) only the other one is handed.\n"
	  "detach 4|6|all    the kernel gives the socket(s) back (stops using them).\n"
	  "cipher NAME       AEAD for the device; only while it has no tunnels.\n"
	  "workers N         0 = all online CPUs, 1 = serial, N = at most N.\n"
	  "max-tunnels N     the most tunnels the device holds (default 1024);\n"
	  "                  not below the number it has.\n"
	  "max-locals N      the most local identities it holds (default 256).\n" },
	{ "local", cmd_local,
	  "cyphctl local add DEV [vip4 ADDR] [vip6 ADDR]\n"
	  "cyphctl local del DEV [vip4 ADDR] [vip6 ADDR]\n",
	  "Adds or deletes a local identity: the VIPs of one entity this device\n"
	  "serves (the node itself, or an adapter's general node). Tunnels'\n"
	  "local VIPs must be those of a local identity; deleting an identity\n"
	  "deletes its tunnels. At least one of vip4 and vip6 is required.\n" },
	{ "tunnel", cmd_tunnel,
	  "cyphctl tunnel add DEV index N peer-index N [local4 A remote4 A]\n"
	  "                  [local6 A remote6 A] [endpoint E] [relay ID]\n"
	  "                  [key-id K tx-key HEX|tx-key-file PATH\n"
	  "                   rx-key HEX|rx-key-file PATH]\n"
	  "cyphctl tunnel set DEV index N [endpoint E] [relay ID|none]\n"
	  "                  [slot primary|next key-id K tx-key .. rx-key ..]\n"
	  "cyphctl tunnel swap DEV index N\n"
	  "cyphctl tunnel del DEV index N\n"
	  "cyphctl tunnel unreachable DEV local4 A remote4 A | local6 A remote6 A\n"
	  "cyphctl tunnel expect DEV index N\n",
	  "index N        our receiver index for the tunnel (non-zero, unique)\n"
	  "peer-index N   the receiver index the peer chose\n"
	  "local4/remote4, local6/remote6\n"
	  "               the tunnel's VIP pairs; at least one complete pair\n"
	  "endpoint E     the peer's UDP address, IP:PORT or [IPV6]:PORT\n"
	  "relay ID       relay (TRS) session id; 0 or none = direct\n"
	  "key-id K       0..3, carried in every DATA packet (default 0)\n"
	  "tx-key, rx-key 64 hex characters (see `cyphctl genkey`); the -file\n"
	  "               forms read them from a file (safer: not visible in ps)\n"
	  "slot           tunnel set: primary replaces the sending key, next\n"
	  "               installs the key that `tunnel swap` promotes\n"
	  "swap           makes the next key primary (KEY_SWAP); refused when the\n"
	  "               next slot holds a retired key (after a swap or the\n"
	  "               kernel's own promotion)\n"
	  "unreachable    no tunnel can be made for the VIP pair (what cyphonicd\n"
	  "               does when it cannot answer a tunnel-needed event): its\n"
	  "               staged packets, and new ones for 5 s, are dropped with\n"
	  "               an ICMP host unreachable to their sender\n"
	  "expect         a tunnel with this index is being set up (what\n"
	  "               cyphonicd does when it answers a handshake): for 10 s,\n"
	  "               up to 4 DATA packets for the index are held, and\n"
	  "               received when `tunnel add` creates it\n"
	  "add installs a key in the primary slot. The kernel refuses a key the\n"
	  "tunnel has used before, and TX == RX. Static keys are for tests only:\n"
	  "a tunnel re-created with the same keys (e.g. after a reboot) repeats\n"
	  "nonces; cyphctl warns when keys are given.\n" },
	{ "monitor", cmd_monitor,
	  "cyphctl monitor [--json]\n",
	  "Prints one line per kernel event until SIGINT or SIGTERM:\n"
	  "  tunnel-needed dev DEV local ADDR remote ADDR\n"
	  "  key-limit dev DEV index N slot SLOT key-id K tx-counter N\n"
	  "            tx-limit N age-ms N\n"
	  "  key-promoted dev DEV index N slot primary key-id K\n"
	  "  endpoint dev DEV index N endpoint E relay ID\n"
	  "--json prints one JSON object per line with an \"event\" field\n"
	  "(\"tunnel_needed\", \"key_limit\", \"key_promoted\", \"endpoint\").\n" },
	{ "genkey", cmd_genkey,
	  "cyphctl genkey\n",
	  "Prints a fresh random 256-bit key as 64 hex characters. Warns when\n"
	  "its output is a file other users can read: (umask 077; cyphctl genkey > K)\n" },
	{ NULL, NULL, NULL, NULL },
};

const struct command *command_find(const char *name)
{
	const struct command *c;

	for (c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

void help_overview(FILE *f)
{
	const struct command *c;

	fprintf(f,
		"usage: cyphctl COMMAND [ARGS]\n"
		"Configures and shows cyphonic devices (the CYPHONIC kernel data plane).\n"
		"Create a device first: ip link add cyph0 type cyphonic\n\n"
		"Commands:\n");
	for (c = commands; c->name; c++)
		fprintf(f, "%s", c->usage);
	fprintf(f,
		"cyphctl help [COMMAND]\n"
		"cyphctl --version\n\n"
		"`cyphctl help COMMAND` or `cyphctl COMMAND --help` explains a command.\n"
		"All commands but genkey need the cyphonic kernel module; show, set,\n"
		"local and tunnel need CAP_NET_ADMIN. Exit status: 0 on success,\n"
		"1 on error.\n");
}

void help_command(FILE *f, const struct command *c)
{
	fprintf(f, "usage: %s\n%s", c->usage, c->help);
}

int usage_error(const char *name)
{
	const struct command *c = command_find(name);

	if (c)
		fprintf(stderr, "usage: %s", c->usage);
	return 1;
}
