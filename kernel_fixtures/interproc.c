// SPDX-License-Identifier: GPL-2.0
/*
 * Interprocedural shapes: every rule sees through helpers via bottom-up summaries.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/rculist.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/memcontrol.h>

struct cfg {
	int weight;
	int dead;
};

struct tbl {
	struct cfg __rcu *cur;
	struct mutex lock;
	int (*hook)(struct cfg *c);
};

struct tnode {
	struct tnode __rcu *left;
	struct tnode __rcu *right;
	int val;
};

/* --- helpers -------------------------------------------------------------------------- */

/* returns with RCU held; its partner releases it */
static void tbl_lock(struct tbl *t)
{
	rcu_read_lock();
}

static void tbl_unlock(struct tbl *t)
{
	rcu_read_unlock();
}

/* the lockless-shrinker helper a reviewer asked about: it loads RCU data and does not
 * say the caller must hold the lock */
static struct cfg *tbl_cfg_rcu(struct tbl *t)
{
	return rcu_dereference(t->cur);
}

/* trylock style: true with RCU held, false without */
static bool tbl_try_enter(struct tbl *t)
{
	rcu_read_lock();
	if (rcu_dereference(t->cur) == NULL) {
		rcu_read_unlock();
		return false;
	}
	return true;
}

/* returns a new reference, or NULL */
static struct mem_cgroup *memcg_get_id(unsigned short id)
{
	struct mem_cgroup *memcg;

	rcu_read_lock();
	memcg = mem_cgroup_from_id(id);
	if (memcg && !css_tryget(&memcg->css))
		memcg = NULL;
	rcu_read_unlock();
	return memcg;
}

/* sleeps three calls down */
static void tbl_sync3(struct tbl *t)
{
	mutex_lock(&t->lock);
	mutex_unlock(&t->lock);
}

static void tbl_sync2(struct tbl *t)
{
	tbl_sync3(t);
}

static void tbl_sync1(struct tbl *t)
{
	if (t->hook)
		tbl_sync2(t);
}

/* recursion under RCU */
static int tnode_sum(struct tnode *n)
{
	struct tnode *l, *r;

	if (!n)
		return 0;
	l = rcu_dereference(n->left);
	r = rcu_dereference(n->right);
	return n->val + tnode_sum(l) + tnode_sum(r);
}

/* mutual recursion with a sleep on one side */
static int ping(struct tbl *t, int n);

static int pong(struct tbl *t, int n)
{
	if (n <= 0) {
		msleep(1);
		return 0;
	}
	return ping(t, n - 1);
}

static int ping(struct tbl *t, int n)
{
	return n ? pong(t, n - 1) : 0;
}

/* --- callers: buggy ------------------------------------------------------------------- */

static int cfg_weight_unlocked(struct tbl *t)
{
	struct cfg *c;

	c = tbl_cfg_rcu(t);				/* expect: rcu-deref-unprotected@warning */
	rcu_read_lock();
	rcu_read_unlock();
	return c ? c->weight : 0;
}

static int cfg_weight_leaves_locked(struct tbl *t)
{
	struct cfg *c;

	tbl_lock(t);
	c = tbl_cfg_rcu(t);
	if (!c)
		return -ENOENT;				/* expect: rcu-unbalanced@warning */
	tbl_unlock(t);
	return 0;
}

static void cfg_sleep_deep(struct tbl *t)
{
	rcu_read_lock();
	tbl_sync1(t);					/* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
}

static int memcg_id_leak(unsigned short id, int nr)
{
	struct mem_cgroup *memcg = memcg_get_id(id);

	if (!memcg)
		return -ENOENT;
	if (nr > 8)
		return -EINVAL;				/* expect: ref-leak@warning */
	mem_cgroup_put(memcg);
	return 0;
}

static int cfg_ping_locked(struct tbl *t)
{
	int ret;

	rcu_read_lock();
	ret = ping(t, 3);				/* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
	return ret;
}

static int cfg_tree_unlocked(struct tnode *root)
{
	int sum;

	rcu_read_lock();
	rcu_read_unlock();
	sum = tnode_sum(root);				/* expect: rcu-deref-unprotected@warning */
	return sum;
}

/* --- callers: correct ----------------------------------------------------------------- */

static int cfg_weight_ok(struct tbl *t)
{
	struct cfg *c;
	int w = 0;

	rcu_read_lock();
	c = tbl_cfg_rcu(t);
	if (c)
		w = c->weight;
	rcu_read_unlock();
	return w;
}

static int cfg_weight_helpers_ok(struct tbl *t)
{
	struct cfg *c;
	int w = 0;

	tbl_lock(t);
	c = tbl_cfg_rcu(t);
	if (c)
		w = c->weight;
	tbl_unlock(t);
	return w;
}

static int cfg_try_ok(struct tbl *t)
{
	struct cfg *c;
	int w;

	if (!tbl_try_enter(t))
		return 0;
	c = rcu_dereference(t->cur);
	w = c ? c->weight : 0;
	rcu_read_unlock();
	return w;
}

static int memcg_id_ok(unsigned short id)
{
	struct mem_cgroup *memcg = memcg_get_id(id);
	int kid;

	if (!memcg)
		return -ENOENT;
	kid = memcg->kmemcg_id;
	mem_cgroup_put(memcg);
	return kid;
}

static void cfg_sleep_outside(struct tbl *t)
{
	rcu_read_lock();
	rcu_read_unlock();
	tbl_sync1(t);
}

/* a call through a function pointer: unknown, but not a crash */
static int cfg_hook(struct tbl *t)
{
	struct cfg *c;
	int ret = 0;

	rcu_read_lock();
	c = rcu_dereference(t->cur);
	if (c && t->hook)
		ret = t->hook(c);
	rcu_read_unlock();
	return ret;
}

static int cfg_tree_ok(struct tnode *root)
{
	int sum;

	rcu_read_lock();
	sum = tnode_sum(root);
	rcu_read_unlock();
	return sum;
}

/* --- effects under conditions on the arguments ------------------------------------------ */

#define TBL_NOWAIT	0x1
#define TBL_F_BLOCKING	0x4
#define TBL_F_SHARED	0x8

struct tbl_req {
	unsigned int flags;
	struct tbl *t;
};

/* sleeps unless the caller passes TBL_NOWAIT */
static void tbl_sync(struct tbl *t, unsigned int mode)
{
	if (mode & TBL_NOWAIT)
		return;
	mutex_lock(&t->lock);
	mutex_unlock(&t->lock);
}

/* sleeps when the request says it may block */
static void tbl_req_finish(struct tbl_req *r)
{
	if (r->flags & TBL_F_BLOCKING)
		msleep(1);
}

static void tbl_sync_inside(struct tbl *t)
{
	rcu_read_lock();
	tbl_sync(t, 0);				/* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
}

static void tbl_req_inside(struct tbl_req *r)
{
	rcu_read_lock();
	if (r->flags & TBL_F_BLOCKING)
		tbl_req_finish(r);		/* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
}

/* the argument rules the sleep out */
static void tbl_sync_nowait(struct tbl *t)
{
	rcu_read_lock();
	tbl_sync(t, TBL_NOWAIT);
	rcu_read_unlock();
}

/* a test of a mask that covers the flag rules it out */
static void tbl_req_quick(struct tbl_req *r)
{
	rcu_read_lock();
	if (!(r->flags & (TBL_F_BLOCKING | TBL_F_SHARED)))
		tbl_req_finish(r);
	rcu_read_unlock();
}
