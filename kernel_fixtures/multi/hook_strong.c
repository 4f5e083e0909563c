// SPDX-License-Identifier: GPL-2.0
/* The strong definition of cfg_hook(): it only reads under the caller's section. */
#include "cfg.h"

int cfg_hook(struct tbl *t)
{
	return rcu_dereference(t->cur) != NULL;
}
