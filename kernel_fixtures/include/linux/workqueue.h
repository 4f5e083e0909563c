/* rcucheck stand-in for <linux/workqueue.h>: queueing that reports whether it queued. */
#ifndef _RCUCHECK_LINUX_WORKQUEUE_H
#define _RCUCHECK_LINUX_WORKQUEUE_H
#include <linux/types.h>
#include <linux/sched.h>

struct workqueue_struct;
struct delayed_work {
	struct work_struct work;
	unsigned long timer;
};

bool schedule_work(struct work_struct *work);
bool queue_work(struct workqueue_struct *wq, struct work_struct *work);
bool queue_delayed_work(struct workqueue_struct *wq, struct delayed_work *dwork,
			unsigned long delay);
bool mod_delayed_work(struct workqueue_struct *wq, struct delayed_work *dwork,
		      unsigned long delay);
#endif
