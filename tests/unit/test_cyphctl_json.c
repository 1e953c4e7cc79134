/* SPDX-License-Identifier: MIT */
/* The JSON writer (user/lib/runtime/json_out.c) and `cyphctl show --json`'s shape. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/json_out.h"
#include "show.h"
#include "stats.h"
#include "tap.h"

static char *buf;
static size_t len;

static struct json_out *start(struct json_out *j)
{
	FILE *f = open_memstream(&buf, &len);

	json_init(j, f);
	return j;
}

/* Closes the stream; returns the text (caller frees) or NULL on misuse. */
static char *finish(struct json_out *j)
{
	bool ok = json_out_ok(j) && j->depth == 0;

	fclose(j->f);
	if (!ok) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void check_text(struct json_out *j, const char *want, const char *name)
{
	char *got = finish(j);

	TAP_CHECK(got && !strcmp(got, want), "%s: %s", name, got ? got : "(error)");
	free(got);
}

static void test_writer(void)
{
	struct json_out j;

	start(&j);
	json_obj_begin(&j);
	json_key(&j, "a");
	json_u64(&j, UINT64_MAX);
	json_key(&j, "b");
	json_arr_begin(&j);
	json_i64(&j, -1);
	json_bool(&j, true);
	json_null(&j);
	json_obj_begin(&j);
	json_obj_end(&j);
	json_arr_end(&j);
	json_key(&j, "c");
	json_arr_begin(&j);
	json_arr_end(&j);
	json_obj_end(&j);
	check_text(&j, "{\"a\":18446744073709551615,\"b\":[-1,true,null,{}],\"c\":[]}",
		   "nesting and commas");

	start(&j);
	json_str(&j, "q\" b\\ \n\t\r\b\f \x01\x1f é/");
	check_text(&j, "\"q\\\" b\\\\ \\n\\t\\r\\b\\f \\u0001\\u001f é/\"",
		   "string escaping");

	start(&j);
	json_obj_begin(&j);
	json_u64(&j, 1);
	TAP_CHECK(!finish(&j), "value without key is an error");

	start(&j);
	json_arr_begin(&j);
	json_obj_end(&j);
	TAP_CHECK(!finish(&j), "mismatched end is an error");

	start(&j);
	json_arr_begin(&j);
	json_key(&j, "k");
	TAP_CHECK(!finish(&j), "key inside array is an error");

	start(&j);
	for (int i = 0; i < JSON_OUT_MAX_DEPTH + 1; i++)
		json_arr_begin(&j);
	TAP_CHECK(!finish(&j), "too deep is an error");
}

static void test_stat_names(void)
{
	unsigned int i, k, named = 0, drops = 0;
	bool unique = true;

	for (i = 1; i <= CYPHONIC_STAT_MAX; i++) {
		named += stat_name(i) != NULL;
		drops += stat_is_drop(i);
		for (k = 1; k < i; k++)
			if (stat_name(i) && stat_name(k) &&
			    !strcmp(stat_name(i), stat_name(k)))
				unique = false;
	}
	TAP_CHECK(named == CYPHONIC_STAT_MAX, "every counter has a name");
	TAP_CHECK(unique, "counter names are unique");
	TAP_CHECK(drops == 28, "28 drop counters (%u)", drops);
	TAP_CHECK(!strcmp(stat_name(CYPHONIC_STAT_RX_DROP_AUTH), "rx_drop_auth"),
		  "rx_drop_auth name");
	TAP_CHECK(!stat_is_drop(CYPHONIC_STAT_RX_CONTROL), "rx_control is no drop");
}

/* Spelled out (not from stats.c) so that a renamed counter fails the test. */
static const char *const want_names[CYPHONIC_STAT_MAX + 1] = {
	NULL, "rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "rx_control",
	"rx_drop_bad_header", "rx_drop_unknown_index", "rx_drop_no_key",
	"rx_drop_auth", "rx_drop_replay", "rx_drop_cryptokey",
	"rx_drop_bad_inner", "rx_drop_queue_full", "tx_drop_no_tunnel",
	"tx_drop_staged_full", "tx_drop_staged_timeout", "tx_drop_no_key",
	"tx_drop_no_endpoint", "tx_drop_bad_inner", "tx_drop_queue_full",
	"tx_drop_send_error", "tx_drop_key_exhausted", "tx_drop_key_expired",
	"rx_drop_key_expired", "tx_drop_no_socket", "rx_drop_too_long",
	"tx_drop_queue_share", "rx_drop_queue_share", "tx_drop_route_loop",
	"tx_drop_unreachable", "tx_icmp_unreachable", "tx_gso_sends",
	"rx_early_held", "rx_drop_early_timeout", "tx_gso_shared",
	"rx_train_units", "tx_drop_queue_delay", "rx_drop_queue_delay",
};

/* The stats object with every counter 0 except one. */
static void stats_json(char *out, size_t size, unsigned int nonzero,
		       uint64_t v)
{
	size_t n = 0;
	unsigned int i;

	n += (size_t)snprintf(out + n, size - n, "{");
	for (i = 1; i <= CYPHONIC_STAT_MAX; i++)
		n += (size_t)snprintf(out + n, size - n, "%s\"%s\":%llu",
				      i > 1 ? "," : "", want_names[i],
				      i == nonzero ? (unsigned long long)v : 0ULL);
	snprintf(out + n, size - n, "}");
}

static void test_show_json(void)
{
	struct cy_tunnel t[2] = { 0 };
	struct cy_local l[2] = { 0 };
	struct cy_device d = { 0 };
	struct nodestate_tunnel dt = { 0 };
	struct nodestate_gnode dg = { .name = "cam1", .fqdn = "cam1.cyph.test",
				      .mac = "02:00:5e:00:00:01", .method = "8021x", .vip = "-",
				      .state = "down", .why = "waiting for 802.1X" };
	struct cy_model m = { .devs = &d, .ndevs = 1 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&t[0].endpoint;
	char want[8192], st_dev[2048], st_t0[2048], st_t1[2048];
	char *got;
	FILE *f;

	d.ifindex = 5;
	strcpy(d.name, "cyph\"0");
	d.port4 = 51820;
	d.cipher = CYPHONIC_CIPHER_CHACHA20_POLY1305;
	d.workers = 2;
	d.max_tunnels = 1024;
	d.max_locals = 256;
	d.stats.v[CYPHONIC_STAT_RX_DROP_AUTH] = 3;
	l[0].has_vip4 = true;
	inet_pton(AF_INET, "10.0.0.1", &l[0].vip4);
	l[1].has_vip6 = true;
	inet_pton(AF_INET6, "fd00::1", &l[1].vip6);
	d.locals = l;
	d.nlocals = 2;
	t[0].index = 1;
	t[0].peer_index = 2;
	t[0].has_local4 = t[0].has_remote4 = true;
	inet_pton(AF_INET, "10.0.0.1", &t[0].local4);
	inet_pton(AF_INET, "10.0.0.2", &t[0].remote4);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(51820);
	inet_pton(AF_INET, "192.0.2.1", &sin->sin_addr);
	t[0].endpoint_len = sizeof(*sin);
	t[0].nkeys = 2;
	t[0].keys[0] = (struct cy_key){ .slot = 0, .id = 0, .age_ms = 123,
					.tx_counter = 5, .rx_counter = 4,
					.tx_limit = 8388608 };
	t[0].keys[1] = (struct cy_key){ .slot = 1, .id = 1, .age_ms = 7,
					.tx_limit = 8388608, .retired = true,
					.retired_ms = 3 };
	t[0].has_last_rx = true;
	t[0].last_rx_ms = 99;
	t[0].stats.v[CYPHONIC_STAT_TX_PACKETS] = 5;
	t[1].index = 7;
	t[1].relay = 9;
	t[1].has_local6 = t[1].has_remote6 = true;
	inet_pton(AF_INET6, "fd00::1", &t[1].local6);
	inet_pton(AF_INET6, "fd00::2", &t[1].remote6);
	d.tunnels = t;
	d.ntunnels = 2;
	/* cyphonicd's view: tunnel 1 is its, 7 is not (a static one) */
	d.daemon = CY_DAEMON_LIVE;
	d.ds.h.pid = 42;
	strcpy(d.ds.h.node, "alice.cyph.test");
	d.ds.t = &dt;
	d.ds.n = 1;
	d.ds.g = &dg;
	d.ds.ng = 1;
	dt.index = 1;
	strcpy(dt.path, "relayed");
	strcpy(dt.peer, "bob.cyph.test");
	dt.initiator = true;
	dt.handshake_unix_ms = INT64_MAX / 2;	/* in the future: age 0 */
	dt.route_ms = 12;
	dt.handshake_ms = 480;
	dt.rekeys = 3;

	stats_json(st_dev, sizeof(st_dev), CYPHONIC_STAT_RX_DROP_AUTH, 3);
	stats_json(st_t0, sizeof(st_t0), CYPHONIC_STAT_TX_PACKETS, 5);
	stats_json(st_t1, sizeof(st_t1), 0, 0);
	snprintf(want, sizeof(want),
		 "{\"devices\":[{\"name\":\"cyph\\\"0\",\"ifindex\":5,\"port4\":51820,\"port6\":0,"
		 "\"cipher\":\"chacha20-poly1305\",\"workers\":2,\"max_tunnels\":1024,\"max_locals\":256,\"stats\":%s,"
		 "\"daemon\":{\"state\":\"running\",\"pid\":42,\"node\":\"alice.cyph.test\",\"nat\":\"unknown\",\"malformed_lines\":0,"
		 "\"general_nodes\":[{\"name\":\"cam1\",\"fqdn\":\"cam1.cyph.test\","
		 "\"mac\":\"02:00:5e:00:00:01\",\"method\":\"8021x\",\"vip\":null,\"state\":\"down\","
		 "\"why\":\"waiting for 802.1X\"}]},"
		 "\"locals\":[{\"vip4\":\"10.0.0.1\"},{\"vip6\":\"fd00::1\"}],"
		 "\"tunnels\":[{\"index\":1,\"peer_index\":2,\"local4\":\"10.0.0.1\","
		 "\"remote4\":\"10.0.0.2\",\"endpoint\":\"192.0.2.1:51820\",\"relay\":0,"
		 "\"keys\":[{\"slot\":\"primary\",\"key_id\":0,\"age_ms\":123,\"tx_counter\":5,\"rx_counter\":4,"
		 "\"tx_limit\":8388608},"
		 "{\"slot\":\"next\",\"key_id\":1,\"age_ms\":7,\"tx_counter\":0,\"rx_counter\":0,"
		 "\"tx_limit\":8388608,\"retired_ms\":3}],"
		 "\"last_rx_ms\":99,\"stats\":%s,\"daemon\":{\"path\":\"relayed\",\"peer\":\"bob.cyph.test\","
		 "\"role\":\"initiator\",\"last_handshake_unix_ms\":4611686018427387903,"
		 "\"last_handshake_age_ms\":0,\"handshake_ms\":480,\"route_direction_ms\":12,"
		 "\"rekeys\":3}},"
		 "{\"index\":7,\"peer_index\":0,\"local6\":\"fd00::1\",\"remote6\":\"fd00::2\","
		 "\"endpoint\":null,\"relay\":9,\"keys\":[],\"last_rx_ms\":null,\"stats\":%s,\"daemon\":null}]}]}\n",
		 st_dev, st_t0, st_t1);
	f = open_memstream(&got, &len);
	TAP_CHECK(show_json(f, &m) == 0, "show_json succeeds");
	fclose(f);
	TAP_CHECK(!strcmp(got, want), "show --json shape");
	if (strcmp(got, want))
		printf("# got:  %s# want: %s", got, want);
	free(got);

	m.ndevs = 0;
	f = open_memstream(&got, &len);
	show_json(f, &m);
	fclose(f);
	TAP_CHECK(!strcmp(got, "{\"devices\":[]}\n"), "no devices: empty list");
	free(got);
}

int main(void)
{
	test_writer();
	test_stat_names();
	test_show_json();
	return tap_done();
}
