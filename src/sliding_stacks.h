/*-------------------------------------------------------------------------
 *
 * sliding_stacks.h
 *	  The combinations the worker publishes with a sliding view's panes so
 *	  that readers combine a few states per key, not every pane
 *	  (sliding_stacks.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_SLIDING_STACKS_H
#define STREAMEXT_SLIDING_STACKS_H

#include "view_state.h"

/* the first byte of a pane's extra: what the states after it combine */
#define SLIDING_EXTRA_SUFFIX 'S'	/* the key's panes from this one to the
									 * front's end */
#define SLIDING_EXTRA_BACK 'B'	/* the key's panes from the front's end to
								 * this one */

/* the extras made for one publish (sliding_stacks.c) */
typedef struct SlidingExtras SlidingExtras;

extern SlidingExtras *sliding_stacks_prepare(ViewPlan *plan, bool all_groups);
extern void sliding_stacks_extra(SlidingExtras *extras, ViewGroup *gs, const char **extra,
								 uint32 *extralen);
extern void sliding_stacks_bounds(ViewPlan *plan, TimestampTz *front_end,
								  TimestampTz *back_end);
extern void sliding_stacks_forget(ViewPlan *plan);
extern void sliding_stacks_abandon(ViewPlan *plan);

#endif							/* STREAMEXT_SLIDING_STACKS_H */
