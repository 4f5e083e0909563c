// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak, ref-double-put: a put built from a conditional decrement.  refcount_dec_not_one()
 * drops a reference when it returns true (the count was above one) and leaves the count
 * alone when it returns false, where the caller then drops it as the last one, under the
 * lock that keeps lookups from finding the dying object.  Every path of tsess_put()
 * drops the reference, so its callers' references are dropped through it.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/slab.h>

struct tsess {
	struct kref ref;
	int id;
	int state;
};

struct tsess_table {
	spinlock_t lock;
	struct tsess *slot[16];
};

static void tsess_release(struct kref *ref)
{
	struct tsess *s = container_of(ref, struct tsess, ref);

	kfree(s);
}

static inline int tsess_put_locked(struct kref *kref, void (*release)(struct kref *kref),
				   spinlock_t *lock)
{
	if (refcount_dec_not_one(&kref->refcount))
		return 0;

	spin_lock(lock);
	if (refcount_dec_and_test(&kref->refcount)) {
		release(kref);
		return 1;
	}
	spin_unlock(lock);
	return 0;
}

static int tsess_put(struct tsess_table *t, struct tsess *s)
{
	int id = s->id;
	int gone = tsess_put_locked(&s->ref, tsess_release, &t->lock);

	if (gone) {
		t->slot[id] = NULL;
		spin_unlock(&t->lock);
	}
	return gone;
}

/* finds a session and hands it back held through *out, or fails with -ENOENT */
static int tsess_find(struct tsess_table *t, int id, struct tsess **out)
{
	struct tsess *s;

	spin_lock(&t->lock);
	s = t->slot[id & 15];
	if (s)
		kref_get(&s->ref);
	spin_unlock(&t->lock);
	*out = s;
	return s ? 0 : -ENOENT;
}

/* correct: every path after a successful lookup drops the reference */
int tsess_state(struct tsess_table *t, int id)
{
	struct tsess *s;
	int err, state;

	err = tsess_find(t, id, &s);
	if (err)
		return err;
	state = s->state;
	tsess_put(t, s);
	return state;
}

/* correct: the put on the error path and the one at the end are on different paths */
int tsess_set(struct tsess_table *t, int id, int state)
{
	struct tsess *s;
	int err;

	err = tsess_find(t, id, &s);
	if (err)
		return err;
	if (state < 0) {
		tsess_put(t, s);
		return -EINVAL;
	}
	s->state = state;
	tsess_put(t, s);
	return 0;
}

/* buggy: the early return keeps the lookup's reference */
int tsess_check(struct tsess_table *t, int id)
{
	struct tsess *s;
	int err;

	err = tsess_find(t, id, &s);
	if (err)
		return err;
	if (s->state < 0)
		return -EIO;					/* expect: ref-leak@warning */
	tsess_put(t, s);
	return 0;
}

/* buggy: the error path drops the reference and falls into the common put */
int tsess_reset(struct tsess_table *t, int id)
{
	struct tsess *s;
	int err;

	err = tsess_find(t, id, &s);
	if (err)
		return err;
	if (s->state < 0)
		tsess_put(t, s);
	s->state = 0;
	tsess_put(t, s);				/* expect: ref-double-put@warning */
	return 0;
}

/* correct: the lookup's reference is dropped by one of the two decrements, whichever
 * the count allows, tested through a variable */
int tsess_drop(struct tsess_table *t, int id)
{
	struct tsess *s;
	bool dropped;

	if (tsess_find(t, id, &s))
		return -ENOENT;
	dropped = refcount_dec_not_one(&s->ref.refcount);
	if (!dropped) {
		spin_lock(&t->lock);
		if (refcount_dec_and_test(&s->ref.refcount)) {
			t->slot[id & 15] = NULL;
			kfree(s);
		}
		spin_unlock(&t->lock);
	}
	return 0;
}

/* buggy: when the count would reach zero nothing drops the reference */
int tsess_drop_unless_last(struct tsess_table *t, int id)
{
	struct tsess *s;

	if (tsess_find(t, id, &s))
		return -ENOENT;
	if (refcount_dec_not_one(&s->ref.refcount))
		return 0;
	return -EBUSY;					/* expect: ref-leak@warning */
}
