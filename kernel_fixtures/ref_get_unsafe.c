// SPDX-License-Identifier: GPL-2.0
/*
 * ref-get-unsafe: unconditional gets on objects found under RCU.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/rculist.h>
#include <linux/memcontrol.h>
#include <linux/refcount.h>
#include <linux/shrinker.h>
#include <linux/sched.h>

struct peer {
	struct list_head list;
	struct peer __rcu *next;
	struct kref kref;
	refcount_t ref;
	struct obj_cgroup *objcg;
	int id;
};

static struct idr peer_idr;
static spinlock_t peer_lock;

/* ---- buggy ------------------------------------------------------------------------- */

static struct mem_cgroup *memcg_get_by_id(unsigned short id)
{
	struct mem_cgroup *memcg;

	rcu_read_lock();
	memcg = mem_cgroup_from_id(id);
	if (memcg)
		css_get(&memcg->css);			/* expect: ref-get-unsafe@warning */
	rcu_read_unlock();
	return memcg;
}

static struct peer *peer_next_get(struct peer *head)
{
	struct peer *p;

	rcu_read_lock();
	p = rcu_dereference(head->next);
	if (p)
		kref_get(&p->kref);			/* expect: ref-get-unsafe@warning */
	rcu_read_unlock();
	return p;
}

static struct peer *peer_lookup_get(int id)
{
	struct peer *p;

	rcu_read_lock();
	p = idr_find(&peer_idr, id);
	if (p)
		refcount_inc(&p->ref);			/* expect: ref-get-unsafe@warning */
	rcu_read_unlock();
	return p;
}

static struct peer *peer_find_get(struct list_head *head, int id)
{
	struct peer *p, *found = NULL;

	rcu_read_lock();
	list_for_each_entry_rcu(p, head, list) {
		if (p->id == id) {
			kref_get(&p->kref);		/* expect: ref-get-unsafe@warning */
			found = p;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

static struct obj_cgroup *objcg_get_current(struct mem_cgroup *memcg)
{
	struct obj_cgroup *objcg;

	rcu_read_lock();
	objcg = rcu_dereference(memcg->objcg);
	if (objcg)
		obj_cgroup_get(objcg);			/* expect: ref-get-unsafe@warning */
	rcu_read_unlock();
	return objcg;
}

/* through an alias of the embedded css */
static struct mem_cgroup *memcg_get_alias(unsigned short id)
{
	struct mem_cgroup *memcg;
	struct cgroup_subsys_state *css;

	rcu_read_lock();
	memcg = mem_cgroup_from_id(id);
	css = &memcg->css;
	css_get(css);					/* expect: ref-get-unsafe@warning */
	rcu_read_unlock();
	return memcg;
}

/* the task can migrate and its old css_set drop the memcg's last reference */
static struct mem_cgroup *task_memcg_get(struct task_struct *task)
{
	struct mem_cgroup *memcg;

	rcu_read_lock();
	memcg = mem_cgroup_from_task(task);
	css_get(&memcg->css);			/* expect: ref-get-unsafe@warning */
	rcu_read_unlock();
	return memcg;
}

/* the topmost ancestor below `limit` with a live charge, walking up from the task's
 * memcg: the ancestors are pinned by their children, and only the start, when it is the
 * one picked, races with a migration of the task: a note */
static struct mem_cgroup *task_memcg_charged_ancestor(struct task_struct *task,
						      struct mem_cgroup *limit)
{
	struct mem_cgroup *found = NULL;
	struct mem_cgroup *memcg;

	rcu_read_lock();
	for (memcg = mem_cgroup_from_task(task); memcg; memcg = parent_mem_cgroup(memcg)) {
		if (READ_ONCE(memcg->kmemcg_id))
			found = memcg;
		if (memcg == limit)
			break;
	}
	if (found)
		css_get(&found->css);			/* expect: ref-get-unsafe@note */
	rcu_read_unlock();
	return found;
}

/* ---- correct ----------------------------------------------------------------------- */

/* the successor read under the lock its unlinking takes, not under RCU: the lock keeps
 * it alive */
static struct peer *peer_next_get_locked(struct peer *head)
{
	struct peer *p;

	spin_lock(&peer_lock);
	p = rcu_dereference(head->next);
	if (p)
		refcount_inc(&p->ref);
	spin_unlock(&peer_lock);
	return p;
}

/* looked up under the lock its removal takes, not under RCU: the lock keeps it alive */
static struct peer *peer_lookup_get_locked(int id)
{
	struct peer *p;

	spin_lock(&peer_lock);
	p = idr_find(&peer_idr, id);
	if (p)
		refcount_inc(&p->ref);
	spin_unlock(&peer_lock);
	return p;
}

static struct mem_cgroup *memcg_tryget_by_id(unsigned short id)
{
	struct mem_cgroup *memcg;

	rcu_read_lock();
	memcg = mem_cgroup_from_id(id);
	if (memcg && !css_tryget(&memcg->css))
		memcg = NULL;
	rcu_read_unlock();
	return memcg;
}

/* a second reference on an object already pinned by a tryget */
static struct peer *peer_get_twice(struct peer *head)
{
	struct peer *p;

	rcu_read_lock();
	p = rcu_dereference(head->next);
	if (p && !kref_get_unless_zero(&p->kref))
		p = NULL;
	if (p)
		kref_get(&p->kref);
	rcu_read_unlock();
	return p;
}

/* an ancestor reached second hand is pinned by its child */
static struct mem_cgroup *parent_get(struct peer *head)
{
	struct peer *p;
	struct mem_cgroup *parent = NULL;

	rcu_read_lock();
	p = rcu_dereference(head->next);
	if (p && p->objcg) {
		parent = p->objcg->memcg;
		css_get(&parent->css);
	}
	rcu_read_unlock();
	return parent;
}

/* a get on the caller's object */
static void memcg_hold(struct mem_cgroup *memcg)
{
	css_get(&memcg->css);
}

/* a get outside RCU on an object obtained with a reference */
static struct mem_cgroup *memcg_dup(struct mm_struct *mm)
{
	struct mem_cgroup *memcg = get_mem_cgroup_from_mm(mm);

	if (memcg)
		css_get(&memcg->css);
	return memcg;
}

/* the task's memcg taken with a tryget, as get_mem_cgroup_from_mm() does */
static struct mem_cgroup *task_memcg_tryget(struct task_struct *task)
{
	struct mem_cgroup *memcg;

	rcu_read_lock();
	do {
		memcg = mem_cgroup_from_task(task);
	} while (!css_tryget(&memcg->css));
	rcu_read_unlock();
	return memcg;
}
