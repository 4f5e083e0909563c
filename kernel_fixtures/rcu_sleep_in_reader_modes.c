// SPDX-License-Identifier: GPL-2.0
/*
 * rcu-sleep-in-reader: sleeps that a mode decides.  A helper that sleeps only when its
 * caller says it may (a `can_sleep` argument, a mask chosen from a flag of the buffer it
 * is given) sleeps where the caller picks that mode, and only there; a helper that
 * sleeps on both arms of a mode test sleeps whatever the caller picks.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/delay.h>

/* a text buffer that grows as it is written; `atomic` counts the atomic sections its
 * user is in, and while it is non-zero the buffer grows without sleeping */
struct jbuf {
	char *buf;
	unsigned int pos;
	unsigned int size;
	unsigned char atomic;
};

struct jdev {
	struct jdev __rcu *peer;
	unsigned int flags;
	int timeout;
	struct mutex lock;
};

#define JDEV_F_FAST 0x4

static int jbuf_grow(struct jbuf *out, unsigned int extra)
{
	unsigned int size = out->size + extra;
	char *buf;

	if (size <= out->size)
		return 0;
	buf = krealloc(out->buf, size, !out->atomic ? GFP_KERNEL : GFP_NOWAIT);
	if (!buf)
		return -ENOMEM;
	out->buf = buf;
	out->size = size;
	return 0;
}

static void jbuf_putc(struct jbuf *out, char c)
{
	if (out->pos + 1 >= out->size && jbuf_grow(out, 64))
		return;
	out->buf[out->pos++] = c;
}

/* waits for the device: sleeps only if the caller allows it, and never with a negative
 * timeout (the busy-wait convention of mailbox-style drivers) */
static int jdev_wait(struct jdev *d, bool can_sleep, int timeout)
{
	if (timeout < 0) {
		can_sleep = false;
		timeout = -timeout;
	}
	while (timeout-- > 0) {
		if (can_sleep)
			msleep(1);
		else
			mdelay(1);
	}
	return 0;
}

/* sleeps on both arms of its mode test: whichever mode, it takes the mutex */
static void jdev_retune(struct jdev *d, unsigned int flags)
{
	int timeout;

	if (flags & JDEV_F_FAST)
		timeout = 1;
	else
		timeout = 10;
	mutex_lock(&d->lock);
	d->timeout = timeout;
	mutex_unlock(&d->lock);
}

/* ---- buggy ------------------------------------------------------------------------- */

static void jbuf_dump_reset(struct jdev *d, struct jbuf *out)
{
	struct jdev *peer;

	out->atomic = 0;
	rcu_read_lock();
	peer = rcu_dereference(d->peer);
	if (peer)
		jbuf_putc(out, 'p'); /* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
}

static void jdev_poke_peer(struct jdev *d)
{
	struct jdev *peer;

	rcu_read_lock();
	peer = rcu_dereference(d->peer);
	if (peer)
		jdev_wait(peer, true, 10); /* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
}

static void jdev_retune_peer(struct jdev *d)
{
	struct jdev *peer;

	rcu_read_lock();
	peer = rcu_dereference(d->peer);
	if (peer)
		jdev_retune(peer, peer->flags); /* expect: rcu-sleep-in-reader@warning */
	rcu_read_unlock();
}

/* ---- correct ----------------------------------------------------------------------- */

static void jbuf_dump_atomic(struct jdev *d, struct jbuf *out)
{
	struct jdev *peer;

	out->atomic++;
	rcu_read_lock();
	peer = rcu_dereference(d->peer);
	if (peer)
		jbuf_putc(out, 'p');
	rcu_read_unlock();
	out->atomic--;
}

static void jbuf_dump_local(struct jdev *d)
{
	struct jbuf b = {};
	struct jdev *peer;

	b.atomic++;
	rcu_read_lock();
	peer = rcu_dereference(d->peer);
	if (peer)
		jbuf_putc(&b, 'p');
	rcu_read_unlock();
	b.atomic--;
	kfree(b.buf);
}

static void jdev_poll_peer(struct jdev *d)
{
	struct jdev *peer;

	rcu_read_lock();
	peer = rcu_dereference(d->peer);
	if (peer)
		jdev_wait(peer, false, 10);
	rcu_read_unlock();
}

/* the helper raises the buffer's count before its own section: it does not sleep, even
 * inside its caller's section with a buffer that was not atomic before */
static void jbuf_dump_nested(struct jdev *d)
{
	struct jbuf b = {};

	b.atomic = 0;
	rcu_read_lock();
	jbuf_dump_atomic(d, &b);
	rcu_read_unlock();
	kfree(b.buf);
}
