/* rcucheck stand-in for <linux/gfp.h> and <linux/slab.h>, with 6.12's _noprof shape. */
#ifndef _RCUCHECK_LINUX_SLAB_H
#define _RCUCHECK_LINUX_SLAB_H
#include <linux/types.h>

/* flag bits as an enum, the way gfp_types.h numbers them */
enum {
	___GFP_HIGH_BIT = 5,
	___GFP_IO_BIT,
	___GFP_FS_BIT,
	___GFP_DIRECT_RECLAIM_BIT = 10,
	___GFP_KSWAPD_RECLAIM_BIT,
	___GFP_NOWARN_BIT = 13,
	___GFP_ACCOUNT_BIT = 22,
};
#define ___GFP_DIRECT_RECLAIM (1u << ___GFP_DIRECT_RECLAIM_BIT)
#define ___GFP_KSWAPD_RECLAIM (1u << ___GFP_KSWAPD_RECLAIM_BIT)
#define ___GFP_HIGH (1u << ___GFP_HIGH_BIT)
#define ___GFP_IO (1u << ___GFP_IO_BIT)
#define ___GFP_FS (1u << ___GFP_FS_BIT)
#define ___GFP_NOWARN (1u << ___GFP_NOWARN_BIT)
#define ___GFP_ACCOUNT (1u << ___GFP_ACCOUNT_BIT)
#define __GFP_DIRECT_RECLAIM ((gfp_t)___GFP_DIRECT_RECLAIM)
#define __GFP_KSWAPD_RECLAIM ((gfp_t)___GFP_KSWAPD_RECLAIM)
#define __GFP_RECLAIM ((gfp_t)(___GFP_DIRECT_RECLAIM | ___GFP_KSWAPD_RECLAIM))
#define __GFP_HIGH ((gfp_t)___GFP_HIGH)
#define __GFP_IO ((gfp_t)___GFP_IO)
#define __GFP_FS ((gfp_t)___GFP_FS)
#define __GFP_NOWARN ((gfp_t)___GFP_NOWARN)
#define __GFP_ACCOUNT ((gfp_t)___GFP_ACCOUNT)
#define GFP_ATOMIC (__GFP_HIGH | __GFP_KSWAPD_RECLAIM)
#define GFP_KERNEL (__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_KERNEL_ACCOUNT (GFP_KERNEL | __GFP_ACCOUNT)
#define GFP_NOWAIT (__GFP_KSWAPD_RECLAIM | __GFP_NOWARN)
#define GFP_NOIO (__GFP_RECLAIM)
#define GFP_NOFS (__GFP_RECLAIM | __GFP_IO)

#define alloc_hooks(_do_alloc) ({ void *_res = _do_alloc; _res; })
void *kmalloc_noprof(size_t size, gfp_t flags);
void *kzalloc_noprof(size_t size, gfp_t flags);
void *kvmalloc_node_noprof(size_t size, gfp_t flags, int node);
#define kmalloc(...) alloc_hooks(kmalloc_noprof(__VA_ARGS__))
#define kzalloc(...) alloc_hooks(kzalloc_noprof(__VA_ARGS__))
#define kvmalloc(_size, _flags) alloc_hooks(kvmalloc_node_noprof(_size, _flags, -1))
void *krealloc_noprof(const void *objp, size_t new_size, gfp_t flags);
#define krealloc(...) alloc_hooks(krealloc_noprof(__VA_ARGS__))
void kfree(const void *objp);
void kvfree(const void *addr);

struct kmem_cache;
void *kmem_cache_alloc_noprof(struct kmem_cache *s, gfp_t flags);
#define kmem_cache_alloc(...) alloc_hooks(kmem_cache_alloc_noprof(__VA_ARGS__))
void kmem_cache_free(struct kmem_cache *s, void *objp);
#define SLAB_HWCACHE_ALIGN	0x00002000U
#define SLAB_PANIC		0x00040000U
#define SLAB_TYPESAFE_BY_RCU	0x00080000U
/* 6.12 makes kmem_cache_create() a _Generic macro over these */
struct kmem_cache *__kmem_cache_create(const char *name, unsigned int size,
				       unsigned int align, unsigned int flags,
				       void (*ctor)(void *));
#define kmem_cache_create(__name, __object_size, __args, ...) \
	__kmem_cache_create(__name, __object_size, __args, __VA_ARGS__)
#endif
