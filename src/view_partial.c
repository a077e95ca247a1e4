/*-------------------------------------------------------------------------
 *
 * view_partial.c
 *	  Partial states of a continuous view for a transaction decoded while it
 *	  is written (PostgreSQL streams a transaction larger than
 *	  logical_decoding_work_mem before its commit).  Each event is folded
 *	  into a group of its pane, as the view would advance it, but into
 *	  states of their own: nothing reaches the view's windows, watermark or
 *	  counters before the commit, so an abort (of the transaction or of one
 *	  of its subtransactions, which keep partial states apart) just drops
 *	  them.  An event whose time is its commit time has no pane until the
 *	  commit: its groups wait without one.  At the commit the partial groups
 *	  are combined into the view's groups, each pane taking the fate (open,
 *	  late, gone) its events would have had one by one.
 *
 *	  Session windows merge across events: view_partial_session.c folds
 *	  and places them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/executor.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "agg_state.h"
#include "usercode.h"
#include "view_apply.h"
#include "view_partial.h"
#include "view_partial_session.h"
#include "view_plan.h"
#include "view_state.h"
#include "window.h"

/* a pane of partial groups: a pane start, or "the commit's pane" */
typedef struct PartialPaneKey
{
	TimestampTz start;
	int64		at_commit;		/* 1: the pane of the commit time, not known yet */
} PartialPaneKey;

typedef struct PartialPane
{
	PartialPaneKey key;			/* hash key */
	TupleHashTable groups;		/* group key -> AggValue[naggs] */
	uint64		events;			/* passed WHERE */
} PartialPane;

static PartialPane *partial_pane(ViewPartial *vp, TimestampTz start, bool at_commit);
static void combine_into(ViewPlan *plan, WindowGroups *wg, TupleTableSlot *keyslot,
						 AggValue *from, XLogRecPtr end_lsn);

/*
 * view_partial_possible says whether a view's events can be folded before
 * their commit: those of every window kind can.
 */
bool
view_partial_possible(ViewPlan *plan)
{
	return true;
}

/*
 * view_partial_create makes empty partial states of a view in a memory
 * context of their own under parent (not the plan's, which a reload may
 * free first).
 */
ViewPartial *
view_partial_create(ViewPlan *plan, MemoryContext parent)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "streamext partial view",
											  ALLOCSET_DEFAULT_SIZES);
	ViewPartial *vp = MemoryContextAllocZero(cxt, sizeof(ViewPartial));
	HASHCTL		hctl;
	MemoryContext old;

	vp->plan = plan;
	vp->view_id = plan->id;
	vp->start_lsn = plan->start_lsn;
	vp->cxt = cxt;
	memset(&hctl, 0, sizeof(hctl));
	hctl.keysize = sizeof(PartialPaneKey);
	hctl.entrysize = sizeof(PartialPane);
	hctl.hcxt = cxt;
	vp->panes = hash_create("streamext partial panes", 16, &hctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	old = MemoryContextSwitchTo(cxt);
	vp->keyslot = MakeSingleTupleTableSlot(plan->keydesc, &TTSOpsMinimalTuple);
	MemoryContextSwitchTo(old);
	vp->max_time = DT_NOBEGIN;
	return vp;
}

/*
 * partial_pane finds or creates a pane of partial groups.
 */
static PartialPane *
partial_pane(ViewPartial *vp, TimestampTz start, bool at_commit)
{
	PartialPaneKey key;
	PartialPane *pp;
	bool		found;
	ViewPlan   *plan = vp->plan;
	MemoryContext old;

	if (vp->last_pane != NULL && vp->last_pane->key.start == start &&
		vp->last_pane->key.at_commit == (int64) at_commit)
		return vp->last_pane;
	memset(&key, 0, sizeof(key));
	key.start = start;
	key.at_commit = at_commit;
	pp = hash_search(vp->panes, &key, HASH_ENTER, &found);
	if (!found)
	{
		pp->events = 0;
		old = MemoryContextSwitchTo(vp->cxt);
		pp->groups = BuildTupleHashTableExt(NULL, plan->keydesc, Max(plan->nkeys, 1),
											plan->key_cols, plan->key_eqfuncs,
											plan->key_hashfns, plan->key_collations,
											64, 0, vp->cxt, vp->cxt,
											plan->econtext->ecxt_per_tuple_memory,
											false);
		MemoryContextSwitchTo(old);
	}
	vp->last_pane = pp;
	return pp;
}

/*
 * view_partial_fold folds one event into the partial states, behind the
 * view owner's gate: the same expressions and transitions the view runs
 * for it at its commit, into groups of the transaction's own.  The caller
 * isolates it; a failure leaves only these partial states half changed.
 */
void
view_partial_fold(ViewPartial *vp, TupleTableSlot *event)
{
	ViewPlan   *plan = vp->plan;
	ExprContext *econtext = plan->econtext;
	UserCodeGate gate;
	TimestampTz start = 0;
	bool		at_commit = true;

	usercode_enter(&gate, plan->owner, USERCODE_READ_ONLY);
	ResetExprContext(econtext);
	econtext->ecxt_scantuple = event;
	vp->events++;
	if (plan->window.kind == WINDOW_SESSION)
	{
		view_partial_session_fold(vp, event);
		usercode_leave(&gate);
		return;
	}
	if (plan->time_attno != InvalidAttrNumber)
	{
		bool		isnull;
		Datum		d = slot_getattr(event, plan->time_attno, &isnull);

		if (!isnull)
		{
			TimestampTz t = DatumGetTimestampTz(d);

			vp->max_time = Max(vp->max_time, t);
			vp->any_time = true;
			start = window_pane_for(&plan->window, t);
			at_commit = false;
		}
	}
	if (at_commit)
		vp->any_at_commit = true;

	if (view_plan_eval_event(plan))
	{
		PartialPane *pp = partial_pane(vp, start, at_commit);
		TupleHashEntry entry;
		AggValue   *values;
		bool		isnew;
		int			i;
		MemoryContext old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);

		entry = LookupTupleHashEntry(pp->groups, plan->keyslot, &isnew, NULL);
		if (isnew)
		{
			values = MemoryContextAllocZero(vp->cxt,
											sizeof(AggValue) * Max(plan->aggs.naggs, 1));
			agg_init_values(&plan->aggs, values, vp->cxt);
			entry->additional = values;
		}
		values = entry->additional;
		for (i = 0; i < plan->aggs.naggs; i++)
			if (!plan->agg_skip[i])
				agg_advance(&plan->aggs, &plan->aggs.runners[i], &values[i], vp->cxt);
		pp->events++;
		MemoryContextSwitchTo(old);
	}
	usercode_leave(&gate);
}

/*
 * view_partial_place makes the partial states count, at the commit of
 * their transaction: the watermark moves as far as their events would
 * have moved it one by one, each pane goes where its events would have
 * gone (open windows, corrections of closed ones), and its groups are
 * combined into the view's.  Behind the owner's gate; a failure leaves the
 * view half changed (plan->state->mutating), as a failing transition does.
 */
void
view_partial_place(ViewPartial *vp, TimestampTz commit_time, XLogRecPtr end_lsn)
{
	ViewPlan   *plan = vp->plan;
	UserCodeGate gate;
	HASH_SEQ_STATUS status;
	PartialPane *pp;

	usercode_enter(&gate, plan->owner, USERCODE_READ_ONLY);
	if (vp->any_time)
		view_plan_note_time(plan, vp->max_time, commit_time);
	if (vp->any_at_commit)
		view_plan_note_time(plan, commit_time, commit_time);
	plan->state->txn_end = end_lsn;
	plan->state->mutating = true;
	view_partial_session_place(vp, commit_time, end_lsn);
	hash_seq_init(&status, vp->panes);
	while ((pp = hash_seq_search(&status)) != NULL)
	{
		TimestampTz pane = pp->key.at_commit ?
			window_pane_for(&plan->window, commit_time) : pp->key.start;
		bool		live;
		bool		late;
		TupleHashIterator iter;
		TupleHashEntry entry;

		view_plan_pane_fate(plan, pane, &live, &late);
		plan->state->events += pp->events;
		if (late || !live)
			plan->state->late_events += pp->events;
		if (late)
			plan->state->corrections_pending = true;
		InitTupleHashIterator(pp->groups, &iter);
		while ((entry = ScanTupleHashTable(pp->groups, &iter)) != NULL)
		{
			ExecStoreMinimalTuple(entry->firstTuple, vp->keyslot, false);
			if (live)
				combine_into(plan, view_plan_window(plan, pane, true), vp->keyslot,
							 entry->additional, end_lsn);
			if (late)
				combine_into(plan, view_plan_correction(plan, pane), vp->keyslot,
							 entry->additional, end_lsn);
			ExecClearTuple(vp->keyslot);
		}
		TermTupleHashIterator(&iter);
	}
	plan->state->mutating = false;
	usercode_leave(&gate);
}

/*
 * combine_into combines a partial group's states into its group of wg and
 * marks it changed, as advance_group does for one event.
 */
static void
combine_into(ViewPlan *plan, WindowGroups *wg, TupleTableSlot *keyslot,
			 AggValue *from, XLogRecPtr end_lsn)
{
	bool		isnew;
	ViewGroup  *gs = view_plan_group(plan, wg, keyslot, &isnew);

	agg_combine_values(&plan->aggs, gs->values, from, wg->cxt);
	view_group_changed(wg, gs);
	gs->dirty_disk = true;
	gs->changed_lsn = end_lsn;
	wg->changed_lsn = Max(wg->changed_lsn, end_lsn);
}
