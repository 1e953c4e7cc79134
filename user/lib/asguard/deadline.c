// SPDX-License-Identifier: MIT
/* Per-phase connection deadlines (deadline.h). */
#include "deadline.h"

void cyph_conn_clock_start(struct cyph_conn_clock *c, enum cyph_conn_phase phase, int64_t now)
{
	c->phase = phase;
	c->since_ms = now;
}

bool cyph_conn_clock_enter(struct cyph_conn_clock *c, enum cyph_conn_phase phase, int64_t now)
{
	if (c->phase == phase)
		return false;
	cyph_conn_clock_start(c, phase, now);
	return true;
}

int64_t cyph_conn_deadline(const struct cyph_conn_clock *c, const struct cyph_deadline_policy *p)
{
	switch (c->phase) {
	case CYPH_PHASE_HANDSHAKE:
		return c->since_ms + p->handshake_ms;
	case CYPH_PHASE_IDLE:
		return c->since_ms + p->idle_ms;
	case CYPH_PHASE_REQUEST:
	case CYPH_PHASE_WRITE:
		return c->since_ms + p->request_ms;
	case CYPH_PHASE_BUSY:
		break;
	}
	return CYPH_NO_DEADLINE;
}

const char *cyph_conn_phase_name(enum cyph_conn_phase phase)
{
	static const char *const names[] = { "handshake", "idle", "request", "busy", "write" };

	return (unsigned int)phase < sizeof(names) / sizeof(names[0]) ? names[phase] : "?";
}
