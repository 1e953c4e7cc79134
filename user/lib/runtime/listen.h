/* SPDX-License-Identifier: MIT */
/* TCP listening sockets for the daemons (non-blocking, close-on-exec). */
#ifndef CYPHONIC_LISTEN_H
#define CYPHONIC_LISTEN_H

#include <stddef.h>
#include <stdint.h>

struct cyph_cfg_addr;

/* Binds and listens on a (SO_REUSEADDR). Returns the fd or -1 with err. */
int cyph_listen_tcp(const struct cyph_cfg_addr *a, int backlog, char *err, size_t errlen);
/* Same from "host:port" text. */
int cyph_listen_tcp_str(const char *addr_port, int backlog, char *err, size_t errlen);
/* Local port of a bound socket, 0 on error. */
uint16_t cyph_sock_port(int fd);

#endif
