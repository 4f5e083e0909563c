/* rcucheck stand-in for a subsystem header: kernel_fixtures/follow/core.c defines, user.c calls. */
#ifndef _RCUCHECK_FIXTURE_TNODE_H
#define _RCUCHECK_FIXTURE_TNODE_H
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/slab.h>

#define TNODE_DEAD 1

struct tnode {
	refcount_t ref;
	int flags;
	int val;
};

struct tnode_tbl {
	struct tnode __rcu *slot[16];
	struct mutex lock;
};

struct tnode *tnode_lookup(struct tnode_tbl *tbl, int key);
struct tnode *tnode_lookup_cached(struct tnode_tbl *tbl, int key);
void tnode_release(struct tnode *n);
void tnode_flush(struct tnode_tbl *tbl);
#endif
