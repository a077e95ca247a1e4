/*-------------------------------------------------------------------------
 *
 * memory_reserve.h
 *	  Memory the worker faults in ahead of a burst of allocations, defined
 *	  in memory_reserve.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_MEMORY_RESERVE_H
#define STREAMEXT_MEMORY_RESERVE_H

extern void memory_reserve_setup(void);
extern void memory_reserve_ensure(Size bytes);
extern void memory_reserve_release(void);
extern void memory_reserve_settle(void);

#endif							/* STREAMEXT_MEMORY_RESERVE_H */
