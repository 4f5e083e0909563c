// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak on references only the file's own code shows, weighed over the file: a
 * callee unknown to the model whose results most of the file's callers release returns
 * a counted reference; one whose results most callers only use returns a borrowed
 * pointer, and the caller that puts one drops the structure's reference.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/types.h>

struct tport;
struct tnode {
	int flags;
	int state;
};

/* defined in other files: only the callers' code says what they return */
struct tnode *tport_find_node(struct tport *p, int id);
struct tnode *tport_lookup(struct tport *p, int id);
struct tnode *tport_find_peer(struct tport *p, int id);
void tnode_put(struct tnode *n);

#define TNODE_UNUSED 3

/* the port's reference goes when the node leaves it, unused */
static void tnode_set_state(struct tnode *n, int state)
{
	n->state = state;
	if (state == TNODE_UNUSED)
		tnode_put(n);
}

/* ---- buggy ------------------------------------------------------------------------- */

/* every caller releases what the lookup returns; the busy return does not */
int tport_ping(struct tport *p, int id)
{
	struct tnode *n = tport_lookup(p, id);

	if (!n)
		return -ENODEV;
	if (n->state)
		return -EBUSY;				/* expect: ref-leak@warning */
	n->flags++;
	tnode_put(n);
	return 0;
}

int tport_touch(struct tport *p, int id)
{
	struct tnode *n = tport_lookup(p, id);

	if (!n)
		return -ENODEV;
	n->flags++;
	tnode_put(n);
	return 0;
}

int tport_reset(struct tport *p, int id)
{
	struct tnode *n = tport_lookup(p, id);

	if (!n)
		return -ENODEV;
	n->state = 0;
	tnode_put(n);
	return 0;
}

/* ---- correct ----------------------------------------------------------------------- */

/* the node leaves the port: the put drops the port list's reference, the lookup borrowed */
int tport_retire(struct tport *p, int id)
{
	struct tnode *n = tport_find_node(p, id);

	if (!n)
		return -ENODEV;
	if (n->state)
		return -EBUSY;
	n->flags = 0;
	tnode_put(n);
	return 0;
}

int tport_mark(struct tport *p, int id)
{
	struct tnode *n = tport_find_node(p, id);

	if (!n)
		return -ENODEV;
	n->flags |= 1;
	return 0;
}

int tport_state(struct tport *p, int id)
{
	struct tnode *n = tport_find_node(p, id);

	return n ? n->state : -ENODEV;
}

void tport_clear(struct tport *p, int id)
{
	struct tnode *n = tport_find_node(p, id);

	if (n)
		n->flags = 0;
}

/* the state change drops the port's reference, not one the lookup returned */
int tport_retire_state(struct tport *p, int id)
{
	struct tnode *n = tport_find_peer(p, id);

	if (!n)
		return -ENODEV;
	if (n->flags)
		return -EBUSY;
	tnode_set_state(n, TNODE_UNUSED);
	return 0;
}
