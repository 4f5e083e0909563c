// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak through a field that holds counted references: an iterator's current
 * element, a cached object. The field is known to hold references because the function
 * gets or puts through it; a path that has just found it non-NULL and overwrites it with
 * nothing having passed it on leaks the reference it held.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/memcontrol.h>
#include <linux/refcount.h>
#include <linux/slab.h>

void get_task_struct(struct task_struct *t);
void put_task_struct(struct task_struct *t);
struct task_struct *next_task_of(struct task_struct *t);
void task_forget(struct task_struct *t);

struct titer {
	struct task_struct *cur;
	struct obj_cgroup *cached;
	struct task_struct *hint;	/* never counted: no get or put passes it */
	int pos;
};

/* where the fields get their references */
static void titer_set(struct titer *it, struct task_struct *t)
{
	get_task_struct(t);
	it->cur = t;
	get_task_struct(it->cur);
	put_task_struct(t);
}

static void titer_cache(struct titer *it, struct obj_cgroup *objcg)
{
	obj_cgroup_get(objcg);
	it->cached = objcg;
}

void titer_end(struct titer *it)
{
	if (it->cur)
		put_task_struct(it->cur);
	if (it->cached)
		obj_cgroup_put(it->cached);
}

/* ---- buggy ------------------------------------------------------------------------- */

static struct task_struct *titer_next(struct titer *it)
{
	if (it->cur)
		it->cur = NULL;				/* expect: ref-leak@warning */
	if (it->pos > 0) {
		it->cur = next_task_of(NULL);
		get_task_struct(it->cur);
	}
	return it->cur;
}

static void titer_step(struct titer *it, struct task_struct *next)
{
	if (it->cur) {
		it->pos++;
		it->cur = next;				/* expect: ref-leak@warning */
	}
	get_task_struct(it->cur);
}

static void titer_uncache(struct titer *it, struct obj_cgroup *objcg)
{
	if (!it->cached)
		return;
	it->cached = objcg;				/* expect: ref-leak@warning */
	obj_cgroup_get(it->cached);
}

static void titer_switch(struct titer *it, struct task_struct *t, bool keep)
{
	if (keep)
		return;
	if (it->cur)
		it->cur = t;				/* expect: ref-leak@warning */
	get_task_struct(it->cur);
}

static void titer_drop_cached(struct titer *it, bool all)
{
	if (all && it->cached)
		it->cached = NULL;			/* expect: ref-leak@warning */
	else if (it->cached)
		obj_cgroup_put(it->cached);
}

static void titer_skip(struct titer *it, struct task_struct *t)
{
	while (it->cur) {
		it->pos--;
		it->cur = NULL;				/* expect: ref-leak@warning */
	}
	it->cur = t;
	get_task_struct(it->cur);
}

/* ---- correct ----------------------------------------------------------------------- */

static void titer_reset_ok(struct titer *it)
{
	if (it->cur) {
		put_task_struct(it->cur);
		it->cur = NULL;
	}
}

/* the reference moves to a local that puts it after the store */
static void titer_step_ok(struct titer *it, struct task_struct *next)
{
	struct task_struct *prev = it->cur;

	if (it->cur) {
		it->cur = next;
		put_task_struct(prev);
	}
}

/* a callee takes the object over */
static void titer_hand_off(struct titer *it)
{
	if (it->cur) {
		task_forget(it->cur);
		it->cur = NULL;
	}
}

/* not known to be non-NULL: an initialisation */
static void titer_init(struct titer *it)
{
	it->cur = NULL;
	it->cached = NULL;
	it->pos = 0;
}

/* a field this function neither gets nor puts through: whose references it holds, if
 * any, is not shown here */
static void titer_clear_hint(struct titer *it)
{
	if (it->hint)
		it->hint = NULL;
	if (it->cur)
		it->cur = NULL;
}

/* the test is of another condition (an assertion that it is already this task) */
static void titer_adopt(struct titer *it, struct task_struct *t)
{
	if (it->cur && it->cur != t)
		it->pos = -1;
	it->cur = t;
	get_task_struct(it->cur);
}

static void titer_uncache_ok(struct titer *it)
{
	if (!it->cached)
		return;
	obj_cgroup_put(it->cached);
	it->cached = NULL;
}

/* a module pointer field: the reference try_module_get() takes is the taker's */
struct thandler {
	struct module *owner;
	struct thandler *next;
	int (*fn)(void);
};

int thandler_call(struct thandler *h)
{
	int ret;

	if (!try_module_get(h->owner))
		return -ENOENT;
	ret = h->fn();
	module_put(h->owner);
	return ret;
}

static void thandler_release(struct thandler *h)
{
	if (h)
		module_put(h->owner);
}

int thandler_run(struct thandler *h);

/* runs the handler, then drops the module reference its caller took */
static int thandler_call_once(struct thandler *h)
{
	int ret = thandler_run(h);

	thandler_release(h);
	return ret;
}

/* each handler's module is pinned for the call, and the helper drops it */
int thandler_call_all(struct thandler *first)
{
	struct thandler *h;
	int err = 0;

	for (h = first; h; h = h->next) {
		if (!try_module_get(h->owner))
			continue;
		err = thandler_call_once(h);
		if (err < 0)
			break;
	}
	return err;
}

/* a handler with no function stops the walk with its module still pinned */
int thandler_call_all_leaky(struct thandler *first)
{
	struct thandler *h;
	int err = 0;

	for (h = first; h; h = h->next) {
		if (!try_module_get(h->owner))
			continue;
		if (!h->fn) {
			err = -EINVAL;
			break;
		}
		err = thandler_call_once(h);
		if (err < 0)
			break;
	}
	return err;				/* expect: ref-leak@warning */
}

/* a client pins the module of the protocol version it speaks */
struct tversion {
	struct module *owner;
};

struct tclient {
	struct tversion *ver;
	char *name;
};

static void tversion_put(struct tversion *v)
{
	module_put(v->owner);
}

struct tclient *tclient_alloc(struct tversion *ver, bool named)
{
	struct tclient *c = kzalloc(sizeof(*c), GFP_KERNEL);
	int err = -ENOMEM;

	if (!c)
		goto error_0;
	c->ver = ver;
	if (!try_module_get(c->ver->owner))
		goto error_dealloc;
	if (named) {
		c->name = kmalloc(16, GFP_KERNEL);
		if (!c->name)
			goto error_cleanup;
	}
	return c;
error_cleanup:
	tversion_put(c->ver);
error_dealloc:
	kfree(c);
error_0:
	return ERR_PTR(err);
}

/* the name's failure skips the version's put */
struct tclient *tclient_alloc_leaky(struct tversion *ver, bool named)
{
	struct tclient *c = kzalloc(sizeof(*c), GFP_KERNEL);
	int err = -ENOMEM;

	if (!c)
		goto error_0;
	c->ver = ver;
	if (!try_module_get(c->ver->owner))
		goto error_dealloc;
	if (named) {
		c->name = kmalloc(16, GFP_KERNEL);
		if (!c->name)
			goto error_dealloc;
	}
	return c;
error_dealloc:
	kfree(c);
error_0:
	return ERR_PTR(err);				/* expect: ref-leak@warning */
}

static void thandler_set(struct thandler *h, struct module *owner)
{
	if (h->owner && h->owner != owner)
		h->owner = owner;
}

void titer_ops(struct titer *it, struct task_struct *t, struct obj_cgroup *objcg)
{
	titer_set(it, t);
	titer_cache(it, objcg);
	titer_next(it);
	titer_step(it, t);
	titer_uncache(it, objcg);
	titer_switch(it, t, false);
	titer_drop_cached(it, true);
	titer_skip(it, t);
	titer_adopt(it, t);
	titer_reset_ok(it);
	titer_step_ok(it, t);
	titer_hand_off(it);
	titer_init(it);
	titer_clear_hint(it);
	titer_uncache_ok(it);
	thandler_set(NULL, NULL);
}
