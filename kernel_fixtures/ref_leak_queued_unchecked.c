// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak at a hand-off that may not happen: queueing a work item keeps the
 * reference its submitter took only when it returns true; when the work was already
 * pending, its one run drops the one reference it already has.  Ignoring the result
 * leaks the new reference on that path.  Testing it, taking no reference of one's own,
 * or a hand-off that always keeps it, is correct.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/types.h>
#include <linux/slab.h>
#include <linux/refcount.h>
#include <linux/workqueue.h>

struct tnotify {
	struct kref kref;
	struct work_struct work;
	void (*release)(struct kref *kref);
};

struct tdesc {
	struct tnotify *notify;
	struct delayed_work poll;
	refcount_t users;
	int mask;
};

extern struct workqueue_struct *tnotify_wq;

static void tdesc_release(struct tdesc *d)
{
	kfree(d);
}

static void tdesc_put(struct tdesc *d)
{
	if (refcount_dec_and_test(&d->users))
		tdesc_release(d);
}

/* the work may be pending already: its run drops only the reference it has */
void tdesc_notify(struct tdesc *d, int mask)
{
	d->mask = mask;
	if (d->notify) {
		kref_get(&d->notify->kref);
		schedule_work(&d->notify->work);	/* expect: ref-leak@warning */
	}
}

/* the same, through a queue of one's own */
void tdesc_notify_wq(struct tdesc *d)
{
	refcount_inc(&d->users);
	queue_delayed_work(tnotify_wq, &d->poll, 1);	/* expect: ref-leak@warning */
}

/* the fix: when the work was already queued, drop the extra reference */
void tdesc_notify_checked(struct tdesc *d, int mask)
{
	d->mask = mask;
	if (d->notify) {
		kref_get(&d->notify->kref);
		if (!schedule_work(&d->notify->work))
			kref_put(&d->notify->kref, d->notify->release);
	}
}

/* the result kept and tested later */
void tdesc_notify_wq_checked(struct tdesc *d)
{
	bool queued;

	refcount_inc(&d->users);
	queued = queue_delayed_work(tnotify_wq, &d->poll, 1);
	if (!queued)
		tdesc_put(d);
}

/* no reference of its own goes with the work */
void tdesc_kick(struct tdesc *d)
{
	schedule_work(&d->notify->work);
}

/* a delayed work re-armed in either case keeps the reference */
void tdesc_rearm(struct tdesc *d)
{
	refcount_inc(&d->users);
	mod_delayed_work(tnotify_wq, &d->poll, 1);
}
