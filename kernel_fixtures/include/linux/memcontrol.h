/* rcucheck stand-in for <linux/cgroup.h> and <linux/memcontrol.h>. */
#ifndef _RCUCHECK_LINUX_MEMCONTROL_H
#define _RCUCHECK_LINUX_MEMCONTROL_H
#include <linux/types.h>
#include <linux/rcupdate.h>

struct cgroup_subsys_state { struct cgroup_subsys_state *parent; int flags; };
struct shrinker_info;
struct mem_cgroup_per_node { struct shrinker_info __rcu *shrinker_info; };
struct mem_cgroup {
	struct cgroup_subsys_state css;
	struct mem_cgroup_per_node *nodeinfo[4];
	struct obj_cgroup __rcu *objcg;
	int kmemcg_id;
	atomic_t dead_count;
};
struct obj_cgroup { struct mem_cgroup *memcg; atomic_t refcnt; };
struct mm_struct { struct task_struct *owner; };
struct task_struct { struct mm_struct *mm; int pid; };
struct folio { unsigned long memcg_data; };
struct mem_cgroup_reclaim_iter { struct mem_cgroup *position; unsigned int generation; };

void css_get(struct cgroup_subsys_state *css);
bool css_tryget(struct cgroup_subsys_state *css);
bool css_tryget_online(struct cgroup_subsys_state *css);
void css_put(struct cgroup_subsys_state *css);
struct cgroup_subsys_state *css_next_descendant_pre(struct cgroup_subsys_state *pos,
						    struct cgroup_subsys_state *root);
static inline struct mem_cgroup *mem_cgroup_from_css(struct cgroup_subsys_state *css)
{
	return css ? container_of(css, struct mem_cgroup, css) : NULL;
}
static inline void mem_cgroup_put(struct mem_cgroup *memcg)
{
	if (memcg)
		css_put(&memcg->css);
}
struct mem_cgroup *mem_cgroup_from_task(struct task_struct *p);
struct mem_cgroup *get_mem_cgroup_from_mm(struct mm_struct *mm);
struct mem_cgroup *mem_cgroup_iter(struct mem_cgroup *root, struct mem_cgroup *prev,
				   void *reclaim);
void mem_cgroup_iter_break(struct mem_cgroup *root, struct mem_cgroup *prev);
bool mem_cgroup_online(struct mem_cgroup *memcg);
bool mem_cgroup_disabled(void);
struct mem_cgroup *mem_cgroup_from_id(unsigned short id);
static inline bool mem_cgroup_tryget(struct mem_cgroup *memcg)
{
	return !memcg || css_tryget(&memcg->css);
}
static inline struct mem_cgroup *parent_mem_cgroup(struct mem_cgroup *memcg)
{
	return mem_cgroup_from_css(memcg->css.parent);
}
void mem_cgroup_charge_one(struct mem_cgroup *memcg);
struct mem_cgroup *folio_memcg(struct folio *folio);
void folio_memcg_lock(struct folio *folio);
void folio_memcg_unlock(struct folio *folio);
void obj_cgroup_get(struct obj_cgroup *objcg);
bool obj_cgroup_tryget(struct obj_cgroup *objcg);
void obj_cgroup_put(struct obj_cgroup *objcg);
#endif
