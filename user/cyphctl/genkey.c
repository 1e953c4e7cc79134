// SPDX-License-Identifier: MIT
/* `cyphctl genkey`: a fresh random key as hex. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/cyphonic.h>

#include "commands.h"
#include "runtime/hexkey.h"
#include "parse.h"

/*
 * As `wg genkey` does: a key in a file that any user may read is no
 * secret. Warn rather than refuse, so the output is never lost; the
 * file's mode comes from the caller's umask, which we cannot know better.
 */
static void warn_world_accessible(void)
{
	struct stat st;

	if (!fstat(STDOUT_FILENO, &st) && S_ISREG(st.st_mode) &&
	    (st.st_mode & S_IRWXO))
		fputs("Warning: writing to world accessible file.\n"
		      "Consider setting the umask to 077 and trying again.\n",
		      stderr);
}

int cmd_genkey(int argc, char **argv)
{
	uint8_t key[CYPHONIC_KEY_LEN];
	char hex[2 * CYPHONIC_KEY_LEN + 1];
	size_t got = 0;
	ssize_t r;

	(void)argv;
	if (argc)
		return usage_error("genkey");
	warn_world_accessible();
	/* getrandom() blocks until the pool is initialised, never after. */
	while (got < sizeof(key)) {
		r = getrandom(key + got, sizeof(key) - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return cmd_error("genkey", "getrandom: %s", strerror(errno)), 1;
		got += (size_t)r;
	}
	hexkey_encode(key, sizeof(key), hex);
	hexkey_wipe(key, sizeof(key));
	printf("%s\n", hex);
	hexkey_wipe(hex, sizeof(hex));
	if (fflush(stdout))
		return cmd_error("genkey", "cannot write output"), 1;
	return 0;
}
