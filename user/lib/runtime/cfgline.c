// SPDX-License-Identifier: MIT
/*
 * Where a key is set in a config file: checks that run after the schema
 * parser (config.c) still report "PATH:LINE:" as its own errors do. Reads
 * the file again with the same rules for sections, comments and "key =".
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

static char *skip_space(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

/* "[name]" (spaces allowed inside): true and the name in sec. */
static bool section_line(char *s, char *sec, size_t cap)
{
	char *end;
	size_t len;

	if (*s != '[' || !(end = strchr(s, ']')))
		return false;
	s = skip_space(s + 1);
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	len = (size_t)(end - s);
	if (len >= cap)
		len = cap - 1;
	memcpy(sec, s, len);
	sec[len] = '\0';
	return true;
}

unsigned int cyph_cfg_line_of(const char *path, const char *section,
			      const char *key)
{
	char line[CYPH_CFG_LINE_MAX], sec[CYPH_CFG_STR_MAX] = "";
	size_t klen = strlen(key);
	unsigned int n = 0, found = 0;
	FILE *f;

	if (!path || !(f = fopen(path, "r")))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *s = skip_space(line);

		n++;
		if (*s == '#' || *s == ';' || section_line(s, sec, sizeof(sec)))
			continue;
		if (strcmp(sec, section) || strncmp(s, key, klen))
			continue;
		s = skip_space(s + klen);
		if (*s == '=')
			found = n;
	}
	fclose(f);
	return found;
}
