/* SPDX-License-Identifier: MIT */
/* cyphctl's commands and their help texts. */
#ifndef CYPHCTL_COMMANDS_H
#define CYPHCTL_COMMANDS_H

#include <stdio.h>

/* Each takes the arguments after its name and returns the exit status. */
int cmd_show(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_local(int argc, char **argv);
int cmd_tunnel(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_genkey(int argc, char **argv);

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;	/* one or more "cyphctl ..." lines */
	const char *help;	/* the rest of `cyphctl help NAME` */
};

extern const struct command commands[];

const struct command *command_find(const char *name);
void help_overview(FILE *f);
void help_command(FILE *f, const struct command *c);

/* Prints the usage of a command to stderr and returns exit status 1. */
int usage_error(const char *name);

#endif
