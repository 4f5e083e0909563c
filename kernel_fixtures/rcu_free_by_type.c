// SPDX-License-Identifier: GPL-2.0
/*
 * rcu-free-without-grace where the freed object is known by its type, not by a load:
 * a published pointer of a struct type is replaced (or cleared) and a struct of that
 * type, which this function did not allocate, is freed at once; a struct that RCU
 * readers tryget, freed as its last reference goes; an RCU callback called directly.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/slab.h>

struct tmap {
	struct rcu_head rcu;
	int len;
};

struct tdev {
	struct tmap __rcu *maps[2];
	struct tmap __rcu *cur;
	struct tmap *spare;
};

/* a table readers find under RCU and pin with a tryget */
struct tent {
	struct rcu_head rcu;
	refcount_t ref;
	struct kref kref;
	struct percpu_ref pref;
	int key;
};

struct ttab {
	struct tent __rcu *slot[8];
};

/* a struct readers find under RCU and never tryget: nothing says its last put races them */
struct tpid {
	struct rcu_head rcu;
	refcount_t count;
};

struct tpid __rcu *cur_pid;

static struct mutex tdev_mutex;

/* a struct readers pin through a helper of their own, whose parameter says what it is */
struct tnode {
	struct rcu_head rcu;
	refcount_t ref;
	struct tnode __rcu *next;
};

static bool tnode_tryget(struct tnode *n)
{
	return refcount_inc_not_zero(&n->ref);
}

struct tnode *tnode_next(struct tnode *n)
{
	struct tnode *next;

	rcu_read_lock();
	next = rcu_dereference(n->next);
	if (next && !tnode_tryget(next))
		next = NULL;
	rcu_read_unlock();
	return next;
}

/* readers */
struct tent *tent_get(struct ttab *t, int i)
{
	struct tent *e;

	rcu_read_lock();
	e = rcu_dereference(t->slot[i & 7]);
	if (e && !refcount_inc_not_zero(&e->ref))
		e = NULL;
	rcu_read_unlock();
	return e;
}

/* a lookup helper its callers run under a section: a reader just the same */
static struct tent *__tent_find(struct ttab *t, int i)
{
	struct tent *e = rcu_dereference(t->slot[i & 7]);

	if (e && !percpu_ref_tryget(&e->pref))
		return NULL;
	return e;
}

struct tent *tent_find(struct ttab *t, int i)
{
	struct tent *e;

	rcu_read_lock();
	e = __tent_find(t, i);
	rcu_read_unlock();
	return e;
}

int tpid_key(void)
{
	struct tpid *p;
	int n;

	rcu_read_lock();
	p = rcu_dereference(cur_pid);
	n = p ? 1 : 0;
	rcu_read_unlock();
	return n;
}

/* ---- buggy ------------------------------------------------------------------------- */

/* the old value came in as a parameter: the cleared slot held it */
static void tdev_reset(struct tdev *d, struct tmap *m, int i)
{
	RCU_INIT_POINTER(d->maps[i], NULL);
	kfree(m);					/* expect: rcu-free-without-grace@warning */
}

/* the old value is a copy of what a helper loaded */
static struct tmap *tdev_cur(struct tdev *d)
{
	return rcu_dereference_protected(d->cur, lockdep_is_held(&tdev_mutex));
}

static void tdev_swap(struct tdev *d, struct tmap *new)
{
	struct tmap *old = tdev_cur(d);

	rcu_assign_pointer(d->cur, new);
	kvfree(old);					/* expect: rcu-free-without-grace@warning */
}

/* the spare keeps the previous array; freeing it needs the grace period first */
static void tdev_swap_spare(struct tdev *d, struct tmap *new)
{
	d->spare = d->maps[0];			/* expect: rcu-plain-access@warning */
	rcu_assign_pointer(d->maps[0], new);
	kfree(d->spare);				/* expect: rcu-free-without-grace@warning */
}

/* a copy of the unpublished pointer is the same object */
static void tdev_replace_copy(struct tdev *d, struct tmap *new)
{
	struct tmap *m = rcu_dereference_protected(d->maps[1], lockdep_is_held(&tdev_mutex));
	struct tmap *old;

	rcu_assign_pointer(d->maps[1], new);
	old = m;
	m = new;
	kfree(old);					/* expect: rcu-free-without-grace@warning */
}

static void tent_put(struct tent *e)
{
	if (refcount_dec_and_test(&e->ref))
		kfree(e);				/* expect: rcu-free-without-grace@warning */
}

static void tent_put_early(struct tent *e)
{
	if (!refcount_dec_and_test(&e->ref))
		return;
	e->key = 0;
	kfree(e);					/* expect: rcu-free-without-grace@warning */
}

static void tent_release(struct kref *kref)
{
	struct tent *e = container_of(kref, struct tent, kref);

	kfree(e);					/* expect: rcu-free-without-grace@warning */
}

void tent_kput(struct tent *e)
{
	kref_put(&e->kref, tent_release);
}

static void tent_pref_release(struct percpu_ref *ref)
{
	struct tent *e = container_of(ref, struct tent, pref);

	percpu_ref_exit(ref);
	kfree(e);					/* expect: rcu-free-without-grace@warning */
}

int tent_init(struct tent *e)
{
	return percpu_ref_init(&e->pref, tent_pref_release, 0, GFP_KERNEL);
}

static void tnode_put(struct tnode *n)
{
	if (refcount_dec_and_test(&n->ref))
		kfree(n);				/* expect: rcu-free-without-grace@warning */
}

static void tmap_free_rcu(struct rcu_head *head)
{
	kfree(container_of(head, struct tmap, rcu));
}

static void tmap_release(struct tmap *m)
{
	tmap_free_rcu(&m->rcu);				/* expect: rcu-free-without-grace@warning */
}

/* ---- correct ----------------------------------------------------------------------- */

static void tdev_reset_deferred(struct tdev *d, struct tmap *m, int i)
{
	RCU_INIT_POINTER(d->maps[i], NULL);
	kfree_rcu(m, rcu);
}

static void tdev_reset_synced(struct tdev *d, struct tmap *m, int i)
{
	RCU_INIT_POINTER(d->maps[i], NULL);
	synchronize_rcu();
	kfree(m);
}

/* the array freed on the error path was allocated here and never published */
static int tdev_grow(struct tdev *d, struct tmap *old, int len)
{
	struct tmap *new = kzalloc(sizeof(*new), GFP_KERNEL);

	if (!new)
		return -ENOMEM;
	rcu_assign_pointer(d->maps[1], old);
	if (len < 0) {
		kfree(new);
		return -EINVAL;
	}
	new->len = len;
	rcu_assign_pointer(d->maps[0], new);
	return 0;
}

/* initialising a fresh object's pointers unpublishes nothing */
static struct tdev *tdev_clone(struct tdev *d, struct tmap *m)
{
	struct tdev *n = kzalloc(sizeof(*n), GFP_KERNEL);

	if (!n)
		return NULL;
	RCU_INIT_POINTER(n->cur, m);
	kfree(d->spare);
	return n;
}

/* the replaced value was handed to kfree_rcu(); another struct freed after is not it */
static void tdev_swap_deferred(struct tdev *d, struct tmap *new, struct tmap *scratch)
{
	struct tmap *old = tdev_cur(d);

	rcu_assign_pointer(d->cur, new);
	kfree_rcu(old, rcu);
	kfree(scratch);
}

static void tent_put_deferred(struct tent *e)
{
	if (refcount_dec_and_test(&e->ref))
		kfree_rcu(e, rcu);
}

static void tent_release_deferred(struct kref *kref)
{
	struct tent *e = container_of(kref, struct tent, kref);

	kfree_rcu(e, rcu);
}

void tent_kput_deferred(struct tent *e)
{
	kref_put(&e->kref, tent_release_deferred);
}

/* readers never tryget a struct tpid: its count cannot reach zero while they see it */
static void tpid_put(struct tpid *p)
{
	if (refcount_dec_and_test(&p->count))
		kfree(p);
}

/* what goes when the put was not the last is something else, of a type nobody trygets */
static void tent_put_other(struct tent *e, struct tmap *m)
{
	if (!refcount_dec_and_test(&e->ref)) {
		kfree(m);
		return;
	}
	kfree_rcu(e, rcu);
}

static void tmap_free_rcu_deferred(struct rcu_head *head)
{
	kfree(container_of(head, struct tmap, rcu));
}

/* called directly where no reader can have it, handed to call_rcu() where one can */
static void tmap_release_either(struct tmap *m, bool published)
{
	if (published)
		call_rcu(&m->rcu, tmap_free_rcu_deferred);
	else
		tmap_free_rcu_deferred(&m->rcu);
}

/* a struct a callee made (an out-parameter), freed after a publish of another */
int tmap_parse(int len, struct tmap **out);

static int tdev_apply(struct tdev *d, struct tmap *n, int len)
{
	struct tmap *parsed;
	int err = tmap_parse(len, &parsed);

	if (err)
		return err;
	rcu_assign_pointer(d->maps[0], n);
	kfree(parsed);
	return 0;
}

/* a destructor that defers or frees at once by a flag of the object decides itself */
static void tent_free_rcu(struct rcu_head *head)
{
	struct tent *e = container_of(head, struct tent, rcu);

	kfree(e);
}

static void tent_destroy(struct tent *e)
{
	if (e->key)
		call_rcu(&e->rcu, tent_free_rcu);
	else
		tent_free_rcu(&e->rcu);
}

static void tent_put_destroy(struct tent *e)
{
	if (refcount_dec_and_test(&e->ref))
		tent_destroy(e);
}

/* a buffer list counted by a plain atomic_t: readers find it under RCU and pin it with
 * atomic_inc_not_zero(), so its count is a reference count and its last put races them */
struct tbuf {
	struct rcu_head rcu;
	atomic_t refs;
	atomic_t users;
};

/* ... and a struct whose counter nobody increments unless zero */
struct tstat {
	struct rcu_head rcu;
	atomic_t refs;
};

static struct tbuf __rcu *cur_buf;

static bool tbuf_pin(void)
{
	struct tbuf *b;
	bool ok = false;

	rcu_read_lock();
	b = rcu_dereference(cur_buf);
	if (b)
		ok = atomic_inc_not_zero(&b->refs);
	rcu_read_unlock();
	return ok;
}

static void tbuf_put(struct tbuf *b)
{
	if (atomic_dec_and_test(&b->refs))
		kfree(b);				/* expect: rcu-free-without-grace@warning */
}

static void tbuf_put_deferred(struct tbuf *b)
{
	if (atomic_dec_and_test(&b->refs))
		kfree_rcu(b, rcu);
}

static void tstat_put(struct tstat *s)
{
	if (atomic_dec_and_test(&s->refs))
		kfree(s);
}

/* a table looked up and pinned under its spinlock only, unlinked under it before the
 * free: no lockless reader */
struct tlocked {
	struct rcu_head rcu;
	refcount_t ref;
};

static struct tlocked *tlocked_slot;
static spinlock_t tlocked_lock;

static struct tlocked *tlock_find(void)
{
	struct tlocked *t;

	spin_lock(&tlocked_lock);
	t = tlocked_slot;
	if (t && !refcount_inc_not_zero(&t->ref))
		t = NULL;
	spin_unlock(&tlocked_lock);
	return t;
}

static void tlock_put(struct tlocked *t)
{
	spin_lock(&tlocked_lock);
	if (!refcount_dec_and_test(&t->ref)) {
		spin_unlock(&tlocked_lock);
		return;
	}
	tlocked_slot = NULL;
	spin_unlock(&tlocked_lock);
	kfree(t);
}

void tdev_ops(struct tdev *d, struct tmap *m, struct tent *e)
{
	tdev_reset(d, m, 0);
	tdev_swap(d, m);
	tdev_swap_spare(d, m);
	tdev_replace_copy(d, m);
	tent_put(e);
	tent_put_early(e);
	tmap_release(m);
	tdev_reset_deferred(d, m, 1);
	tdev_reset_synced(d, m, 0);
	tdev_grow(d, m, 3);
	tdev_clone(d, m);
	tdev_swap_deferred(d, m, m);
	tent_put_deferred(e);
	tpid_put(rcu_dereference_raw(cur_pid));
	tent_put_other(e, m);
	tmap_release_either(m, true);
	tdev_apply(d, m, 2);
	tnode_put(NULL);
	tent_put_destroy(e);
	tbuf_pin();
	tbuf_put(NULL);
	tbuf_put_deferred(NULL);
	tstat_put(NULL);
	tlock_put(tlock_find());
}
