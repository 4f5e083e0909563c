// SPDX-License-Identifier: GPL-2.0
/*
 * Calls cfg_hook() inside RCU: with hook_strong.c in the run the strong definition is
 * the one that runs (it does not sleep); with only hook_weak.c, the weak default does.
 */
#include "cfg.h"

int hook_user(struct tbl *t)
{
	int ret;

	rcu_read_lock();
	ret = cfg_hook(t);
	rcu_read_unlock();
	return ret;
}
