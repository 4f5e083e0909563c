// SPDX-License-Identifier: GPL-2.0
/*
 * ref-double-put of an error pointer: a lookup that fails returns ERR_PTR(-E), which
 * holds no reference; a put at a common exit that is given it drops a reference never
 * taken, and dereferences the error value.  Puts accept NULL, so the usual fix sets
 * the variable to NULL on the error branch; a put whose body tests IS_ERR_OR_NULL()
 * itself takes either.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/types.h>
#include <linux/slab.h>
#include <linux/refcount.h>

struct tdir;
struct tdent {
	refcount_t ref;
	int flags;
};

struct tdent *tent_lookup(struct tdir *d, int id);
int tent_unlink(struct tdir *d, struct tdent *e);
void tent_put(struct tdent *e);
void tdir_warn(int err);

/* takes NULL and error pointers: it tests them itself */
static void tent_put_any(struct tdent *e)
{
	if (IS_ERR_OR_NULL(e))
		return;
	if (refcount_dec_and_test(&e->ref))
		kfree(e);
}

/* ---- buggy ------------------------------------------------------------------------- */

/* the failed lookup's error pointer reaches the common put */
int tdir_cleanup(struct tdir *d, int id)
{
	struct tdent *e;
	int err;

	e = tent_lookup(d, id);
	err = PTR_ERR(e);
	if (IS_ERR(e))
		tdir_warn(err);
	else
		err = tent_unlink(d, e);
	tent_put(e);				/* expect: ref-double-put@warning */
	return err;
}

/* ---- correct ----------------------------------------------------------------------- */

/* the error branch forgets the error pointer */
int tdir_cleanup_fixed(struct tdir *d, int id)
{
	struct tdent *e;
	int err;

	e = tent_lookup(d, id);
	err = PTR_ERR(e);
	if (IS_ERR(e)) {
		e = NULL;
		tdir_warn(err);
	} else {
		err = tent_unlink(d, e);
	}
	tent_put(e);
	return err;
}

/* a put that takes error pointers */
int tdir_cleanup_any(struct tdir *d, int id)
{
	struct tdent *e = tent_lookup(d, id);
	int err = 0;

	if (IS_ERR(e))
		err = PTR_ERR(e);
	tent_put_any(e);
	return err;
}

/* an error returned at once, the put only on the other path */
int tdir_unlink_one(struct tdir *d, int id)
{
	struct tdent *e = tent_lookup(d, id);
	int err;

	if (IS_ERR_OR_NULL(e))
		return e ? PTR_ERR(e) : -ENOENT;
	err = tent_unlink(d, e);
	tent_put(e);
	return err;
}

/* the common exit tests the pointer again: an error pointer never reaches the put, on
 * the first lookup or on one made after the previous entry was put */
int tdir_walk_chain(struct tdir *d, int id)
{
	struct tdent *e;
	int err = 0;

next:
	e = tent_lookup(d, id);
	if (IS_ERR(e)) {
		err = PTR_ERR(e);
		goto out;
	}
	if (e->flags > 0) {
		id = e->flags;
		tent_put(e);
		goto next;
	}
	err = tent_unlink(d, e);
out:
	if (!IS_ERR(e))
		tent_put(e);
	return err;
}
