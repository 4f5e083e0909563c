// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak in the callee of a put the model declares: mem_cgroup_iter_break() drops
 * the reference on `prev` that its caller's walk holds (the model's put = 1), so a
 * return that skips it leaks for every caller.  Its root is the caller's own handle.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/types.h>
#include <linux/memcontrol.h>

/* ---- buggy ------------------------------------------------------------------------- */

/* a walk of the whole hierarchy (no root given) forgets the position it held */
void mem_cgroup_iter_break(struct mem_cgroup *root, struct mem_cgroup *prev)
{
	if (!root)
		return;				/* expect: ref-leak@warning */
	if (prev && prev != root)
		css_put(&prev->css);
}
