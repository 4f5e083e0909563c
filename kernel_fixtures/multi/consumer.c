// SPDX-License-Identifier: GPL-2.0
/*
 * The two-file fixture's consumer: its bugs are visible only with provider.c's
 * summaries.  A line ending in "expect: RULE@level" must be reported with RULE when both
 * files are analysed in one run.
 */
#include "cfg.h"

int consumer_weight(struct tbl *t)
{
	struct cfg *c;

	rcu_read_lock();
	rcu_read_unlock();
	c = cfg_lookup_rcu(t);				/* expect: rcu-deref-unprotected@warning */
	return c ? c->weight : 0;
}

void consumer_sync(struct tbl *t)
{
	rcu_read_lock();
	cfg_sync(t);					/* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
}

int consumer_grab(unsigned short id, int n)
{
	struct mem_cgroup *memcg = memcg_grab(id);

	if (!memcg)
		return -ENOENT;
	if (n < 0)
		return -EINVAL;				/* expect: ref-leak@warning */
	mem_cgroup_put(memcg);
	return 0;
}

int consumer_pair(struct tbl *t)
{
	struct cfg *c;
	int w = 0;

	tbl_enter(t);
	c = cfg_lookup_rcu(t);
	if (c)
		w = c->weight;
	tbl_leave(t);
	return w;
}
