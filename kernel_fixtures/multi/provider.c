// SPDX-License-Identifier: GPL-2.0
/* The two-file fixture's provider: helpers whose effects only their bodies show. */
#include "cfg.h"

/* needs the caller to hold rcu_read_lock() */
struct cfg *cfg_lookup_rcu(struct tbl *t)
{
	return rcu_dereference(t->cur);
}

/* sleeps */
void cfg_sync(struct tbl *t)
{
	mutex_lock(&t->lock);
	mutex_unlock(&t->lock);
}

/* returns a reference or NULL */
struct mem_cgroup *memcg_grab(unsigned short id)
{
	struct mem_cgroup *memcg;

	rcu_read_lock();
	memcg = mem_cgroup_from_id(id);
	if (memcg && !css_tryget(&memcg->css))
		memcg = NULL;
	rcu_read_unlock();
	return memcg;
}

/* a section entered for the caller, and its partner */
void tbl_enter(struct tbl *t)
{
	rcu_read_lock();
}

void tbl_leave(struct tbl *t)
{
	rcu_read_unlock();
}
