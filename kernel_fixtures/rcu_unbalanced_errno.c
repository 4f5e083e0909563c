// SPDX-License-Identifier: GPL-2.0
/*
 * rcu-unbalanced, lock helpers in the "0 and held, -errno and free" shape: a helper that
 * returns 0 holding the section and a negative errno (a constant, or PTR_ERR() of an
 * error pointer) without it, and callers that release it after a successful call; and
 * callers of such a helper defined in a file not analysed, named as taking a lock.  And
 * one that returns an id (>= 0) holding the section, a negative errno without it: its
 * callers test the sign.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/slab.h>

struct hpool {
	void *scratch;
	int users;
};

struct hash *hash_clone(struct hpool *p);
/* defined elsewhere: the names say which one takes the section */
int hpool_remote_start(struct hpool *p);
static void hpool_remote_end(struct hpool *p);
int hpool_prepare_remote(struct hpool *p);
int hpool_trylock(struct hpool *p);
int hpool_alloc_slot(struct hpool *p);

/* 0 holding RCU-bh, -errno without */
static int hpool_start(struct hpool *p)
{
	struct hash *h;

	rcu_read_lock_bh();
	if (!p->users) {
		rcu_read_unlock_bh();
		return -EINVAL;
	}
	h = hash_clone(p);
	if (IS_ERR(h)) {
		rcu_read_unlock_bh();
		return PTR_ERR(h);
	}
	return 0;
}

static void hpool_end(struct hpool *p)
{
	p->scratch = NULL;
	rcu_read_unlock_bh();
}

/* the new slot's id, held under RCU-bh for the caller to finish it; -errno without */
static int hpool_add(struct hpool *p)
{
	int id;

	if (p->users < 0)
		return -EINVAL;
	rcu_read_lock_bh();
	id = hpool_alloc_slot(p);
	if (id < 0) {
		rcu_read_unlock_bh();
		return id;
	}
	p->users++;
	return id;
}

/* ---- buggy ------------------------------------------------------------------------- */

/* releases what a failed hpool_add() never took */
static int hpool_add_twice(struct hpool *p)
{
	int id = hpool_add(p);

	if (id < 0) {
		rcu_read_unlock_bh();			/* expect: rcu-unbalanced@warning */
		return id;
	}
	hpool_end(p);
	return id;
}

/* forgets the release on success */
static int hpool_use_leaky(struct hpool *p)
{
	if (hpool_start(p))
		return -ENOMEM;
	p->users++;
	return 0;					/* expect: rcu-unbalanced@warning */
}

/* releases on the failure branch, where nothing was taken */
static int hpool_use_backwards(struct hpool *p)
{
	if (hpool_start(p)) {
		hpool_end(p);				/* expect: rcu-unbalanced@warning */
		return -ENOMEM;
	}
	return 0;					/* expect: rcu-unbalanced@warning */
}

/* the callee not analysed here is not named as taking a lock: nothing took it */
static void hpool_use_unnamed(struct hpool *p)
{
	if (hpool_prepare_remote(p))
		return;
	rcu_read_unlock_bh();				/* expect: rcu-unbalanced@warning */
}

/* another lock taken by a trylock not analysed here does not explain this unlock */
static void hpool_drain(struct hpool *p)
{
	if (!hpool_trylock(p))
		return;
	p->users = 0;
	rcu_read_unlock();				/* expect: rcu-unbalanced@warning */
}

/* ---- correct ----------------------------------------------------------------------- */

static int hpool_use(struct hpool *p)
{
	int err = hpool_start(p);

	if (err)
		return err;
	p->users++;
	hpool_end(p);
	return 0;
}

static int hpool_use_goto(struct hpool *p)
{
	if (hpool_start(p))
		goto out;
	p->users--;
	hpool_end(p);
out:
	return p->users;
}

/* an id, or the error with nothing held */
static int hpool_add_one(struct hpool *p)
{
	int id = hpool_add(p);

	if (id < 0)
		return id;
	p->scratch = NULL;
	hpool_end(p);
	return id;
}

/* a lock helper in a file not analysed here, and its partner, named as a pair */
static int hpool_use_remote(struct hpool *p)
{
	if (hpool_remote_start(p))
		return -ENOENT;
	p->users++;
	hpool_remote_end(p);
	return 0;
}

static void hpool_remote_end(struct hpool *p)
{
	p->users--;
	rcu_read_unlock_bh();
}

int hpool_ops(struct hpool *p)
{
	return hpool_use_leaky(p) + hpool_use_backwards(p) + hpool_use(p) +
	       hpool_use_goto(p) + hpool_use_remote(p) + (hpool_use_unnamed(p), 0) +
	       (hpool_drain(p), 0) + hpool_add_twice(p) + hpool_add_one(p);
}
