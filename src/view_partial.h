/*-------------------------------------------------------------------------
 *
 * view_partial.h
 *	  Partial states of a view for the part of a transaction decoded before
 *	  its commit (a streamed transaction): folded event by event, placed in
 *	  the view's windows at the commit.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_VIEW_PARTIAL_H
#define STREAMEXT_VIEW_PARTIAL_H

#include "nodes/execnodes.h"
#include "view_partial_session.h"
#include "view_plan.h"

typedef struct ViewPartial
{
	ViewPlan   *plan;
	int32		view_id;		/* to recognise the plan at the commit */
	XLogRecPtr	start_lsn;
	MemoryContext cxt;			/* the states, groups and panes */
	HTAB	   *panes;			/* pane start -> PartialPane (view_partial.c) */
	struct PartialPane *at_commit_pane; /* events of the commit's pane */
	struct PartialPane *last_pane;	/* the pane the last event went to */
	TupleTableSlot *keyslot;	/* a group's key, to place it */
	PartialSessions sessions;	/* a session view's */
	TimestampTz max_time;		/* greatest event time of the time column */
	bool		any_time;
	bool		any_at_commit;	/* an event whose time is its commit's */
	uint64		events;			/* folded, WHERE or not */
	List	   *dead_letters;	/* set aside: EXECUTE revoked */
} ViewPartial;

extern ViewPartial *view_partial_create(ViewPlan *plan, MemoryContext parent);
extern void view_partial_fold(ViewPartial *vp, TupleTableSlot *slot, HeapTuple *tuples,
							  int ntuples);
extern Size view_partial_bytes_to_combine(ViewPartial *vp);
extern void view_partial_place(ViewPartial *vp, TimestampTz commit_time, XLogRecPtr final_lsn,
							   XLogRecPtr end_lsn);

#endif							/* STREAMEXT_VIEW_PARTIAL_H */
