// SPDX-License-Identifier: GPL-2.0
/*
 * A put of a parameter on the branch where a structure's field was found to hold the
 * same object drops the structure's reference, not the caller's: a device's routes each
 * hold the device, and flushing them puts the device once per route unlinked.  The
 * caller's device, looked up under the caller's lock with no reference, owes nothing,
 * and nothing says the lookup returns a reference.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/types.h>
#include <linux/slab.h>

struct tdev {
	int flags;
	int type;
};

struct troute {
	struct tdev *dev;
	int net;
	struct troute *next;
};

static struct troute *troutes;

void tdev_put(struct tdev *dev);
struct tdev *__tdev_get_by_name(const char *name);
int tdev_set_addr(struct tdev *dev, int net);

/* every route through the device goes, with the reference it held on it */
static void troute_device_down(struct tdev *dev)
{
	struct troute **r = &troutes;
	struct troute *tmp;

	while ((tmp = *r) != NULL) {
		if (tmp->dev == dev) {
			*r = tmp->next;
			tdev_put(dev);
			kfree(tmp);
		} else {
			r = &tmp->next;
		}
	}
}

/* correct: the device is borrowed (the caller's lock keeps it); no path owes a put */
int tif_ioctl(const char *name, int cmd, int net)
{
	struct tdev *dev;

	dev = __tdev_get_by_name(name);
	if (!dev)
		return -ENODEV;
	if (cmd == 1) {
		troute_device_down(dev);
		return 0;
	}
	if (cmd != 2)
		return -EINVAL;
	return tdev_set_addr(dev, net);
}
