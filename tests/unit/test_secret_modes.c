// SPDX-License-Identifier: MIT
/*
 * Files holding secrets are private whatever the umask: each check runs
 * under umask 022 (the usual default) and 000 (the worst case) and reads
 * the resulting modes back with stat(2).
 *
 *   - cyphctl genkey warns, as `wg genkey` does, when its output is a
 *     regular file other users can read, and only then.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "tap.h"

/* genkey.c's only use of help.c, which would pull in every command. */
int usage_error(const char *name)
{
	(void)name;
	return 1;
}

static char dir[] = "/tmp/cyph-secret-modes.XXXXXX";
static const mode_t umasks[] = { 022, 000, 077 };

static mode_t mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? (mode_t)-1 : st.st_mode & 07777;
}

/*
 * Runs `cyphctl genkey > path` the way a shell does (open 0666 under the
 * current umask); returns its status and what it wrote to stderr.
 */
static int run_genkey(const char *path, char *errout, size_t errlen)
{
	char errpath[4200];
	int out, errfd, save1, save2, rc;
	ssize_t n;

	snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	errfd = open(errpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (out < 0 || errfd < 0)
		return -1;
	fflush(stdout);
	fflush(stderr);
	save1 = dup(1);
	save2 = dup(2);
	dup2(out, 1);
	dup2(errfd, 2);
	rc = cmd_genkey(0, NULL);
	fflush(stdout);
	fflush(stderr);
	dup2(save1, 1);
	dup2(save2, 2);
	close(save1);
	close(save2);
	close(out);
	n = pread(errfd, errout, errlen - 1, 0);
	errout[n > 0 ? n : 0] = '\0';
	close(errfd);
	unlink(errpath);
	return rc;
}

static void test_genkey(void)
{
	for (size_t i = 0; i < sizeof(umasks) / sizeof(umasks[0]); i++) {
		char path[4200], err[512];
		mode_t m = umasks[i];
		bool others = (0666 & ~m & S_IRWXO) != 0;
		int rc;

		snprintf(path, sizeof(path), "%s/genkey-%03o.key", dir, (unsigned int)m);
		umask(m);
		rc = run_genkey(path, err, sizeof(err));
		umask(022);
		TAP_CHECK(rc == 0, "genkey under umask %03o: exit 0", (unsigned int)m);
		TAP_CHECK(mode_of(path) != (mode_t)-1 && (mode_of(path) & 0777) == (0666 & ~m),
			  "genkey under umask %03o: file %03o", (unsigned int)m,
			  (unsigned int)mode_of(path));
		if (others)
			TAP_CHECK(strstr(err, "Warning: writing to world accessible file.") &&
				  strstr(err, "umask to 077"),
				  "genkey under umask %03o warns", (unsigned int)m);
		else
			TAP_CHECK(!*err, "genkey under umask %03o: no warning", (unsigned int)m);
		unlink(path);
	}
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_genkey();
	rmdir(dir);
	return tap_done();
}
