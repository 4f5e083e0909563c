/* rcucheck stand-in: the few basic kernel types and compiler helpers fixtures need. */
#ifndef _RCUCHECK_LINUX_TYPES_H
#define _RCUCHECK_LINUX_TYPES_H

typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)
typedef unsigned long size_t;
typedef long long s64;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef unsigned int gfp_t;
typedef struct { int counter; } atomic_t;
typedef struct { long counter; } atomic_long_t;
typedef struct { long long counter; } atomic64_t;

#define __rcu
#define __force
#define __kernel
#define __must_check
#define __weak __attribute__((__weak__))
/* sparse context annotations: nothing without __CHECKER__ */
#define __acquires(x)
#define __releases(x)
#define __must_hold(x)
#define __cond_acquires(x)
#define __always_inline inline
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define READ_ONCE(x) (*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, val) do { *(volatile typeof(x) *)&(x) = (val); } while (0)
#define offsetof(t, m) __builtin_offsetof(t, m)
#define container_of(ptr, type, member) ({ \
	void *__mptr = (void *)(ptr); \
	((type *)(__mptr - offsetof(type, member))); })
#define ___PASTE(a, b) a##b
#define __PASTE(a, b) ___PASTE(a, b)
#define __UNIQUE_ID(prefix) __PASTE(__PASTE(__UNIQUE_ID_, prefix), __COUNTER__)
#define __cleanup(func) __attribute__((__cleanup__(func)))
#define __maybe_unused __attribute__((__unused__))

struct list_head { struct list_head *next, *prev; };
struct hlist_node { struct hlist_node *next, **pprev; };
struct hlist_head { struct hlist_node *first; };
struct rcu_head { struct rcu_head *next; void (*func)(struct rcu_head *head); };
typedef void (*rcu_callback_t)(struct rcu_head *head);

int printk(const char *fmt, ...);
void __warn(void);
#define WARN_ON(c) ({ int __ret = !!(c); if (unlikely(__ret)) __warn(); unlikely(__ret); })
#define WARN_ON_ONCE(c) WARN_ON(c)
#define BUG_ON(c) do { if (unlikely(c)) __builtin_trap(); } while (0)

#define EIO 5
#define ESTALE 116
#define EACCES 13
#define ENOMEM 12
#define EINVAL 22
#define EBUSY 16
#define ENOENT 2
#define EAGAIN 11
#define ENODEV 19
#define EMSGSIZE 90
static inline void *ERR_PTR(long error) { return (void *)error; }
static inline bool IS_ERR(const void *p) { return (unsigned long)p >= (unsigned long)-4095; }
static inline long PTR_ERR(const void *p) { return (long)p; }
static inline bool IS_ERR_OR_NULL(const void *p) { return !p || IS_ERR(p); }
#endif
