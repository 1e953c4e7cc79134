// SPDX-License-Identifier: MIT
/* The datagram-over-memory BIO of the DTLS handshakes (dgram_bio.h). */
#include "dgram_bio.h"
#include "frame.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void e2e_io_init(struct e2e_io *io)
{
	memset(io, 0, sizeof(*io));
	io->tail = &io->head;
}

void e2e_io_clear(struct e2e_io *io)
{
	struct e2e_dgram *d;

	while ((d = io->head)) {
		io->head = d->next;
		free(d);
	}
	io->tail = &io->head;
	io->queued = 0;
}

size_t e2e_io_pop(struct e2e_io *io, uint8_t *buf, size_t cap)
{
	struct e2e_dgram *d = io->head;
	size_t len = 0;

	if (!d)
		return 0;
	io->head = d->next;
	if (!io->head)
		io->tail = &io->head;
	io->queued--;
	if (d->len <= cap) {
		memcpy(buf, d->data, d->len);
		len = d->len;
	}
	free(d);
	return len;
}

static int bio_write(BIO *b, const char *data, int len)
{
	struct e2e_io *io = BIO_get_data(b);
	struct e2e_dgram *d;

	BIO_clear_retry_flags(b);
	if (!io || len <= 0)
		return 0;
	/* OpenSSL keeps to the MTU; anything longer would break the framing */
	if ((size_t)len > E2E_DTLS_MTU || io->queued >= E2E_OUTQ_MAX ||
	    !(d = malloc(sizeof(*d) + PROTO_HS_HDR_LEN + (size_t)len))) {
		io->dropped++;
		return len;	/* lost on the way, as UDP would; DTLS retransmits */
	}
	d->next = NULL;
	d->len = PROTO_HS_HDR_LEN + (size_t)len;
	e2e_hdr_put(d->data, io->sender, io->receiver);
	memcpy(d->data + PROTO_HS_HDR_LEN, data, (size_t)len);
	*io->tail = d;
	io->tail = &d->next;
	io->queued++;
	return len;
}

static int bio_read(BIO *b, char *buf, int size)
{
	struct e2e_io *io = BIO_get_data(b);
	size_t n;

	BIO_clear_retry_flags(b);
	if (!io || !io->in) {
		BIO_set_retry_read(b);
		return -1;
	}
	n = io->in_len < (size_t)size ? io->in_len : (size_t)size;	/* datagram truncation */
	memcpy(buf, io->in, n);
	if (!io->peek)
		io->in = NULL;
	return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct e2e_io *io = BIO_get_data(b);

	(void)ptr;
	if (!io)
		return 0;
	switch (cmd) {
	case BIO_CTRL_DGRAM_SET_PEEK_MODE:
		io->peek = num != 0;
		return 1;
	case BIO_CTRL_FLUSH:
	case BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT:
	case BIO_CTRL_DGRAM_SET_CONNECTED:
		return 1;
	case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
		return E2E_DTLS_MTU;
	case BIO_CTRL_PENDING:
		return io->in ? (long)io->in_len : 0;
	case BIO_CTRL_WPENDING:
	case BIO_CTRL_DGRAM_QUERY_MTU:
	case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
	case BIO_CTRL_DGRAM_MTU_EXCEEDED:
	default:
		return 0;
	}
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static BIO_METHOD *method;
static pthread_once_t method_once = PTHREAD_ONCE_INIT;

static void method_make(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
				     "cyphonic e2e datagrams");

	if (m && BIO_meth_set_write(m, bio_write) && BIO_meth_set_read(m, bio_read) &&
	    BIO_meth_set_ctrl(m, bio_ctrl) && BIO_meth_set_create(m, bio_create)) {
		method = m;
		return;
	}
	BIO_meth_free(m);
}

BIO *e2e_bio_new(struct e2e_io *io)
{
	BIO *b;

	pthread_once(&method_once, method_make);
	if (!method || !(b = BIO_new(method)))
		return NULL;
	BIO_set_data(b, io);
	return b;
}
