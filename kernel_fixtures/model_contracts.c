// SPDX-License-Identifier: GPL-2.0
/*
 * Contracts the model states for kernel functions whose bodies say less than their
 * documentation: migrate_enable() never blocks, whatever its body can reach for other
 * tasks; a page's reference is its folio's (`folio = page_folio(page)` names the object
 * `page` holds its reference on).  The bodies below stand in for the kernel's, with the
 * paths the analysis cannot rule out on its own.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/sched.h>

struct completion;
struct task_struct;

struct page {
	unsigned long compound_head;
	refcount_t refcount;
};

struct folio {
	struct page page;
};

static inline unsigned long _compound_head(const struct page *page)
{
	unsigned long head = page->compound_head;

	if (head & 1)
		return head - 1;
	return (unsigned long)page;
}

#define page_folio(p) ((struct folio *)_compound_head(p))

void folio_put(struct folio *folio);
int folio_trylock(struct folio *folio);
void folio_unlock(struct folio *folio);
struct page *tpage_find(unsigned long addr);

static inline struct page *tpage_lookup_get(unsigned long addr)
{
	struct page *page = tpage_find(addr);

	if (page)
		refcount_inc(&page->refcount);
	return page;
}

extern struct completion *tmig_done;
int tmig_pending(struct task_struct *p);
struct task_struct *tmig_current(void);

/* the kernel's version waits only for another task's pending migration */
void migrate_enable(void)
{
	if (tmig_pending(tmig_current()))
		wait_for_completion(tmig_done);
}

void migrate_disable(void);

static int tprog_run_pinned(int (*run)(void *), void *ctx)
{
	int ret;

	migrate_disable();
	ret = run(ctx);
	migrate_enable();
	return ret;
}

struct tfilter {
	int (*run)(void *ctx);
};

/* ---- correct ----------------------------------------------------------------------- */

/* a program run pinned to its CPU inside a reader: migrate_enable() does not block */
int tfilter_run(struct tfilter __rcu **slot, void *ctx)
{
	struct tfilter *f;
	int ret = 0;

	rcu_read_lock();
	f = rcu_dereference(*slot);
	if (f)
		ret = tprog_run_pinned(f->run, ctx);
	rcu_read_unlock();
	return ret;
}

/* the page's reference is dropped through its folio on every path */
int tpage_move(unsigned long addr)
{
	struct page *page = tpage_lookup_get(addr);
	struct folio *folio;

	if (!page)
		return 0;
	folio = page_folio(page);
	if (!folio_trylock(folio)) {
		folio_put(folio);
		return -11;
	}
	folio_unlock(folio);
	folio_put(folio);
	return 1;
}

/* ---- buggy ------------------------------------------------------------------------- */

/* the busy path drops neither the page nor its folio */
int tpage_move_busy(unsigned long addr)
{
	struct page *page = tpage_lookup_get(addr);
	struct folio *folio;

	if (!page)
		return 0;
	folio = page_folio(page);
	if (!folio_trylock(folio))
		return -11;				/* expect: ref-leak@warning */
	folio_unlock(folio);
	folio_put(folio);
	return 1;
}
