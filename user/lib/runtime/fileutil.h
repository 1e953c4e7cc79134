/* SPDX-License-Identifier: MIT */
/* Small file helpers shared by the CA, the CRL writer and the CLI. */
#ifndef CYPHONIC_FILEUTIL_H
#define CYPHONIC_FILEUTIL_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Writes data to path via a temporary file in the same directory, fsync
 * and rename, so readers (NMS/TRS polling a CRL) never see half a file.
 * The file is created with mode (e.g. 0600 for keys). 0 or -1 with err.
 */
int cyph_write_file_atomic(const char *path, const void *data, size_t len,
			   mode_t mode, char *err, size_t errlen);

/* Reads a whole file (at most max bytes) into malloc'd memory, NUL-terminated. */
int cyph_read_file(const char *path, size_t max, char **data, size_t *len,
		   char *err, size_t errlen);

#endif
