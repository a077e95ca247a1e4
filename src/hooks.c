/*-------------------------------------------------------------------------
 *
 * hooks.c
 *	  What ordinary backends do for streamext outside its SQL functions:
 *	  the append-only guard and write-notice triggers of a stream, waking
 *	  the worker when a transaction that wrote a stream commits, and
 *	  moving the worker out of the way of DROP DATABASE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/dbcommands.h"
#include "commands/trigger.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "replication/origin.h"
#include "storage/condition_variable.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "hooks.h"
#include "shmem.h"
#include "stream_ddl.h"

/* how long DROP DATABASE waits for the worker to leave */
#define DROP_DATABASE_WAIT_MS 10000

PG_FUNCTION_INFO_V1(streamext_refuse_change);
PG_FUNCTION_INFO_V1(streamext_note_write);

/* set during a transaction, acted upon at commit */
static bool stream_written = false;
static bool catalog_changed = false;
static bool extension_dropped = false;

static ProcessUtility_hook_type prev_ProcessUtility = NULL;
static UtilityFollower utility_follower = NULL;

static void xact_callback(XactEvent event, void *arg);
static void streamext_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
									 bool readOnlyTree, ProcessUtilityContext context,
									 ParamListInfo params, QueryEnvironment *queryEnv,
									 DestReceiver *dest, QueryCompletion *qc);
static void move_worker_out_of_the_way(const char *dbname);

/*
 * streamext_install_hooks installs the transaction callback and the utility
 * hook, in every process.
 */
void
streamext_install_hooks(UtilityFollower follower)
{
	utility_follower = follower;
	RegisterXactCallback(xact_callback, NULL);
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = streamext_ProcessUtility;
}

/*
 * streamext_note_catalog_change is called by the SQL functions that change
 * streamext's catalog, so that the worker is started or woken at commit.
 */
void
streamext_note_catalog_change(void)
{
	catalog_changed = true;
}

/*
 * streamext_refuse_change is the statement trigger that keeps a stream
 * append-only: UPDATE, DELETE and TRUNCATE are refused.
 */
Datum
streamext_refuse_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *what;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("streamext.refuse_change() must be called as a trigger")));

	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		what = "UPDATE";
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		what = "DELETE";
	else
		what = "TRUNCATE";

	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s is not allowed on stream \"%s\"", what,
					RelationGetRelationName(trigdata->tg_relation)),
			 errdetail("A stream is append-only: its continuous views have counted every event."),
			 errhint("Use streamext.drop_stream() to turn it back into an ordinary table.")));
	PG_RETURN_NULL();
}

/*
 * streamext_note_write is the AFTER INSERT statement trigger of a stream:
 * it only remembers that the worker should be woken at commit.
 */
Datum
streamext_note_write(PG_FUNCTION_ARGS)
{
	stream_written = true;
	PG_RETURN_POINTER(NULL);
}

/*
 * xact_callback wakes the worker right after a commit that wrote a stream,
 * so that a view reflects it within milliseconds rather than a poll
 * interval; the commit record is flushed by then.
 */
static void
xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (extension_dropped)
			{
				StreamextDbSlot *slot = streamext_find_db_slot(MyDatabaseId, false);

				if (slot != NULL)
				{
					LWLockAcquire(&StreamextState->lock, LW_EXCLUSIVE);
					slot->recheck_extension = true;
					LWLockRelease(&StreamextState->lock);
				}
			}
			if (catalog_changed)
				streamext_request_worker(MyDatabaseId);	/* slot claimed before */
			else if (stream_written)
				streamext_wake_worker(MyDatabaseId);
			stream_written = false;
			catalog_changed = false;
			extension_dropped = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			stream_written = false;
			catalog_changed = false;
			extension_dropped = false;
			break;
		default:
			break;
	}
}

/*
 * streamext_ProcessUtility notices CREATE EXTENSION streamext (to start a
 * worker at commit) and DROP DATABASE (whose worker must disconnect first).
 */
static void
streamext_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
						 bool readOnlyTree, ProcessUtilityContext context,
						 ParamListInfo params, QueryEnvironment *queryEnv,
						 DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	Oid			dropped_db = InvalidOid;
	Oid			renamed_relid = InvalidOid;

	if (IsA(parsetree, DropdbStmt))
	{
		dropped_db = get_database_oid(((DropdbStmt *) parsetree)->dbname, true);
		move_worker_out_of_the_way(((DropdbStmt *) parsetree)->dbname);
	}
	else if (IsA(parsetree, CreateExtensionStmt) &&
			 strcmp(((CreateExtensionStmt *) parsetree)->extname, "streamext") == 0)
		catalog_changed = true;
	else if (IsA(parsetree, DropStmt) &&
			 ((DropStmt *) parsetree)->removeType == OBJECT_EXTENSION)
	{
		/* wake the worker at commit: it leaves if its extension is gone */
		extension_dropped = true;
		stream_written = true;
	}
	else
		stream_ddl_check(parsetree);

	/*
	 * The relation a rename names, looked up before the rename: afterwards
	 * its old name may find another one (search_path), or none.
	 */
	if (IsA(parsetree, RenameStmt) && ((RenameStmt *) parsetree)->relation != NULL)
		renamed_relid = RangeVarGetRelid(((RenameStmt *) parsetree)->relation, NoLock, true);

	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
							queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);

	if (utility_follower != NULL)
		utility_follower(parsetree, renamed_relid);

	/* DROP DATABASE dropped the slot; the origin is cluster-wide */
	if (OidIsValid(dropped_db))
		replorigin_drop_by_name(psprintf("streamext_%u", dropped_db), true, false);
}

/*
 * move_worker_out_of_the_way asks the worker of a database about to be
 * dropped to leave, and waits for it, so that DROP DATABASE does not fail on
 * "being accessed by other users".  The worker keeps its slot, which DROP
 * DATABASE removes; if the drop fails, the launcher starts it again.
 */
static void
move_worker_out_of_the_way(const char *dbname)
{
	Oid			dboid = get_database_oid(dbname, true);
	StreamextDbSlot *slot;
	TimestampTz start = GetCurrentTimestamp();

	if (!OidIsValid(dboid) || StreamextState == NULL)
		return;
	slot = streamext_find_db_slot(dboid, false);
	if (slot == NULL)
		return;

	LWLockAcquire(&StreamextState->lock, LW_EXCLUSIVE);
	slot->stop_requested_at = start;
	slot->stop_requested = true;
	LWLockRelease(&StreamextState->lock);

	/*
	 * The worker broadcasts progress_cv when it leaves.  The sleep checks
	 * for interrupts; an error ends it in AbortTransaction.
	 */
	for (;;)
	{
		bool		running;
		long		remaining;

		LWLockAcquire(&StreamextState->lock, LW_SHARED);
		running = (slot->worker_pid != 0);
		LWLockRelease(&StreamextState->lock);
		remaining = DROP_DATABASE_WAIT_MS -
			TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());
		if (!running || remaining <= 0)
			break;
		streamext_wake_worker(dboid);
		(void) ConditionVariableTimedSleep(&slot->progress_cv, remaining, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
}
