// SPDX-License-Identifier: MIT
#include "fileutil.h"
#include "sslerr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int cyph_write_file_atomic(const char *path, const void *data, size_t len,
			   mode_t mode, char *err, size_t errlen)
{
	char tmp[4200];
	int fd, e;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return cyph_fail(err, errlen, "%s: path too long", path);
	/*
	 * A fresh inode, never one left behind (a crash) or planted there: an
	 * old file may be open elsewhere with a looser mode, and whoever holds
	 * it would read the key we are about to write.
	 */
	if (unlink(tmp) && errno != ENOENT)
		return cyph_fail(err, errlen, "%s: %s", tmp, strerror(errno));
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return cyph_fail(err, errlen, "%s: %s", tmp, strerror(errno));
	/* umask may have cleared bits we want, or mode may be stricter */
	if (fchmod(fd, mode) || write_all(fd, data, len) || fsync(fd)) {
		e = errno;
		close(fd);
		unlink(tmp);
		return cyph_fail(err, errlen, "%s: write: %s", tmp, strerror(e));
	}
	if (close(fd) || rename(tmp, path)) {
		e = errno;
		unlink(tmp);
		return cyph_fail(err, errlen, "%s: rename: %s", path, strerror(e));
	}
	return 0;
}

int cyph_read_file(const char *path, size_t max, char **data, size_t *len,
		   char *err, size_t errlen)
{
	FILE *f = fopen(path, "rbe");
	char *buf;
	size_t n;

	if (!f)
		return cyph_fail(err, errlen, "%s: %s", path, strerror(errno));
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		return cyph_fail(err, errlen, "%s: out of memory", path);
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max) {
		int toolong = n > max;

		fclose(f);
		free(buf);
		return cyph_fail(err, errlen, "%s: %s", path,
				 toolong ? "file too large" : "read error");
	}
	fclose(f);
	buf[n] = '\0';
	*data = buf;
	if (len)
		*len = n;
	return 0;
}
