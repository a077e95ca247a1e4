/*-------------------------------------------------------------------------
 *
 * view_apply.h
 *	  Events applied to a view's state: one event behind the owner's gate,
 *	  in isolation from the others, or a whole stream at creation (backfill).
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_VIEW_APPLY_H
#define STREAMEXT_VIEW_APPLY_H

#include "utils/snapshot.h"
#include "usercode.h"
#include "view_state.h"

/* what became of an event applied in isolation */
typedef enum ApplyResult
{
	APPLY_DONE,					/* it counts */
	APPLY_FAILED,				/* it failed before it changed anything */
	APPLY_REWIND				/* it failed with the view's states half-changed */
} ApplyResult;

extern TimestampTz view_plan_note_event_time(ViewPlan *plan, TupleTableSlot *event,
											 TimestampTz commit_time);
extern void view_plan_note_time(ViewPlan *plan, TimestampTz t, TimestampTz commit_time);
extern bool view_plan_eval_event(ViewPlan *plan);
extern void view_plan_pane_fate(ViewPlan *plan, TimestampTz pane, bool *live, bool *late);
extern void view_plan_apply_event(ViewPlan *plan, TupleTableSlot *event,
								  TimestampTz commit_time);
extern ApplyResult view_plan_apply_isolated(ViewPlan *plan, TupleTableSlot *event,
											TimestampTz commit_time, XLogRecPtr commit_lsn,
											UserCodeFailure *failure);
extern void view_plan_set_aside(ViewPlan *plan, TupleTableSlot *event,
								TimestampTz commit_time, XLogRecPtr commit_lsn,
								int sqlerrcode, const char *message);
extern void view_plan_add_dead_letter(ViewPlan *plan, const char *json, TimestampTz commit_time,
									  XLogRecPtr commit_lsn, TimestampTz source_start,
									  int sqlerrcode, const char *message);
extern void view_plan_feed_source(ViewPlan *plan, TimestampTz from, TimestampTz to);
extern ViewPlan *view_plan_compute(const ViewCatalogRow *row, MemoryContext parent,
								   Snapshot snapshot);

#endif							/* STREAMEXT_VIEW_APPLY_H */
