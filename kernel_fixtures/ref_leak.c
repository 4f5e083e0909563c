// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak: references neither released nor handed off on some path.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/rculist.h>
#include <linux/memcontrol.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/refcount.h>
#include <linux/sched.h>

struct task_struct *memcg_next_task(struct mem_cgroup *memcg, struct task_struct *prev);

struct ctx {
	struct mem_cgroup *memcg;
	struct obj_cgroup *objcg;
	int nid;
};

int charge(struct mem_cgroup *memcg, int nr);
/* defined in a file not analysed; named as the kernel names its puts */
void put_charged_memcg(struct mem_cgroup *memcg);
int prepare(struct ctx *c);

/* an object a module provides: its module reference keeps it */
struct provider {
	struct list_head list;
	struct module *owner;
	struct kref kref;
	refcount_t users;
	int (*setup)(struct provider *p);
};
struct kobj_like;
struct kobj_like *kobj_get_unless_zero(struct provider *p);
void kobj_forward(struct provider *p, int n);
/* named like a put, shaped like a data writer: it appends to a message */
void *msg_put(struct ctx *msg, int type, int len);

/* ---- buggy ------------------------------------------------------------------------- */

/* the module reference is dropped when setup fails, kept (and lost) on the other error */
static int provider_start(struct provider *p, bool ready)
{
	int err;

	if (!try_module_get(p->owner))
		return -ENODEV;
	err = p->setup(p);
	if (err) {
		module_put(p->owner);
		return err;
	}
	if (!ready)
		return -EAGAIN;				/* expect: ref-leak@warning */
	module_put(p->owner);
	return 0;
}

/* a module reference taken on an element of an RCU walk, not dropped before the next */
static int provider_scan(struct list_head *head)
{
	struct provider *p;
	int n = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(p, head, list) {	/* expect: ref-leak@warning */
		if (!try_module_get(p->owner))
			continue;
		n += p->setup(p);
	}
	rcu_read_unlock();
	return n;
}

/* an early error return skips the put */
static int charge_mm(struct mm_struct *mm, int nr)
{
	struct mem_cgroup *memcg;
	int ret;

	memcg = get_mem_cgroup_from_mm(mm);
	if (!mem_cgroup_online(memcg))
		return -ENOENT;				/* expect: ref-leak@warning */
	ret = charge(memcg, nr);
	mem_cgroup_put(memcg);
	return ret;
}

/* a goto ladder whose first label does not put */
static int ctx_setup(struct ctx *c, struct mm_struct *mm)
{
	struct mem_cgroup *memcg;
	int ret;

	memcg = get_mem_cgroup_from_mm(mm);
	ret = prepare(c);
	if (ret)
		goto out;
	ret = charge(memcg, 1);
	if (ret)
		goto out_put;
	c->nid = 0;
out_put:
	mem_cgroup_put(memcg);
out:
	return ret;					/* expect: ref-leak@warning */
}

/* lockless memcg shrink shape: a tryget in a loop body, `continue` skips the put */
static unsigned long shrink_ids(struct idr *idr, struct shrink_control *sc, int n, bool slab)
{
	unsigned long freed = 0;
	int id;

	for (id = 0; id < n; id++) {
		struct shrinker *shrinker;

		rcu_read_lock();
		shrinker = idr_find(idr, id);
		if (!shrinker || !shrinker_try_get(shrinker)) {
			rcu_read_unlock();
			continue;
		}
		rcu_read_unlock();
		if (!slab)
			continue;				/* expect: ref-leak@warning */
		freed += do_shrink_slab(sc, shrinker, 0);
		shrinker_put(shrinker);
	}
	return freed;
}

/* the tryget succeeds, then a later check bails out without the put */
static int objcg_use(struct mem_cgroup *memcg, int nr)
{
	struct obj_cgroup *objcg;

	rcu_read_lock();
	objcg = rcu_dereference(memcg->objcg);
	if (!objcg || !obj_cgroup_tryget(objcg)) {
		rcu_read_unlock();
		return -ENOENT;
	}
	rcu_read_unlock();
	if (nr > 64)
		return -EINVAL;				/* expect: ref-leak@warning */
	obj_cgroup_put(objcg);
	return 0;
}

/* the variable holding the reference is overwritten */
static int charge_two(struct mm_struct *a, struct mm_struct *b)
{
	struct mem_cgroup *memcg;
	int ret;

	memcg = get_mem_cgroup_from_mm(a);
	ret = charge(memcg, 1);
	memcg = get_mem_cgroup_from_mm(b);		/* expect: ref-leak@warning */
	ret |= charge(memcg, 1);
	mem_cgroup_put(memcg);
	return ret;
}

/* a reference taken by a plain get, released on one branch only */
static int css_hold(struct folio *folio, bool keep)
{
	struct mem_cgroup *memcg = folio_memcg(folio);

	css_get(&memcg->css);
	if (keep) {
		charge(memcg, 1);
		css_put(&memcg->css);
		return 1;
	}
	return 0;					/* expect: ref-leak@warning */
}

/* a walk that breaks out holding the reference of mem_cgroup_iter() */
static struct mem_cgroup *find_online(struct mem_cgroup *root, int want)
{
	struct mem_cgroup *iter;
	int n = 0;

	for (iter = mem_cgroup_iter(root, NULL, NULL); iter;
	     iter = mem_cgroup_iter(root, iter, NULL)) {
		if (n++ == want)
			break;
	}
	return NULL;					/* expect: ref-leak@warning */
}

/* an inner walk ends on a NULL task before each step: the step's put is no cleanup of a
 * failed call, and breaking out keeps the walk's reference */
static int scan_tasks(struct mem_cgroup *root, int (*fn)(struct task_struct *))
{
	struct mem_cgroup *iter;
	struct task_struct *task;
	int ret = 0;

	for (iter = mem_cgroup_iter(root, NULL, NULL); iter;
	     iter = mem_cgroup_iter(root, iter, NULL)) {
		task = NULL;
		while (!ret && (task = memcg_next_task(iter, task)))
			ret = fn(task);
		if (ret)
			break;
	}
	return ret;					/* expect: ref-leak@warning */
}

/* ---- correct ----------------------------------------------------------------------- */

static int charge_mm_ok(struct mm_struct *mm, int nr)
{
	struct mem_cgroup *memcg;
	int ret;

	memcg = get_mem_cgroup_from_mm(mm);
	if (!mem_cgroup_online(memcg)) {
		ret = -ENOENT;
		goto out;
	}
	ret = charge(memcg, nr);
out:
	mem_cgroup_put(memcg);
	return ret;
}

/* the reference is returned to the caller */
static struct mem_cgroup *memcg_get_online(unsigned short id)
{
	struct mem_cgroup *memcg;

	rcu_read_lock();
	memcg = mem_cgroup_from_id(id);
	if (memcg && !css_tryget_online(&memcg->css))
		memcg = NULL;
	rcu_read_unlock();
	return memcg;
}

/* the reference is stored in a structure that owns it */
static int ctx_attach(struct ctx *c, struct mm_struct *mm)
{
	struct mem_cgroup *memcg;

	memcg = get_mem_cgroup_from_mm(mm);
	if (!memcg)
		return -ENOENT;
	c->memcg = memcg;
	return 0;
}

/* the NULL branch holds nothing */
static int objcg_charge(struct mem_cgroup *memcg)
{
	struct obj_cgroup *objcg;

	rcu_read_lock();
	objcg = rcu_dereference(memcg->objcg);
	if (!objcg || !obj_cgroup_tryget(objcg)) {
		rcu_read_unlock();
		return -ENOENT;
	}
	rcu_read_unlock();
	obj_cgroup_put(objcg);
	return 0;
}

/* a tryget retry loop */
static struct mem_cgroup *get_online_ancestor(struct mem_cgroup *memcg)
{
	rcu_read_lock();
	while (!css_tryget(&memcg->css))
		memcg = parent_mem_cgroup(memcg);
	rcu_read_unlock();
	return memcg;
}

/* mem_cgroup_iter() drops the previous reference; _iter_break() drops the last */
static struct mem_cgroup *find_online_ok(struct mem_cgroup *root, int want)
{
	struct mem_cgroup *iter;
	int n = 0;

	for (iter = mem_cgroup_iter(root, NULL, NULL); iter;
	     iter = mem_cgroup_iter(root, iter, NULL)) {
		if (n++ == want) {
			mem_cgroup_iter_break(root, iter);
			break;
		}
	}
	return NULL;
}

/* stored before the get that goes with it */
static void ctx_inherit(struct ctx *c, struct ctx *from)
{
	struct mem_cgroup *memcg = from->memcg;

	c->memcg = memcg;
	css_get(&memcg->css);
}

/* a flag records whether the put is due */
static int charge_maybe(struct mm_struct *mm, bool want)
{
	struct mem_cgroup *memcg = NULL;
	bool got = false;
	int ret = 0;

	if (want) {
		memcg = get_mem_cgroup_from_mm(mm);
		got = true;
	}
	if (memcg)
		ret = charge(memcg, 1);
	if (got)
		mem_cgroup_put(memcg);
	return ret;
}

/* a put whose body is elsewhere, known by the kernel's naming */
static int charge_put_named(struct mm_struct *mm)
{
	struct mem_cgroup *memcg = get_mem_cgroup_from_mm(mm);
	int ret = charge(memcg, 1);

	put_charged_memcg(memcg);
	return ret;
}

/* the module reference stays with the object the second get succeeded on */
static struct kobj_like *provider_get(struct provider *p)
{
	struct module *owner = p->owner;
	struct kobj_like *kobj;

	if (!try_module_get(owner))
		return NULL;
	kobj = kobj_get_unless_zero(p);
	if (!kobj)
		module_put(owner);
	return kobj;
}

/* several references at once, handed out one by one: not counted */
static void provider_forward(struct provider *p, int burst)
{
	refcount_add(burst, &p->users);
	kobj_forward(p, burst);
}

/* msg_put() writes data: it is not a put of `c` */
static int ctx_report(struct mm_struct *mm, struct ctx *c)
{
	struct mem_cgroup *memcg = get_mem_cgroup_from_mm(mm);

	if (!msg_put(c, 1, sizeof(memcg))) {
		mem_cgroup_put(memcg);
		return -EMSGSIZE;
	}
	c->nid = charge(memcg, 1);
	mem_cgroup_put(memcg);
	return 0;
}

static int scan_tasks_ok(struct mem_cgroup *root, int (*fn)(struct task_struct *))
{
	struct mem_cgroup *iter;
	struct task_struct *task;
	int ret = 0;

	for (iter = mem_cgroup_iter(root, NULL, NULL); iter;
	     iter = mem_cgroup_iter(root, iter, NULL)) {
		task = NULL;
		while (!ret && (task = memcg_next_task(iter, task)))
			ret = fn(task);
		if (ret) {
			mem_cgroup_iter_break(root, iter);
			break;
		}
	}
	return ret;
}

/* a plain get and no put anywhere here: the reference is for a holder a helper sets up */
void folio_note_owner(struct folio *folio);

static void memcg_pin_for(struct folio *folio)
{
	struct mem_cgroup *memcg = folio_memcg(folio);

	css_get(&memcg->css);
	folio_note_owner(folio);
}

/*
 * A function that returns nothing cannot tell its caller whether its tryget on the
 * caller's object succeeded: the reference kept on success belongs to nobody.
 */
struct reclaimer {
	struct cgroup_subsys_state css;
	struct work_struct work;
	int nr;
};

void reclaimer_run(struct reclaimer *r, int nr);

static void reclaimer_workfn(struct work_struct *work)
{
	struct reclaimer *r = container_of(work, struct reclaimer, work);

	if (!css_tryget_online(&r->css))
		return;
	reclaimer_run(r, r->nr);
}							/* expect: ref-leak@warning */

static void reclaimer_workfn_ok(struct work_struct *work)
{
	struct reclaimer *r = container_of(work, struct reclaimer, work);

	if (!css_tryget_online(&r->css))
		return;
	reclaimer_run(r, r->nr);
	css_put(&r->css);
}

/* ... but a tryget whose reference is stored on success is kept by the structure */
struct reclaim_ctl { struct mem_cgroup *memcg; };

static void reclaimer_adopt(struct reclaim_ctl *ctl, struct mem_cgroup *memcg)
{
	if (!css_tryget_online(&memcg->css))
		return;
	ctl->memcg = memcg;
}

/*
 * Two names for one object (`iter == failed`) that both go out of scope: the
 * reference taken through one of them is still leaked.
 */
static bool memcg_first_busy(struct mem_cgroup *root, int (*busy)(struct mem_cgroup *))
{
	struct mem_cgroup *iter, *failed = NULL;

	for (iter = mem_cgroup_iter(root, NULL, NULL); iter;
	     iter = mem_cgroup_iter(root, iter, NULL)) {
		if (busy(iter)) {
			failed = iter;
			mem_cgroup_iter_break(root, iter);
			break;
		}
	}
	if (failed) {
		for (iter = mem_cgroup_iter(root, NULL, NULL); iter;
		     iter = mem_cgroup_iter(root, iter, NULL)) {
			if (iter == failed)
				break;
		}
	}
	return !failed;					/* expect: ref-leak@warning */
}

/*
 * A call given the cursor whose result replaces it, and that nothing describes, is an
 * iterator's step: by the kernel's convention (of_find_node_by_name(from, ...),
 * pci_get_device(..., from), dma_fence_chain_walk(iter)) it drops the reference on the
 * cursor it is given.
 */
struct mem_cgroup *memcg_walk_up(struct mem_cgroup *memcg);

int memcg_depth_from(struct mm_struct *mm)
{
	struct mem_cgroup *memcg = get_mem_cgroup_from_mm(mm);
	int depth = 0;

	while (memcg) {
		depth++;
		memcg = memcg_walk_up(memcg);
	}
	return depth;
}

/* ... but a step whose body keeps the cursor's reference does not drop it */
int memcg_depth_parents(struct mm_struct *mm)
{
	struct mem_cgroup *memcg = get_mem_cgroup_from_mm(mm);
	int depth = 0;

	while (memcg) {
		depth++;
		memcg = parent_mem_cgroup(memcg);	/* expect: ref-leak@warning */
	}
	return depth;
}

/* correct: a hold that reports through its flag whether it took the count; true is its
 * success, and the caller unholds */
struct tres {
	refcount_t hold;
	int cookie;
};

bool tres_hold(struct tres *r, bool *cookie)
{
	bool held = refcount_inc_not_zero(&r->hold);

	if (held)
		*cookie = true;
	return held;
}
