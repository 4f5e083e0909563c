/* rcucheck stand-in for <linux/refcount.h> and <linux/kref.h>. */
#ifndef _RCUCHECK_LINUX_REFCOUNT_H
#define _RCUCHECK_LINUX_REFCOUNT_H
#include <linux/types.h>

typedef struct { atomic_t refs; } refcount_t;
struct kref { refcount_t refcount; };
void refcount_inc(refcount_t *r);
bool refcount_inc_not_zero(refcount_t *r);
bool refcount_dec_and_test(refcount_t *r);
void kref_get(struct kref *kref);
int kref_get_unless_zero(struct kref *kref);
int kref_put(struct kref *kref, void (*release)(struct kref *kref));
#endif
