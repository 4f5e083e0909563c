/* rcucheck stand-in for sleeping and locking primitives (<linux/sched.h>, mutex, spinlock). */
#ifndef _RCUCHECK_LINUX_SCHED_H
#define _RCUCHECK_LINUX_SCHED_H
#include <linux/types.h>
#include <linux/cleanup.h>

struct mutex { int owner; };
struct rw_semaphore { int count; };
typedef struct { int raw; } spinlock_t;
struct completion { int done; };
struct work_struct { int data; };

void mutex_lock(struct mutex *lock);
int mutex_trylock(struct mutex *lock);
void mutex_unlock(struct mutex *lock);
void down_read(struct rw_semaphore *sem);
int down_read_trylock(struct rw_semaphore *sem);
void up_read(struct rw_semaphore *sem);
void down_write(struct rw_semaphore *sem);
void up_write(struct rw_semaphore *sem);
void spin_lock(spinlock_t *lock);
void spin_unlock(spinlock_t *lock);
void might_sleep(void);
int _cond_resched(void);
#define cond_resched() _cond_resched()
void msleep(unsigned int msecs);
void schedule(void);
void wait_for_completion(struct completion *x);
bool flush_work(struct work_struct *work);
void lockdep_assert_held(void *lock);
#define lockdep_is_held(lock) ((void)(lock), 1)
DEFINE_LOCK_GUARD_1(mutex, struct mutex, mutex_lock(_T->lock), mutex_unlock(_T->lock))
#endif
