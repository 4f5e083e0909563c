// SPDX-License-Identifier: GPL-2.0
/*
 * rcu-free-without-grace, more shapes of unpublishing: a NULL store, an accessor behind
 * the file's own wrapper macro, and an xarray entry that readers look up through a
 * helper their caller runs under a read-side section (RCU's or a spinlock's).
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <linux/rculist.h>

struct qmap {
	struct rcu_head rcu;
	int len;
};

struct qset {
	struct qmap __rcu *maps[4];
	struct qmap __rcu *cur;
	struct qmap *spare;
	struct xarray xa;
	struct xarray ids;
	spinlock_t lock;
	struct mutex ids_mutex;
};

static struct mutex qset_mutex;

/* the update side's accessor, spelled once for the file */
#define qmap_deref(P) rcu_dereference_protected((P), lockdep_is_held(&qset_mutex))

/* readers: a lookup helper with no section of its own, and its callers */
static struct qmap *qset_find(struct qset *s, unsigned long idx)
{
	return xa_load(&s->xa, idx);
}

static int qset_len_rcu(struct qset *s, unsigned long idx)
{
	struct qmap *m;
	int len = 0;

	rcu_read_lock();
	m = qset_find(s, idx);
	if (m)
		len = m->len;
	rcu_read_unlock();
	return len;
}

static int qset_len_locked(struct qset *s, unsigned long idx)
{
	struct qmap *m;
	int len = 0;

	spin_lock(&s->lock);
	m = qset_find(s, idx);
	if (m)
		len = m->len;
	spin_unlock(&s->lock);
	return len;
}

/* the `ids` index is looked up only under the mutex its erasers hold */
static int qset_id_len(struct qset *s, unsigned long id)
{
	struct qmap *m;
	int len = 0;

	mutex_lock(&s->ids_mutex);
	m = xa_load(&s->ids, id);
	if (m)
		len = m->len;
	mutex_unlock(&s->ids_mutex);
	return len;
}

/* ---- buggy ------------------------------------------------------------------------- */

static void qset_clear_slot(struct qset *s, int i)
{
	struct qmap *m = qmap_deref(s->maps[i]);

	RCU_INIT_POINTER(s->maps[i], NULL);
	kfree(m);					/* expect: rcu-free-without-grace@warning */
}

static void qset_clear_cur(struct qset *s)
{
	struct qmap *m = rcu_dereference_protected(s->cur, lockdep_is_held(&qset_mutex));

	rcu_assign_pointer(s->cur, NULL);
	kfree(m);					/* expect: rcu-free-without-grace@warning */
}

static void qset_replace_slot(struct qset *s, int i, struct qmap *new)
{
	struct qmap *old = qmap_deref(s->maps[i]);

	rcu_assign_pointer(s->maps[i], new);
	kvfree(old);					/* expect: rcu-free-without-grace@warning */
}

static void qset_drop_slot_if_empty(struct qset *s, int i)
{
	struct qmap *m = qmap_deref(s->maps[i]);

	if (!m || m->len)
		return;
	RCU_INIT_POINTER(s->maps[i], NULL);
	kfree(m);					/* expect: rcu-free-without-grace@warning */
}

struct qent {
	struct hlist_node hnode;
	int key;
};

/* every entry of the bucket, reached through the walk's own temporaries as well as
 * through `e`: one free, one finding */
static void qtable_flush(struct hlist_head *bucket)
{
	struct qent *e;
	struct hlist_node *tmp;

	hlist_for_each_entry_safe(e, tmp, bucket, hnode) {
		hlist_del_rcu(&e->hnode);
		kfree(e);				/* expect: rcu-free-without-grace@warning */
	}
}

static void qset_forget(struct qset *s, unsigned long idx)
{
	struct qmap *m = xa_erase_irq(&s->xa, idx);

	if (m)
		kfree(m);				/* expect: rcu-free-without-grace@warning */
}

static void qset_forget_all(struct qset *s, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		kvfree(xa_erase(&s->xa, i));		/* expect: rcu-free-without-grace@warning */
}

/* ---- correct ----------------------------------------------------------------------- */

static void qset_clear_slot_synced(struct qset *s, int i)
{
	struct qmap *m = qmap_deref(s->maps[i]);

	RCU_INIT_POINTER(s->maps[i], NULL);
	synchronize_rcu();
	kfree(m);
}

static void qset_clear_slot_deferred(struct qset *s, int i)
{
	struct qmap *m = qmap_deref(s->maps[i]);

	RCU_INIT_POINTER(s->maps[i], NULL);
	if (m)
		kfree_rcu(m, rcu);
}

static void qset_free_spare(struct qset *s)
{
	struct qmap *m = s->spare;

	RCU_INIT_POINTER(s->cur, NULL);
	s->spare = NULL;
	kfree(m);
}

static void qset_clear_other_slot(struct qset *s, int i)
{
	struct qmap *m = qmap_deref(s->maps[i]);

	RCU_INIT_POINTER(s->maps[(i + 1) & 3], NULL);
	kfree(m);
}

static void qset_drop_id(struct qset *s, unsigned long id)
{
	struct qmap *m;

	mutex_lock(&s->ids_mutex);
	m = xa_erase(&s->ids, id);
	mutex_unlock(&s->ids_mutex);
	kfree(m);
}

static void qset_forget_deferred(struct qset *s, unsigned long idx)
{
	struct qmap *m = xa_erase_irq(&s->xa, idx);

	if (m)
		kfree_rcu(m, rcu);
}

/* teardown: the set is nobody else's any more, the NULL store is tidiness */
static void qset_teardown(struct qset *s)
{
	struct qmap *m = rcu_dereference_raw(s->cur);

	RCU_INIT_POINTER(s->cur, NULL);
	kfree(m);
}

int qset_use(struct qset *s)
{
	return qset_len_rcu(s, 0) + qset_len_locked(s, 1) + qset_id_len(s, 2);
}

void qset_ops(struct qset *s, struct qmap *m)
{
	qset_clear_slot(s, 0);
	qset_clear_cur(s);
	qset_replace_slot(s, 1, m);
	qset_drop_slot_if_empty(s, 2);
	qset_forget(s, 3);
	qset_forget_all(s, 4);
	qset_clear_slot_synced(s, 0);
	qset_clear_slot_deferred(s, 1);
	qset_free_spare(s);
	qset_clear_other_slot(s, 2);
	qset_drop_id(s, 5);
	qset_forget_deferred(s, 6);
	qset_teardown(s);
}
