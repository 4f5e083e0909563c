// SPDX-License-Identifier: GPL-2.0
/*
 * A page-table walk holds RCU while its pte pointer is mapped: the pointer moves along
 * the table (`pte++`) and stays the mapped one, and a walk that unmaps sets it back to
 * NULL to remember that it holds nothing.  A mapping that cannot fail (a table the
 * function just built) is unmapped with the pointer it returned, moved or not.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/pgtable.h>
#include <linux/sched.h>

struct tswap_ctx {
	unsigned long type;
	int busy;
};

int tswap_entry_ours(struct tswap_ctx *ctx, pte_t pte);
int tswap_bring_in(struct tswap_ctx *ctx, unsigned long addr);

/* ---- buggy ------------------------------------------------------------------------- */

/* the busy exit leaves with the table still mapped */
static int tswap_unuse_range_leaky(struct tswap_ctx *ctx, pmd_t *pmd,
				   unsigned long addr, unsigned long end)
{
	pte_t *pte = NULL;

	do {
		if (!pte++) {
			pte = pte_offset_map(pmd, addr);
			if (!pte)
				break;
		}
		if (ctx->busy)
			return -EBUSY;			/* expect: rcu-unbalanced@warning */
		if (!tswap_entry_ours(ctx, ptep_get(pte)))
			continue;
		pte_unmap(pte);
		pte = NULL;
		if (tswap_bring_in(ctx, addr))
			return -ENOMEM;
	} while (addr += PAGE_SIZE, addr != end);

	if (pte)
		pte_unmap(pte);
	return 0;
}

/* waits for the entry while the table is still mapped */
static int tswap_unuse_range_sleepy(struct tswap_ctx *ctx, pmd_t *pmd,
				    unsigned long addr, unsigned long end)
{
	pte_t *pte = NULL;

	do {
		if (!pte++) {
			pte = pte_offset_map(pmd, addr);
			if (!pte)
				break;
		}
		if (!tswap_entry_ours(ctx, ptep_get(pte)))
			continue;
		msleep(1);				/* expect: rcu-sleep-in-reader@warning */
		pte_unmap(pte);
		pte = NULL;
	} while (addr += PAGE_SIZE, addr != end);

	if (pte)
		pte_unmap(pte);
	return 0;
}

/* ---- correct ----------------------------------------------------------------------- */

/* unmaps before it may sleep, and remembers so by the NULL pointer */
static int tswap_unuse_range(struct tswap_ctx *ctx, pmd_t *pmd,
			     unsigned long addr, unsigned long end)
{
	pte_t *pte = NULL;

	do {
		if (!pte++) {
			pte = pte_offset_map(pmd, addr);
			if (!pte)
				break;
		}
		if (!tswap_entry_ours(ctx, ptep_get(pte)))
			continue;
		pte_unmap(pte);
		pte = NULL;
		if (tswap_bring_in(ctx, addr))
			return -ENOMEM;
		msleep(1);
	} while (addr += PAGE_SIZE, addr != end);

	if (pte)
		pte_unmap(pte);
	return 0;
}

/* fills a table it just built: the mapping cannot fail, and the walk's last pte
 * unmaps it */
static void tswap_fill_new_table(pmd_t *pmd, unsigned long haddr, pte_t entry)
{
	pmd_t _pmd = *pmd;
	pte_t *pte;
	int i;

	pte = pte_offset_map(&_pmd, haddr);
	for (i = 0; i < PTRS_PER_PTE; i++, haddr += PAGE_SIZE) {
		set_pte(pte, entry);
		pte++;
	}
	pte_unmap(pte - 1);
}

/* the plain walk: mapped or not, by the test right after the mapping */
static int tswap_count_range(struct tswap_ctx *ctx, pmd_t *pmd, unsigned long addr,
			     unsigned long end)
{
	pte_t *start, *pte;
	int n = 0;

	start = pte = pte_offset_map(pmd, addr);
	if (!pte)
		return -EAGAIN;
	for (; addr != end; pte++, addr += PAGE_SIZE)
		n += tswap_entry_ours(ctx, ptep_get(pte));
	pte_unmap(start);
	return n;
}
