// SPDX-License-Identifier: GPL-2.0
/*
 * rcu-use-after-unlock: pointers from a read-side section used after it ended.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/rculist.h>
#include <linux/memcontrol.h>
#include <linux/shrinker.h>
#include <linux/tslot.h>
#include <linux/sched.h>

struct node {
	struct list_head list;
	struct node __rcu *next;
	refcount_t ref;
	int val;
};

static struct idr node_idr;

/* ---- buggy ------------------------------------------------------------------------- */

static int memcg_id_weight(unsigned short id)
{
	struct mem_cgroup *memcg;

	rcu_read_lock();
	memcg = mem_cgroup_from_id(id);
	rcu_read_unlock();
	return memcg->kmemcg_id;			/* expect: rcu-use-after-unlock@warning */
}

static int node_next_val(struct node *head)
{
	struct node *n;

	rcu_read_lock();
	n = rcu_dereference(head->next);
	rcu_read_unlock();
	if (!n)
		return 0;
	return n->val;					/* expect: rcu-use-after-unlock@warning */
}

/* the section is re-entered, but the object may have been freed in between */
static int node_next_relock(struct node *head)
{
	struct node *n;
	int v;

	rcu_read_lock();
	n = rcu_dereference(head->next);
	rcu_read_unlock();
	rcu_read_lock();
	v = n ? n->val : 0;				/* expect: rcu-use-after-unlock@warning */
	rcu_read_unlock();
	return v;
}

/* a tryget after the section ended is too late */
static struct node *node_lookup_late_get(int id)
{
	struct node *n;

	rcu_read_lock();
	n = idr_find(&node_idr, id);
	rcu_read_unlock();
	if (n && !refcount_inc_not_zero(&n->ref))	/* expect: rcu-use-after-unlock@warning */
		return NULL;
	return n;
}

/* lockless memcg shrink: a unit loaded from the RCU-protected info, used unlocked */
static unsigned long memcg_shrink_units(struct mem_cgroup *memcg, int nid, int index)
{
	struct shrinker_info *info;
	struct shrinker_info_unit *unit;
	unsigned long n = 0;

	rcu_read_lock();
	info = rcu_dereference(memcg->nodeinfo[nid]->shrinker_info);
	if (!info) {
		rcu_read_unlock();
		return 0;
	}
	unit = info->unit[index];
	rcu_read_unlock();
	n += unit->map[0];				/* expect: rcu-use-after-unlock@note */
	return n;
}

/* an RCU walk that drops the lock without pinning its cursor */
static int node_walk_sleepy(struct list_head *head)
{
	struct node *pos;
	int sum = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(pos, head, list) {	/* expect: rcu-use-after-unlock@warning */
		sum += pos->val;
		rcu_read_unlock();
		cond_resched();
		rcu_read_lock();
	}
	rcu_read_unlock();
	return sum;
}

/* the pointer is copied, and the copy used after the section */
static int node_copy_after(struct node *head)
{
	struct node *n, *m;

	rcu_read_lock();
	n = rcu_dereference(head->next);
	m = n;
	rcu_read_unlock();
	return m ? m->val : -1;				/* expect: rcu-use-after-unlock@warning */
}

/* used before the function takes it off the structure: until then another updater may
 * take it off and free it */
static void node_detach_next_late(struct node *head)
{
	struct node *n;

	rcu_read_lock();
	n = rcu_dereference(head->next);
	rcu_read_unlock();
	if (!n)
		return;
	n->val = 0;					/* expect: rcu-use-after-unlock@warning */
	RCU_INIT_POINTER(head->next, NULL);
	synchronize_rcu();
}

/* another node's pointer is cleared: this one is still the structure's */
static int node_detach_other(struct node *head, struct node *other)
{
	struct node *n;

	rcu_read_lock();
	n = rcu_dereference(head->next);
	rcu_read_unlock();
	if (!n)
		return 0;
	RCU_INIT_POINTER(other->next, NULL);
	synchronize_rcu();
	return n->val;					/* expect: rcu-use-after-unlock@warning */
}

/* ---- correct ----------------------------------------------------------------------- */

static spinlock_t node_lock;
void *idr_remove(struct idr *idr, unsigned long id);

/*
 * looked up under the lock that guards the idr, not in a read-side section, and taken
 * off it before the unlock: the lock, then the removal, keep it (no RCU pointer)
 */
static int node_take_locked(int id)
{
	struct node *n;

	spin_lock(&node_lock);
	n = idr_find(&node_idr, id);
	if (n)
		idr_remove(&node_idr, id);
	spin_unlock(&node_lock);
	if (!n)
		return -2;
	return n->val;
}

static int node_next_val_ok(struct node *head)
{
	struct node *n;
	int v = 0;

	rcu_read_lock();
	n = rcu_dereference(head->next);
	if (n)
		v = n->val;
	rcu_read_unlock();
	return v;
}

/* a reference taken inside the section keeps it alive afterwards */
static struct node *node_lookup_get(int id)
{
	struct node *n;

	rcu_read_lock();
	n = idr_find(&node_idr, id);
	if (n && !refcount_inc_not_zero(&n->ref))
		n = NULL;
	rcu_read_unlock();
	if (n)
		n->val++;
	return n;
}

/* the memcg tryget pattern */
static int memcg_id_get(unsigned short id)
{
	struct mem_cgroup *memcg;
	int kid;

	rcu_read_lock();
	memcg = mem_cgroup_from_id(id);
	if (!memcg || !css_tryget(&memcg->css)) {
		rcu_read_unlock();
		return -ENOENT;
	}
	rcu_read_unlock();
	kid = memcg->kmemcg_id;
	css_put(&memcg->css);
	return kid;
}

/* used after the section only for identity */
static bool node_is_first(struct node *head, struct node *candidate)
{
	struct node *n;

	rcu_read_lock();
	n = rcu_dereference(head->next);
	rcu_read_unlock();
	return n == candidate;
}

/* lockless global shrink (fixed): try_get pins the cursor across the unlocked window */
static unsigned long shrink_global_fixed(struct list_head *shrinkers,
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

/* a reference on the container reached from the cursor pins the cursor */
struct holder {
	struct mem_cgroup *memcg;
	struct list_head list;
};

static void holder_walk(struct list_head *head)
{
	struct holder *h;
	struct mem_cgroup *memcg;

	rcu_read_lock();
	list_for_each_entry_rcu(h, head, list) {
		memcg = h->memcg;
		if (!css_tryget(&memcg->css))
			continue;
		rcu_read_unlock();
		mem_cgroup_charge_one(memcg);
		rcu_read_lock();
		css_put(&memcg->css);
	}
	rcu_read_unlock();
}

/* reloaded in the new section before use */
static int node_reload_ok(struct node *head)
{
	struct node *n;
	int v = 0;

	rcu_read_lock();
	n = rcu_dereference(head->next);
	rcu_read_unlock();
	rcu_read_lock();
	n = rcu_dereference(head->next);
	if (n)
		v = n->val;
	rcu_read_unlock();
	return v;
}

/* the pointer read under RCU is taken off the structure after the section: from then
 * on it is the updater's, who waits for its readers before tearing it down */
static void node_detach_next(struct node *head)
{
	struct node *n;

	rcu_read_lock();
	n = rcu_dereference(head->next);
	rcu_read_unlock();
	if (!n)
		return;
	RCU_INIT_POINTER(head->next, NULL);
	synchronize_rcu();
	n->val = 0;
}

/* memcg switched off at boot is not analysed (workingset_test_recent() shape) */
static int memcg_id_switch(unsigned short id)
{
	struct mem_cgroup *memcg;
	int kid;

	rcu_read_lock();
	memcg = mem_cgroup_from_id(id);
	if (!mem_cgroup_disabled() && (!memcg || !css_tryget(&memcg->css))) {
		rcu_read_unlock();
		return -ENOENT;
	}
	rcu_read_unlock();
	kid = memcg ? memcg->kmemcg_id : 0;
	mem_cgroup_put(memcg);
	return kid;
}

/* ---- callees defined elsewhere, pid lookups ------------------------------------------ */

struct tsk {
	refcount_t usage;
	int cpu;
};

struct tsq {
	struct tsk __rcu *thread;
};

struct pid;
struct task_struct;
struct pid *find_vpid(int nr);
struct task_struct *find_task_by_vpid(int nr);
struct pid *get_pid(struct pid *pid);
void put_pid(struct pid *pid);
void get_task_struct(struct task_struct *t);
void put_task_struct(struct task_struct *t);
int task_may_access(struct task_struct *t, unsigned int mode);
int pid_session_of(struct pid *pid);
long tsk_cpu_usec(struct tsk *t);
void tsk_hold(struct tsk *t);
void tsk_release(struct tsk *t);
int tsk_log(const char *fmt, ...);

/* a callee in another file, given the pointer after the section: it uses it */
static long tsq_cpu_usec(struct tsq *sq)
{
	struct tsk *t;
	long usec = 0;

	rcu_read_lock();
	t = rcu_dereference(sq->thread);
	if (t) {
		rcu_read_unlock();
		usec = tsk_cpu_usec(t);			/* expect: rcu-use-after-unlock@warning */
	} else {
		rcu_read_unlock();
	}
	return usec;
}

/* a task found by pid is valid only inside the section */
static int task_check_access(int nr)
{
	struct task_struct *task;
	int ok;

	rcu_read_lock();
	task = find_task_by_vpid(nr);
	rcu_read_unlock();
	if (!task)
		return -1;
	ok = task_may_access(task, 1);		/* expect: rcu-use-after-unlock@warning */
	return ok;
}

/* correct: a reference taken before the unlock, by a get named so */
static long tsq_cpu_usec_held(struct tsq *sq)
{
	struct tsk *t;
	long usec = 0;

	rcu_read_lock();
	t = rcu_dereference(sq->thread);
	if (t) {
		tsk_hold(t);
		rcu_read_unlock();
		usec = tsk_cpu_usec(t) + t->cpu;
		tsk_release(t);
	} else {
		rcu_read_unlock();
	}
	return usec;
}

/* correct: the pointer's value printed through `...`, not used */
static void tsq_trace(struct tsq *sq)
{
	struct tsk *t;

	rcu_read_lock();
	t = rcu_dereference(sq->thread);
	rcu_read_unlock();
	tsk_log("thread %p\n", t);
}

/* correct: a task's last reference goes a grace period after it is unhashed, so a plain
 * get under RCU is safe; the task is used with that reference */
static int task_check_access_held(int nr)
{
	struct task_struct *task;
	int ok;

	rcu_read_lock();
	task = find_task_by_vpid(nr);
	if (!task) {
		rcu_read_unlock();
		return -1;
	}
	get_task_struct(task);
	rcu_read_unlock();
	ok = task_may_access(task, 1);
	put_task_struct(task);
	return ok;
}

/* correct: the callee is given the pointer inside the section */
static int pid_session_now(int nr)
{
	struct pid *pid;
	int s = 0;

	rcu_read_lock();
	pid = find_vpid(nr);
	if (pid)
		s = pid_session_of(pid);
	rcu_read_unlock();
	return s;
}

/* ---- accessors expanded inside a subsystem's own macros ------------------------------ */

struct tchain {
	struct tchain __rcu *next;
	int val;
};

#define tchain_for_each_rcu(c, head) \
	for (c = rcu_dereference(head); c; c = rcu_dereference((c)->next))

/* buggy: the subsystem's walk macro loads with rcu_dereference() all the same */
static int tchain_last_val(struct tchain __rcu *head)
{
	struct tchain *c, *last = NULL;

	rcu_read_lock();
	tchain_for_each_rcu(c, head)
		last = c;
	rcu_read_unlock();
	return last ? last->val : -1;			/* expect: rcu-use-after-unlock@warning */
}

struct tsq_holder {
	struct tsk *pinned;
};

/* correct: the thread's reference goes to a holder that keeps it alive */
static int tsq_thread_keep(struct tsq *sq, struct tsq_holder *h)
{
	struct tsk *t;

	rcu_read_lock();
	t = rcu_dereference(sq->thread);
	if (!t || !refcount_inc_not_zero(&t->usage)) {
		rcu_read_unlock();
		return -1;
	}
	h->pinned = t;
	rcu_read_unlock();
	return t->cpu;
}

/* buggy: a header inline's accessor returns a pointer valid only inside the section */
static int tslot_weight(struct tslot *s)
{
	struct tslot_item *it;

	rcu_read_lock();
	it = tslot_cur(s);
	rcu_read_unlock();
	return it ? it->weight : 0;			/* expect: rcu-use-after-unlock@warning */
}

/* correct: used inside the section */
static int tslot_weight_locked(struct tslot *s)
{
	struct tslot_item *it;
	int w;

	rcu_read_lock();
	it = tslot_cur(s);
	w = it ? it->weight : 0;
	rcu_read_unlock();
	return w;
}
