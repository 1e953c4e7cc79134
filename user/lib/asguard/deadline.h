/* SPDX-License-Identifier: MIT */
/*
 * Absolute deadlines for the phases of a server connection. Each phase
 * has a fixed budget measured from when it began; input arriving inside
 * a phase does not move its deadline, so a client trickling one byte at
 * a time holds a connection no longer than a silent one:
 *
 *	HANDSHAKE  accept .. TLS handshake done		handshake_ms
 *	IDLE       between requests, nothing received	idle_ms
 *	REQUEST    first byte of a frame .. whole frame	request_ms
 *	BUSY       the server works on it		no deadline (ours)
 *	WRITE      answer ready .. all of it written	request_ms
 */
#ifndef CYPHONIC_ASGUARD_DEADLINE_H
#define CYPHONIC_ASGUARD_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

enum cyph_conn_phase {
	CYPH_PHASE_HANDSHAKE,
	CYPH_PHASE_IDLE,
	CYPH_PHASE_REQUEST,
	CYPH_PHASE_BUSY,
	CYPH_PHASE_WRITE,
};

struct cyph_deadline_policy {
	int64_t handshake_ms, idle_ms, request_ms;
};

struct cyph_conn_clock {
	enum cyph_conn_phase phase;
	int64_t since_ms;	/* when the phase began */
};

#define CYPH_NO_DEADLINE INT64_MAX

/* Starts the clock in phase at now. */
void cyph_conn_clock_start(struct cyph_conn_clock *c, enum cyph_conn_phase phase, int64_t now);

/*
 * Moves to phase at now. Entering the phase the connection is already in
 * changes nothing (that is the point). Returns true when the phase changed.
 */
bool cyph_conn_clock_enter(struct cyph_conn_clock *c, enum cyph_conn_phase phase, int64_t now);

/* When the current phase must have ended (CYPH_NO_DEADLINE for BUSY). */
int64_t cyph_conn_deadline(const struct cyph_conn_clock *c, const struct cyph_deadline_policy *p);

/* Name of a phase for logs ("handshake", "idle", ...). */
const char *cyph_conn_phase_name(enum cyph_conn_phase phase);

#endif
