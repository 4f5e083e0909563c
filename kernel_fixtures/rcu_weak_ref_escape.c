// SPDX-License-Identifier: GPL-2.0
/*
 * rcu-weak-ref-escape: RCU pointers stored beyond their section without a reference.
 * Seed 000's memcg reclaim iterator is the model: the last position kept as a weak
 * pointer, validated later by a dead-count cookie.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/rculist.h>
#include <linux/memcontrol.h>

struct reclaim_iter {
	struct mem_cgroup *last_visited;
	int last_dead_count;
	unsigned int generation;
};

struct cache {
	struct mem_cgroup *hint;
	struct list_head list;
};

static struct mem_cgroup *last_seen;

/* ---- buggy ------------------------------------------------------------------------- */

/* memcg reclaim iterator as first posted: the position is stored with no reference at all */
static struct mem_cgroup *iter_next_weak(struct mem_cgroup *root,
					 struct reclaim_iter *iter, int dead_count)
{
	struct cgroup_subsys_state *css;
	struct mem_cgroup *pos;

	rcu_read_lock();
	css = css_next_descendant_pre(&iter->last_visited->css, &root->css);
	pos = mem_cgroup_from_css(css);
	iter->last_visited = pos;			/* expect: rcu-weak-ref-escape@note */
	iter->last_dead_count = dead_count;
	rcu_read_unlock();
	return NULL;
}

static void remember_memcg(unsigned short id)
{
	struct mem_cgroup *memcg;

	rcu_read_lock();
	memcg = mem_cgroup_from_id(id);
	last_seen = memcg;				/* expect: rcu-weak-ref-escape@note */
	rcu_read_unlock();
}

static void cache_hint(struct cache *c, struct mem_cgroup *parent)
{
	struct mem_cgroup *memcg;

	rcu_read_lock();
	memcg = mem_cgroup_from_id(parent->kmemcg_id);
	if (memcg)
		c->hint = memcg;			/* expect: rcu-weak-ref-escape@note */
	rcu_read_unlock();
}

/* the tryget failed: storing it anyway keeps a pointer to a dying memcg */
static void cache_hint_failed(struct cache *c, unsigned short id)
{
	struct mem_cgroup *memcg;

	rcu_read_lock();
	memcg = mem_cgroup_from_id(id);
	if (memcg && !css_tryget(&memcg->css))
		c->hint = memcg;			/* expect: rcu-weak-ref-escape@note */
	else if (memcg)
		css_put(&memcg->css);
	rcu_read_unlock();
}

static void objcg_hint(struct cache *c, struct mem_cgroup *memcg)
{
	struct obj_cgroup *objcg;

	rcu_read_lock();
	objcg = rcu_dereference(memcg->objcg);
	if (objcg)
		c->hint = objcg->memcg;
	last_seen = (struct mem_cgroup *)objcg;	/* expect: rcu-weak-ref-escape@note */
	rcu_read_unlock();
}

/* a walk's cursor kept as the resume point */
static void cache_walk(struct list_head *head, struct reclaim_iter *iter)
{
	struct cache *c;

	rcu_read_lock();
	list_for_each_entry_rcu(c, head, list) {
		if (c->hint) {
			iter->last_visited = (struct mem_cgroup *)c;	/* expect: rcu-weak-ref-escape@note */
			break;
		}
	}
	rcu_read_unlock();
}

/* ---- correct ----------------------------------------------------------------------- */

/* memcg reclaim iterator as merged: the stored position holds a reference, the old
 * one is dropped */
static void iter_next_strong(struct mem_cgroup *root, struct reclaim_iter *iter)
{
	struct cgroup_subsys_state *css;
	struct mem_cgroup *pos;

	rcu_read_lock();
	css = css_next_descendant_pre(&iter->last_visited->css, &root->css);
	pos = mem_cgroup_from_css(css);
	if (pos && css_tryget(&pos->css)) {
		mem_cgroup_put(iter->last_visited);
		iter->last_visited = pos;
	}
	rcu_read_unlock();
}

static void remember_memcg_ref(unsigned short id)
{
	struct mem_cgroup *memcg;

	rcu_read_lock();
	memcg = mem_cgroup_from_id(id);
	if (memcg && css_tryget(&memcg->css))
		last_seen = memcg;
	rcu_read_unlock();
}

/* a local structure lives no longer than the function */
static int local_copy(unsigned short id)
{
	struct reclaim_iter it = { 0 };
	struct mem_cgroup *memcg;
	int ret = 0;

	rcu_read_lock();
	memcg = mem_cgroup_from_id(id);
	it.last_visited = memcg;
	if (it.last_visited)
		ret = it.last_visited->kmemcg_id;
	rcu_read_unlock();
	return ret;
}

/* storing NULL clears the weak pointer */
static void cache_clear(struct cache *c)
{
	rcu_read_lock();
	c->hint = NULL;
	rcu_read_unlock();
}

/* a pointer that did not come from the section */
static void cache_set_owner(struct cache *c, struct mem_cgroup *owner)
{
	rcu_read_lock();
	c->hint = owner;
	rcu_read_unlock();
}

/* the reference comes from a ref-returning API */
static void cache_set_mm(struct cache *c, struct mm_struct *mm)
{
	struct mem_cgroup *memcg = get_mem_cgroup_from_mm(mm);

	rcu_read_lock();
	c->hint = memcg;
	rcu_read_unlock();
}

/* ---- a field that holds counted references ------------------------------------------ */

struct pid;
struct pid *find_vpid(int nr);
struct pid *get_pid(struct pid *pid);
void put_pid(struct pid *pid);

struct tterm {
	struct pid *pgrp;
};

/* buggy: the old group's reference is dropped, the new one stored without one: the next
 * change puts a reference nobody took */
static int tterm_set_pgrp(struct tterm *t, int nr)
{
	struct pid *pgrp;

	rcu_read_lock();
	pgrp = find_vpid(nr);
	if (!pgrp) {
		rcu_read_unlock();
		return -1;
	}
	put_pid(t->pgrp);
	t->pgrp = pgrp;					/* expect: rcu-weak-ref-escape@warning */
	rcu_read_unlock();
	return 0;
}

/* correct: the stored group comes with its reference */
static int tterm_set_pgrp_ref(struct tterm *t, int nr)
{
	struct pid *pgrp;

	rcu_read_lock();
	pgrp = find_vpid(nr);
	if (!pgrp) {
		rcu_read_unlock();
		return -1;
	}
	put_pid(t->pgrp);
	t->pgrp = get_pid(pgrp);
	rcu_read_unlock();
	return 0;
}
