// SPDX-License-Identifier: GPL-2.0
/*
 * A helper that returns its argument with a reference taken, or NULL when the object is
 * already dying (`if (refcount_inc_not_zero(&b->ref)) return b; return NULL;`), is a
 * tryget on its argument: a caller that tests the result without naming it
 * (`if (!tbucket_tryget(b)) continue;`) holds a reference on `b` past the test.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/rculist.h>
#include <linux/refcount.h>
#include <linux/slab.h>

struct tbucket {
	struct list_head node;
	refcount_t ref;
	void *owner;
	int nr;
};

struct tbucket_set {
	struct list_head buckets;
};

int tbucket_drain(int nr);

static struct tbucket *tbucket_tryget(struct tbucket *b)
{
	if (refcount_inc_not_zero(&b->ref))
		return b;
	return NULL;
}

static void tbucket_release(struct tbucket *b)
{
	if (refcount_dec_and_test(&b->ref))
		kfree_rcu(b, node);
}

/* ---- buggy ------------------------------------------------------------------------- */

/* the early break keeps the reference the test took */
static int tbucket_scan_limit(struct tbucket_set *set, int max)
{
	struct tbucket *b;
	int done = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(b, &set->buckets, node) {
		if (!b->owner || !tbucket_tryget(b))
			continue;
		done += tbucket_drain(b->nr);
		if (done >= max)
			break;
		tbucket_release(b);
	}
	rcu_read_unlock();
	return done;					/* expect: ref-leak@warning */
}

/* the result is tested, but the section is left with no reference taken at all */
static int tbucket_scan_untaken(struct tbucket_set *set)
{
	struct tbucket *b;
	int done = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(b, &set->buckets, node) {
		if (!b->owner)
			continue;
		rcu_read_unlock();
		done += tbucket_drain(b->nr);			/* expect: rcu-use-after-unlock@warning */
		rcu_read_lock();
	}
	rcu_read_unlock();
	return done;
}

/* ---- correct ----------------------------------------------------------------------- */

/* the section is dropped around the work while the tryget's reference keeps the bucket */
static int tbucket_scan(struct tbucket_set *set)
{
	struct tbucket *b;
	int done = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(b, &set->buckets, node) {
		if (!b->owner || !tbucket_tryget(b))
			continue;
		rcu_read_unlock();
		done += tbucket_drain(b->nr);
		rcu_read_lock();
		tbucket_release(b);
	}
	rcu_read_unlock();
	return done;
}

/* the same with the result named */
static int tbucket_scan_named(struct tbucket_set *set)
{
	struct tbucket *b, *held;
	int done = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(b, &set->buckets, node) {
		held = tbucket_tryget(b);
		if (!held)
			continue;
		rcu_read_unlock();
		done += tbucket_drain(held->nr);
		rcu_read_lock();
		tbucket_release(held);
	}
	rcu_read_unlock();
	return done;
}

/* returns NULL only when given NULL: a get, whose result need not be tested */
static struct tbucket *tbucket_hold(struct tbucket *b)
{
	if (b)
		refcount_inc(&b->ref);
	return b;
}

static int tbucket_count(struct tbucket *b)
{
	int nr;

	tbucket_hold(b);
	nr = b->nr;
	tbucket_release(b);
	return nr;
}

int tbucket_users(struct tbucket_set *set)
{
	return tbucket_scan_limit(set, 4) + tbucket_scan_untaken(set) + tbucket_scan(set) +
		tbucket_scan_named(set) + tbucket_count(NULL);
}

/* ---- an object returned through one of its members ---------------------------------- */

struct tpair_half {
	struct list_head node;
	int dir;
};

struct tpair {
	refcount_t use;
	struct tpair_half half[2];
};

struct tpair_half *tpair_lookup(struct tbucket_set *set, int key);

/* which half is given decides the offset: container_of() by a computed member */
static inline struct tpair *tpair_of(struct tpair_half *h)
{
	return container_of(h, struct tpair, half[h->dir]);
}

/* the reference taken on the pair goes back with its half: one object */
struct tpair_half *tpair_find_get(struct tbucket_set *set, int key)
{
	struct tpair_half *h;
	struct tpair *p;

	rcu_read_lock();
	h = tpair_lookup(set, key);
	if (h) {
		p = tpair_of(h);
		if (refcount_inc_not_zero(&p->use)) {
			rcu_read_unlock();
			return h;
		}
	}
	rcu_read_unlock();
	return NULL;
}

/*
 * The tryget given an object with no name of its own (a load, a call's result): the
 * result carries the reference, and a NULL one none.
 */
struct tbucket_slot {
	struct tbucket __rcu *cur;
};

int tbucket_slot_nr(struct tbucket_slot *slot)
{
	struct tbucket *b;
	int nr;

	rcu_read_lock();
	b = tbucket_tryget(rcu_dereference(slot->cur));
	rcu_read_unlock();
	if (!b)
		return -ENOENT;
	nr = b->nr;
	if (nr < 0)
		return -EINVAL;				/* expect: ref-leak@warning */
	tbucket_release(b);
	return nr;
}

int tbucket_slot_nr_fixed(struct tbucket_slot *slot)
{
	struct tbucket *b;
	int nr;

	rcu_read_lock();
	b = tbucket_tryget(rcu_dereference(slot->cur));
	rcu_read_unlock();
	if (!b)
		return -ENOENT;
	nr = b->nr;
	tbucket_release(b);
	return nr < 0 ? -EINVAL : nr;
}
