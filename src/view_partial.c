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

#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "utils/fmgroids.h"
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

/*
 * The partial groups of a view are one hash table keyed by (pane, at
 * commit, the view's group key): a transaction of a wide time range
 * touches thousands of panes, and a table per pane costs a hash table and
 * a compiled comparison each.  Columns 1 and 2 of the key are the pane's
 * start and whether the pane is the commit time's, unknown until then.
 */
#define PANE_COLUMN 1
#define AT_COMMIT_COLUMN 2
#define KEY_OFFSET 2

/* a partial group: its events (those WHERE passed) and its states */
typedef struct PartialGroup
{
	uint64		events;
	AggValue	values[FLEXIBLE_ARRAY_MEMBER];
} PartialGroup;

/* a partial group and the pane it goes to, for placing pane by pane */
typedef struct PlacedGroup
{
	TimestampTz pane;
	TupleHashEntry entry;
} PlacedGroup;

static void build_groups(ViewPartial *vp);
static int	placed_group_cmp(const void *a, const void *b);
static void fold_event(ViewPartial *vp, TupleTableSlot *event);
static TimestampTz note_event_time(ViewPartial *vp, TupleTableSlot *event, bool *at_commit);
static void set_aside_event(ViewPartial *vp, TupleTableSlot *event);
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
	build_groups(vp);
	return vp;
}

/*
 * build_groups makes the table of partial groups, its key the view's group
 * key behind the pane's columns, and the slots to look up and place them.
 */
static void
build_groups(ViewPartial *vp)
{
	ViewPlan   *plan = vp->plan;
	int			nkeys = Max(plan->nkeys, 1);
	int			ncols = nkeys + KEY_OFFSET;
	AttrNumber *cols;
	Oid		   *eqfuncs;
	Oid		   *collations;
	FmgrInfo   *hashfns;
	MemoryContext old = MemoryContextSwitchTo(vp->cxt);
	int			i;

	vp->groupdesc = CreateTemplateTupleDesc(ncols);
	TupleDescInitEntry(vp->groupdesc, PANE_COLUMN, NULL, TIMESTAMPTZOID, -1, 0);
	TupleDescInitEntry(vp->groupdesc, AT_COMMIT_COLUMN, NULL, BOOLOID, -1, 0);
	cols = palloc(sizeof(AttrNumber) * ncols);
	eqfuncs = palloc(sizeof(Oid) * ncols);
	collations = palloc0(sizeof(Oid) * ncols);
	hashfns = palloc0(sizeof(FmgrInfo) * ncols);
	eqfuncs[0] = F_TIMESTAMP_EQ;
	fmgr_info(F_TIMESTAMP_HASH, &hashfns[0]);
	eqfuncs[1] = F_BOOLEQ;
	fmgr_info(F_HASHCHAR, &hashfns[1]);
	for (i = 0; i < ncols; i++)
		cols[i] = i + 1;
	for (i = 0; i < nkeys; i++)
	{
		TupleDescCopyEntry(vp->groupdesc, i + 1 + KEY_OFFSET, plan->keydesc, plan->key_cols[i]);
		eqfuncs[i + KEY_OFFSET] = plan->key_eqfuncs[i];
		hashfns[i + KEY_OFFSET] = plan->key_hashfns[i];
		collations[i + KEY_OFFSET] = plan->key_collations[i];
	}
	vp->groups = BuildTupleHashTableExt(NULL, vp->groupdesc, ncols, cols, eqfuncs,
										hashfns, collations, 1024, 0, vp->cxt, vp->cxt,
										plan->econtext->ecxt_per_tuple_memory, false);
	vp->groupslot = MakeSingleTupleTableSlot(vp->groupdesc, &TTSOpsVirtual);
	vp->storedslot = MakeSingleTupleTableSlot(vp->groupdesc, &TTSOpsMinimalTuple);
	vp->keyslot = MakeSingleTupleTableSlot(plan->keydesc, &TTSOpsVirtual);
	MemoryContextSwitchTo(old);
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
		TupleTableSlot *groupslot = vp->groupslot;
		TupleTableSlot *keyslot = plan->keyslot;
		TupleHashEntry entry;
		PartialGroup *group;
		bool		isnew;
		int			i;
		MemoryContext old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);

		ExecClearTuple(groupslot);
		groupslot->tts_values[PANE_COLUMN - 1] = TimestampTzGetDatum(start);
		groupslot->tts_isnull[PANE_COLUMN - 1] = false;
		groupslot->tts_values[AT_COMMIT_COLUMN - 1] = BoolGetDatum(at_commit);
		groupslot->tts_isnull[AT_COMMIT_COLUMN - 1] = false;
		for (i = 0; i < Max(plan->nkeys, 1); i++)
		{
			groupslot->tts_values[i + KEY_OFFSET] = keyslot->tts_values[i];
			groupslot->tts_isnull[i + KEY_OFFSET] = keyslot->tts_isnull[i];
		}
		ExecStoreVirtualTuple(groupslot);
		entry = LookupTupleHashEntry(vp->groups, groupslot, &isnew, NULL);
		if (isnew)
		{
			group = MemoryContextAllocZero(vp->cxt, offsetof(PartialGroup, values) +
										   sizeof(AggValue) * Max(plan->aggs.naggs, 1));
			agg_init_values(&plan->aggs, group->values, vp->cxt);
			entry->additional = group;
		}
		group = entry->additional;
		for (i = 0; i < plan->aggs.naggs; i++)
			if (!plan->agg_skip[i])
				agg_advance(&plan->aggs, &plan->aggs.runners[i], &group->values[i], vp->cxt);
		group->events++;
		MemoryContextSwitchTo(old);
	}
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
	TupleHashIterator iter;
	TupleHashEntry entry;
	PlacedGroup *placed;
	int64		nplaced;
	int64		n;
	ListCell   *lc;

	usercode_enter(&gate, plan->owner, USERCODE_READ_ONLY);
	if (vp->any_time)
		view_plan_note_time(plan, vp->max_time, commit_time);
	if (vp->any_at_commit)
		view_plan_note_time(plan, commit_time, commit_time);
	plan->state->txn_end = end_lsn;
	plan->state->mutating = true;
	view_partial_session_place(&vp->sessions, commit_time, end_lsn);

	/*
	 * Pane by pane: a pane's groups then go to one window, whose hash table
	 * and memory stay in the cache, rather than to a window at random for
	 * each group (the partial table's order), which misses it every time.
	 */
	nplaced = 0;
	placed = palloc_extended(sizeof(PlacedGroup) * Max(vp->groups->hashtab->members, 1),
							 MCXT_ALLOC_HUGE);
	InitTupleHashIterator(vp->groups, &iter);
	while ((entry = ScanTupleHashTable(vp->groups, &iter)) != NULL)
	{
		TupleTableSlot *stored = vp->storedslot;

		ExecStoreMinimalTuple(entry->firstTuple, stored, false);
		slot_getsomeattrs(stored, AT_COMMIT_COLUMN);
		placed[nplaced].pane = DatumGetBool(stored->tts_values[AT_COMMIT_COLUMN - 1]) ?
			window_pane_for(&plan->window, commit_time) :
			DatumGetTimestampTz(stored->tts_values[PANE_COLUMN - 1]);
		placed[nplaced++].entry = entry;
		ExecClearTuple(stored);
	}
	TermTupleHashIterator(&iter);
	qsort(placed, nplaced, sizeof(PlacedGroup), placed_group_cmp);
	for (n = 0; n < nplaced; n++)
	{
		PartialGroup *group = placed[n].entry->additional;
		TupleTableSlot *stored = vp->storedslot;
		TupleTableSlot *keyslot = vp->keyslot;
		TimestampTz pane = placed[n].pane;
		bool		live;
		bool		late;
		int			i;

		ExecStoreMinimalTuple(placed[n].entry->firstTuple, stored, false);
		slot_getallattrs(stored);
		ExecClearTuple(keyslot);
		for (i = 0; i < Max(plan->nkeys, 1); i++)
		{
			keyslot->tts_values[i] = stored->tts_values[i + KEY_OFFSET];
			keyslot->tts_isnull[i] = stored->tts_isnull[i + KEY_OFFSET];
		}
		ExecStoreVirtualTuple(keyslot);
		view_plan_pane_fate(plan, pane, &live, &late);
		plan->state->events += group->events;
		if (late || !live)
			plan->state->late_events += group->events;
		if (late)
			plan->state->corrections_pending = true;
		if (live)
			combine_into(plan, view_plan_window(plan, pane, true), keyslot,
						 group->values, end_lsn);
		if (late)
			combine_into(plan, view_plan_correction(plan, pane), keyslot,
						 group->values, end_lsn);
		ExecClearTuple(keyslot);
		ExecClearTuple(stored);
	}
	pfree(placed);
	foreach(lc, vp->dead_letters)
	{
		PartialDeadLetter *dl = lfirst(lc);

		view_plan_add_dead_letter(plan, dl->event, commit_time, final_lsn, DT_NOBEGIN,
								  dl->sqlerrcode, dl->message);
	}
	plan->state->mutating = false;
	usercode_leave(&gate);
}

/* placed_group_cmp orders partial groups by pane */
static int
placed_group_cmp(const void *a, const void *b)
{
	TimestampTz pa = ((const PlacedGroup *) a)->pane;
	TimestampTz pb = ((const PlacedGroup *) b)->pane;

	return (pa > pb) - (pa < pb);
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
