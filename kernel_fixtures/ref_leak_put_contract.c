// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak in the callee of a put: every caller of `tsess_put(s)` hands its reference
 * over, believing the name, so a put that returns without dropping it leaks on that
 * path for all of them.  A put may return early for NULL, an error pointer, the
 * caller's other handle (`prev == root`), or an object its own state says is not
 * counted; on every other return it must have released the reference.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/types.h>
#include <linux/slab.h>
#include <linux/refcount.h>
#include <linux/rculist.h>
#include <linux/sched.h>
#include <linux/memcontrol.h>

bool schedule_work(struct work_struct *work);
extern struct mem_cgroup *root_mem_cgroup;

#define TSESS_ABORT	2
#define TCONN_STATIC	0x1

struct tsess {
	refcount_t ref;
	atomic_t users;
	unsigned long flags;
	struct list_head node;
	struct work_struct free_work;
};

static void tsess_release(struct tsess *s)
{
	list_del(&s->node);
	kfree(s);
}

static void tsess_abort_io(struct tsess *s)
{
	s->flags = 0;
}

/* a session of static storage, never counted */
static struct tsess tsess_idle;

/* ---- buggy ------------------------------------------------------------------------- */

/* the abort path forgets the caller's reference */
void tsess_put(struct tsess *s, int why)
{
	if (why == TSESS_ABORT) {
		tsess_abort_io(s);
		return;				/* expect: ref-leak@warning */
	}
	if (refcount_dec_and_test(&s->ref))
		tsess_release(s);
}

/* the idle session given as `peer` says nothing of `s`, a counted one */
void tsess_peer_put(struct tsess *s, struct tsess *peer)
{
	if (peer != &tsess_idle && refcount_dec_and_test(&s->ref))
		tsess_release(s);
}						/* expect: ref-leak@warning */

/* ---- correct ----------------------------------------------------------------------- */

/* the static idle session is never counted; every other one drops its count */
void tsess_static_put(struct tsess *s)
{
	if (s != &tsess_idle && refcount_dec_and_test(&s->ref))
		tsess_release(s);
}

/* NULL and error pointers are accepted; the counter drops on every other path */
void tsess_put_safe(struct tsess *s)
{
	if (IS_ERR_OR_NULL(s))
		return;
	if (refcount_dec_and_test(&s->ref))
		tsess_release(s);
}

/* a static session is not counted: its own flag says so */
void tsess_put_static(struct tsess *s)
{
	if (s->flags & TCONN_STATIC)
		return;
	if (atomic_dec_and_test(&s->users))
		tsess_release(s);
}

static void tsess_free_work(struct work_struct *work)
{
	tsess_release(container_of(work, struct tsess, free_work));
}

/* the last reference is dropped on every path; the free may be deferred */
void tsess_put_deferred(struct tsess *s)
{
	if (!refcount_dec_and_test(&s->ref))
		return;
	schedule_work(&s->free_work);
}

/* the walk's root is the caller's own handle, never counted here */
void mem_cgroup_iter_break(struct mem_cgroup *root, struct mem_cgroup *prev)
{
	if (!root)
		root = root_mem_cgroup;
	if (prev && prev != root)
		css_put(&prev->css);
}

void tsess_warn(void);
#define TSESS_WARN_ON(condition) ({		\
	int __ret_warn_on = !!(condition);	\
	if (__ret_warn_on)			\
		tsess_warn();			\
	__ret_warn_on;				\
})

/* an error pointer is refused loudly; the caller gave no reference with it */
void tsess_put_checked(struct tsess *s)
{
	if (!s || TSESS_WARN_ON(IS_ERR(s)))
		return;
	if (refcount_dec_and_test(&s->ref))
		tsess_release(s);
}

/* a count already at zero is a bug it reports, not a reference to drop */
void tsess_put_guarded(struct tsess *s)
{
	if (!s)
		return;
	if (atomic_read(&s->users) <= 0)
		tsess_warn();
	else if (atomic_dec_and_test(&s->users))
		tsess_release(s);
}

/* a control's "put" writes a value: the callee of the same naming is no release */
struct tctl {
	unsigned long private_value;
};
int tctl_mixer_put(struct tctl *ctl, long *val);

int tctl_volume_put(struct tctl *ctl, long *val, int effective)
{
	int changed = 1;

	if (effective)
		changed = tctl_mixer_put(ctl, val);
	return changed;
}

/* a dump's "put" writes attributes into a buffer: five parameters, no release, even
 * where it hands the buffer to a helper that keeps a note in it */
struct tbuf {
	unsigned int len;
	char *data;
};

struct tattrs {
	int nr;
	int ids[4];
};

int tbuf_append(struct tbuf *b, int id);
void tbuf_trim(struct tbuf *b, unsigned int len);

static int tattrs_put_all(struct tbuf *b, int type, unsigned int *size)
{
	unsigned int saved = b->len;
	int err = tbuf_append(b, type);

	if (err)
		tbuf_trim(b, saved);
	*size = b->len - saved;
	return err;
}

int tattrs_put(struct tattrs *a, struct tbuf *b, int type, unsigned int *size)
{
	int i, err = 0;

	*size = 0;
	if (!a->nr)
		return tattrs_put_all(b, type, size);
	for (i = 0; i < a->nr; i++)
		err |= tbuf_append(b, a->ids[i]);
	return err;
}

/*
 * A helper that closes a nested attribute records its length, computed from where the
 * buffer's tail now is: `start->len = tbuf_tail(b) - start` stores a 16-bit count, not
 * the buffer, so a `put_*` built on it hands nothing over on the paths that close.
 */
struct tattr {
	unsigned short len;
	unsigned short type;
};

struct tattr *tbuf_tail(struct tbuf *b);
struct tattr *tattr_start(struct tbuf *b, int type);

static int tattr_end(struct tbuf *b, struct tattr *start)
{
	start->len = (char *)tbuf_tail(b) - (char *)start;
	return b->len;
}

static int put_tattr_ids(struct tbuf *b, struct tattrs *a)
{
	struct tattr *nest;

	if (!a->nr)
		return 0;
	nest = tattr_start(b, 1);
	if (!nest)
		return -EMSGSIZE;
	if (tbuf_append(b, a->ids[0]))
		return -EMSGSIZE;
	return tattr_end(b, nest);
}
