// SPDX-License-Identifier: GPL-2.0
/*
 * rcu-callback-context: RCU callbacks (softirq context) that may sleep.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/rculist.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/memcontrol.h>
#include <linux/refcount.h>

struct cfg {
	struct list_head all;
	struct rcu_head rcu;
	struct work_struct work;
	struct completion done;
	void *big;
};

static struct mutex cfg_mutex;

static void cfg_unlink(struct cfg *c)
{
	mutex_lock(&cfg_mutex);
	list_del(&c->all);
	mutex_unlock(&cfg_mutex);
}

static void cfg_free_mutex(struct rcu_head *head)
{
	struct cfg *c = container_of(head, struct cfg, rcu);

	mutex_lock(&cfg_mutex);
	list_del(&c->all);
	mutex_unlock(&cfg_mutex);
	kfree(c);
}

static void cfg_free_helper(struct rcu_head *head)
{
	struct cfg *c = container_of(head, struct cfg, rcu);

	cfg_unlink(c);
	kfree(c);
}

static void cfg_free_alloc(struct rcu_head *head)
{
	struct cfg *c = container_of(head, struct cfg, rcu);

	c->big = kmalloc(4096, GFP_KERNEL);
}

/* a sleep four calls down: each level may reach it only on a path of its own */
static void cfg_teardown_stats(struct cfg *c)
{
	mutex_lock(&cfg_mutex);
	c->big = NULL;
	mutex_unlock(&cfg_mutex);
}

static void cfg_teardown_queue(struct cfg *c)
{
	cfg_teardown_stats(c);
}

static void cfg_teardown(struct cfg *c)
{
	cfg_teardown_queue(c);
}

static void cfg_free_deep(struct rcu_head *head)
{
	struct cfg *c = container_of(head, struct cfg, rcu);

	cfg_teardown(c);
	kfree(c);
}

static void cfg_free_flush(struct rcu_head *head)
{
	struct cfg *c = container_of(head, struct cfg, rcu);

	flush_work(&c->work);
	kfree(c);
}

static void cfg_free_wait(struct rcu_head *head)
{
	struct cfg *c = container_of(head, struct cfg, rcu);

	wait_for_completion(&c->done);
	kfree(c);
}

static void cfg_free_sync(struct rcu_head *head)
{
	synchronize_rcu();
	kfree(container_of(head, struct cfg, rcu));
}

/* the good callbacks */
static void cfg_free_ok(struct rcu_head *head)
{
	kfree(container_of(head, struct cfg, rcu));
}

static void cfg_free_vfree(struct rcu_head *head)
{
	struct cfg *c = container_of(head, struct cfg, rcu);

	kvfree(c->big);
	kfree(c);
}

static void cfg_free_atomic_alloc(struct rcu_head *head)
{
	struct cfg *c = container_of(head, struct cfg, rcu);

	c->big = kmalloc(64, GFP_ATOMIC);
}

static void cfg_free_put(struct rcu_head *head)
{
	struct cfg *c = container_of(head, struct cfg, rcu);

	css_put((struct cgroup_subsys_state *)c->big);
	kfree(c);
}

/* ---- buggy ------------------------------------------------------------------------- */

static void cfg_release_mutex(struct cfg *c)
{
	call_rcu(&c->rcu, cfg_free_mutex);		/* expect: rcu-callback-context@warning */
}

static void cfg_release_helper(struct cfg *c)
{
	call_rcu(&c->rcu, cfg_free_helper);		/* expect: rcu-callback-context@warning */
}

static void cfg_release_alloc(struct cfg *c)
{
	call_rcu(&c->rcu, cfg_free_alloc);		/* expect: rcu-callback-context@warning */
}

static void cfg_release_deep(struct cfg *c)
{
	call_rcu(&c->rcu, cfg_free_deep);		/* expect: rcu-callback-context@note */
}

static void cfg_release_flush(struct cfg *c)
{
	call_rcu(&c->rcu, cfg_free_flush);		/* expect: rcu-callback-context@warning */
}

static void cfg_release_wait(struct cfg *c)
{
	call_rcu(&c->rcu, cfg_free_wait);		/* expect: rcu-callback-context@warning */
}

static void cfg_release_sync(struct cfg *c)
{
	call_rcu(&c->rcu, cfg_free_sync);		/* expect: rcu-callback-context@warning */
}

/* ---- correct ----------------------------------------------------------------------- */

static void cfg_release_ok(struct cfg *c)
{
	call_rcu(&c->rcu, cfg_free_ok);
}

static void cfg_release_vfree(struct cfg *c)
{
	call_rcu(&c->rcu, cfg_free_vfree);
}

static void cfg_release_atomic(struct cfg *c)
{
	call_rcu(&c->rcu, cfg_free_atomic_alloc);
}

static void cfg_release_put(struct cfg *c)
{
	call_rcu(&c->rcu, cfg_free_put);
}

/* the sleeping part runs before call_rcu(), in process context */
static void cfg_release_unlink_first(struct cfg *c)
{
	cfg_unlink(c);
	call_rcu(&c->rcu, cfg_free_ok);
}

static void cfg_release_kfree_rcu(struct cfg *c)
{
	cfg_unlink(c);
	kfree_rcu(c, rcu);
}

/* ---- a percpu_ref's release: called from RCU callback context by percpu_ref_kill() ---- */

struct twb {
	struct percpu_ref refcnt;
	struct work_struct release_work;
};

bool schedule_work(struct work_struct *work);

static void twb_release_workfn(struct work_struct *work)
{
	mutex_lock(&cfg_mutex);
	mutex_unlock(&cfg_mutex);
}

/* buggy: the release runs the sleeping teardown in place */
static void twb_release_inline(struct percpu_ref *ref)
{
	struct twb *wb = container_of(ref, struct twb, refcnt);

	twb_release_workfn(&wb->release_work);
}

/* correct: the release hands the teardown to a work item */
static void twb_release(struct percpu_ref *ref)
{
	struct twb *wb = container_of(ref, struct twb, refcnt);

	schedule_work(&wb->release_work);
}

static int twb_init_inline(struct twb *wb)
{
	return percpu_ref_init(&wb->refcnt, twb_release_inline, 0, GFP_KERNEL); /* expect: rcu-callback-context@warning */
}

static int twb_init(struct twb *wb)
{
	return percpu_ref_init(&wb->refcnt, twb_release, 0, GFP_KERNEL);
}

/* ---- SRCU's callbacks run with bottom halves disabled too ---------------------------- */

struct srcu_struct;
void call_srcu(struct srcu_struct *ssp, struct rcu_head *head,
	       void (*func)(struct rcu_head *head));
static struct srcu_struct *cfg_srcu;

static void cfg_release_srcu(struct cfg *c)
{
	call_srcu(cfg_srcu, &c->rcu, cfg_free_mutex);	/* expect: rcu-callback-context@warning */
}
