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
} OpenStateBatch;

static void flush_open_states(OpenStateBatch *batch);
static void write_open_window(ViewPlan *plan, WindowGroups *wg, bool all,
							  OpenStateBatch *batch);
static void close_window(ViewPlan *plan, WindowGroups *wg, SPIPlanPtr insert,
						 SPIPlanPtr fetch, SPIPlanPtr remove);
static SPIPlanPtr prepare_closed_insert(ViewPlan *plan);
static void write_progress(ViewPlan *plan);
static bool lock_view_row(ViewPlan *plan);
static void write_dead_letters(ViewPlan *plan);

/*
 * state_blob_build serialises one group: window start, key length, key,
 * states.  The same bytes go to shared memory; open_state stores the key
 * and states parts in their own columns.
 */
void
state_blob_build(ViewPlan *plan, TimestampTz wstart, TupleHashEntry entry,
				 ViewGroup *gs, StringInfo buf)
{
	uint32		keylen;
	int			keypos;

	appendBinaryStringInfo(buf, (char *) &wstart, sizeof(TimestampTz));
	keypos = buf->len;
	appendBinaryStringInfo(buf, (char *) &keypos, sizeof(uint32));
	ExecStoreMinimalTuple(entry->firstTuple, plan->keyslot, false);
	group_key_serialize(plan, plan->keyslot, buf);
	keylen = buf->len - keypos - sizeof(uint32);
	memcpy(buf->data + keypos, &keylen, sizeof(uint32));
	agg_serialize_states(plan, gs->values, buf, CurrentMemoryContext);
}

/*
 * bytes_to_bytea wraps serialised bytes as a bytea datum.
 */
static bytea *
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
	Oid			argtypes[4] = {INT4OID, TIMESTAMPTZARRAYOID, BYTEAARRAYOID, BYTEAARRAYOID};
	Datum		args[4];

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
	if (SPI_execute_with_args("INSERT INTO streamext.open_state (view_id, window_start, group_key, state) "
							  "SELECT $1, w, k, s FROM unnest($2, $3, $4) AS u(w, k, s) "
							  "ON CONFLICT (view_id, window_start, group_key) "
							  "DO UPDATE SET state = excluded.state",
							  4, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
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
		ViewGroup *gs = (ViewGroup *) entry->additional;
		int			keypos = sizeof(TimestampTz) + sizeof(uint32);
		uint32		keylen;

		if (!gs->dirty_disk && !all)
			continue;
		resetStringInfo(&buf);
		state_blob_build(plan, wg->start, entry, gs, &buf);
		memcpy(&keylen, buf.data + sizeof(TimestampTz), sizeof(uint32));
		batch->starts[batch->n] = TimestampTzGetDatum(wg->start);
		batch->keys[batch->n] = PointerGetDatum(bytes_to_bytea(buf.data + keypos, keylen));
		batch->states[batch->n] = PointerGetDatum(bytes_to_bytea(buf.data + keypos + keylen,
																 buf.len - keypos - keylen));
		batch->n++;
		gs->dirty_disk = false;
		if (batch->n == OPEN_STATE_BATCH)
			flush_open_states(batch);
	}
	pfree(buf.data);
}

/*
 * prepare_closed_insert prepares the INSERT of a closed window's row into
 * the view's closed table.
 */
static SPIPlanPtr
prepare_closed_insert(ViewPlan *plan)
{
	int			natts = plan->outdesc->natts;
	int			nargs = natts + 3;
	Oid		   *argtypes = palloc(sizeof(Oid) * nargs);
	StringInfoData sql;
	SPIPlanPtr	result;
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
	result = SPI_prepare(sql.data, nargs, argtypes);
	if (result == NULL)
		elog(ERROR, "streamext: could not prepare \"%s\"", sql.data);
	return result;
}

/*
 * close_window writes the rows of a window whose end the watermark has
 * passed.  A correction window (late events for a window closed before)
 * is first combined with the row already written.
 */
static void
close_window(ViewPlan *plan, WindowGroups *wg, SPIPlanPtr insert,
			 SPIPlanPtr fetch, SPIPlanPtr remove)
{
	int			natts = plan->outdesc->natts;
	Datum	   *values = palloc(sizeof(Datum) * (natts + 3));
	char	   *nulls = palloc(natts + 3);
	bool	   *outnulls = palloc(sizeof(bool) * natts);
	Datum	   *keys = palloc(sizeof(Datum) * Max(plan->nkeys, 1));
	bool	   *keynulls = palloc(sizeof(bool) * Max(plan->nkeys, 1));
	TupleHashIterator it;
	TupleHashEntry entry;
	StringInfoData keybuf;
	StringInfoData statebuf;
	AggValue   *prior = palloc0(sizeof(AggValue) * Max(plan->naggs, 1));
	int			i;

	initStringInfo(&keybuf);
	initStringInfo(&statebuf);
	InitTupleHashIterator(wg->groups, &it);
	while ((entry = ScanTupleHashTable(wg->groups, &it)) != NULL)
	{
		ViewGroup *gs = (ViewGroup *) entry->additional;
		bytea	   *group;
		bool		having;

		ExecStoreMinimalTuple(entry->firstTuple, plan->keyslot, false);
		resetStringInfo(&keybuf);
		group_key_serialize(plan, plan->keyslot, &keybuf);
		group = bytes_to_bytea(keybuf.data, keybuf.len);

		if (wg->correction)
		{
			Datum		fargs[2];

			fargs[0] = TimestampTzGetDatum(wg->start);
			fargs[1] = PointerGetDatum(group);
			if (SPI_execute_plan(fetch, fargs, NULL, false, 1) != SPI_OK_SELECT)
				elog(ERROR, "streamext: could not read closed window");
			if (SPI_processed == 1)
			{
				bool		isnull;
				bytea	   *old = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0],
																SPI_tuptable->tupdesc, 1, &isnull));

				agg_deserialize_states(plan, VARDATA_ANY(old), VARSIZE_ANY_EXHDR(old),
									   prior, wg->cxt);
				for (i = 0; i < plan->naggs; i++)
					agg_combine(plan, &plan->aggs[i], &gs->values[i],
								prior[i].value, prior[i].isnull || prior[i].noValue,
								wg->cxt);
				if (SPI_execute_plan(remove, fargs, NULL, false, 0) != SPI_OK_DELETE)
					elog(ERROR, "streamext: could not correct closed window");
			}
		}

		/* states before finalising: final functions may modify them */
		resetStringInfo(&statebuf);
		agg_serialize_states(plan, gs->values, &statebuf, wg->cxt);

		slot_getallattrs(plan->keyslot);
		for (i = 0; i < plan->nkeys; i++)
		{
			keys[i] = plan->keyslot->tts_values[i];
			keynulls[i] = plan->keyslot->tts_isnull[i];
		}
		having = view_plan_output(plan, wg->start, keys, keynulls, gs->values,
								  values, outnulls);
		if (having)
			subscriptions_emit_row(plan, values, outnulls, wg->correction);
		for (i = 0; i < natts; i++)
			nulls[i] = outnulls[i] ? 'n' : ' ';
		values[natts] = PointerGetDatum(group);
		values[natts + 1] = PointerGetDatum(bytes_to_bytea(statebuf.data, statebuf.len));
		values[natts + 2] = BoolGetDatum(having);
		nulls[natts] = nulls[natts + 1] = nulls[natts + 2] = ' ';
		if (SPI_execute_plan(insert, values, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "streamext: could not write closed window");
	}
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
		List	   *closing = NIL;
		ListCell   *lc2;
		TimestampTz watermark = view_plan_watermark(plan);

		if (!lock_view_row(plan))
			continue;

		batch->view_id = plan->id;
		batch->n = 0;
		hash_seq_init(&status, plan->windows);
		while ((wg = hash_seq_search(&status)) != NULL)
		{
			if (plan->window.kind != WINDOW_NONE &&
				(wg->correction || window_end_for(&plan->window, wg->start) <= watermark))
				closing = lappend(closing, wg);
			else
				write_open_window(plan, wg, false, batch);
		}
		flush_open_states(batch);

		if (closing != NIL)
		{
			SPIPlanPtr	insert = prepare_closed_insert(plan);
			SPIPlanPtr	fetch;
			SPIPlanPtr	remove;
			Oid			argtypes[2] = {TIMESTAMPTZOID, BYTEAOID};
			char	   *sql;
			TransactionId xid = GetTopTransactionId();

			sql = psprintf("SELECT _state FROM streamext.closed_%d WHERE window_start = $1 AND _group = $2",
						   plan->id);
			fetch = SPI_prepare(sql, 2, argtypes);
			sql = psprintf("DELETE FROM streamext.closed_%d WHERE window_start = $1 AND _group = $2",
						   plan->id);
			remove = SPI_prepare(sql, 2, argtypes);

			foreach(lc2, closing)
			{
				Oid			dtypes[2] = {INT4OID, TIMESTAMPTZOID};
				Datum		dargs[2];

				wg = lfirst(lc2);
				close_window(plan, wg, insert, fetch, remove);
				dargs[0] = Int32GetDatum(plan->id);
				dargs[1] = TimestampTzGetDatum(wg->start);
				if (SPI_execute_with_args("DELETE FROM streamext.open_state WHERE view_id = $1 AND window_start = $2",
										  2, dtypes, dargs, NULL, false, 0) != SPI_OK_DELETE)
					elog(ERROR, "streamext: could not remove open window state");
				if (slot != NULL)
					state_shmem_retire_window(slot, plan, wg, xid);
				if (!wg->correction &&
					window_end_for(&plan->window, wg->start) > plan->closed_upto)
					plan->closed_upto = window_end_for(&plan->window, wg->start);
				view_plan_drop_window(plan, wg);
			}
		}
		write_dead_letters(plan);
		if (plan->window.kind != WINDOW_NONE && watermark > plan->closed_upto)
			plan->closed_upto = watermark;
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

	if (SPI_execute_with_args("SELECT window_start, group_key, state FROM streamext.open_state "
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

		wg = view_plan_window(plan, wstart, true);
		old = MemoryContextSwitchTo(plan->econtext->ecxt_per_tuple_memory);
		group_key_deserialize(plan, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), plan->keyslot);
		gs = view_plan_group(plan, wg, plan->keyslot, &isnew);
		MemoryContextSwitchTo(old);
		agg_deserialize_states(plan, VARDATA_ANY(state), VARSIZE_ANY_EXHDR(state),
							   gs->values, wg->cxt);
		gs->dirty_disk = false;
		gs->dirty_shmem = true;
		wg->any_dirty = true;
		ResetExprContext(plan->econtext);
	}
	SPI_finish();
	MemoryContextSwitchTo(outer);
}
