// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak on references handed back through an out parameter: `err = f(..., &obj)`
 * leaves a counted reference in `obj` when f succeeds, as a route or credential lookup
 * does.  The callee's body says so (it stores a reference into `*out` on its success
 * paths and none on its failure paths); the caller owns it from the success branch on.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/slab.h>
#include <linux/refcount.h>

struct tlink {
	refcount_t ref;
	int flags;
	int id;
};

struct tnet {
	struct tlink *links[16];
	struct tlink *active;
};

struct tholder {
	struct tlink *link;
};

static struct tlink *tlink_find(struct tnet *net, int id)
{
	struct tlink *l = net->links[id & 15];

	if (l)
		refcount_inc(&l->ref);
	return l;
}

static void tlink_put(struct tlink *l)
{
	if (refcount_dec_and_test(&l->ref))
		kfree(l);
}

/* 0 and a reference in *out, or -errno and nothing */
static int tlink_lookup(struct tnet *net, int id, struct tlink **out)
{
	struct tlink *l = tlink_find(net, id);

	if (!l)
		return -ENOENT;
	if (l->flags < 0) {
		tlink_put(l);
		return -EINVAL;
	}
	*out = l;
	return 0;
}

/* stores a reference or NULL, whatever happens */
static void tlink_pick(struct tnet *net, int id, struct tlink **out)
{
	*out = tlink_find(net, id);
}

/* the active link, borrowed: the caller takes no reference from it */
static int tlink_active(struct tnet *net, struct tlink **out)
{
	if (!net->active)
		return -ENODEV;
	*out = net->active;
	return 0;
}

/* ---- buggy ------------------------------------------------------------------------- */

static int tlink_set_flags(struct tnet *net, int id, int flags)
{
	struct tlink *l;
	int err;

	err = tlink_lookup(net, id, &l);
	if (err)
		return err;
	if (flags < 0)
		return -EINVAL;				/* expect: ref-leak@warning */
	l->flags = flags;
	tlink_put(l);
	return 0;
}

static int tlink_read_id(struct tnet *net, int id)
{
	struct tlink *l;
	int err;

	err = tlink_lookup(net, id, &l);
	if (err < 0)
		return err;
	return l->id;					/* expect: ref-leak@warning */
}

static int tlink_mark(struct tnet *net, int id)
{
	struct tlink *l;

	if (tlink_lookup(net, id, &l))
		return -ENOENT;
	l->flags |= 1;
	return 0;					/* expect: ref-leak@warning */
}

static int tlink_pick_flags(struct tnet *net, int id)
{
	struct tlink *l;

	tlink_pick(net, id, &l);
	if (!l)
		return -ENOENT;
	return l->flags;				/* expect: ref-leak@warning */
}

/* ---- correct ----------------------------------------------------------------------- */

static int tlink_get_flags(struct tnet *net, int id)
{
	struct tlink *l;
	int err, flags;

	err = tlink_lookup(net, id, &l);
	if (err)
		return err;
	flags = l->flags;
	tlink_put(l);
	return flags;
}

static int tlink_hold(struct tnet *net, struct tholder *h, int id)
{
	struct tlink *l;
	int err;

	err = tlink_lookup(net, id, &l);
	if (err < 0)
		return err;
	h->link = l;
	return 0;
}

static int tlink_touch(struct tnet *net, int id)
{
	struct tlink *l;

	if (tlink_lookup(net, id, &l) == 0) {
		l->flags++;
		tlink_put(l);
	}
	return 0;
}

static int tlink_pick_put(struct tnet *net, int id)
{
	struct tlink *l;
	int flags;

	tlink_pick(net, id, &l);
	if (!l)
		return -ENOENT;
	flags = l->flags;
	tlink_put(l);
	return flags;
}

static int tlink_active_flags(struct tnet *net)
{
	struct tlink *l;

	if (tlink_active(net, &l))
		return -ENODEV;
	return l->flags;
}

/* passes the lookup's reference on to its own caller */
static int tlink_lookup_checked(struct tnet *net, int id, struct tlink **out)
{
	int err = tlink_lookup(net, id, out);

	if (err)
		return err;
	return (*out)->id == id ? 0 : -ESTALE;
}

int tlink_users(struct tnet *net, struct tholder *h, int id)
{
	return tlink_set_flags(net, id, 0) + tlink_read_id(net, id) + tlink_mark(net, id) +
		tlink_pick_flags(net, id) + tlink_get_flags(net, id) + tlink_hold(net, h, id) +
		tlink_touch(net, id) + tlink_pick_put(net, id) + tlink_active_flags(net);
}

int tlink_users2(struct tnet *net, int id, struct tlink **out)
{
	return tlink_lookup_checked(net, id, out);
}

/* callee side: the function's own error returns release what it stored in *out */

/* buggy: the flags check returns with the reference still in *out */
int tlink_lookup_strict(struct tnet *net, int id, struct tlink **out)
{
	struct tlink *l = tlink_find(net, id);

	if (!l)
		return -ENOENT;
	*out = l;
	if (l->flags < 0)
		return -EINVAL;				/* expect: ref-leak@warning */
	if (l->id != id)
		goto fail;
	return 0;
fail:
	tlink_put(*out);
	*out = NULL;
	return -ESTALE;
}

/* correct: every error return after the store goes through the release */
int tlink_lookup_checked_id(struct tnet *net, int id, struct tlink **out)
{
	struct tlink *l = tlink_find(net, id);
	int err = -EINVAL;

	if (!l)
		return -ENOENT;
	*out = l;
	if (l->flags < 0)
		goto fail;
	err = -ESTALE;
	if (l->id != id)
		goto fail;
	return 0;
fail:
	tlink_put(*out);
	*out = NULL;
	return err;
}

/* correct: the existing link is handed back with -EBUSY on purpose; no error return
 * releases what was stored, so nothing says callers expect nothing there */
int tlink_insert(struct tnet *net, int id, struct tlink *new, struct tlink **found)
{
	struct tlink *l = tlink_find(net, id);

	if (l) {
		*found = l;
		return -EBUSY;
	}
	net->links[id & 15] = new;
	return 0;
}

/* correct: what was stored is tested; a NULL one holds nothing on the -EINVAL return,
 * and a link that fails the check is released before the error return */
int tlink_lookup_tested(struct tnet *net, int id, struct tlink **out)
{
	int ret;

	*out = tlink_find(net, id);
	if (*out) {
		if ((*out)->id == id)
			return 0;
		tlink_put(*out);
		ret = -ESTALE;
	} else {
		ret = -EINVAL;
	}
	return ret;
}
