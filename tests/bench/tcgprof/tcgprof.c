// SPDX-License-Identifier: MIT
/*
 * tcgprof: a QEMU TCG plugin that counts the guest instructions executed
 * per translation block, between marks the guest sets.
 *
 * perf cannot sample a TCG guest (every cpu-clock sample lands in the idle
 * loop), so `make bench-profile` with BENCH_TCGPROF=1 loads this instead:
 * each translated block adds its instruction count to a counter of its
 * start address every time it runs (an inline add, no call). The guest
 * creates files mark-1, mark-2, ... in a directory it shares with the host
 * (ctl=DIR); for each mark this writes DIR/prof-N.txt, the instructions
 * per block start address since the previous mark ("ADDR COUNT" lines in
 * hex and decimal, user space summed as "user COUNT"). report.py maps the
 * addresses to the guest's kernel symbols.
 *
 * What it counts is instructions, not time: an instruction TCG emulates
 * with a helper (AES-NI, carry-less multiply, wide vector operations)
 * counts once but costs many. Counters are plain adds, exact with one
 * TCG thread (run.sh runs a profiled guest with thread=single).
 *
 * Built for QEMU 7.2 (Debian 12), plugin API version 1; the declarations
 * below are the part of that API this uses.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_info_t;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
					       struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   qemu_plugin_vcpu_tb_trans_cb_t cb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
					      enum qemu_plugin_op op,
					      void *ptr, uint64_t imm);

#define EXPORT __attribute__((visibility("default")))
EXPORT int qemu_plugin_version = 1;

/*
 * Counters live at fixed addresses (translated code holds pointers to
 * them), so the table never grows: open addressing over a fixed array.
 */
#define SLOTS (1u << 19)
struct slot {
	uint64_t vaddr;		/* 0: free */
	uint64_t count;
};
static struct slot *table;
static uint64_t *last;		/* counts at the previous mark */
static uint64_t user_count, user_last, overflow_count, overflow_last;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char ctl[4096];

/* Kernel text is in the upper half; all of user space is one counter. */
static uint64_t *counter_for(uint64_t vaddr)
{
	uint64_t h;
	unsigned int i, n;

	if (!(vaddr >> 63))
		return &user_count;
	h = (vaddr >> 2) * 0x9e3779b97f4a7c15ull;
	i = (unsigned int)(h >> 45) & (SLOTS - 1);
	for (n = 0; n < SLOTS / 2; n++, i = (i + 1) & (SLOTS - 1)) {
		if (table[i].vaddr == vaddr)
			return &table[i].count;
		if (!table[i].vaddr) {
			table[i].vaddr = vaddr;
			return &table[i].count;
		}
	}
	return &overflow_count;
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t *c;

	(void)id;
	pthread_mutex_lock(&lock);
	c = counter_for(qemu_plugin_tb_vaddr(tb));
	pthread_mutex_unlock(&lock);
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 c, qemu_plugin_tb_n_insns(tb));
}

/* Write prof-N.txt: what ran since the previous mark. */
static void dump(int n)
{
	char path[4200], tmp[4210];
	unsigned int i;
	FILE *f;

	snprintf(path, sizeof(path), "%s/prof-%d.txt", ctl, n);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	pthread_mutex_lock(&lock);
	for (i = 0; i < SLOTS; i++) {
		uint64_t now = table[i].count;

		if (table[i].vaddr && now != last[i])
			fprintf(f, "%llx %llu\n", (unsigned long long)table[i].vaddr,
				(unsigned long long)(now - last[i]));
		last[i] = now;
	}
	fprintf(f, "user %llu\n", (unsigned long long)(user_count - user_last));
	fprintf(f, "overflow %llu\n",
		(unsigned long long)(overflow_count - overflow_last));
	user_last = user_count;
	overflow_last = overflow_count;
	pthread_mutex_unlock(&lock);
	fclose(f);
	rename(tmp, path);
}

/* Watch for the guest's marks, in order, for as long as QEMU runs. */
static void *watch(void *arg)
{
	char path[4200];
	int next = 1;

	(void)arg;
	for (;;) {
		snprintf(path, sizeof(path), "%s/mark-%d", ctl, next);
		if (access(path, F_OK) == 0) {
			dump(next);
			next++;
			continue;
		}
		usleep(20000);
	}
	return NULL;
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
			       const struct qemu_info_t *info,
			       int argc, char **argv)
{
	pthread_t thread;
	int i;

	(void)info;
	for (i = 0; i < argc; i++)
		if (!strncmp(argv[i], "ctl=", 4))
			snprintf(ctl, sizeof(ctl), "%s", argv[i] + 4);
	if (!ctl[0]) {
		fprintf(stderr, "tcgprof: needs ctl=DIR\n");
		return -1;
	}
	table = calloc(SLOTS, sizeof(*table));
	last = calloc(SLOTS, sizeof(*last));
	if (!table || !last)
		return -1;
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	if (pthread_create(&thread, NULL, watch, NULL))
		return -1;
	pthread_detach(thread);
	return 0;
}
