// SPDX-License-Identifier: GPL-2.0
/*
 * ref-put-outside-rcu: an RCU walk's cursor put outside the section the walk needs.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/rculist.h>
#include <linux/memcontrol.h>
#include <linux/shrinker.h>

struct item {
	struct list_head list;
	struct hlist_node hnode;
	struct kref kref;
	refcount_t ref;
	struct cgroup_subsys_state css;
	int busy;
};

void item_release(struct kref *kref);
int item_work(struct item *it);
bool item_tryget(struct item *it);
void item_put(struct item *it);

/* ---- buggy ------------------------------------------------------------------------- */

/* lockless global shrink as first posted */
static unsigned long shrink_global_posted(struct list_head *shrinkers,
					  struct shrink_control *sc)
{
	struct shrinker *shrinker;
	unsigned long freed = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(shrinker, shrinkers, list) {
		if (!shrinker_try_get(shrinker))
			continue;
		rcu_read_unlock();
		freed += do_shrink_slab(sc, shrinker, 0);
		shrinker_put(shrinker);				/* expect: ref-put-outside-rcu@warning */
		rcu_read_lock();
	}
	rcu_read_unlock();
	return freed;
}

static void items_kref_walk(struct hlist_head *head)
{
	struct item *it;

	rcu_read_lock();
	hlist_for_each_entry_rcu(it, head, hnode) {
		if (!kref_get_unless_zero(&it->kref))
			continue;
		rcu_read_unlock();
		item_work(it);
		kref_put(&it->kref, item_release);		/* expect: ref-put-outside-rcu@warning */
		rcu_read_lock();
	}
	rcu_read_unlock();
}

static void items_css_walk(struct list_head *head)
{
	struct item *it;

	rcu_read_lock();
	list_for_each_entry_rcu(it, head, list) {
		if (!css_tryget(&it->css))
			continue;
		rcu_read_unlock();
		item_work(it);
		css_put(&it->css);				/* expect: ref-put-outside-rcu@warning */
		rcu_read_lock();
	}
	rcu_read_unlock();
}

/* only the busy branch puts too early */
static void items_branch_walk(struct list_head *head)
{
	struct item *it;

	rcu_read_lock();
	list_for_each_entry_rcu(it, head, list) {
		if (!refcount_inc_not_zero(&it->ref))
			continue;
		rcu_read_unlock();
		if (item_work(it)) {
			refcount_dec_and_test(&it->ref);	/* expect: ref-put-outside-rcu@warning */
			rcu_read_lock();
			continue;
		}
		rcu_read_lock();
		refcount_dec_and_test(&it->ref);
	}
	rcu_read_unlock();
}

/* the put happens through an alias of the cursor's embedded member */
static void items_alias_walk(struct list_head *head)
{
	struct item *it;
	struct cgroup_subsys_state *css;

	rcu_read_lock();
	list_for_each_entry_rcu(it, head, list) {
		css = &it->css;
		if (!css_tryget(css))
			continue;
		rcu_read_unlock();
		item_work(it);
		css_put(css);					/* expect: ref-put-outside-rcu@warning */
		rcu_read_lock();
	}
	rcu_read_unlock();
}

/* a section per element, but the put sits between them */
static void items_two_sections(struct list_head *head)
{
	struct item *it;

	rcu_read_lock();
	list_for_each_entry_rcu(it, head, list) {
		if (!shrinker_try_get((struct shrinker *)it))
			continue;
		rcu_read_unlock();
		rcu_read_lock();
		it->busy = 1;
		rcu_read_unlock();
		shrinker_put((struct shrinker *)it);		/* expect: ref-put-outside-rcu@warning */
		rcu_read_lock();
	}
	rcu_read_unlock();
}

/* ---- correct ----------------------------------------------------------------------- */

/* lockless global shrink as merged: re-enter, then put */
static unsigned long shrink_global_merged(struct list_head *shrinkers,
					  struct shrink_control *sc)
{
	struct shrinker *shrinker;
	unsigned long freed = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(shrinker, shrinkers, list) {
		if (!shrinker_try_get(shrinker))
			continue;
		rcu_read_unlock();
		freed += do_shrink_slab(sc, shrinker, 0);
		rcu_read_lock();
		shrinker_put(shrinker);
	}
	rcu_read_unlock();
	return freed;
}

/* lockless memcg shrink: an ID lookup, nothing walks on through the shrinker */
static unsigned long shrink_memcg_bitmap(struct idr *idr, struct shrink_control *sc, int n)
{
	struct shrinker *shrinker;
	unsigned long freed = 0;
	int id;

	for (id = 0; id < n; id++) {
		rcu_read_lock();
		shrinker = idr_find(idr, id);
		if (!shrinker || !shrinker_try_get(shrinker)) {
			rcu_read_unlock();
			continue;
		}
		rcu_read_unlock();
		freed += do_shrink_slab(sc, shrinker, 0);
		shrinker_put(shrinker);
	}
	return freed;
}

/* the walk stops after the put */
static void items_put_then_break(struct list_head *head)
{
	struct item *it;

	rcu_read_lock();
	list_for_each_entry_rcu(it, head, list) {
		if (!css_tryget(&it->css))
			continue;
		rcu_read_unlock();
		item_work(it);
		css_put(&it->css);
		return;
	}
	rcu_read_unlock();
}

/* the walk restarts from the head after the put */
static void items_restart(struct list_head *head)
{
	struct item *it;

again:
	rcu_read_lock();
	list_for_each_entry_rcu(it, head, list) {
		if (!it->busy || !css_tryget(&it->css))
			continue;
		rcu_read_unlock();
		item_work(it);
		css_put(&it->css);
		goto again;
	}
	rcu_read_unlock();
}

/* the walk runs entirely inside one section; puts there are fine */
static void items_put_inside(struct list_head *head)
{
	struct item *it;

	guard(rcu)();
	list_for_each_entry_rcu(it, head, list) {
		if (css_tryget(&it->css))
			css_put(&it->css);
	}
}

/* a put outside RCU on an object that is not the cursor */
static void items_put_other(struct list_head *head, struct item *owner)
{
	struct item *it;

	rcu_read_lock();
	list_for_each_entry_rcu(it, head, list) {
		if (!css_tryget(&it->css))
			continue;
		rcu_read_unlock();
		css_put(&owner->css);
		rcu_read_lock();
		css_put(&it->css);
	}
	rcu_read_unlock();
}
