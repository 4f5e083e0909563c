// SPDX-License-Identifier: GPL-2.0
/*
 * Sections that follow a value: held exactly while a sequence count is even, a local
 * flag is set, a mode has one value.  The relation must be tracked, not assumed.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/seqlock.h>

struct node {
	struct node __rcu *parent;
	int len;
};

static seqlock_t node_lock;

int node_visit(struct node *n);
void node_update(int *flag);

/* ---- buggy ------------------------------------------------------------------------- */

/* the unlock tests the wrong parity: the lockless pass returns holding RCU */
static int node_path_wrong_parity(struct node *n)
{
	int seq = 0, len;

	rcu_read_lock();
restart:
	read_seqbegin_or_lock(&node_lock, &seq);
	len = node_visit(n);
	if (seq & 1)
		rcu_read_unlock();			/* expect: rcu-unbalanced@warning */
	if (need_seqretry(&node_lock, seq)) {
		seq = 1;
		goto restart;
	}
	done_seqretry(&node_lock, seq);
	return len;				/* expect: rcu-unbalanced@warning */
}

/* a flag that a callee may change no longer says whether the section is held */
static int node_flag_passed(struct node *n, bool fast)
{
	int locked = 0, len;

	if (fast) {
		rcu_read_lock();
		locked = 1;
	}
	node_update(&locked);
	len = node_visit(n);
	if (locked)
		rcu_read_unlock();			/* expect: rcu-unbalanced@warning */
	return len;				/* expect: rcu-unbalanced@warning */
}

/* the mode is tested, but not the one the lock was taken under */
static int node_mode_mismatch(struct node *n, int mode)
{
	int len;

	if (mode == 2)
		rcu_read_lock();
	len = node_visit(n);
	if (mode == 3)
		rcu_read_unlock();			/* expect: rcu-unbalanced@warning */
	return len;				/* expect: rcu-unbalanced@warning */
}

/* the retry loop relocks on the locking pass too */
static int node_path_relock(struct node *n)
{
	int seq = 0, len;

restart:
	rcu_read_lock();
	read_seqbegin_or_lock(&node_lock, &seq);
	len = node_visit(n);
	if (!(seq & 1))
		rcu_read_unlock();
	if (need_seqretry(&node_lock, seq)) {
		seq = 1;
		goto restart;
	}
	done_seqretry(&node_lock, seq);
	return len;				/* expect: rcu-unbalanced@warning */
}

/* the seq count is reset to odd before the lockless pass's unlock */
static int node_path_reset(struct node *n)
{
	int seq = 0, len;

	rcu_read_lock();
	read_seqbegin_or_lock(&node_lock, &seq);
	len = node_visit(n);
	seq = 1;
	if (!(seq & 1))
		rcu_read_unlock();
	done_seqretry(&node_lock, seq);
	return len;				/* expect: rcu-unbalanced@warning */
}

/* a counter decides the unlock, but it was changed in between */
static int node_count_changed(struct node *n)
{
	int depth = 0, len;

	rcu_read_lock();
	depth++;
	len = node_visit(n);
	depth += len;
	if (depth == 1)
		rcu_read_unlock();
	return len;				/* expect: rcu-unbalanced@warning */
}

/* ---- correct ----------------------------------------------------------------------- */

/* RCU on the lockless (even) pass only, the seqlock on the retry (prepend_path() shape) */
static int node_path_len(struct node *n)
{
	int seq = 0, len;

	rcu_read_lock();
restart:
	read_seqbegin_or_lock(&node_lock, &seq);
	len = node_visit(n);
	if (!(seq & 1))
		rcu_read_unlock();
	if (need_seqretry(&node_lock, seq)) {
		seq = 1;
		goto restart;
	}
	done_seqretry(&node_lock, seq);
	return len;
}

/* two nested retry loops, as d_path's mount and rename passes */
static int node_path_nested(struct node *n, struct node *m)
{
	int seq, m_seq = 0, len;

	rcu_read_lock();
restart_outer:
	read_seqbegin_or_lock(&node_lock, &m_seq);
	seq = 0;
	rcu_read_lock();
restart:
	read_seqbegin_or_lock(&node_lock, &seq);
	len = node_visit(n);
	if (!(seq & 1))
		rcu_read_unlock();
	if (need_seqretry(&node_lock, seq)) {
		seq = 1;
		goto restart;
	}
	done_seqretry(&node_lock, seq);
	if (!(m_seq & 1))
		rcu_read_unlock();
	if (need_seqretry(&node_lock, m_seq)) {
		m_seq = 1;
		goto restart_outer;
	}
	done_seqretry(&node_lock, m_seq);
	return len + node_visit(m);
}

/* a local flag set with the lock */
static int node_flag_local(struct node *n, bool fast)
{
	int locked = 0, len;

	if (fast) {
		rcu_read_lock();
		locked = 1;
	}
	len = node_visit(n);
	if (locked)
		rcu_read_unlock();
	return len;
}

/* the same mode value taken and released under */
static int node_mode(struct node *n, int mode)
{
	int len;

	if (mode == 2)
		rcu_read_lock();
	len = node_visit(n);
	if (mode == 2)
		rcu_read_unlock();
	return len;
}

/* a flag passed by value, not by address, stays what it was */
static int node_flag_by_value(struct node *n, bool fast)
{
	int locked = 0, len;

	if (fast) {
		rcu_read_lock();
		locked = 1;
	}
	node_update(&len);
	len = node_visit(n) + locked;
	if (locked)
		rcu_read_unlock();
	return len;
}

/* a parity tested through a copy */
static int node_path_copy(struct node *n)
{
	int seq = 0, lockless, len;

	rcu_read_lock();
	read_seqbegin_or_lock(&node_lock, &seq);
	lockless = !(seq & 1);
	len = node_visit(n);
	if (lockless)
		rcu_read_unlock();
	done_seqretry(&node_lock, seq);
	return len;
}
