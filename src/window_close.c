/*-------------------------------------------------------------------------
 *
 * window_close.c
 *	  Closing windows, when a checkpoint passes the watermark: each window
 *	  whose end it has passed becomes one row per group, combined from its
 *	  panes; the late events of panes whose windows closed before correct
 *	  those rows; panes no open window holds leave memory.  Session windows
 *	  close in window_session.c.  Rows and what leaves memory go to a
 *	  WindowSink: the window layer decides, the checkpoint writes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/executor.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "sliding_stacks.h"
#include "view_plan.h"
#include "view_state.h"
#include "window.h"
#include "window_close.h"
#include "window_panes.h"
#include "window_session.h"

static void apply_corrections(ViewPlan *plan, WindowSink *sink);
static int	calendar_hopping_due(ViewPlan *plan, TimestampTz watermark, HTAB *closing,
								 List **retiring);
static void close_windows(ViewPlan *plan, WindowSink *sink, TimestampTz watermark);
static void forget_old_panes(ViewPlan *plan, WindowSink *sink, TimestampTz watermark);
static void let_go(ViewPlan *plan, WindowSink *sink, WindowGroups *wg);

/*
 * window_close_due closes what the watermark has passed since the last
 * checkpoint, for every kind of window.
 */
void
window_close_due(ViewPlan *plan, TimestampTz watermark, WindowSink *sink)
{
	if (plan->window.kind == WINDOW_SESSION)
		session_close_due(plan, watermark, sink);
	else if (window_closes(&plan->window))
	{
		apply_corrections(plan, sink);
		close_windows(plan, sink, watermark);
	}
	else if (plan->window.kind == WINDOW_SLIDING)
		forget_old_panes(plan, sink, watermark);
}

/*
 * window_write_rows writes a row for every group of a window.
 */
void
window_write_rows(ViewPlan *plan, WindowSink *sink, WindowGroups *wg,
				  TimestampTz start, TimestampTz end, bool combine)
{
	TupleHashIterator it;
	TupleHashEntry entry;

	InitTupleHashIterator(wg->groups, &it);
	while ((entry = ScanTupleHashTable(wg->groups, &it)) != NULL)
		sink->closed_row(sink, plan, start, end, entry->firstTuple,
						 ((ViewGroup *) entry->additional)->values, combine, combine);
}

/*
 * window_write_corrected_rows writes a row for every group of a closed
 * window computed again whole, replacing its rows: subscribers get them
 * as corrections.
 */
void
window_write_corrected_rows(ViewPlan *plan, WindowSink *sink, WindowGroups *wg,
							TimestampTz start, TimestampTz end)
{
	TupleHashIterator it;
	TupleHashEntry entry;

	InitTupleHashIterator(wg->groups, &it);
	while ((entry = ScanTupleHashTable(wg->groups, &it)) != NULL)
		sink->closed_row(sink, plan, start, end, entry->firstTuple,
						 ((ViewGroup *) entry->additional)->values, false, true);
}

/*
 * apply_corrections combines the late events of each pane into the rows of
 * the closed windows holding the pane.  Windows closing in this checkpoint
 * have them already: they are combined from the panes.
 */
static void
apply_corrections(ViewPlan *plan, WindowSink *sink)
{
	HASH_SEQ_STATUS status;
	WindowGroups *wg;
	List	   *done = NIL;
	ListCell   *lc;

	hash_seq_init(&status, plan->state->corrections);
	while ((wg = hash_seq_search(&status)) != NULL)
	{
		WindowBounds *w;
		int			n = window_list_of_pane(&plan->window, wg->start, view_plan_retained_from(plan),
											plan->state->closed_upto, &w);
		int			i;

		for (i = 0; i < n; i++)
			window_write_rows(plan, sink, wg, w[i].start, w[i].end, true);
		pfree(w);
		done = lappend(done, wg);
	}
	foreach(lc, done)
		view_plan_drop_window(plan, lfirst(lc));
	list_free(done);
}

/*
 * calendar_hopping_due enters in closing the calendar hopping windows the
 * watermark has passed since the last checkpoint, adds to *retiring the
 * panes no window still open holds, and returns how many windows close.
 * It goes through the windows that can hold a pane once, in order of
 * start, rather than through each pane's windows: a window of a month
 * every hour has some 750.
 */
static int
calendar_hopping_due(ViewPlan *plan, TimestampTz watermark, HTAB *closing, List **retiring)
{
	HASH_SEQ_STATUS status;
	WindowGroups *wg;
	TimestampTz *panes;
	int			npanes = 0;
	WindowBounds *w;
	TimestampTz *reach;
	int			n;
	int			i;
	int			nclosing = 0;

	panes = palloc(sizeof(TimestampTz) * Max(hash_get_num_entries(plan->state->windows), 1));
	hash_seq_init(&status, plan->state->windows);
	while ((wg = hash_seq_search(&status)) != NULL)
		panes[npanes++] = wg->start;
	if (npanes == 0)
	{
		pfree(panes);
		return 0;
	}
	qsort(panes, npanes, sizeof(TimestampTz), window_start_cmp);
	n = window_holding_any(&plan->window, panes, npanes, &w);
	pfree(panes);

	/* reach[i]: the greatest end of the windows starting up to the i-th */
	reach = palloc(sizeof(TimestampTz) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		reach[i] = (i == 0) ? w[i].end : Max(reach[i - 1], w[i].end);
		if (w[i].end > plan->state->closed_upto && w[i].end <= watermark)
		{
			hash_search(closing, &w[i], HASH_ENTER, NULL);
			nclosing++;
		}
	}

	/* a pane is in the window starting at it: the ends reaching past it hold it */
	hash_seq_init(&status, plan->state->windows);
	while ((wg = hash_seq_search(&status)) != NULL)
	{
		int			lo = 0;
		int			hi = n;

		while (lo < hi)
		{
			int			mid = (lo + hi) / 2;

			if (w[mid].start <= wg->start)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == 0 || reach[lo - 1] <= watermark)
			*retiring = lappend(*retiring, wg);
	}
	pfree(reach);
	pfree(w);
	return nclosing;
}

/*
 * close_windows writes the windows whose end the watermark has passed since
 * the last checkpoint, each combined from its panes, and lets go of the
 * panes that no window still open holds.
 */
static void
close_windows(ViewPlan *plan, WindowSink *sink, TimestampTz watermark)
{
	HASH_SEQ_STATUS status;
	WindowGroups *wg;
	HTAB	   *closing;
	HASHCTL		hctl;
	WindowBounds *bounds;
	TimestampTz *panes = NULL;
	int			npanes = 0;
	int			nclosing = 0;
	int			i;
	List	   *retiring = NIL;
	ListCell   *lc;

	memset(&hctl, 0, sizeof(hctl));
	hctl.keysize = sizeof(WindowBounds);
	hctl.entrysize = sizeof(WindowBounds);
	hctl.hcxt = CurrentMemoryContext;
	closing = hash_create("streamext closing windows", 64, &hctl,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	if (plan->window.kind == WINDOW_HOPPING && plan->window.calendar)
		nclosing = calendar_hopping_due(plan, watermark, closing, &retiring);
	else
	{
		hash_seq_init(&status, plan->state->windows);
		while ((wg = hash_seq_search(&status)) != NULL)
		{
			WindowBounds *w;
			int			n = window_list_of_pane(&plan->window, wg->start, plan->state->closed_upto,
												watermark, &w);

			for (i = 0; i < n; i++)
			{
				bool		found;

				hash_search(closing, &w[i], HASH_ENTER, &found);
				if (!found)
					nclosing++;
			}
			pfree(w);
			if (window_pane_last_end(&plan->window, wg->start) <= watermark)
				retiring = lappend(retiring, wg);
		}
	}

	/* in order of end, so that subscriptions get windows as they close */
	bounds = palloc(sizeof(WindowBounds) * Max(nclosing, 1));
	i = 0;
	hash_seq_init(&status, closing);
	while ((wg = hash_seq_search(&status)) != NULL)
	{
		memcpy(&bounds[i], wg, sizeof(WindowBounds));
		i++;
	}
	qsort(bounds, nclosing, sizeof(WindowBounds), window_bounds_cmp);

	/* a calendar's panes take longer to work out than to look for */
	if (plan->window.calendar && plan->window.kind != WINDOW_TUMBLING)
	{
		panes = palloc(sizeof(TimestampTz) * Max(hash_get_num_entries(plan->state->windows), 1));
		hash_seq_init(&status, plan->state->windows);
		while ((wg = hash_seq_search(&status)) != NULL)
			panes[npanes++] = wg->start;
		qsort(panes, npanes, sizeof(TimestampTz), window_start_cmp);
	}
	for (i = 0; i < nclosing; i++)
	{
		TimestampTz start = bounds[i].start;
		TimestampTz end = bounds[i].end;

		if (plan->window.kind == WINDOW_TUMBLING)
		{
			/* the pane is the window */
			wg = view_plan_window(plan, start, false);
			window_write_rows(plan, sink, wg, start, end, false);
		}
		else
		{
			WindowGroups *combined = window_combine_panes(plan, start, end, panes, npanes);

			window_write_rows(plan, sink, combined, start, end, false);
			MemoryContextDelete(combined->cxt);
			pfree(combined);
		}
	}
	hash_destroy(closing);
	pfree(bounds);
	if (panes != NULL)
		pfree(panes);

	foreach(lc, retiring)
		let_go(plan, sink, lfirst(lc));
	list_free(retiring);
}

/*
 * forget_old_panes lets go of the panes of a sliding window that the
 * window has passed.
 */
static void
forget_old_panes(ViewPlan *plan, WindowSink *sink, TimestampTz watermark)
{
	HASH_SEQ_STATUS status;
	WindowGroups *wg;
	List	   *old = NIL;
	ListCell   *lc;
	TimestampTz cutoff = window_sliding_cutoff(&plan->window, watermark);

	hash_seq_init(&status, plan->state->windows);
	while ((wg = hash_seq_search(&status)) != NULL)
		if (wg->start < cutoff)
			old = lappend(old, wg);
	foreach(lc, old)
		let_go(plan, sink, lfirst(lc));
	list_free(old);
}

/*
 * window_forget_pane drops an open pane, if there is one, as let_go does:
 * a view on a view computes it again from the lower view's rows.
 */
void
window_forget_pane(ViewPlan *plan, WindowSink *sink, TimestampTz pane)
{
	WindowGroups *wg = view_plan_window(plan, pane, false);

	if (wg != NULL)
	{
		/* a sliding view's combinations included it: made again */
		sliding_stacks_forget(plan);
		let_go(plan, sink, wg);
	}
}

/*
 * let_go drops a pane no open window holds any more: from open_state, from
 * what readers see once the checkpoint commits, and from memory.
 */
static void
let_go(ViewPlan *plan, WindowSink *sink, WindowGroups *wg)
{
	sink->open_rows_gone(sink, plan, wg->start, NULL);
	sink->window_retired(sink, plan, wg);
	view_plan_drop_window(plan, wg);
}
