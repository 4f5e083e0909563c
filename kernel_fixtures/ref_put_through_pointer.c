// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak: a put given the address of the caller's pointer (`tmaster_put(&m)`), which
 * drops the reference on what the pointer points to and clears the pointer, so that
 * the caller cannot use it again.  The caller's reference is dropped through its
 * variable's address.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/slab.h>

struct tmaster {
	struct kref refcount;
	struct tmaster *lessor;
	int id;
};

struct tfile {
	spinlock_t lock;
	struct tmaster *master;
};

static void tmaster_destroy(struct kref *kref)
{
	kfree(container_of(kref, struct tmaster, refcount));
}

/* the file's master, held, or NULL */
static struct tmaster *tfile_get_master(struct tfile *f)
{
	struct tmaster *m;

	spin_lock(&f->lock);
	m = f->master;
	if (m)
		kref_get(&m->refcount);
	spin_unlock(&f->lock);
	return m;
}

/* drops the caller's reference and clears the caller's pointer */
static void tmaster_put(struct tmaster **m)
{
	kref_put(&(*m)->refcount, tmaster_destroy);
	*m = NULL;
}

/* correct: the reference goes with the pointer's address on every path */
int tfile_master_id(struct tfile *f)
{
	struct tmaster *m = tfile_get_master(f);
	int id;

	if (!m)
		return -ENOENT;
	if (!m->lessor) {
		id = 0;
		goto out;
	}
	id = m->lessor->id;
out:
	tmaster_put(&m);
	return id;
}

/* buggy: the early return keeps it */
int tfile_lessor_id(struct tfile *f)
{
	struct tmaster *m = tfile_get_master(f);
	int id;

	if (!m)
		return -ENOENT;
	if (!m->lessor)
		return -EINVAL;				/* expect: ref-leak@warning */
	id = m->lessor->id;
	tmaster_put(&m);
	return id;
}
