// SPDX-License-Identifier: GPL-2.0
/* The second module's helper of the same name (see dup_a.c). */
#include "cfg.h"

int cfg_peek(struct tbl *t)
{
	int w = 0;

	rcu_read_lock();
	if (rcu_dereference(t->cur))
		mutex_lock(&t->lock);			/* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
	return w;
}
