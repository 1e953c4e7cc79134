/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Notifications to the "events" multicast group. All may be called from
 * the data path (atomic context).
 */
#ifndef _CYPH_EVENTS_H
#define _CYPH_EVENTS_H

#include "addr.h"

struct cyph_device;
struct cyph_key;
struct cyph_tunnel;

void cyph_ntf_tunnel_needed(struct cyph_device *cd,
			    const struct cyph_pair *pair);
void cyph_ntf_key_limit(struct cyph_tunnel *t, const struct cyph_key *key,
			u64 counter);
void cyph_ntf_key_promoted(struct cyph_tunnel *t, const struct cyph_key *key);
void cyph_ntf_endpoint(struct cyph_tunnel *t, const union cyph_sockaddr *ep,
		       u32 relay);

#endif /* _CYPH_EVENTS_H */
