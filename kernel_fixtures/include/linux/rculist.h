/* rcucheck stand-in for <linux/list.h> and <linux/rculist.h>. */
#ifndef _RCUCHECK_LINUX_RCULIST_H
#define _RCUCHECK_LINUX_RCULIST_H
#include <linux/rcupdate.h>

#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_entry_rcu(ptr, type, member) container_of(READ_ONCE(ptr), type, member)
#define list_first_entry(ptr, type, member) list_entry((ptr)->next, type, member)
#define list_next_entry(pos, member) list_entry((pos)->member.next, typeof(*(pos)), member)
#define list_for_each_entry(pos, head, member) \
	for (pos = list_first_entry(head, typeof(*pos), member); \
	     &pos->member != (head); \
	     pos = list_next_entry(pos, member))
#define list_for_each_entry_safe(pos, n, head, member) \
	for (pos = list_first_entry(head, typeof(*pos), member), \
	     n = list_next_entry(pos, member); \
	     &pos->member != (head); \
	     pos = n, n = list_next_entry(n, member))
#define list_for_each_entry_rcu(pos, head, member, cond...) \
	for (pos = list_entry_rcu((head)->next, typeof(*pos), member); \
	     &pos->member != (head); \
	     pos = list_entry_rcu(pos->member.next, typeof(*pos), member))
#define hlist_entry_safe(ptr, type, member) \
	({ typeof(ptr) ____ptr = (ptr); ____ptr ? container_of(____ptr, type, member) : NULL; })
#define hlist_for_each_entry_rcu(pos, head, member, cond...) \
	for (pos = hlist_entry_safe(READ_ONCE((head)->first), typeof(*(pos)), member); \
	     pos; \
	     pos = hlist_entry_safe(READ_ONCE((pos)->member.next), typeof(*(pos)), member))
#define hlist_for_each_entry_safe(pos, n, head, member) \
	for (pos = hlist_entry_safe((head)->first, typeof(*pos), member); \
	     pos && ({ n = pos->member.next; 1; }); \
	     pos = hlist_entry_safe(n, typeof(*pos), member))

#define LIST_HEAD(name) struct list_head name = { &(name), &(name) }
/* inline, as in the kernel: a caller's analysis sees the stores, not a name */
static inline void __list_add(struct list_head *new, struct list_head *prev,
			      struct list_head *next)
{
	next->prev = new;
	new->next = next;
	new->prev = prev;
	WRITE_ONCE(prev->next, new);
}
static inline void list_add(struct list_head *new, struct list_head *head)
{
	__list_add(new, head, head->next);
}
static inline void list_add_tail(struct list_head *new, struct list_head *head)
{
	__list_add(new, head->prev, head);
}
void list_del(struct list_head *entry);
void list_del_init(struct list_head *entry);
void list_add_rcu(struct list_head *new, struct list_head *head);
void list_add_tail_rcu(struct list_head *new, struct list_head *head);
void list_del_rcu(struct list_head *entry);
void hlist_del_rcu(struct hlist_node *n);
void hlist_add_head_rcu(struct hlist_node *n, struct hlist_head *h);
#endif
