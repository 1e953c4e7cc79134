/* SPDX-License-Identifier: MIT */
/* Checks the wire header layout that kernel and user space share. */
#include <stddef.h>
#include <linux/cyphonic.h>
#include "tap.h"

int main(void)
{
	TAP_CHECK(sizeof(struct cyphonic_data_hdr) == 16, "data header is 16 bytes");
	TAP_CHECK(offsetof(struct cyphonic_data_hdr, receiver_index) == 4,
		  "receiver index at offset 4");
	TAP_CHECK(offsetof(struct cyphonic_data_hdr, counter) == 8,
		  "counter at offset 8");
	TAP_CHECK(sizeof(struct cyphonic_relay_hdr) == 8, "relay header is 8 bytes");
	TAP_CHECK(CYPHONIC_DEFAULT_MTU + 40 + 8 + 16 + CYPHONIC_TAG_LEN == 1500,
		  "default MTU fits a 1500-byte IPv6 underlay");
	return tap_done();
}
