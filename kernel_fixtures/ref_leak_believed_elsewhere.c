// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak on references that another function's code shows: a callee defined
 * elsewhere, unknown to the model, whose result at least half of the file's callers
 * release returns a counted reference to every caller (callers share the callee's
 * contract; one caller of many is not a convention).
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
struct tdev *tdev_of(int id);
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

/* one caller of three releases what tdev_of() returns: no convention of the file */
void tdev_drop(int id)
{
	struct tdev *d = tdev_of(id);

	if (d)
		tdev_put(d);
}

int tdev_users(int id)
{
	struct tdev *d = tdev_of(id);

	return d ? d->users : 0;
}

bool tdev_idle(int id)
{
	struct tdev *d = tdev_of(id);

	return !d || !d->users;
}
