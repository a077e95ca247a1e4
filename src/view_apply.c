/*-------------------------------------------------------------------------
 *
 * view_apply.c
 *	  Events applied to a continuous view: the keys, arguments and filters of
 *	  one event evaluated behind the owner's gate, then the transitions of
 *	  its group in the window (or session) it falls in; in a subtransaction
 *	  of its own when one bad event must cost only itself; the whole
 *	  stream at create_view (backfill); and, for a view on a view, the
 *	  lower view's closed rows as events.
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
#include "executor/spi.h"
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
#include "catalog.h"
#include "lookup_cache.h"
#include "settings.h"
#include "usercode.h"
#include "view_apply.h"
#include "view_plan.h"
#include "view_state.h"
#include "window.h"
#include "window_session.h"

/* an event to apply in a subtransaction */
typedef struct IsolatedEvent
{
	ViewPlan   *plan;
	TupleTableSlot *event;
	TimestampTz commit_time;
} IsolatedEvent;

/* an event of a backfill to set aside: it left the view half changed */
typedef struct BackfillSkip
{
	Oid			relid;
	ItemPointerData tid;
	int			sqlerrcode;
	char	   *message;
} BackfillSkip;

static void apply_event(ViewPlan *plan, TupleTableSlot *event, TimestampTz commit_time);
static void apply_one(void *arg);
static void note_future_event(ViewPlan *plan);
static bool backfill_relation(ViewPlan *plan, Oid relid, Snapshot snapshot, List **skip);
static BackfillSkip *find_skipped(List *skip, Oid relid, ItemPointer tid);
static void backfill_source(ViewPlan *plan, Snapshot snapshot);

/* the scan of a lower view's closed rows; checkpoint.c's statements are 0-4 */
#define SOURCE_SCAN_PLAN 100
#define SOURCE_FETCH_ROWS 1000

/*
 * view_plan_eval_event evaluates an event's WHERE, then its group keys into
 * the plan's keyslot and its aggregates' FILTERs and arguments into their
 * transition calls.  Returns false when WHERE rejects it.  The caller has
 * reset the expression context and stored the event as its scan tuple.
 * Every expression runs here, before any state changes: an expression
 * failing on this event leaves windows, groups and states untouched, so the
 * event can be set aside as a whole.
 */
bool
view_plan_eval_event(ViewPlan *plan)
{
	ExprContext *econtext = plan->econtext;
	TupleTableSlot *keyslot = plan->keyslot;
	int			i;
	int			nhashkeys = Max(plan->nkeys, 1);
	MemoryContext old;

	if (plan->where && !usercode_qual(plan->owner, plan->where, econtext))
		return false;

	old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	ExecClearTuple(keyslot);
	for (i = 0; i < nhashkeys; i++)
	{
		Datum		d = usercode_eval(plan->owner, plan->keys[i], econtext,
										  &keyslot->tts_isnull[i]);

		/* a group's identity on disk is its key's bytes: never compressed */
		if (!keyslot->tts_isnull[i] && TupleDescAttr(plan->keydesc, i)->attlen == -1 &&
			VARATT_IS_EXTENDED(DatumGetPointer(d)))
			d = PointerGetDatum(PG_DETOAST_DATUM_PACKED(d));
		keyslot->tts_values[i] = d;
	}
	ExecStoreVirtualTuple(keyslot);
	for (i = 0; i < plan->aggs.naggs; i++)
	{
		AggRunner  *agg = &plan->aggs.runners[i];
		FunctionCallInfo fcinfo = agg->trans_fcinfo;
		int			a;

		plan->agg_skip[i] = (agg->filter &&
							 !usercode_qual(plan->owner, agg->filter, econtext));
		if (plan->agg_skip[i])
			continue;
		for (a = 0; a < agg->numargs; a++)
			fcinfo->args[a + 1].value = usercode_eval(plan->owner, agg->args[a], econtext,
													  &fcinfo->args[a + 1].isnull);
	}
	MemoryContextSwitchTo(old);
	return true;
}

/*
 * view_plan_pane_fate says where an event of a pane goes, as of the view's
 * closed horizon: to the pane's open windows (live), to the corrections of
 * its windows already closed and still retained (late), or both.  An event
 * that is late or not live counts as a late event.
 */
void
view_plan_pane_fate(ViewPlan *plan, TimestampTz pane, bool *live, bool *late)
{
	if (plan->window.kind == WINDOW_SLIDING)
		*live = (pane >= window_sliding_cutoff(&plan->window, plan->state->closed_upto));
	else
		*live = window_pane_reaches(&plan->window, pane, plan->state->closed_upto);
	*late = (window_pane_closed_by(&plan->window, pane, plan->state->closed_upto) &&
			 window_pane_reaches(&plan->window, pane, view_plan_retained_from(plan)));
}

/*
 * apply_event advances the view with one event in slot.  Called
 * for every decoded insert into the view's stream, so it does nothing per
 * event that could be done once.
 */
static void
apply_event(ViewPlan *plan, TupleTableSlot *event, TimestampTz commit_time)
{
	ExprContext *econtext = plan->econtext;
	TimestampTz t;
	TimestampTz pane;
	bool		live;
	bool		late;
	MemoryContext old;

	ResetExprContext(econtext);
	econtext->ecxt_scantuple = event;
	t = view_plan_note_event_time(plan, event, commit_time);

	if (plan->joined.nlookups > 0 && !lookup_cache_join_event(plan, event))
		return;
	if (!view_plan_eval_event(plan))
		return;
	/* before anything changes: the event is set aside, not decoded again */
	window_check_event_time(&plan->window, t);

	old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);

	/* from here on a failure leaves the view's state half-changed */
	plan->state->mutating = true;
	/* a closed window of a view on a view computed again, apart */
	if (plan->state->recompute_into != NULL)
	{
		advance_group(plan, plan->state->recompute_into, NULL);
		plan->state->mutating = false;
		MemoryContextSwitchTo(old);
		return;
	}
	plan->state->events++;
	if (plan->window.kind == WINDOW_SESSION)
	{
		/* an event older than the watermark may join closed sessions */
		if (t < plan->state->closed_upto)
		{
			/* sessions past the retention are gone: a new one would be partial */
			if (t + plan->window.size_usec > view_plan_retained_from(plan))
				session_note_late(plan, t);
			plan->state->late_events++;
			plan->state->corrections_pending = true;
		}
		else
			session_apply_event(plan, t);
		plan->state->mutating = false;
		MemoryContextSwitchTo(old);
		return;
	}

	/*
	 * The event updates the state of its pane, which open windows combine,
	 * and, when windows holding the pane are closed already, the pane's
	 * corrections, which the next checkpoint combines into their rows.
	 */
	pane = window_pane_for(&plan->window, t);
	view_plan_pane_fate(plan, pane, &live, &late);
	if (live)
		advance_group(plan, view_plan_window(plan, pane, true), NULL);
	if (late)
	{
		advance_group(plan, view_plan_correction(plan, pane), NULL);
		plan->state->corrections_pending = true;
	}
	/*
	 * An event older than a sliding window is in no window ever again, one
	 * older than the retention in no window kept.
	 */
	if (late || !live)
		plan->state->late_events++;
	plan->state->mutating = false;
	MemoryContextSwitchTo(old);
}

/*
 * note_future_event counts an event further ahead of its commit than
 * streamext.max_future, and says so once per view: its window stays open
 * until the clock (or later events) catch up with it.
 */
static void
note_future_event(ViewPlan *plan)
{
	plan->state->future_events++;
	if (plan->state->future_warned)
		return;
	plan->state->future_warned = true;
	ereport(WARNING,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("continuous view \"%s\" got an event further ahead of its commit than streamext.max_future",
					plan->name),
			 errdetail("It counts in its window, which stays open; the watermark follows event times only up to streamext.max_future past their commit.  streamext.views counts such events in future_events."),
			 errhint("Check the clock of the producer, or raise streamext.max_future.")));
}

/*
 * view_plan_note_event_time moves the view's greatest event time with an
 * event, whether or not the event counts: one set aside as a dead letter
 * moves it too, so that the view closes the same windows whether the event
 * failed live or is skipped when the WAL is decoded again.  Returns the
 * event's time.
 */
TimestampTz
view_plan_note_event_time(ViewPlan *plan, TupleTableSlot *event, TimestampTz commit_time)
{
	TimestampTz t = commit_time;

	if (plan->time_attno != InvalidAttrNumber)
	{
		bool		isnull;
		Datum		d = slot_getattr(event, plan->time_attno, &isnull);

		if (!isnull)
			t = DatumGetTimestampTz(d);
	}
	view_plan_note_time(plan, t, commit_time);
	return t;
}

/*
 * view_plan_note_time moves the view's greatest event time to t, an event
 * time of a transaction committed at commit_time.
 */
void
view_plan_note_time(ViewPlan *plan, TimestampTz t, TimestampTz commit_time)
{
	if (t > plan->state->max_event_time)
	{
		/*
		 * An event time far ahead of its commit (a wrong clock) must not close
		 * every open window: the watermark follows it only up to
		 * streamext.max_future past the commit, which replays the same way.
		 * Backfilled events have no commit time here: now stands in.
		 */
		TimestampTz limit = (commit_time != 0 ? commit_time : GetCurrentTimestamp()) +
			(int64) streamext_max_future_s * USECS_PER_SEC;

		/* only windows wait for the watermark; a time they cannot hold is refused */
		if (t > limit && plan->window.kind != WINDOW_NONE && window_time_in_range(&plan->window, t))
			note_future_event(plan);
		plan->state->max_event_time = Max(plan->state->max_event_time, Min(t, limit));
	}
	if (commit_time != 0)
		plan->state->last_commit = Max(plan->state->last_commit, commit_time);
}

/*
 * view_plan_apply_event advances the view with one event in slot, behind
 * one gate for the view's owner: the expressions and aggregates of the
 * event run with the owner's rights (usercode.c).
 */
void
view_plan_apply_event(ViewPlan *plan, TupleTableSlot *event, TimestampTz commit_time)
{
	UserCodeGate gate;

	usercode_enter(&gate, plan->owner, USERCODE_READ_ONLY);
	apply_event(plan, event, commit_time);
	usercode_leave(&gate);
}

/*
 * apply_one applies one event to one view, for usercode_isolated, which
 * has put it behind the view owner's gate.
 */
static void
apply_one(void *arg)
{
	IsolatedEvent *ie = arg;

	apply_event(ie->plan, ie->event, ie->commit_time);
}

/*
 * view_plan_apply_isolated applies one event in a subtransaction behind
 * the gate, so that an event failing in this view costs this event of this
 * view.  An event that fails in its expressions, before it changed
 * anything, has changed nothing (APPLY_FAILED): the caller sets it aside as
 * a dead letter, or keeps the one it replays.  One that
 * failed after it began to change the view's states (in a transition or
 * combine function), or that made the transaction take an XID, leaves
 * nothing the caller can continue from (APPLY_REWIND): the caller starts
 * over from the view's last durable state with the event set aside.  Either
 * way failure holds the error.
 */
ApplyResult
view_plan_apply_isolated(ViewPlan *plan, TupleTableSlot *event, TimestampTz commit_time,
						 XLogRecPtr commit_lsn, UserCodeFailure *failure)
{
	IsolatedEvent ie = {plan, event, commit_time};

	if (usercode_isolated(plan->owner, USERCODE_READ_ONLY, apply_one, &ie, failure))
		return APPLY_DONE;
	if (failure->assigned_xid || plan->state->mutating)
	{
		plan->state->mutating = false;
		return APPLY_REWIND;
	}
	return APPLY_FAILED;
}

/*
 * view_plan_set_aside keeps an event that failed in this view as a dead
 * letter, written at the next checkpoint.
 */
void
view_plan_set_aside(ViewPlan *plan, TupleTableSlot *event, TimestampTz commit_time,
					XLogRecPtr commit_lsn, int sqlerrcode, const char *message)
{
	TimestampTz source_start = DT_NOBEGIN;
	char	   *json;

	if (plan->source_id != 0)
	{
		bool		isnull;
		Datum		start = slot_getattr(event, 1, &isnull);

		/* the lower row's window_start: view_source_recompute forgets it */
		if (!isnull)
			source_start = DatumGetTimestampTz(start);
	}
	/* the event itself, as JSON, for whoever fixes the cause */
	json = usercode_row_json(plan->owner, ExecFetchSlotHeapTupleDatum(event));
	view_plan_add_dead_letter(plan, json, commit_time, commit_lsn, source_start,
							  sqlerrcode, message);
	pfree(json);
}

/*
 * view_plan_add_dead_letter keeps an event (as JSON) as a dead letter of
 * the view, written by the next checkpoint.
 */
void
view_plan_add_dead_letter(ViewPlan *plan, const char *json, TimestampTz commit_time,
						  XLogRecPtr commit_lsn, TimestampTz source_start,
						  int sqlerrcode, const char *message)
{
	MemoryContext old = MemoryContextSwitchTo(plan->cxt);
	DeadLetter *dl = palloc(sizeof(DeadLetter));

	dl->event = pstrdup(json);
	dl->commit_lsn = commit_lsn;
	dl->committed_at = commit_time;
	dl->source_start = source_start;
	dl->sqlerrcode = sqlerrcode;
	dl->message = pstrdup(message);
	plan->state->new_dead_letters = lappend(plan->state->new_dead_letters, dl);
	plan->state->dead_letters++;
	MemoryContextSwitchTo(old);
}

/*
 * view_plan_compute builds a view from its catalog row and applies every
 * event of the stream visible to snapshot that other transactions
 * committed: the stream's table, or each partition of a partitioned stream.
 * Events of a stream without a time column need their commit time, which
 * only track_commit_timestamp keeps.  An event that fails is set aside as
 * a dead letter (a WARNING says how many); one that failed with the view's
 * states half changed makes the view be computed again without it.
 */
ViewPlan *
view_plan_compute(const ViewCatalogRow *row, MemoryContext parent, Snapshot snapshot)
{
	List	   *skip = NIL;

	for (;;)
	{
		ViewPlan   *plan = view_plan_build(row, parent);
		ListCell   *lc;
		uint64		set_aside = 0;
		bool		done = true;

		view_state_create(plan);
		lookup_cache_load_tables(plan, snapshot);
		if (plan->source_id != 0)
			backfill_source(plan, snapshot);
		else
		{
			foreach(lc, find_all_inheritors(plan->stream_relid, AccessShareLock, NULL))
				if (get_rel_relkind(lfirst_oid(lc)) == RELKIND_RELATION &&
					!backfill_relation(plan, lfirst_oid(lc), snapshot, &skip))
				{
					done = false;
					break;
				}
		}
		if (!done)
		{
			/* half changed: computed again, with that event set aside */
			view_plan_free(plan);
			continue;
		}

		set_aside = plan->state->dead_letters;
		if (set_aside > 0)
			ereport(WARNING,
					(errcode(((DeadLetter *) linitial(plan->state->new_dead_letters))->sqlerrcode),
					 errmsg("%llu event(s) of \"%s\" failed in continuous view \"%s\" and were set aside",
							(unsigned long long) set_aside, get_rel_name(plan->stream_relid),
							plan->name),
					 errdetail("The first failed with: %s",
							   ((DeadLetter *) linitial(plan->state->new_dead_letters))->message),
					 errhint("They are in streamext.dead_letters; fix the cause, then call streamext.replay_dead_letters('%s').",
							 plan->name)));
		return plan;
	}
}

/*
 * find_skipped finds an event of a backfill among those to set aside.
 */
static BackfillSkip *
find_skipped(List *skip, Oid relid, ItemPointer tid)
{
	ListCell   *lc;

	foreach(lc, skip)
	{
		BackfillSkip *bs = lfirst(lc);

		if (bs->relid == relid && ItemPointerEquals(&bs->tid, tid))
			return bs;
	}
	return NULL;
}

/*
 * backfill_relation applies the events of one table of the stream: the
 * stream itself or one of its partitions, whose rows are converted to the
 * stream's layout where it differs (a column dropped before the partition
 * was created).
 */
static bool
backfill_relation(ViewPlan *plan, Oid relid, Snapshot snapshot, List **skip)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TableScanDesc scan;
	TupleTableSlot *scanslot = table_slot_create(rel, NULL);
	TupleTableSlot *event = view_plan_event_slot(plan);
	TupleDesc	streamdesc = event->tts_tupleDescriptor;
	TupleConversionMap *map = NULL;
	Datum	   *values = NULL;
	bool	   *nulls = NULL;
	bool		need_commit_time = (plan->time_attno == InvalidAttrNumber &&
									plan->window.kind != WINDOW_NONE);
	UserCodeFailure failure;
	ApplyResult result;
	BackfillSkip *skipped;
	/* the events to set aside outlive the plan, which may be built again */
	MemoryContext skip_cxt = MemoryContextGetParent(plan->cxt);

	if (relid != plan->stream_relid)
	{
		map = convert_tuples_by_name(RelationGetDescr(rel), streamdesc);
		values = palloc(sizeof(Datum) * streamdesc->natts);
		nulls = palloc(sizeof(bool) * streamdesc->natts);
	}
	scan = table_beginscan(rel, snapshot, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, scanslot))
	{
		TimestampTz commit_time = 0;
		bool		shouldfree;
		HeapTuple	tup = ExecFetchSlotHeapTuple(scanslot, false, &shouldfree);

		/* the worker applies this transaction's own events at its commit */
		if (TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data)))
		{
			if (shouldfree)
				heap_freetuple(tup);
			continue;
		}

		if (need_commit_time)
		{
			TransactionId xmin = HeapTupleHeaderGetXmin(tup->t_data);

			if (!track_commit_timestamp ||
				!TransactionIdGetCommitTsData(xmin, &commit_time, NULL))
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("cannot compute windows over the events already in stream \"%s\"",
								RelationGetRelationName(rel)),
						 errdetail("The stream has no time column, and the commit time of its existing events is not known."),
						 errhint("Give the stream a time column (streamext.create_stream(..., time_column => ...)), or set track_commit_timestamp = on before the events are inserted.")));
		}
		if (map != NULL)
		{
			/* through the slot, which fills in columns added since with defaults */
			int			i;

			slot_getallattrs(scanslot);
			for (i = 0; i < streamdesc->natts; i++)
			{
				AttrNumber	from = map->attrMap->attnums[i];

				values[i] = from > 0 ? scanslot->tts_values[from - 1] : (Datum) 0;
				nulls[i] = from > 0 ? scanslot->tts_isnull[from - 1] : true;
			}
			if (shouldfree)
				heap_freetuple(tup);
			tup = heap_form_tuple(streamdesc, values, nulls);
			shouldfree = true;
		}
		/* group keys and states must not point into the table's TOAST */
		if (HeapTupleHasExternal(tup))
		{
			HeapTuple	flat = toast_flatten_tuple(tup, map ? streamdesc : RelationGetDescr(rel));

			if (shouldfree)
				heap_freetuple(tup);
			tup = flat;
			shouldfree = true;
		}
		ExecStoreHeapTuple(tup, event, false);
		skipped = find_skipped(*skip, relid, &scanslot->tts_tid);
		if (skipped != NULL)
		{
			(void) view_plan_note_event_time(plan, event, commit_time);
			view_plan_set_aside(plan, event, commit_time, plan->start_lsn,
								skipped->sqlerrcode, skipped->message);
			result = APPLY_DONE;
		}
		else
			result = view_plan_apply_isolated(plan, event, commit_time, plan->start_lsn,
											  &failure);
		if (result == APPLY_FAILED)
		{
			view_plan_set_aside(plan, event, commit_time, plan->start_lsn,
								failure.error->sqlerrcode, failure.error->message);
			FreeErrorData(failure.error);
		}
		else if (result == APPLY_REWIND)
		{
			/* the caller computes the view again without this event */
			MemoryContext old = MemoryContextSwitchTo(skip_cxt);
			BackfillSkip *bs = palloc(sizeof(BackfillSkip));

			bs->relid = relid;
			bs->tid = scanslot->tts_tid;
			bs->sqlerrcode = failure.error ? failure.error->sqlerrcode : ERRCODE_INTERNAL_ERROR;
			bs->message = pstrdup(failure.error ? failure.error->message : "unknown error");
			*skip = lappend(*skip, bs);
			MemoryContextSwitchTo(old);
			if (shouldfree)
				heap_freetuple(tup);
			table_endscan(scan);
			ExecDropSingleTupleTableSlot(scanslot);
			table_close(rel, AccessShareLock);
			return false;
		}
		if (shouldfree)
			heap_freetuple(tup);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(scanslot);
	table_close(rel, AccessShareLock);
	return true;
}

/*
 * backfill_source applies the lower view's closed windows that snapshot
 * sees as complete, for a view on a view: those starting before the first
 * window its closed_upto may leave open.  The caller keeps the worker from
 * closing more meanwhile (a lock on the lower view's closed table).
 */
static void
backfill_source(ViewPlan *plan, Snapshot snapshot)
{
	ViewProgressRow progress;
	TimestampTz horizon = DT_NOBEGIN;

	if (catalog_read_view_progress(plan->source_id, snapshot, &progress))
		horizon = window_first_open_start(&plan->source_window, progress.closed_upto);
	view_plan_feed_source(plan, DT_NOBEGIN, horizon);
	plan->state->max_event_time = Max(plan->state->max_event_time, horizon);
}

/*
 * view_plan_feed_source applies to a view on a view the rows of the lower
 * view's closed windows that start in [from, to) and that the lower view
 * shows (its HAVING holds): each is an event timed by its window_start.
 * An event failing in this view's expressions is set aside as a dead
 * letter; one that left its states half changed fails the caller, which
 * starts over.
 */
void
view_plan_feed_source(ViewPlan *plan, TimestampTz from, TimestampTz to)
{
	SPIPlanPtr	scan_plan;
	Portal		portal;
	Datum		args[2];
	TupleTableSlot *event = view_plan_event_slot(plan);
	TupleDesc	eventdesc = event->tts_tupleDescriptor;
	Datum	   *values = palloc(sizeof(Datum) * eventdesc->natts);
	bool	   *nulls = palloc(sizeof(bool) * eventdesc->natts);

	if (from >= to)
		return;
	SPI_connect();
	scan_plan = catalog_relation_plan(plan->source_closed_relid, SOURCE_SCAN_PLAN);
	if (scan_plan == NULL)
	{
		Oid			argtypes[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};

		scan_plan = catalog_keep_relation_plan(plan->source_closed_relid, SOURCE_SCAN_PLAN,
											   psprintf("SELECT * FROM %s WHERE window_start >= $1 "
														"AND window_start < $2 AND _having",
														catalog_qualified_name(plan->source_closed_relid)),
											   2, argtypes);
	}
	args[0] = TimestampTzGetDatum(from);
	args[1] = TimestampTzGetDatum(to);
	portal = SPI_cursor_open(NULL, scan_plan, args, NULL, false);
	for (;;)
	{
		uint64		i;

		SPI_cursor_fetch(portal, true, SOURCE_FETCH_ROWS);
		if (SPI_processed == 0)
			break;
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup;
			int			a;
			UserCodeFailure failure;
			ApplyResult result;

			for (a = 0; a < eventdesc->natts; a++)
				values[a] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, a + 1,
										  &nulls[a]);
			tup = heap_form_tuple(eventdesc, values, nulls);
			/* group keys and states must not point into the table's TOAST */
			if (HeapTupleHasExternal(tup))
				tup = toast_flatten_tuple(tup, eventdesc);
			ExecStoreHeapTuple(tup, event, true);
			result = view_plan_apply_isolated(plan, event, 0, plan->start_lsn, &failure);
			if (result == APPLY_FAILED)
			{
				if (!plan->state->quiet_failures)
					view_plan_set_aside(plan, event, 0, plan->start_lsn,
										failure.error->sqlerrcode, failure.error->message);
				FreeErrorData(failure.error);
			}
			else if (result == APPLY_REWIND)
				ereport(ERROR,
						(errcode(failure.error ? failure.error->sqlerrcode : ERRCODE_INTERNAL_ERROR),
						 errmsg("a row of continuous view \"%s\" left the states of continuous view \"%s\" half changed: %s",
								get_rel_name(plan->stream_relid), plan->name,
								failure.error ? failure.error->message : "unknown error"),
						 errhint("Fix the aggregate that failed, then call streamext.rebuild_view('%s').",
								 plan->name)));
			ExecClearTuple(event);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_finish();
	pfree(values);
	pfree(nulls);
}
