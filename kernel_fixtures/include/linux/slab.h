/* rcucheck stand-in for <linux/gfp.h> and <linux/slab.h>, with 6.12's _noprof shape. */
#ifndef _RCUCHECK_LINUX_SLAB_H
#define _RCUCHECK_LINUX_SLAB_H
#include <linux/types.h>

#define ___GFP_DIRECT_RECLAIM 0x400u
#define ___GFP_KSWAPD_RECLAIM 0x800u
#define ___GFP_HIGH 0x20u
#define ___GFP_IO 0x40u
#define ___GFP_FS 0x80u
#define ___GFP_NOWARN 0x2000u
#define ___GFP_ACCOUNT 0x400000u
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
void kfree(const void *objp);
void kvfree(const void *addr);

struct kmem_cache;
void *kmem_cache_alloc_noprof(struct kmem_cache *s, gfp_t flags);
#define kmem_cache_alloc(...) alloc_hooks(kmem_cache_alloc_noprof(__VA_ARGS__))
void kmem_cache_free(struct kmem_cache *s, void *objp);
#endif
