/*-------------------------------------------------------------------------
 *
 * launcher.c
 *	  The streamext launcher: a static background worker that keeps one
 *	  streamext worker running in every database that has the extension,
 *	  restarts workers that died, and backs off when they keep dying.
 *
 *	  Which databases have the extension is found out by the workers
 *	  themselves: the launcher probes every database once, a worker that
 *	  finds no extension marks its slot absent and leaves, and a backend that
 *	  creates the extension or a stream asks for a worker again.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_database.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "miscadmin.h"
#include "utils/wait_event.h"

#include "launcher.h"
#include "settings.h"
#include "shmem.h"

#define LAUNCHER_NAPTIME_MS 1000
#define RESTART_BACKOFF_MIN_MS 500
#define RESTART_BACKOFF_MAX_MS 30000
#define DROP_DATABASE_GRACE_MS 10000
#define LAG_WARNING_EVERY_MS 60000

/* what the launcher remembers of one database between rounds */
typedef struct LauncherDb
{
	Oid			dboid;
	BackgroundWorkerHandle *handle;
	TimestampTz last_start;
	int			backoff_ms;
	bool		probed;
	bool		seen;			/* still in pg_database this round */
	int			restarts_seen;	/* failures already logged */
	TimestampTz last_lag_warning;
} LauncherDb;

static List *launcher_dbs = NIL;

static List *get_database_oids(void);
static void launcher_round(void);
static bool start_worker(LauncherDb *db);
static void warn_if_lagging(LauncherDb *db, TimestampTz now);

/*
 * streamext_register_launcher registers the launcher with the postmaster;
 * called from _PG_init while shared_preload_libraries are loaded.
 */
void
streamext_register_launcher(void)
{
	BackgroundWorker bgw;

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = 5;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, "streamext");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "streamext_launcher_main");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "streamext launcher");
	snprintf(bgw.bgw_type, BGW_MAXLEN, "streamext launcher");
	RegisterBackgroundWorker(&bgw);
}

/*
 * streamext_launcher_main is the launcher's main loop.
 */
void
streamext_launcher_main(Datum main_arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();

	/* no database: only shared catalogs (pg_database) are read */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	LWLockAcquire(&StreamextState->lock, LW_EXCLUSIVE);
	StreamextState->launcher_pid = MyProcPid;
	StreamextState->launcher_latch = &MyProc->procLatch;
	LWLockRelease(&StreamextState->lock);

	while (!ShutdownRequestPending)
	{
		ResetLatch(MyLatch);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		launcher_round();

		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 LAUNCHER_NAPTIME_MS,
						 PG_WAIT_EXTENSION);
	}

	LWLockAcquire(&StreamextState->lock, LW_EXCLUSIVE);
	StreamextState->launcher_pid = 0;
	StreamextState->launcher_latch = NULL;
	LWLockRelease(&StreamextState->lock);
	proc_exit(0);
}

/*
 * launcher_round looks at every database once: forgets the dropped ones,
 * and starts a worker where one is needed and none runs.
 */
static void
launcher_round(void)
{
	List	   *oids = get_database_oids();
	ListCell   *lc;
	TimestampTz now = GetCurrentTimestamp();

	foreach(lc, launcher_dbs)
		((LauncherDb *) lfirst(lc))->seen = false;

	foreach(lc, oids)
	{
		Oid			dboid = lfirst_oid(lc);
		LauncherDb *db = NULL;
		ListCell   *lc2;
		StreamextDbSlot *slot;
		pid_t		pid;
		bool		asked;

		foreach(lc2, launcher_dbs)
		{
			if (((LauncherDb *) lfirst(lc2))->dboid == dboid)
				db = lfirst(lc2);
		}
		if (db == NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

			db = palloc0(sizeof(LauncherDb));
			db->dboid = dboid;
			db->backoff_ms = RESTART_BACKOFF_MIN_MS;
			launcher_dbs = lappend(launcher_dbs, db);
			MemoryContextSwitchTo(old);
		}
		db->seen = true;

		if (db->handle != NULL &&
			GetBackgroundWorkerPid(db->handle, &pid) != BGWH_STOPPED)
		{
			warn_if_lagging(db, now);
			continue;			/* running or about to */
		}
		if (db->handle != NULL)
		{
			pfree(db->handle);
			db->handle = NULL;
		}

		slot = streamext_find_db_slot(dboid, false);
		if (db->probed && slot == NULL)
			continue;			/* no extension, nobody asked */
		asked = false;
		if (slot != NULL)
		{
			bool		skip = false;
			int			restarts;

			SpinLockAcquire(&slot->mutex);
			restarts = slot->restarts;
			SpinLockRelease(&slot->mutex);
			LWLockAcquire(&StreamextState->lock, LW_EXCLUSIVE);

			/*
			 * A backend asked for a worker (CREATE EXTENSION committed) and
			 * none failed since the last start: the last one left because
			 * there was nothing to do, no backoff is owed.
			 */
			asked = slot->wanted && restarts == db->restarts_seen;
			if (slot->worker_pid != 0)
				skip = true;	/* a worker is still leaving */
			else if (slot->stop_requested)
			{
				/* from the request: a worker that ran long must not come back at once */
				if (!TimestampDifferenceExceeds(slot->stop_requested_at, now, DROP_DATABASE_GRACE_MS))
					skip = true;
				else
					slot->stop_requested = false;	/* DROP DATABASE failed */
			}
			else if (slot->absent && !slot->wanted)
				skip = true;
			LWLockRelease(&StreamextState->lock);
			if (skip)
				continue;
		}
		if (db->probed && !asked &&
			!TimestampDifferenceExceeds(db->last_start, now, db->backoff_ms))
			continue;

		/* a worker that ran a while before dying starts the backoff anew */
		if (asked ||
			TimestampDifferenceExceeds(db->last_start, now, RESTART_BACKOFF_MAX_MS * 2))
			db->backoff_ms = RESTART_BACKOFF_MIN_MS;
		else if (db->probed)
			db->backoff_ms = Min(db->backoff_ms * 2, RESTART_BACKOFF_MAX_MS);
		if (slot != NULL)
		{
			int			restarts;
			char		last_error[sizeof(slot->last_error)];

			SpinLockAcquire(&slot->mutex);
			restarts = slot->restarts;
			memcpy(last_error, slot->last_error, sizeof(last_error));
			SpinLockRelease(&slot->mutex);
			last_error[sizeof(last_error) - 1] = '\0';
			if (restarts > db->restarts_seen)
			{
				db->restarts_seen = restarts;
				ereport(LOG,
						(errmsg("streamext launcher restarts the worker for database %u, which failed: %s",
								dboid, last_error),
						 errdetail("Failures so far: %d; after another one the launcher waits %d ms.",
								   restarts, Min(db->backoff_ms * 2, RESTART_BACKOFF_MAX_MS))));
			}
			LWLockAcquire(&StreamextState->lock, LW_EXCLUSIVE);
			slot->wanted = false;
			LWLockRelease(&StreamextState->lock);
		}
		db->probed = true;
		db->last_start = now;
		if (!start_worker(db))
			break;				/* no free worker slot; try next round */
	}

	/* forget dropped databases and free their shared slots */
	foreach(lc, launcher_dbs)
	{
		LauncherDb *db = lfirst(lc);

		if (!db->seen)
		{
			StreamextDbSlot *slot = streamext_find_db_slot(db->dboid, false);

			if (slot != NULL)
			{
				LWLockAcquire(&StreamextState->lock, LW_EXCLUSIVE);
				if (slot->worker_pid == 0)
					slot->dboid = InvalidOid;
				LWLockRelease(&StreamextState->lock);
			}
			launcher_dbs = foreach_delete_current(launcher_dbs, lc);
		}
	}
	list_free(oids);
}

/*
 * warn_if_lagging warns, at most once a minute, when a database's worker has
 * more WAL left to decode than streamext.max_lag_warning: the slot holds
 * that WAL, and views and subscriptions are that far behind.
 */
static void
warn_if_lagging(LauncherDb *db, TimestampTz now)
{
	StreamextDbSlot *slot = streamext_find_db_slot(db->dboid, false);
	XLogRecPtr	flushed = GetFlushRecPtr(NULL);
	XLogRecPtr	published_upto;
	uint64		lag_kb;

	if (slot == NULL || streamext_max_lag_warning_kb == 0)
		return;
	SpinLockAcquire(&slot->mutex);
	published_upto = slot->published_upto;
	SpinLockRelease(&slot->mutex);
	if (published_upto == InvalidXLogRecPtr || published_upto >= flushed)
		return;
	lag_kb = (flushed - published_upto) / 1024;
	if (lag_kb <= (uint64) streamext_max_lag_warning_kb ||
		!TimestampDifferenceExceeds(db->last_lag_warning, now, LAG_WARNING_EVERY_MS))
		return;
	db->last_lag_warning = now;
	ereport(WARNING,
			(errmsg("streamext worker for database %u is " UINT64_FORMAT " kB of WAL behind",
					db->dboid, lag_kb),
			 errdetail("Its views and subscriptions lag by as much, and its replication slot keeps that WAL."),
			 errhint("See lag_bytes and last_error in streamext.streams; max_slot_wal_keep_size bounds the WAL a slot may keep.")));
}

/*
 * start_worker registers a dynamic worker for a database; the launcher, not
 * the postmaster, restarts it.
 */
static bool
start_worker(LauncherDb *db)
{
	BackgroundWorker bgw;
	MemoryContext old;
	bool		ok;

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, "streamext");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "streamext_worker_main");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "streamext worker for database %u", db->dboid);
	snprintf(bgw.bgw_type, BGW_MAXLEN, "streamext worker");
	bgw.bgw_main_arg = ObjectIdGetDatum(db->dboid);
	bgw.bgw_notify_pid = MyProcPid;

	old = MemoryContextSwitchTo(TopMemoryContext);
	ok = RegisterDynamicBackgroundWorker(&bgw, &db->handle);
	MemoryContextSwitchTo(old);
	if (!ok)
	{
		db->handle = NULL;
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("streamext launcher could not start a worker for database %u",
						db->dboid),
				 errhint("Raise max_worker_processes.")));
	}
	return ok;
}

/*
 * get_database_oids lists the databases that accept connections, as the
 * autovacuum launcher does.
 */
static List *
get_database_oids(void)
{
	List	   *result = NIL;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	MemoryContext outer = CurrentMemoryContext;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database pgdb = (Form_pg_database) GETSTRUCT(tup);
		MemoryContext old;

		if (!pgdb->datallowconn || pgdb->datistemplate)
			continue;
		old = MemoryContextSwitchTo(outer);
		result = lappend_oid(result, pgdb->oid);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return result;
}
