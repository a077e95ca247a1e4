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
 *	  commit: its groups wait without one.  At the commit each pane takes
 *	  the fate (open, late, gone) its events would have had one by one.
 *
 *	  A pane's partial groups are a window of the view's own shape (a
 *	  WindowGroups, apart from the view's), so that at the commit a pane
 *	  whose window the view does not have yet, the common case of a large
 *	  load of new events, becomes the view's window as it is: placing a
 *	  million-row transaction's 350,000 groups one by one took as long as
 *	  the transaction had taken to write.  Only a pane whose window exists,
 *	  or that is late, is combined group by group.
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
#include "view_plan.h"
#include "view_state.h"
#include "window.h"

/* an event set aside while folding, a dead letter at the commit */
typedef struct PartialDeadLetter
{
	char	   *event;			/* as JSON */
	int			sqlerrcode;
	char	   *message;
} PartialDeadLetter;

/* the partial groups of one pane (or of the commit's, not known yet) */
typedef struct PartialPane
{
	TimestampTz pane;			/* hash key; the commit's pane: 0 */
	uint64		events;			/* folded into its groups (WHERE passed) */
	WindowGroups wg;			/* its groups, in a memory context of its own */
} PartialPane;

static PartialPane *partial_pane(ViewPartial *vp, TimestampTz pane, bool at_commit);
static int	pane_cmp(const void *a, const void *b);
static void fold_event(ViewPartial *vp, TupleTableSlot *event);
static TimestampTz note_event_time(ViewPartial *vp, TupleTableSlot *event, bool *at_commit);
static void set_aside_event(ViewPartial *vp, TupleTableSlot *event);
static void place_pane(ViewPartial *vp, PartialPane *pp, TimestampTz pane, XLogRecPtr end_lsn);
static void combine_into(ViewPlan *plan, WindowGroups *wg, TupleTableSlot *keyslot,
						 AggValue *from, XLogRecPtr end_lsn);

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

	vp->plan = plan;
	vp->view_id = plan->id;
	vp->start_lsn = plan->start_lsn;
	vp->cxt = cxt;
	vp->max_time = DT_NOBEGIN;
	vp->sessions.plan = plan;
	vp->sessions.cxt = cxt;
	if (plan->window.kind != WINDOW_SESSION)
	{
		HASHCTL		hctl;
		MemoryContext old = MemoryContextSwitchTo(cxt);

		hctl.keysize = sizeof(TimestampTz);
		hctl.entrysize = sizeof(PartialPane);
		hctl.hcxt = cxt;
		vp->panes = hash_create("streamext partial panes", 64, &hctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		vp->keyslot = MakeSingleTupleTableSlot(plan->keydesc, &TTSOpsMinimalTuple);
		MemoryContextSwitchTo(old);
	}
	return vp;
}

/*
 * view_partial_fold folds a batch of events (heap tuples of the stream,
 * each held in turn by slot) into the partial states, behind the view
 * owner's gate: the same expressions and transitions the view runs for
 * them at their commit, into groups of the transaction's own.  The caller
 * isolates it; a failure leaves only these partial states half changed.
 */
void
view_partial_fold(ViewPartial *vp, TupleTableSlot *slot, HeapTuple *tuples, int ntuples)
{
	ViewPlan   *plan = vp->plan;
	UserCodeGate gate;
	bool		denied;
	int			i;

	usercode_enter(&gate, plan->owner, USERCODE_READ_ONLY);

	/*
	 * As of the batch's catalog snapshot, which is each event's: the batch
	 * ends where a catalog change (a REVOKE) comes.
	 */
	denied = !usercode_acl_ok(&plan->acl);
	for (i = 0; i < ntuples; i++)
	{
		ExecStoreHeapTuple(tuples[i], slot, false);
		if (denied)
			set_aside_event(vp, slot);
		else
			fold_event(vp, slot);
	}
	ExecClearTuple(slot);
	usercode_leave(&gate);
}

/*
 * note_event_time notes an event's time in the partial states, and says
 * whether it is its commit's, not known yet.
 */
static TimestampTz
note_event_time(ViewPartial *vp, TupleTableSlot *event, bool *at_commit)
{
	ViewPlan   *plan = vp->plan;

	*at_commit = true;
	if (plan->time_attno != InvalidAttrNumber)
	{
		bool		isnull;
		Datum		d = slot_getattr(event, plan->time_attno, &isnull);

		if (!isnull)
		{
			TimestampTz t = DatumGetTimestampTz(d);

			vp->max_time = Max(vp->max_time, t);
			vp->any_time = true;
			*at_commit = false;
			return t;
		}
	}
	vp->any_at_commit = true;
	return 0;
}

/*
 * set_aside_event keeps an event the view's owner may not run the view's
 * code for (EXECUTE revoked before it) as a dead letter, placed at the
 * commit, as the unstreamed path sets it aside (apply_to_view).  Its time
 * moves the watermark all the same.
 */
static void
set_aside_event(ViewPartial *vp, TupleTableSlot *event)
{
	ViewPlan   *plan = vp->plan;
	bool		at_commit;
	PartialDeadLetter *dl;
	char	   *json;
	MemoryContext old;

	(void) note_event_time(vp, event, &at_commit);
	json = usercode_row_json(plan->owner, ExecFetchSlotHeapTupleDatum(event));
	old = MemoryContextSwitchTo(vp->cxt);
	dl = palloc(sizeof(PartialDeadLetter));
	dl->event = pstrdup(json);
	dl->sqlerrcode = plan->acl.denied_code;
	dl->message = pstrdup(plan->acl.denied);
	vp->dead_letters = lappend(vp->dead_letters, dl);
	MemoryContextSwitchTo(old);
	pfree(json);
}

/*
 * fold_event folds one event, as apply_event would advance the view.
 */
static void
fold_event(ViewPartial *vp, TupleTableSlot *event)
{
	ViewPlan   *plan = vp->plan;
	ExprContext *econtext = plan->econtext;
	TimestampTz start = 0;
	bool		at_commit;

	ResetExprContext(econtext);
	econtext->ecxt_scantuple = event;
	vp->events++;
	start = note_event_time(vp, event, &at_commit);
	if (plan->window.kind == WINDOW_SESSION)
	{
		view_partial_session_fold(&vp->sessions, start, at_commit);
		return;
	}
	if (!at_commit)
		start = window_pane_for(&plan->window, start);

	if (view_plan_eval_event(plan))
	{
		PartialPane *pp = partial_pane(vp, start, at_commit);
		MemoryContext old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
		bool		isnew;
		ViewGroup  *gs = view_plan_group(plan, &pp->wg, plan->keyslot, &isnew);
		int			i;

		for (i = 0; i < plan->aggs.naggs; i++)
			if (!plan->agg_skip[i])
				agg_advance(&plan->aggs, &plan->aggs.runners[i], &gs->values[i], pp->wg.cxt);
		view_group_changed(&pp->wg, gs);
		pp->events++;
		MemoryContextSwitchTo(old);
	}
}

/*
 * partial_pane finds or makes the partial groups of a pane (at_commit: of
 * the commit's pane), a window the view does not see.
 */
static PartialPane *
partial_pane(ViewPartial *vp, TimestampTz pane, bool at_commit)
{
	PartialPane *pp;
	bool		found;

	if (at_commit && vp->at_commit_pane != NULL)
		return vp->at_commit_pane;
	/* events mostly arrive for the pane of the event before */
	if (!at_commit && vp->last_pane != NULL && vp->last_pane->pane == pane)
		return vp->last_pane;
	if (at_commit)
	{
		pp = MemoryContextAllocZero(vp->cxt, sizeof(PartialPane));
		found = false;
	}
	else
		pp = hash_search(vp->panes, &pane, HASH_ENTER, &found);
	if (!found)
	{
		pp->events = 0;
		window_groups_init(vp->plan, &pp->wg, false);
		/* freed with the partial states, unless the view adopts it */
		MemoryContextSetParent(pp->wg.cxt, vp->cxt);
	}
	if (at_commit)
		vp->at_commit_pane = pp;
	else
		vp->last_pane = pp;
	return pp;
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
view_partial_place(ViewPartial *vp, TimestampTz commit_time, XLogRecPtr final_lsn,
				   XLogRecPtr end_lsn)
{
	ViewPlan   *plan = vp->plan;
	UserCodeGate gate;
	ListCell   *lc;

	usercode_enter(&gate, plan->owner, USERCODE_READ_ONLY);
	if (vp->any_time)
		view_plan_note_time(plan, vp->max_time, commit_time);
	if (vp->any_at_commit)
		view_plan_note_time(plan, commit_time, commit_time);
	plan->state->txn_end = end_lsn;
	plan->state->mutating = true;
	view_partial_session_place(&vp->sessions, commit_time, end_lsn);

	/* pane by pane, in order, then the commit's */
	if (vp->panes != NULL)
	{
		HASH_SEQ_STATUS status;
		PartialPane *pp;
		PartialPane **panes;
		int64		npanes = 0;
		int64		n;

		panes = palloc(sizeof(PartialPane *) * (hash_get_num_entries(vp->panes) + 1));
		hash_seq_init(&status, vp->panes);
		while ((pp = hash_seq_search(&status)) != NULL)
			panes[npanes++] = pp;
		qsort(panes, npanes, sizeof(PartialPane *), pane_cmp);
		for (n = 0; n < npanes; n++)
			place_pane(vp, panes[n], panes[n]->pane, end_lsn);
		if (vp->at_commit_pane != NULL)
			place_pane(vp, vp->at_commit_pane, window_pane_for(&plan->window, commit_time),
					   end_lsn);
		pfree(panes);
	}
	foreach(lc, vp->dead_letters)
	{
		PartialDeadLetter *dl = lfirst(lc);

		view_plan_add_dead_letter(plan, dl->event, commit_time, final_lsn, DT_NOBEGIN,
								  dl->sqlerrcode, dl->message);
	}
	plan->state->mutating = false;
	usercode_leave(&gate);
}

/*
 * view_partial_bytes_to_combine is the memory of the partial states that
 * placing them would combine group by group, as the view stands now: those
 * of the panes whose window the view has, of the commit's pane and of
 * sessions, not those of the panes it would adopt (place_pane).
 */
Size
view_partial_bytes_to_combine(ViewPartial *vp)
{
	HASH_SEQ_STATUS status;
	PartialPane *pp;
	Size		bytes;

	if (vp->panes == NULL)
		return MemoryContextMemAllocated(vp->cxt, true);
	bytes = MemoryContextMemAllocated(vp->cxt, false);
	if (vp->at_commit_pane != NULL)
		bytes += MemoryContextMemAllocated(vp->at_commit_pane->wg.cxt, true);
	hash_seq_init(&status, vp->panes);
	while ((pp = hash_seq_search(&status)) != NULL)
		if (hash_search(vp->plan->state->windows, &pp->pane, HASH_FIND, NULL) != NULL)
			bytes += MemoryContextMemAllocated(pp->wg.cxt, true);
	return bytes;
}

/* pane_cmp orders partial panes by their start */
static int
pane_cmp(const void *a, const void *b)
{
	TimestampTz pa = (*(PartialPane *const *) a)->pane;
	TimestampTz pb = (*(PartialPane *const *) b)->pane;

	return (pa > pb) - (pa < pb);
}

/*
 * place_pane makes the partial groups of a pane count in the view: the
 * pane's window, when the view has none and the pane is only live, is
 * adopted as it is; otherwise its groups are combined into the view's
 * window, into the corrections of its closed windows, or both.
 */
static void
place_pane(ViewPartial *vp, PartialPane *pp, TimestampTz pane, XLogRecPtr end_lsn)
{
	ViewPlan   *plan = vp->plan;
	bool		live;
	bool		late;
	WindowGroups *window;
	WindowGroups *corrections;
	ListCell   *lc;

	view_plan_pane_fate(plan, pane, &live, &late);
	plan->state->events += pp->events;
	if (late || !live)
		plan->state->late_events += pp->events;
	if (late)
		plan->state->corrections_pending = true;
	if (live && !late && view_plan_adopt_window(plan, pane, &pp->wg, end_lsn))
		return;
	window = live ? view_plan_window(plan, pane, true) : NULL;
	corrections = late ? view_plan_correction(plan, pane) : NULL;
	foreach(lc, pp->wg.changed)
	{
		ViewGroup  *gs = lfirst(lc);

		ExecStoreMinimalTuple(gs->key, vp->keyslot, false);
		if (window != NULL)
			combine_into(plan, window, vp->keyslot, gs->values, end_lsn);
		if (corrections != NULL)
			combine_into(plan, corrections, vp->keyslot, gs->values, end_lsn);
		ExecClearTuple(vp->keyslot);
	}
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
