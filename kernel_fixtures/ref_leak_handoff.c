// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak where a reference is handed over or never existed: an object linked into a
 * list that outlives the function takes the caller's reference with it (one on the
 * caller's stack keeps nothing); an error pointer (`IS_ERR()` true) holds none.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rbtree.h>
#include <linux/rculist.h>
#include <linux/refcount.h>
#include <linux/slab.h>

struct twatch {
	struct list_head wlist;
	struct hlist_node hnode;
	refcount_t count;
	int dev;
};

struct tparent {
	struct list_head watches;
	struct hlist_head hash;
	struct rb_root tree;
};

/* a watch of a parent's tree */
struct ttwatch {
	struct rb_node rb;
	refcount_t count;
	int dev;
};

/* an index entry that points at a watch's embedded `dev` member */
struct tindex {
	struct list_head list;
	int *dev;
};

static LIST_HEAD(all_watches);

static void twatch_get(struct twatch *w)
{
	refcount_inc(&w->count);
}

static void twatch_put(struct twatch *w)
{
	if (refcount_dec_and_test(&w->count))
		kfree(w);
}

static struct twatch *twatch_lookup(struct tparent *p, int dev)
{
	struct twatch *w;

	list_for_each_entry(w, &p->watches, wlist) {
		if (w->dev == dev) {
			twatch_get(w);
			return w;
		}
	}
	return NULL;
}

/* a new watch with its first reference, or an error pointer */
static struct twatch *twatch_create(int dev)
{
	struct twatch *w = kzalloc(sizeof(*w), GFP_KERNEL);

	if (!w)
		return ERR_PTR(-ENOMEM);
	refcount_set(&w->count, 1);
	w->dev = dev;
	return w;
}

/* a reference on the watch found, or an error pointer */
static struct twatch *twatch_find(struct tparent *p, int dev)
{
	struct twatch *w = twatch_lookup(p, dev);

	if (!w)
		return ERR_PTR(-ENOENT);
	return w;
}

int twatch_use(struct twatch *w);

/* linked first, then the list's own reference taken: nothing is left for the caller */
static void twatch_link(struct twatch *w, struct tparent *p)
{
	list_add(&w->wlist, &p->watches);
	twatch_get(w);
}

/* where readers find the watch in use */
struct twslot {
	struct twatch __rcu *cur;
};

struct twslot *twslot_this_cpu(void);

/* installs `w` for readers: the caller's reference goes with it */
static void twatch_install(struct twatch *w)
{
	struct twslot *s = twslot_this_cpu();

	rcu_assign_pointer(s->cur, w);
}

/* ---- buggy ------------------------------------------------------------------------- */

/* the index entry is freed on the error path: the watch's reference it was to keep
 * goes nowhere */
int twatch_index_err(struct tparent *p, struct list_head *index, int dev, int slot)
{
	struct twatch *w = twatch_lookup(p, dev);
	struct tindex *e;

	if (!w)
		return -ENOENT;
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;				/* expect: ref-leak@warning */
	e->dev = &w->dev;
	if (slot < 0) {
		kfree(e);				/* expect: ref-leak@warning */
		return -EINVAL;
	}
	list_add_rcu(&e->list, index);
	return 0;
}

/* a list on the stack keeps nothing once the function returns */
int twatch_collect(struct tparent *p, int dev)
{
	struct list_head tmp;
	struct twatch *w = twatch_lookup(p, dev);

	if (!w)
		return -ENOENT;
	list_add(&w->wlist, &tmp);
	w->dev = 0;
	return 0;					/* expect: ref-leak@warning */
}

int twatch_collect_local(struct tparent *p, int dev)
{
	LIST_HEAD(batch);
	struct twatch *w = twatch_lookup(p, dev);

	if (w)
		list_add_tail(&w->wlist, &batch);
	return 0;					/* expect: ref-leak@warning */
}

/* the error path leaves before the list takes it */
int twatch_attach_err(struct tparent *p, struct tparent *from, int dev)
{
	struct twatch *w = twatch_lookup(from, dev);

	if (!w)
		return -ENOENT;
	if (twatch_use(w))
		return -EINVAL;				/* expect: ref-leak@warning */
	list_add(&w->wlist, &p->watches);
	return 0;
}

/* linked only while the parent has no hashed watch: otherwise neither linked nor put */
void twatch_attach_first(struct tparent *p, struct tparent *from, int dev)
{
	struct twatch *w = twatch_lookup(from, dev);

	if (!w)
		return;
	if (!p->hash.first)
		list_add(&w->wlist, &p->watches);
}						/* expect: ref-leak@warning */

/* found or an error pointer: used and dropped nowhere on the success path */
int twatch_probe(struct tparent *p, int dev)
{
	struct twatch *w = twatch_find(p, dev);

	if (IS_ERR(w))
		return PTR_ERR(w);
	w->dev = dev;
	return 0;					/* expect: ref-leak@warning */
}

/* looked up or created: released only when it was not an error, and not on this return */
int twatch_probe_or_find(struct tparent *p, int dev)
{
	struct twatch *w = twatch_lookup(p, dev);

	if (!w)
		w = twatch_create(dev);
	if (IS_ERR(w))
		return PTR_ERR(w);
	if (twatch_use(w))
		return -EBUSY;				/* expect: ref-leak@warning */
	twatch_put(w);
	return 0;
}

/* a refused switch returns with the new watch's reference */
int twatch_switch_leaky(struct tparent *p, int dev, int bad)
{
	struct twatch *w = twatch_lookup(p, dev);

	if (!w)
		return -ENOENT;
	if (bad)
		return -EINVAL;				/* expect: ref-leak@warning */
	twatch_install(w);
	return 0;
}

/* the list took its own reference: the lookup's is still this function's to drop */
int twatch_mirror_leaky(struct tparent *p, struct tparent *from, int dev)
{
	struct twatch *w = twatch_lookup(from, dev);

	if (!w)
		return -ENOENT;
	twatch_link(w, p);
	return 0;				/* expect: ref-leak@warning */
}

/* a tree watch of another parent, with a reference */
static struct ttwatch *ttwatch_get_first(struct tparent *from)
{
	struct ttwatch *w;

	if (!from->tree.rb_node)
		return NULL;
	w = container_of(from->tree.rb_node, struct ttwatch, rb);
	refcount_inc(&w->count);
	return w;
}

/* links the watch at the tree's root: the tree keeps it and its reference */
static void ttwatch_link(struct tparent *p, struct ttwatch *w)
{
	rb_link_node(&w->rb, NULL, &p->tree.rb_node);
	rb_insert_color(&w->rb, &p->tree);
}

/* the refused watch is neither linked nor released */
int ttwatch_add_checked(struct tparent *p, struct tparent *from)
{
	struct ttwatch *w = ttwatch_get_first(from);

	if (!w)
		return -ENOENT;
	if (p->tree.rb_node)
		return -EBUSY;				/* expect: ref-leak@warning */
	ttwatch_link(p, w);
	return 0;
}

/* the error cases are told apart by a switch; the last one forgets the watch it found */
int twatch_attach_switch_leaky(struct tparent *p, struct tparent *from, int dev)
{
	struct twatch *w = twatch_find(from, dev);

	switch (PTR_ERR(w)) {
	case -ENOENT:
		return -ENOENT;
	case -ENOMEM:
		return -EAGAIN;
	default:
		if (w->dev != dev)
			return -EINVAL;			/* expect: ref-leak@warning */
		hlist_add_head_rcu(&w->hnode, &p->hash);
	}
	return 0;
}

/* ---- correct ----------------------------------------------------------------------- */

/* the error cases are told apart by a switch: only the default case holds a watch */
int twatch_attach_switch(struct tparent *p, struct tparent *from, int dev)
{
	struct twatch *w = twatch_find(from, dev);

	switch (PTR_ERR(w)) {
	case -ENOENT:
		return -ENOENT;
	case -ENOMEM:
		break;
	default:
		hlist_add_head_rcu(&w->hnode, &p->hash);
	}
	return 0;
}

/* the tree keeps the watch's reference */
int ttwatch_add(struct tparent *p, struct tparent *from)
{
	struct ttwatch *w = ttwatch_get_first(from);

	if (!w)
		return -ENOENT;
	ttwatch_link(p, w);
	return 0;
}

/* the list took its own reference, and the lookup's is dropped */
int twatch_mirror(struct tparent *p, struct tparent *from, int dev)
{
	struct twatch *w = twatch_lookup(from, dev);

	if (!w)
		return -ENOENT;
	twatch_link(w, p);
	twatch_put(w);
	return 0;
}

/* a pointer to the watch's member, stored in an entry that is published, keeps the
 * watch (and its reference) with it */
int twatch_index(struct tparent *p, struct list_head *index, int dev)
{
	struct twatch *w = twatch_lookup(p, dev);
	struct tindex *e;

	if (!w)
		return -ENOENT;
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e) {
		twatch_put(w);
		return -ENOMEM;
	}
	e->dev = &w->dev;
	list_add_rcu(&e->list, index);
	return 0;
}

/* audit_add_watch() shape: the parent's list keeps the reference */
void twatch_attach(struct tparent *p, struct twatch **slot)
{
	struct twatch *w = *slot;

	twatch_get(w);
	list_add(&w->wlist, &p->watches);
}

void twatch_attach_tail_rcu(struct tparent *p, struct tparent *from, int dev)
{
	struct twatch *w = twatch_lookup(from, dev);

	if (w)
		list_add_tail_rcu(&w->wlist, &p->watches);
}

/* audit_add_to_parent() shape: a watch already on the list replaces the caller's
 * (whose reference is put), or the caller's is linked with a reference of its own */
void twatch_adopt(struct tparent *p, struct twatch **slot)
{
	struct twatch *w = *slot, *cur;

	list_for_each_entry(cur, &p->watches, wlist) {
		if (cur->dev != w->dev)
			continue;
		twatch_put(w);
		twatch_get(cur);
		*slot = cur;
		return;
	}
	twatch_get(w);
	list_add(&w->wlist, &p->watches);
}

/* a global list keeps it */
void twatch_register(struct tparent *from, int dev)
{
	struct twatch *w = twatch_lookup(from, dev);

	if (w)
		list_add_rcu(&w->wlist, &all_watches);
}

int twatch_hash(struct tparent *p, struct tparent *from, int dev)
{
	struct twatch *w = twatch_find(from, dev);

	if (IS_ERR(w))
		return PTR_ERR(w);
	hlist_add_head_rcu(&w->hnode, &p->hash);
	return 0;
}

/* ip_do_redirect() shape: looked up or created, released unless it is an error pointer */
void twatch_refresh(struct tparent *p, int dev)
{
	struct twatch *w = twatch_lookup(p, dev);

	if (!w)
		w = twatch_create(dev);
	if (!IS_ERR(w)) {
		twatch_use(w);
		twatch_put(w);
	}
}

/* a watch found elsewhere handed to the parent's list, or the error returned */
int twatch_add(struct tparent *p, struct tparent *from, int dev)
{
	struct twatch *w = twatch_find(from, dev);

	if (IS_ERR(w))
		return PTR_ERR(w);
	list_add(&w->wlist, &p->watches);
	return 0;
}

/* a stack list drained before returning */
int twatch_batch(struct tparent *p, int dev)
{
	struct list_head tmp;
	struct twatch *w = twatch_lookup(p, dev);
	int ret;

	if (!w)
		return -ENOENT;
	list_add(&w->wlist, &tmp);
	ret = twatch_use(w);
	list_del(&w->wlist);
	twatch_put(w);
	return ret;
}

/* an error code compared: on that branch the pointer is an error pointer, no reference */
int twatch_find_or_make(struct tparent *p, int dev)
{
	struct twatch *w = twatch_find(p, dev);

	if (PTR_ERR(w) == -ENOENT) {
		w = twatch_create(dev);
		if (IS_ERR(w))
			return PTR_ERR(w);
	} else if (IS_ERR(w)) {
		return PTR_ERR(w);
	}
	twatch_put(w);
	return 0;
}

/* a search that says "try again" with an error pointer: that pointer holds no reference */
int twatch_probe_again(struct tparent *p, int dev)
{
	struct twatch *w = twatch_find(p, dev);

	if (w == ERR_PTR(-EAGAIN))
		return -EAGAIN;
	if (IS_ERR(w))
		return PTR_ERR(w);
	twatch_use(w);
	twatch_put(w);
	return 0;
}

/* puts every watch on the list; defined in another file */
void twatch_dispose(struct list_head *batch);

/* the batch on the stack is handed, with what it holds, to the call that empties it */
int twatch_collect_dispose(struct tparent *p, int dev)
{
	LIST_HEAD(batch);
	struct twatch *w = twatch_lookup(p, dev);

	if (w)
		list_add_tail(&w->wlist, &batch);
	twatch_dispose(&batch);
	return 0;
}

/* the new watch's reference goes to readers with it, or is dropped when refused */
int twatch_switch(struct tparent *p, int dev, int bad)
{
	struct twatch *w = twatch_lookup(p, dev);

	if (!w)
		return -ENOENT;
	if (bad) {
		twatch_put(w);
		return -EINVAL;
	}
	twatch_install(w);
	return 0;
}

/*
 * A route begins with its destination entry: a packet given `&rt->dst` keeps the route
 * itself (the address of a struct's first member is the struct's own), so a helper
 * that sets it takes over the reference its caller held.  An entry further in is a
 * part the packet points into, which says nothing of the route's reference.
 */
struct tdst {
	refcount_t refcnt;
	int flags;
};

struct troute {
	struct tdst dst;
	int gen;
};

struct tpkt {
	unsigned long refdst;
	int len;
};

static struct troute *troute_hold(struct troute *rt)
{
	refcount_inc(&rt->dst.refcnt);
	return rt;
}

static void troute_put(struct troute *rt)
{
	if (refcount_dec_and_test(&rt->dst.refcnt))
		kfree(rt);
}

static inline void tpkt_dst_set(struct tpkt *pkt, struct tdst *dst)
{
	pkt->refdst = (unsigned long)dst;
}

static void tunnel_send(struct tpkt *pkt, struct troute *rt, int len)
{
	pkt->len = len;
	tpkt_dst_set(pkt, &rt->dst);
}

int tunnel_xmit(struct tpkt *pkt, struct troute *cached, int len)
{
	struct troute *rt = troute_hold(cached);

	if (len < 68) {
		troute_put(rt);
		return -EINVAL;
	}
	tunnel_send(pkt, rt, len);
	return 0;
}

int tunnel_xmit_short(struct tpkt *pkt, struct troute *cached, int len)
{
	struct troute *rt = troute_hold(cached);

	if (len < 68)
		return -EINVAL;				/* expect: ref-leak@warning */
	tunnel_send(pkt, rt, len);
	return 0;
}
