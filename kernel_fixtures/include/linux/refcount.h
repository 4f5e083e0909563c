/* rcucheck stand-in for <linux/refcount.h> and <linux/kref.h>. */
#ifndef _RCUCHECK_LINUX_REFCOUNT_H
#define _RCUCHECK_LINUX_REFCOUNT_H
#include <linux/types.h>

typedef struct { atomic_t refs; } refcount_t;
struct kref { refcount_t refcount; };
void refcount_inc(refcount_t *r);
void refcount_set(refcount_t *r, int n);
bool refcount_inc_not_zero(refcount_t *r);
bool refcount_dec_and_test(refcount_t *r);
bool refcount_dec_not_one(refcount_t *r);
bool refcount_dec_if_one(refcount_t *r);
void kref_init(struct kref *kref);
void kref_get(struct kref *kref);
int kref_get_unless_zero(struct kref *kref);
int kref_put(struct kref *kref, void (*release)(struct kref *kref));
void refcount_add(int i, refcount_t *r);
bool refcount_sub_and_test(int i, refcount_t *r);
bool atomic_dec_and_test(atomic_t *v);
bool atomic_inc_not_zero(atomic_t *v);
int atomic_read(const atomic_t *v);
bool atomic_long_dec_and_test(atomic_long_t *v);
void atomic_inc(atomic_t *v);
void atomic_long_inc(atomic_long_t *v);
void atomic64_inc(atomic64_t *v);
bool atomic64_dec_and_test(atomic64_t *v);
bool atomic64_inc_not_zero(atomic64_t *v);

/* <linux/rcuref.h>: the count readers may race with its last put under RCU */
typedef struct { atomic_t refcnt; } rcuref_t;
bool rcuref_get(rcuref_t *ref);
bool rcuref_put(rcuref_t *ref);

/* <linux/percpu-refcount.h> */
struct percpu_ref { atomic_long_t count; };
typedef void (percpu_ref_func_t)(struct percpu_ref *);
int percpu_ref_init(struct percpu_ref *ref, percpu_ref_func_t *release, unsigned int flags,
		    gfp_t gfp);
void percpu_ref_exit(struct percpu_ref *ref);
bool percpu_ref_tryget(struct percpu_ref *ref);
void percpu_ref_put(struct percpu_ref *ref);

/* <linux/module.h>: a module reference pins what the module provides */
struct module;
bool try_module_get(struct module *module);
void module_put(struct module *module);
#endif
