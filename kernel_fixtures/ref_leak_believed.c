// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak on references that only the function's own code shows: a callee defined
 * elsewhere, unknown to the model, whose result the function releases on one path
 * returns a counted reference on every path (the inconsistent-release pattern).
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/refcount.h>
#include <linux/slab.h>

struct tnet;
struct tfile;
struct tnode {
	refcount_t ref;
	int id;
	int flags;
	struct tnode *cached;
};

struct tslot {
	struct tnode *node;
};

/* defined in other files: nothing but the callers' code says what they return */
struct tnode *tnode_lookup(struct tnet *net, int id);
struct tnode *tnode_next(struct tnet *net, struct tnode *prev);
struct tnode *tnode_peek(struct tnet *net, int id);
struct tnode *tnode_current(struct tnet *net);
void tnode_hold(struct tnode *n);
void tnode_put(struct tnode *n);
int tnode_bind(struct tnode *n, int flags);
int tnode_queue(struct tnet *net, struct tnode *n);
int tnode_attach(struct tnet *net, struct tnode *n);
void tnode_fail(struct tnet *net, struct tnode *n);
struct tfile *tfile_wrap(struct tnode *n);
int tnode_busy(const struct tnode *n);
struct tnode *tnode_find_powered(struct tnet *net, int id);
void tnode_chip_pm_put(struct tnode *n);

/* ---- buggy ------------------------------------------------------------------------- */

/* the early error return skips the release the normal exit makes */
int tnode_set_flags(struct tnet *net, int id, int flags)
{
	struct tnode *n = tnode_lookup(net, id);

	if (!n)
		return -ENOENT;
	if (flags < 0)
		return -EINVAL;				/* expect: ref-leak@warning */
	n->flags = flags;
	tnode_put(n);
	return 0;
}

/* a second lookup overwrites the first result */
int tnode_refresh(struct tnet *net, int id, int again)
{
	struct tnode *n = tnode_lookup(net, id);

	if (!n)
		return -ENOENT;
	if (again)
		n = tnode_lookup(net, id + 1);		/* expect: ref-leak@warning */
	if (n)
		tnode_put(n);
	return 0;
}

/* the node is released after the call given it: the call keeps nothing */
int tnode_configure(struct tnet *net, int id, int flags)
{
	struct tnode *n = tnode_lookup(net, id);
	int err;

	if (!n)
		return -ENOENT;
	err = tnode_bind(n, flags);
	if (err)
		return err;				/* expect: ref-leak@warning */
	tnode_put(n);
	return 0;
}

/* a get by its name that returns another object (a file on the node) gets that one: the
 * node's put still pairs with the lookup, and the early return leaks the node */
struct tfile *tnode_file_get(struct tnode *n);

int tnode_publish(struct tnet *net, int id)
{
	struct tnode *n = tnode_lookup(net, id);
	struct tfile *file;

	if (!n)
		return -ENOENT;
	file = tnode_file_get(n);
	if (!file)
		return -ENOMEM;				/* expect: ref-leak@warning */
	tnode_put(n);
	return 0;
}

/* a handle that carries a flag in its low bit: the node is what it points to, so the
 * put of the node shows what the handle's lookup returns */
typedef struct tnode_handle *tnode_ref_t;
tnode_ref_t tnode_lookup_ref(struct tnet *net, int id);

static inline struct tnode *tnode_ref_ptr(tnode_ref_t ref)
{
	return (struct tnode *)((unsigned long)ref & ~1UL);
}

int tnode_read(struct tnet *net, int id, int want)
{
	tnode_ref_t ref = tnode_lookup_ref(net, id);
	struct tnode *n;

	if (IS_ERR(ref))
		return PTR_ERR(ref);
	n = tnode_ref_ptr(ref);
	if (n->flags != want)
		return -EACCES;				/* expect: ref-leak@warning */
	n->flags = 0;
	tnode_put(n);
	return 0;
}

/* either the cached node (borrowed) or a looked-up one (counted), released exactly where
 * it differs from the cached one: the early error return forgets a looked-up one */
int tnode_use_cached(struct tnet *net, struct tnode *owner, int id)
{
	struct tnode *n = owner->cached;

	if (!n)
		n = tnode_lookup(net, id);
	if (!n)
		return -ENOENT;
	if (n->flags < 0)
		return -EINVAL;				/* expect: ref-leak@warning */
	if (n != owner->cached)
		tnode_put(n);
	return 0;
}

struct tpkt {
	struct tnode *node;
};

struct tnode *tnode_find_for(struct tnet *net, struct tpkt *pkt);

/* ---- correct ----------------------------------------------------------------------- */

/* a power-state usage count dropped (a driver's runtime-PM wrapper) is no release of the
 * node: it shows nothing of what the lookup returns */
int tnode_idle(struct tnet *net, int id, int busy)
{
	struct tnode *n = tnode_find_powered(net, id);

	if (!n)
		return -ENOENT;
	if (busy)
		return -EBUSY;
	tnode_chip_pm_put(n);
	return 0;
}

/* the last thing done with the node is a call that may consume it */
void tnode_report_failure(struct tnet *net, int id, int dad)
{
	struct tnode *n = tnode_lookup(net, id);

	if (!n)
		return;
	if (dad) {
		tnode_fail(net, n);
		return;
	}
	tnode_put(n);
}

/* a helper whose body gives the node on to a callee nothing is known of: what becomes
 * of it there is not shown, so the call may consume it as well */
static void tnode_notify(struct tnet *net, struct tnode *n, int event)
{
	if (event > 1)
		tnode_bind(n, event);
	tnode_fail(net, n);
}

void tnode_report_event(struct tnet *net, int id, int event)
{
	struct tnode *n = tnode_lookup(net, id);

	if (!n)
		return;
	if (event) {
		tnode_notify(net, n, event);
		return;
	}
	tnode_put(n);
}

/* a question whose body asks a callee nothing is known of: the node is released after
 * a yes, so the call keeps nothing, and a no leaves the node with the function */
static bool tnode_usable(struct tnet *net, struct tnode *n)
{
	return tnode_bind(n, 0) == 0;
}

int tnode_pick(struct tnet *net, int id)
{
	struct tnode *n = tnode_lookup(net, id);

	if (!n)
		return -ENOENT;
	if (!tnode_usable(net, n))
		return -EBUSY;				/* expect: ref-leak@warning */
	tnode_put(n);
	return 0;
}

/* queued on success and on failure alike: nothing after the call releases the node */
int tnode_submit(struct tnet *net, int id)
{
	struct tnode *n = tnode_lookup(net, id);
	int err;

	if (!n)
		return -ENOENT;
	if (n->flags < 0) {
		tnode_put(n);
		return -EINVAL;
	}
	err = tnode_queue(net, n);
	if (err)
		return err;
	return 0;
}

/* wrapped on success (the file keeps the node), released only when wrapping failed; the
 * error pointer set first never reaches the success return */
struct tfile *tnode_open(struct tnet *net, int id, int reserve)
{
	struct tfile *file = ERR_PTR(-ENOENT);
	struct tnode *n = tnode_lookup(net, id);

	if (!n)
		return file;
	if (!reserve)
		file = ERR_PTR(-ENOMEM);
	else
		file = tfile_wrap(n);
	if (!IS_ERR(file))
		return file;
	tnode_put(n);
	return file;
}

/* an iterator's step drops the reference on the node it is given */
struct tnode *tnode_find_busy(struct tnet *net)
{
	struct tnode *n = NULL;

	while ((n = tnode_next(net, n))) {
		if (tnode_busy(n))
			return n;
	}
	return NULL;
}

int tnode_count_busy(struct tnet *net, int id)
{
	struct tnode *n = tnode_lookup(net, id);
	int busy;

	if (!n)
		return 0;
	busy = tnode_busy(n);
	tnode_put(n);
	while ((n = tnode_next(net, n)))
		busy += tnode_busy(n);
	return busy;
}

/* the put pairs with the function's own hold: the peek returns a borrowed node */
int tnode_touch(struct tnet *net, int id)
{
	struct tnode *n = tnode_peek(net, id);

	if (!n || n->flags < 0)
		return -ENOENT;
	tnode_hold(n);
	n->flags++;
	tnode_put(n);
	return 0;
}

struct tnode *tnode_from_index(struct tnet *net, int id);
struct tnode *tnode_from_slot(struct tnet *net, int id);

static int __get_live_tnode(struct tnode *n)
{
	return refcount_inc_not_zero(&n->ref);
}

/* a get named so: it takes a reference on a live node and drops it again on a busy one */
static int get_live_tnode(struct tnode *n)
{
	int ret = __get_live_tnode(n);

	if (ret > 0 && tnode_busy(n)) {
		tnode_put(n);
		return -EBUSY;
	}
	return ret ? 1 : -EBUSY;
}

static inline struct tnode *tnode_head(struct tnode *n)
{
	return n;
}

/* the put pairs with the reference get_live_tnode() took: the index lookup borrowed */
int tnode_offline(struct tnet *net, int id)
{
	struct tnode *n = tnode_from_index(net, id);
	int ret;

	if (!n)
		return -ENODEV;
	if (id < 0)
		return -EINVAL;
	ret = get_live_tnode(n);
	if (ret < 0)
		return ret;
	n->flags = 0;
	tnode_put(n);
	return 0;
}

/* ... also when the put goes through another name of the same object */
int tnode_offline_head(struct tnet *net, int id)
{
	struct tnode *n = tnode_from_slot(net, id);
	struct tnode *h;

	if (!n)
		return -ENODEV;
	if (id < 0)
		return -EINVAL;
	if (get_live_tnode(n) < 0)
		return -EBUSY;
	h = tnode_head(n);
	h->flags = 0;
	tnode_put(h);
	return 0;
}

/* attached on success: the reference goes with it; released only when attaching failed */
int tnode_adopt(struct tnet *net, int id)
{
	struct tnode *n = tnode_lookup(net, id);
	int err;

	if (!n)
		return -ENOENT;
	err = tnode_attach(net, n);
	if (err) {
		tnode_put(n);
		return err;
	}
	return 0;
}

/* the node looked up must be the one the slot now names: on the branch where they are
 * equal, the reference found is the one the store into the slot needed */
int tnode_confirm(struct tnet *net, struct tslot *slot, struct tnode *expected, int id)
{
	struct tnode *n;

	slot->node = expected;
	n = tnode_lookup(net, id);
	if (!n)
		return -ENOENT;
	if (n != expected) {
		tnode_put(n);
		slot->node = NULL;
		return -EINVAL;
	}
	return 0;
}

/* the object returned is reached from the file: the file's reference keeps it alive and
 * goes to the caller with it */
struct tfile {
	void *private_data;
};

struct tfile *tfile_get(int fd);
void tfile_put(struct tfile *f);

struct tnode *tnode_from_fd(int fd, int id)
{
	struct tfile *f = tfile_get(fd);
	struct tnode *n;

	if (!f)
		return NULL;
	n = f->private_data;
	if (n->id != id) {
		tfile_put(f);
		return NULL;
	}
	return n;
}

/* the reference the node's parent held, dropped when it is unlinked */
static void tnode_parent_put(struct tnode *n)
{
	n->cached = NULL;
	tnode_put(n);
}

/* two puts in a row: the lookup's reference is known to be this function's, but not that
 * it is the only one, so the helper's put may drop another */
int tnode_remove(struct tnet *net, int id)
{
	struct tnode *n = tnode_lookup(net, id);

	if (!n)
		return -ENOENT;
	if (n->flags < 0) {
		tnode_put(n);
		return -EBUSY;
	}
	tnode_parent_put(n);
	tnode_put(n);
	return 0;
}

/* the current node is borrowed; the one looked up must be it, and its reference is
 * what the put of `cur` drops */
int tnode_check_current(struct tnet *net, int id)
{
	struct tnode *cur = tnode_current(net);
	struct tnode *n;

	if (!cur)
		return -ENOENT;
	if (cur->flags < 0)
		return -EINVAL;
	n = tnode_lookup(net, id);
	if (n != cur) {
		if (n)
			tnode_put(n);
		return -ESTALE;
	}
	tnode_put(cur);
	return 0;
}

/* the packet's own node is borrowed; a node looked up instead is the function's, and it
 * releases it exactly where it differs from the packet's, on every path */
int tpkt_mark_ok(struct tnet *net, struct tpkt *pkt, int flags)
{
	struct tnode *n = pkt->node;
	int err = 0;

	if (!n)
		n = tnode_find_for(net, pkt);
	if (!n)
		return -ENOENT;
	if (flags < 0)
		err = -EINVAL;
	else
		n->flags = flags;
	if (n != pkt->node)
		tnode_put(n);
	return err;
}

/* the node starts as the current one (borrowed); the parser may replace it through its
 * address with one it looked up, and only then is it released: the put shows nothing of
 * what tnode_current() returns */
int tnode_parse_target(struct tnet *net, int id, struct tnode **target);

int tnode_dump(struct tnet *net, int id, int strict)
{
	struct tnode *n = tnode_current(net);
	int foreign = 0;
	int err = 0;

	if (strict) {
		err = tnode_parse_target(net, id, &n);
		if (err < 0)
			goto out;
		foreign = 1;
	}
	err = tnode_busy(n);
out:
	if (foreign)
		tnode_put(n);
	return err;
}

/* a put named by the verb inside its name (`tnet_put_node()`) releases the node after
 * the call given it, so the call keeps nothing: the early return leaks the node */
void tnet_put_node(struct tnode *n);
struct tslot *tnode_slot(struct tnode *n);

int tnode_detach_slot(struct tnet *net, int id)
{
	struct tnode *n = tnode_lookup(net, id);
	struct tslot *slot;

	if (!n)
		return -ENOENT;
	slot = tnode_slot(n);
	if (!slot)
		return -ENOENT;				/* expect: ref-leak@warning */
	slot->node = NULL;
	tnet_put_node(n);
	return 0;
}

/* ---- correct: results borrowed from an iterator's state on the stack ---------------- */

struct tnode_iter {
	struct tnet *net;
	struct tnode *cur;
};

void tnode_iter_begin(struct tnet *net, struct tnode_iter *it);
struct tnode *tnode_iter_next(struct tnode_iter *it);
void tnode_iter_end(struct tnode_iter *it);

/* the iterator holds the node it returns and drops it at the next step; the put
 * drops the reference the node's binding held */
void tnode_unbind_all(struct tnet *net, int flags)
{
	struct tnode_iter it;
	struct tnode *n;

	tnode_iter_begin(net, &it);
	while ((n = tnode_iter_next(&it))) {
		if (n->flags != flags)
			continue;
		n->flags = 0;
		tnode_put(n);
	}
	tnode_iter_end(&it);
}
