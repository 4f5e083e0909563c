// SPDX-License-Identifier: GPL-2.0
/*
 * rcu-deref-unprotected: RCU-protected loads with no read-side section held.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/srcu.h>
#include <linux/rculist.h>
#include <linux/sched.h>
#include <linux/memcontrol.h>
#include <linux/tslot.h>
#include <linux/slab.h>

struct cfg {
	struct list_head node;
	int weight;
};

struct tbl {
	struct cfg __rcu *cur;
	struct list_head cfgs;
	struct mutex lock;
	spinlock_t slock;
};

static struct srcu_struct tbl_srcu;

/* works inside its caller's section, dropping it to sleep (tcp_ca_find_autoload() shape) */
static struct cfg *tbl_find_or_wait(struct tbl *t)
{
	struct cfg *c = rcu_dereference(t->cur);

	if (!c) {
		rcu_read_unlock();
		cond_resched();
		rcu_read_lock();
		c = rcu_dereference(t->cur);
	}
	return c;
}

/* ---- buggy ------------------------------------------------------------------------- */

/* the load happens before the section starts */
static int tbl_weight_early(struct tbl *t)
{
	struct cfg *c = rcu_dereference(t->cur);	/* expect: rcu-deref-unprotected@warning */
	int w;

	rcu_read_lock();
	w = c ? c->weight : 0;
	rcu_read_unlock();
	return w;
}

/* reloaded after the section ended */
static int tbl_weight_reload(struct tbl *t)
{
	struct cfg *c;
	int w = 0;

	rcu_read_lock();
	c = rcu_dereference(t->cur);
	if (c)
		w = c->weight;
	rcu_read_unlock();
	c = rcu_dereference(t->cur);	/* expect: rcu-deref-unprotected@warning */
	return c ? w + c->weight : w;
}

/* RCU list walk after rcu_read_unlock() on one branch */
static int tbl_sum(struct tbl *t, bool fast)
{
	struct cfg *c;
	int sum = 0;

	rcu_read_lock();
	if (fast)
		rcu_read_unlock();
	list_for_each_entry_rcu(c, &t->cfgs, node)	/* expect: rcu-deref-unprotected@warning */
		sum += c->weight;
	if (!fast)
		rcu_read_unlock();
	return sum;
}

/* the same walk through a header's wrapper of list_for_each_entry_rcu() */
static int tbl_sum_wrapped(struct tbl *t, bool fast)
{
	struct cfg *c;
	int sum = 0;

	rcu_read_lock();
	if (fast)
		rcu_read_unlock();
	tslot_for_each_rcu(c, &t->cfgs)		/* expect: rcu-deref-unprotected@warning */
		sum += c->weight;
	if (!fast)
		rcu_read_unlock();
	return sum;
}

/* srcu_dereference() under a section of another srcu_struct's flavour */
static int tbl_weight_srcu(struct tbl *t)
{
	struct cfg *c;
	int w = 0;

	rcu_read_lock();
	c = srcu_dereference(t->cur, &tbl_srcu);	/* expect: rcu-deref-unprotected@note */
	if (c)
		w = c->weight;
	rcu_read_unlock();
	return w;
}

/* a mutex is not a read-side section */
static int tbl_weight_mutex(struct tbl *t)
{
	struct cfg *c;
	int w = 0;

	mutex_lock(&t->lock);
	c = rcu_dereference(t->cur);		/* expect: rcu-deref-unprotected@warning */
	if (c)
		w = c->weight;
	mutex_unlock(&t->lock);
	rcu_read_lock();
	rcu_read_unlock();
	return w;
}

/* a callee that requires RCU, called outside the section */
static int task_memcg_id(struct task_struct *p)
{
	struct mem_cgroup *memcg;
	int id;

	rcu_read_lock();
	id = p->pid;
	rcu_read_unlock();
	memcg = mem_cgroup_from_task(p);	/* expect: rcu-deref-unprotected@warning */
	return memcg ? memcg->kmemcg_id : id;
}

/* a helper that loads RCU data and never says its callers must hold the lock */
static struct cfg *tbl_cur(struct tbl *t)
{
	return rcu_dereference(t->cur);		/* expect: rcu-deref-unprotected@note */
}

/* documented to be entered inside a reader, which it ends before the second load */
static int tbl_weight_release(struct tbl *t)
	__releases(RCU)
{
	struct cfg *c = rcu_dereference(t->cur);
	int w = c ? c->weight : 0;

	rcu_read_unlock();
	c = rcu_dereference(t->cur);		/* expect: rcu-deref-unprotected@warning */
	return w + (c ? c->weight : 0);
}

/* its callers must hold RCU: this one does not */
static int tbl_weight_held(struct tbl *t)
	__must_hold(RCU);

static int tbl_total(struct tbl *t)
{
	int w;

	rcu_read_lock();
	w = tbl_weight_held(t);
	rcu_read_unlock();
	return w + tbl_weight_held(t);		/* expect: rcu-deref-unprotected@warning */
}

/* a caller of it that takes its section too late */
static int tbl_weight_waiting(struct tbl *t)
{
	struct cfg *c = tbl_find_or_wait(t);		/* expect: rcu-deref-unprotected@warning */
	int w;

	rcu_read_lock();
	w = c ? c->weight : 0;
	rcu_read_unlock();
	return w;
}

/* loads what its argument points to: a reader's load where others can see that memory */
static struct cfg *tbl_slot_peek(struct cfg __rcu **slot)
{
	return rcu_dereference(*slot);
}

static struct tbl tbl_default;

/* the default table is published: its slot needs a reader */
static int tbl_default_weight(void)
{
	struct cfg *c = tbl_slot_peek(&tbl_default.cur);	/* expect: rcu-deref-unprotected@note */

	return c ? c->weight : 0;
}

/* ---- correct ----------------------------------------------------------------------- */

/* a table its caller has just allocated: nobody else can see its slot yet */
static void tbl_init_from(struct tbl *t, struct cfg *def)
{
	if (!tbl_slot_peek(&t->cur))
		RCU_INIT_POINTER(t->cur, def);
}

static struct tbl *tbl_make(struct cfg *def)
{
	struct tbl *t = kzalloc(sizeof(*t), GFP_KERNEL);

	if (!t)
		return NULL;
	tbl_init_from(t, def);
	return t;
}

static int tbl_weight_found(struct tbl *t)
{
	struct cfg *c;
	int w;

	rcu_read_lock();
	c = tbl_find_or_wait(t);
	w = c ? c->weight : 0;
	rcu_read_unlock();
	return w;
}

/* the annotation on its prototype says the caller's section protects it */
static int tbl_weight_held(struct tbl *t)
{
	struct cfg *c = rcu_dereference(t->cur);

	return c ? c->weight : 0;
}

static int tbl_total_ok(struct tbl *t)
{
	int w;

	rcu_read_lock();
	w = tbl_weight_held(t);
	rcu_read_unlock();
	return w;
}

/* entered inside a reader, it may end it and start its own (a seq_file walk) */
static struct cfg *tbl_next(struct tbl *t, struct cfg *prev)
	__acquires(RCU) __releases(RCU)
{
	struct cfg *c = rcu_dereference(t->cur);

	if (c != prev)
		return c;
	rcu_read_unlock();
	rcu_read_lock();
	return rcu_dereference(t->cur);
}

static int tbl_walk(struct tbl *t)
{
	struct cfg *c;
	int w = 0;

	rcu_read_lock();
	c = tbl_next(t, NULL);
	if (c)
		w = c->weight;
	rcu_read_unlock();
	return w;
}

static int tbl_weight_ok(struct tbl *t)
{
	struct cfg *c;
	int w = 0;

	rcu_read_lock();
	c = rcu_dereference(t->cur);
	if (c)
		w = c->weight;
	rcu_read_unlock();
	return w;
}

/* update side: the mutex is stated in the accessor */
static struct cfg *tbl_cur_locked(struct tbl *t)
{
	return rcu_dereference_protected(t->cur, lockdep_is_held(&t->lock));
}

/* the condition form states its own protection */
static struct cfg *tbl_cur_check(struct tbl *t)
{
	return rcu_dereference_check(t->cur, lockdep_is_held(&t->lock));
}

/* the lockdep condition names the lock held on the path that does not take RCU */
static int tbl_weight_either(struct tbl *t, bool locked)
{
	struct cfg *c;
	int w;

	if (locked) {
		mutex_lock(&t->lock);
		c = rcu_dereference_check(t->cur, lockdep_is_held(&t->lock));
		w = c ? c->weight : 0;
		mutex_unlock(&t->lock);
		return w;
	}
	rcu_read_lock();
	c = rcu_dereference(t->cur);
	w = c ? c->weight : 0;
	rcu_read_unlock();
	return w;
}

/* the function asserts its callers hold RCU */
static int tbl_weight_asserted(struct tbl *t)
{
	struct cfg *c;

	WARN_ON_ONCE(!rcu_read_lock_held());
	c = rcu_dereference(t->cur);
	return c ? c->weight : 0;
}

/* RCU-bh reader protects a plain rcu_dereference() too (consolidated grace periods) */
static int tbl_weight_bh(struct tbl *t)
{
	struct cfg *c;
	int w = 0;

	rcu_read_lock_bh();
	c = rcu_dereference_bh(t->cur);
	if (c)
		w = c->weight;
	rcu_read_unlock_bh();
	return w;
}

/* SRCU section on the same srcu_struct */
static int tbl_weight_srcu_ok(struct tbl *t)
{
	struct cfg *c;
	int idx, w = 0;

	idx = srcu_read_lock(&tbl_srcu);
	c = srcu_dereference(t->cur, &tbl_srcu);
	if (c)
		w = c->weight;
	srcu_read_unlock(&tbl_srcu, idx);
	return w;
}

/* list walk inside guard(rcu) */
static int tbl_sum_guard(struct tbl *t)
{
	struct cfg *c;
	int sum = 0;

	guard(rcu)();
	list_for_each_entry_rcu(c, &t->cfgs, node)
		sum += c->weight;
	return sum;
}

/* the list walk states the lock that protects it */
static int tbl_sum_locked(struct tbl *t)
{
	struct cfg *c;
	int sum = 0;

	mutex_lock(&t->lock);
	list_for_each_entry_rcu(c, &t->cfgs, node, lockdep_is_held(&t->lock))
		sum += c->weight;
	mutex_unlock(&t->lock);
	return sum;
}

/* a spinlock region is an implicit reader */
static int tbl_weight_spin(struct tbl *t)
{
	struct cfg *c;
	int w = 0;

	spin_lock(&t->slock);
	c = rcu_dereference(t->cur);
	if (c)
		w = c->weight;
	spin_unlock(&t->slock);
	return w;
}
