/* SPDX-License-Identifier: MIT */
/*
 * ascommon: what the AS daemon (cyphonic-as) and its admin tool
 * (cyphonic-admin) share.
 *
 *	asconfig.h	the AS configuration schema and struct
 *	crlpub.h	publishing the CRL from the registry
 *	names.h		names, id:/name: selectors and MACs cyphonic-admin accepts
 *	policyfile.h	the access policy (groups, rules) the AS writes into certificates
 *
 * May include: runtime, pki, stores
 *
 * The "May include:" line is the rule scripts/check-lib-deps.sh enforces
 * on every file in this folder.
 */
#ifndef CYPHONIC_LIB_ASCOMMON_H
#define CYPHONIC_LIB_ASCOMMON_H
#include "asconfig.h"
#include "crlpub.h"
#include "names.h"
#include "policyfile.h"
#endif
