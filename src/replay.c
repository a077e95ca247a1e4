/*-------------------------------------------------------------------------
 *
 * replay.c
 *	  Replaying dead letters.  streamext.replay_dead_letters asks the worker
 *	  to apply the events a view or subscription set aside once more, now
 *	  that their cause may be fixed (a function corrected, a privilege
 *	  granted).  The worker rebuilds each event from its JSON, applies it in
 *	  a subtransaction, and removes the dead letters that succeed in the
 *	  checkpoint that writes their effect: a crash before it loses neither.
 *	  Those that fail again stay.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/wait_event.h"
#include "miscadmin.h"
#include "funcapi.h"
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "storage/condition_variable.h"
#include "storage/lmgr.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "decoder.h"
#include "replay.h"
#include "shmem.h"
#include "sqlfunc.h"
#include "subscription.h"
#include "subscription_def.h"
#include "usercode.h"
#include "view_apply.h"
#include "view_plan.h"

PG_FUNCTION_INFO_V1(streamext_replay_dead_letters);

#define REPLAY_WAIT_MS 60000

/* a dead letter's event to turn into a row of the stream, for row_from_json */
typedef struct RowFromJson
{
	const char *sql;
	Jsonb	   *event;
	Datum		row;			/* the row, in the caller's memory */
} RowFromJson;

static void row_from_json(void *arg);
static void remember_id(List **ids, int64 id, MemoryContext cxt);
static void store_row(TupleTableSlot *slot, Datum row, Oid relid);

/*
 * row_from_json makes a row of the stream from a dead letter's event, for
 * usercode_isolated behind the view's or subscription's owner's gate.
 */
static void
row_from_json(void *arg)
{
	RowFromJson *rfj = arg;
	Oid			argtypes[1] = {JSONBOID};
	Datum		args[1];
	bool		isnull;
	MemoryContext cxt = CurrentMemoryContext;
	Datum		row;

	args[0] = JsonbPGetDatum(rfj->event);
	if (SPI_execute_with_args(rfj->sql, 1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "streamext: could not make a row of a dead letter");
	row = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		elog(ERROR, "streamext: a dead letter's event is not a row");
	MemoryContextSwitchTo(cxt);
	/* a composite datum is one varlena: copied out of SPI's memory whole */
	rfj->row = datumCopy(row, false, -1);
}

/*
 * remember_id notes a dead letter to delete with the next checkpoint.
 */
static void
remember_id(List **ids, int64 id, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	int64	   *p = palloc(sizeof(int64));

	*p = id;
	*ids = lappend(*ids, p);
	MemoryContextSwitchTo(old);
}

/*
 * store_row puts a row of a stream's type, as jsonb_populate_record made it,
 * into an event slot.
 */
static void
store_row(TupleTableSlot *slot, Datum row, Oid relid)
{
	HeapTupleHeader td = DatumGetHeapTupleHeader(row);
	HeapTupleData tuple;

	tuple.t_len = HeapTupleHeaderGetDatumLength(td);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = relid;
	tuple.t_data = td;
	ExecStoreHeapTuple(heap_copytuple(&tuple), slot, true);
}

/*
 * replay_dead_letters_now serves the replay the database's slot asks for:
 * in a transaction of its own, every dead letter of that view or
 * subscription is applied again, and *ok_out and *failed_out count them.
 * The caller checkpoints next, which removes those that succeeded, and
 * answers the request.  Returns false when an event failed with the view's states
 * half changed: nothing of the replay is kept, every dead letter stays,
 * and the caller starts over from its checkpoint.
 */
bool
replay_dead_letters_now(int32 view_id, int32 sub_id, List *plans, List *subs,
						HTAB *streams, int64 *ok_out, int64 *failed_out)
{
	ViewPlan   *plan = NULL;
	SubscriptionPlan *sub = NULL;
	StreamTarget *st = NULL;
	Oid			relid = InvalidOid;
	ListCell   *lc;
	int64		ok = 0;
	int64		failed = 0;
	bool		contaminated = false;
	uint64		total = 0;

	foreach(lc, plans)
		if (view_id != 0 && ((ViewPlan *) lfirst(lc))->id == view_id)
			plan = lfirst(lc);
	foreach(lc, subs)
		if (sub_id != 0 && ((SubscriptionPlan *) lfirst(lc))->id == sub_id)
			sub = lfirst(lc);
	if (plan != NULL)
		relid = plan->stream_relid;
	else if (sub != NULL && sub->view_id == 0)
		relid = sub->source_relid;
	if (OidIsValid(relid) && streams != NULL)
		st = hash_search(streams, &relid, HASH_FIND, NULL);

	StartTransactionCommand();
	if (!catalog_lock_extension())
	{
		/* dropped: the worker leaves at its next look */
		CommitTransactionCommand();
		*ok_out = *failed_out = 0;
		return true;
	}
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	if (st != NULL)
	{
		/* copied out: turning each into a row runs statements of its own */
		List	   *letters = catalog_read_dead_letters(plan ? CATALOG_VIEW_DEF :
														CATALOG_SUBSCRIPTION_DEF,
														plan ? view_id : sub_id);
		ListCell   *lc2;
		Oid			owner = plan ? plan->owner : sub->owner;
		RowFromJson rfj;

		total = list_length(letters);
		rfj.sql = psprintf("SELECT jsonb_populate_record(NULL::%s, $1)",
						   quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
													  get_rel_name(relid)));
		foreach(lc2, letters)
		{
			DeadLetterRow *rl = lfirst(lc2);
			int64		id = rl->id;
			TimestampTz at = rl->at;
			UserCodeFailure failure;
			bool		applied;

			/* a group whose closed row failed is no event: it stays, as failing */
			if (rl->is_group)
			{
				failed++;
				continue;
			}

			/*
			 * The stream's row from the JSON, as the owner: a domain's CHECK
			 * constraint or a type's input function is its owner's code.
			 */
			rfj.event = rl->event;
			if (!usercode_isolated(owner, USERCODE_READ_ONLY, row_from_json, &rfj, &failure))
			{
				FreeErrorData(failure.error);
				failed++;
				continue;
			}
			store_row(st->slot, rfj.row, relid);
			pfree(DatumGetPointer(rfj.row));
			if (plan != NULL)
			{
				UserCodeFailure failure;
				ApplyResult result;

				plan->state->txn_end = InvalidXLogRecPtr;
				result = view_plan_apply_isolated(plan, st->slot, at, InvalidXLogRecPtr,
												  &failure);
				applied = (result == APPLY_DONE);
				if (applied)
					remember_id(&plan->state->replayed, id, plan->cxt);
				else if (result == APPLY_FAILED)
				{
					/* it fails again: the dead letter it is stays */
					FreeErrorData(failure.error);
				}
				else
				{
					/*
					 * The view's states are half changed: nothing of this
					 * replay may be kept, the caller starts over from the
					 * checkpoint it made before.
					 */
					contaminated = true;
					ExecClearTuple(st->slot);
					break;
				}
			}
			else
			{
				applied = subscription_replay_event(sub, st->slot, at);
				if (applied)
					remember_id(&sub->replayed, id, sub->pending_cxt);
			}
			ExecClearTuple(st->slot);
			if (applied)
				ok++;
			else
				failed++;
		}
	}
	else if (sub != NULL)
	{
		/* rows of a view are not events: they come again with the view */
		failed = catalog_count_subscription_dead_letters(sub_id);
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	if (contaminated)
	{
		*ok_out = 0;
		*failed_out = total;
		return false;
	}
	if (plan != NULL)
		plan->state->dead_letters = (plan->state->dead_letters > (uint64) ok) ?
			plan->state->dead_letters - ok : 0;
	*ok_out = ok;
	*failed_out = failed;
	return true;
}

/*
 * streamext_replay_dead_letters applies again the dead letters of a view
 * or subscription, through the worker, and returns how many were applied
 * and how many still fail.  One replay runs at a time.
 */
Datum
streamext_replay_dead_letters(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	StreamextDbSlot *slot;
	int32		view_id = 0;
	int32		sub_id = 0;
	uint64		request;
	bool		running;
	int64		ok;
	int64		failed;
	TimestampTz start;
	ViewCatalogRow *view;
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	sqlfunc_check_setup();
	view = catalog_find_owned_view(name, true);
	if (view != NULL)
		view_id = view->id;
	else
	{
		CatalogAccess ca;
		Oid			owner;
		Oid			source;
		Oid			caller = GetUserId();

		catalog_owner_enter(&ca);
		subscription_lookup(name, caller, &sub_id, &owner, &source);
		catalog_owner_leave(&ca);
	}

	slot = streamext_find_db_slot(MyDatabaseId, false);
	running = false;
	if (slot != NULL)
	{
		LWLockAcquire(&StreamextState->lock, LW_SHARED);
		running = (slot->worker_pid != 0);
		LWLockRelease(&StreamextState->lock);
	}
	if (!running)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no streamext worker runs in this database"),
				 errhint("See last_error in streamext.streams; the launcher restarts the worker.")));

	/* one replay at a time; the worker's checkpoints are not held up */
	LockRelationOid(catalog_relid(CATALOG_DEAD_LETTERS), ShareUpdateExclusiveLock);
	SpinLockAcquire(&slot->mutex);
	request = ++slot->replay_requested;
	slot->replay_view_id = view_id;
	slot->replay_sub_id = sub_id;
	SpinLockRelease(&slot->mutex);
	streamext_wake_worker(MyDatabaseId);

	/*
	 * The worker broadcasts replay_cv with its answer.  The sleep checks for
	 * interrupts; an error (a cancel, statement_timeout) ends it in
	 * AbortTransaction.
	 */
	start = GetCurrentTimestamp();
	ConditionVariablePrepareToSleep(&slot->replay_cv);
	for (;;)
	{
		bool		done;
		long		remaining;

		SpinLockAcquire(&slot->mutex);
		done = (slot->replay_done >= request);
		ok = slot->replay_ok;
		failed = slot->replay_failed;
		SpinLockRelease(&slot->mutex);
		if (done)
			break;
		remaining = REPLAY_WAIT_MS -
			TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());
		if (remaining <= 0)
		{
			ConditionVariableCancelSleep();
			ereport(ERROR,
					(errcode(ERRCODE_QUERY_CANCELED),
					 errmsg("the streamext worker did not replay the dead letters within %d s",
							REPLAY_WAIT_MS / 1000),
					 errhint("It replays them when it gets to it; check streamext.dead_letters later.")));
		}
		(void) ConditionVariableTimedSleep(&slot->replay_cv, remaining, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = Int64GetDatum(ok);
	values[1] = Int64GetDatum(failed);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
