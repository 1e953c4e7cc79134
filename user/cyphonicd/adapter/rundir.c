// SPDX-License-Identifier: MIT
/*
 * The adapter's run_dir (internal.h): dnsmasq's and hostapd's
 * configuration, the hosts and eap_user files, hostapd's control
 * sockets. Those helpers run as root and trust what they read there.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "internal.h"

int cyd_adapter_run_dir(const struct cyd_adapter_config *c, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(c->run_dir, 0755) && errno != EEXIST) {
		snprintf(err, errlen, "run_dir %s: %s", c->run_dir, strerror(errno));
		return -1;
	}
	if (lstat(c->run_dir, &st)) {
		snprintf(err, errlen, "run_dir %s: %s", c->run_dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "run_dir %s: not a directory of uid %u that only it can write",
			 c->run_dir, (unsigned int)geteuid());
		return -1;
	}
	return 0;
}
