// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak of a reference taken for a hand-off that did not happen: a work item or a
 * timer owns the reference its submitter took for it only if queueing it succeeded.
 * schedule_work() and queue_work() return false when the work was already pending,
 * whose run drops only the one reference it already has; mod_timer() returns 1 when
 * the timer was already pending.  A caller that sees the failure and keeps the
 * reference leaks it.  The object is often named only through a field of the caller's
 * structure (`&d->notify->kref`), whose path names it as well as a variable would.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/refcount.h>

struct work_struct {
	unsigned long data;
};

struct timer_list {
	unsigned long expires;
};

bool schedule_work(struct work_struct *work);
int mod_timer(struct timer_list *timer, unsigned long expires);

struct tnotify {
	struct kref kref;
	struct work_struct work;
	void (*release)(struct kref *kref);
};

struct tdesc {
	struct tnotify *notify;
	int missed;
	int mask;
};

struct tgroup {
	refcount_t ref;
	struct timer_list timer;
	struct work_struct work;
	int state;
};

void tgroup_put(struct tgroup *g);

/* ---- buggy ------------------------------------------------------------------------- */

/* the work was already queued: the reference taken for it stays behind */
int tdesc_set_mask(struct tdesc *d, int mask)
{
	d->mask = mask;
	if (d->notify) {
		kref_get(&d->notify->kref);
		if (!schedule_work(&d->notify->work))
			d->missed++;
	}
	return 0;					/* expect: ref-leak@warning */
}

/* the timer was pending: its callback drops only the reference it already has */
void tgroup_start_timer(struct tgroup *g, unsigned long t)
{
	refcount_inc(&g->ref);
	if (mod_timer(&g->timer, t))
		g->state = 1;
}						/* expect: ref-leak@warning */

/* the same, with the result kept in a variable first */
void tgroup_kick(struct tgroup *g)
{
	bool queued;

	refcount_inc(&g->ref);
	queued = schedule_work(&g->work);
	if (!queued)
		g->state = 2;
}						/* expect: ref-leak@warning */

/* ---- correct ----------------------------------------------------------------------- */

/* the failed queueing gives the reference back and the function drops it */
int tdesc_set_mask_fixed(struct tdesc *d, int mask)
{
	d->mask = mask;
	if (d->notify) {
		kref_get(&d->notify->kref);
		if (!schedule_work(&d->notify->work))
			kref_put(&d->notify->kref, d->notify->release);
	}
	return 0;
}

/* the same, naming the object through a local */
int tdesc_set_mask_local(struct tdesc *d, int mask)
{
	struct tnotify *n = d->notify;

	d->mask = mask;
	if (n) {
		kref_get(&n->kref);
		if (!schedule_work(&n->work))
			kref_put(&n->kref, n->release);
	}
	return 0;
}

/* the result is not looked at: where the work was pending, the reference leaks */
void tdesc_kick(struct tdesc *d)
{
	kref_get(&d->notify->kref);
	schedule_work(&d->notify->work);		/* expect: ref-leak@warning */
}

/* the pending timer's reference is dropped, as the kernel's timers do */
void tgroup_start_timer_fixed(struct tgroup *g, unsigned long t)
{
	refcount_inc(&g->ref);
	if (mod_timer(&g->timer, t))
		tgroup_put(g);
}

/* a reference the caller gave: queueing it or not is the caller's business */
void tdesc_requeue(struct tnotify *n)
{
	if (!schedule_work(&n->work))
		n->release(&n->kref);
}
