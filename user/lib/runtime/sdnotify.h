/* SPDX-License-Identifier: MIT */
/*
 * systemd's readiness protocol (sd_notify(3)) without libsystemd: one
 * datagram "READY=1", "RELOADING=1", "STOPPING=1", "STATUS=..." to the
 * AF_UNIX socket named by $NOTIFY_SOCKET (a path, or "@name" for an
 * abstract socket). Outside systemd the variable is unset and nothing is
 * sent, so daemons call it unconditionally.
 */
#ifndef CYPHONIC_SDNOTIFY_H
#define CYPHONIC_SDNOTIFY_H

/* 1 sent, 0 no $NOTIFY_SOCKET, -1 error (errno set). */
int cyph_sd_notify(const char *state);

#endif
