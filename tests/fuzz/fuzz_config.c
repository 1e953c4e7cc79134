// SPDX-License-Identifier: MIT
/*
 * The config parser (user/lib/runtime/config.c) on any file, with the
 * AS schema (the largest: every value type) and its cross-field checks,
 * then a --set override built from the input's first line. The file is
 * a memfd read back through /proc/self/fd, as cyph_cfg_load reads paths.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "fuzz_common.h"
#include "ascommon/asconfig.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cyph_as_config c;
	char err[512], set[256];
	const char *sets[1] = { set };
	size_t n;

	if (fd < 0) {
		fd = memfd_create("fuzz-config", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	memset(&c, 0, sizeof(c));
	if (!cyph_cfg_load(path, cyph_as_config_fields, cyph_as_config_nfields, &c, err,
			   sizeof(err)))
		(void)cyph_as_config_validate(&c, path, err, sizeof(err));
	/* the first line, as "section.key=value" */
	n = 0;
	while (n < size && n < sizeof(set) - 1 && data[n] != '\n' && data[n])
		n++;
	memcpy(set, data, n);
	set[n] = '\0';
	memset(&c, 0, sizeof(c));
	(void)cyph_cfg_load_ex(NULL, cyph_as_config_fields, cyph_as_config_nfields, &c, sets, 1,
			       err, sizeof(err));
	return 0;
}
