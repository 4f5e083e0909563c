/* rcucheck stand-in for <linux/shrinker.h> and the idr lookup it relies on. */
#ifndef _RCUCHECK_LINUX_SHRINKER_H
#define _RCUCHECK_LINUX_SHRINKER_H
#include <linux/types.h>
#include <linux/rculist.h>
#include <linux/refcount.h>
#include <linux/sched.h>

struct shrink_control { gfp_t gfp_mask; int nid; unsigned long nr_to_scan; };
struct shrinker {
	unsigned long (*count_objects)(struct shrinker *, struct shrink_control *sc);
	unsigned long (*scan_objects)(struct shrinker *, struct shrink_control *sc);
	struct list_head list;
	refcount_t refcount;
	struct completion done;
	struct rcu_head rcu;
	int id;
	unsigned int flags;
};
struct shrinker_info_unit { atomic_long_t nr_deferred[64]; unsigned long map[1]; };
struct shrinker_info {
	struct rcu_head rcu;
	int map_nr_max;
	struct shrinker_info_unit *unit[8];
};
struct idr { int top; };
void *idr_find(const struct idr *idr, unsigned long id);
bool shrinker_try_get(struct shrinker *shrinker);
void shrinker_put(struct shrinker *shrinker);
void clear_bit(long nr, unsigned long *addr);
unsigned long do_shrink_slab(struct shrink_control *sc, struct shrinker *shrinker,
			     int priority);
#endif
