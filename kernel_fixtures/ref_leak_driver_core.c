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

/* the reference `kobj = kobject_get(kobj)` takes is still the kobject's: the early error
 * return skips its put */
int tkobj_set_id_leaky(struct kobject *kobj, int id)
{
	struct tdev *d = tdev_of(kobj);

	kobj = kobject_get(kobj);
	if (!kobj)
		return -EINVAL;
	if (id < 0)
		return -ENOENT;				/* expect: ref-leak@warning */
	d->id = id;
	kobject_put(kobj);
	return 0;
}

/* ---- correct ----------------------------------------------------------------------- */

/* `kobj = kobject_get(kobj)` keeps the object and its other name (`d`): the put through
 * `kobj` drops the reference */
int tkobj_set_id(struct kobject *kobj, int id)
{
	struct tdev *d = tdev_of(kobj);

	kobj = kobject_get(kobj);
	if (!kobj)
		return -EINVAL;
	d->id = id;
	kobject_put(kobj);
	return 0;
}

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

/* ---- a module reference is the module's, apart from the device's ------------------- */

struct tdev_table {
	struct tdev *slots[8];
	int users[8];
};

struct tdev *tdev_lookup(struct tdev_table *t, int minor);

/* the device's lookup reference and its driver's module reference: two counters,
 * each dropped on its own failure path; both stay with an open device */
int tdev_open_minor(struct tdev_table *t, int minor)
{
	struct tdev *d = tdev_lookup(t, minor);
	int err = 0;

	if (!d)
		return -ENODEV;
	if (t->users[minor] == 0) {
		if (!try_module_get(d->owner)) {
			err = -EBUSY;
			goto out;
		}
		err = tdev_start(d);
		if (err < 0) {
			module_put(d->owner);
			goto out;
		}
	}
	t->users[minor]++;
	t->slots[minor] = d;
	err = 0;
out:
	if (err)
		tdev_put(d);
	return err;
}

/* the module pinned while the table has entries: kept when the table is filled */
int tdev_table_fill(struct tdev_table *t, int minor, int n)
{
	struct tdev *d = tdev_lookup(t, minor);

	if (!d)
		return -ENODEV;
	if (n && !t->users[minor] && !try_module_get(d->owner)) {
		tdev_put(d);
		return -ENOENT;
	}
	t->users[minor] = n;
	tdev_put(d);
	return 0;
}

/* the module reference kept on an error return, dropped on the others */
int tdev_bind_minor(struct tdev_table *t, int minor, int flags)
{
	struct tdev *d = tdev_lookup(t, minor);
	int err;

	if (!d)
		return -ENODEV;
	if (!try_module_get(d->owner)) {
		tdev_put(d);
		return -EBUSY;
	}
	err = tdev_start(d);
	if (err < 0) {
		tdev_put(d);
		return err;				/* expect: ref-leak@warning */
	}
	module_put(d->owner);
	tdev_put(d);
	return 0;
}

static void tdev_release_module(struct tdev *d)
{
	module_put(d->owner);
}

/* the module reference dropped by a helper on the error path, here on the other */
int tdev_bind_helper(struct tdev *d)
{
	int err;

	if (!try_module_get(d->owner))
		return -EBUSY;
	err = tdev_start(d);
	if (err < 0) {
		tdev_release_module(d);
		return err;
	}
	tdev_work(d);
	module_put(d->owner);
	return 0;
}

/* ---- a lookup that returns ops with their module pinned ---------------------------- */

struct tcls_ops {
	const char *kind;
	struct module *owner;
	int (*create)(void);
	struct tcls_ops *next;
};

extern struct tcls_ops *tcls_base;
int strcmp(const char *a, const char *b);

static struct tcls_ops *tcls_lookup_ops(const char *kind)
{
	struct tcls_ops *t, *res = NULL;

	for (t = tcls_base; t; t = t->next) {
		if (strcmp(kind, t->kind) == 0) {
			if (try_module_get(t->owner))
				res = t;
			break;
		}
	}
	return res;
}

/* the ops' module stays pinned for the template it creates, or is released */
int tcls_template_add(const char *kind)
{
	struct tcls_ops *ops = tcls_lookup_ops(kind);

	if (!ops)
		return -ENOENT;
	if (!ops->create) {
		module_put(ops->owner);
		return -EINVAL;
	}
	if (ops->create() < 0) {
		module_put(ops->owner);
		return -ENOMEM;
	}
	return 0;
}

/* the unsupported case returns with the module pinned */
int tcls_template_check(const char *kind)
{
	struct tcls_ops *ops = tcls_lookup_ops(kind);

	if (!ops)
		return -ENOENT;
	if (!ops->create)
		return -EINVAL;			/* expect: ref-leak@warning */
	module_put(ops->owner);
	return 0;
}

/* each element's module is pinned while its name is compared, and dropped for the next
 * one; an element without a module takes nothing */
struct tcls_ops *tcls_find(const char *kind)
{
	struct tcls_ops *t;

	for (t = tcls_base; t; t = t->next) {
		if (t->owner && !try_module_get(t->owner))
			continue;
		if (strcmp(kind, t->kind) == 0)
			return t;
		module_put(t->owner);
	}
	return NULL;
}

/* the module stays pinned for the opened device; the refused open forgets the put that
 * the failed start makes */
int tdev_open_checked(struct tdev *d, int mode)
{
	int err;

	if (!try_module_get(d->owner))
		return -ENODEV;
	if (mode & 4)
		return -EBUSY;				/* expect: ref-leak@warning */
	err = tdev_start(d);
	if (err < 0)
		goto put_module;
	return 0;
put_module:
	module_put(d->owner);
	return err;
}
