// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers whose read-side section outlives their return: accepted only with evidence
 * (a sparse annotation, the kernel's naming, the model, or an analysed caller that
 * uses them so); without it the imbalance is reported once, where it starts.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/rculist.h>
#include <linux/sched.h>

struct tab {
	struct list_head items;
	struct tab __rcu *next;
	unsigned long flags;
	long count;
	int state;
};

struct item {
	struct list_head node;
	int key;
};

#define TAB_LOCKLESS	0x4UL
#define TAB_FAST	0x8UL

/* ---- buggy ------------------------------------------------------------------------- */

/* a lost unlock (xchg_nr_deferred_memcg() without its rcu_read_unlock()) */
static long tab_xchg_count(struct tab *t)
{
	struct tab *n;
	long old = 0;

	rcu_read_lock();
	n = rcu_dereference(t->next);
	if (n) {
		old = n->count;
		n->count = 0;
	}
	return old;				/* expect: rcu-unbalanced@warning */
}

/* its caller is not reported again for the helper's imbalance */
static long tab_drain(struct tab *t)
{
	long total = tab_xchg_count(t);

	return total + t->count;
}

/* ... nor is the caller's caller */
long tab_drain_all(struct tab *t)
{
	return tab_drain(t) + tab_drain(t);
}

/* a lost lock: releases a section nobody holds */
static int tab_peek_state(struct tab *t)
{
	struct tab *n;
	int state = -1;

	n = rcu_dereference(t->next);		/* expect: rcu-deref-unprotected@note */
	if (n)
		state = n->state;
	rcu_read_unlock();			/* expect: rcu-unbalanced@warning */
	return state;
}

/* a walk that returns from inside its section with a constant: no trylock says so */
static int tab_has_key(struct tab *t, int key)
{
	struct item *it;

	rcu_read_lock();
	list_for_each_entry_rcu(it, &t->items, node) {
		if (it->key == key)
			return 1;			/* expect: rcu-unbalanced@warning */
	}
	rcu_read_unlock();
	return 0;
}

/* its caller tests the result but never releases: it is not a trylock */
static int tab_count_key(struct tab *t, int key)
{
	return tab_has_key(t, key) ? 1 : 0;
}

/* held when a flag says so, and nothing anywhere releases under that flag */
static int tab_walk_prepare(struct tab *t, unsigned long flags)
{
	if (flags & TAB_FAST)
		rcu_read_lock();
	t->flags = flags;
	return 0;				/* expect: rcu-unbalanced@warning */
}

/* drops the caller's section around a sleep and takes it again, and no caller holds one */
static void tab_yield(struct tab *t)
{
	rcu_read_unlock();			/* expect: rcu-unbalanced@warning */
	cond_resched();
	rcu_read_lock();
}

/* a section taken under an unnamed bit, and left held on one return */
static int tab_mode_check(struct tab *t, unsigned long flags)
{
	if (flags & 1)
		rcu_read_lock();
	if (t->state < 0)
		return -EINVAL;			/* expect: rcu-unbalanced@warning */
	if (flags & 1)
		rcu_read_unlock();
	return 0;
}

/* declared to acquire the section, but the lock was lost */
static void *tab_seq_start_nolock(struct tab *t)
	__acquires(RCU)
{
	return t->items.next;				/* expect: rcu-unbalanced@warning */
}

/* declared to release the caller's section, but the unlock was lost */
static void tab_seq_stop_nounlock(struct tab *t)
	__releases(RCU)
{
	t->state = 0;
}							/* expect: rcu-unbalanced@warning */

/* a walk's step that ends the caller's section when it runs out of objects, and a
 * start that returns the first one */
static struct tab *tab_walk_step(struct tab *t)
{
	struct tab *n = rcu_dereference(t->next);

	if (!n) {
		rcu_read_unlock();
		return NULL;
	}
	return n;
}

static void *tab_walk_start(struct tab *t)
	__acquires(RCU)
{
	rcu_read_lock();
	return tab_walk_step(t);
}

/* a step that leaves the caller's section while handing out an object */
static struct tab *tab_walk_leak(struct tab *t)
{
	struct tab *n = rcu_dereference(t->next);

	if (n && n->state)
		rcu_read_unlock();			/* expect: rcu-unbalanced@warning */
	return n;
}

static void *tab_walk_start_leak(struct tab *t)
	__acquires(RCU)
{
	rcu_read_lock();
	return tab_walk_leak(t);
}

/* named as a lock, but the held paths return error pointers too: the result does not
 * say whether the section is held, and the early error return does not hold it */
static struct tab *tab_pick_start(struct tab *t, int key)
{
	struct tab *n;

	if (key < 0)
		return ERR_PTR(-EINVAL);		/* expect: rcu-unbalanced@warning */
	rcu_read_lock();
	n = rcu_dereference(t->next);
	if (!n)
		n = ERR_PTR(-ENOENT);
	return n;
}

/* a lost lock (mem_cgroup_move_account() without folio_memcg_lock()): the unlock on the
 * path that returns 0 is no iterator's end, though its caller holds a section of its own */
static int tab_move(struct tab *t)
{
	if (t->state < 0)
		return -EINVAL;
	t->state = 1;
	rcu_read_unlock();				/* expect: rcu-unbalanced@warning */
	return 0;
}

static void tab_move_all(struct tab *t)
{
	rcu_read_lock();
	tab_move(t);
	rcu_read_unlock();
}

/* a stop whose walk already ended its section when it ran out (v NULL) */
static void tab_walk_stop(struct tab *t, void *v)
	__releases(RCU)
{
	if (!v)
		t->state = 0;
	else
		rcu_read_unlock();
}

/* the same shape with nothing saying the section is meant to outlive the call */
static struct tab *tab_peek(struct tab *t)
{
	struct tab *n;

	rcu_read_lock();
	n = rcu_dereference(t->next);
	if (!n) {
		rcu_read_unlock();
		return ERR_PTR(-ENOENT);
	}
	return n;				/* expect: rcu-unbalanced@warning */
}

/* ---- correct ----------------------------------------------------------------------- */

/* seq_file start/stop: the annotations say the section crosses the calls */
static void *tab_seq_start(struct tab *t)
	__acquires(RCU)
{
	rcu_read_lock();
	return rcu_dereference(t->next);
}

static void tab_seq_stop(struct tab *t)
	__releases(RCU)
{
	rcu_read_unlock();
}

/* a seq_file start that fails with an error pointer, releasing what it took */
static void *tab_seq_start_err(struct tab *t)
	__acquires(RCU)
{
	struct tab *n;

	rcu_read_lock();
	n = rcu_dereference(t->next);
	if (!n) {
		rcu_read_unlock();
		return ERR_PTR(-ENOENT);
	}
	return n;
}

/* the kernel's naming: *_lock() takes it, *_unlock() drops it */
static struct tab *tab_next_lock(struct tab *t)
{
	rcu_read_lock();
	return rcu_dereference(t->next);
}

static void tab_next_unlock(struct tab *t)
{
	rcu_read_unlock();
}

/* no telling name: its callers release what it takes */
static struct tab *tab_pin(struct tab *t)
{
	rcu_read_lock();
	return rcu_dereference(t->next);
}

static int tab_pin_user(struct tab *t)
{
	struct tab *n = tab_pin(t);
	int state = n ? n->state : 0;

	rcu_read_unlock();
	return state;
}

/* returns true holding the section; its caller releases on that branch */
static bool tab_find_hold(struct tab *t, int key)
{
	struct item *it;

	rcu_read_lock();
	list_for_each_entry_rcu(it, &t->items, node) {
		if (it->key == key)
			return true;
	}
	rcu_read_unlock();
	return false;
}

static int tab_find_user(struct tab *t, int key)
{
	if (!tab_find_hold(t, key))
		return -ENOENT;
	t->state++;
	rcu_read_unlock();
	return 0;
}

/* dual mode: held under a named flag that a partner releases under (path_init() shape) */
static int tab_walk_init(struct tab *t, unsigned long flags)
{
	if (flags & TAB_LOCKLESS)
		rcu_read_lock();
	t->state = (int)flags;
	return 0;
}

static void tab_walk_leave(struct tab *t)
{
	t->state &= ~(int)TAB_LOCKLESS;
	rcu_read_unlock();
}

static void tab_walk_done(struct tab *t)
{
	if (t->state & TAB_LOCKLESS)
		tab_walk_leave(t);
}

/* drops the caller's section around a sleep; its caller holds one (napi busy-poll shape) */
static void tab_resched(struct tab *t)
{
	rcu_read_unlock();
	cond_resched();
	rcu_read_lock();
}

static void tab_scan(struct tab *t)
{
	rcu_read_lock();
	while (rcu_dereference(t->next))
		tab_resched(t);
	rcu_read_unlock();
}

/* __must_hold(RCU): the annotation says the caller's section is borrowed */
static void tab_resched_annotated(struct tab *t)
	__must_hold(RCU)
{
	rcu_read_unlock();
	cond_resched();
	rcu_read_lock();
}
