// SPDX-License-Identifier: GPL-2.0
/*
 * rcu-plain-access: pointers RCU readers share, read or written without the accessors.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>

struct route {
	int metric;
	struct rcu_head rcu;
};

struct table {
	struct route __rcu *best;	/* declared RCU-shared */
	struct route *fallback;		/* RCU-shared by use: readers dereference it below */
	struct route *scratch;		/* never used by readers */
	struct mutex lock;
	spinlock_t slock;
};

static struct table __rcu *active_table;

static int route_metric(struct route *r)
{
	return r ? r->metric : -1;
}

/* ---- buggy ------------------------------------------------------------------------- */

/* publishes before the metric is visible */
static void table_set_best(struct table *t, struct route *r, int metric)
{
	r->metric = metric;
	mutex_lock(&t->lock);
	t->best = r;					/* expect: rcu-plain-access@warning */
	mutex_unlock(&t->lock);
}

/* a plain read of a declared __rcu pointer in a reader */
static int table_best_metric(struct table *t)
{
	int m;

	rcu_read_lock();
	m = route_metric(t->best);			/* expect: rcu-plain-access@warning */
	rcu_read_unlock();
	return m;
}

/* the update side, read without saying which lock protects it */
static struct route *table_take_best(struct table *t)
{
	struct route *old;

	mutex_lock(&t->lock);
	old = t->best;					/* expect: rcu-plain-access@warning */
	rcu_assign_pointer(t->best, NULL);
	mutex_unlock(&t->lock);
	return old;
}

/* a field the readers below load with rcu_dereference(), stored plainly */
static void table_set_fallback(struct table *t, struct route *r)
{
	spin_lock(&t->slock);
	t->fallback = r;				/* expect: rcu-plain-access@warning */
	spin_unlock(&t->slock);
}

/* ... and read plainly on the update side: not declared __rcu, so the lock is taken to
 * be what protects it (only a declared __rcu pointer asks for rcu_dereference_protected) */
static int table_fallback_metric_locked(struct table *t)
{
	int m;

	spin_lock(&t->slock);
	m = t->fallback->metric;
	spin_unlock(&t->slock);
	return m;
}

/* a reader loading a field the file elsewhere loads with rcu_dereference() */
static int table_fallback_peek(struct table *t)
{
	struct route *r;
	int m;

	rcu_read_lock();
	r = t->fallback;				/* expect: rcu-plain-access@warning */
	m = r ? r->metric : -1;
	rcu_read_unlock();
	return m;
}

/* a global declared __rcu, replaced plainly */
static void table_activate(struct table *t)
{
	active_table = t;				/* expect: rcu-plain-access@warning */
}

/* once published, the new table is no longer private */
static void table_new_late(struct route *r)
{
	struct table *t = kzalloc(sizeof(*t), GFP_KERNEL);

	if (!t)
		return;
	rcu_assign_pointer(active_table, t);
	t->best = r;					/* expect: rcu-plain-access@warning */
}

/* a table the caller passed in, already published: changing it plainly is not its init */
static void table_retune(struct table *t, struct route *r)
{
	rcu_assign_pointer(active_table, t);
	t->best = r;					/* expect: rcu-plain-access@warning */
}

/* a route loaded plainly is not an already-published one: storing it publishes it */
static void table_promote_plain(struct table *t, struct table *from)
{
	struct route *r = from->fallback->metric ? from->scratch : NULL;

	t->best = r;					/* expect: rcu-plain-access@warning */
}

/* ---- correct ----------------------------------------------------------------------- */

static int table_fallback_metric(struct table *t)
{
	struct route *r;
	int m = -1;

	rcu_read_lock();
	r = rcu_dereference(t->fallback);
	if (r)
		m = r->metric;
	rcu_read_unlock();
	return m;
}

static void table_publish(struct table *t, struct route *r)
{
	mutex_lock(&t->lock);
	rcu_assign_pointer(t->best, r);
	mutex_unlock(&t->lock);
}

/* storing NULL needs no ordering; testing and comparing the pointer loads nothing */
static bool table_clear(struct table *t, struct route *r)
{
	bool was = false;

	mutex_lock(&t->lock);
	if (t->best && t->best == r) {
		t->best = NULL;
		was = true;
	}
	mutex_unlock(&t->lock);
	return was;
}

/* a new table, filled in before anyone can see it */
static struct table *table_new(struct route *r)
{
	struct table *t = kzalloc(sizeof(*t), GFP_KERNEL);

	if (!t)
		return NULL;
	t->best = r;
	t->fallback = r;
	rcu_assign_pointer(active_table, t);
	return t;
}

/* a field no reader uses is not RCU-shared */
static void table_set_scratch(struct table *t, struct route *r)
{
	t->scratch = r;
	route_metric(t->scratch);
}

/* the update side saying what protects it */
static struct route *table_best_locked(struct table *t)
{
	return rcu_dereference_protected(t->best, 1);
}

/* the address of the pointer is not an access to it */
static struct route __rcu **table_best_slot(struct table *t)
{
	return &t->best;
}

static bool table_is_active(struct table *t)
{
	return rcu_access_pointer(active_table) == t;
}

/* the caller allocated the table; this function initialises it, then publishes it */
static void table_install(struct table *t, struct route *r)
{
	t->best = r;
	t->fallback = r;
	rcu_assign_pointer(active_table, t);
}

static struct table *table_alloc(void)
{
	return kzalloc(sizeof(struct table), GFP_KERNEL);
}

/* allocated by a helper, initialised, then published */
static struct table *table_grow(struct table *old)
{
	struct table *t = table_alloc();

	if (!t)
		return NULL;
	t->best = rcu_dereference_protected(old->best, 1);
	t->fallback = old->fallback;
	rcu_assign_pointer(active_table, t);
	return t;
}

/* moving a pointer readers could already find needs no ordering (RCU_INIT_POINTER()'s
 * third case): the object it points to was published before */
static void table_move_best(struct table *to, struct table *from)
{
	struct route *r = rcu_dereference_protected(from->best, 1);

	to->best = r;
}

/* read under the update side's lock inside a reader: the lock may be what protects it */
static int table_best_metric_locked_reader(struct table *t)
{
	int m;

	rcu_read_lock();
	spin_lock(&t->slock);
	m = route_metric(t->best);			/* expect: rcu-plain-access@note */
	spin_unlock(&t->slock);
	rcu_read_unlock();
	return m;
}

/* ---- arrays of RCU-shared pointers: each element is one ------------------------------ */

struct route_map {
	unsigned int size;
	struct mutex lock;
	struct route __rcu **slots;		/* each slot is RCU-shared */
	struct route __rcu *direct[16];		/* likewise */
	struct route *plain[16];		/* not shared with readers */
};

/* buggy: an element read into a plain pointer with no accessor */
static int route_map_metric(struct route_map *m, unsigned int i)
{
	struct route *r;

	rcu_read_lock();
	r = m->direct[i & 15];				/* expect: rcu-plain-access@warning */
	i = route_metric(r);
	rcu_read_unlock();
	return i;
}

/* buggy: a slot published plainly, its route's metric not yet visible to readers */
static void route_map_set(struct route_map *m, unsigned int i, struct route *r, int metric)
{
	r->metric = metric;
	mutex_lock(&m->lock);
	m->slots[i] = r;				/* expect: rcu-plain-access@warning */
	mutex_unlock(&m->lock);
}

/* correct: the accessors, and a plain array nobody reads under RCU */
static int route_map_metric_ok(struct route_map *m, unsigned int i)
{
	struct route *r;
	int metric;

	rcu_read_lock();
	r = rcu_dereference(m->direct[i & 15]);
	metric = route_metric(r);
	r = rcu_dereference(m->slots[i]);
	metric += route_metric(r);
	metric += route_metric(m->plain[i & 15]);
	rcu_read_unlock();
	return metric;
}

static void route_map_set_ok(struct route_map *m, unsigned int i, struct route *r)
{
	mutex_lock(&m->lock);
	rcu_assign_pointer(m->slots[i], r);
	RCU_INIT_POINTER(m->direct[i & 15], NULL);
	m->plain[i & 15] = r;
	mutex_unlock(&m->lock);
}

/* `__rcu` on the pointers each bucket array holds: the array of buckets itself is a plain
 * pointer array, set up before anything is published */
struct ptun {
	int key;
};

struct ptun_net {
	struct ptun __rcu **buckets[2];
	struct ptun __rcu *wildcard[1];
	struct ptun __rcu *hashed[16];
};

static void ptun_init_net(struct ptun_net *pn)
{
	pn->buckets[0] = pn->wildcard;
	pn->buckets[1] = pn->hashed;
}

/* ---- moves between two RCU-shared locations ---------------------------------------- */

struct rnode {
	struct rnode __rcu *next;
	int key;
};

struct rlist {
	struct rnode __rcu *head;
	struct mutex lock;
};

/* unlinks a node: its successor moves from one RCU-shared slot to another; readers
 * see either pointer, both published */
static void rlist_unlink(struct rlist *l, struct rnode *n)
{
	struct rnode __rcu **pp = &l->head;
	struct rnode *cur;

	mutex_lock(&l->lock);
	while ((cur = rcu_dereference_protected(*pp, 1)) != NULL) {
		if (cur == n) {
			*pp = n->next;
			break;
		}
		pp = &cur->next;
	}
	mutex_unlock(&l->lock);
}

/* the successor copied into a node's own slot before the node is linked */
static void rlist_push(struct rlist *l, struct rnode *n)
{
	mutex_lock(&l->lock);
	n->next = l->head;
	rcu_assign_pointer(l->head, n);
	mutex_unlock(&l->lock);
}

/* a plain read of the list head handed to a helper still says nothing of its lock */
static int rlist_first_key(struct rlist *l)
{
	struct rnode *n;

	mutex_lock(&l->lock);
	n = l->head;					/* expect: rcu-plain-access@warning */
	mutex_unlock(&l->lock);
	return n ? n->key : -1;
}

/* ---- tested and compared pointers: the value, not what it points to ---------------- */

static struct route __rcu *route_cache[8];

/* correct: an element tested for NULL, then read through the accessor */
static int route_map_has(struct route_map *m, unsigned int i)
{
	int metric = -1;

	if (m->direct[i & 15]) {
		rcu_read_lock();
		metric = route_metric(rcu_dereference(m->direct[i & 15]));
		rcu_read_unlock();
	}
	return metric;
}

/* correct: an element compared with the value it is to be cleared of */
static void route_cache_forget(struct route *r)
{
	int i;

	for (i = 0; i < 8; i++) {
		if (route_cache[i] != r)
			continue;
		RCU_INIT_POINTER(route_cache[i], NULL);
		break;
	}
}

/* buggy: the test reads a member through the RCU-shared pointer, which it loads plainly */
static bool table_best_is_set(struct table *t)
{
	bool ret;

	rcu_read_lock();
	ret = false;
	if (t->best->metric)				/* expect: rcu-plain-access@warning */
		ret = true;
	rcu_read_unlock();
	return ret;
}
