/*-------------------------------------------------------------------------
 *
 * view_source.c
 *	  Views on views: a continuous view whose events are the rows of another
 *	  continuous view's closed windows (per minute into per hour, per device
 *	  into per site), kept exact as the lower view closes and corrects them.
 *
 *	  The lower view's closed table is the truth: the worker is its only
 *	  writer, and its own transaction sees what it wrote.  A view on a view
 *	  takes the lower view's rows window by window, in order of their
 *	  window_start, once every window starting before them is closed
 *	  (window_first_open_start of the lower view's closed_upto): its
 *	  max_event_time is how far it has taken them, persisted with its open
 *	  states, so that after a crash it takes the rest again from the table,
 *	  whatever order the lower view's windows were closed in.  A row the
 *	  lower view corrects after that (a late event) is not added again: the
 *	  upper view's window holding it is computed again from the lower view's
 *	  rows, as open states if it is open, as closed rows that replace its
 *	  closed ones if it is closed.  That is why the upper view's windows
 *	  must be tumbling: a window holds its pane alone.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/timestamp.h"

#include "view_apply.h"
#include "view_plan.h"
#include "view_source.h"
#include "view_state.h"
#include "window.h"
#include "window_close.h"

static ViewPlan *lower_plan(ViewPlan *plan, List *plans);

/*
 * lower_plan finds the plan of the view plan reads among the worker's, or
 * NULL when it is not loaded (restored and not adopted yet).
 */
static ViewPlan *
lower_plan(ViewPlan *plan, List *plans)
{
	ListCell   *lc;

	foreach(lc, plans)
		if (((ViewPlan *) lfirst(lc))->id == plan->source_id)
			return lfirst(lc);
	return NULL;
}

/*
 * view_source_catch_up applies to a view on a view the lower view's rows
 * that have become complete since it last took them.  The caller's
 * transaction sees the lower view's closed rows up to its closed_upto.
 */
void
view_source_catch_up(ViewPlan *plan, List *plans)
{
	ViewPlan   *lower = lower_plan(plan, plans);
	TimestampTz horizon;

	if (lower == NULL)
		return;
	horizon = window_first_open_start(&lower->window, lower->state->closed_upto);
	if (horizon <= plan->state->max_event_time)
		return;
	view_plan_feed_source(plan, plan->state->max_event_time, horizon);
	plan->state->max_event_time = horizon;
}

/*
 * view_source_recompute computes again each window of a view on a view
 * that holds a row the lower view corrected in this checkpoint, from the
 * lower view's rows as they are now.  A closed window's rows are deleted
 * and its groups computed as corrections, which the checkpoint writes as
 * closed rows next (window_close_due), telling subscribers.  Windows
 * holding lower rows past the lower view's retention are left alone: those
 * rows are gone.  The view's counters do not count the rows again.
 */
void
view_source_recompute(ViewPlan *plan, List *plans, WindowSink *sink)
{
	ViewPlan   *lower = lower_plan(plan, plans);
	ViewState  *state = plan->state;
	uint64		events = state->events;
	uint64		late_events = state->late_events;
	List	   *done = NIL;
	ListCell   *lc;

	if (lower == NULL)
		return;
	Assert(plan->window.kind == WINDOW_TUMBLING);
	foreach(lc, lower->state->corrected_starts)
	{
		TimestampTz corrected = *(TimestampTz *) lfirst(lc);
		TimestampTz start;
		TimestampTz end;
		ListCell   *lc2;
		bool		seen = false;

		/* not taken yet: it is taken as it is now */
		if (corrected >= state->max_event_time)
			continue;
		start = window_pane_for(&plan->window, corrected);
		end = window_pane_end(&plan->window, start);
		foreach(lc2, done)
			seen |= (*(TimestampTz *) lfirst(lc2) == start);
		if (seen || start < view_plan_retained_from(lower))
			continue;
		done = lappend(done, memcpy(palloc(sizeof(TimestampTz)), &start, sizeof(TimestampTz)));

		if (end > state->closed_upto)
			window_forget_pane(plan, sink, start);
		else if (start >= view_plan_retained_from(plan))
			sink->closed_window_dropped(sink, plan, start);
		else
			continue;
		view_plan_feed_source(plan, start, Min(end, state->max_event_time));
	}
	list_free_deep(done);
	state->events = events;
	state->late_events = late_events;
}

/*
 * view_source_note_correction remembers that a checkpoint corrected a row
 * of the window starting at start, for the views that read this one.
 */
void
view_source_note_correction(ViewPlan *plan, TimestampTz start)
{
	MemoryContext old = MemoryContextSwitchTo(plan->cxt);
	TimestampTz *copy = palloc(sizeof(TimestampTz));

	*copy = start;
	plan->state->corrected_starts = lappend(plan->state->corrected_starts, copy);
	MemoryContextSwitchTo(old);
}

/*
 * view_source_forget_corrections forgets them once every view that reads
 * this one has recomputed.
 */
void
view_source_forget_corrections(ViewPlan *plan)
{
	list_free_deep(plan->state->corrected_starts);
	plan->state->corrected_starts = NIL;
}
