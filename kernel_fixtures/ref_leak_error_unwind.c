// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak on an error path that skips the unwinding of a store: a function takes a
 * reference for the caller's structure and stores it there (`rq->prog = prog` after
 * `tprog_get(prog)`); its error paths undo that (`tprog_put(prog)`), because a caller
 * whose setup failed releases nothing.  An error return after the store that does not
 * release it leaks it, as the others show.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/slab.h>

struct tprog {
	refcount_t ref;
	int len;
};

struct tqueue {
	struct tprog __rcu *prog;
	void *ring;
	int size;
};

struct tparams {
	struct tprog *prog;
	int size;
};

static inline void tprog_get(struct tprog *prog)
{
	refcount_inc(&prog->ref);
}

void tprog_put(struct tprog *prog);
int tqueue_alloc_ring(struct tqueue *q, int size);
int tqueue_map(struct tqueue *q);
void tqueue_free_ring(struct tqueue *q);

/* ---- buggy ------------------------------------------------------------------------- */

/* the ring's failure returns straight away, leaving the program's reference in q */
int tqueue_setup(struct tqueue *q, struct tparams *params)
{
	struct tprog *prog = params->prog;
	int err;

	if (prog)
		tprog_get(prog);
	RCU_INIT_POINTER(q->prog, prog);

	err = tqueue_alloc_ring(q, params->size);
	if (err)
		return err;				/* expect: ref-leak@warning */
	err = tqueue_map(q);
	if (err)
		goto err_free_ring;
	return 0;

err_free_ring:
	tqueue_free_ring(q);
	if (prog)
		tprog_put(prog);
	return err;
}

/* the same, naming the program only through the parameter's field */
int tqueue_setup_direct(struct tqueue *q, struct tparams *params)
{
	int err;

	if (params->prog)
		tprog_get(params->prog);
	RCU_INIT_POINTER(q->prog, params->prog);

	err = tqueue_alloc_ring(q, params->size);
	if (err)
		goto err_free;
	err = tqueue_map(q);
	if (err)
		goto err_free_ring;
	return 0;

err_free_ring:
	tqueue_free_ring(q);
	if (params->prog)
		tprog_put(params->prog);
err_free:
	return err;					/* expect: ref-leak@warning */
}

/* ---- correct ----------------------------------------------------------------------- */

/* every error return after the store goes through the unwinding */
int tqueue_setup_unwound(struct tqueue *q, struct tparams *params)
{
	struct tprog *prog = params->prog;
	int err;

	if (prog)
		tprog_get(prog);
	RCU_INIT_POINTER(q->prog, prog);

	err = tqueue_alloc_ring(q, params->size);
	if (err)
		goto err_prog;
	err = tqueue_map(q);
	if (err)
		goto err_free_ring;
	return 0;

err_free_ring:
	tqueue_free_ring(q);
err_prog:
	if (prog)
		tprog_put(prog);
	return err;
}

/* the error return before the store has nothing to undo */
int tqueue_setup_checked(struct tqueue *q, struct tparams *params)
{
	int err;

	if (params->size <= 0)
		return -EINVAL;
	tprog_get(params->prog);
	RCU_INIT_POINTER(q->prog, params->prog);
	err = tqueue_map(q);
	if (err) {
		tprog_put(params->prog);
		return err;
	}
	return 0;
}

/* no error return releases what it stored: the caller's teardown owns it */
int tqueue_attach(struct tqueue *q, struct tparams *params)
{
	tprog_get(params->prog);
	RCU_INIT_POINTER(q->prog, params->prog);
	if (tqueue_map(q))
		return -EIO;
	return 0;
}

/* every error return releases the field's program */
int tqueue_setup_direct_unwound(struct tqueue *q, struct tparams *params)
{
	int err;

	if (params->prog)
		tprog_get(params->prog);
	RCU_INIT_POINTER(q->prog, params->prog);

	err = tqueue_alloc_ring(q, params->size);
	if (err)
		goto err_prog;
	err = tqueue_map(q);
	if (err)
		goto err_free_ring;
	return 0;

err_free_ring:
	tqueue_free_ring(q);
err_prog:
	if (params->prog)
		tprog_put(params->prog);
	return err;
}
