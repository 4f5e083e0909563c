// SPDX-License-Identifier: GPL-2.0
/*
 * rcu-unbalanced: read-side sections that do not pair on some path.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/srcu.h>
#include <linux/rculist.h>
#include <linux/memcontrol.h>

struct obj {
	struct list_head node;
	struct obj __rcu *child;
	int key;
	int state;
};

static struct srcu_struct obj_srcu;
static struct srcu_struct other_srcu;

/* ---- buggy ------------------------------------------------------------------------- */

/* early return from inside the section */
static int obj_lookup_early_return(struct obj *parent, int key)
{
	struct obj *c;

	rcu_read_lock();
	c = rcu_dereference(parent->child);
	if (!c)
		return -ENOENT;		/* expect: rcu-unbalanced@warning */
	key = c->key;
	rcu_read_unlock();
	return key;
}

/* goto ladder whose error label skips the unlock */
static int obj_update_ladder(struct obj *parent, int v)
{
	struct obj *c;
	int ret = 0;

	rcu_read_lock();
	c = rcu_dereference(parent->child);
	if (!c) {
		ret = -ENOENT;
		goto out;
	}
	if (c->state < 0) {
		ret = -EINVAL;
		goto out_nounlock;
	}
	c->key = v;
out:
	rcu_read_unlock();
out_nounlock:
	return ret;		/* expect: rcu-unbalanced@warning */
}

/* flavour mismatch: rcu_read_lock() closed by rcu_read_unlock_bh() */
static int obj_peek_mismatch(struct obj *parent)
{
	struct obj *c;
	int key = 0;

	rcu_read_lock();
	c = rcu_dereference(parent->child);
	if (c)
		key = c->key;
	rcu_read_unlock_bh();	/* expect: rcu-unbalanced@warning */
	return key;
}

/* SRCU unlock on a different srcu_struct than the lock */
static int obj_srcu_wrong_handle(struct obj *parent)
{
	struct obj *c;
	int idx, key = 0;

	idx = srcu_read_lock(&obj_srcu);
	c = srcu_dereference(parent->child, &obj_srcu);
	if (c)
		key = c->key;
	srcu_read_unlock(&other_srcu, idx);	/* expect: rcu-unbalanced@warning */
	return key;
}

/* double unlock on the error path */
static int obj_double_unlock(struct obj *parent)
{
	struct obj *c;
	int key;

	rcu_read_lock();
	c = rcu_dereference(parent->child);
	if (!c) {
		rcu_read_unlock();
		goto fail;
	}
	key = c->key;
	rcu_read_unlock();
	return key;
fail:
	rcu_read_unlock();	/* expect: rcu-unbalanced@warning */
	return -ENOENT;
}

/* section opened in one branch, closed unconditionally after the join */
static int obj_cond_lock(struct obj *parent, bool locked)
{
	struct obj *c;
	int key = 0;

	if (!locked)
		rcu_read_lock();
	c = rcu_dereference_check(parent->child, locked);
	if (c)
		key = c->key;
	rcu_read_unlock();	/* expect: rcu-unbalanced@warning */
	return key;
}

/* loop with continue that leaves the section held */
static int obj_walk_continue(struct list_head *head)
{
	struct obj *pos;
	int n = 0;

	list_for_each_entry(pos, head, node) {
		rcu_read_lock();
		if (!rcu_dereference(pos->child))
			continue;
		n++;
		rcu_read_unlock();
	}
	return n;		/* expect: rcu-unbalanced@warning */
}

#define OBJ_KIND_DIR	2

/* a kind test guards an early return before the section, and the unlock is missing:
 * the other function's own section under the same constant is no flag partner */
static struct obj *obj_child_of_dir(struct obj *parent)
{
	struct obj *c;

	if (parent->state != OBJ_KIND_DIR)
		return NULL;
	rcu_read_lock();
	c = rcu_dereference(parent->child);
	if (c && c->key < 0)
		c = NULL;
	return c;				/* expect: rcu-unbalanced@warning */
}

static int obj_dir_key(struct obj *parent)
{
	struct obj *c;
	int key = -1;

	if (parent->state != OBJ_KIND_DIR)
		return -1;
	rcu_read_lock();
	c = rcu_dereference(parent->child);
	if (c)
		key = c->key;
	rcu_read_unlock();
	return key;
}

/* ---- correct ----------------------------------------------------------------------- */

/* every path leaves through a common label */
static int obj_lookup_ok(struct obj *parent, int key)
{
	struct obj *c;
	int ret = -ENOENT;

	rcu_read_lock();
	c = rcu_dereference(parent->child);
	if (!c)
		goto out;
	if (c->key != key)
		goto out;
	ret = c->state;
out:
	rcu_read_unlock();
	return ret;
}

/* nested sections of two flavours, closed in order */
static int obj_nested_ok(struct obj *parent)
{
	struct obj *c;
	int key = 0;

	rcu_read_lock_bh();
	rcu_read_lock();
	c = rcu_dereference(parent->child);
	if (c)
		key = c->key;
	rcu_read_unlock();
	rcu_read_unlock_bh();
	return key;
}

/* guard(rcu) ends the section at every return */
static int obj_guard_ok(struct obj *parent)
{
	struct obj *c;

	guard(rcu)();
	c = rcu_dereference(parent->child);
	if (!c)
		return -ENOENT;
	return c->key;
}

/* scoped_guard with an early return from inside the scope */
static int obj_scoped_guard_ok(struct obj *parent)
{
	int key = 0;

	scoped_guard(rcu) {
		struct obj *c = rcu_dereference(parent->child);

		if (!c)
			return -ENOENT;
		key = c->key;
	}
	return key;
}

/* lock taken and released under the same local flag */
static int obj_flag_ok(struct obj *parent, bool need_lock)
{
	bool locked = false;
	struct obj *c;
	int key = 0;

	if (need_lock) {
		rcu_read_lock();
		locked = true;
	}
	c = rcu_dereference_check(parent->child, !need_lock);
	if (c)
		key = c->key;
	if (locked)
		rcu_read_unlock();
	return key;
}

/* returns holding the section on every path: the caller's partner unlocks */
static struct obj *obj_lock_child(struct obj *parent)
{
	rcu_read_lock();
	return rcu_dereference(parent->child);
}

/* the partner of obj_lock_child(): releases the caller's section */
static void obj_unlock_child(struct obj *child)
{
	rcu_read_unlock();
}

/* trylock style: returns true iff the section is held */
static bool obj_trylock(struct obj *parent)
{
	rcu_read_lock();
	if (parent->state >= 0)
		return true;
	rcu_read_unlock();
	return false;
}

/* SRCU with its own handle, balanced */
static int obj_srcu_ok(struct obj *parent)
{
	struct obj *c;
	int idx, key = 0;

	idx = srcu_read_lock(&obj_srcu);
	c = srcu_dereference(parent->child, &obj_srcu);
	if (c)
		key = c->key;
	srcu_read_unlock(&obj_srcu, idx);
	return key;
}

/* section per loop iteration with break and continue */
static int obj_walk_ok(struct list_head *head)
{
	struct obj *pos;
	int n = 0;

	list_for_each_entry(pos, head, node) {
		rcu_read_lock();
		if (!rcu_dereference(pos->child)) {
			rcu_read_unlock();
			continue;
		}
		if (pos->state < 0) {
			rcu_read_unlock();
			break;
		}
		n++;
		rcu_read_unlock();
	}
	return n;
}

/* helper pair from the memcg API, used as a caller would */
static int obj_folio_ok(struct folio *folio)
{
	int v;

	folio_memcg_lock(folio);
	v = folio->memcg_data != 0;
	folio_memcg_unlock(folio);
	return v;
}

/* drops the caller's section around a reschedule and takes it again (shrink_kill() shape) */
static void obj_resched_borrowed(struct obj *o)
{
	do {
		rcu_read_unlock();
		o->state++;
		rcu_read_lock();
	} while (o->state < 8);
}

/* ... and its caller, which holds the section it borrows */
static void obj_resched_caller(struct obj *o)
{
	rcu_read_lock();
	obj_resched_borrowed(o);
	rcu_read_unlock();
}

#define OBJ_RCU_MODE	0x1

/* takes RCU in RCU mode only and returns holding it for its partner (path_init() shape) */
static int obj_walk_init(struct obj *o, unsigned int flags)
{
	if (!o)
		return -EINVAL;
	if (flags & OBJ_RCU_MODE)
		rcu_read_lock();
	o->state = flags;
	if (o->key < 0)
		return -ENOENT;
	return 0;
}

/* leaves RCU mode for its caller (leave_rcu() shape: the name says it releases) */
static void obj_leave_rcu(struct obj *o)
{
	o->state &= ~OBJ_RCU_MODE;
	rcu_read_unlock();
}

/* the partner: leaves RCU mode under the same flag (terminate_walk() shape) */
static void obj_walk_done(struct obj *o)
{
	if (o->state & OBJ_RCU_MODE)
		obj_leave_rcu(o);
}

/*
 * legitimises what the walk found and leaves RCU mode on success and failure alike
 * (try_to_unlazy() shape): its name does not say so, but every caller calls it in RCU
 * mode, releasing under the flag its partner holds the section under
 */
static bool obj_unlazy(struct obj *o)
{
	bool ok = o->key >= 0;

	if (!ok)
		o->key = 0;
	obj_leave_rcu(o);
	return ok;
}

/* ... one such caller (complete_walk() shape) */
static int obj_walk_complete(struct obj *o)
{
	if (o->state & OBJ_RCU_MODE) {
		if (!obj_unlazy(o))
			return -10;
	}
	return 0;
}

/*
 * Callees defined elsewhere whose prototypes carry sparse's context annotations: the
 * annotation is their contract with this caller.
 */
struct tsta { int state; };
int tsta_insert_rcu(struct tsta *sta) __acquires(RCU);
void tsta_walk_stop(struct tsta *sta) __releases(RCU);

/* returns inside the section the insert entered, on success and on failure alike */
int tsta_finish(struct tsta *sta)
{
	int err = tsta_insert_rcu(sta);

	if (err) {
		rcu_read_unlock();
		return err;
	}
	sta->state = 1;
	rcu_read_unlock();
	return 0;
}

/* the failure path forgets that the insert entered the section anyway */
int tsta_finish_leaky(struct tsta *sta)
{
	int err = tsta_insert_rcu(sta);

	if (err)
		return err;				/* expect: rcu-unbalanced@warning */
	sta->state = 1;
	rcu_read_unlock();
	return 0;
}

/* the walk's stop leaves the section the walk entered */
void tsta_walk(struct tsta *sta)
{
	rcu_read_lock();
	sta->state = 2;
	tsta_walk_stop(sta);
}
