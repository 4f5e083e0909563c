// SPDX-License-Identifier: GPL-2.0
/*
 * A helper that returns an object with an SRCU section of it held, or NULL having
 * released it (`if (!r) srcu_read_unlock(...); return r;`), enters the section exactly
 * when it returns an object; its partner releases the caller's section on every path,
 * annotated or not.  Callers that test the result and call the partner are balanced.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/srcu.h>

struct tclient {
	struct srcu_struct barrier;
	struct tclient __rcu *self;
	int flags;
};

/* (sparse would say the same: the annotation promises the section on every return) */
static struct tclient *tclient_acquire(struct tclient *c, int *index)
	__acquires(c->barrier)
{
	struct tclient *r;

	*index = srcu_read_lock(&c->barrier);
	r = srcu_dereference(c->self, &c->barrier);
	if (!r)
		srcu_read_unlock(&c->barrier, *index);
	return r;					/* expect: rcu-unbalanced@warning */
}

static void tclient_release(struct tclient *c, int index)
{
	srcu_read_unlock(&c->barrier, index);
}

/* ---- buggy ------------------------------------------------------------------------- */

static int tclient_peek_flags(struct tclient *c)
{
	int idx;

	c = tclient_acquire(c, &idx);
	if (!c)
		return -ENODEV;
	return c->flags;				/* expect: rcu-unbalanced@warning */
}

/* ---- correct ----------------------------------------------------------------------- */

static int tclient_flags(struct tclient *c)
{
	int idx, flags;

	c = tclient_acquire(c, &idx);
	if (!c)
		return -ENODEV;
	flags = c->flags;
	tclient_release(c, idx);
	return flags;
}

/* gone already: wait for the readers; else unpublish, leave the section, then wait */
static void tclient_destroy(struct tclient *c)
{
	int i;

	if (!tclient_acquire(c, &i)) {
		synchronize_srcu(&c->barrier);
		return;
	}
	rcu_assign_pointer(c->self, NULL);
	tclient_release(c, i);
	synchronize_srcu(&c->barrier);
}

int tclient_users(struct tclient *c)
{
	tclient_destroy(c);
	return tclient_peek_flags(c) + tclient_flags(c);
}
