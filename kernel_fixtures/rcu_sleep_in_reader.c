// SPDX-License-Identifier: GPL-2.0
/*
 * rcu-sleep-in-reader: calls that may sleep inside an RCU read-side section.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/srcu.h>
#include <linux/rculist.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/memcontrol.h>

struct job {
	struct list_head node;
	struct job __rcu *next;
	struct mutex lock;
	struct completion done;
	struct work_struct work;
	int prio;
};

static struct srcu_struct job_srcu;

/* ---- buggy ------------------------------------------------------------------------- */

static int job_set_prio(struct job *head, int prio)
{
	struct job *j;

	rcu_read_lock();
	j = rcu_dereference(head->next);
	if (j) {
		mutex_lock(&j->lock);			/* expect: rcu-sleep-in-reader@warning */
		j->prio = prio;
		mutex_unlock(&j->lock);
	}
	rcu_read_unlock();
	return 0;
}

static void *job_clone(struct job *head)
{
	struct job *j, *copy = NULL;

	rcu_read_lock();
	j = rcu_dereference(head->next);
	if (j)
		copy = kmalloc(sizeof(*copy), GFP_KERNEL);	/* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
	return copy;
}

static void job_retire(struct job *head)
{
	rcu_read_lock();
	if (rcu_dereference(head->next))
		synchronize_rcu();			/* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
}

static int job_scan(struct list_head *jobs)
{
	struct job *j;
	int n = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(j, jobs, node) {
		n += j->prio;
		cond_resched();				/* expect: rcu-sleep-in-reader@warning */
	}
	rcu_read_unlock();
	return n;
}

static void job_wait(struct job *head)
{
	struct job *j;

	rcu_read_lock_bh();
	j = rcu_dereference_bh(head->next);
	if (j)
		wait_for_completion(&j->done);		/* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock_bh();
}

static void job_srcu_sync(struct job *head)
{
	int idx = srcu_read_lock(&job_srcu);

	if (srcu_dereference(head->next, &job_srcu))
		synchronize_srcu(&job_srcu);		/* expect: rcu-sleep-in-reader@warning */
	srcu_read_unlock(&job_srcu, idx);
}

/* waiting for an SRCU grace period sleeps: not inside an RCU reader */
static void job_srcu_sync_in_rcu(struct job *head)
{
	rcu_read_lock();
	if (rcu_dereference(head->next))
		synchronize_srcu(&job_srcu);		/* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
}

static int job_nested_alloc(struct job *head)
{
	void *buf;

	rcu_read_lock();
	rcu_read_lock();
	rcu_read_unlock();
	buf = kzalloc(64, GFP_KERNEL_ACCOUNT);		/* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
	kfree(buf);
	return 0;
}

static void job_guarded_flush(struct job *head)
{
	guard(rcu)();
	if (rcu_dereference(head->next))
		flush_work(&head->work);		/* expect: rcu-sleep-in-reader@warning */
}

/* a subsystem's own name for a blocking mask: only its value says it may sleep */
#define JOB_GFP		GFP_KERNEL

static void *job_clone_own_mask(struct job *head)
{
	void *copy;

	rcu_read_lock();
	copy = kmalloc(64, JOB_GFP);			/* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
	return copy;
}

/* a sleep four calls down, as two calls down: a warning */
static void job_lock_prio(struct job *j)
{
	mutex_lock(&j->lock);
	j->prio = 0;
	mutex_unlock(&j->lock);
}

static void job_reset_one(struct job *j)
{
	job_lock_prio(j);
}

static void job_reset_chain(struct job *j)
{
	job_reset_one(j);
}

static void job_reset_all(struct job *j)
{
	job_reset_chain(j);
}

static void job_deep_scan(struct job *head)
{
	rcu_read_lock();
	job_reset_all(rcu_dereference(head->next));	/* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
}

static void job_near_scan(struct job *head)
{
	rcu_read_lock();
	job_reset_one(rcu_dereference(head->next));	/* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
}

/* kvfree() sleeps only for vmalloc'ed memory: worth a look, not a verdict */
static void job_table_drop(void *table)
{
	kvfree(table);
}

static void job_table_swap(struct job *head, void *old)
{
	rcu_read_lock();
	if (rcu_dereference(head->next))
		job_table_drop(old);			/* expect: rcu-sleep-in-reader@note */
	kvfree(old);					/* expect: rcu-sleep-in-reader@note */
	rcu_read_unlock();
}

/* ---- correct ----------------------------------------------------------------------- */

/* an SRCU reader may sleep, and wait for another srcu_struct's readers */
static struct srcu_struct job_other_srcu;

static void job_srcu_sync_other(struct job *head)
{
	int idx = srcu_read_lock(&job_srcu);

	if (srcu_dereference(head->next, &job_srcu))
		synchronize_srcu(&job_other_srcu);
	srcu_read_unlock(&job_srcu, idx);
}

static void *job_clone_atomic(struct job *head)
{
	struct job *j, *copy = NULL;

	rcu_read_lock();
	j = rcu_dereference(head->next);
	if (j)
		copy = kmalloc(sizeof(*copy), GFP_NOWAIT | __GFP_NOWARN);
	rcu_read_unlock();
	return copy;
}

static void *job_clone_mask(struct job *head, gfp_t gfp)
{
	void *copy;

	rcu_read_lock();
	copy = kmalloc(64, gfp & ~__GFP_DIRECT_RECLAIM);
	rcu_read_unlock();
	return copy;
}

/* the name says GFP_KERNEL, the value has no direct-reclaim bit */
#define JOB_NORECLAIM(gfp)	((gfp) & ~___GFP_DIRECT_RECLAIM)

static void *job_clone_noreclaim(struct job *head)
{
	void *copy;

	rcu_read_lock();
	copy = kmalloc(64, JOB_NORECLAIM(GFP_KERNEL));
	rcu_read_unlock();
	return copy;
}

static int job_set_prio_after(struct job *head, int prio)
{
	struct job *j;

	rcu_read_lock();
	j = rcu_dereference(head->next);
	rcu_read_unlock();
	mutex_lock(&head->lock);
	head->prio = prio;
	mutex_unlock(&head->lock);
	return j != NULL;
}

/* SRCU readers may sleep */
static void job_srcu_sleep(struct job *head)
{
	int idx = srcu_read_lock(&job_srcu);

	if (srcu_dereference(head->next, &job_srcu))
		msleep(10);
	srcu_read_unlock(&job_srcu, idx);
}

static void job_retire_ok(struct job *head)
{
	struct job *j;

	rcu_read_lock();
	j = rcu_dereference(head->next);
	rcu_read_unlock();
	if (j)
		synchronize_rcu();
}

static int job_scan_resched(struct list_head *jobs)
{
	struct job *j;
	int n = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(j, jobs, node)
		n += j->prio;
	rcu_read_unlock();
	cond_resched();
	return n;
}

/* non-sleeping calls that are easy to mis-model */
static void job_put_inside(struct mem_cgroup *memcg, struct job *head)
{
	rcu_read_lock();
	if (rcu_dereference(head->next))
		css_put(&memcg->css);
	call_rcu(NULL, NULL);
	rcu_read_unlock();
}

static void job_guard_scope(struct job *head)
{
	{
		guard(rcu)();
		head->prio = rcu_dereference(head->next) != NULL;
	}
	mutex_lock(&head->lock);
	mutex_unlock(&head->lock);
}

/* releases the caller's section before it sleeps, and takes it again */
static void job_yield(struct job *head)
{
	rcu_read_unlock();
	msleep(1);
	rcu_read_lock();
}

static void job_walk_yielding(struct job *head)
{
	rcu_read_lock();
	job_yield(head);
	rcu_read_unlock();
}

/* a helper whose allocation sleeps as its caller's mask allows */
static struct job *job_copy(struct job *j, gfp_t gfp)
{
	struct job *copy = kmalloc(sizeof(*copy), gfp);

	if (copy)
		copy->prio = j->prio;
	return copy;
}

/* the same, two levels down, with flags of its own added to the caller's mask: the
 * mask still allows reclaim exactly when the caller's does */
static struct job *job_copy_quiet(struct job *j, gfp_t gfp)
{
	gfp |= __GFP_NOWARN;
	if (j->prio < 0)
		gfp &= ~__GFP_IO;
	return job_copy(j, gfp);
}

static struct job *job_copy_accounted(struct job *j, gfp_t gfp)
{
	return job_copy_quiet(j, gfp | __GFP_ACCOUNT);
}

/* correct: an atomic mask, whatever the helpers add to it */
static struct job *job_snapshot_quiet(struct job *head)
{
	struct job *j, *copy = NULL;

	rcu_read_lock();
	j = rcu_dereference(head->next);
	if (j)
		copy = job_copy_accounted(j, GFP_ATOMIC);
	rcu_read_unlock();
	return copy;
}

/* buggy: a mask that allows reclaim, through the same helpers */
static struct job *job_snapshot_quiet_kernel(struct job *head)
{
	struct job *j, *copy = NULL;

	rcu_read_lock();
	j = rcu_dereference(head->next);
	if (j)
		copy = job_copy_accounted(j, GFP_KERNEL);	/* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
	return copy;
}

/* a helper given the caller's mask, whose slow path yields the CPU when the mask allows
 * it: a test the analysis does not tie to the mask, but the gfp contract does */
static inline bool job_gfp_blocks(gfp_t gfp)
{
	return !!(gfp & __GFP_DIRECT_RECLAIM);
}

static struct job *job_copy_pooled(struct job *j, gfp_t gfp)
{
	if (job_gfp_blocks(gfp))
		cond_resched();
	return job_copy(j, gfp);
}

/* correct: an atomic mask */
static struct job *job_snapshot_pooled(struct job *head)
{
	struct job *j, *copy = NULL;

	rcu_read_lock();
	j = rcu_dereference(head->next);
	if (j)
		copy = job_copy_pooled(j, GFP_ATOMIC);
	rcu_read_unlock();
	return copy;
}

/* buggy: a mask that allows reclaim */
static struct job *job_snapshot_pooled_kernel(struct job *head)
{
	struct job *j, *copy = NULL;

	rcu_read_lock();
	j = rcu_dereference(head->next);
	if (j)
		copy = job_copy_pooled(j, GFP_KERNEL);		/* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
	return copy;
}

void job_free_deferred(struct job *j);

/**
 * job_release() - Drop a job.
 * @j: The job.
 *
 * A job whose buffers were mapped is freed from a work item.
 *
 * Context: May be called in process or interrupt context, and while holding a spinlock.
 */
static void job_release(struct job *j)
{
	if (j->prio < 0 || !job_gfp_blocks(GFP_KERNEL))
		job_free_deferred(j);
	else
		mutex_lock(&j->lock);
}

/**
 * job_drain() - Wait for a job's users.
 * @j: The job.
 *
 * Context: Process context.  May sleep.
 */
static void job_drain(struct job *j)
{
	mutex_lock(&j->lock);
}

/* correct: documented as callable from atomic context */
static void job_snapshot_release(struct job *head)
{
	struct job *j;

	rcu_read_lock();
	j = rcu_dereference(head->next);
	if (j)
		job_release(j);
	rcu_read_unlock();
}

/* buggy: documented as sleeping */
static void job_snapshot_drain(struct job *head)
{
	struct job *j;

	rcu_read_lock();
	j = rcu_dereference(head->next);
	if (j)
		job_drain(j);				/* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
}

/* buggy: GFP_KERNEL given to the helper inside the section */
static struct job *job_snapshot(struct job *head)
{
	struct job *j, *copy = NULL;

	rcu_read_lock();
	j = rcu_dereference(head->next);
	if (j)
		copy = job_copy(j, GFP_KERNEL);		/* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
	return copy;
}

/* correct: the same helper given an atomic mask */
static struct job *job_snapshot_atomic(struct job *head)
{
	struct job *j, *copy = NULL;

	rcu_read_lock();
	j = rcu_dereference(head->next);
	if (j)
		copy = job_copy(j, GFP_ATOMIC);
	rcu_read_unlock();
	return copy;
}

/* a slot still NULL: IS_ERR_OR_NULL() is true for it, so the wait runs in the reader */
void job_wait_slot(struct job *j)
{
	struct job *slot = NULL;

	rcu_read_lock();
	if (j->prio > 0)
		j->prio = 0;
	if (IS_ERR_OR_NULL(slot))
		msleep(1);			/* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
}

/* a mode chosen by `switch`: only the setup point allocates, with a mask that blocks */
enum job_point { JOB_POINT_SETUP = 1, JOB_POINT_RUN, JOB_POINT_DONE };

void job_note_point(struct job *j, int point);
void job_set_buffer(struct job *j, void *buf);

static void job_setup_buffers(struct job *j)
{
	job_set_buffer(j, kmalloc(64, GFP_KERNEL));
}

static void job_point(struct job *j, enum job_point point)
{
	switch (point) {
	case JOB_POINT_SETUP:
		job_setup_buffers(j);
		break;
	case JOB_POINT_RUN:
	case JOB_POINT_DONE:
		j->prio = 0;
		break;
	default:
		job_note_point(j, point);
		break;
	}
}

/* correct: the run point does not allocate */
void job_point_run(struct job *head)
{
	struct job *j;

	rcu_read_lock();
	j = rcu_dereference(head->next);
	if (j)
		job_point(j, JOB_POINT_RUN);
	rcu_read_unlock();
}

/* buggy: the setup point allocates inside the reader */
void job_point_setup(struct job *head)
{
	struct job *j;

	rcu_read_lock();
	j = rcu_dereference(head->next);
	if (j)
		job_point(j, JOB_POINT_SETUP);	/* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
}
