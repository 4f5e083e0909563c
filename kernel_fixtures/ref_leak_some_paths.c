// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak: a lookup that returns a held object on some paths, and on the others what
 * a callee in another file returns.  Its callers cannot tell the paths apart, so what
 * they get is a reference to drop.  (No function here releases the lookup's result:
 * only its summary can say that it returns a reference.)
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/refcount.h>
#include <linux/slab.h>

struct tbucket {
	refcount_t ref;
	int gen;
};

struct tbucket_slot {
	struct tbucket *cur;
};

struct tbucket *tbucket_cached(int key);
/* in another file: builds a bucket and returns it held */
struct tbucket *tbucket_build(int key);

struct tbucket *tbucket_get(int key)
{
	struct tbucket *b = tbucket_cached(key);

	if (b) {
		refcount_inc(&b->ref);
		return b;
	}
	return tbucket_build(key);
}

int tbucket_gen(int key)
{
	struct tbucket *b = tbucket_get(key);

	if (!b)
		return -ENOMEM;
	return b->gen;					/* expect: ref-leak@warning */
}

/* correct: the slot keeps the reference */
int tbucket_fill(struct tbucket_slot *slot, int key)
{
	struct tbucket *b = tbucket_get(key);

	if (!b)
		return -ENOMEM;
	slot->cur = b;
	return 0;
}
