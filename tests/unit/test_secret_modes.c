// SPDX-License-Identifier: MIT
/*
 * Files holding secrets are private whatever the umask: each check runs
 * under umask 022 (the usual default) and 000 (the worst case) and reads
 * the resulting modes back with stat(2).
 *
 *   - cyphctl genkey warns, as `wg genkey` does, when its output is a
 *     regular file other users can read, and only then;
 *   - the library's writers: cyph_write_file_atomic with mode 0600, private
 *     keys (cyph_key_save), the CA key (cyph_ca_create) and the SQLite
 *     registry with its -wal and -shm files (it holds password hashes);
 *   - an existing registry readable by others loses those bits; group bits
 *     chosen by an admin stay.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "pki/ca.h"
#include "pki/cred.h"
#include "runtime/fileutil.h"
#include "stores/store.h"
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

static void path_in(char *buf, size_t len, const char *name, mode_t m)
{
	snprintf(buf, len, "%s/%03o-%s", dir, (unsigned int)m, name);
}

/* TAP check: PATH (NAME in the messages) has exactly mode WANT. */
static void check_mode(const char *path, const char *name, mode_t m, mode_t want)
{
	mode_t got = mode_of(path);

	TAP_CHECK(got == want, "umask %03o: %s is %03o (got %03o)", (unsigned int)m, name,
		  (unsigned int)want, (unsigned int)got);
}

static void test_library(mode_t m)
{
	char p[4200], cert[4200], wal[4300], shm[4300], err[1024];
	struct cyph_store *s;
	EVP_PKEY *key;

	umask(m);
	path_in(p, sizeof(p), "atomic", m);
	TAP_CHECK(!cyph_write_file_atomic(p, "secret\n", 7, 0600, err, sizeof(err)),
		  "umask %03o: cyph_write_file_atomic (%s)", (unsigned int)m, err);
	check_mode(p, "cyph_write_file_atomic(0600)", m, 0600);

	path_in(p, sizeof(p), "node.key", m);
	key = cyph_key_generate();
	TAP_CHECK(key && !cyph_key_save(key, p, err, sizeof(err)),
		  "umask %03o: cyph_key_save (%s)", (unsigned int)m, err);
	EVP_PKEY_free(key);
	check_mode(p, "private key", m, 0600);

	path_in(p, sizeof(p), "ca.key", m);
	path_in(cert, sizeof(cert), "ca.crt", m);
	TAP_CHECK(!cyph_ca_create(cert, p, "test CA", 1, err, sizeof(err)),
		  "umask %03o: cyph_ca_create (%s)", (unsigned int)m, err);
	check_mode(p, "CA key", m, 0600);
	check_mode(cert, "CA certificate", m, 0644);

	path_in(p, sizeof(p), "as.db", m);
	snprintf(wal, sizeof(wal), "%s-wal", p);
	snprintf(shm, sizeof(shm), "%s-shm", p);
	s = cyph_store_open_sqlite(p, err, sizeof(err));
	TAP_CHECK(s, "umask %03o: new registry opens (%s)", (unsigned int)m, s ? "" : err);
	check_mode(p, "new registry", m, 0600);
	/* WAL mode: both exist while the database is open (schema written) */
	check_mode(wal, "registry -wal", m, 0600);
	check_mode(shm, "registry -shm", m, 0600);
	cyph_store_close(s);
	umask(022);
}

/* A registry left readable by others is tightened; group bits stay. */
static void test_existing_registry(void)
{
	static const struct { mode_t before, after; } cases[] = {
		{ 0644, 0640 }, { 0666, 0660 }, { 0640, 0640 }, { 0600, 0600 },
	};
	char p[4200], err[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cyph_store *s;

		snprintf(p, sizeof(p), "%s/existing-%zu.db", dir, i);
		s = cyph_store_open_sqlite(p, err, sizeof(err));
		cyph_store_close(s);
		chmod(p, cases[i].before);
		s = cyph_store_open_sqlite(p, err, sizeof(err));
		TAP_CHECK(s && mode_of(p) == cases[i].after,
			  "existing registry %03o reopens as %03o (got %03o)",
			  (unsigned int)cases[i].before, (unsigned int)cases[i].after,
			  (unsigned int)mode_of(p));
		cyph_store_close(s);
	}
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_genkey();
	test_library(022);
	test_library(000);
	test_existing_registry();
	{
		char cmd[4300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			return 1;
	}
	return tap_done();
}
