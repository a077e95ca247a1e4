/*-------------------------------------------------------------------------
 *
 * window_panes.h
 *	  Windows made of panes (hopping, sliding, cumulating): a window's groups
 *	  combined from the states of its panes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_WINDOW_PANES_H
#define STREAMEXT_WINDOW_PANES_H

#include "utils/tuplestore.h"
#include "state_shmem.h"
#include "view_state.h"

extern WindowGroups *window_combine_panes(ViewPlan *plan, TimestampTz start,
										  TimestampTz end, const TimestampTz *panes,
										  int npanes);
extern bool window_panes_emit(ViewPlan *plan, Tuplestorestate *store, TupleDesc desc,
							  const SharedGroupCopy *groups, int64 ngroups,
							  TimestampTz closed_upto, TimestampTz cutoff,
							  const ViewMarks *marks, bool partial);

#endif							/* STREAMEXT_WINDOW_PANES_H */
