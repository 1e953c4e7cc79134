// SPDX-License-Identifier: MIT
/*
 * cyphonic-loadgen: drives the signaling sequence on loopback at a chosen
 * rate and prints one "RESULT ..." line per measurement (tests/bench/
 * cloud.sh turns them into a table).
 *
 *   cyphonic-loadgen as  --as ADDR --as-ca CA --name N --password P [--threads T]
 *   cyphonic-loadgen nms --nms ADDR --ca-cert CA --ca-key KEY --nms-cert CERT [--nodes N]
 *   cyphonic-loadgen seq --nms ADDR --ca-cert CA --ca-key KEY --nms-cert CERT --ramp R1,R2,..
 *   cyphonic-loadgen trs --nms ADDR --ca-cert CA --ca-key KEY --nms-cert CERT [--sessions S --size B]
 *   cyphonic-loadgen idle --as ADDR --as-ca CA [--conns N --window W --seconds HOLD]
 *   cyphonic-loadgen timers [--seconds S]   (event loop re-arm cost, no daemon)
 *   cyphonic-loadgen issue --ca-cert CA --ca-key KEY NAME ID CERT_OUT KEY_OUT
 *   common: --seconds S --rate R (0: max) --window W --pid PID (daemon CPU)
 *           --retry (backoff and jitter, client/retry.h) --tick --socks N (UDP flows)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lg.h"
#include "runtime/version.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cyphonic-loadgen as|nms|seq|trs|flood|idle|timers|issue [options]\n"
		"  --as ADDR --as-ca PATH --name N --password P --threads T   (as)\n"
		"  --as-name NAME  the name in the AS certificate (default 127.0.0.1)\n"
		"  --reconnect     a new TLS connection per authentication (as)\n"
		"  --as ADDR --as-ca PATH --conns N (default 10000)            (idle: open, then\n"
		"                                     hold --seconds; --window handshakes at once)\n"
		"  timers: cost of a timer re-arm at 1k, 10k, 100k timers, --seconds each\n"
		"  --nms ADDR --ca-cert PATH --ca-key PATH --nms-cert PATH      (nms, trs, issue)\n"
		"  --nodes N (nms, default 1000)  --sessions S --size BYTES (trs)\n"
		"  seq: register+route sequences at each --ramp R1,R2,... (per second, or max),\n"
		"       --seconds each\n"
		"  --retry     retry with backoff and jitter on another replica (client/retry.h)\n"
		"  --tick      a RESULT test=tick line every second\n"
		"  --socks N   UDP flows the simulated nodes share (nms, seq, trs; default 16)\n"
		"  --first-id K  simulated nodes are K.. K+N-1 (nms, seq, trs; default 0): for\n"
		"              several generators against one NMS\n"
		"  --timeout MS  without --retry, a request unanswered this long failed (1000)\n"
		"  flood: --nodes N keepalive (50) while --rate R badly signed REGISTERs/s\n"
		"         (50000) come from --sources K addresses in 127.1/16 (512)\n"
		"  --seconds S (default 5)  --rate R (0 = max)  --window W (default 64)\n"
		"  --pid PID   measure this daemon's CPU time (/proc/PID/stat)\n"
		"  issue NAME ID CERT_OUT KEY_OUT\n"
		"cyphonic-loadgen --version\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "as", 1, NULL, 'a' }, { "as-ca", 1, NULL, 'A' }, { "name", 1, NULL, 'n' },
		{ "password", 1, NULL, 'p' }, { "nms", 1, NULL, 'm' },
		{ "ca-cert", 1, NULL, 'c' }, { "ca-key", 1, NULL, 'k' },
		{ "nms-cert", 1, NULL, 'C' }, { "pid", 1, NULL, 'P' },
		{ "nodes", 1, NULL, 'N' }, { "threads", 1, NULL, 'T' },
		{ "window", 1, NULL, 'w' }, { "size", 1, NULL, 's' },
		{ "sessions", 1, NULL, 'S' }, { "rate", 1, NULL, 'r' },
		{ "seconds", 1, NULL, 'd' }, { "conns", 1, NULL, 'x' }, { "help", 0, NULL, 'h' },
		{ "socks", 1, NULL, 'F' }, { "retry", 0, NULL, 'R' }, { "tick", 0, NULL, 't' },
		{ "ramp", 1, NULL, 'G' }, { "as-name", 1, NULL, 'M' },
		{ "reconnect", 0, NULL, 'X' }, { "sources", 1, NULL, 'Q' },
		{ "first-id", 1, NULL, 'I' }, { "timeout", 1, NULL, 'O' }, { "version", 0, NULL, 'V' }, { NULL, 0, NULL, 0 },
	};
	struct lg_opts o = { .as_name = "127.0.0.1", .nodes = 1000, .threads = 2, .window = 64,
			     .size = 1200, .sessions = 16, .seconds = 5, .conns = 10000,
			     .socks = 16, .sources = 512 };
	bool explicit_nodes = false, explicit_rate = false;
	const char *mode;
	int c;

	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (c) {
		case 'a': o.as = optarg; break;
		case 'A': o.as_ca = optarg; break;
		case 'n': o.name = optarg; break;
		case 'p': o.password = optarg; break;
		case 'm': o.nms = optarg; break;
		case 'c': o.ca_cert = optarg; break;
		case 'k': o.ca_key = optarg; break;
		case 'C': o.nms_cert = optarg; break;
		case 'P': o.pid = atoi(optarg); break;
		case 'N': o.nodes = atoi(optarg); explicit_nodes = true; break;
		case 'T': o.threads = atoi(optarg); break;
		case 'w': o.window = atoi(optarg); break;
		case 's': o.size = atoi(optarg); break;
		case 'S': o.sessions = atoi(optarg); break;
		case 'r': o.rate = atof(optarg); explicit_rate = true; break;
		case 'd': o.seconds = atof(optarg); break;
		case 'x': o.conns = atoi(optarg); break;
		case 'F': o.socks = atoi(optarg); break;
		case 'R': o.retry = true; break;
		case 't': o.tick = true; break;
		case 'G': o.ramp = optarg; break;
		case 'M': o.as_name = optarg; break;
		case 'X': o.reconnect = true; break;
		case 'Q': o.sources = atoi(optarg); break;
		case 'I': o.first_id = atoi(optarg); break;
		case 'O': o.timeout_ms = atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		case 'V': cyph_version_print("cyphonic-loadgen"); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	mode = argv[optind];
	if (o.nodes < 2 || o.window < 1 || o.sessions < 1 || o.threads < 1 || o.conns < 1 ||
	    o.socks < 1 || o.socks > 1024 || o.first_id < 0 || o.first_id > 100000000) {
		fprintf(stderr, "loadgen: --nodes >= 2, --window/--sessions/--threads/--conns >= 1,"
			" --socks 1..1024, --first-id 0..100000000\n");
		return 2;
	}
	if (!strcmp(mode, "as") && o.as && o.as_ca && o.name && o.password)
		return lg_run_as(&o);
	if (!strcmp(mode, "nms") && o.nms && o.ca_cert && o.ca_key && o.nms_cert)
		return lg_run_nms(&o);
	if (!strcmp(mode, "seq") && o.nms && o.ca_cert && o.ca_key && o.nms_cert && o.ramp)
		return lg_run_seq(&o);
	if (!strcmp(mode, "trs") && o.nms && o.ca_cert && o.ca_key && o.nms_cert)
		return lg_run_trs(&o);
	if (!strcmp(mode, "flood") && o.nms && o.ca_cert && o.ca_key && o.nms_cert) {
		if (!explicit_nodes)
			o.nodes = 50;
		if (!explicit_rate)
			o.rate = 50000;
		if (o.sources < 1 || o.sources > 60000) {
			fprintf(stderr, "loadgen: --sources 1..60000\n");
			return 2;
		}
		return lg_run_flood(&o);
	}
	if (!strcmp(mode, "idle") && o.as && o.as_ca)
		return lg_run_idle(&o);
	if (!strcmp(mode, "timers"))
		return lg_run_timers(&o);
	if (!strcmp(mode, "issue") && o.ca_cert && o.ca_key && optind + 4 < argc)
		return lg_issue(&o, argv[optind + 1], strtoull(argv[optind + 2], NULL, 10),
				argv[optind + 3], argv[optind + 4]) ? 1 : 0;
	usage(stderr);
	return 2;
}
