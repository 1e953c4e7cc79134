// SPDX-License-Identifier: GPL-2.0
/*
 * cyphonic_test.ko has no init of its own: KUnit runs the suites collected
 * from the .kunit_test_suites section when the module goes live.
 */

#include <linux/module.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit suites of the cyphonic data plane");
