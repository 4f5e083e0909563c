// SPDX-License-Identifier: GPL-2.0
/*
 * The followed-callee fixture's user, in another directory than the core: checked
 * alone, it sees what tnode_lookup(), tnode_release() and tnode_flush() do only by
 * following them into core.c.
 */
#include <linux/tnode.h>

/* BUG: the node's reference leaks when it is dead */
int tuser_value(struct tnode_tbl *tbl, int key, int *out)
{
	struct tnode *n = tnode_lookup(tbl, key);

	if (!n)
		return -ENOENT;
	if (n->flags & TNODE_DEAD)
		return -ESTALE;
	*out = n->val;
	tnode_release(n);
	return 0;
}

int tuser_value_fixed(struct tnode_tbl *tbl, int key, int *out)
{
	struct tnode *n = tnode_lookup(tbl, key);
	int err = 0;

	if (!n)
		return -ENOENT;
	if (n->flags & TNODE_DEAD) {
		err = -ESTALE;
		goto out;
	}
	*out = n->val;
out:
	tnode_release(n);
	return err;
}

/* BUG: the cached lookup's node is held on both of its paths */
int tuser_cached_flags(struct tnode_tbl *tbl, int key)
{
	struct tnode *n = tnode_lookup_cached(tbl, key);

	if (!n)
		return -ENOENT;
	if (n->flags & TNODE_DEAD)
		return -ESTALE;
	tnode_release(n);
	return 0;
}

/* BUG: tnode_flush() sleeps, inside the read-side section */
void tuser_sync(struct tnode_tbl *tbl)
{
	rcu_read_lock();
	tnode_flush(tbl);
	rcu_read_unlock();
}

void tuser_sync_fixed(struct tnode_tbl *tbl)
{
	tnode_flush(tbl);
}
