/* rcucheck stand-in for <linux/rbtree.h>. */
#ifndef _RCUCHECK_LINUX_RBTREE_H
#define _RCUCHECK_LINUX_RBTREE_H

struct rb_node {
	unsigned long __rb_parent_color;
	struct rb_node *rb_right;
	struct rb_node *rb_left;
};

struct rb_root {
	struct rb_node *rb_node;
};

static inline void rb_link_node(struct rb_node *node, struct rb_node *parent,
				struct rb_node **rb_link)
{
	node->__rb_parent_color = (unsigned long)parent;
	node->rb_left = node->rb_right = (struct rb_node *)0;
	*rb_link = node;
}

void rb_insert_color(struct rb_node *node, struct rb_root *root);

#endif
