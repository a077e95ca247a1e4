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
 *	  rows: its pane as open states while an open window holds it, and
 *	  each closed window holding it whole, as closed rows that replace its
 *	  closed ones.  Session windows, which move with their events, are not
 *	  offered above a view.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "view_apply.h"
#include "view_plan.h"
#include "view_source.h"
#include "view_state.h"
#include "window.h"
#include "window_close.h"

static ViewPlan *lower_plan(ViewPlan *plan, List *plans);
static TimestampTz lower_horizon(ViewPlan *lower, bool potential);
static bool pane_listed(List *panes, TimestampTz pane);
static bool window_listed(List *windows, const WindowBounds *w);
static bool pane_is_open(ViewPlan *plan, TimestampTz pane);
static void recompute_closed(ViewPlan *plan, WindowSink *sink, TimestampTz start,
							 TimestampTz end);
static void feed_apart(ViewPlan *plan, WindowGroups *wg, TimestampTz from, TimestampTz to,
					   bool set_aside);
static void forget_dead_letters(ViewPlan *plan, TimestampTz start, TimestampTz end);

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
 * lower_horizon is how far a view on a view may take the rows of the view
 * it reads: up to the first window start the lower view may still open
 * (window_first_open_start) of where its windows are all closed, its
 * closed_upto.  With potential, where they would be once it moved its
 * closed_upto on with nothing open (view_source_idle_closed_upto).
 */
static TimestampTz
lower_horizon(ViewPlan *lower, bool potential)
{
	TimestampTz closed = lower->state->closed_upto;

	/*
	 * Decoding again after a restart, the lower view closes its windows
	 * again only where it had closed them (checkpoint.c), but their rows are
	 * in its table already, final: a view on it may close its own windows
	 * again before that, silently, and must have taken their rows by then,
	 * or it would take them after, as late events counted twice.
	 */
	if (!XLogRecPtrIsInvalid(lower->state->closed_ahead_lsn))
		closed = Max(closed, lower->state->closed_ahead_upto);

	if (potential && hash_get_num_entries(lower->state->windows) == 0)
		closed = Max(closed, view_plan_watermark(lower));
	return window_first_open_start(&lower->window, closed);
}

/*
 * view_source_idle_closed_upto is where to move the closed_upto of a view that views on
 * views read up to its watermark when it holds no open window: nothing
 * closes, but events before the watermark are late from then on (they
 * correct windows, which the views on it compute again), so those views
 * may take its last rows rather than wait for its next event.  Returns
 * where it would move to, or DT_NOBEGIN when it would not; the caller
 * records it with the view's row locked.
 */
TimestampTz
view_source_idle_closed_upto(ViewPlan *plan)
{
	TimestampTz watermark;

	if (!plan->state->read_by_views || hash_get_num_entries(plan->state->windows) != 0 ||
		!window_closes(&plan->window))
		return DT_NOBEGIN;
	watermark = view_plan_watermark(plan);
	if (watermark <= plan->state->closed_upto ||
		window_first_open_start(&plan->window, watermark) <=
		window_first_open_start(&plan->window, plan->state->closed_upto))
		return DT_NOBEGIN;
	return watermark;
}

/*
 * view_source_behind says whether the view a view on a view reads has
 * closed windows it has not taken yet: the worker then takes them in a
 * transaction of its own, though nothing else is due (a view loaded from
 * an older checkpoint or computed again, a worker started again).
 */
bool
view_source_behind(ViewPlan *plan, List *plans)
{
	ViewPlan   *lower;

	if (plan->source_id == 0 || (lower = lower_plan(plan, plans)) == NULL)
		return false;
	return lower_horizon(lower, true) > plan->state->max_event_time;
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
	horizon = lower_horizon(lower, false);
	if (horizon <= plan->state->max_event_time)
		return;
	view_plan_feed_source(plan, plan->state->max_event_time, horizon);
	plan->state->max_event_time = horizon;
}

/*
 * view_source_taken_from is where the views on lower (among plans) have
 * taken its rows up to, as their checkpoints say: its closed rows of
 * windows ending by then are theirs for good, the later ones they may
 * have to read again (after a crash, from their checkpoint), whatever
 * lower's retention says.  DT_NOEND when no loaded view reads it.
 */
TimestampTz
view_source_taken_from(ViewPlan *lower, List *plans)
{
	TimestampTz taken = DT_NOEND;
	ListCell   *lc;

	foreach(lc, plans)
	{
		ViewPlan   *upper = lfirst(lc);

		if (upper->source_id == lower->id)
			taken = Min(taken, upper->state->saved_max_event_time);
	}
	return taken;
}

/* pane_listed says whether the list of TimestampTz * holds pane */
static bool
pane_listed(List *panes, TimestampTz pane)
{
	ListCell   *lc;

	foreach(lc, panes)
		if (*(TimestampTz *) lfirst(lc) == pane)
			return true;
	return false;
}

/* window_listed says whether the list of WindowBounds * holds w */
static bool
window_listed(List *windows, const WindowBounds *w)
{
	ListCell   *lc;

	foreach(lc, windows)
		if (window_bounds_cmp(lfirst(lc), w) == 0)
			return true;
	return false;
}

/*
 * pane_is_open says whether an open window of the view holds the pane.
 */
static bool
pane_is_open(ViewPlan *plan, TimestampTz pane)
{
	if (plan->window.kind == WINDOW_SLIDING)
		return pane >= window_sliding_cutoff(&plan->window, plan->state->closed_upto);
	return window_pane_reaches(&plan->window, pane, plan->state->closed_upto);
}

/*
 * feed_apart applies the lower rows starting in [from, to) to the groups
 * wg alone, apart from the view's windows; a row that fails is set aside
 * only when set_aside says so (once per row: other windows hold it too).
 */
static void
feed_apart(ViewPlan *plan, WindowGroups *wg, TimestampTz from, TimestampTz to, bool set_aside)
{
	plan->state->recompute_into = wg;
	plan->state->quiet_failures = !set_aside;
	PG_TRY();
	{
		view_plan_feed_source(plan, from, to);
	}
	PG_FINALLY();
	{
		plan->state->recompute_into = NULL;
		plan->state->quiet_failures = false;
	}
	PG_END_TRY();
}

/*
 * recompute_closed computes a closed window of a view on a view again,
 * whole, from the lower view's rows, in groups of its own, and writes its
 * rows in place of the ones it had.
 */
static void
recompute_closed(ViewPlan *plan, WindowSink *sink, TimestampTz start, TimestampTz end)
{
	WindowGroups wg;

	sink->closed_window_dropped(sink, plan, start, end);
	window_groups_init(plan, &wg, true);
	wg.start = start;
	feed_apart(plan, &wg, start, Min(end, plan->state->max_event_time), false);
	window_write_corrected_rows(plan, sink, &wg, start, end);
	MemoryContextDelete(wg.cxt);
}

/*
 * forget_dead_letters forgets the lower rows starting in [start, end) that
 * plan set aside, written or not yet: they are taken again as they are now,
 * and those that still fail are set aside again.
 */
static void
forget_dead_letters(ViewPlan *plan, TimestampTz start, TimestampTz end)
{
	ListCell   *lc;

	foreach(lc, plan->state->new_dead_letters)
	{
		DeadLetter *dl = lfirst(lc);

		if (dl->source_start >= start && dl->source_start < end)
		{
			plan->state->new_dead_letters =
				foreach_delete_current(plan->state->new_dead_letters, lc);
			pfree(dl->message);
			pfree(dl->event);
			pfree(dl);
		}
	}
	catalog_delete_source_dead_letters(plan->id, start, end);
}

/*
 * view_source_recompute computes again what of a view on a view holds a
 * row the lower view corrected in this checkpoint, from the lower view's
 * rows as they are now: each closed window holding the row's pane, whose
 * rows it replaces (subscribers get them as corrections), and the pane
 * itself while an open window holds it.  What holds lower windows past the
 * lower view's retention is left alone (those rows are gone), as are rows
 * not taken yet (they are taken as they are now).  The view's counters do
 * not count the rows again.
 */
void
view_source_recompute(ViewPlan *plan, List *plans, WindowSink *sink)
{
	ViewPlan   *lower = lower_plan(plan, plans);
	ViewState  *state = plan->state;
	uint64		events = state->events;
	uint64		late_events = state->late_events;
	uint64		future_events = state->future_events;
	List	   *panes_done = NIL;
	List	   *windows_done = NIL;
	ListCell   *lc;

	if (lower == NULL)
		return;
	Assert(plan->window.kind != WINDOW_SESSION);
	foreach(lc, lower->state->corrected_starts)
	{
		TimestampTz corrected = *(TimestampTz *) lfirst(lc);
		TimestampTz pane;
		TimestampTz pane_end;
		WindowBounds *windows;
		WindowGroups *late;
		int			n = 0;
		int			i;

		if (corrected >= state->max_event_time)
			continue;
		/* a time no window of this view holds: its rows are set aside */
		if (!window_time_in_range(&plan->window, corrected))
		{
			WindowGroups scratch;

			forget_dead_letters(plan, corrected, corrected + 1);
			window_groups_init(plan, &scratch, true);
			feed_apart(plan, &scratch, corrected, corrected + 1, true);
			MemoryContextDelete(scratch.cxt);
			continue;
		}
		pane = window_pane_for(&plan->window, corrected);
		if (pane_listed(panes_done, pane))
			continue;
		panes_done = lappend(panes_done, memcpy(palloc(sizeof(pane)), &pane, sizeof(pane)));

		if (window_closes(&plan->window))
			n = window_list_of_pane(&plan->window, pane, DT_NOBEGIN, state->closed_upto,
									&windows);
		for (i = 0; i < n; i++)
		{
			if (windows[i].start < view_plan_retained_from(lower) ||
				windows[i].start < view_plan_retained_from(plan) ||
				window_listed(windows_done, &windows[i]))
				continue;
			windows_done = lappend(windows_done, &windows[i]);
			recompute_closed(plan, sink, windows[i].start, windows[i].end);
		}
		/* late rows of the pane taken before: in the windows computed again */
		if ((late = hash_search(state->corrections, &pane, HASH_FIND, NULL)) != NULL)
			view_plan_drop_window(plan, late);
		/* the pane's rows again: each that fails is set aside once */
		pane_end = Min(window_pane_end(&plan->window, pane), state->max_event_time);
		if (pane < view_plan_retained_from(lower))
			continue;
		forget_dead_letters(plan, pane, pane_end);
		if (pane_is_open(plan, pane))
		{
			WindowGroups *open;

			/*
			 * Into the open pane alone: the closed windows holding it were
			 * computed again whole above, and would count it twice as late.
			 */
			window_forget_pane(plan, sink, pane);
			open = view_plan_window(plan, pane, true);
			feed_apart(plan, open, pane, pane_end, true);
			if (open->ngroups == 0)
				view_plan_drop_window(plan, open);
		}
		else
		{
			WindowGroups scratch;

			window_groups_init(plan, &scratch, true);
			feed_apart(plan, &scratch, pane, pane_end, true);
			MemoryContextDelete(scratch.cxt);
		}
	}
	list_free_deep(panes_done);
	list_free(windows_done);
	state->events = events;
	state->late_events = late_events;
	state->future_events = future_events;
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
