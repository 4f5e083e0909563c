// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak through the fields of a structure the function allocated: a reference stored
 * in a field is owned by the structure, and a path that frees the structure itself (so
 * nobody else holds it) without releasing the field leaks it.  Gets that return their
 * argument (`tns_get(ns)`) carry the reference on their result to where it is stored.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/refcount.h>
#include <linux/slab.h>

struct tns_common {
	refcount_t count;
};

struct tns {
	struct tns_common ns;
	int id;
};

struct treq {
	struct tns *ns;
	void *buf;
	int len;
};

static inline struct tns *tns_get(struct tns *ns)
{
	refcount_inc(&ns->ns.count);		/* a member of an embedded structure */
	return ns;
}

void tns_put(struct tns *ns);
struct tns *tns_of_task(int pid);
void tns_hand_over(struct tns *ns);

/* reads the namespace, keeps nothing of it */
static int tns_id(struct tns *ns)
{
	return ns->id;
}
int treq_start(struct treq *req);
void treq_uninit(struct treq *req);

static struct treq *last_req;

/* ---- buggy ------------------------------------------------------------------------- */

/* the error path frees the request with the namespace reference still in it */
int treq_send(int pid, int len)
{
	struct treq *req = kzalloc(sizeof(*req), GFP_KERNEL);

	if (!req)
		return -ENOMEM;
	req->ns = tns_get(tns_of_task(pid));
	req->len = len;
	if (treq_start(req)) {
		kfree(req);				/* expect: ref-leak@warning */
		return -EIO;
	}
	return 0;
}

/* the element's object is given under its own name to a helper whose body only reads
 * it: the array still owns the reference when it is freed */
int treq_gather_checked(int pid, int n)
{
	struct tns **set = kzalloc(n * sizeof(*set), GFP_KERNEL);
	struct tns *ns;

	if (!set)
		return -ENOMEM;
	ns = tns_get(tns_of_task(pid));
	set[0] = ns;
	if (tns_id(ns) < 0) {
		kfree(set);				/* expect: ref-leak@warning */
		return -EINVAL;
	}
	return 0;
}

/* ---- correct ----------------------------------------------------------------------- */

/* the element's object is given to a callee nothing is known of: it may have taken the
 * reference over */
int treq_gather_handed(int pid, int n)
{
	struct tns **set = kzalloc(n * sizeof(*set), GFP_KERNEL);
	struct tns *ns;

	if (!set)
		return -ENOMEM;
	ns = tns_get(tns_of_task(pid));
	set[0] = ns;
	if (tns_id(ns) < 0) {
		tns_hand_over(ns);
		kfree(set);
		return -EINVAL;
	}
	return 0;
}

/* the error path releases the field before freeing the request */
int treq_send_clean(int pid, int len)
{
	struct treq *req = kzalloc(sizeof(*req), GFP_KERNEL);

	if (!req)
		return -ENOMEM;
	req->ns = tns_get(tns_of_task(pid));
	req->len = len;
	if (treq_start(req)) {
		tns_put(req->ns);
		kfree(req);
		return -EIO;
	}
	return 0;
}

/* a destructor tears the request's fields down before it is freed */
int treq_send_destroyed(int pid, int len)
{
	struct treq *req = kzalloc(sizeof(*req), GFP_KERNEL);

	if (!req)
		return -ENOMEM;
	req->ns = tns_get(tns_of_task(pid));
	if (treq_start(req)) {
		treq_uninit(req);
		kfree(req);
		return -EIO;
	}
	return 0;
}

/* published: the request keeps the reference wherever it went */
struct treq *treq_make(int pid)
{
	struct treq *req = kzalloc(sizeof(*req), GFP_KERNEL);

	if (!req)
		return NULL;
	req->ns = tns_get(tns_of_task(pid));
	if (pid > 0) {
		last_req = req;
		return NULL;
	}
	return req;
}

/* the field's reference moves to a local that releases it */
int treq_abort(int pid)
{
	struct treq *req = kzalloc(sizeof(*req), GFP_KERNEL);
	struct tns *ns;

	if (!req)
		return -ENOMEM;
	req->ns = tns_get(tns_of_task(pid));
	ns = req->ns;
	kfree(req);
	tns_put(ns);
	return 0;
}

/* the field's object is released under its local name before the container goes */
int treq_fail_late(int pid)
{
	struct treq *req = kzalloc(sizeof(*req), GFP_KERNEL);
	struct tns *ns;

	if (!req)
		return -ENOMEM;
	ns = tns_get(tns_of_task(pid));
	req->ns = ns;
	if (treq_start(req)) {
		tns_put(ns);
		kfree(req);
		return -EIO;
	}
	return 0;
}

/* the field has a copy of a reference a local keeps: released under the local's name at
 * the common exit, after the request is freed */
int treq_send_copy(int pid, int len)
{
	struct tns *ns = tns_get(tns_of_task(pid));
	struct treq *req;
	int ret = -ENOMEM;

	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		goto out;
	req->ns = ns;
	req->len = len;
	ret = treq_start(req);
	if (ret) {
		kfree(req);
		goto out;
	}
	return 0;
out:
	tns_put(ns);
	return ret;
}

/* an array the function allocated owns the references stored in its elements */
int treq_gather(int pid, int n)
{
	struct tns **set = kzalloc(n * sizeof(*set), GFP_KERNEL);
	int err;

	if (!set)
		return -ENOMEM;
	set[0] = tns_get(tns_of_task(pid));
	err = treq_start((struct treq *)set);
	if (err) {
		kfree(set);				/* expect: ref-leak@warning */
		return err;
	}
	return 0;
}

/* each element is released, whichever index names it, before the array goes */
int treq_gather_undone(int pid, int n)
{
	struct tns **set = kzalloc(n * sizeof(*set), GFP_KERNEL);
	int i, err;

	if (!set)
		return -ENOMEM;
	set[0] = tns_get(tns_of_task(pid));
	err = treq_start((struct treq *)set);
	if (err) {
		for (i = 0; i < 1; i++)
			tns_put(set[i]);
		kfree(set);
		return err;
	}
	return 0;
}

struct towner {
	struct tns *ns;
};

/* the namespace the owner points to, with a reference for the caller */
static struct tns *towner_ns(struct towner *o)
{
	return tns_get(o->ns);
}

/* buggy: the reference towner_ns() hands over is never dropped */
int towner_id(struct towner *o)
{
	struct tns *ns = towner_ns(o);

	return ns->id;					/* expect: ref-leak@warning */
}

/* correct: dropped once the id is read */
int towner_id_put(struct towner *o)
{
	struct tns *ns = towner_ns(o);
	int id = ns->id;

	tns_put(ns);
	return id;
}

/* the task's namespace with a reference, or NULL */
static struct tns *tns_lookup(int pid)
{
	struct tns *ns = tns_of_task(pid);

	if (ns)
		refcount_inc(&ns->ns.count);
	return ns;
}

/* each lookup stored, tested, and on failure every earlier one put before the array
 * goes: a NULL one holds nothing */
int treq_gather_all(int *pids, int n, struct tns ***out)
{
	struct tns **set = kzalloc(n * sizeof(*set), GFP_KERNEL);
	int i;

	if (!set)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		set[i] = tns_lookup(pids[i]);
		if (!set[i])
			goto err_put;
	}
	*out = set;
	return 0;

err_put:
	while (i-- > 0)
		tns_put(set[i]);
	kfree(set);
	return -ENOENT;
}
