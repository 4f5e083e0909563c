// SPDX-License-Identifier: GPL-2.0
/*
 * ref-unchecked-tryget: a tryget whose failure is ignored.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/rculist.h>
#include <linux/memcontrol.h>
#include <linux/refcount.h>
#include <linux/shrinker.h>
#include <linux/sched.h>

struct sess {
	struct list_head list;
	struct sess __rcu *next;
	refcount_t ref;
	struct kref kref;
	int id;
};

void sess_release(struct kref *kref);
int sess_work(struct sess *s);

/* ---- buggy ------------------------------------------------------------------------- */

static int memcg_pin_ignored(struct mem_cgroup *memcg)
{
	int ret;

	rcu_read_lock();
	css_tryget(&memcg->css);			/* expect: ref-unchecked-tryget@warning */
	rcu_read_unlock();
	ret = memcg->kmemcg_id;
	css_put(&memcg->css);
	return ret;
}

static void sess_ref_ignored(struct sess *head)
{
	struct sess *s;

	rcu_read_lock();
	s = rcu_dereference(head->next);
	if (s)
		refcount_inc_not_zero(&s->ref);		/* expect: ref-unchecked-tryget@warning */
	rcu_read_unlock();
}

/* the failure branch puts a reference it never took */
static void sess_put_on_failure(struct sess *head)
{
	struct sess *s;

	rcu_read_lock();
	s = rcu_dereference(head->next);
	if (s && !kref_get_unless_zero(&s->kref)) {
		kref_put(&s->kref, sess_release);	/* expect: ref-unchecked-tryget@warning */
		s = NULL;
	}
	rcu_read_unlock();
	if (s)
		kref_put(&s->kref, sess_release);
}

/* the failure branch resurrects the object with a plain get */
static struct mem_cgroup *memcg_force_get(struct mem_cgroup *memcg)
{
	rcu_read_lock();
	if (!css_tryget(&memcg->css))
		css_get(&memcg->css);			/* expect: ref-unchecked-tryget@warning */
	rcu_read_unlock();
	return memcg;
}

/* the failure branch uses the object after the section ended */
static int sess_use_on_failure(struct sess *head)
{
	struct sess *s;
	int ok;

	rcu_read_lock();
	s = rcu_dereference(head->next);
	ok = s && refcount_inc_not_zero(&s->ref);
	rcu_read_unlock();
	if (!s)
		return 0;
	if (!ok)
		return s->id;				/* expect: ref-unchecked-tryget@warning */
	sess_work(s);
	refcount_dec_and_test(&s->ref);
	return 1;
}

static void shrinker_ping(struct shrinker *shrinker)
{
	rcu_read_lock();
	shrinker_try_get(shrinker);			/* expect: ref-unchecked-tryget@warning */
	rcu_read_unlock();
	shrinker_put(shrinker);
}

/* a module reference fails while the module is going away, whatever keeps the ops
 * structure alive: its result must be looked at even with the table's mutex held */
struct sess_ops {
	struct module *owner;
	int (*start)(struct sess *s);
};

struct sess_ctl {
	struct mutex lock;
	const struct sess_ops *ops;
};

static int sess_ctl_start(struct sess_ctl *c, struct sess *s)
{
	int err;

	mutex_lock(&c->lock);
	try_module_get(c->ops->owner);			/* expect: ref-unchecked-tryget@warning */
	err = c->ops->start(s);
	mutex_unlock(&c->lock);
	return err;
}

/* ---- correct ----------------------------------------------------------------------- */

static int memcg_pin_checked(struct mem_cgroup *memcg)
{
	int ret;

	rcu_read_lock();
	if (!css_tryget(&memcg->css)) {
		rcu_read_unlock();
		return -ENOENT;
	}
	rcu_read_unlock();
	ret = memcg->kmemcg_id;
	css_put(&memcg->css);
	return ret;
}

/* the result kept in a variable and tested */
static int sess_ref_var(struct sess *head)
{
	struct sess *s;
	bool ok = false;

	rcu_read_lock();
	s = rcu_dereference(head->next);
	if (s)
		ok = refcount_inc_not_zero(&s->ref);
	rcu_read_unlock();
	if (!ok)
		return 0;
	sess_work(s);
	refcount_dec_and_test(&s->ref);
	return 1;
}

/* on failure the object is only read inside the section */
static int sess_peek_on_failure(struct sess *head)
{
	struct sess *s;
	int id = -1;

	rcu_read_lock();
	s = rcu_dereference(head->next);
	if (s && !kref_get_unless_zero(&s->kref)) {
		id = s->id;
		rcu_read_unlock();
		return id;
	}
	rcu_read_unlock();
	if (s) {
		id = s->id;
		kref_put(&s->kref, sess_release);
	}
	return id;
}

/* a retry loop: the failure moves on to the parent */
static struct mem_cgroup *memcg_get_live(struct mem_cgroup *memcg)
{
	rcu_read_lock();
	while (!css_tryget(&memcg->css))
		memcg = parent_mem_cgroup(memcg);
	rcu_read_unlock();
	return memcg;
}

/* the result feeds the return value */
static bool shrinker_grab(struct shrinker *shrinker)
{
	return shrinker_try_get(shrinker);
}

/* WARN_ON_ONCE() around a tryget still tests it */
static struct mem_cgroup *memcg_or_root(struct mem_cgroup *memcg, struct mem_cgroup *root)
{
	rcu_read_lock();
	if (!memcg || WARN_ON_ONCE(!css_tryget(&memcg->css)))
		memcg = root;
	rcu_read_unlock();
	return memcg;
}

/* a tryget of the writers' count inside an object the caller gave: its failure says
 * the object is going read-only, not that it is dying; the caller keeps it alive */
struct sess_fs {
	struct percpu_ref writes;
	int flags;
};

static int sess_fs_flush(struct sess_fs *fs)
{
	if (fs->flags && percpu_ref_tryget(&fs->writes)) {
		fs->flags = 0;
		percpu_ref_put(&fs->writes);
	}
	return fs->flags;
}

/* an rcuref_t-counted route: rcuref_get() fails once the count died */
struct troute {
	struct troute __rcu *next;
	rcuref_t ref;
	int metric;
};

void troute_free(struct troute *rt);

static int troute_metric_ignored(struct troute __rcu **head)
{
	struct troute *rt;
	int metric = -1;

	rcu_read_lock();
	rt = rcu_dereference(*head);
	if (rt)
		rcuref_get(&rt->ref);			/* expect: ref-unchecked-tryget@warning */
	rcu_read_unlock();
	if (rt) {
		metric = rt->metric;
		if (rcuref_put(&rt->ref))		/* expect: ref-double-put@warning */
			troute_free(rt);
	}
	return metric;
}

static int troute_metric(struct troute __rcu **head)
{
	struct troute *rt;
	int metric = -1;

	rcu_read_lock();
	rt = rcu_dereference(*head);
	if (rt && !rcuref_get(&rt->ref))
		rt = NULL;
	rcu_read_unlock();
	if (rt) {
		metric = rt->metric;
		if (rcuref_put(&rt->ref))
			troute_free(rt);
	}
	return metric;
}

/* ---- a demoted case: the object is kept by what the function holds, not by RCU ------ */

/* a session table the mutex keeps: a session leaves its slot under the mutex before its
 * last reference goes, so a tryget on one found there cannot fail; the ignored result is
 * a note (the caller's belief, which the analysis does not check) */
struct sess_table {
	struct mutex lock;
	struct sess *slots[4];
};

static void sess_table_kick(struct sess_table *t, int i)
{
	struct sess *s;

	mutex_lock(&t->lock);
	s = t->slots[i];
	if (s) {
		kref_get_unless_zero(&s->kref);		/* expect: ref-unchecked-tryget@note */
		sess_work(s);
		kref_put(&s->kref, sess_release);
	}
	mutex_unlock(&t->lock);
}
