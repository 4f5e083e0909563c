// SPDX-License-Identifier: GPL-2.0
/*
 * rcu-free-without-grace: objects unpublished from RCU readers and freed at once.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/rculist.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/refcount.h>

struct pool {
	struct list_head list;
	struct hlist_node hnode;
	struct rcu_head rcu;
	int id;
	atomic_t refs;
};

struct registry {
	struct pool __rcu *current;
	struct list_head pools;
	spinlock_t lock;
	struct kmem_cache *cache;
};

static struct kmem_cache *pool_cachep;
static struct kmem_cache *pool_stable_cachep;

static void pool_caches_init(void)
{
	pool_cachep = kmem_cache_create("pool", sizeof(struct pool), 0, SLAB_PANIC, NULL);
	pool_stable_cachep = kmem_cache_create("pool_stable", sizeof(struct pool), 0,
					       SLAB_HWCACHE_ALIGN | SLAB_TYPESAFE_BY_RCU, NULL);
}

static void pool_destroy(struct pool *p)
{
	kfree(p);
}

/* drops a reference: the object goes only with the last one */
static void pool_put(struct pool *p)
{
	if (atomic_dec_and_test(&p->refs))
		pool_destroy(p);
}

/* ---- buggy ------------------------------------------------------------------------- */

/* the last reference gone, but readers that found it on the list hold none */
static void pool_remove_counted(struct pool *p)
{
	list_del_rcu(&p->list);
	if (atomic_dec_and_test(&p->refs))
		kfree(p);				/* expect: rcu-free-without-grace@warning */
}

/* the list's reference dropped by a put whose release frees at once: the same bug */
static void pool_unlink(struct pool *p)
{
	list_del_rcu(&p->list);
	pool_put(p);				/* expect: rcu-free-without-grace@warning */
}

static void pool_remove(struct registry *r, struct pool *p)
{
	spin_lock(&r->lock);
	list_del_rcu(&p->list);
	spin_unlock(&r->lock);
	kfree(p);					/* expect: rcu-free-without-grace@warning */
}

static void pool_remove_hashed(struct pool *p)
{
	hlist_del_rcu(&p->hnode);
	kfree(p);					/* expect: rcu-free-without-grace@warning */
}

/* the old published pointer is replaced, then freed */
static int pool_switch(struct registry *r, struct pool *new)
{
	struct pool *old;

	spin_lock(&r->lock);
	old = rcu_dereference_protected(r->current, 1);
	rcu_assign_pointer(r->current, new);
	spin_unlock(&r->lock);
	kfree(old);					/* expect: rcu-free-without-grace@warning */
	return 0;
}

/* a slab object, freed back to its cache */
static void pool_remove_cached(struct registry *r, struct pool *p)
{
	list_del_rcu(&p->list);
	kmem_cache_free(r->cache, p);			/* expect: rcu-free-without-grace@warning */
}

/* the free hides in a helper */
static void pool_remove_helper(struct pool *p)
{
	list_del_rcu(&p->list);
	pool_destroy(p);				/* expect: rcu-free-without-grace@warning */
}

/* the grace period is waited for on one branch only */
static void pool_remove_maybe_sync(struct pool *p, bool sync)
{
	list_del_rcu(&p->list);
	if (sync)
		synchronize_rcu();
	kfree(p);					/* expect: rcu-free-without-grace@warning */
}

/* rcu_barrier() waits for queued callbacks, not for readers */
static void pool_remove_barrier(struct pool *p)
{
	list_del_rcu(&p->list);
	rcu_barrier();
	kfree(p);					/* expect: rcu-free-without-grace@warning */
}

/* the RCU callback called directly: it frees the pool container_of() finds */
static void pool_free_rcu(struct rcu_head *head)
{
	struct pool *p = container_of(head, struct pool, rcu);

	kfree(p);
}

static void pool_unhash(struct pool *p)
{
	hlist_del_rcu(&p->hnode);
}

static void pool_drop_now(struct pool *p)
{
	pool_unhash(p);
	pool_free_rcu(&p->rcu);				/* expect: rcu-free-without-grace@warning */
}

/* back to an ordinary cache: the memory may be reused for anything */
static void pool_remove_to_cache(struct pool *p)
{
	list_del_rcu(&p->list);
	kmem_cache_free(pool_cachep, p);		/* expect: rcu-free-without-grace@warning */
}

/* ---- correct ----------------------------------------------------------------------- */

/* a SLAB_TYPESAFE_BY_RCU cache: readers revalidate what they find (sighand shape) */
static void pool_remove_stable(struct pool *p)
{
	list_del_rcu(&p->list);
	kmem_cache_free(pool_stable_cachep, p);
}

/* the same callback, through call_rcu() */
static void pool_drop_later(struct pool *p)
{
	pool_unhash(p);
	call_rcu(&p->rcu, pool_free_rcu);
}

/* the callee unpublishes and waits for the readers itself (dev_remove_pack()'s shape) */
static void pool_unhash_sync(struct pool *p)
{
	hlist_del_rcu(&p->hnode);
	synchronize_rcu();
}

static void pool_drop_synced(struct pool *p)
{
	pool_unhash_sync(p);
	kfree(p);
}

/* never published: freed at once */
static void pool_discard_new(void)
{
	struct pool *p = kzalloc(sizeof(*p), GFP_KERNEL);

	if (p)
		pool_free_rcu(&p->rcu);
}

static void pool_remove_rcu(struct registry *r, struct pool *p)
{
	spin_lock(&r->lock);
	list_del_rcu(&p->list);
	spin_unlock(&r->lock);
	kfree_rcu(p, rcu);
}

static void pool_remove_sync(struct pool *p)
{
	list_del_rcu(&p->list);
	synchronize_rcu();
	kfree(p);
}

static void pool_free_cb(struct rcu_head *head)
{
	kfree(container_of(head, struct pool, rcu));
}

static void pool_remove_call_rcu(struct pool *p)
{
	hlist_del_rcu(&p->hnode);
	call_rcu(&p->rcu, pool_free_cb);
}

static int pool_switch_sync(struct registry *r, struct pool *new)
{
	struct pool *old;

	spin_lock(&r->lock);
	old = rcu_dereference_protected(r->current, 1);
	rcu_assign_pointer(r->current, new);
	spin_unlock(&r->lock);
	synchronize_rcu();
	kfree(old);
	return 0;
}

/* a plain list, never seen by RCU readers */
static void pool_remove_plain(struct pool *p)
{
	list_del(&p->list);
	kfree(p);
}

/* freeing a different object after the unpublish */
static void pool_remove_other(struct pool *p, struct pool *spare)
{
	list_del_rcu(&p->list);
	kfree(spare);
	kfree_rcu(p, rcu);
}


