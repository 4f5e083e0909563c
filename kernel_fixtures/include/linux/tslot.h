/* rcucheck stand-in for a subsystem header whose inline accessor loads under RCU. */
#ifndef _RCUCHECK_LINUX_TSLOT_H
#define _RCUCHECK_LINUX_TSLOT_H
#include <linux/rcupdate.h>
#include <linux/rculist.h>

struct tslot_item { int weight; };
struct tslot { struct tslot_item __rcu *cur; };

static inline struct tslot_item *tslot_cur(struct tslot *s)
{
	return rcu_dereference(s->cur);
}

/* a subsystem's own walk: one call of the generic one */
#define tslot_for_each_rcu(pos, head) list_for_each_entry_rcu(pos, head, node)
#endif
