// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak and ref-double-put around stores into a container that outlives the
 * function: an ID map (`idr_alloc()`, `xa_insert()`, `xa_alloc()`) keeps the
 * reference of the object stored in it when the store succeeds, and leaves it with the
 * caller when the store fails (a negative errno).  A helper that queues an object's
 * work item, or links it, on some of its paths only hands the reference over too.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/types.h>
#include <linux/slab.h>
#include <linux/refcount.h>
#include <linux/xarray.h>
#include <linux/rculist.h>

struct idr { void *top; };
struct work_struct { unsigned long data; };
struct workqueue_struct;
struct llist_node { struct llist_node *next; };
struct llist_head { struct llist_node *first; };

int idr_alloc(struct idr *idr, void *ptr, int start, int end, gfp_t gfp);
int xa_alloc(struct xarray *xa, u32 *id, void *entry, u32 limit, gfp_t gfp);
bool queue_work(struct workqueue_struct *wq, struct work_struct *work);
bool llist_add(struct llist_node *new, struct llist_head *head);

extern struct workqueue_struct *tchan_wq;

struct tchan {
	refcount_t ref;
	int id;
	struct llist_head pending;
	struct work_struct kick;
	struct list_head poll_node;
};

extern struct list_head tchan_poll_list;

struct tmsg {
	struct llist_node node;
	int len;
};

struct tfile {
	struct idr handles;
	struct xarray chans;
	int lock;
};

void spin_lock(int *lock);
void spin_unlock(int *lock);

static void tchan_get(struct tchan *c)
{
	refcount_inc(&c->ref);
}

static void tchan_put(struct tchan *c)
{
	if (refcount_dec_and_test(&c->ref))
		kfree(c);
}

static struct tchan *tchan_find(struct tfile *f, unsigned long id)
{
	struct tchan *c = xa_load(&f->chans, id);

	if (c && !refcount_inc_not_zero(&c->ref))
		c = NULL;
	return c;
}

/* links the channel into the poller's list for the first message only: the list
 * keeps the reference that came with the channel */
static void tchan_post(struct tchan *c, struct tmsg *m)
{
	if (llist_add(&m->node, &c->pending))
		list_add_tail(&c->poll_node, &tchan_poll_list);
}

/* a work item embedded in the channel is queued with or without a reference */
static void tchan_kick(struct tchan *c)
{
	queue_work(tchan_wq, &c->kick);
}

/* ---- buggy ------------------------------------------------------------------------- */

/* the failed store returns with the reference taken for the map */
int tfile_install_leaky(struct tfile *f, struct tchan *c, int start)
{
	int ret;

	tchan_get(c);
	if (start < 1) {
		tchan_put(c);
		return -EINVAL;
	}
	spin_lock(&f->lock);
	ret = idr_alloc(&f->handles, c, start, 0, GFP_NOWAIT);
	spin_unlock(&f->lock);
	if (ret < 0)
		return ret;				/* expect: ref-leak@warning */
	c->id = ret;
	return 0;
}

/* the map refuses the index: the reference stays with the function, which returns */
int tfile_insert_leaky(struct tfile *f, struct tchan *c, unsigned long index)
{
	int err;

	tchan_get(c);
	if (!index) {
		tchan_put(c);
		return -EINVAL;
	}
	err = xa_insert(&f->chans, index, c, GFP_KERNEL);
	if (err)
		return err;				/* expect: ref-leak@warning */
	return 0;
}

/* ---- correct ----------------------------------------------------------------------- */

/* the reference goes to the map, or back with a put when the store fails */
int tfile_install(struct tfile *f, struct tchan *c)
{
	int ret;

	tchan_get(c);
	spin_lock(&f->lock);
	ret = idr_alloc(&f->handles, c, 1, 0, GFP_NOWAIT);
	spin_unlock(&f->lock);
	if (ret > 0) {
		c->id = ret;
		ret = 0;
	} else {
		tchan_put(c);
	}
	return ret;
}

int tfile_insert(struct tfile *f, struct tchan *c, unsigned long index)
{
	int err;

	tchan_get(c);
	err = xa_insert(&f->chans, index, c, GFP_KERNEL);
	if (err)
		tchan_put(c);
	return err;
}

int tfile_alloc_id(struct tfile *f, struct tchan *c)
{
	u32 id;
	int err;

	tchan_get(c);
	err = xa_alloc(&f->chans, &id, c, 100, GFP_KERNEL);
	if (err < 0) {
		tchan_put(c);
		return err;
	}
	c->id = id;
	return 0;
}

/* the channel found is posted, or dropped when it is closed: the message path keeps
 * the reference */
void tfile_kick(struct tfile *f, unsigned long id, struct tmsg *m, int closed)
{
	struct tchan *c = tchan_find(f, id);

	if (!c)
		return;
	if (closed) {
		tchan_put(c);
		return;
	}
	tchan_post(c, m);
}

/* the kick queues work that holds no reference: the channel's is dropped here */
void tchan_send_kick(struct tfile *f, unsigned long id)
{
	struct tchan *c = tchan_find(f, id);

	if (!c)
		return;
	tchan_kick(c);
	tchan_put(c);
}

/* the posted message takes the caller's reference with the channel */
void tchan_send(struct tchan *c, struct tmsg *m)
{
	tchan_get(c);
	tchan_post(c, m);
}

/* ---- a timer keeps the reference taken for it ---------------------------------------- */

struct timer_list { unsigned long expires; };
int mod_timer(struct timer_list *timer, unsigned long expires);

struct tgroup {
	refcount_t ref;
	struct timer_list timer;
};

static void tgroup_put(struct tgroup *g)
{
	if (refcount_dec_and_test(&g->ref))
		kfree(g);
}

/* the armed timer's callback drops the reference; an already pending one had its own */
void tgroup_start_timer(struct tgroup *g, unsigned long when)
{
	if (!refcount_inc_not_zero(&g->ref))
		return;
	if (mod_timer(&g->timer, when))
		tgroup_put(g);
}

/* the pending timer had its reference already: this one is nobody's */
void tgroup_restart_timer(struct tgroup *g, unsigned long when)
{
	if (!refcount_inc_not_zero(&g->ref))
		return;
	if (mod_timer(&g->timer, when))
		return;					/* expect: ref-leak@warning */
}

/* ---- the dcache takes the inode reference ----------------------------------------- */

struct inode { int i_ino; };
struct dentry { struct inode *d_inode; };
struct inode *tfs_iget(int ino);
void iput(struct inode *inode);
struct dentry *d_splice_alias(struct inode *inode, struct dentry *dentry);

/* the inode goes to the dentry (or is dropped by d_splice_alias() on failure) */
static struct dentry *tfs_splice(struct dentry *dn, struct inode *in)
{
	return d_splice_alias(in, dn);
}

int tfs_fill(struct dentry **dns, int *inos, int n)
{
	struct inode *in;
	int i;

	for (i = 0; i < n; i++) {
		in = tfs_iget(inos[i]);
		if (!in)
			return -ENOMEM;
		if (inos[i] < 0) {
			iput(in);
			continue;
		}
		tfs_splice(dns[i], in);
	}
	return 0;
}

/* ---- a tagged pointer kept in an unsigned long ------------------------------------- */

struct tpkt {
	unsigned long owner_tag;	/* the owning channel, low bits its state */
};

static void tpkt_set_tag(struct tpkt *p, unsigned long tag)
{
	p->owner_tag = tag;
}

/* the packet keeps the channel found, tagged with its state */
int tpkt_attach(struct tfile *f, struct tpkt *p, unsigned long id, unsigned int state)
{
	struct tchan *c = tchan_find(f, id);

	if (!c)
		return -ENOENT;
	tpkt_set_tag(p, (unsigned long)c | state);
	return 0;
}
