// SPDX-License-Identifier: MIT
/*
 * Timer heap of the event loop (user/lib/runtime/evloop.c): firing order
 * against a simple model under thousands of random add/re-arm/cancel
 * operations, cancel and re-arm from inside callbacks, equal deadlines in
 * arming order, 100k timers. The loop runs on a fake clock
 * (cyph_loop_set_clock), so nothing here sleeps.
 */
#include "runtime/evloop.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static uint64_t fake_now;

static uint64_t fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static void on_stop(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	(void)t; (void)arg;
	cyph_loop_stop(loop);
}

/*
 * Runs every timer due at fake_now, then returns: a 0 ms sentinel armed
 * last is due now and is ordered after everything already due.
 */
static void run_due(struct cyph_loop *loop)
{
	cyph_loop_add_timer(loop, 0, false, on_stop, NULL);
	cyph_loop_run(loop);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/* ---- the model: what the loop should fire, and in which order ---- */

#define SLOTS 512

struct slot {
	struct cyph_timer *t;	/* NULL: free */
	uint64_t due, seq, period;
	int id;
};

static struct slot slots[SLOTS];
static uint64_t model_seq;	/* mirrors the loop's arming counter */
static int fired[SLOTS * 4], nfired;

static void on_model(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	struct slot *s = arg;

	(void)loop; (void)t;
	if (nfired < (int)(sizeof(fired) / sizeof(fired[0])))
		fired[nfired++] = s->id;
}

static int by_due_seq(const void *a, const void *b)
{
	const struct slot *x = *(struct slot *const *)a, *y = *(struct slot *const *)b;

	if (x->due != y->due)
		return x->due < y->due ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void model_add(struct cyph_loop *loop, struct slot *s)
{
	uint64_t ms = rnd(64);
	bool repeat = rnd(8) == 0;

	s->t = cyph_loop_add_timer(loop, ms, repeat, on_model, s);
	s->due = fake_now + ms;
	s->period = repeat ? (ms ? ms : 1) : 0;
	s->seq = model_seq++;
}

static void model_rearm(struct cyph_loop *loop, struct slot *s)
{
	uint64_t ms = rnd(64);

	cyph_loop_timer_rearm(loop, s->t, ms);
	s->due = fake_now + ms;
	s->seq = model_seq++;
}

static void model_cancel(struct cyph_loop *loop, struct slot *s)
{
	cyph_loop_del_timer(loop, s->t);
	s->t = NULL;
}

/* Runs what is due; returns false if the loop fired anything else. */
static bool model_run(struct cyph_loop *loop)
{
	struct slot *due[SLOTS];
	int n = 0;
	bool same;

	model_seq++;	/* run_due's sentinel */
	for (int i = 0; i < SLOTS; i++)
		if (slots[i].t && slots[i].due <= fake_now)
			due[n++] = &slots[i];
	qsort(due, (size_t)n, sizeof(due[0]), by_due_seq);
	nfired = 0;
	run_due(loop);
	same = nfired == n;
	for (int i = 0; i < n && same; i++)
		same = fired[i] == due[i]->id;
	/* after their callbacks, in firing order: freed, or queued again */
	for (int i = 0; i < n; i++) {
		if (!due[i]->period) {
			due[i]->t = NULL;
			continue;
		}
		due[i]->due = fake_now + due[i]->period;
		due[i]->seq = model_seq++;
	}
	return same;
}

static void random_op(struct cyph_loop *loop, int *runs, int *bad)
{
	struct slot *s = &slots[rnd(SLOTS)];
	uint32_t op = rnd(16);

	if (!s->t) {
		model_add(loop, s);
	} else if (op < 8) {
		model_rearm(loop, s);
	} else if (op < 11) {
		model_cancel(loop, s);
	} else if (op == 11) {
		fake_now += rnd(16);
		(*runs)++;
		if (!model_run(loop))
			(*bad)++;
	}
}

static void test_random_against_model(void)
{
	struct cyph_loop *loop = cyph_loop_new();
	int runs = 0, bad = 0, ops = 200000;

	fake_now = 1000;
	model_seq = 0;
	cyph_loop_set_clock(loop, fake_clock, NULL);
	for (int i = 0; i < SLOTS; i++)
		slots[i].id = i;
	for (int i = 0; i < ops; i++)
		random_op(loop, &runs, &bad);
	fake_now += 1000;	/* everything left, repeating ones once more */
	runs++;
	if (!model_run(loop))
		bad++;
	TAP_CHECK(runs > 1000 && bad == 0,
		  "%d random add/re-arm/cancel ops: firing order matches the model in %d of %d runs",
		  ops, runs - bad, runs);
	for (int i = 0; i < SLOTS; i++)
		if (slots[i].t)
			model_cancel(loop, &slots[i]);
	cyph_loop_free(loop);
}

/* ---- callbacks that change timers ---- */

static int log_buf[256], nlog;
static struct cyph_timer *victim, *self_timer;
static int rearm_count;

static void on_log(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	(void)loop; (void)t;
	log_buf[nlog++] = (int)(intptr_t)arg;
}

static void on_cancel_other(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	on_log(loop, t, arg);
	cyph_loop_del_timer(loop, victim);
	cyph_loop_del_timer(loop, t);	/* itself, a one-shot: no double free */
}

static void test_cancel_in_callback(void)
{
	struct cyph_loop *loop = cyph_loop_new();

	fake_now = 0;
	nlog = 0;
	cyph_loop_set_clock(loop, fake_clock, NULL);
	cyph_loop_add_timer(loop, 5, false, on_cancel_other, (void *)1);
	victim = cyph_loop_add_timer(loop, 5, false, on_log, (void *)2);
	cyph_loop_add_timer(loop, 5, false, on_log, (void *)3);
	fake_now = 5;
	run_due(loop);
	TAP_CHECK(nlog == 2 && log_buf[0] == 1 && log_buf[1] == 3,
		  "a timer cancelled by an earlier callback of the same run does not fire");
	fake_now = 100;
	nlog = 0;
	run_due(loop);
	TAP_CHECK(nlog == 0, "cancelled and fired one-shots are gone");
	cyph_loop_free(loop);
}

static void on_rearm_once(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	on_log(loop, t, arg);
	if (rearm_count++ == 0)
		cyph_loop_timer_rearm(loop, t, 20);
}

static void test_rearm_running(void)
{
	struct cyph_loop *loop = cyph_loop_new();

	cyph_loop_set_clock(loop, fake_clock, NULL);
	fake_now = 0;
	nlog = 0;
	rearm_count = 0;
	cyph_loop_add_timer(loop, 10, false, on_rearm_once, (void *)1);
	fake_now = 10;
	run_due(loop);
	fake_now = 29;
	run_due(loop);
	TAP_CHECK(nlog == 1, "one-shot re-armed in its callback: not due before the new time");
	fake_now = 30;
	run_due(loop);
	fake_now = 1000;
	run_due(loop);
	TAP_CHECK(nlog == 2, "one-shot re-armed in its callback fires once more, then is freed");

	/* repeating, period 10: a re-arm to 20 in its callback wins over the period */
	fake_now = 0;
	nlog = 0;
	rearm_count = 0;
	self_timer = cyph_loop_add_timer(loop, 10, true, on_rearm_once, (void *)7);
	fake_now = 10;
	run_due(loop);
	fake_now = 29;
	run_due(loop);
	TAP_CHECK(nlog == 1, "repeating timer re-armed in its callback keeps the new time");
	fake_now = 30;
	run_due(loop);
	fake_now = 39;
	run_due(loop);
	TAP_CHECK(nlog == 2, "then goes back to its period");
	fake_now = 40;
	run_due(loop);
	TAP_CHECK(nlog == 3, "and fires every period");
	cyph_loop_del_timer(loop, self_timer);
	cyph_loop_free(loop);
}

static void on_add_many(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	(void)t; (void)arg;
	for (int i = 0; i < 100; i++)
		cyph_loop_add_timer(loop, 1000, false, on_log, (void *)(intptr_t)(100 + i));
}

/* The heap grows while a repeating timer is out of it; putting it back must fit. */
static void test_grow_while_firing(void)
{
	struct cyph_loop *loop = cyph_loop_new();
	struct cyph_timer *t;

	cyph_loop_set_clock(loop, fake_clock, NULL);
	fake_now = 0;
	nlog = 0;
	t = cyph_loop_add_timer(loop, 1, true, on_add_many, NULL);
	fake_now = 1;
	run_due(loop);
	cyph_loop_del_timer(loop, t);
	fake_now = 2000;
	run_due(loop);
	TAP_CHECK(nlog == 100 && log_buf[0] == 100 && log_buf[99] == 199,
		  "timers added from a callback (heap grown) fire in order");
	cyph_loop_free(loop);
}

static void test_equal_deadlines(void)
{
	struct cyph_loop *loop = cyph_loop_new();
	struct cyph_timer *t[100];
	bool ok = true;
	int k = 0;

	cyph_loop_set_clock(loop, fake_clock, NULL);
	fake_now = 0;
	nlog = 0;
	for (int i = 0; i < 100; i++)
		t[i] = cyph_loop_add_timer(loop, 7, false, on_log, (void *)(intptr_t)i);
	cyph_loop_timer_rearm(loop, t[0], 7);	/* same deadline: to the back */
	cyph_loop_timer_rearm(loop, t[50], 7);
	fake_now = 7;
	run_due(loop);
	for (int i = 1; i < 100; i++)
		if (i != 50)
			ok = ok && log_buf[k++] == i;
	ok = ok && nlog == 100 && log_buf[98] == 0 && log_buf[99] == 50;
	TAP_CHECK(ok, "equal deadlines fire in arming order; a re-arm goes behind the others");
	cyph_loop_free(loop);
}

/* ---- 100k timers ---- */

#define MANY 100000

static uint64_t many_due[MANY];
static uint64_t last_due;
static int many_fired, many_order_bad;

static void on_many(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	uint64_t d = many_due[(intptr_t)arg];

	(void)loop; (void)t;
	if (d < last_due || d > fake_now)
		many_order_bad++;
	last_due = d;
	many_fired++;
}

static void test_many(void)
{
	struct cyph_loop *loop = cyph_loop_new();
	static struct cyph_timer *t[MANY];
	int live = MANY;

	cyph_loop_set_clock(loop, fake_clock, NULL);
	fake_now = 0;
	for (int i = 0; i < MANY; i++) {
		many_due[i] = rnd(MANY);
		t[i] = cyph_loop_add_timer(loop, many_due[i], false, on_many, (void *)(intptr_t)i);
	}
	for (int i = 0; i < MANY; i++) {
		many_due[i] = rnd(MANY);
		cyph_loop_timer_rearm(loop, t[i], many_due[i]);
	}
	for (int i = 0; i < MANY; i += 3, live--)
		cyph_loop_del_timer(loop, t[i]);
	/* in two halves: only what is due may fire */
	fake_now = MANY / 2;
	run_due(loop);
	TAP_CHECK(many_order_bad == 0, "100k timers: the first half fires in deadline order");
	fake_now = MANY;
	run_due(loop);
	TAP_CHECK(many_fired == live && many_order_bad == 0,
		  "100k timers re-armed, a third cancelled: %d of %d fired, in order", many_fired, live);
	cyph_loop_free(loop);
}

int main(void)
{
	test_random_against_model();
	test_cancel_in_callback();
	test_rearm_running();
	test_grow_while_firing();
	test_equal_deadlines();
	test_many();
	return tap_done();
}
