// SPDX-License-Identifier: MIT
/*
 * The adapter's login page budget (user/cyphonicd/adapter/budget.c): a
 * burst of attempts per source address, refilled over time, and a table
 * that a flood of other addresses cannot use to wipe a spent budget.
 */
#include <string.h>

#include "adapter/internal.h"
#include "tap.h"

static struct cyd_budget t;

static void addr_of(uint32_t n, uint8_t a[16])
{
	memset(a, 0, 16);
	a[0] = 0xfe;
	a[1] = 0x80;
	memcpy(a + 12, &n, 4);
}

int main(void)
{
	uint64_t now = 1000000;
	uint8_t a[16], x[16];
	int ok = 0, refused = 0;

	addr_of(1, a);
	for (int i = 0; i < 5; i++)
		ok += cyd_budget_take(&t, a, now);
	TAP_CHECK(ok == 5 && !cyd_budget_take(&t, a, now), "a burst of 5, then refused");
	TAP_CHECK(cyd_budget_take(&t, a, now + 10000) && !cyd_budget_take(&t, a, now + 10000),
		  "one more attempt 10 s later");

	/* a device rotating source addresses (IPv6 link-local ones cost nothing) */
	for (uint32_t n = 100; n < 100 + 2 * CYD_BUDGET_SLOTS; n++) {
		addr_of(n, x);
		refused += !cyd_budget_take(&t, x, now + 10001);
	}
	TAP_CHECK(!cyd_budget_take(&t, a, now + 10002),
		  "a spent budget stays spent while %d other addresses come and go",
		  2 * CYD_BUDGET_SLOTS);
	TAP_CHECK(refused > 0, "addresses beyond the table wait while every slot still limits "
		  "(%d refused)", refused);
	addr_of(9999, x);
	TAP_CHECK(cyd_budget_take(&t, x, now + 10001 + 50000),
		  "a new address gets a slot once an old one has refilled");
	return tap_done();
}
