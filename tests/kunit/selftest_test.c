// SPDX-License-Identifier: GPL-2.0
/*
 * The harness's own check, compiled in only by KUNIT_SELFTEST_FAIL=1
 * tests/kunit/run.sh (tests/kunit/suite.sh does that on every run). Each
 * case below must make run.sh report a failure in its own way; a harness
 * that passes this suite is broken.
 */

#include <kunit/test.h>
#include <linux/bug.h>

/* A control: this one must be reported as passing. */
static void selftest_passes(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 1 + 1, 2);
}

/* An ordinary failed expectation: "not ok" for this case and the suite. */
static void selftest_fails(struct kunit *test)
{
	KUNIT_EXPECT_EQ_MSG(test, 1 + 1, 3, "deliberate failure");
}

/*
 * Passes in KUnit's eyes but warns: the console check must catch it, as
 * it would a lockdep splat or a WARN_ON in the module.
 */
static void selftest_warns(struct kunit *test)
{
	WARN(1, "cyphonic kunit selftest: deliberate warning\n");
}

/*
 * On 6.1 each case's log holds 512 bytes; a case that logs more loses its
 * own "not ok" line from debugfs. The parser must notice the missing
 * result instead of counting what it sees.
 */
static void selftest_log_overflow(struct kunit *test)
{
	int i;

	for (i = 0; i < 20; i++)
		kunit_info(test, "filler line %02d to overflow the case log", i);
	KUNIT_FAIL(test, "deliberate failure after a long log");
}

static struct kunit_case selftest_cases[] = {
	KUNIT_CASE(selftest_passes),
	KUNIT_CASE(selftest_fails),
	KUNIT_CASE(selftest_warns),
	KUNIT_CASE(selftest_log_overflow),
	{}
};

static struct kunit_suite selftest_suite = {
	.name = "cyphonic_selftest",
	.test_cases = selftest_cases,
};

kunit_test_suite(selftest_suite);
