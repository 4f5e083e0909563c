/* rcucheck stand-in for <linux/cleanup.h>: guard()/scoped_guard() as in 6.12. */
#ifndef _RCUCHECK_LINUX_CLEANUP_H
#define _RCUCHECK_LINUX_CLEANUP_H
#include <linux/types.h>

#define CLASS(_name, var) \
	class_##_name##_t var __cleanup(class_##_name##_destructor) = \
		class_##_name##_constructor
#define guard(_name) CLASS(_name, __UNIQUE_ID(guard))
#define __guard_ptr(_name) class_##_name##_lock_ptr
#define __is_cond_ptr(_name) class_##_name##_is_conditional
#define __scoped_guard(_name, _label, args...) \
	for (CLASS(_name, scope)(args); \
	     __guard_ptr(_name)(&scope) || !__is_cond_ptr(_name); \
	     ({ goto _label; })) \
		if (0) { \
_label: \
			break; \
		} else
#define scoped_guard(_name, args...) __scoped_guard(_name, __UNIQUE_ID(label), args)

#define DEFINE_LOCK_GUARD_0(_name, _lock, _unlock) \
static __maybe_unused const bool class_##_name##_is_conditional = false; \
typedef struct { void *lock; } class_##_name##_t; \
static inline void class_##_name##_destructor(class_##_name##_t *_T) \
{ if (_T->lock) { _unlock; } } \
static inline void *class_##_name##_lock_ptr(class_##_name##_t *_T) { return _T->lock; } \
static inline class_##_name##_t class_##_name##_constructor(void) \
{ class_##_name##_t _t = { .lock = (void *)1 }; _lock; return _t; }

#define DEFINE_LOCK_GUARD_1(_name, _type, _lock, _unlock) \
static __maybe_unused const bool class_##_name##_is_conditional = false; \
typedef struct { _type *lock; } class_##_name##_t; \
static inline void class_##_name##_destructor(class_##_name##_t *_T) \
{ if (_T->lock) { _unlock; } } \
static inline void *class_##_name##_lock_ptr(class_##_name##_t *_T) { return _T->lock; } \
static inline class_##_name##_t class_##_name##_constructor(_type *l) \
{ class_##_name##_t _t = { .lock = l }, *_T = &_t; _lock; return _t; }
#endif
