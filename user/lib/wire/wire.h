/* SPDX-License-Identifier: MIT */
/*
 * wire: what goes on the network, as specified in docs/protocol.md
 * (signaling) and docs/as.md (AS requests). Codecs do no I/O.
 *
 *	proto.h		signaling constants, error codes, TLV codec (NMS, TRS)
 *	proto_crypto.h	the signaling protocol's cryptography
 *	proto_udp.h	UDP sockets and batched sends for the signaling services
 *	asproto.h	AS frame and TLV codec
 *
 * May include: runtime, pki, stores
 *
 * pki and stores only for asproto: its messages carry the principal
 * record and name limit (stores/store.h), roles (pki/cred.h) and the
 * password length limit (pki/pwhash.h). The signaling codec needs only
 * runtime (and uapi/linux/cyphonic.h). The "May include:" line is the rule scripts/check-lib-deps.sh
 * enforces on every file in this folder.
 */
#ifndef CYPHONIC_LIB_WIRE_H
#define CYPHONIC_LIB_WIRE_H
#include "asproto.h"
#include "proto.h"
#include "proto_crypto.h"
#include "proto_udp.h"
#endif
