/* rcucheck stand-in for <linux/seqlock.h>: lockless-or-locking sequence readers. */
#ifndef _RCUCHECK_LINUX_SEQLOCK_H
#define _RCUCHECK_LINUX_SEQLOCK_H
#include <linux/types.h>
#include <linux/sched.h>

typedef struct { unsigned int sequence; spinlock_t lock; } seqlock_t;

unsigned int read_seqbegin(const seqlock_t *sl);
int read_seqretry(const seqlock_t *sl, unsigned int start);
void read_seqlock_excl(seqlock_t *sl);
void read_sequnlock_excl(seqlock_t *sl);

/* an even *seq reads locklessly (and stays even), an odd one takes the lock */
static inline void read_seqbegin_or_lock(seqlock_t *lock, int *seq)
{
	if (!(*seq & 1))
		*seq = read_seqbegin(lock);
	else
		read_seqlock_excl(lock);
}

static inline int need_seqretry(seqlock_t *lock, int seq)
{
	return !(seq & 1) && read_seqretry(lock, seq);
}

static inline void done_seqretry(seqlock_t *lock, int seq)
{
	if (seq & 1)
		read_sequnlock_excl(lock);
}
#endif
