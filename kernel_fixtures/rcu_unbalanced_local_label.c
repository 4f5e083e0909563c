// SPDX-License-Identifier: GPL-2.0
/*
 * rcu-unbalanced with GNU local labels: a macro's statement expression declares its
 * own `out` (`__label__ out;`), which is not the function's `out`.  A goto inside the
 * macro stays inside the macro; the function's section stays balanced.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>

struct tent {
	int type;
	int val;
};

/* the next entry of the given type, or the end: the local label ends the scan */
#define tent_next(_e, _end, _type)				\
({								\
	__label__ out;						\
	for (; (_e) < (_end); (_e)++)				\
		if ((_e)->type == (_type))			\
			goto out;				\
out:								\
	(_e) < (_end);						\
})

int tent_sum(struct tent *v, int n, int type)
{
	struct tent *e = v, *end = v + n;
	int sum = 0;

	if (!v)
		goto out;
	rcu_read_lock();
	while (tent_next(e, end, type)) {
		sum += e->val;
		e++;
	}
	rcu_read_unlock();
out:
	return sum;
}

/* the function's own `out` is still where a goto of the function lands */
int tent_first(struct tent *v, int n, int type)
{
	struct tent *e = v, *end = v + n;
	int found = -1;

	rcu_read_lock();
	if (tent_next(e, end, type))
		goto out;
	rcu_read_unlock();
	return found;
out:
	found = e->val;
	return found;					/* expect: rcu-unbalanced@warning */
}
