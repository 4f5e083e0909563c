/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in for <linux/xarray.h>: lookups are RCU readers, erasure returns the entry. */
#ifndef _FIXTURE_XARRAY_H
#define _FIXTURE_XARRAY_H
#include <linux/types.h>

struct xarray { void *head; int lock; };

void *xa_load(struct xarray *xa, unsigned long index);
void *xa_erase(struct xarray *xa, unsigned long index);
void *xa_erase_irq(struct xarray *xa, unsigned long index);
int xa_insert(struct xarray *xa, unsigned long index, void *entry, unsigned int gfp);
#endif
