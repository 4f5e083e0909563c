// SPDX-License-Identifier: GPL-2.0
/*
 * Puts whose bodies count with an API the model does not know (a lock and a count in
 * one word, as dput()'s lockref): the body shows no put, which says nothing against
 * the name.  `tdent_put()` is still a put of its one argument, so an error pointer
 * given to it is reported, and so is a lookup's reference a path forgets to put.  A
 * put-named helper whose body puts what a field of its argument holds (on some paths)
 * is no put of the argument itself.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/types.h>
#include <linux/slab.h>
#include <linux/refcount.h>

struct tlockref {
	int count;
};

struct tdent {
	struct tlockref lockref;
	int flags;
	char *name;
};

struct tdir;

/* defined in other files */
int tlockref_put_return(struct tlockref *l);
struct tdent *tdent_lookup(struct tdir *dir, int id);
int tdent_unlink(struct tdir *dir, struct tdent *d);

static bool tdent_fast_put(struct tdent *d)
{
	int ret = tlockref_put_return(&d->lockref);

	return ret > 0;
}

static void tdent_finish(struct tdent *d)
{
	d->flags = 0;
}

void tdent_put(struct tdent *d)
{
	if (!d)
		return;
	if (tdent_fast_put(d))
		return;
	tdent_finish(d);
}

struct treq {
	struct kref ref;
	struct tdent *dent;
	int flags;
};

void treq_release(struct kref *kref);
void treq_resend(struct treq *rq);

static struct treq *treq_lookup(struct treq **table, int id)
{
	struct treq *rq = table[id];

	if (rq)
		kref_get(&rq->ref);
	return rq;
}

static void treq_put(struct treq *rq)
{
	kref_put(&rq->ref, treq_release);
}

/* drops the entry a request holds, if any: the request itself is not put */
static void put_request_dent(struct treq *rq)
{
	if (rq->dent) {
		tdent_put(rq->dent);
		rq->dent = NULL;
	}
}

/* ---- buggy ------------------------------------------------------------------------- */

/* the failed lookup's error pointer reaches the put at the common exit */
int tdir_clean(struct tdir *dir, int id)
{
	struct tdent *d = tdent_lookup(dir, id);
	int err = PTR_ERR(d);

	if (!IS_ERR(d))
		err = tdent_unlink(dir, d);
	tdent_put(d);				/* expect: ref-double-put@warning */
	return err;
}

/* the busy entry keeps the lookup's reference */
int tdir_check(struct tdir *dir, int id)
{
	struct tdent *d = tdent_lookup(dir, id);

	if (IS_ERR(d))
		return PTR_ERR(d);
	if (d->flags)
		return -EBUSY;				/* expect: ref-leak@warning */
	tdent_put(d);
	return 0;
}

/* ---- correct ----------------------------------------------------------------------- */

int tdir_clean_ok(struct tdir *dir, int id)
{
	struct tdent *d = tdent_lookup(dir, id);
	int err;

	if (IS_ERR(d))
		return PTR_ERR(d);
	err = tdent_unlink(dir, d);
	tdent_put(d);
	return err;
}

int tdir_check_ok(struct tdir *dir, int id)
{
	struct tdent *d = tdent_lookup(dir, id);
	int err = 0;

	if (IS_ERR(d))
		return PTR_ERR(d);
	if (d->flags)
		err = -EBUSY;
	tdent_put(d);
	return err;
}

/* the request keeps its own reference across the entry's put */
void treq_forward(struct treq **table, int id)
{
	struct treq *rq = treq_lookup(table, id);

	if (!rq)
		return;
	put_request_dent(rq);
	treq_resend(rq);
	treq_put(rq);
}
