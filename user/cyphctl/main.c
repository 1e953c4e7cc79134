// SPDX-License-Identifier: MIT
/*
 * cyphctl: the wg-like command-line tool of cyphonic. Dispatches to one
 * command; each lives in its own file.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <linux/cyphonic.h>

#include "commands.h"
#include "runtime/version.h"

static bool is_help(const char *s)
{
	return !strcmp(s, "--help") || !strcmp(s, "-h");
}

static int cmd_help(int argc, char **argv)
{
	const struct command *c;

	if (argc == 0) {
		help_overview(stdout);
		return 0;
	}
	c = command_find(argv[0]);
	if (!c || argc > 1) {
		fprintf(stderr, "cyphctl: help: unknown command \"%s\"\n",
			argv[0]);
		return 1;
	}
	help_command(stdout, c);
	return 0;
}

int main(int argc, char **argv)
{
	const struct command *c;
	int i;

	if (argc < 2) {
		help_overview(stderr);
		return 1;
	}
	if (is_help(argv[1]) || !strcmp(argv[1], "help"))
		return cmd_help(argc - 2, argv + 2);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("cyphctl %s (generic netlink family %s version %d)\n",
		       cyph_version, CYPHONIC_GENL_NAME,
		       CYPHONIC_GENL_VERSION);
		return 0;
	}
	c = command_find(argv[1]);
	if (!c) {
		fprintf(stderr, "cyphctl: unknown command \"%s\" (see cyphctl --help)\n",
			argv[1]);
		return 1;
	}
	for (i = 2; i < argc; i++) {
		if (is_help(argv[i])) {
			help_command(stdout, c);
			return 0;
		}
	}
	return c->fn(argc - 2, argv + 2);
}
