// SPDX-License-Identifier: GPL-2.0
/*
 * Reference counts that no reference-count type names: a plain atomic counter in the
 * object (`atomic_inc(&e->users)`, dropped by a release that frees the entry when it
 * reaches zero), and one in a sub-object the object points to (a program's count in
 * its `aux`, as bpf_prog_inc() keeps it).  The puts that decrement and test them say
 * they are reference counts, so the helpers that increment them are gets, and a path
 * that forgets to drop what one took leaks it.  A counter whose dec-and-test guards no
 * release (pending work signalled by a completion) counts no references.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/types.h>
#include <linux/slab.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/sched.h>

struct cprog_aux {
	atomic64_t refcnt;
	struct cprog *prog;
	int id;
};

struct cprog {
	struct cprog_aux *aux;
	int len;
};

struct cqueue {
	struct cprog __rcu *prog;
	void *ring;
	int size;
};

struct cparams {
	struct cprog *prog;
	int size;
};

void cprog_free_deferred(struct cprog_aux *aux);
int cqueue_alloc_ring(struct cqueue *q, int size);
int cqueue_map(struct cqueue *q);
void cqueue_free_ring(struct cqueue *q);

/* the program's count lives in its aux: an increment there is a reference on it */
void cprog_inc(struct cprog *prog)
{
	atomic64_inc(&prog->aux->refcnt);
}

void cprog_put(struct cprog *prog)
{
	struct cprog_aux *aux = prog->aux;

	if (atomic64_dec_and_test(&aux->refcnt))
		cprog_free_deferred(aux);
}

struct centry {
	atomic_t users;
	int key;
	struct centry *next;
};

struct ctable {
	spinlock_t lock;
	struct centry *head;
};

/* a plain counter in the entry, whose last decrement frees it */
static void centry_hold(struct centry *e)
{
	atomic_inc(&e->users);
}

static void centry_release(struct centry *e)
{
	if (atomic_dec_and_test(&e->users))
		kfree(e);
}

int centry_fill(struct centry *e, void *buf);
struct centry *ctable_lookup_raw(struct ctable *t, int key);

struct csession {
	atomic_t pending;
	int done;
};

void csession_complete(struct csession *s);

/* pending requests, signalled when the last one ends: no reference count */
static void csession_begin(struct csession *s)
{
	atomic_inc(&s->pending);
}

static void csession_end(struct csession *s)
{
	if (atomic_dec_and_test(&s->pending))
		csession_complete(s);
}

int csession_submit(struct csession *s, int op);

/* ---- buggy ------------------------------------------------------------------------- */

/* the ring's failure returns without dropping the program's reference */
int cqueue_setup(struct cqueue *q, struct cparams *params)
{
	int err;

	if (params->prog)
		cprog_inc(params->prog);
	RCU_INIT_POINTER(q->prog, params->prog);

	err = cqueue_alloc_ring(q, params->size);
	if (err)
		goto err_free;
	err = cqueue_map(q);
	if (err)
		goto err_free_ring;
	return 0;

err_free_ring:
	cqueue_free_ring(q);
	if (params->prog)
		cprog_put(params->prog);
err_free:
	return err;					/* expect: ref-leak@warning */
}

/* the fill's failure forgets the entry it held */
int ctable_read(struct ctable *t, int key, void *buf)
{
	struct centry *e;
	int err;

	spin_lock(&t->lock);
	for (e = t->head; e; e = e->next)
		if (e->key == key)
			break;
	if (!e) {
		spin_unlock(&t->lock);
		return -ENOENT;
	}
	centry_hold(e);
	spin_unlock(&t->lock);

	err = centry_fill(e, buf);
	if (err)
		return err;				/* expect: ref-leak@warning */
	centry_release(e);
	return 0;
}

/* ---- correct ----------------------------------------------------------------------- */

int cqueue_setup_unwound(struct cqueue *q, struct cparams *params)
{
	int err;

	if (params->prog)
		cprog_inc(params->prog);
	RCU_INIT_POINTER(q->prog, params->prog);

	err = cqueue_alloc_ring(q, params->size);
	if (err)
		goto err_prog;
	err = cqueue_map(q);
	if (err)
		goto err_free_ring;
	return 0;

err_free_ring:
	cqueue_free_ring(q);
err_prog:
	if (params->prog)
		cprog_put(params->prog);
	return err;
}

int ctable_read_released(struct ctable *t, int key, void *buf)
{
	struct centry *e;
	int err;

	spin_lock(&t->lock);
	for (e = t->head; e; e = e->next)
		if (e->key == key)
			break;
	if (!e) {
		spin_unlock(&t->lock);
		return -ENOENT;
	}
	centry_hold(e);
	spin_unlock(&t->lock);

	err = centry_fill(e, buf);
	centry_release(e);
	return err;
}

/* a counter's tryget pairs with the release that follows: the raw lookup lends its
 * entry, and its other callers owe nothing */
int ctable_peek(struct ctable *t, int key)
{
	struct centry *e = ctable_lookup_raw(t, key);
	int k;

	if (!e || !atomic_inc_not_zero(&e->users))
		return -1;
	k = e->key;
	centry_release(e);
	return k;
}

int ctable_peek_unlocked(struct ctable *t, int key)
{
	struct centry *e = ctable_lookup_raw(t, key);

	return e ? e->key : -1;
}

/* the request ends in its completion handler, elsewhere: nothing is held here */
int csession_start(struct csession *s, int op)
{
	int err;

	csession_begin(s);
	err = csession_submit(s, op);
	if (err)
		return err;
	return 0;
}

void csession_abort(struct csession *s)
{
	csession_end(s);
}
