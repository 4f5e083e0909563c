// SPDX-License-Identifier: GPL-2.0
/*
 * Control-flow shapes the lowering must handle; no findings expected here.
 * Each function is small and exercises one construct of kernel C.
 */
#include <linux/rcupdate.h>
#include <linux/rculist.h>
#include <linux/sched.h>
#include <linux/slab.h>

struct item {
	struct list_head node;
	int key;
	struct item __rcu *next;
};

static int shape_goto_ladder(int a, int b)
{
	void *x, *y;
	int ret = -ENOMEM;

	x = kmalloc(16, GFP_KERNEL);
	if (!x)
		goto out;
	y = kzalloc(32, GFP_KERNEL);
	if (!y)
		goto free_x;
	ret = a + b;
	kfree(y);
free_x:
	kfree(x);
out:
	return ret;
}

static int shape_switch(int v)
{
	int r = 0;

	switch (v) {
	case 0:
		r = 1;
		/* fall through */
	case 1:
	case 2:
		r += 2;
		break;
	default:
		r = -EINVAL;
	}
	return r;
}

static int shape_loops(struct list_head *head, int n)
{
	struct item *it;
	int i = 0, sum = 0;

	while (i < n) {
		if (i == 3) {
			i++;
			continue;
		}
		sum += i++;
	}
	do {
		sum--;
	} while (sum > 100);
	for (;;) {
		if (sum-- < 0)
			break;
	}
	list_for_each_entry(it, head, node)
		sum += it->key;
	return sum;
}

static int shape_short_circuit(struct item *a, struct item *b)
{
	int ok = a && b && a->key == b->key;

	if (a || (b && b->key))
		return ok ? 1 : 2;
	return (a ?: b) ? 3 : 4;
}

static int shape_stmt_expr(struct item *a)
{
	int v = ({ int __t = a->key; if (__t < 0) __t = 0; __t; });

	return likely(v) ? (v++, v + 1) : unlikely(v == 2);
}

static int shape_rcu(struct item *head)
{
	struct item *p;
	int key = 0;

	rcu_read_lock();
	p = rcu_dereference(head->next);
	if (p)
		key = p->key;
	rcu_read_unlock();
	return key;
}

static int shape_guards(struct item *head, struct mutex *m)
{
	int key = 0;

	scoped_guard(rcu) {
		struct item *p = rcu_dereference(head->next);

		if (!p)
			return -ENOENT;
		key = p->key;
	}
	{
		guard(mutex)(m);
		key++;
	}
	return key;
}
