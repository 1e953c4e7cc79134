// SPDX-License-Identifier: MIT
/* Worker pool with completions on the loop thread (workq.h). */
#include "workq.h"
#include "evloop.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct job {
	struct job *next;
	void (*work)(void *);
	void (*done)(void *);
	void *arg;
};

struct jlist {
	struct job *head, **tail;
};

struct cyph_workq {
	struct cyph_loop *loop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct jlist todo, finished;
	bool stopping;
	int efd;
	size_t pending;		/* loop thread only */
	unsigned int nthreads;
	pthread_t threads[];
};

static void jl_init(struct jlist *l)
{
	l->head = NULL;
	l->tail = &l->head;
}

static void jl_push(struct jlist *l, struct job *j)
{
	j->next = NULL;
	*l->tail = j;
	l->tail = &j->next;
}

static struct job *jl_pop(struct jlist *l)
{
	struct job *j = l->head;

	if (j) {
		l->head = j->next;
		if (!l->head)
			l->tail = &l->head;
	}
	return j;
}

static void *worker(void *arg)
{
	struct cyph_workq *q = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		struct job *j;

		while (!(j = jl_pop(&q->todo)) && !q->stopping)
			pthread_cond_wait(&q->cond, &q->lock);
		if (!j)
			break;
		pthread_mutex_unlock(&q->lock);
		j->work(j->arg);
		pthread_mutex_lock(&q->lock);
		jl_push(&q->finished, j);
		if (write(q->efd, &one, sizeof(one)) < 0) {
			/* counter saturated: the loop will wake anyway */
		}
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

static void run_finished(struct cyph_workq *q)
{
	struct jlist l;
	struct job *j;

	pthread_mutex_lock(&q->lock);
	l = q->finished;
	jl_init(&q->finished);
	pthread_mutex_unlock(&q->lock);
	if (!l.head)
		return;
	while ((j = jl_pop(&l))) {
		q->pending--;
		if (j->done)
			j->done(j->arg);
		free(j);
	}
}

static void on_event(struct cyph_loop *loop, int fd, uint32_t ev, void *arg)
{
	uint64_t v;

	(void)loop; (void)ev;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* spurious wake-up */
	}
	run_finished(arg);
}

struct cyph_workq *cyph_workq_new(struct cyph_loop *loop, unsigned int n)
{
	struct cyph_workq *q;
	sigset_t all, old;

	if (!n)
		n = 1;
	q = calloc(1, sizeof(*q) + n * sizeof(pthread_t));
	if (!q)
		return NULL;
	q->loop = loop;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	jl_init(&q->todo);
	jl_init(&q->finished);
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0 || cyph_loop_add_fd(loop, q->efd, EPOLLIN, on_event, q)) {
		if (q->efd >= 0)
			close(q->efd);
		free(q);
		return NULL;
	}
	/* workers must never take the daemon's signals */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (; q->nthreads < n; q->nthreads++)
		if (pthread_create(&q->threads[q->nthreads], NULL, worker, q))
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!q->nthreads) {
		cyph_workq_free(q);
		return NULL;
	}
	return q;
}

void cyph_workq_free(struct cyph_workq *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	for (unsigned int i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	run_finished(q);
	cyph_loop_del_fd(q->loop, q->efd);
	close(q->efd);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

int cyph_workq_submit(struct cyph_workq *q, void (*work)(void *),
		      void (*done)(void *), void *arg)
{
	struct job *j = malloc(sizeof(*j));

	if (!j)
		return -1;
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&q->lock);
	jl_push(&q->todo, j);
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	q->pending++;
	return 0;
}

size_t cyph_workq_pending(struct cyph_workq *q)
{
	return q->pending;
}
