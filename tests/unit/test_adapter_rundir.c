// SPDX-License-Identifier: MIT
/*
 * The adapter's run_dir check (user/cyphonicd/adapter/rundir.c): made
 * when missing; refused when it is a link, not a directory, or writable
 * by others, since dnsmasq and hostapd (root) trust what they read there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "adapter/internal.h"
#include "tap.h"

static int check(const char *path, char *err, size_t errlen)
{
	static struct cyd_adapter_config c;

	snprintf(c.run_dir, sizeof(c.run_dir), "%s", path);
	err[0] = '\0';
	return cyd_adapter_run_dir(&c, err, errlen);
}

int main(void)
{
	char top[] = "/tmp/cyph-rundir-XXXXXX", p[256], q[256], err[256];
	struct stat st;

	umask(022);
	if (!mkdtemp(top))
		return 1;
	snprintf(p, sizeof(p), "%s/run", top);
	TAP_CHECK(!check(p, err, sizeof(err)), "a missing run_dir is made (%s)", err);
	TAP_CHECK(!stat(p, &st) && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755,
		  "mode 0755");
	TAP_CHECK(!check(p, err, sizeof(err)), "an existing one of ours is taken");

	chmod(p, 0777);
	TAP_CHECK(check(p, err, sizeof(err)) && strstr(err, "only it can write"),
		  "a world-writable one is refused: %s", err);
	chmod(p, 0775);
	TAP_CHECK(check(p, err, sizeof(err)), "a group-writable one is refused");
	chmod(p, 0755);

	snprintf(q, sizeof(q), "%s/link", top);
	TAP_CHECK(!symlink(p, q), "symlink made");
	TAP_CHECK(check(q, err, sizeof(err)), "a symlink to a good one is refused");

	snprintf(q, sizeof(q), "%s/file", top);
	fclose(fopen(q, "w"));
	TAP_CHECK(check(q, err, sizeof(err)), "a file is refused");

	snprintf(q, sizeof(q), "%s/no/such", top);
	TAP_CHECK(check(q, err, sizeof(err)) && strstr(err, q), "a missing parent is named: %s",
		  err);

	snprintf(q, sizeof(q), "rm -rf %s", top);
	if (system(q))
		return 1;
	return tap_done();
}
