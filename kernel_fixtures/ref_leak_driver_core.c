// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak with the driver core's counted objects: kobject_get() and get_device()
 * return the object they were given with a reference taken.  Helpers built on them
 * (a getter that converts back to the container through _Generic, as
 * container_of_const() does) return references; a member's address given to them is
 * never NULL; a reference handed to work a callee queues is not returned to the caller;
 * a put that passes its argument to an ops pointer is still the put its name says.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/types.h>
#include <linux/refcount.h>

struct kobject {
	int refcount;
};

struct tdev;
struct tdev_ops {
	void (*put)(struct tdev *d);
	void (*put_fh)(struct tdev *d, void *fh);
};

struct tdev {
	struct kobject kobj;
	struct module *owner;
	const struct tdev_ops *ops;
	int id;
};

struct thandle {
	struct tdev *dev;
};

struct kobject *kobject_get(struct kobject *kobj);
void kobject_put(struct kobject *kobj);
int tdev_start(struct tdev *d);
bool tdev_schedule(void (*fn)(struct tdev *d), struct tdev *d);
void tdev_work(struct tdev *d);

#define tdev_of(k) _Generic(k,						\
	const struct kobject *: ((const struct tdev *)container_of(k, struct tdev, kobj)), \
	default: ((struct tdev *)container_of(k, struct tdev, kobj)))

/* the device back with a reference: only the selected association runs */
static struct tdev *tdev_get(struct tdev *d)
{
	return d ? tdev_of(kobject_get(&d->kobj)) : NULL;
}

/* a put through the object's own operations */
static void tdev_put(struct tdev *d)
{
	if (d)
		d->ops->put(d);
}

/* takes a reference for the work it queues: the work owns it once queued */
static bool tdev_queue(struct tdev *d)
{
	kobject_get(&d->kobj);
	if (tdev_schedule(tdev_work, d))
		return true;
	kobject_put(&d->kobj);
	return false;
}

/* ---- buggy ------------------------------------------------------------------------- */

/* the reference tdev_get() returns is never dropped */
int tdev_id(struct tdev *d)
{
	struct tdev *held = tdev_get(d);

	return held->id;				/* expect: ref-leak@warning */
}

/* ---- correct ----------------------------------------------------------------------- */

int tdev_id_put(struct tdev *d)
{
	struct tdev *held = tdev_get(d);
	int id = held->id;

	tdev_put(held);
	return id;
}

/* the get of a member's address cannot fail: its failure branch is never taken; both
 * references stay with the opened device */
int tdev_open(struct thandle *h)
{
	struct tdev *d = h->dev;
	int err;

	if (!try_module_get(d->owner))
		return -ENODEV;
	if (!kobject_get(&d->kobj)) {
		err = -ENODEV;
		goto put_module;
	}
	err = tdev_start(d);
	if (err) {
		kobject_put(&d->kobj);
put_module:
		module_put(d->owner);
	}
	return err;
}

/* queued or run here: either way nothing is left for this function to drop */
void tdev_kick(struct tdev *d)
{
	if (tdev_queue(d))
		return;
	tdev_work(d);
}

/* puts a filter handle through the device's operations, not the device */
static void tdev_fh_put(struct tdev *d, void *fh)
{
	if (d->ops->put_fh && fh)
		d->ops->put_fh(d, fh);
}

int tdev_id_fh(struct tdev *d, void *fh)
{
	struct tdev *held = tdev_get(d);
	int id;

	tdev_fh_put(held, fh);
	id = held->id;
	tdev_put(held);
	return id;
}
