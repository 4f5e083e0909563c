// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak and the objects an accessor names: `tfile_ctx(f)` returns what `f->priv`
 * holds, so two calls of it with the same file, and the field itself, are one object
 * while neither the file nor the field changes.  A get through one call and a put
 * through another balance; a put of what another file's accessor returns does not.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/types.h>
#include <linux/slab.h>
#include <linux/refcount.h>

struct tctx {
	refcount_t ref;
	int mode;
};

struct tlock_ctx {
	struct tctx *ctx;
	int owner;
};

struct tfile {
	void *priv;
	struct tfile *peer;
	int flags;
};

static inline struct tctx *tfile_ctx(struct tfile *f)
{
	return f->priv;
}

static struct tctx *tctx_get(struct tctx *c)
{
	if (c)
		refcount_inc(&c->ref);
	return c;
}

static void tctx_put(struct tctx *c)
{
	if (refcount_dec_and_test(&c->ref))
		kfree(c);
}

int tctx_use(struct tctx *c, int mode);

/* got through one call of the accessor, put through another: one object */
int tfile_notify(struct tfile *src, int mode)
{
	struct tctx *ctx;
	int status;

	ctx = tctx_get(tfile_ctx(src));
	status = tctx_use(ctx, mode);
	if (status)
		goto out;
	status = tctx_use(ctx, mode + 1);
out:
	tctx_put(tfile_ctx(src));
	return status;
}

/* the driver core's get returns its argument: the reference goes to the variable */
struct device;
struct device *get_device(struct device *dev);
void put_device(struct device *dev);
int tdev_use(struct device *dev, int mode);

struct tport {
	struct device *dev;
};

static inline struct device *tport_dev(struct tport *p)
{
	return p->dev;
}

int tport_probe(struct tport *p, int mode)
{
	struct device *dev = get_device(tport_dev(p));
	int status;

	if (mode < 0)
		return -EINVAL;				/* expect: ref-leak@warning */
	status = tdev_use(dev, mode);
	put_device(tport_dev(p));
	return status;
}

/* the field itself names the same object */
int tfile_notify_field(struct tfile *src, int mode)
{
	struct tctx *ctx = tctx_get(tfile_ctx(src));
	int status = tctx_use(ctx, mode);

	tctx_put(src->priv);
	return status;
}

/* the put is of the peer's context: the one taken on the source's leaks */
int tfile_notify_peer(struct tfile *src, int mode)
{
	struct tctx *ctx = tctx_get(tfile_ctx(src));
	int status = tctx_use(ctx, mode);

	tctx_put(tfile_ctx(src->peer));
	return status;				/* expect: ref-leak@warning */
}

/* the file's context is replaced between the get and the put */
int tfile_switch(struct tfile *src, struct tctx *next, int mode)
{
	struct tctx *ctx = tctx_get(tfile_ctx(src));
	int status = tctx_use(ctx, mode);

	src->priv = next;
	tctx_put(tfile_ctx(src));
	return status;				/* expect: ref-leak@warning */
}
