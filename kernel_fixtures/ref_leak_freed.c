// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak: an object freed holds no references any more.  The release function a
 * kref_put() names may also be called directly on a path where nobody else can have
 * the object (`treq_destroy(&rq->ref)` after a failed submit): it frees the object and
 * every reference the path held on it goes with it.  A path that returns without
 * freeing or putting still leaks.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rculist.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/slab.h>

struct tdev {
	spinlock_t lock;
	struct list_head pending;
};

struct treq {
	struct kref ref;
	struct list_head node;
	struct tdev *dev;
	void *buf;
};

int tdev_queue(struct tdev *dev, struct treq *rq);

/* what runs when the last reference on a request goes */
static void treq_destroy(struct kref *kref)
{
	struct treq *rq = container_of(kref, struct treq, ref);
	struct tdev *dev = rq->dev;

	spin_lock(&dev->lock);
	list_del_init(&rq->node);
	spin_unlock(&dev->lock);
	kfree(rq->buf);
	kfree(rq);
}

static void treq_put(struct treq *rq)
{
	kref_put(&rq->ref, treq_destroy);
}

static struct treq *treq_alloc(struct tdev *dev)
{
	struct treq *rq = kzalloc(sizeof(*rq), GFP_KERNEL);

	if (!rq)
		return NULL;
	kref_init(&rq->ref);
	rq->dev = dev;
	rq->buf = kmalloc(64, GFP_KERNEL);
	if (!rq->buf) {
		kfree(rq);
		return NULL;
	}
	return rq;
}

/*
 * A policy whose release, run by the last put, frees it after a grace period: called
 * directly on a policy nobody else has seen, it disposes of the reference as well.
 */
struct tpol {
	refcount_t refcnt;
	struct rcu_head rcu;
	int dead;
};

int tpol_check(struct tpol *p);
int tpol_insert(struct tpol *p);

static void tpol_free_rcu(struct rcu_head *head)
{
	kfree(container_of(head, struct tpol, rcu));
}

static void tpol_destroy(struct tpol *p)
{
	p->dead = 1;
	call_rcu(&p->rcu, tpol_free_rcu);
}

static void tpol_put(struct tpol *p)
{
	if (refcount_dec_and_test(&p->refcnt))
		tpol_destroy(p);
}

/* defined elsewhere: a new policy, its count at one */
struct tpol *tpol_alloc(void);

/* ---- correct ----------------------------------------------------------------------- */

/* a policy that fails its check was never inserted: destroyed directly */
int tpol_add(void)
{
	struct tpol *p = tpol_alloc();
	int err;

	if (!p)
		return -12;
	err = tpol_check(p);
	if (err)
		goto out;
	err = tpol_insert(p);
	if (err)
		goto out;
	tpol_put(p);
	return 0;
out:
	tpol_destroy(p);
	return err;
}

/* a failed submit: nobody else saw the request, so its release runs here directly and
 * takes both the caller's reference and the queue's */
struct treq *treq_submit(struct tdev *dev)
{
	struct treq *rq = treq_alloc(dev);

	if (!rq)
		return NULL;
	kref_get(&rq->ref);			/* the queue's */
	if (!tdev_queue(dev, rq))
		return rq;
	treq_destroy(&rq->ref);
	return NULL;
}

/* the request is freed outright when the device refuses it before anyone else has it */
struct treq *treq_try(struct tdev *dev)
{
	struct treq *rq = treq_alloc(dev);

	if (!rq)
		return NULL;
	kref_get(&rq->ref);
	if (tdev_queue(dev, rq)) {
		kfree(rq->buf);
		kfree(rq);
		return NULL;
	}
	treq_put(rq);
	return rq;
}

/* ---- buggy ------------------------------------------------------------------------- */

/* a device gone busy returns before the request is queued or freed: both references
 * stay with a request nobody can reach */
struct treq *treq_submit_leaky(struct tdev *dev, bool busy)
{
	struct treq *rq = treq_alloc(dev);

	if (!rq)
		return NULL;
	kref_get(&rq->ref);
	if (busy)
		return NULL;			/* expect: ref-leak@warning */
	if (!tdev_queue(dev, rq))
		return rq;
	treq_destroy(&rq->ref);
	return NULL;
}

/* a failed check returns without destroying the policy */
int tpol_add_leaky(void)
{
	struct tpol *p = tpol_alloc();
	int err;

	if (!p)
		return -12;
	err = tpol_check(p);
	if (err)
		return err;			/* expect: ref-leak@warning */
	err = tpol_insert(p);
	if (err)
		goto out;
	tpol_put(p);
	return 0;
out:
	tpol_destroy(p);
	return err;
}

/* the buffer is freed, not the request: the reference taken stays */
struct treq *treq_try_leaky(struct tdev *dev)
{
	struct treq *rq = treq_alloc(dev);

	if (!rq)
		return NULL;
	kref_get(&rq->ref);
	if (tdev_queue(dev, rq)) {
		kfree(rq->buf);
		return NULL;			/* expect: ref-leak@warning */
	}
	treq_put(rq);
	return rq;
}
