// SPDX-License-Identifier: GPL-2.0
/*
 * The followed-callee fixture's core: a subsystem's lookups and release in a file of
 * their own.  Nothing but these bodies says that a lookup returns a counted node, that
 * tnode_release() drops one, or that tnode_flush() sleeps.
 */
#include <linux/tnode.h>

struct tnode *tnode_slow_path(struct tnode_tbl *tbl, int key);

static struct tnode *tnode_find(struct tnode_tbl *tbl, int key)
{
	return rcu_dereference(tbl->slot[key & 15]);
}

/* a held node, or NULL */
struct tnode *tnode_lookup(struct tnode_tbl *tbl, int key)
{
	struct tnode *n;

	rcu_read_lock();
	n = tnode_find(tbl, key);
	if (n && !refcount_inc_not_zero(&n->ref))
		n = NULL;
	rcu_read_unlock();
	return n;
}

/*
 * A held node from the table, or what the slow path returns (held as well, which only
 * its own file shows): the caller cannot tell the two apart, so it owns a reference.
 */
struct tnode *tnode_lookup_cached(struct tnode_tbl *tbl, int key)
{
	struct tnode *n;

	rcu_read_lock();
	n = tnode_find(tbl, key);
	if (n)
		refcount_inc(&n->ref);
	rcu_read_unlock();
	if (!n)
		n = tnode_slow_path(tbl, key);
	return n;
}

void tnode_release(struct tnode *n)
{
	if (refcount_dec_and_test(&n->ref))
		kfree(n);
}

void tnode_flush(struct tnode_tbl *tbl)
{
	mutex_lock(&tbl->lock);
	mutex_unlock(&tbl->lock);
}
