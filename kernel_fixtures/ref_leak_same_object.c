// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak: a lookup's result compared with the object already installed.  When the two
 * are equal they are one object, and what is learnt of either holds for both: NULL
 * found through one name means no object, and no reference, under the other.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/refcount.h>
#include <linux/slab.h>

struct tclock {
	refcount_t ref;
	int rate;
};

struct tport {
	struct tclock *clk;
	int rate;
};

struct tclock *tclock_lookup(const char *name);
void tclock_put(struct tclock *clk);

/* finds a clock by name and returns it held, or NULL */
static struct tclock *get_tclock(const char *name)
{
	struct tclock *clk = tclock_lookup(name);

	if (clk)
		refcount_inc(&clk->ref);
	return clk;
}

/* correct: the same clock again, or none asked for and none installed */
int tport_set_clock(struct tport *port, const char *name)
{
	struct tclock *old = port->clk;
	struct tclock *clk;
	int ret;

	clk = get_tclock(name);
	if (old == clk) {
		ret = 0;
		goto out_put;
	}
	if (clk && clk->rate < port->rate) {
		ret = -EINVAL;
		goto out_put;
	}
	port->clk = clk;
	if (old)
		tclock_put(old);
	return 0;

out_put:
	if (clk)
		tclock_put(clk);
	return ret;
}

/* buggy: the same clock found again keeps the lookup's reference */
int tport_set_clock_twice(struct tport *port, const char *name)
{
	struct tclock *old = port->clk;
	struct tclock *clk;

	clk = get_tclock(name);
	if (old == clk)
		return 0;				/* expect: ref-leak@warning */
	if (clk && clk->rate < port->rate) {
		tclock_put(clk);
		return -EINVAL;
	}
	port->clk = clk;
	if (old)
		tclock_put(old);
	return 0;
}
