// SPDX-License-Identifier: GPL-2.0
/*
 * rcu-unbalanced with SRCU sections that belong to one srcu_struct each, entered and
 * left across function boundaries: the sparse annotation names the object
 * (`__releases(&dev->srcu)`), and a helper given the object enters or leaves the
 * section of the srcu_struct its parameter reaches.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/srcu.h>
#include <linux/types.h>

struct sdev {
	struct srcu_struct srcu;
	int busy;
	int mode;
};

static struct srcu_struct sdev_links_srcu;

int sdev_submit(struct sdev *dev, int cmd);

/* ---- buggy ------------------------------------------------------------------------- */

/* declared to release its caller's section of `dev->srcu`, but one path keeps it */
static int sdev_ctrl_cmd_leaky(struct sdev *dev, int cmd, int idx)
	__releases(&dev->srcu)
{
	if (dev->busy)
		return -EBUSY;				/* expect: rcu-unbalanced@warning */
	srcu_read_unlock(&dev->srcu, idx);
	return sdev_submit(dev, cmd);
}

/* a helper that enters the section of its argument's srcu_struct, and a caller that
 * forgets to leave it on the error path */
static int sdev_enter(struct sdev *dev)
	__acquires(&dev->srcu)
{
	return srcu_read_lock(&dev->srcu);
}

int sdev_mode(struct sdev *dev)
{
	int idx = sdev_enter(dev);
	int mode = dev->mode;

	if (mode < 0)
		return mode;				/* expect: rcu-unbalanced@warning */
	srcu_read_unlock(&dev->srcu, idx);
	return mode;
}

/* ---- correct ----------------------------------------------------------------------- */

/* releases the section of `dev->srcu` its caller entered, on every path */
static int sdev_ctrl_cmd(struct sdev *dev, int cmd, int idx)
	__releases(&dev->srcu)
{
	int busy = dev->busy;

	srcu_read_unlock(&dev->srcu, idx);
	if (busy)
		return -EBUSY;
	return sdev_submit(dev, cmd);
}

/* the callee leaves the section this function entered */
int sdev_cmd(struct sdev *dev, int cmd)
{
	int idx = srcu_read_lock(&dev->srcu);

	if (cmd > 0)
		return sdev_ctrl_cmd(dev, cmd, idx);
	srcu_read_unlock(&dev->srcu, idx);
	return 0;
}

/* a global srcu_struct named by the annotations of a lock/unlock pair */
int sdev_links_lock(void) __acquires(&sdev_links_srcu)
{
	return srcu_read_lock(&sdev_links_srcu);
}

void sdev_links_unlock(int idx) __releases(&sdev_links_srcu)
{
	srcu_read_unlock(&sdev_links_srcu, idx);
}

/* entered through the helper, left by hand */
int sdev_mode_ok(struct sdev *dev)
{
	int idx = sdev_enter(dev);
	int mode = dev->mode;

	srcu_read_unlock(&dev->srcu, idx);
	return mode;
}

/*
 * A transaction that pins its filesystem's srcu_struct: begun through the filesystem
 * (`c`), ended through the transaction (`trans->c`), one object reached two ways.
 */
struct sfs {
	struct srcu_struct barrier;
	int nr;
};

struct strans {
	struct sfs *c;
	int srcu_idx;
	int srcu_held;
};

int strans_commit(struct strans *trans);

static struct strans *strans_get(struct sfs *c, struct strans *trans)
	__acquires(&c->barrier)
{
	trans->c = c;
	trans->srcu_idx = srcu_read_lock(&c->barrier);
	trans->srcu_held = 1;
	return trans;
}

static void strans_put(struct strans *trans)
	__releases(&c->barrier)
{
	struct sfs *c = trans->c;

	srcu_read_unlock(&c->barrier, trans->srcu_idx);
	trans->srcu_held = 0;
}

int sfs_update(struct sfs *c, struct strans *buf)
{
	struct strans *trans = strans_get(c, buf);
	int ret = strans_commit(trans);

	strans_put(trans);
	return ret;
}

/*
 * A vCPU-style object whose section is entered and left through inline helpers given
 * the object (`svcpu_srcu_unlock(v)` leaves `v->vm->srcu`): a helper that drops its
 * caller's section around a blocking wait and takes it again, on every path, is called
 * inside the caller's section; so is the loop that calls it.
 */
struct svm {
	struct srcu_struct srcu;
};

struct svcpu {
	struct svm *vm;
	int srcu_idx;
	int runnable;
};

void svcpu_wait(struct svcpu *v);
int svcpu_enter_guest(struct svcpu *v);

static inline void svcpu_srcu_lock(struct svcpu *v)
{
	v->srcu_idx = srcu_read_lock(&v->vm->srcu);
}

static inline void svcpu_srcu_unlock(struct svcpu *v)
{
	srcu_read_unlock(&v->vm->srcu, v->srcu_idx);
}

static int svcpu_block(struct svcpu *v)
{
	if (!v->runnable) {
		svcpu_srcu_unlock(v);
		svcpu_wait(v);
		svcpu_srcu_lock(v);
	}
	return v->runnable ? 1 : 0;
}

static int svcpu_run_loop(struct svcpu *v)
{
	int r;

	for (;;) {
		if (v->runnable)
			r = svcpu_enter_guest(v);
		else
			r = svcpu_block(v);
		if (r <= 0)
			break;
		if (r > 8) {
			svcpu_srcu_unlock(v);
			svcpu_wait(v);
			svcpu_srcu_lock(v);
		}
	}
	return r;
}

int svcpu_ioctl_run(struct svcpu *v)
{
	int r;

	svcpu_srcu_lock(v);
	r = svcpu_run_loop(v);
	svcpu_srcu_unlock(v);
	return r;
}

/* drops its caller's section and, when the wait fails, returns without taking it again */
static int svcpu_block_leaky(struct svcpu *v)
{
	if (!v->runnable) {
		svcpu_srcu_unlock(v);	/* expect: rcu-unbalanced@warning */
		if (svcpu_enter_guest(v) < 0)
			return -4;
		svcpu_srcu_lock(v);
	}
	return 1;
}

int svcpu_ioctl_step(struct svcpu *v)
{
	int r;

	svcpu_srcu_lock(v);
	r = svcpu_block_leaky(v);
	svcpu_srcu_unlock(v);
	return r;
}
