/*-------------------------------------------------------------------------
 *
 * view_partial_session.h
 *	  Partial states of a session view for a streamed transaction: runs of
 *	  its events per group, placed among the view's sessions at the commit.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_VIEW_PARTIAL_SESSION_H
#define STREAMEXT_VIEW_PARTIAL_SESSION_H

#include "nodes/execnodes.h"
#include "view_plan.h"

/* the runs of a session view's groups, in a streamed transaction */
typedef struct PartialSessions
{
	ViewPlan   *plan;
	MemoryContext cxt;
	TupleHashTable groups;		/* group key -> its runs; made on first use */
} PartialSessions;

extern void view_partial_session_fold(PartialSessions *pss, TimestampTz t, bool at_commit);
extern void view_partial_session_place(PartialSessions *pss, TimestampTz commit_time,
									   XLogRecPtr end_lsn);

#endif							/* STREAMEXT_VIEW_PARTIAL_SESSION_H */
