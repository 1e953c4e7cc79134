// SPDX-License-Identifier: MIT
/*
 * IEEE 802.1X admission ([adapter] ieee8021x): hostapd's wired driver
 * with its integrated EAP server is the authenticator on the LAN
 * interface, run and supervised by cyphonicd (child.c) as dnsmasq
 * is. The method is PEAP-MSCHAPv2: the device proves its password inside
 * a TLS tunnel to the adapter's EAP server certificate
 * ([adapter] eap_server_cert/eap_server_key), and the adapter needs
 * only the NT hash of that password, which the AS gives it for each of
 * its 802.1X general nodes (EAP_SECRET, docs/as.md). Files in run_dir:
 *
 *   hostapd.conf      written at start: wired driver on lan_interface,
 *                     EAP server, per-MAC sessions (use_pae_group_addr=0:
 *                     answers go to the device's MAC, so several devices
 *                     can share the LAN segment);
 *   hostapd.eap_user  mode 0600: "* PEAP" (any outer identity), then one
 *                     MSCHAPV2 line per 802.1X general node (its name,
 *                     the NT hash); rewritten when the AS's list changes,
 *                     and hostapd restarted to read it;
 *   hostapd/LAN       hostapd's control socket.
 *
 * The daemon attaches to the control socket (ATTACH) and follows its
 * events: AP-STA-CONNECTED MAC (the session is authorized: once hostapd
 * has answered STA MAC with the identity the session proved, and that is
 * the MAC's own node's name, the node may be admitted and adapter.c asks
 * the AS with EAP_RESULT = 1; another name is refused, since the EAP
 * server takes any listed user's password from any MAC),
 * AP-STA-DISCONNECTED MAC (the session ended: cut off), and
 * CTRL-EVENT-EAP-FAILURE MAC (wrong credentials: counted, stays down).
 * A session also ends when its LAN port goes (port.c): hostapd is told
 * to forget the station (DEAUTHENTICATE), counted as port_down.
 * Until its session is authorized a device has no lease; from then on it
 * has, while the AS is asked, and until it is admitted the nftables
 * guard drops what it sends beyond the adapter.
 *
 * A restarted hostapd (new users file, or a crash) knows no session:
 * after attaching again the daemon sends NEW_STA for every device it
 * holds as authorized, which makes hostapd start EAP with it at once; the
 * device authenticates again (AP-STA-CONNECTED: nothing changes) or
 * fails (cut off).
 *
 * When a session ends (EAPOL-Logoff, or its port went down) hostapd keeps
 * the station 5 s before it forgets it (AP_MAX_INACTIVITY_AFTER_DEAUTH,
 * not configurable) and loses what the device sends meanwhile: a device
 * that logs on again or whose link bounces within those 5 s has its
 * EAPOL-Start ignored and, as 802.1X says, tries again only after
 * startPeriod (30 s), often twice. So once hostapd can have forgotten the
 * station the daemon sends NEW_STA for it (ASK_FIRST_MS, then every
 * ASK_EVERY_MS, ASK_TRIES in all, until it is authorized; on the
 * ASK_TICK_MS timer, so up to a tick later): hostapd asks the device for
 * its identity at once. A device that stays logged off ignores the
 * question; NEW_STA for a station hostapd still holds does nothing. A
 * restarted hostapd is asked for these devices too when the daemon
 * attaches again. A failed authentication is never asked again, nor is
 * one pending after it: the device's supplicant decides when to retry a
 * password, not the adapter.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "pki/nthash.h"
#include "runtime/evloop.h"
#include "runtime/fileutil.h"
#include "runtime/metrics.h"
#include "internal.h"

#define ATTACH_RETRY_MS 250
#define ATTACH_TRIES 40
#define ASK_FIRST_MS 6000	/* hostapd's 5 s station hold, and a margin */
#define ASK_EVERY_MS 6000
#define ASK_TRIES 4
#define ASK_TICK_MS 1000

static struct {
	struct cyd_child child;
	struct cyd_adapter *a;
	char conf[CYPH_CFG_PATH_MAX + 32], users[CYPH_CFG_PATH_MAX + 32];
	char ctrl_dir[CYPH_CFG_PATH_MAX + 32], local[CYPH_CFG_PATH_MAX + 32];
	char *users_text;
	int fd;				/* our end of the control interface */
	struct cyph_timer *attach;
	int tries;
	struct cyph_timer *ask;		/* NEW_STA for ended sessions (ASK_*) */
	struct cyph_counter *events[5];
} eap = { .fd = -1 };

static const char *const event_names[] = { "authorized", "ended", "failed", "port_down",
					    "wrong_identity" };
#define N_EVENTS (sizeof(event_names) / sizeof(event_names[0]))

/*
 * A file only hostapd (root) may read: a fresh inode, never a planted
 * file or link, nor a temporary file left with a looser mode.
 */
static int write_private(const char *path, const char *text, char *err, size_t errlen)
{
	return cyph_write_file_atomic(path, text, strlen(text), 0600, err, errlen);
}

/* The eap_user text for the listed 802.1X nodes (malloc'd). */
static char *users_text(const struct cyd_adapter *a)
{
	char *text = NULL, hex[CYPH_NT_STR_MAX];
	size_t len = 0;
	uint8_t nt[16];
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fputs("# written by cyphonicd from the AS's general nodes; do not edit\n"
	      "* PEAP\n", f);
	for (const struct cyd_gn *g = a->list; g; g = g->next) {
		if (g->method != CYPH_GN_8021X || g->state == CYD_GN_BLOCKED ||
		    !cyph_nt_parse(g->secret, nt))
			continue;
		cyph_nt_format(nt, hex);
		fprintf(f, "\"%s\" MSCHAPV2 hash:%s [2]\n", g->name, hex + 3);
	}
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

static void on_ctrl(struct cyph_loop *loop, int fd, uint32_t events, void *arg);

/* One control command about a station, "VERB MAC": 0 once sent. */
static int sta_cmd(int fd, const char *verb, const uint8_t mac[6])
{
	char cmd[48];

	snprintf(cmd, sizeof(cmd), "%s %02x:%02x:%02x:%02x:%02x:%02x", verb, mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
	if (send(fd, cmd, strlen(cmd), 0) >= 0)
		return 0;
	log_warn("[adapter] hostapd: %s: %s", cmd, strerror(errno));
	return -1;
}

/* Make hostapd start EAP with g's device now (unless it holds its station). */
static int new_sta(int fd, const struct cyd_gn *g)
{
	return sta_cmd(fd, "NEW_STA", g->mac);
}

static void detach(void)
{
	if (eap.fd >= 0) {
		cyph_loop_del_fd(eap.a->d->loop, eap.fd);
		close(eap.fd);
		unlink(eap.local);
	}
	eap.fd = -1;
}

/* One try to attach to hostapd's control socket: 0 when attached. */
static int attach_once(void)
{
	struct sockaddr_un me = { .sun_family = AF_UNIX }, hd = { .sun_family = AF_UNIX };
	char buf[16];
	ssize_t n;
	int fd;

	detach();
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if ((size_t)snprintf(me.sun_path, sizeof(me.sun_path), "%s", eap.local) >=
	    sizeof(me.sun_path) ||
	    (size_t)snprintf(hd.sun_path, sizeof(hd.sun_path), "%s/%s", eap.ctrl_dir,
			     eap.a->d->cfg.adapter.lan) >= sizeof(hd.sun_path)) {
		errno = ENAMETOOLONG;	/* run_dir too long for a socket's name */
		close(fd);
		return -1;
	}
	unlink(eap.local);
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) ||
	    connect(fd, (struct sockaddr *)&hd, sizeof(hd)) || send(fd, "ATTACH", 6, 0) != 6)
		goto fail;
	/* hostapd answers at once; a short wait is enough on the loop's thread */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ .tv_usec = 500000 },
		   sizeof(struct timeval));
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n < 3 || strncmp(buf, "OK", 2))
		goto fail;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (cyph_loop_add_fd(eap.a->d->loop, fd, EPOLLIN, on_ctrl, eap.a))
		goto fail;
	eap.fd = fd;
	log_info("[adapter] attached to hostapd's control interface (%s)", hd.sun_path);
	/* sessions the daemon holds, which a (re)started hostapd does not */
	for (const struct cyd_gn *g = eap.a->list; g; g = g->next)
		if (g->method == CYPH_GN_8021X && (g->eap_ok || g->eap_ask_ms) &&
		    !new_sta(fd, g))
			log_info("general node %s: asking for 802.1X again (hostapd restarted)",
				 g->fqdn);
	return 0;
fail:
	close(fd);
	unlink(eap.local);
	return -1;
}

static void on_attach(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	(void)arg;
	eap.attach = NULL;
	if (!attach_once())
		return;
	if (++eap.tries >= ATTACH_TRIES) {
		log_err("[adapter] hostapd's control interface %s/%s: %s: no 802.1X events",
			eap.ctrl_dir, eap.a->d->cfg.adapter.lan, strerror(errno));
		return;
	}
	eap.attach = cyph_loop_add_timer(eap.a->d->loop, ATTACH_RETRY_MS, false, on_attach, NULL);
}

/* child.c: hostapd (re)started; its control socket comes up soon. */
static void started(struct cyd_child *c, void *arg)
{
	(void)c;
	(void)arg;
	detach();
	eap.tries = 0;
	if (!eap.attach)
		eap.attach = cyph_loop_add_timer(eap.a->d->loop, ATTACH_RETRY_MS, false,
						 on_attach, NULL);
}

/*
 * One event: "<LEVEL>NAME ARGS"; the ones this file follows, others
 * ignored. An authorization is passed on once hostapd has said which
 * identity it proved (answer()).
 */
static void event(struct cyd_adapter *a, char *msg)
{
	/*
	 * CTRL-EVENT-EAP-SUCCESS comes with every successful EAP exchange;
	 * AP-STA-CONNECTED only when hostapd's station was not authorized
	 * yet, so a session that re-authenticates after the daemon ended it
	 * (its port went down) is seen by the first. Counted: the others.
	 */
	static const struct {
		const char *name;
		int ev;
		bool counted;
	} names[] = {
		{ "AP-STA-CONNECTED ", CYD_EAP_AUTHORIZED, true },
		{ "AP-STA-DISCONNECTED ", CYD_EAP_ENDED, true },
		{ "CTRL-EVENT-EAP-FAILURE ", CYD_EAP_FAILED, true },
		{ "CTRL-EVENT-EAP-SUCCESS ", CYD_EAP_AUTHORIZED, false },
	};
	char *p = msg[0] == '<' ? strchr(msg, '>') : NULL;
	uint8_t mac[6];

	p = p ? p + 1 : msg;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i].name);

		if (strncmp(p, names[i].name, n) || cyd_hostapd_mac_parse(p + n, mac))
			continue;
		if (names[i].counted)
			cyph_counter_inc(eap.events[names[i].ev]);
		/* which identity it proved comes with hostapd's answer to STA */
		if (names[i].ev == CYD_EAP_AUTHORIZED)
			sta_cmd(eap.fd, "STA", mac);
		else
			cyd_adapter_eap_event(a, mac, names[i].ev, NULL);
		return;
	}
}

/* A command's answer: STA's, for a session just authorized; others ignored. */
static void answer(struct cyd_adapter *a, const char *msg)
{
	char identity[CYPH_NAME_MAX];
	uint8_t mac[6];
	bool authorized;

	if (!cyd_hostapd_sta_parse(msg, mac, &authorized, identity, sizeof(identity)) &&
	    authorized)
		cyd_adapter_eap_event(a, mac, CYD_EAP_AUTHORIZED, identity);
}

static void on_ctrl(struct cyph_loop *loop, int fd, uint32_t events, void *arg)
{
	char buf[4096];			/* STA's answer is about 1 KiB */
	ssize_t n;

	(void)loop;
	(void)events;
	while ((n = recv(fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = '\0';
		if (buf[0] == '<')	/* an event: "<LEVEL>NAME ARGS" */
			event(arg, buf);
		else
			answer(arg, buf);
	}
}

void cyd_adapter_eap_refuse(const uint8_t mac[6])
{
	cyph_counter_inc(eap.events[4]);
	if (eap.fd >= 0)
		sta_cmd(eap.fd, "DEAUTHENTICATE", mac);
}

void cyd_adapter_eap_port_down(const uint8_t mac[6])
{
	cyph_counter_inc(eap.events[3]);
	/* hostapd ends the station's session (AP-STA-DISCONNECTED, ignored then)
	 * and starts afresh with the device's next frame */
	if (eap.fd >= 0)
		sta_cmd(eap.fd, "DEAUTHENTICATE", mac);
}

/* Every ASK_TICK_MS while an ended session waits for its NEW_STA. */
static void on_ask(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	uint64_t now = cyph_now_ms();
	bool pending = false;

	(void)arg;
	for (struct cyd_gn *g = eap.a->list; g; g = g->next) {
		if (!g->eap_ask_ms)
			continue;
		if (g->eap_ok || g->method != CYPH_GN_8021X) {
			g->eap_ask_ms = 0;
			continue;
		}
		if (now >= g->eap_ask_ms) {
			/* detached: attach_once() asks when hostapd is back */
			if (eap.fd >= 0 && !new_sta(eap.fd, g))
				log_info("general node %s: its session ended: asking for 802.1X "
					 "(%u of %u)", g->fqdn, g->eap_asks + 1u,
					 (unsigned int)ASK_TRIES);
			g->eap_ask_ms = ++g->eap_asks < ASK_TRIES ? now + ASK_EVERY_MS : 0;
		}
		pending |= g->eap_ask_ms != 0;
	}
	if (!pending) {
		cyph_loop_del_timer(loop, t);
		eap.ask = NULL;
	}
}

void cyd_adapter_eap_ask_later(struct cyd_gn *g)
{
	if (!eap.a)
		return;
	g->eap_asks = 0;
	g->eap_ask_ms = cyph_now_ms() + ASK_FIRST_MS;
	if (!eap.ask)
		eap.ask = cyph_loop_add_timer(eap.a->d->loop, ASK_TICK_MS, true, on_ask, NULL);
}

void cyd_adapter_eap_update(struct cyd_adapter *a)
{
	char *text, err[256];

	if (!eap.a || !(text = users_text(a)))
		return;
	if (eap.users_text && !strcmp(text, eap.users_text)) {
		free(text);
		return;
	}
	if (write_private(eap.users, text, err, sizeof(err))) {
		log_err("[adapter] %s", err);
		free(text);
		return;
	}
	free(eap.users_text);
	eap.users_text = text;
	log_info("[adapter] 802.1X users updated (%s): restarting hostapd to read them",
		 eap.users);
	cyd_child_restart(&eap.child);
}

static int write_conf(struct cyd_adapter *a, char *err, size_t errlen)
{
	const struct cyd_adapter_config *c = &a->d->cfg.adapter;
	char buf[4096];
	int n;

	n = snprintf(buf, sizeof(buf),
		     "# written by cyphonicd at start ([adapter] ieee8021x); do not edit\n"
		     "interface=%s\ndriver=wired\nctrl_interface=%s\n"
		     "logger_stdout=-1\nlogger_stdout_level=2\nlogger_syslog=0\n"
		     "ieee8021x=1\neapol_version=2\nuse_pae_group_addr=0\n"
		     "eap_server=1\neap_user_file=%s\nserver_cert=%s\nprivate_key=%s\n",
		     c->lan, eap.ctrl_dir, eap.users, c->eap_cert, c->eap_key);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		snprintf(err, errlen, "%s: too long", eap.conf);
		return -1;
	}
	return write_private(eap.conf, buf, err, errlen);
}

int cyd_adapter_eap_start(struct cyd_adapter *a, char *err, size_t errlen)
{
	const struct cyd_adapter_config *c = &a->d->cfg.adapter;
	char labels[32];

	if (!c->ieee8021x)
		return 0;
	for (size_t i = 0; i < N_EVENTS; i++) {
		if (eap.events[i])
			continue;
		snprintf(labels, sizeof(labels), "event=\"%s\"", event_names[i]);
		eap.events[i] = cyph_counter_new("cyphonicd_eap_sessions_total",
			"802.1X sessions on the LAN by event (hostapd's authorizations, ends, "
			"EAP failures)", labels);
	}
	eap.a = a;
	eap.fd = -1;
	snprintf(eap.conf, sizeof(eap.conf), "%s/hostapd.conf", c->run_dir);
	snprintf(eap.users, sizeof(eap.users), "%s/hostapd.eap_user", c->run_dir);
	snprintf(eap.ctrl_dir, sizeof(eap.ctrl_dir), "%s/hostapd", c->run_dir);
	snprintf(eap.local, sizeof(eap.local), "%s/cyphonicd-hostapd.sock", c->run_dir);
	if (cyd_adapter_run_dir(c, err, errlen)) {
		eap.a = NULL;
		return -1;
	}
	if (!(eap.users_text = users_text(a)))
		snprintf(err, errlen, "[adapter] ieee8021x: out of memory");
	if (!eap.users_text || write_conf(a, err, errlen) ||
	    write_private(eap.users, eap.users_text, err, errlen)) {
		free(eap.users_text);
		eap.users_text = NULL;
		eap.a = NULL;
		return -1;
	}
	eap.child = (struct cyd_child){ .what = "hostapd", .path = c->hostapd,
					.argv = { "hostapd", eap.conf, NULL }, .started = started };
	if (cyd_child_start(&eap.child, a->d->loop)) {
		snprintf(err, errlen, "hostapd: cannot start");
		eap.a = NULL;
		return -1;
	}
	return 0;
}

void cyd_adapter_eap_stop(struct cyd_adapter *a)
{
	(void)a;
	if (!eap.a)
		return;
	if (eap.attach)
		cyph_loop_del_timer(eap.a->d->loop, eap.attach);
	eap.attach = NULL;
	if (eap.ask)
		cyph_loop_del_timer(eap.a->d->loop, eap.ask);
	eap.ask = NULL;
	detach();
	cyd_child_stop(&eap.child);
	free(eap.users_text);
	eap.users_text = NULL;
	eap.a = NULL;
}
