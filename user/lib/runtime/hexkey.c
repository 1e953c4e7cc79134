// SPDX-License-Identifier: MIT
/* Symmetric keys as hex text. */
#include "hexkey.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int decode_n(const char *s, size_t len, uint8_t *out, size_t n)
{
	size_t i;

	if (len != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			hexkey_wipe(out, n);
			return -1;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int hexkey_decode(const char *s, uint8_t *out, size_t n)
{
	return decode_n(s, strnlen(s, 2 * n + 1), out, n);
}

void hexkey_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Reads up to size bytes; a short count means end of file. */
static ssize_t read_all(int fd, char *buf, size_t size)
{
	size_t got = 0;

	while (got < size) {
		ssize_t r = read(fd, buf + got, size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int hexkey_read_file(const char *path, uint8_t *out, size_t n)
{
	/* Room for the digits, the newline, and one byte to detect excess. */
	char buf[2 * 64 + 2];
	ssize_t len;
	int fd, ret;

	if (2 * n + 2 > sizeof(buf))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read_all(fd, buf, 2 * n + 2);
	close(fd);
	if (len < 0)
		return (int)len;
	if (len == (ssize_t)(2 * n + 1) && buf[2 * n] == '\n')
		len--;
	ret = decode_n(buf, (size_t)len, out, n) ? -EINVAL : 0;
	hexkey_wipe(buf, sizeof(buf));
	return ret;
}

void hexkey_wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}
