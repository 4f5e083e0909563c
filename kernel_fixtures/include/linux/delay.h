/* rcucheck stand-in for <linux/delay.h>: busy waits next to the sleeping waits. */
#ifndef _RCUCHECK_LINUX_DELAY_H
#define _RCUCHECK_LINUX_DELAY_H
#include <linux/sched.h>

void mdelay(unsigned long msecs);
void udelay(unsigned long usecs);
#endif
