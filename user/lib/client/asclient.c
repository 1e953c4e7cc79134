// SPDX-License-Identifier: MIT
/* Blocking AS protocol client (asclient.h). */
#include "asclient.h"
#include "runtime/config.h"
#include "runtime/sslerr.h"
#include "pki/tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct cyph_asclient {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	uint32_t next_id;
};

void cyph_as_credential_free(struct cyph_as_credential *c)
{
	free(c->cert);
	free(c->ca_cert);
	c->cert = c->ca_cert = NULL;
}

static int tcp_connect(const char *addr, int timeout_ms, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	struct cyph_cfg_addr a;
	const char *why = "";
	int fd;

	if (cyph_parse_addr(addr, &a, &why))
		return cyph_fail(err, errlen, "%s: %s", addr, why);
	fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cyph_fail(err, errlen, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a.ss, a.len)) {
		int e = errno;

		close(fd);
		return cyph_fail(err, errlen, "connect %s: %s", addr, strerror(e));
	}
	return fd;
}

struct cyph_asclient *cyph_asclient_connect(const struct cyph_asclient_opts *o,
					    char *err, size_t errlen)
{
	struct cyph_asclient *c = calloc(1, sizeof(*c));
	int tmo = o->timeout_ms > 0 ? o->timeout_ms : 10000;

	if (!c) {
		cyph_fail(err, errlen, "out of memory");
		return NULL;
	}
	c->next_id = 1;
	c->fd = tcp_connect(o->addr, tmo, err, errlen);
	if (c->fd < 0)
		goto fail;
	c->ctx = cyph_tls_client_ctx(o->ca_path, err, errlen);
	if (!c->ctx)
		goto fail;
	c->ssl = cyph_tls_client_new(c->ctx, c->fd, o->server_name, err, errlen);
	if (!c->ssl)
		goto fail;
	if (SSL_connect(c->ssl) != 1) {
		long v = SSL_get_verify_result(c->ssl);

		if (v != X509_V_OK)
			cyph_fail(err, errlen, "TLS handshake with %s: %s", o->addr,
				  X509_verify_cert_error_string(v));
		else
			cyph_ssl_fail(err, errlen, "TLS handshake with %s", o->addr);
		ERR_clear_error();
		goto fail;
	}
	return c;
fail:
	cyph_asclient_close(c);
	return NULL;
}

void cyph_asclient_close(struct cyph_asclient *c)
{
	if (!c)
		return;
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	ERR_clear_error();
	free(c);
}

int cyph_asclient_send_raw(struct cyph_asclient *c, const void *buf, size_t len,
			   char *err, size_t errlen)
{
	size_t done;

	if (!len)
		return 0;
	if (SSL_write_ex(c->ssl, buf, len, &done) != 1 || done != len)
		return cyph_ssl_fail(err, errlen, "send");
	return 0;
}

static int read_exact(struct cyph_asclient *c, uint8_t *p, size_t len, char *err, size_t errlen)
{
	while (len) {
		size_t got = 0;

		if (SSL_read_ex(c->ssl, p, len, &got) != 1) {
			int e = SSL_get_error(c->ssl, 0);

			if (e == SSL_ERROR_ZERO_RETURN) {
				ERR_clear_error();
				return cyph_fail(err, errlen, "AS closed the connection");
			}
			/* SO_RCVTIMEO expiring surfaces as WANT_READ on a blocking socket */
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ||
			    (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))) {
				ERR_clear_error();
				return cyph_fail(err, errlen, "timed out waiting for the AS");
			}
			return cyph_ssl_fail(err, errlen, "receive (connection closed?)");
		}
		p += got;
		len -= got;
	}
	return 0;
}

int cyph_asclient_recv_frame(struct cyph_asclient *c, uint8_t **frame, size_t *len,
			     char *err, size_t errlen)
{
	uint8_t hdr[4], *buf;
	size_t n;

	if (read_exact(c, hdr, 4, err, errlen))
		return -1;
	n = cyph_as_frame_len(hdr, 4);
	if (n < CYPH_AS_HDR_LEN || n > CYPH_AS_MAX_RESPONSE)
		return cyph_fail(err, errlen, "bad frame length %zu from the AS", n);
	buf = malloc(n);
	if (!buf)
		return cyph_fail(err, errlen, "out of memory");
	memcpy(buf, hdr, 4);
	if (read_exact(c, buf + 4, n - 4, err, errlen)) {
		free(buf);
		return -1;
	}
	*frame = buf;
	*len = n;
	return 0;
}

/*
 * Sends b, reads the answer and checks its version, request id and type.
 * Returns 0 with *frame (caller frees), an AS error code, or -1.
 */
static int transact(struct cyph_asclient *c, struct cyph_as_buf *b, uint8_t want,
		    uint8_t **frame, struct cyph_as_msg *m, char *err, size_t errlen)
{
	uint32_t id = c->next_id - 1;
	struct cyph_as_error e;
	const char *why = "";
	size_t len;

	if (cyph_as_finish(b))
		return cyph_fail(err, errlen, "request too large");
	if (cyph_asclient_send_raw(c, b->data, b->len, err, errlen) ||
	    cyph_asclient_recv_frame(c, frame, &len, err, errlen))
		return -1;
	if (cyph_as_parse(*frame, len, m) || m->version != CYPH_AS_VERSION || m->req_id != id) {
		free(*frame);
		return cyph_fail(err, errlen, "malformed or mismatched answer from the AS");
	}
	if (m->type == CYPH_AS_ERROR) {
		int code = cyph_as_parse_error(m, &e, &why) ? -1 : e.code;

		if (code < 0)
			cyph_fail(err, errlen, "AS error: %s", why);
		else
			cyph_fail(err, errlen, "AS: %s: %s", cyph_as_err_name(e.code), e.msg);
		free(*frame);
		return code;
	}
	if (m->type != want) {
		free(*frame);
		return cyph_fail(err, errlen, "unexpected answer type 0x%02x", m->type);
	}
	return 0;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t len)
{
	uint8_t *d = len ? malloc(len) : NULL;

	if (d)
		memcpy(d, p, len);
	return d;
}

static int take_cred(const struct cyph_as_msg *m, struct cyph_as_credential *out,
		     char *err, size_t errlen)
{
	struct cyph_as_cred c;
	const char *why = "";

	if (cyph_as_parse_cred(m, &c, &why))
		return cyph_fail(err, errlen, "bad credential from the AS: %s", why);
	memset(out, 0, sizeof(*out));
	out->node_id = c.node_id;
	out->role = c.role;
	memcpy(out->fqdn, c.fqdn, sizeof(out->fqdn));
	out->vip4 = c.vip4;
	out->vip6 = c.vip6;
	out->has_vip4 = c.has_vip4;
	out->has_vip6 = c.has_vip6;
	out->not_after = c.not_after;
	out->cert = dup_bytes(c.cert, c.cert_len);
	out->cert_len = c.cert_len;
	if (c.ca_cert) {
		out->ca_cert = dup_bytes(c.ca_cert, c.ca_cert_len);
		out->ca_cert_len = c.ca_cert_len;
	}
	if (!out->cert || (c.ca_cert && !out->ca_cert)) {
		cyph_as_credential_free(out);
		return cyph_fail(err, errlen, "out of memory");
	}
	return 0;
}

int cyph_asclient_auth(struct cyph_asclient *c, const char *name, const char *password,
		       const uint8_t pubkey[32], struct cyph_as_credential *out,
		       char *err, size_t errlen)
{
	struct cyph_as_buf b;
	struct cyph_as_msg m;
	uint8_t *frame = NULL;
	int rc;

	cyph_as_buf_init(&b, CYPH_AS_MAX_REQUEST);
	cyph_as_begin(&b, CYPH_AS_AUTH_REQ, c->next_id++);
	cyph_as_put_str(&b, CYPH_AS_A_NAME, name);
	cyph_as_put_str(&b, CYPH_AS_A_PASSWORD, password);
	cyph_as_put(&b, CYPH_AS_A_PUBKEY, pubkey, 32);
	rc = transact(c, &b, CYPH_AS_AUTH_RESP, &frame, &m, err, errlen);
	cyph_as_buf_free(&b);
	if (rc)
		return rc;
	rc = take_cred(&m, out, err, errlen);
	free(frame);
	return rc;
}

struct list_ctx {
	struct cyph_principal *v;
	size_t n;
	bool oom;
};

static int add_gnode(const struct cyph_principal *g, void *arg)
{
	struct list_ctx *l = arg;
	struct cyph_principal *v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v) {
		l->oom = true;
		return 1;
	}
	v[l->n++] = *g;
	l->v = v;
	return 0;
}

int cyph_asclient_gn_list(struct cyph_asclient *c, struct cyph_principal **list,
			  size_t *n, char *err, size_t errlen)
{
	struct list_ctx l = { 0 };
	struct cyph_as_buf b;
	struct cyph_as_msg m;
	uint8_t *frame = NULL;
	const char *why = "";
	int rc;

	cyph_as_buf_init(&b, CYPH_AS_MAX_REQUEST);
	cyph_as_begin(&b, CYPH_AS_GN_LIST_REQ, c->next_id++);
	rc = transact(c, &b, CYPH_AS_GN_LIST_RESP, &frame, &m, err, errlen);
	cyph_as_buf_free(&b);
	if (rc)
		return rc;
	if (cyph_as_parse_gn_list(&m, add_gnode, &l, &why) || l.oom) {
		free(l.v);
		free(frame);
		return cyph_fail(err, errlen, "bad general-node list: %s", l.oom ? "out of memory" : why);
	}
	free(frame);
	*list = l.v;
	*n = l.n;
	return 0;
}

int cyph_asclient_gn_auth(struct cyph_asclient *c, const struct cyph_as_gn_auth_req *req,
			  struct cyph_as_credential *out, char *err, size_t errlen)
{
	struct cyph_as_buf b;
	struct cyph_as_msg m;
	uint8_t *frame = NULL;
	int rc;

	cyph_as_buf_init(&b, CYPH_AS_MAX_REQUEST);
	cyph_as_begin(&b, CYPH_AS_GN_AUTH_REQ, c->next_id++);
	cyph_as_put(&b, CYPH_AS_A_MAC, req->mac, 6);
	cyph_as_put_u8(&b, CYPH_AS_A_METHOD, req->method);
	if (req->has_username) {
		cyph_as_put_str(&b, CYPH_AS_A_USERNAME, req->username);
		cyph_as_put_str(&b, CYPH_AS_A_PASSWORD, req->password);
	}
	if (req->method == CYPH_GN_8021X)
		cyph_as_put_u8(&b, CYPH_AS_A_EAP_RESULT, req->eap_result);
	cyph_as_put(&b, CYPH_AS_A_PUBKEY, req->pubkey, 32);
	rc = transact(c, &b, CYPH_AS_GN_AUTH_RESP, &frame, &m, err, errlen);
	cyph_as_buf_free(&b);
	if (rc)
		return rc;
	rc = take_cred(&m, out, err, errlen);
	free(frame);
	return rc;
}
