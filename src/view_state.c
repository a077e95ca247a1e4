/*-------------------------------------------------------------------------
 *
 * view_state.c
 *	  The worker's state of a continuous view (ViewState): the hash of its
 *	  open windows (panes; one for sessions), each a hash of groups with
 *	  their transition states in the window's own memory context, freed
 *	  whole when the window closes; late events for closed windows; the
 *	  watermark.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/commit_ts.h"
#include "access/heaptoast.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/tupconvert.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "parser/parsetree.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "agg_state.h"
#include "view_plan.h"
#include "view_state.h"
#include "window.h"

/*
 * How far behind the clock the watermark of a stream without a time column
 * stays: see view_state_note_clock.
 */
#define CLOCK_MARGIN_USEC (25 * 1000)

static void note_new_window(ViewPlan *plan, TimestampTz wstart);

/*
 * view_state_create gives a plan the state the worker keeps, with no window
 * open yet, in the plan's memory.
 */
void
view_state_create(ViewPlan *plan)
{
	ViewState  *state = MemoryContextAllocZero(plan->cxt, sizeof(ViewState));
	HASHCTL		hctl;

	memset(&hctl, 0, sizeof(hctl));
	hctl.keysize = sizeof(TimestampTz);
	hctl.entrysize = sizeof(WindowGroups);
	hctl.hcxt = plan->cxt;
	state->windows = hash_create("streamext windows", 64, &hctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	state->corrections = hash_create("streamext corrections", 16, &hctl,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	state->closed_upto = DT_NOBEGIN;
	state->states_closed_upto = DT_NOBEGIN;
	state->closed_ahead_upto = DT_NOBEGIN;
	state->max_event_time = DT_NOBEGIN;
	state->saved_max_event_time = DT_NOBEGIN;
	state->clock_watermark = DT_NOBEGIN;
	state->next_end = DT_NOEND;
	plan->state = state;
}

/*
 * view_plan_window finds the open window (pane) starting at wstart,
 * creating it with its own memory context (freed whole when it closes).
 */
WindowGroups *
view_plan_window(ViewPlan *plan, TimestampTz wstart, bool create)
{
	WindowGroups *wg;
	bool		found;

	/* events mostly arrive for the window of the event before */
	if (plan->state->last_window != NULL && plan->state->last_window->start == wstart)
		return plan->state->last_window;

	wg = hash_search(plan->state->windows, &wstart, create ? HASH_ENTER : HASH_FIND, &found);
	if (create && !found)
	{
		window_groups_init(plan, wg, false);
		note_new_window(plan, wstart);
	}
	plan->state->last_window = wg;
	return wg;
}

/*
 * view_plan_adopt_window makes wg, a window built apart (a streamed
 * transaction's pane, view_partial.c), the view's window at wstart, with
 * its groups changed by the commit ending at end_lsn; false, leaving wg
 * as it is, if the view has that window already.
 */
bool
view_plan_adopt_window(ViewPlan *plan, TimestampTz wstart, WindowGroups *wg,
					   XLogRecPtr end_lsn)
{
	WindowGroups *into;
	bool		found;
	ListCell   *lc;

	into = hash_search(plan->state->windows, &wstart, HASH_ENTER, &found);
	if (found)
		return false;
	*into = *wg;
	into->start = wstart;
	MemoryContextSetParent(into->cxt, plan->cxt);
	foreach(lc, into->changed)
	{
		ViewGroup  *gs = lfirst(lc);

		gs->dirty_disk = true;
		gs->changed_lsn = end_lsn;
	}
	into->changed_lsn = end_lsn;
	note_new_window(plan, wstart);
	return true;
}

/* note_new_window notes when a window just made first ends */
static void
note_new_window(ViewPlan *plan, TimestampTz wstart)
{
	if (window_closes(&plan->window) && plan->window.kind != WINDOW_SESSION)
		view_state_note_end(plan, window_pane_first_end(&plan->window, wstart));
}

/*
 * view_plan_correction finds or creates the late events of a pane (of a
 * session view: of a span of the gap, session_note_late) for windows that
 * are closed already.
 */
WindowGroups *
view_plan_correction(ViewPlan *plan, TimestampTz start)
{
	WindowGroups *wg;
	bool		found;

	wg = hash_search(plan->state->corrections, &start, HASH_ENTER, &found);
	if (!found)
		window_groups_init(plan, wg, true);
	return wg;
}

/*
 * window_groups_init makes an empty window in a new hash entry, or
 * standalone (for combined panes) when cxt is given.
 */
void
window_groups_init(ViewPlan *plan, WindowGroups *wg, bool correction)
{
	int			nhashkeys = Max(plan->nkeys, 1);
	MemoryContext old;

	wg->cxt = AllocSetContextCreate(plan->cxt, "streamext window",
									ALLOCSET_DEFAULT_SIZES);
	wg->ngroups = 0;
	wg->any_dirty = false;
	wg->changed = NIL;
	wg->changed_lsn = InvalidXLogRecPtr;
	wg->correction = correction;

	old = MemoryContextSwitchTo(wg->cxt);
	wg->groups = BuildTupleHashTableExt(NULL, plan->keydesc, nhashkeys, plan->key_cols,
										plan->key_eqfuncs, plan->key_hashfns,
										plan->key_collations,
										64, 0, wg->cxt, wg->cxt,
										plan->econtext->ecxt_per_tuple_memory,
										false);
	MemoryContextSwitchTo(old);
}

/*
 * view_plan_drop_window forgets a closed window, or corrections applied,
 * and frees its states.
 */
void
view_plan_drop_window(ViewPlan *plan, WindowGroups *wg)
{
	TimestampTz start = wg->start;

	plan->state->last_window = NULL;
	MemoryContextDelete(wg->cxt);
	hash_search(wg->correction ? plan->state->corrections : plan->state->windows, &start,
				HASH_REMOVE, NULL);
}

/*
 * view_plan_group finds or creates the group of keyslot in a window.
 */
ViewGroup *
view_plan_group(ViewPlan *plan, WindowGroups *wg, TupleTableSlot *keyslot,
				bool *isnew)
{
	TupleHashEntry entry;

	entry = LookupTupleHashEntry(wg->groups, keyslot, isnew, NULL);
	if (*isnew)
		entry->additional = view_group_new(plan, wg, entry);
	return (ViewGroup *) entry->additional;
}

/*
 * view_group_new makes a group with initial states for the key of a hash
 * entry of wg; the caller links it to the entry.
 */
ViewGroup *
view_group_new(ViewPlan *plan, WindowGroups *wg, TupleHashEntry entry)
{
	ViewGroup  *gs;

	gs = MemoryContextAllocZero(wg->cxt,
								offsetof(ViewGroup, values) + sizeof(AggValue) * Max(plan->aggs.naggs, 1));
	gs->gid = plan->state->next_gid++;
	gs->key = entry->firstTuple;
	agg_init_values(&plan->aggs, gs->values, wg->cxt);
	wg->ngroups++;
	return gs;
}

/*
 * advance_group applies the event whose keys and arguments are evaluated to
 * its group in wg (or to the group gs given), and marks what changed.
 */
ViewGroup *
advance_group(ViewPlan *plan, WindowGroups *wg, ViewGroup *gs)
{
	bool		isnew;
	int			i;

	if (gs == NULL)
		gs = view_plan_group(plan, wg, plan->keyslot, &isnew);
	for (i = 0; i < plan->aggs.naggs; i++)
		if (!plan->agg_skip[i])
			agg_advance(&plan->aggs, &plan->aggs.runners[i], &gs->values[i], wg->cxt);
	view_group_changed(wg, gs);
	gs->dirty_disk = true;
	gs->changed_lsn = plan->state->txn_end;
	wg->changed_lsn = Max(wg->changed_lsn, plan->state->txn_end);
	return gs;
}

/*
 * view_group_changed notes a group to publish: publishing walks the groups
 * changed, not the window's.  The list lives in the window's memory, not in
 * the per-event memory this runs in.
 */
void
view_group_changed(WindowGroups *wg, ViewGroup *gs)
{
	if (!gs->dirty_shmem)
	{
		MemoryContext old = MemoryContextSwitchTo(wg->cxt);

		wg->changed = lappend(wg->changed, gs);
		MemoryContextSwitchTo(old);
		gs->dirty_shmem = true;
	}
	wg->any_dirty = true;
}

/*
 * view_plan_watermark is the event time up to which the view's windows are
 * complete: the greatest event time applied less the view's lateness, or
 * where the clock has put it (view_state_note_clock), whichever is later.
 */
TimestampTz
view_plan_watermark(ViewPlan *plan)
{
	ViewState  *state = plan->state;
	TimestampTz by_events = state->max_event_time;

	if (!TIMESTAMP_NOT_FINITE(by_events))
		by_events -= plan->lateness_usec;
	return Max(by_events, state->clock_watermark);
}

/*
 * view_state_note_clock moves the watermark with the clock.  The worker
 * calls it with a time now read before the WAL insert position that it has
 * decoded past since: every commit still to come was inserted after now.
 *
 * A stream without a time column has the commit time as event time.  A
 * commit takes its time before its record is inserted, with no order
 * between backends, so a commit still to come may carry a time a little
 * before now: the watermark stays CLOCK_MARGIN_USEC behind.  One later
 * still is a late event, which corrects its closed window: nothing is
 * lost.  (Commits replicated with an origin carry the origin's time; an
 * old one is late in the same way.)
 *
 * A stream with a time column follows the clock only once it has been
 * quiet for its idle_timeout: its event times are then assumed to have
 * moved on with the clock.  Events that come later still count, as late
 * events, in the windows closed meanwhile.
 */
void
view_state_note_clock(ViewPlan *plan, TimestampTz now)
{
	ViewState  *state = plan->state;
	TimestampTz wm;

	if (plan->window.kind == WINDOW_NONE)
		return;
	if (plan->time_attno == InvalidAttrNumber)
		wm = now - CLOCK_MARGIN_USEC - plan->lateness_usec;
	else if (plan->idle_timeout_usec >= 0 &&
			 now - state->last_commit >= plan->idle_timeout_usec)
		wm = now - Min(plan->lateness_usec, plan->idle_timeout_usec);
	else
		return;
	state->clock_watermark = Max(state->clock_watermark, wm);
}

/*
 * view_state_close_due says whether windows wait to be closed (or closed
 * windows to leave by the view's retention) now that the watermark has
 * moved: the worker closes them at once rather than at its next periodic
 * checkpoint.
 */
bool
view_state_close_due(ViewPlan *plan)
{
	ViewState  *state = plan->state;
	TimestampTz watermark = view_plan_watermark(plan);

	if (!window_closes(&plan->window) || watermark <= state->closed_upto)
		return false;
	if (state->next_end <= watermark)
		return true;
	/* retention: closed windows leave as the watermark moves on */
	return plan->retention_usec != 0 && watermark - state->closed_upto >= USECS_PER_SEC;
}

/* a window (or session) the watermark has passed, and the rows it writes */
typedef struct DueWindow
{
	TimestampTz end;
	int64		groups;
} DueWindow;

typedef struct DueWindows
{
	DueWindow  *w;
	int64		n;
	int64		allocated;
	int64		groups;
	TimestampTz upto;			/* the watermark */
} DueWindows;

typedef void (*SessionEndFn) (ViewPlan *plan, TimestampTz end, void *arg);

/* for_each_session_end calls fn with the end of every open session */
static void
for_each_session_end(ViewPlan *plan, SessionEndFn fn, void *arg)
{
	HASH_SEQ_STATUS status;
	WindowGroups *wg;

	hash_seq_init(&status, plan->state->windows);
	while ((wg = hash_seq_search(&status)) != NULL)
	{
		TupleHashIterator it;
		TupleHashEntry entry;

		InitTupleHashIterator(wg->groups, &it);
		while ((entry = ScanTupleHashTable(wg->groups, &it)) != NULL)
		{
			ViewGroup  *gs;

			for (gs = entry->additional; gs != NULL; gs = gs->next_session)
				fn(plan, gs->session_last + plan->window.size_usec, arg);
		}
	}
}

static void
add_due(DueWindows *due, TimestampTz end, int64 groups)
{
	if (due->n == due->allocated)
	{
		due->allocated *= 2;
		due->w = repalloc_huge(due->w, sizeof(DueWindow) * due->allocated);
	}
	due->w[due->n].end = end;
	due->w[due->n].groups = groups;
	due->n++;
	due->groups += groups;
}

/* a session the watermark has passed is due, with its one group */
static void
add_due_session(ViewPlan *plan, TimestampTz end, void *arg)
{
	DueWindows *due = arg;

	if (end <= due->upto)
		add_due(due, end, 1);
}

static int
due_end_cmp(const void *a, const void *b)
{
	TimestampTz ea = ((const DueWindow *) a)->end;
	TimestampTz eb = ((const DueWindow *) b)->end;

	return (ea > eb) - (ea < eb);
}

/*
 * view_state_close_horizon is how far one round of closing goes: the
 * watermark, or, when the windows it has passed hold more than budget
 * groups, the end of the last window that keeps the round within budget
 * (at least the first's, so that closing always moves on).  A round holds
 * the worker off decoding: a commit that makes a million groups due (a
 * large transaction, a backfill) is closed over rounds with the WAL after
 * it read between them, as a watermark moving in smaller steps would.
 *
 * The rounds' stops are worked out once per backlog, from one sort of the
 * windows due, and kept: windows opened between rounds only make a round
 * a little larger.  The last stop passed, the windows are looked at again.
 */
TimestampTz
view_state_close_horizon(ViewPlan *plan, TimestampTz watermark, int64 budget)
{
	ViewState  *state = plan->state;
	HASH_SEQ_STATUS status;
	WindowGroups *wg;
	DueWindows	due;
	int64		taken = 0;
	int64		i;

	if (!window_closes(&plan->window) || watermark <= state->closed_upto)
		return watermark;
	for (i = 0; i < state->nclose_cuts; i++)
		if (state->close_cuts[i] > state->closed_upto)
			return Min(state->close_cuts[i], watermark);
	if (state->close_cuts != NULL)
		pfree(state->close_cuts);
	state->close_cuts = NULL;
	state->nclose_cuts = 0;

	due.n = 0;
	due.groups = 0;
	due.allocated = 64;
	due.w = palloc(sizeof(DueWindow) * due.allocated);
	due.upto = watermark;
	if (plan->window.kind == WINDOW_SESSION)
		for_each_session_end(plan, add_due_session, &due);
	else
	{
		hash_seq_init(&status, state->windows);
		while ((wg = hash_seq_search(&status)) != NULL)
		{
			WindowBounds *w;
			int			n = window_list_of_pane(&plan->window, wg->start, state->closed_upto,
												watermark, &w);

			for (i = 0; i < n; i++)
				add_due(&due, w[i].end, wg->ngroups);
			pfree(w);
		}
	}
	if (due.groups > budget)
	{
		/* a stop before each window that would take a round past budget */
		qsort(due.w, due.n, sizeof(DueWindow), due_end_cmp);
		/* two rounds in a row hold more than budget: at most this many */
		state->close_cuts = MemoryContextAlloc(plan->cxt,
											   sizeof(TimestampTz) * (2 * due.groups / budget + 2));
		for (i = 0; i < due.n; i++)
		{
			/* windows ending together close together */
			if (taken + due.w[i].groups > budget && i > 0 && due.w[i].end != due.w[i - 1].end)
			{
				state->close_cuts[state->nclose_cuts++] = due.w[i - 1].end;
				taken = 0;
			}
			taken += due.w[i].groups;
		}
	}
	pfree(due.w);
	return state->nclose_cuts > 0 ? state->close_cuts[0] : watermark;
}

/*
 * view_state_wake_at is when the clock alone will make windows due: the
 * worker sleeps no longer than that.  DT_NOEND: the clock never will.
 */
TimestampTz
view_state_wake_at(ViewPlan *plan)
{
	ViewState  *state = plan->state;

	if (!window_closes(&plan->window) || TIMESTAMP_NOT_FINITE(state->next_end))
		return DT_NOEND;
	if (plan->time_attno == InvalidAttrNumber)
		return state->next_end + plan->lateness_usec + CLOCK_MARGIN_USEC;
	if (plan->idle_timeout_usec < 0)
		return DT_NOEND;
	return Max(state->last_commit + plan->idle_timeout_usec,
			   state->next_end + Min(plan->lateness_usec, plan->idle_timeout_usec));
}

/*
 * view_state_note_end notes that an open window (or session) ends at end,
 * possibly before every other: closing it is due once the watermark
 * passes.  A later end of a session that grows is not noted: the earlier
 * one only makes closing look due a bit early, which finds nothing to close
 * and looks again (view_state_find_next_end).
 */
void
view_state_note_end(ViewPlan *plan, TimestampTz end)
{
	plan->state->next_end = Min(plan->state->next_end, end);
}

/* note_session_end notes the end of an open session */
static void
note_session_end(ViewPlan *plan, TimestampTz end, void *arg)
{
	view_state_note_end(plan, end);
}

/*
 * view_state_find_next_end finds the earliest end of a window still open,
 * after windows closed or the state was restored.
 */
void
view_state_find_next_end(ViewPlan *plan)
{
	ViewState  *state = plan->state;
	HASH_SEQ_STATUS status;
	WindowGroups *wg;

	state->next_end = DT_NOEND;
	if (!window_closes(&plan->window))
		return;
	if (plan->window.kind != WINDOW_SESSION)
	{
		TimestampTz *panes = palloc(sizeof(TimestampTz) * Max(hash_get_num_entries(state->windows), 1));
		int			npanes = 0;

		hash_seq_init(&status, state->windows);
		while ((wg = hash_seq_search(&status)) != NULL)
			panes[npanes++] = wg->start;
		qsort(panes, npanes, sizeof(TimestampTz), window_start_cmp);
		view_state_note_end(plan, window_next_end(&plan->window, panes, npanes, state->closed_upto));
		pfree(panes);
		return;
	}
	for_each_session_end(plan, note_session_end, NULL);
}

/*
 * view_plan_retained_from is the end before which closed windows are
 * removed (and late events for them no longer count): the view's retention
 * before its closed horizon.
 */
TimestampTz
view_plan_retained_from(ViewPlan *plan)
{
	if (plan->retention_usec == 0 || TIMESTAMP_NOT_FINITE(plan->state->closed_upto))
		return DT_NOBEGIN;
	return plan->state->closed_upto - plan->retention_usec;
}

/*
 * group_bounds gives the window of a group of wg: a session's own, or the
 * pane's.
 */
void
group_bounds(ViewPlan *plan, WindowGroups *wg, ViewGroup *gs,
			 TimestampTz *start, TimestampTz *end)
{
	if (plan->window.kind == WINDOW_SESSION)
	{
		*start = gs->session_start;
		*end = gs->session_last + plan->window.size_usec;
	}
	else
	{
		*start = wg->start;
		*end = window_pane_end(&plan->window, wg->start);
	}
}
