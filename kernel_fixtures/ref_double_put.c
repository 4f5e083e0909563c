// SPDX-License-Identifier: GPL-2.0
/*
 * ref-double-put: two puts for one get, or a put with no reference held.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/rculist.h>
#include <linux/memcontrol.h>
#include <linux/refcount.h>
#include <linux/shrinker.h>

struct entry {
	struct list_head list;
	struct entry __rcu *peer;
	struct kref kref;
	int state;
};

void entry_release(struct kref *kref);
int use_memcg(struct mem_cgroup *memcg);
static struct idr entry_idr;

static void entry_put(struct entry *e)
{
	kref_put(&e->kref, entry_release);
}

static void entry_get(struct entry *e)
{
	kref_get(&e->kref);
}

/* drops the reference the list held (audit_tree.c's prune_one() after list_del_init()) */
static void entry_unlink(struct entry *e)
{
	list_del_init(&e->list);
	entry_put(e);
}

/* drops a reference of its caller's */
static void entry_done(struct entry *e)
{
	e->state = 0;
	entry_put(e);
}

/* ---- buggy ------------------------------------------------------------------------- */


/* the success path falls through into the error label's put */
static int memcg_use_id(unsigned short id)
{
	struct mem_cgroup *memcg;
	int ret;

	rcu_read_lock();
	memcg = mem_cgroup_from_id(id);
	if (!memcg || !css_tryget(&memcg->css)) {
		rcu_read_unlock();
		return -ENOENT;
	}
	rcu_read_unlock();
	ret = use_memcg(memcg);
	css_put(&memcg->css);
	if (ret)
		goto err;
	return 0;
err:
	css_put(&memcg->css);				/* expect: ref-double-put@warning */
	return ret;
}

/* two puts in a row through different spellings, on the one path there is: a note
 * (ref-double-put.extra-put-on-every-path) */
static void memcg_drop_twice(struct mm_struct *mm)
{
	struct mem_cgroup *memcg = get_mem_cgroup_from_mm(mm);

	use_memcg(memcg);
	mem_cgroup_put(memcg);
	css_put(&memcg->css);				/* expect: ref-double-put@note */
}

/* a put on an object found under RCU, no reference taken */
static void entry_peer_drop(struct entry *e)
{
	struct entry *p;

	rcu_read_lock();
	p = rcu_dereference(e->peer);
	if (p)
		kref_put(&p->kref, entry_release);	/* expect: ref-double-put@warning */
	rcu_read_unlock();
}

/* a lookup result is put although only the lookup happened */
static void entry_forget(int id)
{
	struct entry *e;

	rcu_read_lock();
	e = idr_find(&entry_idr, id);
	if (e && e->state < 0)
		kref_put(&e->kref, entry_release);	/* expect: ref-double-put@warning */
	rcu_read_unlock();
}

/* the put in the loop and the put after it */
static int objcg_drain(struct mem_cgroup *memcg, int n)
{
	struct obj_cgroup *objcg;

	rcu_read_lock();
	objcg = rcu_dereference(memcg->objcg);
	if (!objcg || !obj_cgroup_tryget(objcg)) {
		rcu_read_unlock();
		return 0;
	}
	rcu_read_unlock();
	while (n-- > 0) {
		if (n == 3) {
			obj_cgroup_put(objcg);
			break;
		}
	}
	obj_cgroup_put(objcg);				/* expect: ref-double-put@warning */
	return n;
}

/* an alias makes the second put easy to miss (a note: every path makes it) */
static void css_drop_alias(struct mm_struct *mm)
{
	struct mem_cgroup *memcg = get_mem_cgroup_from_mm(mm);
	struct cgroup_subsys_state *css = &memcg->css;

	use_memcg(memcg);
	css_put(css);
	mem_cgroup_put(memcg);				/* expect: ref-double-put@note */
}

/* the memcg found again is dropped twice on the path where it is not the caller's */
static void memcg_retire_owner_twice(struct mem_cgroup *memcg, struct mm_struct *mm)
{
	struct mem_cgroup *cur = get_mem_cgroup_from_mm(mm);

	if (cur != memcg)
		mem_cgroup_put(cur);
	mem_cgroup_put(memcg);
	mem_cgroup_put(cur);			/* expect: ref-double-put@warning */
}

/* ---- correct ----------------------------------------------------------------------- */

/* pinned across a helper that drops a reference: which one, its name does not say (the
 * caller's, as here, or one the entry holds for a list or a queue) */
void entry_finish(struct entry *e, bool done)
{
	entry_get(e);
	if (done)
		entry_done(e);
	entry_put(e);
}

/* drops its argument only while the entry is not completed yet (a state of its own) */
static void entry_complete_put(struct entry *e)
{
	if (e->state == 3)
		return;
	e->state = 3;
	entry_put(e);
}

/* the helper drops the reference the queue held, when it still held one; the one
 * this function took is its own to drop */
void entry_settle(struct entry *e, bool queued)
{
	entry_get(e);
	if (queued)
		entry_complete_put(e);
	entry_put(e);
}

/* audit_trim_trees() shape: the list's reference goes with the unlink, this one after */
void entry_trim(struct entry *e)
{
	entry_get(e);
	entry_unlink(e);
	entry_put(e);
}

/* the caller's memcg loses the owner's reference; the mm's memcg, held by a reference
 * of its own, may be the same object: two puts of two of its references */
static void memcg_retire_owner(struct mem_cgroup *memcg, struct mm_struct *mm)
{
	struct mem_cgroup *cur = get_mem_cgroup_from_mm(mm);

	if (cur == memcg)
		use_memcg(cur);
	mem_cgroup_put(memcg);
	mem_cgroup_put(cur);
}

static int memcg_use_id_ok(unsigned short id)
{
	struct mem_cgroup *memcg;
	int ret;

	rcu_read_lock();
	memcg = mem_cgroup_from_id(id);
	if (!memcg || !css_tryget(&memcg->css)) {
		rcu_read_unlock();
		return -ENOENT;
	}
	rcu_read_unlock();
	ret = use_memcg(memcg);
	css_put(&memcg->css);
	return ret;
}

/* the caller's reference is dropped: it came in with the parameter */
static void memcg_consume(struct mem_cgroup *memcg)
{
	use_memcg(memcg);
	mem_cgroup_put(memcg);
}

/* two gets, two puts */
static void memcg_twice(struct mm_struct *mm)
{
	struct mem_cgroup *memcg = get_mem_cgroup_from_mm(mm);

	css_get(&memcg->css);
	use_memcg(memcg);
	css_put(&memcg->css);
	mem_cgroup_put(memcg);
}

/* put of a NULL after the previous iteration's put, as mem_cgroup_put() allows */
static void memcg_iter_put(struct mem_cgroup *root)
{
	struct mem_cgroup *memcg = NULL;
	int i;

	for (i = 0; i < 4; i++) {
		mem_cgroup_put(memcg);
		memcg = NULL;
		rcu_read_lock();
		memcg = mem_cgroup_from_id(i);
		if (memcg && !css_tryget(&memcg->css))
			memcg = NULL;
		rcu_read_unlock();
	}
	mem_cgroup_put(memcg);
}

/* tryget under RCU, put inside the section */
static void entry_peer_ok(struct entry *e)
{
	struct entry *p;

	rcu_read_lock();
	p = rcu_dereference(e->peer);
	if (p && kref_get_unless_zero(&p->kref))
		kref_put(&p->kref, entry_release);
	rcu_read_unlock();
}

/* each branch puts once */
static int memcg_branchy(struct mm_struct *mm, bool fast)
{
	struct mem_cgroup *memcg = get_mem_cgroup_from_mm(mm);
	int ret;

	if (fast) {
		ret = use_memcg(memcg);
		mem_cgroup_put(memcg);
	} else {
		ret = use_memcg(memcg) + 1;
		css_put(&memcg->css);
	}
	return ret;
}

/* unlinked from the list that held a reference: one put for the list, one for its own */
static void entry_retire(struct entry *e)
{
	entry_get(e);
	list_del_init(&e->list);
	entry_put(e);
	entry_put(e);
}

/* ---- correct: the extra put is the object's own reference, dropped on every path ----- */

struct entry_owner {
	struct entry *e;
	int busy;
};

void entry_quiesce(struct entry *e);

/* the owner's ->release(): pins the entry across the quiesce, then drops its pin and
 * the owner's reference for good, whatever the state was */
static void entry_owner_release(struct entry_owner *o)
{
	struct entry *e = o->e;

	if (!e)
		return;
	entry_get(e);
	if (o->busy)
		entry_quiesce(e);
	o->e = NULL;
	entry_put(e);
	entry_put(e);				/* expect: ref-double-put@note */
}

/* ---- a release named as a put, called where the last reference went ---------------- */

struct tavma {
	atomic_t refcount;
	struct tavma *root;
};

void tavma_free(struct tavma *av);
void tavma_lock_read(struct tavma *av);
void tavma_unlock_read(struct tavma *av);
bool tavma_moved(struct tavma *av);
struct tfolio;
struct tavma *tfolio_avma(struct tfolio *f);

/* the release: called once the count reached zero; drops the root's reference too */
void __put_tavma(struct tavma *av)
{
	struct tavma *root = av->root;

	tavma_free(av);
	if (root != av && atomic_dec_and_test(&root->refcount))
		tavma_free(root);
}

void put_tavma(struct tavma *av)
{
	if (atomic_dec_and_test(&av->refcount))
		__put_tavma(av);
}

/* correct: the last reference dropped by hand (the lock must go first), then the
 * release called directly */
struct tavma *tavma_lock_pinned(struct tfolio *f)
{
	struct tavma *av = tfolio_avma(f);

	if (!atomic_inc_not_zero(&av->refcount))
		return NULL;
	tavma_lock_read(av);
	if (atomic_dec_and_test(&av->refcount)) {
		tavma_unlock_read(av);
		__put_tavma(av);
		return NULL;
	}
	return av;
}

/* buggy: a put after the hand-made one dropped the last reference too */
void tavma_unpin_twice(struct tfolio *f)
{
	struct tavma *av = tfolio_avma(f);

	if (!atomic_inc_not_zero(&av->refcount))
		return;
	if (tavma_moved(av)) {
		atomic_dec_and_test(&av->refcount);
		put_tavma(av);				/* expect: ref-double-put@warning */
		return;
	}
	put_tavma(av);
}
