// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak through an iterator's step: a function given the caller's object that
 * hands it back unchanged when it still fits and otherwise puts it and looks up the
 * next one with a reference of its own (the shape of get_dev_pagemap(pfn, pgmap) and
 * of_find_node_by_name(from, name)).  To its caller, the call drops the reference it
 * was given and returns one: the variable it assigns holds a reference, whichever
 * path the step took.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/xarray.h>

struct tspan {
	refcount_t ref;
	unsigned long start, end;
};

void tspan_put(struct tspan *s);
int tspan_busy(struct tspan *s);

static struct xarray tspans;

/* the span covering pfn, with a reference; `s`, if given, is the caller's to drop */
static struct tspan *tspan_step(unsigned long pfn, struct tspan *s)
{
	if (s) {
		if (pfn >= s->start && pfn < s->end)
			return s;
		tspan_put(s);
	}
	rcu_read_lock();
	s = xa_load(&tspans, pfn);
	if (s && !refcount_inc_not_zero(&s->ref))
		s = NULL;
	rcu_read_unlock();
	return s;
}

/* ---- buggy ------------------------------------------------------------------------- */

/* the busy exit returns with the span the last step handed back */
int tspan_claim(unsigned long pfn, unsigned long n)
{
	struct tspan *s = NULL;

	do {
		s = tspan_step(pfn, s);
		if (!s)
			return -ENOENT;
		if (tspan_busy(s))
			return -EBUSY;			/* expect: ref-leak@warning */
		pfn++;
	} while (--n);
	tspan_put(s);
	return 0;
}

/* ---- correct ----------------------------------------------------------------------- */

/* every exit after a step leaves through the put */
int tspan_claim_all(unsigned long pfn, unsigned long n)
{
	struct tspan *s = NULL;
	int ret = 0;

	do {
		s = tspan_step(pfn, s);
		if (!s)
			return -ENOENT;
		if (tspan_busy(s)) {
			ret = -EBUSY;
			break;
		}
		pfn++;
	} while (--n);
	tspan_put(s);
	return ret;
}

/* one step, and its result released */
int tspan_probe(unsigned long pfn)
{
	struct tspan *s = tspan_step(pfn, NULL);

	if (!s)
		return -ENOENT;
	tspan_put(s);
	return 0;
}
