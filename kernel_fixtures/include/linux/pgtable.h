/* rcucheck stand-in for <linux/pgtable.h>: a page table mapped under RCU.  The mapping
 * returns the pte holding rcu_read_lock(), or NULL having released it; pte_unmap()
 * releases it (mm/pgtable-generic.c). */
#ifndef _RCUCHECK_LINUX_PGTABLE_H
#define _RCUCHECK_LINUX_PGTABLE_H
#include <linux/rcupdate.h>

typedef struct { unsigned long pte; } pte_t;
typedef struct { unsigned long pmd; } pmd_t;

#define PAGE_SIZE 4096UL
#define PTRS_PER_PTE 512

pte_t *__pte_offset_map(pmd_t *pmd, unsigned long addr, pmd_t *pmdvalp);
#define pte_offset_map(pmd, addr) __pte_offset_map(pmd, addr, NULL)
void pte_unmap(pte_t *pte);
pte_t ptep_get(pte_t *ptep);
void set_pte(pte_t *ptep, pte_t pte);
#endif
