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
 *	  Windows close here, when the watermark has passed their end; late
 *	  events for a closed window are combined into its row here too.
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
#include "utils/timestamp.h"

#include "streamext.h"

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

static void flush_open_states(OpenStateBatch *batch);
static void write_open_window(ViewPlan *plan, WindowGroups *wg, bool all,
							  OpenStateBatch *batch);
static void write_progress(ViewPlan *plan);
static bool lock_view_row(ViewPlan *plan);
static void write_dead_letters(ViewPlan *plan);
static void write_row_isolated(void *arg);
static void set_aside_group(ViewPlan *plan, TimestampTz start, TimestampTz end,
							MinimalTuple key, ErrorData *error, bool combine);

/*
 * state_blob_build serialises one group: window start and end, key length,
 * key, states.  The same bytes go to shared memory; open_state stores the
 * key and states parts in their own columns.
 */
void
state_blob_build(ViewPlan *plan, TimestampTz wstart, TimestampTz wend,
				 ViewGroup *gs, StringInfo buf)
{
	uint32		keylen;
	int			keypos;

	appendBinaryStringInfo(buf, (char *) &wstart, sizeof(TimestampTz));
	appendBinaryStringInfo(buf, (char *) &wend, sizeof(TimestampTz));
	keypos = buf->len;
	appendBinaryStringInfo(buf, (char *) &keypos, sizeof(uint32));
	ExecStoreMinimalTuple(gs->key, plan->keyslot, false);
	group_key_serialize(plan, plan->keyslot, buf);
	keylen = buf->len - keypos - sizeof(uint32);
	memcpy(buf->data + keypos, &keylen, sizeof(uint32));
	agg_serialize_states(plan, gs->values, buf, CurrentMemoryContext);
}

/*
 * state_blob_parts splits what state_blob_build wrote.
 */
void
state_blob_parts(const char *blob, Size len, BlobParts *parts)
{
	const char *p = blob;

	memcpy(&parts->start, p, sizeof(TimestampTz));
	p += sizeof(TimestampTz);
	memcpy(&parts->end, p, sizeof(TimestampTz));
	p += sizeof(TimestampTz);
	memcpy(&parts->keylen, p, sizeof(uint32));
	p += sizeof(uint32);
	parts->key = p;
	p += parts->keylen;
	parts->states = p;
	parts->stateslen = len - (p - blob);
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
		*end = (plan->window.kind == WINDOW_NONE) ? DT_NOEND : wg->start + plan->window.pane_usec;
	}
}

/*
 * bytes_to_bytea wraps serialised bytes as a bytea datum.
 */
bytea *
bytes_to_bytea(const char *data, Size len)
{
	bytea	   *result = palloc(VARHDRSZ + len);

	SET_VARSIZE(result, VARHDRSZ + len);
	memcpy(VARDATA(result), data, len);
	return result;
}

/*
 * flush_open_states upserts a batch of open-window states with one statement
 * of arrays.
 */
static void
flush_open_states(OpenStateBatch *batch)
{
	Oid			argtypes[5] = {INT4OID, TIMESTAMPTZARRAYOID, BYTEAARRAYOID, BYTEAARRAYOID,
	TIMESTAMPTZARRAYOID};
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
	if (SPI_execute_with_args("INSERT INTO streamext.open_state (view_id, window_start, group_key, state, window_end) "
							  "SELECT $1, w, k, s, e FROM unnest($2, $3, $4, $5) AS u(w, k, s, e) "
							  "ON CONFLICT (view_id, window_start, group_key) "
							  "DO UPDATE SET state = excluded.state, window_end = excluded.window_end",
							  5, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
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
			int			keypos = 2 * sizeof(TimestampTz) + sizeof(uint32);
			uint32		keylen;
			TimestampTz start;
			TimestampTz end;

			if (!gs->dirty_disk && !all)
				continue;
			group_bounds(plan, wg, gs, &start, &end);
			resetStringInfo(&buf);
			state_blob_build(plan, start, end, gs, &buf);
			memcpy(&keylen, buf.data + 2 * sizeof(TimestampTz), sizeof(uint32));
			batch->starts[batch->n] = TimestampTzGetDatum(start);
			batch->ends[batch->n] = TimestampTzGetDatum(end);
			batch->keys[batch->n] = PointerGetDatum(bytes_to_bytea(buf.data + keypos, keylen));
			batch->states[batch->n] = PointerGetDatum(bytes_to_bytea(buf.data + keypos + keylen,
																	 buf.len - keypos - keylen));
			batch->n++;
			gs->dirty_disk = false;
			if (batch->n == OPEN_STATE_BATCH)
				flush_open_states(batch);
		}
	}
	pfree(buf.data);
}

/*
 * closed_writer_init prepares the statements that write a view's closed
 * windows: the INSERT of a row, and the DELETE that takes out the row a
 * correction replaces.
 */
void
closed_writer_init(ViewPlan *plan, ClosedWriter *cw)
{
	int			natts = plan->outdesc->natts;
	int			nargs = natts + 3;
	Oid		   *argtypes = palloc(sizeof(Oid) * nargs);
	Oid			keytypes[3] = {TIMESTAMPTZOID, TIMESTAMPTZOID, BYTEAOID};
	StringInfoData sql;
	int			i;

	initStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO streamext.closed_%d VALUES (", plan->id);
	for (i = 0; i < natts; i++)
	{
		argtypes[i] = TupleDescAttr(plan->outdesc, i)->atttypid;
		appendStringInfo(&sql, "$%d, ", i + 1);
	}
	argtypes[natts] = BYTEAOID;
	argtypes[natts + 1] = BYTEAOID;
	argtypes[natts + 2] = BOOLOID;
	appendStringInfo(&sql, "$%d, $%d, $%d)", natts + 1, natts + 2, natts + 3);
	cw->insert = SPI_prepare(sql.data, nargs, argtypes);
	if (cw->insert == NULL)
		elog(ERROR, "streamext: could not prepare \"%s\"", sql.data);
	cw->take = SPI_prepare(psprintf("DELETE FROM streamext.closed_%d WHERE window_start = $1 "
									"AND window_end = $2 AND _group = $3 RETURNING _state",
									plan->id), 3, keytypes);
	if (cw->take == NULL)
		elog(ERROR, "streamext: could not prepare the correction of closed windows");
	cw->xid = GetTopTransactionId();
	cw->cxt = AllocSetContextCreate(CurrentMemoryContext, "streamext closed row",
									ALLOCSET_DEFAULT_SIZES);
}

/* a closed row to write, for write_row_isolated */
typedef struct ClosedRow
{
	ViewPlan   *plan;
	ClosedWriter *cw;
	TimestampTz start;
	TimestampTz end;
	MinimalTuple key;
	AggValue   *values;
	bool		combine;
	bool		as_correction;
} ClosedRow;

/*
 * write_closed_row writes the row of one group of a window the watermark
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
void
write_closed_row(ViewPlan *plan, ClosedWriter *cw, TimestampTz start, TimestampTz end,
				 MinimalTuple key, AggValue *values, bool combine, bool as_correction)
{
	ClosedRow	row = {plan, cw, start, end, key, values, combine, as_correction};
	UserCodeFailure failure;

	if (!usercode_isolated(InvalidOid, USERCODE_MAY_WRITE, write_row_isolated, &row,
						   &failure))
	{
		set_aside_group(plan, start, end, key, failure.error, combine);
		FreeErrorData(failure.error);
	}
	MemoryContextReset(cw->cxt);
}

/*
 * write_row_isolated does the work of write_closed_row, for
 * usercode_isolated.  The view's functions run behind its owner's gate
 * (agg_state.c, view_plan_output); the rows are streamext's own.
 */
static void
write_row_isolated(void *arg)
{
	ClosedRow  *r = arg;
	ViewPlan   *plan = r->plan;
	ClosedWriter *cw = r->cw;
	AggValue   *values = r->values;
	int			natts = plan->outdesc->natts;
	MemoryContext old = MemoryContextSwitchTo(cw->cxt);
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
		AggValue   *copy = palloc0(sizeof(AggValue) * Max(plan->naggs, 1));

		resetStringInfo(&buf);
		agg_serialize_states(plan, values, &buf, cw->cxt);
		agg_deserialize_states(plan, buf.data, buf.len, copy, cw->cxt);
		values = copy;
		fargs[0] = TimestampTzGetDatum(r->start);
		fargs[1] = TimestampTzGetDatum(r->end);
		fargs[2] = PointerGetDatum(group);
		if (SPI_execute_plan(cw->take, fargs, NULL, false, 0) != SPI_OK_DELETE_RETURNING)
			elog(ERROR, "streamext: could not correct closed window");
		if (SPI_processed == 1)
		{
			bool		isnull;
			bytea	   *prior_state = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0],
																	SPI_tuptable->tupdesc, 1, &isnull));
			AggValue   *prior = palloc0(sizeof(AggValue) * Max(plan->naggs, 1));

			agg_deserialize_states(plan, VARDATA_ANY(prior_state), VARSIZE_ANY_EXHDR(prior_state),
								   prior, cw->cxt);
			agg_combine_values(plan, values, prior, cw->cxt);
		}
	}

	/* states before finalising: final functions may modify them */
	resetStringInfo(&buf);
	agg_serialize_states(plan, values, &buf, cw->cxt);

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
	row[natts + 1] = PointerGetDatum(bytes_to_bytea(buf.data, buf.len));
	row[natts + 2] = BoolGetDatum(having);
	nulls[natts] = nulls[natts + 1] = nulls[natts + 2] = ' ';
	if (SPI_execute_plan(cw->insert, row, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "streamext: could not write closed window");
	/* subscriptions get the row once it is written */
	if (having)
		subscriptions_emit_row(plan, row, outnulls, r->as_correction);
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
	dl->commit_lsn = plan->txn_end;
	dl->committed_at = 0;
	dl->sqlerrcode = error->sqlerrcode;
	dl->message = pstrdup(error->message);
	plan->new_dead_letters = lappend(plan->new_dead_letters, dl);
	plan->dead_letters++;
	MemoryContextSwitchTo(old);
}

/*
 * write_window_rows writes a row for every group of a window.
 */
static void
write_window_rows(ViewPlan *plan, ClosedWriter *cw, WindowGroups *wg,
				  TimestampTz start, TimestampTz end, bool combine)
{
	TupleHashIterator it;
	TupleHashEntry entry;

	InitTupleHashIterator(wg->groups, &it);
	while ((entry = ScanTupleHashTable(wg->groups, &it)) != NULL)
		write_closed_row(plan, cw, start, end, entry->firstTuple,
						 ((ViewGroup *) entry->additional)->values, combine, combine);
}

/*
 * delete_open_rows removes what open_state holds of a window (a pane) that
 * left memory.
 */
static void
delete_open_rows(ViewPlan *plan, TimestampTz start)
{
	Oid			dtypes[2] = {INT4OID, TIMESTAMPTZOID};
	Datum		dargs[2];

	dargs[0] = Int32GetDatum(plan->id);
	dargs[1] = TimestampTzGetDatum(start);
	if (SPI_execute_with_args("DELETE FROM streamext.open_state WHERE view_id = $1 AND window_start = $2",
							  2, dtypes, dargs, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "streamext: could not remove open window state");
}

/*
 * delete_open_row removes the open_state row of one group of a session view
 * (a session closed, merged away, or moved to an earlier start).
 */
void
delete_open_row(ViewPlan *plan, TimestampTz start, bytea *key)
{
	Oid			dtypes[3] = {INT4OID, TIMESTAMPTZOID, BYTEAOID};
	Datum		dargs[3];

	dargs[0] = Int32GetDatum(plan->id);
	dargs[1] = TimestampTzGetDatum(start);
	dargs[2] = PointerGetDatum(key);
	if (SPI_execute_with_args("DELETE FROM streamext.open_state WHERE view_id = $1 "
							  "AND window_start = $2 AND group_key = $3",
							  3, dtypes, dargs, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "streamext: could not remove open window state");
}

/*
 * apply_corrections combines the late events of each pane into the rows of
 * the closed windows holding the pane.  Windows closing in this checkpoint
 * have them already: they are combined from the panes.
 */
static void
apply_corrections(ViewPlan *plan, ClosedWriter *cw)
{
	HASH_SEQ_STATUS status;
	WindowGroups *wg;
	List	   *done = NIL;
	ListCell   *lc;

	hash_seq_init(&status, plan->corrections);
	while ((wg = hash_seq_search(&status)) != NULL)
	{
		int			n = window_count_of_pane(&plan->window, wg->start);
		int			i;

		for (i = 0; i < n; i++)
		{
			TimestampTz start;
			TimestampTz end;

			window_of_pane(&plan->window, wg->start, i, &start, &end);
			if (end <= plan->closed_upto && end > view_plan_retained_from(plan))
				write_window_rows(plan, cw, wg, start, end, true);
		}
		done = lappend(done, wg);
	}
	foreach(lc, done)
		view_plan_drop_window(plan, lfirst(lc));
	list_free(done);
}

/* window_bounds_cmp orders windows by end, then start */
static int
window_bounds_cmp(const void *a, const void *b)
{
	const TimestampTz *x = a;
	const TimestampTz *y = b;

	if (x[1] != y[1])
		return x[1] < y[1] ? -1 : 1;
	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return 0;
}

/*
 * close_windows writes the windows whose end the watermark has passed since
 * the last checkpoint, each combined from its panes, and lets go of the
 * panes that no window still open holds.
 */
static void
close_windows(StreamextDbSlot *slot, ViewPlan *plan, ClosedWriter *cw,
			  TimestampTz watermark)
{
	HASH_SEQ_STATUS status;
	WindowGroups *wg;
	HTAB	   *closing;
	HASHCTL		hctl;
	TimestampTz *bounds;
	int			nclosing = 0;
	int			i;
	List	   *retiring = NIL;
	ListCell   *lc;

	memset(&hctl, 0, sizeof(hctl));
	hctl.keysize = 2 * sizeof(TimestampTz);
	hctl.entrysize = 2 * sizeof(TimestampTz);
	hctl.hcxt = CurrentMemoryContext;
	closing = hash_create("streamext closing windows", 64, &hctl,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	hash_seq_init(&status, plan->windows);
	while ((wg = hash_seq_search(&status)) != NULL)
	{
		int			n = window_count_of_pane(&plan->window, wg->start);

		for (i = 0; i < n; i++)
		{
			TimestampTz b[2];
			bool		found;

			window_of_pane(&plan->window, wg->start, i, &b[0], &b[1]);
			if (b[1] > plan->closed_upto && b[1] <= watermark)
			{
				hash_search(closing, b, HASH_ENTER, &found);
				if (!found)
					nclosing++;
			}
		}
		if (window_pane_last_end(&plan->window, wg->start) <= watermark)
			retiring = lappend(retiring, wg);
	}

	/* in order of end, so that subscriptions get windows as they close */
	bounds = palloc(sizeof(TimestampTz) * 2 * Max(nclosing, 1));
	i = 0;
	hash_seq_init(&status, closing);
	while ((wg = hash_seq_search(&status)) != NULL)
	{
		memcpy(&bounds[2 * i], wg, 2 * sizeof(TimestampTz));
		i++;
	}
	qsort(bounds, nclosing, 2 * sizeof(TimestampTz), window_bounds_cmp);
	for (i = 0; i < nclosing; i++)
	{
		TimestampTz start = bounds[2 * i];
		TimestampTz end = bounds[2 * i + 1];

		if (plan->window.kind == WINDOW_TUMBLING)
		{
			/* the pane is the window */
			wg = view_plan_window(plan, start, false);
			write_window_rows(plan, cw, wg, start, end, false);
		}
		else
		{
			WindowGroups *combined = window_combine_panes(plan, start, end);

			write_window_rows(plan, cw, combined, start, end, false);
			MemoryContextDelete(combined->cxt);
			pfree(combined);
		}
	}
	hash_destroy(closing);
	pfree(bounds);

	foreach(lc, retiring)
	{
		wg = lfirst(lc);
		delete_open_rows(plan, wg->start);
		if (slot != NULL)
			state_shmem_retire_window(slot, plan, wg, cw->xid);
		view_plan_drop_window(plan, wg);
	}
	list_free(retiring);
}

/*
 * forget_old_windows removes the closed windows the view's retention has
 * passed.
 */
static void
forget_old_windows(ViewPlan *plan)
{
	Oid			argtypes[1] = {TIMESTAMPTZOID};
	Datum		args[1];

	args[0] = TimestampTzGetDatum(view_plan_retained_from(plan));
	if (SPI_execute_with_args(psprintf("DELETE FROM streamext.closed_%d WHERE window_start < $1 AND window_end <= $1",
									   plan->id),
							  1, argtypes, args, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "streamext: could not remove closed windows past retention");
}

/*
 * forget_old_panes lets go of the panes of a sliding window that the
 * window has passed.
 */
static void
forget_old_panes(StreamextDbSlot *slot, ViewPlan *plan, TimestampTz watermark)
{
	HASH_SEQ_STATUS status;
	WindowGroups *wg;
	List	   *old = NIL;
	ListCell   *lc;
	TimestampTz cutoff = window_sliding_cutoff(&plan->window, watermark);

	hash_seq_init(&status, plan->windows);
	while ((wg = hash_seq_search(&status)) != NULL)
		if (wg->start < cutoff)
			old = lappend(old, wg);
	foreach(lc, old)
	{
		wg = lfirst(lc);
		delete_open_rows(plan, wg->start);
		if (slot != NULL)
			state_shmem_retire_window(slot, plan, wg, GetTopTransactionId());
		view_plan_drop_window(plan, wg);
	}
	list_free(old);
}

/*
 * write_progress records a view's watermark, closed horizon and counters.
 */
static void
write_progress(ViewPlan *plan)
{
	Oid			argtypes[5] = {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID, INT8OID};
	Datum		args[5];

	args[0] = Int32GetDatum(plan->id);
	args[1] = TimestampTzGetDatum(plan->closed_upto);
	args[2] = TimestampTzGetDatum(plan->max_event_time);
	args[3] = Int64GetDatum((int64) plan->events);
	args[4] = Int64GetDatum((int64) plan->late_events);
	if (SPI_execute_with_args("INSERT INTO streamext.view_progress AS p "
							  "(view_id, closed_upto, max_event_time, events, late_events) "
							  "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (view_id) DO UPDATE SET "
							  "closed_upto = $2, max_event_time = $3, events = $4, late_events = $5",
							  5, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "streamext: could not write view progress");
}

/*
 * dead_letters_write records events a view or subscription (owner_column
 * names which, id which one) set aside, in the caller's transaction and SPI
 * connection: once, like the states.
 */
void
dead_letters_write(const char *owner_column, int32 id, List *letters, List *replayed)
{
	ListCell   *lc;
	Oid			argtypes[6] = {INT4OID, PG_LSNOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID};
	char	   *sql = psprintf("INSERT INTO streamext.dead_letters (%s, commit_lsn, sqlstate, message, event, committed_at) "
							   "VALUES ($1, $2, $3, $4, $5::jsonb, $6)", owner_column);

	foreach(lc, letters)
	{
		DeadLetter *dl = lfirst(lc);
		Datum		args[6];
		char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

		args[0] = Int32GetDatum(id);
		args[1] = LSNGetDatum(dl->commit_lsn);
		args[2] = CStringGetTextDatum(unpack_sql_state(dl->sqlerrcode));
		args[3] = CStringGetTextDatum(dl->message);
		args[4] = CStringGetTextDatum(dl->event);
		args[5] = TimestampTzGetDatum(dl->committed_at);
		if (dl->committed_at == 0)
			nulls[5] = 'n';
		if (SPI_execute_with_args(sql, 6, argtypes, args, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "streamext: could not write dead letter");
	}
	/* dead letters a replay applied leave with the state that counts them */
	foreach(lc, replayed)
	{
		Oid			idtype[1] = {INT8OID};
		Datum		idarg[1];

		idarg[0] = Int64GetDatum(*(int64 *) lfirst(lc));
		if (SPI_execute_with_args("DELETE FROM streamext.dead_letters WHERE id = $1",
								  1, idtype, idarg, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "streamext: could not remove a replayed dead letter");
	}
}

/*
 * write_dead_letters records the events the view set aside since the last
 * checkpoint.
 */
static void
write_dead_letters(ViewPlan *plan)
{
	ListCell   *lc;

	dead_letters_write("view_id", plan->id, plan->new_dead_letters, plan->replayed);
	list_free_deep(plan->replayed);
	plan->replayed = NIL;
	foreach(lc, plan->new_dead_letters)
	{
		pfree(((DeadLetter *) lfirst(lc))->message);
		pfree(((DeadLetter *) lfirst(lc))->event);
	}
	list_free_deep(plan->new_dead_letters);
	plan->new_dead_letters = NIL;
}

/*
 * lock_view_row keeps a view from being dropped or rebuilt while its state
 * is being written; false when it was dropped already, or rebuilt since
 * the plan was loaded (the worker loads it again when it decodes that).
 */
static bool
lock_view_row(ViewPlan *plan)
{
	Oid			argtypes[1] = {INT4OID};
	Datum		args[1];
	bool		isnull;

	args[0] = Int32GetDatum(plan->id);
	if (SPI_execute_with_args("SELECT start_lsn FROM streamext.view_def WHERE id = $1 FOR KEY SHARE",
							  1, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
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
				 TimestampTz commit_time)
{
	ListCell   *lc;
	OpenStateBatch *batch = palloc(sizeof(OpenStateBatch));

	SPI_connect();
	foreach(lc, plans)
	{
		ViewPlan   *plan = lfirst(lc);
		HASH_SEQ_STATUS status;
		WindowGroups *wg;
		TimestampTz watermark = view_plan_watermark(plan);
		ClosedWriter cw;

		if (!lock_view_row(plan))
			continue;

		if (window_closes(&plan->window))
			closed_writer_init(plan, &cw);
		if (plan->window.kind == WINDOW_SESSION)
			session_checkpoint(slot, plan, &cw, watermark);
		else if (window_closes(&plan->window))
		{
			apply_corrections(plan, &cw);
			close_windows(slot, plan, &cw, watermark);
		}
		else if (plan->window.kind == WINDOW_SLIDING)
			forget_old_panes(slot, plan, watermark);

		batch->view_id = plan->id;
		batch->n = 0;
		hash_seq_init(&status, plan->windows);
		while ((wg = hash_seq_search(&status)) != NULL)
			write_open_window(plan, wg, false, batch);
		flush_open_states(batch);

		write_dead_letters(plan);
		if (plan->window.kind != WINDOW_NONE && watermark > plan->closed_upto)
			plan->closed_upto = watermark;
		if (window_closes(&plan->window) && plan->retention_usec != 0)
			forget_old_windows(plan);
		plan->corrections_pending = false;
		write_progress(plan);
	}
	SPI_finish();
	pfree(batch);

	replorigin_session_origin_lsn = lsn;
	replorigin_session_origin_timestamp = commit_time;
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
	hash_seq_init(&status, plan->windows);
	while ((wg = hash_seq_search(&status)) != NULL)
		write_open_window(plan, wg, true, batch);
	flush_open_states(batch);
	write_dead_letters(plan);
	write_progress(plan);
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
	char	   *sql;

	SPI_connect();
	sql = psprintf("DELETE FROM streamext.open_state WHERE view_id = %d", view_id);
	if (SPI_execute(sql, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "streamext: could not clear view state");
	/* the events set aside are set aside again by the computation to come */
	sql = psprintf("DELETE FROM streamext.dead_letters WHERE view_id = %d", view_id);
	if (SPI_execute(sql, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "streamext: could not clear dead letters");
	if (OidIsValid(closed_relid))
	{
		sql = psprintf("DELETE FROM streamext.closed_%d", view_id);
		if (SPI_execute(sql, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "streamext: could not clear closed windows");
	}
	SPI_finish();
}

/*
 * checkpoint_load_view restores a view's progress and open windows from
 * its last checkpoint (or create_view's backfill).
 */
void
checkpoint_load_view(ViewPlan *plan)
{
	Oid			argtypes[1] = {INT4OID};
	Datum		args[1];
	uint64		i;
	MemoryContext outer = CurrentMemoryContext;

	args[0] = Int32GetDatum(plan->id);
	SPI_connect();
	if (SPI_execute_with_args("SELECT closed_upto, max_event_time, events, late_events "
							  "FROM streamext.view_progress WHERE view_id = $1",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not read view progress");
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		plan->closed_upto = DatumGetTimestampTz(SPI_getbinval(tup, desc, 1, &isnull));
		plan->max_event_time = DatumGetTimestampTz(SPI_getbinval(tup, desc, 2, &isnull));
		plan->events = DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));
		plan->late_events = DatumGetInt64(SPI_getbinval(tup, desc, 4, &isnull));
	}

	if (SPI_execute_with_args("SELECT window_start, group_key, state, window_end FROM streamext.open_state "
							  "WHERE view_id = $1",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not read open window states");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		TimestampTz wstart = DatumGetTimestampTz(SPI_getbinval(tup, desc, 1, &isnull));
		bytea	   *key = DatumGetByteaPP(SPI_getbinval(tup, desc, 2, &isnull));
		bytea	   *state = DatumGetByteaPP(SPI_getbinval(tup, desc, 3, &isnull));
		WindowGroups *wg;
		ViewGroup *gs;
		bool		isnew;
		MemoryContext old;

		old = MemoryContextSwitchTo(plan->econtext->ecxt_per_tuple_memory);
		group_key_deserialize(plan, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), plan->keyslot);
		if (plan->window.kind == WINDOW_SESSION)
		{
			TimestampTz wend = DatumGetTimestampTz(SPI_getbinval(tup, desc, 4, &isnull));

			wg = view_plan_window(plan, WINDOW_UNBOUNDED_START, true);
			gs = session_new(plan, wg, NULL, wstart, wend - plan->window.size_usec);
		}
		else
		{
			wg = view_plan_window(plan, wstart, true);
			gs = view_plan_group(plan, wg, plan->keyslot, &isnew);
		}
		MemoryContextSwitchTo(old);
		agg_deserialize_states(plan, VARDATA_ANY(state), VARSIZE_ANY_EXHDR(state),
							   gs->values, wg->cxt);
		gs->dirty_disk = false;
		view_group_changed(wg, gs);
		ResetExprContext(plan->econtext);
	}
	SPI_finish();
	MemoryContextSwitchTo(outer);
}
