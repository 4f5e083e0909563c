// SPDX-License-Identifier: GPL-2.0
/*
 * ref-double-put after a hand-over: a reference stored where it outlives the function
 * (a field of a structure the caller passed in) belongs to that structure, whose
 * own release drops it.  Dropping it here as well, on a path that leaves the pointer
 * in place, puts it twice.  Clearing the field first, storing a reference of its own,
 * a structure on the stack, or one freed on that path hand nothing over.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/types.h>
#include <linux/slab.h>
#include <linux/refcount.h>
#include <linux/rculist.h>

struct tdent {
	refcount_t ref;
	unsigned int flags;
};

struct texp {
	refcount_t ref;
	unsigned int flags;
};

/* a request queued for completion, and the caller's note of which request is its own */
struct treq {
	refcount_t ref;
	struct list_head link;
};

struct tcb_arg {
	struct treq *req;
};

struct tqueue {
	struct list_head active;
};

struct treq *treq_alloc(struct tqueue *q);

static void treq_put(struct treq *r)
{
	if (refcount_dec_and_test(&r->ref))
		kfree(r);
}

/* a file handle: its release drops the dentry and the export it keeps */
struct tfh {
	struct tdent *dent;
	struct texp *exp;
	int maxsize;
	bool wcc;
};

#define TEXP_ROOT	0x1

static struct tdent *tdent_cur;

struct tdent *tdent_lookup(struct texp *exp, int id);

static struct texp *texp_table[16];

static struct texp *texp_find(int id)
{
	struct texp *e = texp_table[id & 15];

	if (e)
		refcount_inc(&e->ref);
	return e;
}

static struct tdent *tdent_get(struct tdent *d)
{
	refcount_inc(&d->ref);
	return d;
}

static void tdent_put(struct tdent *d)
{
	if (refcount_dec_and_test(&d->ref))
		kfree(d);
}

static void texp_put(struct texp *e)
{
	if (refcount_dec_and_test(&e->ref))
		kfree(e);
}

/* the handle keeps both before the checks; their error paths drop them again */
int tfh_verify_early(struct tfh *fh, int id)
{
	struct texp *exp = texp_find(id);
	struct tdent *d;

	if (!exp)
		return -ENOENT;
	d = tdent_lookup(exp, id);
	if (!d) {
		texp_put(exp);
		return -ENOENT;
	}
	fh->dent = d;
	fh->exp = exp;
	switch (fh->maxsize) {
	case 64:
		fh->wcc = true;
		if (exp->flags & TEXP_ROOT) {
			tdent_put(d);				/* expect: ref-double-put@warning */
			goto out;
		}
		break;
	default:
		break;
	}
	return 0;
out:
	texp_put(exp);						/* expect: ref-double-put@warning */
	return -EINVAL;
}

/* the fix: the handle keeps them only once every check has passed */
int tfh_verify(struct tfh *fh, int id)
{
	struct texp *exp = texp_find(id);
	struct tdent *d;

	if (!exp)
		return -ENOENT;
	d = tdent_lookup(exp, id);
	if (!d) {
		texp_put(exp);
		return -ENOENT;
	}
	switch (fh->maxsize) {
	case 64:
		fh->wcc = true;
		if (exp->flags & TEXP_ROOT) {
			tdent_put(d);
			goto out;
		}
		break;
	default:
		break;
	}
	fh->dent = d;
	fh->exp = exp;
	return 0;
out:
	texp_put(exp);
	return -EINVAL;
}

/*
 * A global is released by whatever tears the subsystem down, which an init that fails
 * never reaches: the dangling pointer is nobody's to put again.
 */
int tdent_init(struct texp *exp, int id)
{
	struct tdent *d = tdent_lookup(exp, id);

	if (!d)
		return -ENOENT;
	tdent_cur = d;
	if (d->flags & 1) {
		tdent_put(d);
		return -EBUSY;
	}
	return 0;
}

/* the field is cleared before the put: nothing is left behind */
int tfh_set_undo(struct tfh *fh, struct texp *exp, int id)
{
	struct tdent *d = tdent_lookup(exp, id);

	if (!d)
		return -ENOENT;
	fh->dent = d;
	if (d->flags & 1) {
		fh->dent = NULL;
		tdent_put(d);
		return -EBUSY;
	}
	return 0;
}

/* the handle gets a reference of its own; the lookup's is dropped */
int tfh_set_own(struct tfh *fh, struct texp *exp, int id)
{
	struct tdent *d = tdent_lookup(exp, id);

	if (!d)
		return -ENOENT;
	fh->dent = tdent_get(d);
	tdent_put(d);
	return 0;
}

/* a handle on the stack keeps nothing once the function returns */
int tfh_peek(struct texp *exp, int id)
{
	struct tfh fh = { .maxsize = 64 };
	struct tdent *d = tdent_lookup(exp, id);
	int flags;

	if (!d)
		return -ENOENT;
	fh.dent = d;
	flags = fh.dent->flags;
	tdent_put(d);
	return flags;
}

/* a handle this function made and frees on the failing path */
struct tfh *tfh_create(struct texp *exp, int id)
{
	struct tfh *fh = kzalloc(sizeof(*fh), GFP_KERNEL);
	struct tdent *d;

	if (!fh)
		return NULL;
	d = tdent_lookup(exp, id);
	if (!d) {
		kfree(fh);
		return NULL;
	}
	fh->dent = d;
	if (d->flags & 1) {
		tdent_put(d);
		kfree(fh);
		return NULL;
	}
	return fh;
}

/* replaced by another before the put: the field no longer points to it */
int tfh_retarget(struct tfh *fh, struct texp *exp, int id, struct tdent *other)
{
	struct tdent *d = tdent_lookup(exp, id);

	if (!d)
		return -ENOENT;
	fh->dent = d;
	if (d->flags & 1) {
		fh->dent = tdent_get(other);
		tdent_put(d);
		return -EBUSY;
	}
	return 0;
}

/* the request's reference goes to the active queue; the caller's note is a back-pointer */
int treq_submit(struct tqueue *q, struct tcb_arg *cb_arg, int len)
{
	struct treq *r = treq_alloc(q);

	if (!r)
		return -ENOMEM;
	cb_arg->req = r;
	if (len <= 0) {
		treq_put(r);
		return -EINVAL;
	}
	list_add_tail(&r->link, &q->active);
	return 0;
}
