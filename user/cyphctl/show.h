/* SPDX-License-Identifier: MIT */
/* `cyphctl show`: human (wg-like) and JSON output of the model. */
#ifndef CYPHCTL_SHOW_H
#define CYPHCTL_SHOW_H

#include <stdio.h>

#include "model.h"

void show_human(FILE *f, const struct cy_model *m);
/* Returns 0, or -1 when the output could not be written. */
int show_json(FILE *f, const struct cy_model *m);

int cmd_show(int argc, char **argv);

#endif
