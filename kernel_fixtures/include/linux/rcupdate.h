/* rcucheck stand-in for <linux/rcupdate.h>: same macro shapes as the real header. */
#ifndef _RCUCHECK_LINUX_RCUPDATE_H
#define _RCUCHECK_LINUX_RCUPDATE_H
#include <linux/types.h>
#include <linux/cleanup.h>

void __rcu_read_lock(void);
void __rcu_read_unlock(void);
static inline void rcu_read_lock(void) { __rcu_read_lock(); }
static inline void rcu_read_unlock(void) { __rcu_read_unlock(); }
void local_bh_disable(void);
void local_bh_enable(void);
static inline void rcu_read_lock_bh(void) { local_bh_disable(); }
static inline void rcu_read_unlock_bh(void) { local_bh_enable(); }
void preempt_count_add(int val);
void preempt_count_sub(int val);
#define preempt_disable() do { preempt_count_add(1); } while (0)
#define preempt_enable() do { preempt_count_sub(1); } while (0)
static inline void rcu_read_lock_sched(void) { preempt_disable(); }
static inline void rcu_read_unlock_sched(void) { preempt_enable(); }
int rcu_read_lock_held(void);
int rcu_read_lock_bh_held(void);
int rcu_read_lock_sched_held(void);

void synchronize_rcu(void);
void synchronize_rcu_expedited(void);
void rcu_barrier(void);
void call_rcu(struct rcu_head *head, rcu_callback_t func);
void kvfree_call_rcu(struct rcu_head *head, void *ptr);
#define kfree_rcu(ptr, rhf) kvfree_call_rcu(&((ptr)->rhf), (void *)(ptr))

#define RCU_LOCKDEP_WARN(c, s) do { } while (0 && (c))
#define __rcu_dereference_check(p, local, c) ({ \
	typeof(*p) *local = (typeof(*p) *__force)READ_ONCE(p); \
	RCU_LOCKDEP_WARN(!(c), "suspicious rcu_dereference_check() usage"); \
	((typeof(*p) __force __kernel *)(local)); })
#define __rcu_dereference_protected(p, local, c) ({ \
	RCU_LOCKDEP_WARN(!(c), "suspicious rcu_dereference_protected() usage"); \
	((typeof(*p) __force __kernel *)(p)); })
#define rcu_dereference_check(p, c) \
	__rcu_dereference_check((p), __UNIQUE_ID(rcu), (c) || rcu_read_lock_held())
#define rcu_dereference_bh_check(p, c) \
	__rcu_dereference_check((p), __UNIQUE_ID(rcu), (c) || rcu_read_lock_bh_held())
#define rcu_dereference_sched_check(p, c) \
	__rcu_dereference_check((p), __UNIQUE_ID(rcu), (c) || rcu_read_lock_sched_held())
#define rcu_dereference(p) rcu_dereference_check(p, 0)
#define rcu_dereference_bh(p) rcu_dereference_bh_check(p, 0)
#define rcu_dereference_sched(p) rcu_dereference_sched_check(p, 0)
#define rcu_dereference_raw(p) ({ typeof(p) __p = READ_ONCE(p); ((typeof(*p) __force *)(__p)); })
#define rcu_dereference_protected(p, c) __rcu_dereference_protected((p), __UNIQUE_ID(rcu), (c))
#define rcu_access_pointer(p) ({ typeof(*p) *__p = READ_ONCE(p); __p; })
#define rcu_assign_pointer(p, v) WRITE_ONCE(p, v)
#define RCU_INIT_POINTER(p, v) WRITE_ONCE(p, v)

DEFINE_LOCK_GUARD_0(rcu, rcu_read_lock(), rcu_read_unlock())
#endif
