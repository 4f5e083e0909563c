// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak on references that another function's code shows: a callee defined
 * elsewhere, unknown to the model, whose result one function of the file releases
 * returns a counted reference to every caller (callers share the callee's contract).
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/slab.h>

struct tdev {
	int users;
};

struct tdev_slot {
	struct tdev *dev;
};

/* defined in other files: nothing but the callers' code says what they return */
struct tdev *tdev_find(int id);
struct tdev *tdev_peek(int id);
int tdev_count(struct tdev *d);
void tdev_touch(struct tdev *d);
void tdev_put(struct tdev *d);

/* releases what tdev_find() returns: the evidence */
int tdev_usage(int id)
{
	struct tdev *d = tdev_find(id);
	int n;

	if (!d)
		return 0;
	n = tdev_count(d);
	tdev_put(d);
	return n;
}

/* ---- buggy ------------------------------------------------------------------------- */

/* the same lookup's reference, never released here */
bool tdev_busy(int id)
{
	struct tdev *d = tdev_find(id);

	if (!d)
		return false;
	return d->users > 0;				/* expect: ref-leak@warning */
}

/* ---- correct ----------------------------------------------------------------------- */

/* handed to the caller */
struct tdev *tdev_lookup_ref(int id)
{
	return tdev_find(id);
}

/* stored where it is kept */
void tdev_cache(struct tdev_slot *s, int id)
{
	s->dev = tdev_find(id);
}

/* released on every path here too */
void tdev_poke(int id)
{
	struct tdev *d = tdev_find(id);

	if (d) {
		tdev_touch(d);
		tdev_put(d);
	}
}

/* a callee no function releases: nothing is known of what it returns */
bool tdev_peek_busy(int id)
{
	struct tdev *d = tdev_peek(id);

	return d && d->users > 0;
}
