// SPDX-License-Identifier: GPL-2.0
/*
 * rcu-free-without-grace through calls: a helper publishes a new value at a field of
 * its argument (the old one, which it never loaded, comes off readers' view), and its
 * caller then frees the old one, or drops its reference with a put whose last
 * reference frees at once.  Readers find a `struct tgroup` through `tproc->group`
 * under RCU and take no reference.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/rculist.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/slab.h>

struct tgroup {
	struct rcu_head rcu;
	struct list_head node;
	refcount_t ref;
	int nr;
};

struct tlabel {
	struct rcu_head rcu;
	int id;
};

struct tproc {
	struct tgroup __rcu *group;
	struct tlabel __rcu *label;
};

static void tgroup_destroy(struct tgroup *g)
{
	kfree(g);
}

/* the last reference frees at once */
static void tgroup_put(struct tgroup *g)
{
	if (refcount_dec_and_test(&g->ref))
		tgroup_destroy(g);
}

/* the last reference waits for readers */
static void tgroup_put_rcu(struct tgroup *g)
{
	if (refcount_dec_and_test(&g->ref))
		kfree_rcu(g, rcu);
}

/* publishes `to`; the group it replaces is the caller's to dispose of */
static void tproc_move(struct tproc *p, struct tgroup *to)
{
	refcount_inc(&to->ref);
	rcu_assign_pointer(p->group, to);
}

/* a move one call further down */
static void tproc_migrate(struct tproc *p, struct tgroup *to)
{
	to->nr++;
	tproc_move(p, to);
}

static void tproc_clear(struct tproc *p)
{
	RCU_INIT_POINTER(p->group, NULL);
}

/* a swap that loads the old group itself and defers its free */
static void tproc_swap(struct tproc *p, struct tgroup *to)
{
	struct tgroup *old = rcu_dereference_protected(p->group, 1 == 1);

	rcu_assign_pointer(p->group, to);
	kfree_rcu(old, rcu);
}

/* a move that waits for readers itself */
static void tproc_move_sync(struct tproc *p, struct tgroup *to)
{
	rcu_assign_pointer(p->group, to);
	synchronize_rcu();
}

static void tproc_relabel(struct tproc *p, struct tlabel *l)
{
	rcu_assign_pointer(p->label, l);
}

/* ---- buggy ------------------------------------------------------------------------- */

void tproc_move_free(struct tproc *p, struct tgroup *from, struct tgroup *to)
{
	tproc_move(p, to);
	kfree(from);					/* expect: rcu-free-without-grace@warning */
}

void tproc_move_put(struct tproc *p, struct tgroup *from, struct tgroup *to)
{
	tproc_move(p, to);
	tgroup_put(from);				/* expect: rcu-free-without-grace@warning */
}

void tproc_migrate_put(struct tproc *p, struct tgroup *from, struct tgroup *to)
{
	tproc_migrate(p, to);
	tgroup_put(from);				/* expect: rcu-free-without-grace@warning */
}

void tproc_clear_free(struct tproc *p, struct tgroup *from)
{
	tproc_clear(p);
	kvfree(from);					/* expect: rcu-free-without-grace@warning */
}

/* the old group loaded here from the location the helper replaces: known by name */
void tproc_move_loaded(struct tproc *p, struct tgroup *to)
{
	struct tgroup *old = rcu_dereference_protected(p->group, 1 == 1);

	tproc_move(p, to);
	tgroup_put(old);				/* expect: rcu-free-without-grace@warning */
}

/* taken off an RCU list, then the list's reference dropped by a put that frees */
void tgroup_unlink(struct tgroup *g)
{
	list_del_rcu(&g->node);
	tgroup_put(g);					/* expect: rcu-free-without-grace@warning */
}

/* ---- correct ----------------------------------------------------------------------- */

void tproc_move_synced(struct tproc *p, struct tgroup *from, struct tgroup *to)
{
	tproc_move(p, to);
	synchronize_rcu();
	tgroup_put(from);
}

void tproc_move_put_rcu(struct tproc *p, struct tgroup *from, struct tgroup *to)
{
	tproc_move(p, to);
	tgroup_put_rcu(from);
}

/* the helper disposes of what it replaced: a free of another group is not that one */
void tproc_swap_spare(struct tproc *p, struct tgroup *to, struct tgroup *spare)
{
	tproc_swap(p, to);
	kfree(spare);
}

void tproc_move_waited(struct tproc *p, struct tgroup *from, struct tgroup *to)
{
	tproc_move_sync(p, to);
	tgroup_put(from);
}

/* a label replaced, a group freed: readers of the label never saw this group */
void tproc_relabel_free(struct tproc *p, struct tlabel *l, struct tgroup *g)
{
	tproc_relabel(p, l);
	kfree(g);
}

/* a process nobody else has seen yet */
struct tproc *tproc_new(struct tgroup *g, struct tgroup *unused)
{
	struct tproc *p = kzalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return NULL;
	tproc_move(p, g);
	tgroup_put(unused);
	return p;
}

/* a group this path made and never published */
void tproc_move_fresh(struct tproc *p, struct tgroup *to)
{
	struct tgroup *g = kzalloc(sizeof(*g), GFP_KERNEL);

	tproc_move(p, to);
	kfree(g);
}

/* no unpublish at all: a put is just a put */
void tgroup_drop(struct tgroup *g)
{
	tgroup_put(g);
}

/*
 * A helper that frees an array after a grace period: through call_rcu() when it can
 * allocate the wrapper, or by waiting for readers itself before kvfree() when it cannot.
 */
struct tptr_rcu {
	struct rcu_head rcu;
	void *ptr;
};

static void tptr_rcu_free(struct rcu_head *head)
{
	struct tptr_rcu *w = container_of(head, struct tptr_rcu, rcu);

	kvfree(w->ptr);
	kfree(w);
}

static void tarray_free_rcu(void *to_free)
{
	struct tptr_rcu *w = kzalloc(sizeof(*w), GFP_KERNEL);

	if (w) {
		w->ptr = to_free;
		call_rcu(&w->rcu, tptr_rcu_free);
		return;
	}
	synchronize_rcu();
	kvfree(to_free);
}

/* the old group, replaced, goes to the helper: readers are safe */
void tproc_replace_free_rcu(struct tproc *p, struct tgroup *to)
{
	struct tgroup *old = rcu_dereference_protected(p->group, 1);

	rcu_assign_pointer(p->group, to);
	tarray_free_rcu(old);
}

/* ... but not with a plain kvfree() */
void tproc_replace_free(struct tproc *p, struct tgroup *to)
{
	struct tgroup *old = rcu_dereference_protected(p->group, 1);

	rcu_assign_pointer(p->group, to);
	kvfree(old);					/* expect: rcu-free-without-grace@warning */
}

/* waits for readers on every path, as tracepoint_synchronize_unregister() does */
static void tproc_sync_readers(void)
{
	synchronize_rcu();
}

/* waits for readers only when asked to */
static void tproc_maybe_sync(int wait)
{
	if (wait)
		synchronize_rcu();
}

/* the helper's grace period separates the unpublish from the free */
void tproc_replace_synced(struct tproc *p, struct tgroup *to)
{
	struct tgroup *old = rcu_dereference_protected(p->group, 1);

	rcu_assign_pointer(p->group, to);
	tproc_sync_readers();
	kfree(old);
}

/* a helper that may not wait is no grace period */
void tproc_replace_maybe_synced(struct tproc *p, struct tgroup *to, int wait)
{
	struct tgroup *old = rcu_dereference_protected(p->group, 1);

	rcu_assign_pointer(p->group, to);
	tproc_maybe_sync(wait);
	kfree(old);					/* expect: rcu-free-without-grace@warning */
}
