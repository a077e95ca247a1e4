/*-------------------------------------------------------------------------
 *
 * checkpoint.c
 *	  Persisting views: the transition states of open windows
 *	  (streamext.open_state), the rows of closed windows (streamext.closed_N)
 *	  and each view's progress, written by the worker in one transaction
 *	  whose commit carries, through the worker's replication origin, the LSN
 *	  they are consistent at.  After a crash the worker reloads them and
 *	  skips every commit at or below that LSN: exactly once.
 *
 *	  Windows close when the watermark has passed their end: the window
 *	  layer (window_close.c) decides what closes and writes it to a
 *	  WindowSink, implemented here.  They close in a checkpoint, or sooner,
 *	  in a transaction of their own that writes their rows but no open
 *	  state (checkpoint_close_windows): a window's final row must not wait
 *	  for the next checkpoint.
 *
 *	  What keeps that exactly once: such a transaction records, with the
 *	  rows, the decoding position it closed at (view_progress.closed_lsn)
 *	  and leaves every open_state row in place until the next checkpoint,
 *	  so that the checkpoint's open states and the closed rows never
 *	  disagree about an event.  Decoding again from the checkpoint (after a
 *	  crash, or a rewind), the worker computes the same states, since
 *	  windows are chosen by event time and no late event comes between two
 *	  checkpoints without one (a correction makes the worker checkpoint),
 *	  and closes the windows up to the recorded horizon silently, at the
 *	  recorded position at the latest: their rows are written already.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/executor.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "replication/origin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/pg_lsn.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "agg_state.h"
#include "catalog.h"
#include "checkpoint.h"
#include "lookup_cache.h"
#include "row_insert.h"
#include "shmem.h"
#include "state_format.h"
#include "state_shmem.h"
#include "usercode.h"
#include "view_plan.h"
#include "view_source.h"
#include "view_state.h"
#include "window.h"
#include "window_close.h"
#include "window_session.h"
#include "window_sink.h"

#define OPEN_STATE_BATCH 5000

typedef struct OpenStateBatch
{
	int32		view_id;
	int			n;
	Datum		starts[OPEN_STATE_BATCH];
	Datum		keys[OPEN_STATE_BATCH];
	Datum		states[OPEN_STATE_BATCH];
	Datum		ends[OPEN_STATE_BATCH];
} OpenStateBatch;

/*
 * The checkpoint's side of closing windows: the statements that write a
 * view's closed rows, and where the window layer's sink writes.
 */
typedef struct CheckpointSink
{
	WindowSink	sink;			/* first: the window layer sees only this */
	StreamextDbSlot *slot;		/* whose readers see groups leave */
	ClosedRowListener listener; /* told of every row written, or NULL */
	TimestampTz silent_upto;	/* windows ending up to here were closed */
	bool		defer_open_rows;	/* open_state rows go at the checkpoint */
	RowInserter *inserter;	/* the closed table, or NULL: through SPI */
	bool		inserter_tried; /* opened (or found to need SPI) already */
	HeldRows   *held;			/* rows for subscriptions, until sink_finish */
	/* what sink_take_closed_rows took out, until a row replaces it */
	bool		taken_pending;
	bytea	   *taken_group;	/* of this group */
	List	   *taken;			/* TakenClosedRow */
	MemoryContext taken_cxt;
	TupleDesc	taken_desc;		/* of the closed table's rows */
} CheckpointSink;

/* a closed row taken out, whole, to be written back if its replacement fails */
typedef struct TakenClosedRow
{
	TimestampTz start;
	TimestampTz end;
	HeapTuple	tuple;
} TakenClosedRow;

/*
 * The statements on a view's closed table, which the catalog keeps for the
 * table's OID (catalog_relation_plan).
 */
typedef enum ClosedStatement
{
	CLOSED_INSERT,				/* a row */
	CLOSED_TAKE,				/* DELETE ... RETURNING of a row corrected */
	CLOSED_TAKE_SESSIONS,		/* DELETE ... RETURNING of sessions a late event
								 * joins */
	CLOSED_FORGET,				/* DELETE of the windows past retention */
	CLOSED_CLEAR,				/* DELETE of every row */
	CLOSED_DROP_WINDOW			/* DELETE ... RETURNING of a window computed
								 * again */
} ClosedStatement;

/* the fixed statements of a checkpoint, prepared once per process */
static void write_view(StreamextDbSlot *slot, ViewPlan *plan, List *plans,
					   TimestampTz limit, XLogRecPtr lsn, ClosedRowListener listener,
					   bool all, OpenStateBatch *batch);

static CatalogStatement upsert_open_states = {
	"INSERT INTO streamext.open_state (view_id, window_start, group_key, state, window_end) "
	"SELECT $1, w, k, s, e FROM unnest($2, $3, $4, $5) AS u(w, k, s, e) "
	"ON CONFLICT (view_id, window_start, group_key) "
	"DO UPDATE SET state = excluded.state, window_end = excluded.window_end",
	5, {INT4OID, TIMESTAMPTZARRAYOID, BYTEAARRAYOID, BYTEAARRAYOID, TIMESTAMPTZARRAYOID}
};
static CatalogStatement delete_open_window = {
	"DELETE FROM streamext.open_state WHERE view_id = $1 AND window_start = $2",
	2, {INT4OID, TIMESTAMPTZOID}
};
static CatalogStatement delete_open_group = {
	"DELETE FROM streamext.open_state WHERE view_id = $1 AND window_start = $2 "
	"AND group_key = $3",
	3, {INT4OID, TIMESTAMPTZOID, BYTEAOID}
};
static CatalogStatement delete_open_states = {
	"DELETE FROM streamext.open_state WHERE view_id = $1", 1, {INT4OID}
};
static CatalogStatement delete_view_dead_letters = {
	"DELETE FROM streamext.dead_letters WHERE view_id = $1", 1, {INT4OID}
};
static CatalogStatement upsert_progress = {
	"INSERT INTO streamext.view_progress AS p "
	"(view_id, closed_upto, max_event_time, events, late_events) "
	"VALUES ($1, $2, $3, $4, $5) ON CONFLICT (view_id) DO UPDATE SET "
	"closed_upto = $2, max_event_time = $3, events = $4, late_events = $5",
	5, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID, INT8OID}
};
/* 0.2's progress, with where closing outran the checkpoint */
static CatalogStatement upsert_progress_closing = {
	"INSERT INTO streamext.view_progress AS p "
	"(view_id, closed_upto, max_event_time, events, late_events, closed_lsn, "
	"states_closed_upto, future_events) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
	"ON CONFLICT (view_id) DO UPDATE SET closed_upto = $2, max_event_time = $3, "
	"events = $4, late_events = $5, closed_lsn = $6, states_closed_upto = $7, "
	"future_events = $8",
	8, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID, INT8OID, PG_LSNOID, TIMESTAMPTZOID,
	INT8OID}
};
/*
 * states_closed_upto NULL (a row of 0.1, written before the update): the
 * open states go with the closed_upto being replaced, which must be kept
 */
static CatalogStatement update_closing = {
	"UPDATE streamext.view_progress SET closed_upto = $2, closed_lsn = $3, "
	"states_closed_upto = coalesce(states_closed_upto, closed_upto) WHERE view_id = $1",
	3, {INT4OID, TIMESTAMPTZOID, PG_LSNOID}
};
static CatalogStatement lock_view = {
	"SELECT start_lsn FROM streamext.view_def WHERE id = $1 FOR KEY SHARE", 1, {INT4OID}
};

static void flush_open_states(OpenStateBatch *batch);
static SPIPlanPtr closed_plan(Oid closed_relid, ViewPlan *plan, ClosedStatement kind);
static void load_open_state(const OpenStateRow *row, void *arg);
static void sink_finish(CheckpointSink *cs);
static void sink_init(CheckpointSink *cs, StreamextDbSlot *slot, ViewPlan *plan,
					  ClosedRowListener listener, bool defer_open_rows);
static TimestampTz closing_watermark(ViewPlan *plan, XLogRecPtr lsn);
static void delete_deferred_open_rows(ViewPlan *plan);
static void delete_open_rows(ViewPlan *plan, TimestampTz start, bytea *key);
static void sink_closed_row(WindowSink *sink, ViewPlan *plan, TimestampTz start,
							TimestampTz end, MinimalTuple key, AggValue *values,
							bool combine, bool as_correction);
static List *sink_take_closed_rows(WindowSink *sink, ViewPlan *plan, MinimalTuple key,
								   TimestampTz from, TimestampTz to);
static void sink_late_failed(WindowSink *sink, ViewPlan *plan, TimestampTz start,
							 TimestampTz end, MinimalTuple key, ErrorData *error);
static void sink_open_rows_gone(WindowSink *sink, ViewPlan *plan, TimestampTz start,
								bytea *key);
static void sink_window_retired(WindowSink *sink, ViewPlan *plan, WindowGroups *wg);
static void sink_group_retired(WindowSink *sink, ViewPlan *plan, int64 gid);
static void sink_closed_window_dropped(WindowSink *sink, ViewPlan *plan, TimestampTz start,
									   TimestampTz end);
static void write_open_window(ViewPlan *plan, WindowGroups *wg, bool all,
							  OpenStateBatch *batch);
static void write_progress(ViewPlan *plan, XLogRecPtr lsn);
static bool write_closing(ViewPlan *plan, XLogRecPtr lsn);
static bool lock_view_row(ViewPlan *plan);
static void write_dead_letters(ViewPlan *plan);
static void write_row_isolated(void *arg);
static bool forget_taken(CheckpointSink *cs, List *taken);
static void settle_taken(CheckpointSink *cs);
static void restore_taken(CheckpointSink *cs, ViewPlan *plan, List *taken);
static void set_aside_group(ViewPlan *plan, TimestampTz start, TimestampTz end,
							MinimalTuple key, ErrorData *error, bool combine);

/*
 * flush_open_states upserts a batch of open-window states with one statement
 * of arrays.
 */
static void
flush_open_states(OpenStateBatch *batch)
{
	Datum		args[5];

	if (batch->n == 0)
		return;
	args[0] = Int32GetDatum(batch->view_id);
	args[1] = PointerGetDatum(construct_array(batch->starts, batch->n, TIMESTAMPTZOID,
											  sizeof(TimestampTz), FLOAT8PASSBYVAL,
											  TYPALIGN_DOUBLE));
	args[2] = PointerGetDatum(construct_array(batch->keys, batch->n, BYTEAOID,
											  -1, false, TYPALIGN_INT));
	args[3] = PointerGetDatum(construct_array(batch->states, batch->n, BYTEAOID,
											  -1, false, TYPALIGN_INT));
	args[4] = PointerGetDatum(construct_array(batch->ends, batch->n, TIMESTAMPTZOID,
											  sizeof(TimestampTz), FLOAT8PASSBYVAL,
											  TYPALIGN_DOUBLE));
	if (catalog_execute(&upsert_open_states, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "streamext: could not write open window states");
	batch->n = 0;
}

/*
 * write_open_window adds the changed groups of an open window (or all of
 * them) to the batch of open_state rows.
 */
static void
write_open_window(ViewPlan *plan, WindowGroups *wg, bool all, OpenStateBatch *batch)
{
	TupleHashIterator it;
	TupleHashEntry entry;
	StringInfoData buf;

	initStringInfo(&buf);
	InitTupleHashIterator(wg->groups, &it);
	while ((entry = ScanTupleHashTable(wg->groups, &it)) != NULL)
	{
		ViewGroup  *gs;

		for (gs = entry->additional; gs != NULL; gs = gs->next_session)
		{
			BlobParts	parts;
			TimestampTz start;
			TimestampTz end;

			if (!gs->dirty_disk && !all)
				continue;
			group_bounds(plan, wg, gs, &start, &end);
			resetStringInfo(&buf);
			state_blob_build(plan, start, end, gs, NULL, 0, &buf);
			state_blob_parts(buf.data, buf.len, &parts);
			batch->starts[batch->n] = TimestampTzGetDatum(start);
			batch->ends[batch->n] = TimestampTzGetDatum(end);
			batch->keys[batch->n] = PointerGetDatum(bytes_to_bytea(parts.key, parts.keylen));
			batch->states[batch->n] = PointerGetDatum(bytes_to_bytea(parts.states,
																	 parts.stateslen));
			batch->n++;
			gs->dirty_disk = false;
			if (batch->n == OPEN_STATE_BATCH)
				flush_open_states(batch);
		}
	}
	pfree(buf.data);
}

/*
 * closed_plan is the kept plan of a statement on a view's closed table,
 * prepared the first time, naming the table by its OID's current name.
 * plan gives the types of the row CLOSED_INSERT writes.
 */
static SPIPlanPtr
closed_plan(Oid closed_relid, ViewPlan *plan, ClosedStatement kind)
{
	SPIPlanPtr	result = catalog_relation_plan(closed_relid, kind);
	char	   *table;
	Oid			argtypes[3] = {TIMESTAMPTZOID, TIMESTAMPTZOID, BYTEAOID};

	if (result != NULL)
		return result;
	table = catalog_qualified_name(closed_relid);
	switch (kind)
	{
		case CLOSED_INSERT:
			{
				int			natts = plan->outdesc->natts;
				Oid		   *rowtypes = palloc(sizeof(Oid) * (natts + 3));
				StringInfoData sql;
				int			i;

				initStringInfo(&sql);
				appendStringInfo(&sql, "INSERT INTO %s VALUES (", table);
				for (i = 0; i < natts; i++)
				{
					rowtypes[i] = TupleDescAttr(plan->outdesc, i)->atttypid;
					appendStringInfo(&sql, "$%d, ", i + 1);
				}
				rowtypes[natts] = BYTEAOID;
				rowtypes[natts + 1] = BYTEAOID;
				rowtypes[natts + 2] = BOOLOID;
				appendStringInfo(&sql, "$%d, $%d, $%d)", natts + 1, natts + 2, natts + 3);
				return catalog_keep_relation_plan(closed_relid, kind, sql.data, natts + 3,
												  rowtypes);
			}
		case CLOSED_TAKE:
			return catalog_keep_relation_plan(closed_relid, kind,
											  psprintf("DELETE FROM %s WHERE window_start = $1 "
													   "AND window_end = $2 AND _group = $3 "
													   "RETURNING _state", table),
											  3, argtypes);
		case CLOSED_TAKE_SESSIONS:
			argtypes[0] = BYTEAOID;
			argtypes[2] = TIMESTAMPTZOID;
			return catalog_keep_relation_plan(closed_relid, kind,
											  psprintf("DELETE FROM %s WHERE _group = $1 "
													   "AND window_start < $2 AND window_end > $3 "
													   "RETURNING *", table),
											  3, argtypes);
		case CLOSED_FORGET:
			return catalog_keep_relation_plan(closed_relid, kind,
											  psprintf("DELETE FROM %s WHERE window_start < $1 "
													   "AND window_end <= $1", table),
											  1, argtypes);
		case CLOSED_CLEAR:
			return catalog_keep_relation_plan(closed_relid, kind,
											  psprintf("DELETE FROM %s", table), 0, NULL);
		case CLOSED_DROP_WINDOW:
			return catalog_keep_relation_plan(closed_relid, kind,
											  psprintf("DELETE FROM %s WHERE window_start = $1 "
													   "AND window_end = $2 "
													   "RETURNING _group, _state, _having", table),
											  2, argtypes);
	}
	elog(ERROR, "streamext: unknown statement %d on a closed table", (int) kind);
	return NULL;				/* keep compiler quiet */
}

/*
 * sink_init prepares the sink the window layer closes a view's windows
 * into, and the statements that write its closed rows: the INSERT of a
 * row, and the DELETE that takes out the row a correction replaces.
 */
static void
sink_init(CheckpointSink *cs, StreamextDbSlot *slot, ViewPlan *plan,
		  ClosedRowListener listener, bool defer_open_rows)
{
	memset(cs, 0, sizeof(CheckpointSink));
	cs->slot = slot;
	cs->listener = listener;
	cs->defer_open_rows = defer_open_rows;
	cs->silent_upto = XLogRecPtrIsInvalid(plan->state->closed_ahead_lsn) ?
		DT_NOBEGIN : plan->state->closed_ahead_upto;
	cs->sink.xid = GetTopTransactionId();
	cs->sink.cxt = AllocSetContextCreate(CurrentMemoryContext, "streamext closed row",
										 ALLOCSET_DEFAULT_SIZES);
	cs->sink.closed_row = sink_closed_row;
	cs->sink.take_closed_rows = sink_take_closed_rows;
	cs->sink.late_failed = sink_late_failed;
	cs->sink.open_rows_gone = sink_open_rows_gone;
	cs->sink.window_retired = sink_window_retired;
	cs->sink.group_retired = sink_group_retired;
	cs->sink.closed_window_dropped = sink_closed_window_dropped;
	if (listener != NULL && plan->state->subscriptions != NIL)
		cs->held = held_rows_create(plan, CurrentMemoryContext);
	cs->taken_cxt = AllocSetContextCreate(CurrentMemoryContext, "streamext taken rows",
										  ALLOCSET_SMALL_SIZES);
	if (!window_closes(&plan->window))
		return;					/* no closed table */
	(void) closed_plan(plan->closed_relid, plan, CLOSED_INSERT);
	(void) closed_plan(plan->closed_relid, plan, CLOSED_TAKE);
}

/*
 * sink_open_inserter opens the closed table for direct inserts when a
 * closing writes its first row (not before: a checkpoint that closes
 * nothing takes no lock on it), in the transaction of the closing, not in
 * a row's subtransaction.
 */
static void
sink_open_inserter(CheckpointSink *cs, ViewPlan *plan)
{
	int			ncolumns = plan->outdesc->natts + 3;
	Oid		   *types;
	int32	   *typmods;
	int			i;

	if (cs->inserter_tried)
		return;
	cs->inserter_tried = true;
	types = palloc(sizeof(Oid) * ncolumns);
	typmods = palloc(sizeof(int32) * ncolumns);
	for (i = 0; i < plan->outdesc->natts; i++)
	{
		types[i] = TupleDescAttr(plan->outdesc, i)->atttypid;
		typmods[i] = TupleDescAttr(plan->outdesc, i)->atttypmod;
	}
	types[i] = BYTEAOID;		/* _group */
	types[i + 1] = BYTEAOID;	/* _state */
	types[i + 2] = BOOLOID;		/* _having */
	typmods[i] = typmods[i + 1] = typmods[i + 2] = -1;
	cs->inserter = row_insert_begin(plan->closed_relid, ncolumns, types, typmods);
	pfree(types);
	pfree(typmods);
}

/* sink_finish closes what sink_init opened; subscriptions get the rows */
static void
sink_finish(CheckpointSink *cs)
{
	settle_taken(cs);
	row_insert_end(cs->inserter);
	cs->inserter = NULL;
	if (cs->held != NULL)
		held_rows_release(cs->held, cs->listener);
	cs->held = NULL;
	MemoryContextDelete(cs->taken_cxt);
	MemoryContextDelete(cs->sink.cxt);
}

/* a closed row to write, for write_row_isolated */
typedef struct ClosedRow
{
	ViewPlan   *plan;
	CheckpointSink *cs;
	TimestampTz start;
	TimestampTz end;
	MinimalTuple key;
	AggValue   *values;
	bool		combine;
	bool		as_correction;
	/* written by write_row_isolated, in the sink's cxt */
	bytea	   *group;
	bytea	   *state;
	Datum	   *out;
	bool	   *outnulls;
	bool		having;
} ClosedRow;

/*
 * sink_closed_row writes the row of one group of a window the watermark
 * has passed.  With combine, late events are being added to a window closed
 * before: its row is taken out and combined with them (values are copied
 * first: a pane's corrections go to every window holding the pane).
 * Otherwise values are finalised in place, so callers pass states they are
 * done with.  as_correction says how subscriptions get the row.
 *
 * The row is written in a subtransaction: when the view's functions fail
 * on this group (a final function, HAVING, an output expression, a
 * combine), the group's row is left as it was, the failure is set aside as
 * a dead letter of the view, and the other groups and views close as usual.
 */
static void
sink_closed_row(WindowSink *sink, ViewPlan *plan, TimestampTz start, TimestampTz end,
				MinimalTuple key, AggValue *values, bool combine, bool as_correction)
{
	CheckpointSink *cs = (CheckpointSink *) sink;
	ClosedRow	row = {plan, cs, start, end, key, values, combine, as_correction};
	UserCodeFailure failure;
	List	   *taken = NIL;
	bool		replaces_taken = false;
	bool		late = as_correction;
	bool		correction = as_correction;

	/* the row of the group whose rows were just taken out replaces them */
	if (cs->taken_pending)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		ExecStoreMinimalTuple(key, plan->keyslot, false);
		group_key_serialize(plan, plan->keyslot, &buf);
		replaces_taken = (VARSIZE_ANY_EXHDR(cs->taken_group) == buf.len &&
						  memcmp(VARDATA_ANY(cs->taken_group), buf.data, buf.len) == 0);
		pfree(buf.data);
		if (replaces_taken)
		{
			taken = cs->taken;
			cs->taken = NIL;
			cs->taken_pending = false;
			late = true;
		}
		else
			settle_taken(cs);
	}

	/* decoding again after a restart: written and delivered before it */
	if (end <= cs->silent_upto)
	{
		forget_taken(cs, taken);
		MemoryContextReset(sink->cxt);
		return;
	}
	/* views that read this one compute the window holding it again */
	if (late)
		view_source_note_correction(plan, start);
	sink_open_inserter(cs, plan);
	if (!usercode_isolated(InvalidOid, USERCODE_MAY_WRITE, write_row_isolated, &row,
						   &failure))
	{
		/* the rows it was to replace stay as they were */
		restore_taken(cs, plan, taken);
		set_aside_group(plan, start, end, key, failure.error, late);
		FreeErrorData(failure.error);
		MemoryContextReset(sink->cxt);
		return;
	}

	/*
	 * A row this closing wrote before and now replaced is forgotten; a row
	 * that replaces only rows new to subscribers (or none) is new to them.
	 */
	if (replaces_taken)
		correction = (taken != NIL && !forget_taken(cs, taken));
	else if (combine && cs->held != NULL &&
			 held_rows_forget(cs->held, start, end, row.group))
		correction = false;
	/* a window computed again: subscribers have the groups it left as they were */
	if (cs->held != NULL &&
		!(as_correction && !combine && !replaces_taken &&
		  held_rows_same_as_prior(cs->held, start, end, row.group, row.state, row.having)))
		held_rows_add(cs->held, start, end, row.group, row.out, row.outnulls, row.having,
					  correction, late);
	MemoryContextReset(sink->cxt);
}

/*
 * forget_taken forgets the held rows of taken rows, which are gone; true
 * if subscribers had none of them (each was held as new, or not held
 * because no subscriber has the view).
 */
static bool
forget_taken(CheckpointSink *cs, List *taken)
{
	bool		all_new = true;
	ListCell   *lc;

	foreach(lc, taken)
	{
		TakenClosedRow *row = lfirst(lc);

		if (cs->held == NULL || !held_rows_forget(cs->held, row->start, row->end,
												  cs->taken_group))
			all_new = false;
	}
	return all_new;
}

/*
 * settle_taken ends what sink_take_closed_rows took out and no closed row
 * replaced: the late events joined an open session, which holds it now.
 */
static void
settle_taken(CheckpointSink *cs)
{
	if (cs->taken_pending)
		(void) forget_taken(cs, cs->taken);
	cs->taken_pending = false;
	cs->taken = NIL;
	cs->taken_group = NULL;
	MemoryContextReset(cs->taken_cxt);
}

/*
 * restore_taken writes back the rows taken out for a row that could not be
 * written, in the checkpoint's transaction: the group's rows are left as
 * they were.
 */
static void
restore_taken(CheckpointSink *cs, ViewPlan *plan, List *taken)
{
	int			ncolumns = plan->outdesc->natts + 3;
	Datum	   *values = palloc(sizeof(Datum) * ncolumns);
	bool	   *isnull = palloc(sizeof(bool) * ncolumns);
	char	   *nulls = palloc(ncolumns);
	ListCell   *lc;
	int			i;

	foreach(lc, taken)
	{
		TakenClosedRow *row = lfirst(lc);

		heap_deform_tuple(row->tuple, cs->taken_desc, values, isnull);
		for (i = 0; i < ncolumns; i++)
			nulls[i] = isnull[i] ? 'n' : ' ';
		if (cs->inserter != NULL)
			row_insert(cs->inserter, values, nulls);
		else if (SPI_execute_plan(closed_plan(plan->closed_relid, plan, CLOSED_INSERT), values,
								  nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "streamext: could not write back closed rows");
	}
	pfree(values);
	pfree(isnull);
	pfree(nulls);
}

/*
 * write_row_isolated does the work of sink_closed_row, for
 * usercode_isolated.  The view's functions run behind its owner's gate
 * (agg_state.c, view_plan_output); the rows are streamext's own.
 */
static void
write_row_isolated(void *arg)
{
	ClosedRow  *r = arg;
	ViewPlan   *plan = r->plan;
	CheckpointSink *cs = r->cs;
	MemoryContext cxt = cs->sink.cxt;
	AggValue   *values = r->values;
	int			natts = plan->outdesc->natts;
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Datum	   *row = palloc(sizeof(Datum) * (natts + 3));
	char	   *nulls = palloc(natts + 3);
	bool	   *outnulls = palloc(sizeof(bool) * natts);
	Datum	   *keys = palloc(sizeof(Datum) * Max(plan->nkeys, 1));
	bool	   *keynulls = palloc(sizeof(bool) * Max(plan->nkeys, 1));
	StringInfoData buf;
	bytea	   *group;
	bool		having;
	int			i;

	initStringInfo(&buf);
	ExecStoreMinimalTuple(r->key, plan->keyslot, false);
	group_key_serialize(plan, plan->keyslot, &buf);
	group = bytes_to_bytea(buf.data, buf.len);

	if (r->combine)
	{
		Datum		fargs[3];
		AggValue   *copy = palloc0(sizeof(AggValue) * Max(plan->aggs.naggs, 1));

		resetStringInfo(&buf);
		states_write(plan, values, &buf, cxt);
		states_read(plan, buf.data, buf.len, copy, cxt);
		values = copy;
		fargs[0] = TimestampTzGetDatum(r->start);
		fargs[1] = TimestampTzGetDatum(r->end);
		fargs[2] = PointerGetDatum(group);
		if (SPI_execute_plan(closed_plan(plan->closed_relid, plan, CLOSED_TAKE), fargs, NULL,
							 false, 0) != SPI_OK_DELETE_RETURNING)
			elog(ERROR, "streamext: could not correct closed window");
		if (SPI_processed == 1)
		{
			bool		isnull;
			bytea	   *prior_state = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0],
																	SPI_tuptable->tupdesc, 1, &isnull));
			AggValue   *prior = palloc0(sizeof(AggValue) * Max(plan->aggs.naggs, 1));

			states_read(plan, VARDATA_ANY(prior_state), VARSIZE_ANY_EXHDR(prior_state),
								   prior, cxt);
			agg_combine_values(&plan->aggs, values, prior, cxt);
		}
	}

	/* states before finalising: final functions may modify them */
	resetStringInfo(&buf);
	states_write(plan, values, &buf, cxt);

	ExecStoreMinimalTuple(r->key, plan->keyslot, false);
	slot_getallattrs(plan->keyslot);
	for (i = 0; i < plan->nkeys; i++)
	{
		keys[i] = plan->keyslot->tts_values[i];
		keynulls[i] = plan->keyslot->tts_isnull[i];
	}
	having = view_plan_output(plan, r->start, r->end, keys, keynulls, values, row, outnulls);
	for (i = 0; i < natts; i++)
		nulls[i] = outnulls[i] ? 'n' : ' ';
	row[natts] = PointerGetDatum(group);
	r->state = bytes_to_bytea(buf.data, buf.len);
	row[natts + 1] = PointerGetDatum(r->state);
	row[natts + 2] = BoolGetDatum(having);
	nulls[natts] = nulls[natts + 1] = nulls[natts + 2] = ' ';
	if (cs->inserter != NULL)
		row_insert(cs->inserter, row, nulls);
	else if (SPI_execute_plan(closed_plan(plan->closed_relid, plan, CLOSED_INSERT), row, nulls,
							  false, 0) != SPI_OK_INSERT)
		elog(ERROR, "streamext: could not write closed window");
	/* subscriptions get the row once it is written (sink_closed_row) */
	r->group = group;
	r->out = row;
	r->outnulls = outnulls;
	r->having = having;
	MemoryContextSwitchTo(old);
}

/*
 * set_aside_group keeps a group whose closed row could not be computed as a
 * dead letter of the view: its window and key (not an event, so
 * replay_dead_letters leaves it), and why.
 */
static void
set_aside_group(ViewPlan *plan, TimestampTz start, TimestampTz end, MinimalTuple key,
				ErrorData *error, bool combine)
{
	MemoryContext old = MemoryContextSwitchTo(plan->cxt);
	DeadLetter *dl = palloc(sizeof(DeadLetter));

	dl->event = view_plan_group_json(plan, start, end, key, combine);
	dl->commit_lsn = plan->state->txn_end;
	dl->committed_at = 0;
	dl->source_start = DT_NOBEGIN;
	dl->sqlerrcode = error->sqlerrcode;
	dl->message = pstrdup(error->message);
	plan->state->new_dead_letters = lappend(plan->state->new_dead_letters, dl);
	plan->state->dead_letters++;
	MemoryContextSwitchTo(old);
}

/*
 * sink_open_rows_gone removes what open_state holds of a window (a pane)
 * that left memory, or, given a key, of one group of a session view (a
 * session closed, merged away, or moved to an earlier start).
 */
static void
sink_open_rows_gone(WindowSink *sink, ViewPlan *plan, TimestampTz start, bytea *key)
{
	CheckpointSink *cs = (CheckpointSink *) sink;

	if (cs->defer_open_rows)
	{
		MemoryContext old = MemoryContextSwitchTo(plan->cxt);
		StaleOpenRow *row = palloc(sizeof(StaleOpenRow));

		row->start = start;
		row->key = key ? DatumGetByteaPCopy(PointerGetDatum(key)) : NULL;
		plan->state->deferred_open_rows = lappend(plan->state->deferred_open_rows, row);
		MemoryContextSwitchTo(old);
		return;
	}
	delete_open_rows(plan, start, key);
}

/*
 * delete_open_rows deletes the open_state rows of a pane (key NULL) or of
 * one group of a session view.
 */
static void
delete_open_rows(ViewPlan *plan, TimestampTz start, bytea *key)
{
	Datum		dargs[3];

	dargs[0] = Int32GetDatum(plan->id);
	dargs[1] = TimestampTzGetDatum(start);
	dargs[2] = PointerGetDatum(key);
	if (catalog_execute(key == NULL ? &delete_open_window : &delete_open_group, dargs, NULL,
						false, 0) != SPI_OK_DELETE)
		elog(ERROR, "streamext: could not remove open window state");
}

/*
 * sink_take_closed_rows takes out of the closed table the rows of key's
 * group whose window overlaps (to, from): closed sessions a late event
 * joins.  They are returned in the sink's per-row memory.
 */
static List *
sink_take_closed_rows(WindowSink *sink, ViewPlan *plan, MinimalTuple key,
					  TimestampTz from, TimestampTz to)
{
	CheckpointSink *cs = (CheckpointSink *) sink;
	Datum		args[3];
	StringInfoData buf;
	List	   *rows = NIL;
	uint64		i;
	MemoryContext old;
	TupleDesc	desc;
	int			start_col;
	int			end_col;
	int			state_col;

	settle_taken(cs);
	old = MemoryContextSwitchTo(cs->taken_cxt);
	initStringInfo(&buf);
	ExecStoreMinimalTuple(key, plan->keyslot, false);
	group_key_serialize(plan, plan->keyslot, &buf);
	cs->taken_group = bytes_to_bytea(buf.data, buf.len);
	args[0] = PointerGetDatum(cs->taken_group);
	args[1] = TimestampTzGetDatum(from);
	args[2] = TimestampTzGetDatum(to);
	if (SPI_execute_plan(closed_plan(plan->closed_relid, plan, CLOSED_TAKE_SESSIONS), args,
						 NULL, false, 0) != SPI_OK_DELETE_RETURNING)
		elog(ERROR, "streamext: could not read closed sessions");
	desc = SPI_tuptable->tupdesc;
	start_col = SPI_fnumber(desc, "window_start");
	end_col = SPI_fnumber(desc, "window_end");
	state_col = SPI_fnumber(desc, "_state");
	if (start_col <= 0 || end_col <= 0 || state_col <= 0)
		elog(ERROR, "streamext: closed table of view \"%s\" lacks its columns", plan->name);
	MemoryContextSwitchTo(cs->taken_cxt);
	if (cs->taken_desc == NULL)
	{
		/* for the whole closing: taken_cxt is reset at each take */
		MemoryContextSwitchTo(MemoryContextGetParent(cs->taken_cxt));
		cs->taken_desc = CreateTupleDescCopy(desc);
		MemoryContextSwitchTo(cs->taken_cxt);
	}
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TakenClosedRow *taken = palloc(sizeof(TakenClosedRow));
		TakenRow   *row;
		bool		isnull;

		taken->start = DatumGetTimestampTz(SPI_getbinval(tup, desc, start_col, &isnull));
		taken->end = DatumGetTimestampTz(SPI_getbinval(tup, desc, end_col, &isnull));
		taken->tuple = heap_copytuple(tup);
		cs->taken = lappend(cs->taken, taken);

		MemoryContextSwitchTo(sink->cxt);
		row = palloc(sizeof(TakenRow));
		row->start = taken->start;
		row->end = taken->end;
		row->states = DatumGetByteaPCopy(SPI_getbinval(tup, desc, state_col, &isnull));
		rows = lappend(rows, row);
		MemoryContextSwitchTo(cs->taken_cxt);
	}
	cs->taken_pending = true;
	MemoryContextSwitchTo(old);
	return rows;
}

/*
 * sink_late_failed writes back the closed sessions sink_take_closed_rows
 * took out for late events whose states could not be combined with them,
 * and sets the events aside as a dead letter of their group (once: not
 * again when decoding again after a restart).
 */
static void
sink_late_failed(WindowSink *sink, ViewPlan *plan, TimestampTz start, TimestampTz end,
				 MinimalTuple key, ErrorData *error)
{
	CheckpointSink *cs = (CheckpointSink *) sink;

	if (cs->taken_pending)
	{
		sink_open_inserter(cs, plan);
		restore_taken(cs, plan, cs->taken);
		cs->taken_pending = false;	/* back in the table: nothing to forget */
	}
	settle_taken(cs);
	if (end > cs->silent_upto)
		set_aside_group(plan, start, end, key, error, true);
}

/*
 * sink_window_retired and sink_group_retired let readers see published
 * groups leave when the checkpoint commits.  Nothing is published for a
 * view that create_view computes.
 */
static void
sink_window_retired(WindowSink *sink, ViewPlan *plan, WindowGroups *wg)
{
	CheckpointSink *cs = (CheckpointSink *) sink;

	if (cs->slot != NULL)
		state_shmem_retire_window(cs->slot, plan, wg, sink->xid);
}

static void
sink_group_retired(WindowSink *sink, ViewPlan *plan, int64 gid)
{
	CheckpointSink *cs = (CheckpointSink *) sink;

	if (cs->slot != NULL)
		state_shmem_retire_gid(cs->slot, plan, gid, sink->xid);
}

/*
 * sink_closed_window_dropped deletes the closed rows of a window that a
 * view on a view computes again, noting them for its subscriptions (a row
 * written back unchanged is not sent again); not one that closes silently
 * (decoding again), whose rows are not written again either.
 */
static void
sink_closed_window_dropped(WindowSink *sink, ViewPlan *plan, TimestampTz start,
						   TimestampTz end)
{
	CheckpointSink *cs = (CheckpointSink *) sink;
	Datum		args[2];
	uint64		i;

	if (end <= cs->silent_upto)
		return;
	args[0] = TimestampTzGetDatum(start);
	args[1] = TimestampTzGetDatum(end);
	if (SPI_execute_plan(closed_plan(plan->closed_relid, plan, CLOSED_DROP_WINDOW), args, NULL,
						 false, 0) != SPI_OK_DELETE_RETURNING)
		elog(ERROR, "streamext: could not delete a closed window");
	if (cs->held == NULL)
		return;
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		held_rows_note_prior(cs->held, start, end,
							 DatumGetByteaPP(SPI_getbinval(tuple, desc, 1, &isnull)),
							 DatumGetByteaPP(SPI_getbinval(tuple, desc, 2, &isnull)),
							 DatumGetBool(SPI_getbinval(tuple, desc, 3, &isnull)));
	}
}

/*
 * forget_old_windows removes the closed windows the view's retention has
 * passed, but none that a view on it (among plans) has not taken yet: a
 * window closed and past retention in one round (history, a jump of the
 * watermark) is still theirs.
 */
static void
forget_old_windows(ViewPlan *plan, List *plans)
{
	Datum		args[1];

	args[0] = TimestampTzGetDatum(Min(view_plan_retained_from(plan),
									  view_source_taken_from(plan, plans)));
	if (SPI_execute_plan(closed_plan(plan->closed_relid, plan, CLOSED_FORGET), args, NULL,
						 false, 0) != SPI_OK_DELETE)
		elog(ERROR, "streamext: could not remove closed windows past retention");
}

/*
 * write_progress records, with the open states written at lsn (invalid:
 * create_view's), a view's watermark, closed horizon and counters.  While
 * the view decodes again up to where windows were closed ahead of the
 * checkpoint, the horizon readers see stays that one.
 */
static void
write_progress(ViewPlan *plan, XLogRecPtr lsn)
{
	ViewState  *state = plan->state;
	Datum		args[8];
	char		nulls[9] = "        ";

	args[0] = Int32GetDatum(plan->id);
	args[1] = TimestampTzGetDatum(state->closed_upto);
	args[2] = TimestampTzGetDatum(state->max_event_time);
	args[3] = Int64GetDatum((int64) state->events);
	args[4] = Int64GetDatum((int64) state->late_events);
	if (!catalog_view_progress_has_closing())
	{
		if (catalog_execute(&upsert_progress, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "streamext: could not write view progress");
		state->saved_max_event_time = state->max_event_time;
		state->progress_written = true;
		return;
	}
	args[5] = LSNGetDatum(lsn);
	nulls[5] = XLogRecPtrIsInvalid(lsn) ? 'n' : ' ';
	if (!XLogRecPtrIsInvalid(state->closed_ahead_lsn))
	{
		args[1] = TimestampTzGetDatum(Max(state->closed_upto, state->closed_ahead_upto));
		args[5] = LSNGetDatum(state->closed_ahead_lsn);
		nulls[5] = ' ';
	}
	args[6] = TimestampTzGetDatum(state->closed_upto);
	args[7] = Int64GetDatum((int64) state->future_events);
	if (catalog_execute(&upsert_progress_closing, args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "streamext: could not write view progress");
	state->states_closed_upto = state->closed_upto;
	state->saved_max_event_time = state->max_event_time;
	state->progress_written = true;
}

/*
 * write_closing records that the view's windows up to its closed_upto were
 * closed at lsn, apart from the checkpoint; false when the view has no
 * progress row to record it in.
 */
static bool
write_closing(ViewPlan *plan, XLogRecPtr lsn)
{
	Datum		args[3];

	args[0] = Int32GetDatum(plan->id);
	args[1] = TimestampTzGetDatum(plan->state->closed_upto);
	args[2] = LSNGetDatum(lsn);
	if (catalog_execute(&update_closing, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "streamext: could not write view progress");
	return SPI_processed == 1;
}

/*
 * closing_watermark is the watermark to close a view's windows with at
 * lsn: once decoding again has come back to where windows were closed
 * ahead of the checkpoint, at least the horizon they were closed to,
 * wherever the clock was then.
 */
static TimestampTz
closing_watermark(ViewPlan *plan, XLogRecPtr lsn)
{
	ViewState  *state = plan->state;

	if (!XLogRecPtrIsInvalid(state->closed_ahead_lsn) && lsn >= state->closed_ahead_lsn)
		state->clock_watermark = Max(state->clock_watermark, state->closed_ahead_upto);
	return view_plan_watermark(plan);
}

/*
 * delete_deferred_open_rows deletes the open_state rows of the windows
 * closed since the last checkpoint, first: a late event may have opened
 * a session with the same start and key since.
 */
static void
delete_deferred_open_rows(ViewPlan *plan)
{
	ListCell   *lc;

	foreach(lc, plan->state->deferred_open_rows)
	{
		StaleOpenRow *row = lfirst(lc);

		delete_open_rows(plan, row->start, row->key);
		if (row->key != NULL)
			pfree(row->key);
	}
	list_free_deep(plan->state->deferred_open_rows);
	plan->state->deferred_open_rows = NIL;
}

/*
 * write_dead_letters records the events the view set aside since the last
 * checkpoint.
 */
static void
write_dead_letters(ViewPlan *plan)
{
	ListCell   *lc;

	catalog_write_dead_letters(CATALOG_VIEW_DEF, plan->id, plan->state->new_dead_letters,
							   plan->state->replayed);
	list_free_deep(plan->state->replayed);
	plan->state->replayed = NIL;
	foreach(lc, plan->state->new_dead_letters)
	{
		pfree(((DeadLetter *) lfirst(lc))->message);
		pfree(((DeadLetter *) lfirst(lc))->event);
	}
	list_free_deep(plan->state->new_dead_letters);
	plan->state->new_dead_letters = NIL;
}

/*
 * lock_view_row keeps a view from being dropped or rebuilt while its state
 * is being written; false when it was dropped already, or rebuilt since
 * the plan was loaded (the worker loads it again when it decodes that).
 */
static bool
lock_view_row(ViewPlan *plan)
{
	Datum		args[1];
	bool		isnull;

	args[0] = Int32GetDatum(plan->id);
	if (catalog_execute(&lock_view, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not lock view");
	return SPI_processed == 1 &&
		DatumGetLSN(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) ==
		plan->start_lsn;
}

/*
 * checkpoint_write persists every view in the worker's transaction and
 * stamps it with lsn through the replication origin.  Windows the
 * watermark has passed are closed.  The caller commits.
 */
void
checkpoint_write(StreamextDbSlot *slot, List *plans, XLogRecPtr lsn,
				 TimestampTz commit_time, ClosedRowListener listener)
{
	ListCell   *lc;
	OpenStateBatch *batch = palloc(sizeof(OpenStateBatch));
	List	   *written = NIL;

	SPI_connect();
	foreach(lc, plans)
	{
		ViewPlan   *plan = lfirst(lc);

		if (!lock_view_row(plan))
		{
			/* dropped or rebuilt: nothing to close again, decoding goes on */
			if (!XLogRecPtrIsInvalid(plan->state->closed_ahead_lsn) &&
				lsn >= plan->state->closed_ahead_lsn)
				plan->state->closed_ahead_lsn = InvalidXLogRecPtr;
			continue;
		}

		delete_deferred_open_rows(plan);
		write_view(slot, plan, plans, DT_NOEND, lsn, listener, false, batch);
		written = lappend(written, plan);
	}
	/* once every view on a view has written how far it took the rows */
	foreach(lc, written)
	{
		ViewPlan   *plan = lfirst(lc);

		if (window_closes(&plan->window) && plan->retention_usec != 0)
			forget_old_windows(plan, plans);
	}
	list_free(written);
	SPI_finish();
	pfree(batch);
	foreach(lc, plans)
		view_source_forget_corrections(lfirst(lc));

	replorigin_session_origin_lsn = lsn;
	replorigin_session_origin_timestamp = commit_time;
}

/*
 * write_view persists one view for a checkpoint: closes the windows up to
 * its watermark at lsn, or limit if that is before (their rows to the sink,
 * their subscribers to listener), then writes its open windows (all of
 * them, or those changed since the last checkpoint), dead letters and
 * progress at lsn.  A view on a view first takes what the view it reads
 * (among plans) closed and corrected.  The caller is connected to SPI and
 * has locked the view's row.
 */
static void
write_view(StreamextDbSlot *slot, ViewPlan *plan, List *plans, TimestampTz limit,
		   XLogRecPtr lsn, ClosedRowListener listener, bool all, OpenStateBatch *batch)
{
	HASH_SEQ_STATUS status;
	WindowGroups *wg;
	CheckpointSink cs;
	TimestampTz watermark;

	sink_init(&cs, slot, plan, listener, false);
	if (plan->source_id != 0)
	{
		view_source_catch_up(plan, plans);
		view_source_recompute(plan, plans, &cs.sink);
	}
	watermark = Min(closing_watermark(plan, lsn), limit);
	window_close_due(plan, watermark, &cs.sink);
	sink_finish(&cs);

	batch->view_id = plan->id;
	batch->n = 0;
	hash_seq_init(&status, plan->state->windows);
	while ((wg = hash_seq_search(&status)) != NULL)
		write_open_window(plan, wg, all, batch);
	flush_open_states(batch);
	lookup_cache_write(plan, all);

	write_dead_letters(plan);
	if (plan->window.kind != WINDOW_NONE && watermark > plan->state->closed_upto)
		plan->state->closed_upto = watermark;
	view_state_find_next_end(plan);
	plan->state->corrections_pending = false;
	if (!XLogRecPtrIsInvalid(plan->state->closed_ahead_lsn) &&
		lsn >= plan->state->closed_ahead_lsn)
		plan->state->closed_ahead_lsn = InvalidXLogRecPtr;
	write_progress(plan, lsn);
}

/*
 * checkpoint_write_computed persists a view that rebuild_view, adopt_view
 * or replace_view computed from its stream, consistent at lsn (its
 * start_lsn), in their transaction.  Windows ending by both the watermark
 * and closed_upto close here, unsent to subscriptions; replace_view passes
 * how far the definition before delivered closed windows: a 'final'
 * subscriber had that stretch of time in the old shape, and windows after
 * it stay open even when the watermark has passed them, so that the worker
 * closes them and delivers each once, in the new shape.
 */
void
checkpoint_write_computed(ViewPlan *plan, XLogRecPtr lsn, TimestampTz closed_upto)
{
	OpenStateBatch *batch = palloc(sizeof(OpenStateBatch));

	SPI_connect();
	write_view(NULL, plan, NIL, closed_upto, lsn, NULL, true, batch);

	/*
	 * Retention, but not of rows that views on it may still take: they are
	 * computed again from them (rebuild_views_reading), or take them from
	 * the worker, which applies the retention once they have.
	 */
	if (window_closes(&plan->window) && plan->retention_usec != 0 &&
		catalog_views_reading(plan->view_relid) == NIL)
		forget_old_windows(plan, NIL);
	SPI_finish();
	pfree(batch);
}

/*
 * checkpoint_close_windows closes, in the worker's transaction, the
 * windows the watermark has passed, decoded up to lsn: their rows, their
 * subscribers' entries (listener) and the position, but no open state,
 * nor the replication origin.  With a budget, each view closes about that
 * many groups at most (view_state_close_horizon), the oldest windows first,
 * and *more says whether the next round has some left (a view just loaded
 * closes its history whole, as create_view promises); windows closed
 * before a restart close again silently, as far as they had.  false, with
 * nothing written, when it cannot
 * and a checkpoint must close them: a catalog still at 0.1, late events
 * or dead letters waiting (a checkpoint writes those), or a view without
 * progress row yet.  The caller commits.
 */
bool
checkpoint_close_windows(StreamextDbSlot *slot, List *plans, XLogRecPtr lsn,
						 ClosedRowListener listener, int64 budget, bool *more)
{
	ListCell   *lc;

	if (!catalog_view_progress_has_closing())
		return false;
	foreach(lc, plans)
	{
		ViewState  *state = ((ViewPlan *) lfirst(lc))->state;

		if (state->corrections_pending || state->new_dead_letters != NIL ||
			!state->progress_written)
			return false;
	}

	SPI_connect();
	foreach(lc, plans)
	{
		ViewPlan   *plan = lfirst(lc);
		ViewState  *state = plan->state;
		bool		reached;
		TimestampTz watermark;
		CheckpointSink cs;

		/* the lower view's windows closed so far in this transaction */
		if (plan->source_id != 0)
			view_source_catch_up(plan, plans);
		/* decoding again: not before the position they were closed at */
		if (!XLogRecPtrIsInvalid(state->closed_ahead_lsn) && lsn < state->closed_ahead_lsn)
			continue;
		reached = !XLogRecPtrIsInvalid(state->closed_ahead_lsn);
		watermark = closing_watermark(plan, lsn);
		if (!view_state_close_due(plan) && !reached)
		{
			/* nothing open, views on it wait: its horizon moves on */
			TimestampTz idle = view_source_idle_closed_upto(plan);

			if (idle != DT_NOBEGIN && lock_view_row(plan))
			{
				state->closed_upto = idle;
				if (!write_closing(plan, lsn))
					elog(ERROR, "streamext: view \"%s\" has no progress to close windows in",
						 plan->name);
			}
			continue;
		}
		if (!lock_view_row(plan))
		{
			/*
			 * Dropped or rebuilt since the plan was loaded (while decoding
			 * again, say): its windows are not closed again, and decoding
			 * must not wait at closed_ahead_lsn for it, or it never reaches
			 * the catalog change that forgets or reloads the view.
			 */
			state->closed_ahead_lsn = InvalidXLogRecPtr;
			continue;
		}

		/*
		 * Decoding again, the windows closed before the restart close
		 * silently, all at once and no further: those after them close in
		 * rounds, as they did.
		 */
		if (reached || (budget > 0 && !state->close_whole))
		{
			TimestampTz horizon = reached ? state->closed_ahead_upto :
				view_state_close_horizon(plan, watermark, budget);

			if (horizon < watermark)
			{
				*more = true;
				watermark = horizon;
			}
		}
		sink_init(&cs, slot, plan, listener, true);
		window_close_due(plan, watermark, &cs.sink);
		sink_finish(&cs);
		state->closed_ahead_lsn = InvalidXLogRecPtr;
		/* a view's functions failing on a closed row set the group aside */
		write_dead_letters(plan);
		if (watermark > state->closed_upto)
		{
			state->closed_upto = watermark;
			if (!write_closing(plan, lsn))
				elog(ERROR, "streamext: view \"%s\" has no progress to close windows in",
					 plan->name);
		}
		view_state_find_next_end(plan);
		if (window_closes(&plan->window) && plan->retention_usec != 0)
			forget_old_windows(plan, plans);
	}
	SPI_finish();
	replorigin_session_origin_lsn = InvalidXLogRecPtr;
	return true;
}

/*
 * checkpoint_write_backfill writes the states computed by create_view's
 * backfill, in create_view's transaction.
 */
void
checkpoint_write_backfill(ViewPlan *plan)
{
	HASH_SEQ_STATUS status;
	WindowGroups *wg;
	OpenStateBatch *batch = palloc(sizeof(OpenStateBatch));

	SPI_connect();
	batch->view_id = plan->id;
	batch->n = 0;
	hash_seq_init(&status, plan->state->windows);
	while ((wg = hash_seq_search(&status)) != NULL)
		write_open_window(plan, wg, true, batch);
	flush_open_states(batch);
	lookup_cache_write(plan, true);
	write_dead_letters(plan);
	write_progress(plan, InvalidXLogRecPtr);
	SPI_finish();
	pfree(batch);
}

/*
 * checkpoint_clear_view forgets everything persisted of a view, before it
 * is computed again from the stream.
 */
void
checkpoint_clear_view(int32 view_id, Oid closed_relid)
{
	Datum		args[1];

	args[0] = Int32GetDatum(view_id);
	SPI_connect();
	if (catalog_execute(&delete_open_states, args, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "streamext: could not clear view state");
	lookup_cache_clear_persisted(view_id);
	/* the events set aside are set aside again by the computation to come */
	if (catalog_execute(&delete_view_dead_letters, args, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "streamext: could not clear dead letters");
	if (OidIsValid(closed_relid) &&
		SPI_execute_plan(closed_plan(closed_relid, NULL, CLOSED_CLEAR), NULL, NULL, false,
						 0) != SPI_OK_DELETE)
		elog(ERROR, "streamext: could not clear closed windows");
	SPI_finish();
}

/*
 * checkpoint_load_view restores a view's progress and open windows from
 * its last checkpoint (or create_view's backfill), which are consistent at
 * lsn, where the worker decodes from.  Windows closed after that (at
 * progress.closed_lsn) close again silently when decoding comes back there.
 */
void
checkpoint_load_view(ViewPlan *plan, XLogRecPtr lsn)
{
	ViewProgressRow progress;
	ViewState  *state = plan->state;

	if (catalog_read_view_progress(plan->id, GetActiveSnapshot(), &progress))
	{
		state->closed_upto = progress.closed_upto;
		if (progress.closed_lsn > lsn && progress.closed_upto > progress.states_closed_upto)
		{
			state->closed_upto = progress.states_closed_upto;
			state->closed_ahead_lsn = progress.closed_lsn;
			state->closed_ahead_upto = progress.closed_upto;
		}
		state->states_closed_upto = state->closed_upto;

		/*
		 * What the states were closed to, by events or by the clock, the
		 * watermark was at least, as rebuild_view keeps it: without it a
		 * view the clock had closed would take its watermark from the
		 * events again, below the closed_upto readers see, and keep open
		 * (and unreadable) sessions a late event took out of the closed
		 * table.
		 */
		state->clock_watermark = Max(state->clock_watermark, state->closed_upto);
		/* a backend writes none, or the view's start_lsn; a checkpoint where it decoded */
		state->computed_apart = XLogRecPtrIsInvalid(progress.closed_lsn) ||
			progress.closed_lsn == plan->start_lsn;
		state->max_event_time = progress.max_event_time;
		state->saved_max_event_time = progress.max_event_time;
		state->events = progress.events;
		state->late_events = progress.late_events;
		state->future_events = progress.future_events;
		/* warned once per view, not once per worker */
		state->future_warned = (progress.future_events > 0);
		state->progress_written = true;
	}
	catalog_scan_open_states(plan->id, GetActiveSnapshot(), load_open_state, plan);
	lookup_cache_load_persisted(plan);
	view_state_find_next_end(plan);
}

/*
 * load_open_state restores one group of an open window, for
 * checkpoint_load_view.
 */
static void
load_open_state(const OpenStateRow *row, void *arg)
{
	ViewPlan   *plan = arg;
	WindowGroups *wg;
	ViewGroup  *gs;
	bool		isnew;
	MemoryContext old;

	old = MemoryContextSwitchTo(plan->econtext->ecxt_per_tuple_memory);
	group_key_deserialize(plan, VARDATA_ANY(row->group_key), VARSIZE_ANY_EXHDR(row->group_key),
						  plan->keyslot);
	if (plan->window.kind == WINDOW_SESSION)
	{
		wg = view_plan_window(plan, WINDOW_UNBOUNDED_START, true);
		gs = session_new(plan, wg, NULL, row->window_start,
						 row->window_end - plan->window.size_usec);
	}
	else
	{
		wg = view_plan_window(plan, row->window_start, true);
		gs = view_plan_group(plan, wg, plan->keyslot, &isnew);
	}
	MemoryContextSwitchTo(old);
	states_read(plan, VARDATA_ANY(row->state), VARSIZE_ANY_EXHDR(row->state), gs->values,
				wg->cxt);
	gs->dirty_disk = false;
	view_group_changed(wg, gs);
	ResetExprContext(plan->econtext);
}
