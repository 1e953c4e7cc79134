/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A bare cyph_device for the suites: what cyph_dev_setup() and the
 * device's init give one (counters, empty tables, staging, early hold),
 * on an unregistered net device.
 */
#ifndef _CYPH_TEST_DEV_H
#define _CYPH_TEST_DEV_H

#include <kunit/test.h>
#include <linux/cyphonic.h>

struct cyph_device;

/* NULL (and the test failed) when out of memory. */
struct cyph_device *cyph_test_dev_new(struct kunit *test, const char *name);
void cyph_test_dev_free(struct cyph_device *cd);
/* One device counter, summed over the CPUs. */
u64 cyph_test_stat(struct cyph_device *cd, enum cyphonic_stat s);

#endif /* _CYPH_TEST_DEV_H */
