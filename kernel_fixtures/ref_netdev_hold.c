// SPDX-License-Identifier: GPL-2.0
/*
 * Network devices count their references per CPU (`this_cpu_inc(*dev->pcpu_refcnt)`),
 * summed only when the device is unregistered: no dec-and-test in any body shows that
 * dev_hold() is a get, so the model says it.  A device held inside a read-side section
 * stays alive after it (unregistering waits for its count after a grace period), a
 * hold an error path forgets leaks, and a helper that stores the device in an object
 * it allocated, holds it for that object and drops that hold when the object's
 * constructor fails leaves its caller's reference alone.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/types.h>
#include <linux/slab.h>
#include <linux/rcupdate.h>

struct net_device {
	char name[16];
	int ifindex;
	int mtu;
};

typedef struct { int unused; } netdevice_tracker;

void dev_hold(struct net_device *dev);
void dev_put(struct net_device *dev);
void netdev_hold(struct net_device *dev, netdevice_tracker *tracker, gfp_t gfp);
void netdev_put(struct net_device *dev, netdevice_tracker *tracker);
int seq_printf(void *m, const char *fmt, ...);

struct tport {
	struct net_device __rcu *dev;
	int flags;
};

struct tproxy {
	struct net_device *dev;
	netdevice_tracker tracker;
	struct tproxy *next;
};

struct tproxy_table {
	int (*construct)(struct tproxy *p);
	struct tproxy *head;
};

struct tbinding {
	struct net_device *dev;
	int mtu;
};

int tbinding_setup(struct tbinding *b, int mtu);
int tbinding_start(struct tbinding *b);
struct net_device *tnet_find_dev(int ifindex);

/* a proxy entry holds the device it names; a failed constructor undoes both */
static struct tproxy *tproxy_create(struct tproxy_table *tbl, struct net_device *dev)
{
	struct tproxy *p;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return NULL;
	p->dev = dev;
	netdev_hold(dev, &p->tracker, GFP_KERNEL);
	if (tbl->construct && tbl->construct(p)) {
		netdev_put(dev, &p->tracker);
		kfree(p);
		return NULL;
	}
	p->next = tbl->head;
	tbl->head = p;
	return p;
}

/* ---- buggy ------------------------------------------------------------------------- */

/* the setup's failure returns with the device still held; the start's drops it */
int tbinding_attach(struct tbinding *b, struct net_device *dev, int mtu)
{
	int err;

	dev_hold(dev);
	err = tbinding_setup(b, mtu);
	if (err)
		return err;				/* expect: ref-leak@warning */
	err = tbinding_start(b);
	if (err) {
		dev_put(dev);
		return err;
	}
	b->dev = dev;
	return 0;
}

/* ---- correct ----------------------------------------------------------------------- */

/* held inside the section, used after it, then dropped */
void tport_show(void *m, struct tport *port)
{
	struct net_device *dev;

	rcu_read_lock();
	dev = rcu_dereference(port->dev);
	if (!dev) {
		rcu_read_unlock();
		return;
	}
	dev_hold(dev);
	rcu_read_unlock();

	seq_printf(m, "device mtu %d\n", dev->mtu);
	dev_put(dev);
}

int tbinding_attach_unwound(struct tbinding *b, struct net_device *dev, int mtu)
{
	int err;

	dev_hold(dev);
	err = tbinding_setup(b, mtu);
	if (err)
		goto err_put;
	err = tbinding_start(b);
	if (err)
		goto err_put;
	b->dev = dev;
	return 0;

err_put:
	dev_put(dev);
	return err;
}

/* the proxy's hold is the proxy's: the device the lookup lends is not released by it,
 * so the lookup's result is no reference this function owes a put */
int tproxy_add(struct tproxy_table *tbl, int ifindex, int flags)
{
	struct net_device *dev;

	dev = tnet_find_dev(ifindex);
	if (!dev)
		return -ENODEV;
	if (flags & 1)
		return -EINVAL;
	return tproxy_create(tbl, dev) ? 0 : -ENOMEM;
}
