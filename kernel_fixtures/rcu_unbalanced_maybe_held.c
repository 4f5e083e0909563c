// SPDX-License-Identifier: GPL-2.0
/*
 * A walk that returns holding RCU on some paths only, under a condition it records in
 * the caller's structure and not in its result (a pte-level entry is mapped under RCU,
 * a huge one is not), and the end of the walk that releases it under the same
 * condition.  The callers' nesting after the start is unknown to the analysis: their
 * release is not reported as one of a section never entered, nor are they reported
 * for returning with it.  Callers of a helper that says nothing of sections are still
 * checked.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>

struct tmm;
struct tentry {
	int flags;
};

enum { TWALK_HUGE = 1, TWALK_PTE = 2 };

struct twalk {
	int level;
	struct tentry *pte;
};

bool tmm_huge(struct tmm *mm, unsigned long addr);
struct tentry *tmm_huge_entry(struct tmm *mm, unsigned long addr);
struct tentry *tmm_map(struct tmm *mm, unsigned long addr);
int tentry_use(struct tentry *e);

/* pte-level entries are returned mapped: under RCU until twalk_end() */
struct tentry *twalk_start(struct twalk *w, struct tmm *mm, unsigned long addr)
{
	struct tentry *e;

	if (tmm_huge(mm, addr)) {
		w->level = TWALK_HUGE;
		return tmm_huge_entry(mm, addr);
	}
	rcu_read_lock();
	e = tmm_map(mm, addr);
	if (!e) {
		rcu_read_unlock();
		return NULL;
	}
	w->level = TWALK_PTE;
	w->pte = e;
	return e;					/* expect: rcu-unbalanced@warning */
}

#define twalk_end(w) do {				\
	if ((w)->level == TWALK_PTE)			\
		rcu_read_unlock();			\
} while (0)

/* ---- correct ----------------------------------------------------------------------- */

int tmm_flags(struct tmm *mm, unsigned long addr)
{
	struct twalk w;
	struct tentry *e;
	int flags;

	e = twalk_start(&w, mm, addr);
	if (!e)
		return -1;
	flags = e->flags;
	twalk_end(&w);
	return flags;
}

/* ---- buggy ------------------------------------------------------------------------- */

/* a release of a section nothing entered: the helper here says nothing of sections */
int tmm_use(struct tmm *mm, unsigned long addr)
{
	struct tentry *e;
	int ret;

	e = tmm_map(mm, addr);
	if (!e)
		return -1;
	ret = tentry_use(e);
	rcu_read_unlock();				/* expect: rcu-unbalanced@warning */
	return ret;
}
