// SPDX-License-Identifier: GPL-2.0
/*
 * Two modules with the same non-exported global helper (dup_a.c, dup_b.c): both
 * definitions are analysed and each is reported in its own file.
 */
#include "cfg.h"

int cfg_peek(struct tbl *t)
{
	struct cfg *c;

	rcu_read_lock();
	c = rcu_dereference(t->cur);
	if (!c)
		return -ENOENT;				/* expect: rcu-unbalanced@warning */
	rcu_read_unlock();
	return 0;
}

int dup_a_user(struct tbl *t)
{
	return cfg_peek(t);
}
