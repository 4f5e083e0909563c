// SPDX-License-Identifier: GPL-2.0
/*
 * A reference tracker names who owns a reference: `netdev_hold(dev, &q->dev_tracker,
 * gfp)` takes a reference that `q` keeps, and `netdev_put(dev, &q->dev_tracker)` drops
 * that one (include/linux/netdevice.h; get_net_track()/put_net_track() alike).  A put
 * through a structure's tracker therefore says nothing of the caller's reference on
 * the device: a constructor that drops its new object's hold when it fails leaves the
 * caller's pointer as it was, borrowed or counted.  A tracker on the caller's stack
 * names the function itself, whose reference it then is.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/types.h>
#include <linux/slab.h>
#include <linux/rcupdate.h>

struct net;
struct net_device {
	char name[16];
	int ifindex;
};

typedef struct { int unused; } netdevice_tracker;

void netdev_hold(struct net_device *dev, netdevice_tracker *tracker, gfp_t gfp);
void netdev_put(struct net_device *dev, netdevice_tracker *tracker);
struct net_device *dev_get_by_index(struct net *net, int ifindex);
struct net_device *__dev_get_by_index(struct net *net, int ifindex);
struct net_device *netdev_get_by_index(struct net *net, int ifindex,
				       netdevice_tracker *tracker, gfp_t gfp);

struct qport_queue {
	struct net_device *dev;
};

struct qport {
	struct qport_queue *queue;
	netdevice_tracker dev_tracker;
	int handle;
};

int qport_init(struct qport *q, int handle);
int qport_register(struct qport *q);
void qport_destroy(struct qport *q);
int qport_probe(struct net_device *dev);

static inline struct net_device *qport_dev(const struct qport *q)
{
	return q->queue->dev;
}

/* the new port holds its queue's device, under the port's tracker */
static struct qport *qport_alloc(struct qport_queue *queue)
{
	struct qport *q;

	q = kzalloc(sizeof(*q), GFP_KERNEL);
	if (!q)
		return NULL;
	q->queue = queue;
	netdev_hold(qport_dev(q), &q->dev_tracker, GFP_KERNEL);
	return q;
}

/* a failed init drops the port's hold: the caller's `dev` is as it was */
static struct qport *qport_create(struct net_device *dev, struct qport_queue *queue,
				  int handle)
{
	struct qport *q;

	q = qport_alloc(queue);
	if (!q)
		return NULL;
	if (qport_init(q, handle)) {
		netdev_put(dev, &q->dev_tracker);
		kfree(q);
		return NULL;
	}
	return q;
}

/* the device is borrowed under the caller's RTNL: nothing to drop on any return */
int qport_add(struct net *net, struct qport_queue *queue, int ifindex, int handle)
{
	struct net_device *dev;
	struct qport *q;

	dev = __dev_get_by_index(net, ifindex);
	if (!dev)
		return -19;
	if (handle < 0)
		return -22;
	q = qport_create(dev, queue, handle);
	if (!q)
		return -12;
	if (qport_register(q)) {
		qport_destroy(q);
		return -16;
	}
	return 0;
}

/* a counted lookup stays the caller's to drop, whatever the port holds besides */
int qport_add_counted(struct net *net, struct qport_queue *queue, int ifindex)
{
	struct net_device *dev;
	struct qport *q;

	dev = dev_get_by_index(net, ifindex);
	if (!dev)
		return -19;
	q = qport_create(dev, queue, 0);
	if (!q)
		return -12;	/* expect: ref-leak@warning */
	netdev_put(dev, NULL);
	return 0;
}

/* a hold under the structure's tracker keeps the device alive past the section */
int qport_attach_rcu(struct net *net, struct qport *q, int ifindex)
{
	struct net_device *dev;
	int err;

	rcu_read_lock();
	dev = dev_get_by_index(net, ifindex);
	if (!dev) {
		rcu_read_unlock();
		return -19;
	}
	netdev_hold(dev, &q->dev_tracker, GFP_ATOMIC);
	netdev_put(dev, NULL);
	rcu_read_unlock();
	err = qport_probe(dev);
	if (err)
		netdev_put(dev, &q->dev_tracker);
	return err;
}

/* a tracker on the stack: the function's own reference, dropped on every return */
int qport_probe_index(struct net *net, int ifindex)
{
	netdevice_tracker tracker;
	struct net_device *dev;
	int err;

	dev = netdev_get_by_index(net, ifindex, &tracker, GFP_KERNEL);
	if (!dev)
		return -19;
	err = qport_probe(dev);
	if (err)
		return err;	/* expect: ref-leak@warning */
	netdev_put(dev, &tracker);
	return 0;
}
