/* rcucheck stand-in for <linux/srcu.h>. */
#ifndef _RCUCHECK_LINUX_SRCU_H
#define _RCUCHECK_LINUX_SRCU_H
#include <linux/rcupdate.h>

struct srcu_struct { int per_cpu_ref; };
int srcu_read_lock(struct srcu_struct *ssp);
void srcu_read_unlock(struct srcu_struct *ssp, int idx);
void synchronize_srcu(struct srcu_struct *ssp);
int srcu_read_lock_held(const struct srcu_struct *ssp);
#define srcu_dereference_check(p, ssp, c) \
	__rcu_dereference_check((p), __UNIQUE_ID(rcu), (c) || srcu_read_lock_held(ssp))
#define srcu_dereference(p, ssp) srcu_dereference_check((p), (ssp), 0)
#endif
