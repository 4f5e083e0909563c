// SPDX-License-Identifier: GPL-2.0
/*
 * A helper that takes a reference on its parameter for a request it builds
 * (`req->node = tnode_tryget(node)`), and drops that one when it cannot send the
 * request, puts what it took itself: its caller's pointer is as it was, borrowed or
 * counted.  A caller that found the node by a plain lookup owes nothing on any return,
 * and one that holds a reference of its own still owes it.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/types.h>
#include <linux/slab.h>
#include <linux/refcount.h>

struct tnode {
	struct kref kref;
	int did;
	struct tnode *next;
};

struct treq {
	struct tnode *node;
	int cmd;
};

struct tport {
	struct tnode *nodes;
};

void tnode_release(struct kref *kref);
int treq_issue(struct treq *req);
void treq_release(struct treq *req);

/* a tryget: the node, with a reference, or NULL when it is going away */
static struct tnode *tnode_tryget(struct tnode *node)
{
	if (!kref_get_unless_zero(&node->kref))
		return NULL;
	return node;
}

static void tnode_put(struct tnode *node)
{
	kref_put(&node->kref, tnode_release);
}

static struct tnode *tnode_get(struct tnode *node)
{
	kref_get(&node->kref);
	return node;
}

/* a plain lookup (the port's list keeps the nodes), defined elsewhere */
struct tnode *tport_find(struct tport *port, int did);

/* the request holds the node until it completes; a request not sent drops that hold */
static int treq_send(struct tnode *node, int cmd)
{
	struct treq *req;

	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -12;
	req->cmd = cmd;
	req->node = tnode_tryget(node);
	if (!req->node)
		goto out;
	if (treq_issue(req) == -5) {
		tnode_put(node);
		goto out;
	}
	return 0;
out:
	treq_release(req);
	return 1;
}

/* the same with a plain get stored in the request */
static int treq_send_held(struct tnode *node, int cmd)
{
	struct treq *req;

	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -12;
	req->cmd = cmd;
	req->node = tnode_get(node);
	if (treq_issue(req)) {
		tnode_put(node);
		kfree(req);
		return -5;
	}
	return 0;
}

/* found by a plain lookup: nothing to drop on any return */
int tport_ping(struct tport *port, int did)
{
	struct tnode *n;
	int err;

	n = tport_find(port, did);
	if (!n)
		return -19;
	err = treq_send(n, 1);
	if (err)
		return err;
	return treq_send_held(n, 2);
}

/* a reference of the caller's own: still owed where the request fails */
int tport_ping_held(struct tnode *node)
{
	struct tnode *n = tnode_get(node);
	int err;

	err = treq_send(n, 1);
	if (err)
		return err;	/* expect: ref-leak@warning */
	tnode_put(n);
	return 0;
}
