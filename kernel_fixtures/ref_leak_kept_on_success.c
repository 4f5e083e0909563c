// SPDX-License-Identifier: GPL-2.0
/*
 * A table insert that keeps its argument only when it succeeds: it links the state
 * into the table and returns 0, or finds a duplicate and returns -EEXIST with the state
 * untouched.  Its caller's reference goes into the table on success and comes back on
 * failure, so an error path that drops its own references drops them all, and one that
 * forgets them leaks.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/refcount.h>
#include <linux/rculist.h>
#include <linux/slab.h>

struct tstate {
	refcount_t refcnt;
	struct list_head node;
	int id;
	int dead;
};

static LIST_HEAD(state_list);

void tstate_destroy(struct tstate *x);
struct tstate *tstate_alloc(void);	/* a new state, its count at one */
void tstate_audit(struct tstate *x, int ok);

static inline void tstate_hold(struct tstate *x)
{
	refcount_inc(&x->refcnt);
}

static inline void tstate_put(struct tstate *x)
{
	if (refcount_dec_and_test(&x->refcnt))
		tstate_destroy(x);
}

/* a state for `id`, or NULL */
static struct tstate *tstate_build(int id)
{
	struct tstate *x = tstate_alloc();

	if (!x)
		return NULL;
	if (id < 0) {
		x->dead = 1;
		tstate_put(x);
		return NULL;
	}
	x->id = id;
	return x;
}

static struct tstate *ttable_find(int id)
{
	struct tstate *x;

	list_for_each_entry(x, &state_list, node)
		if (x->id == id)
			return x;
	return NULL;
}

/* links the state in and keeps the caller's reference, unless a duplicate is there */
static int ttable_insert(struct tstate *x)
{
	if (ttable_find(x->id))
		return -17;
	list_add(&x->node, &state_list);
	return 0;
}

/* ---- correct ----------------------------------------------------------------------- */

/* a duplicate gives the table's reference back: both are dropped */
int tstate_add(int id)
{
	struct tstate *x = tstate_build(id);
	int err;

	if (!x)
		return -12;
	tstate_hold(x);
	err = ttable_insert(x);
	if (err < 0) {
		x->dead = 1;
		tstate_put(x);
		goto out;
	}
	err = 0;
out:
	tstate_put(x);
	return err;
}

/* ---- buggy ------------------------------------------------------------------------- */

/* a duplicate leaves the reference meant for the table with nobody */
int tstate_add_leaky(int id)
{
	struct tstate *x = tstate_build(id);
	int err;

	if (!x)
		return -12;
	tstate_hold(x);
	err = ttable_insert(x);
	if (err < 0)
		goto out;
	err = 0;
out:
	tstate_put(x);
	return err;				/* expect: ref-leak@warning */
}
