// SPDX-License-Identifier: GPL-2.0
/*
 * rcu-deref-unprotected at a call whose caller has no analysed caller: when other
 * functions take the read-side section around their own calls of the same helper,
 * that is the helper's convention, and a function that calls it bare breaks it.  With
 * no such sibling (or for an accessor that hands the pointer back) the finding can
 * only say what every caller must do, as a note.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/rculist.h>
#include <linux/slab.h>

struct tgroup {
	int id;
	long nr;
};

/* an object tagged with the group it is charged to, which a move may replace */
struct tobj {
	struct tgroup __rcu *group;
	int size;
};

struct tlru {
	struct list_head head;
	long nr;
};

struct tcfg {
	struct tgroup __rcu *dflt;
};

/* the group an object is charged to: only stable inside a reader's section */
static struct tgroup *tobj_group(struct tobj *o)
{
	return rcu_dereference(o->group);
}

static bool tlru_link(struct tlru *l, struct tobj *o, struct tgroup *g)
{
	if (g)
		g->nr++;
	l->nr++;
	return true;
}

static bool tlru_unlink(struct tlru *l, struct tobj *o, struct tgroup *g)
{
	if (g)
		g->nr--;
	l->nr--;
	return true;
}

bool tlru_add_obj(struct tlru *l, struct tobj *o)
{
	bool ret;

	rcu_read_lock();
	ret = tlru_link(l, o, tobj_group(o));
	rcu_read_unlock();
	return ret;
}

/* the sibling above takes the section around the same helper; this one does not */
bool tlru_del_obj(struct tlru *l, struct tobj *o)
{
	return tlru_unlink(l, o, tobj_group(o));	/* expect: rcu-deref-unprotected@warning */
}

/* an accessor hands the pointer back: its callers must hold the section */
struct tgroup *tobj_group_of(struct tobj *o)
{
	return tobj_group(o);			/* expect: rcu-deref-unprotected@note */
}

/* named to run inside its caller's section: its callers hold the lock */
long tlru_unlink_obj_rcu(struct tlru *l, struct tobj *o)
{
	tlru_unlink(l, o, tobj_group(o));	/* expect: rcu-deref-unprotected@note */
	return l->nr;
}

/* a handler the core calls through a table, inside the section it holds for it */
static long tlru_drop_handler(struct tlru *l, struct tobj *o)
{
	tlru_unlink(l, o, tobj_group(o));	/* expect: rcu-deref-unprotected@note */
	return l->nr;
}

struct tlru_ops {
	long (*drop)(struct tlru *l, struct tobj *o);
};

const struct tlru_ops tlru_default_ops = {
	.drop = tlru_drop_handler,
};

/* a helper nobody here wraps: what its callers must do is all that can be said */
static struct tgroup *tcfg_default(struct tcfg *c)
{
	return rcu_dereference(c->dflt);
}

int tcfg_default_id(struct tcfg *c)
{
	struct tgroup *g = tcfg_default(c);	/* expect: rcu-deref-unprotected@note */

	return g ? g->id : -1;
}
