/* Shared declarations of the two-file fixture (provider.c defines, consumer.c uses). */
#ifndef _RCUCHECK_FIXTURE_CFG_H
#define _RCUCHECK_FIXTURE_CFG_H
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/memcontrol.h>

struct cfg {
	int weight;
};

struct tbl {
	struct cfg __rcu *cur;
	struct mutex lock;
};

struct cfg *cfg_lookup_rcu(struct tbl *t);
void cfg_sync(struct tbl *t);
struct mem_cgroup *memcg_grab(unsigned short id);
void tbl_enter(struct tbl *t);
void tbl_leave(struct tbl *t);
int cfg_peek(struct tbl *t);
int cfg_hook(struct tbl *t);
#endif
