// SPDX-License-Identifier: GPL-2.0
/*
 * ref-leak with puts named by the verb inside the name (`<prefix>_put_<object>()`),
 * defined in other files: such a call releases the reference the path holds on its
 * one argument; a call of that shape with more arguments writes data.
 * A line ending in "expect: RULE@level" must be reported with RULE; nothing else may be.
 */
#include <linux/slab.h>
#include <linux/refcount.h>

struct tnet;
struct tmsg;
struct tclient {
	refcount_t count;
	int state;
};
struct trenew {
	struct tclient *clp;
	int seq;
};

/* defined in other files */
struct tclient *tnet_find_client(struct tnet *net, int id);
void tnet_put_client(struct tclient *clp);
int tclient_start(struct tclient *clp, struct trenew *data);
int tmsg_put_flag(struct tmsg *msg, int type);
struct tmsg *tmsg_hold(struct tmsg *msg);
void tmsg_release(struct tmsg *msg);

/* ---- buggy ------------------------------------------------------------------------- */

/* the callee's result is released on one path only */
int tclient_set_state(struct tnet *net, int id, int state)
{
	struct tclient *clp = tnet_find_client(net, id);

	if (!clp)
		return -ENOENT;
	if (state < 0)
		return -EINVAL;				/* expect: ref-leak@warning */
	clp->state = state;
	tnet_put_client(clp);
	return 0;
}

/* the allocation failure forgets the reference the tryget took */
int tclient_renew(struct tclient *clp)
{
	struct trenew *data;

	if (!refcount_inc_not_zero(&clp->count))
		return -EIO;
	data = kmalloc(sizeof(*data), GFP_KERNEL);
	if (!data)
		return -ENOMEM;				/* expect: ref-leak@warning */
	data->clp = clp;
	tclient_start(clp, data);
	return 0;
}

/* ---- correct ----------------------------------------------------------------------- */

/* released under its own name before the error return; handed to `data` otherwise */
int tclient_renew_ok(struct tclient *clp)
{
	struct trenew *data;

	if (!refcount_inc_not_zero(&clp->count))
		return -EIO;
	data = kmalloc(sizeof(*data), GFP_KERNEL);
	if (!data) {
		tnet_put_client(clp);
		return -ENOMEM;
	}
	data->clp = clp;
	tclient_start(clp, data);
	return 0;
}

/* `tmsg_put_flag(msg, type)` writes a flag into the message: it releases nothing */
int tmsg_mark(struct tmsg *msg, int type)
{
	struct tmsg *m = tmsg_hold(msg);
	int err;

	if (!m)
		return -ENOENT;
	err = tmsg_put_flag(m, type);
	tmsg_release(m);
	return err;
}

/* correct: a control's "put" writes a value; the size it stores is no reference */
struct tlang {
	size_t total;
	int valid;
};

void *tbuf_dup(const unsigned int *bytes, size_t size);
void tbuf_free(void *buf);

static void tlang_set_total(struct tlang *l, size_t size)
{
	l->total = size;
}

int tlang_model_put(struct tlang *l, const unsigned int *bytes, size_t size)
{
	void *buf = tbuf_dup(bytes, size);

	if (!buf)
		return 1;
	if (l->valid)
		tlang_set_total(l, size);
	tbuf_free(buf);
	return 0;
}
