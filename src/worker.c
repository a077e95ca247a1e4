/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The per-database streamext worker: owns the database's logical
 *	  replication slot, decodes WAL in-process up to the flushed end, applies
 *	  each committed batch to the views, publishes them to shared memory,
 *	  checkpoints them with the LSN they are consistent at, and sleeps until
 *	  a producer's commit wakes it.
 *
 *	  When the slot does not exist yet (first start, or after it was lost),
 *	  the worker creates it together with a snapshot that sees exactly the
 *	  commits before the slot's consistent point, and recomputes every view
 *	  from the stream tables with that snapshot, so that events inserted
 *	  before the slot existed are counted once.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "access/xlog.h"
#include "access/xlogutils.h"
#include "access/xlogreader.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "replication/decode.h"
#include "replication/logical.h"
#include "replication/origin.h"
#include "replication/slot.h"
#include "replication/snapbuild.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "storage/spin.h"
#include "storage/standby.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/wait_event.h"

#include "catalog.h"
#include "checkpoint.h"
#include "distributed_delivery.h"
#include "decoder.h"
#include "memory_reserve.h"
#include "replay.h"
#include "retention.h"
#include "settings.h"
#include "shmem.h"
#include "state_shmem.h"
#include "subscription.h"
#include "usercode.h"
#include "view_apply.h"
#include "view_plan.h"
#include "view_source.h"
#include "view_state.h"
#include "worker.h"

#define PUBLISH_EVERY_RECORDS 20000
#define IDLE_NAPTIME_MS 1000
/* transactions that close windows come at most this often */
#define CLOSE_MIN_INTERVAL_MS 20
/* the groups a view closes in one round, the WAL after read between rounds */
#define CLOSE_ROUND_GROUPS 5000
/*
 * Closing rounds left to do hold off a periodic checkpoint this long at
 * most: it would close them all in one transaction (a million groups in
 * 30 s), but WAL is kept for the slot until it comes.
 */
#define CLOSE_BACKLOG_DEFER_MS 60000
/* the naptime while WAL is written, by any database */
#define WAL_MOVING_NAPTIME_MS 20
#define EXTENSION_CHECK_MS 10000
/* pending table statistics are flushed by force after this long */
#define STATS_FLUSH_MS 1000

typedef struct WorkerState
{
	StreamextDbSlot *slot;
	char		slot_name[NAMEDATALEN];
	MemoryContext cxt;			/* plans */
	List	   *plans;
	List	   *subs;			/* SubscriptionPlan */
	List	   *new_subs;		/* loaded by the last reload */
	DecodeTarget target;
	MemoryContext dimensions_cxt;	/* target.dimensions */
	LogicalDecodingContext *ctx;
	TimestampTz last_checkpoint;
	TimestampTz last_extension_check;
	TimestampTz last_maintenance;	/* partitions of streams with a retention */
	TimestampTz last_delivery;	/* subscriptions of distributed views */
	TimestampTz stats_pending_since;	/* 0: no table statistics pending */
	TimestampTz clock;			/* no commit still to decode is much older */
	bool		wal_moving;		/* the last round found WAL to decode */
	TimestampTz wal_moved_at;	/* the last round that did */
	TimestampTz wake_at;		/* the clock makes windows due then */
	TimestampTz last_close;		/* windows closed last (or a checkpoint) */
	int64		close_usecs;	/* how long that took */
	bool		close_backlog;	/* that round left due windows to the next */
	TransactionId recompute_xid;	/* recomputed the views for a new slot */
	XLogRecPtr	published_at;	/* the decoding's position at the last publish */
	XLogRecPtr	readers_held_upto;	/* decoding again, readers keep what was
									 * published up to there */
} WorkerState;

static WorkerState W;

typedef struct LoadedView
{
	ViewCatalogRow *row;
	ViewPlan   *plan;
	bool		unchecked;		/* EXECUTE checked per event only */
} LoadedView;

/* a view to compute afresh with a new slot's snapshot */
typedef struct RecomputedView
{
	ViewCatalogRow *row;
	MemoryContext cxt;
	XLogRecPtr	consistent;
} RecomputedView;

static void recompute_one(void *arg);
static void worker_shmem_exit(int code, Datum arg);
static void trust_own_output_plugin(void);
static void leave_for_good(bool drop_slot);
static void ensure_slot(void);
static List *reload_views(void);
static void build_dimensions(void);
static void apply_pending(List *new_plans, List *new_subs);
static StreamTarget *stream_target(Oid relid);
static void check_extension(void);
static void close_due_windows(void);
static void close_windows_now(void);
static bool checkpoint_due(void);
static int	plan_depth_cmp(const ListCell *a, const ListCell *b);
static List *sort_rows_by_depth(List *rows);
static XLogRecPtr decoded_upto(void);
static XLogRecPtr closed_ahead_stop(XLogRecPtr end);
static long ms_until(TimestampTz t);
static void begin_transaction(void);
static ViewPlan *load_view(ViewCatalogRow *row);
static void recompute_view_on_view(LoadedView *lv);
static void recompute_loaded(void *arg);
static void load_one(void *arg);
static void publish_all(bool all_groups);
static void flush_subscriptions(void);
static void checkpoint_now(void);
static void decode_available(void);
static bool checkpoint_owed(void);
static void decode_or_rewind(void);
static void place_streamed(void);
static void start_from_checkpoint(bool rewinding);
static void rewind_to_checkpoint(void);
static void note_failure(void);
static void replay_requested(void);
static void answer_replay(uint64 request, int64 ok, int64 failed);
static void worker_run(void);
static void show_own_transactions(void);
static void report_step(const char *what);
static void report_stats(void);
static void prepare_write(LogicalDecodingContext *ctx, XLogRecPtr lsn,
						  TransactionId xid, bool last_write);
static void do_write(LogicalDecodingContext *ctx, XLogRecPtr lsn,
					 TransactionId xid, bool last_write);

/* decoding produces no output: tuples go straight to the views */
static void
prepare_write(LogicalDecodingContext *ctx, XLogRecPtr lsn, TransactionId xid,
			  bool last_write)
{
}

static void
do_write(LogicalDecodingContext *ctx, XLogRecPtr lsn, TransactionId xid,
		 bool last_write)
{
}

/*
 * worker_shmem_exit frees the database's slot for the next worker, wakes
 * those who wait for it to leave, and wakes the launcher.
 */
static void
worker_shmem_exit(int code, Datum arg)
{
	/* an error may have left locks held; ProcKill, which runs later, would too */
	LWLockReleaseAll();
	if (W.slot != NULL)
	{
		LWLockAcquire(&StreamextState->lock, LW_EXCLUSIVE);
		if (W.slot->worker_pid == MyProcPid)
		{
			W.slot->worker_latch = NULL;
			W.slot->worker_pid = 0;
		}
		LWLockRelease(&StreamextState->lock);
		ConditionVariableBroadcast(&W.slot->progress_cv);
	}
	streamext_wake_launcher();
}

/*
 * trust_own_output_plugin lets this process, and only this process, use
 * streamext as an output plugin where the server restricts which libraries
 * may be (output_plugin_libraries): the worker decodes with the library it
 * is part of, which shared_preload_libraries already trusts.  Replication
 * users elsewhere still get only what the administrator listed.
 */
static void
trust_own_output_plugin(void)
{
	const char *current = GetConfigOption("output_plugin_libraries", true, false);

	if (current == NULL)
		return;					/* a server without the restriction */
	SetConfigOption("output_plugin_libraries",
					current[0] ? psprintf("%s, streamext", current) : "streamext",
					PGC_SUSET, PGC_S_OVERRIDE);
}

/*
 * streamext_worker_main is the worker: set-up, then decode, checkpoint and
 * sleep until woken.
 */
void
streamext_worker_main(Datum main_arg)
{
	Oid			dboid = DatumGetObjectId(main_arg);

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	memory_reserve_setup();

	memset(&W, 0, sizeof(W));
	W.slot = streamext_find_db_slot(dboid, true);
	LWLockAcquire(&StreamextState->lock, LW_EXCLUSIVE);
	if (W.slot->worker_pid != 0)
	{
		LWLockRelease(&StreamextState->lock);
		W.slot = NULL;
		proc_exit(0);			/* another worker serves this database */
	}
	/*
	 * What the last worker published goes with it: this one shows its
	 * checkpoint first (state_shmem_reset), so wait_caught_up(), which sees
	 * this worker running from here, must not take the last one's position
	 * for this one's meanwhile.
	 */
	SpinLockAcquire(&W.slot->mutex);
	W.slot->published_upto = InvalidXLogRecPtr;
	SpinLockRelease(&W.slot->mutex);
	W.slot->worker_pid = MyProcPid;
	W.slot->worker_latch = &MyProc->procLatch;
	LWLockRelease(&StreamextState->lock);
	on_shmem_exit(worker_shmem_exit, (Datum) 0);
	snprintf(W.slot_name, NAMEDATALEN, "streamext_%u", dboid);

	PG_TRY();
	{
		worker_run();
	}
	PG_CATCH();
	{
		note_failure();
		PG_RE_THROW();
	}
	PG_END_TRY();
}

/*
 * worker_run is the worker once it owns its database's slot: set-up, then
 * decode, checkpoint and sleep until woken.
 */
static void
worker_run(void)
{
	RepOriginId origin;

	begin_transaction();
	origin = replorigin_by_name(W.slot_name, true);
	if (origin == InvalidRepOriginId)
		origin = replorigin_create(W.slot_name);
	CommitTransactionCommand();
	replorigin_session_setup(origin);
	replorigin_session_origin = origin;

	trust_own_output_plugin();
	usercode_timeout_in_worker();
	report_step("starting: replication slot, views and subscriptions");
	/* analysed trees need no search_path; functions they call get a safe one */
	SetConfigOption("search_path", USERCODE_SEARCH_PATH, PGC_SUSET, PGC_S_OVERRIDE);
	ensure_slot();
	ReplicationSlotAcquire(W.slot_name, true);

	/*
	 * Transactions a crash cut off never log an abort: decoding holds them
	 * (and their streamed parts, which a reload makes fall back, turning
	 * streaming off) until a record of the running transactions says they
	 * are gone.  The bgwriter logs one only every 15 s; log it now.
	 */
	if (!RecoveryInProgress())
		(void) LogStandbySnapshot();

	W.cxt = AllocSetContextCreate(TopMemoryContext, "streamext worker",
								  ALLOCSET_DEFAULT_SIZES);
	W.target.pending_cxt = AllocSetContextCreate(TopMemoryContext,
												 "streamext pending inserts",
												 ALLOCSET_DEFAULT_SIZES);
	W.target.set_aside_cxt = AllocSetContextCreate(TopMemoryContext,
												   "streamext events set aside",
												   ALLOCSET_SMALL_SIZES);
	W.target.own_origin = origin;
	start_from_checkpoint(false);

	ereport(LOG,
			(errmsg("streamext worker started for database %u at %X/%X",
					MyDatabaseId, LSN_FORMAT_ARGS(W.target.applied_upto))));

	for (;;)
	{
		long		timeout;
		bool		stop_requested;
		bool		recheck_extension;
		bool		replay_pending;

		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			decoder_settings_reloaded();
			state_shmem_set_limit();
		}
		LWLockAcquire(&StreamextState->lock, LW_SHARED);
		stop_requested = W.slot->stop_requested;
		recheck_extension = W.slot->recheck_extension;
		LWLockRelease(&StreamextState->lock);
		if (stop_requested)
			leave_for_good(false);
		if (recheck_extension ||
			TimestampDifferenceExceeds(W.last_extension_check, GetCurrentTimestamp(),
									   EXTENSION_CHECK_MS))
			check_extension();

		report_step("decoding WAL and applying events");
		decode_or_rewind();
		if (!W.slot->ready)
		{
			/* readers waiting for a new database's slot may go on */
			SpinLockAcquire(&W.slot->mutex);
			W.slot->ready = true;
			SpinLockRelease(&W.slot->mutex);
			ConditionVariableBroadcast(&W.slot->progress_cv);
		}
		report_stats();
		SpinLockAcquire(&W.slot->mutex);
		replay_pending = W.slot->replay_requested > W.slot->replay_done;
		SpinLockRelease(&W.slot->mutex);
		if (replay_pending)
		{
			report_step("replaying dead letters");
			replay_requested();
			report_stats();
		}
		close_due_windows();
		if (TimestampDifferenceExceeds(W.last_delivery, GetCurrentTimestamp(),
									   streamext_checkpoint_interval_ms))
		{
			report_step("delivering the windows of distributed views");
			distributed_deliver_due();
			W.last_delivery = GetCurrentTimestamp();
			report_stats();
		}

		/*
		 * Retention's partitions.  A dropped partition's inserts that are
		 * not checkpointed yet (or committed since the decoding above) are
		 * decoded from the WAL with the historic catalog all the same, also
		 * by the next worker after a crash (TAP 100 shows it).
		 */
		if (TimestampDifferenceExceeds(W.last_maintenance, GetCurrentTimestamp(),
									   streamext_maintenance_interval_ms))
		{
			report_step("retention: dropping expired partitions, creating new ones");
			retention_maintain();
			W.last_maintenance = GetCurrentTimestamp();
			report_stats();
		}

		if (checkpoint_due())
		{
			report_step("checkpoint of views and subscriptions");
			checkpoint_now();
			report_stats();
		}
		/* smaller tables for views whose windows closed: a publish makes them */
		if (state_shmem_gc(W.slot, W.plans))
			publish_all(false);
		/* the worker takes none: a user's function may have */
		LockReleaseSession(USER_LOCKMETHOD);

		timeout = W.target.changed ? streamext_checkpoint_interval_ms : IDLE_NAPTIME_MS;
		timeout = Min(timeout, streamext_maintenance_interval_ms);
		if (W.stats_pending_since != 0)
			timeout = Min(timeout, STATS_FLUSH_MS);
		/*
		 * WAL is being written (maybe for other databases): keep up with it.
		 * The WAL writer flushes a transaction still running only every
		 * wal_writer_delay, so a round may find nothing between two flushes
		 * of a busy server: napping the idle time then would leave lag_time
		 * at up to a second whenever the next flush comes.
		 */
		if (W.wal_moving ||
			!TimestampDifferenceExceeds(W.wal_moved_at, GetCurrentTimestamp(), IDLE_NAPTIME_MS))
			timeout = Min(timeout, WAL_MOVING_NAPTIME_MS);
		timeout = Min(timeout, ms_until(W.wake_at));
		/* windows due are left to the next round: after a look at the WAL */
		if (W.close_backlog)
			timeout = 0;
		pgstat_report_activity(STATE_IDLE, NULL);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout, PG_WAIT_EXTENSION);
	}
}

/*
 * report_step shows in pg_stat_activity what the worker does now, as
 * "active" since now; the loop reports "idle" before it waits.  Called once
 * per step of the loop, never per event.
 */
static void
report_step(const char *what)
{
	SetCurrentStatementStartTimestamp();	/* query_start */
	pgstat_report_activity(STATE_RUNNING, what);
}

/*
 * report_stats hands the counts of the worker's writes (rows inserted,
 * updated, deleted, dead) to the cumulative statistics that
 * pg_stat_all_tables shows and autovacuum reads.  A backend does it after
 * each statement; a background worker only when it asks, and without it
 * autovacuum never sees the tables the worker rewrites every second.
 * PostgreSQL flushes at most once a second (PGSTAT_MIN_INTERVAL) and keeps
 * the rest pending; since it measures that second with the last commit's
 * time, a worker with no transaction after it would keep them pending for
 * good, so what stayed pending STATS_FLUSH_MS is flushed by force, as a
 * backend does when idle.
 */
static void
report_stats(void)
{
	TimestampTz now;

	if (pgstat_report_stat(false) == 0)
	{
		W.stats_pending_since = 0;
		return;
	}
	now = GetCurrentTimestamp();
	if (W.stats_pending_since == 0)
		W.stats_pending_since = now;
	else if (TimestampDifferenceExceeds(W.stats_pending_since, now, STATS_FLUSH_MS))
	{
		pgstat_report_stat(true);
		W.stats_pending_since = 0;
	}
}

/*
 * show_own_transactions undoes what CreateDecodingContext does for a process
 * that decodes outside a transaction, as a walsender does: it hides the
 * process from other backends' snapshots (PROC_IN_LOGICAL_DECODING), which
 * is right for a process that never writes.  This worker writes; hidden, its
 * running transactions would look aborted to others, whose page pruning
 * would then remove the rows being written.  Decoding through the SQL
 * functions, inside a transaction, runs without the flag too.
 */
static void
show_own_transactions(void)
{
	LWLockAcquire(ProcArrayLock, LW_EXCLUSIVE);
	MyProc->statusFlags &= ~PROC_IN_LOGICAL_DECODING;
	ProcGlobal->statusFlags[MyProc->pgxactoff] = MyProc->statusFlags;
	LWLockRelease(ProcArrayLock);
}

/*
 * start_from_checkpoint loads every view and subscription as of the last
 * checkpoint and decodes from the slot's restart point, applying the
 * commits after the checkpoint: at the worker's start, and again when an
 * event left a view half changed (rewind_to_checkpoint).
 */
static void
start_from_checkpoint(bool rewinding)
{
	W.target.applied_upto = replorigin_session_get_progress(false);
	SpinLockAcquire(&W.slot->mutex);
	if (!rewinding)
		W.slot->applied_lsn = W.target.applied_upto;
	W.slot->checkpoint_lsn = W.target.applied_upto;
	SpinLockRelease(&W.slot->mutex);
	W.last_checkpoint = GetCurrentTimestamp();

	state_shmem_reset(W.slot, W.recompute_xid, rewinding);
	list_free(reload_views());
	list_free(W.new_subs);
	W.new_subs = NIL;
	publish_all(false);

	W.ctx = CreateDecodingContext(InvalidXLogRecPtr, NIL, false,
								  XL_ROUTINE(.page_read = decoder_read_wal_page,
											 .segment_open = wal_segment_open,
											 .segment_close = wal_segment_close),
								  prepare_write, do_write, NULL);
	W.ctx->output_writer_private = &W.target;
	decoder_set_streaming(W.ctx, &W.target);
	show_own_transactions();
	XLogBeginRead(W.ctx->reader, MyReplicationSlot->data.restart_lsn);
}

/*
 * decode_or_rewind decodes what is available.  An event that failed with a
 * view's states half changed, or that made the decoding take an XID, has
 * been noted to be set aside (decoder.c) and ends the decoding with an
 * error: the worker then starts over from its checkpoint, as a restart
 * would, but without leaving, without the launcher's backoff and without
 * counting a failure.  Any other error is the machinery's: the worker ends
 * and the launcher restarts it.
 */
static void
decode_or_rewind(void)
{
	MemoryContext cxt = CurrentMemoryContext;
	ErrorData  *edata = NULL;

	PG_TRY();
	{
		decode_available();
	}
	PG_CATCH();
	{
		if (!W.target.rewind)
			PG_RE_THROW();
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	if (edata != NULL)
	{
		ereport(LOG,
				(errmsg("%s", edata->message),
				 edata->detail ? errdetail("%s", edata->detail) : 0));
		FreeErrorData(edata);
		rewind_to_checkpoint();
	}
}

/*
 * rewind_to_checkpoint forgets everything decoded since the checkpoint (the
 * views' and subscriptions' memory, the decoding context and its reorder
 * buffer) and starts from the checkpoint again, keeping the events to set
 * aside.
 */
static void
rewind_to_checkpoint(void)
{
	ListCell   *lc;
	HASH_SEQ_STATUS status;
	StreamTarget *st;

	/* as PostgresMain recovers from an error */
	AbortOutOfAnyTransaction();
	LWLockReleaseAll();
	ConditionVariableCancelSleep();
	pgstat_report_wait_end();

	FreeDecodingContext(W.ctx);
	W.ctx = NULL;
	foreach(lc, W.plans)
		view_plan_free(lfirst(lc));
	W.plans = NIL;
	subscriptions_free(W.subs);
	W.subs = NIL;
	list_free(W.new_subs);
	W.new_subs = NIL;
	if (W.target.streams != NULL)
	{
		/* the counters go back to the checkpoint, like the events */
		hash_seq_init(&status, W.target.streams);
		while ((st = hash_seq_search(&status)) != NULL)
			st->events = st->events_checkpointed;
	}
	W.target.pending = NIL;
	W.target.pending_tables = NIL;
	MemoryContextReset(W.target.pending_cxt);
	W.target.dimensions = NULL;
	if (W.dimensions_cxt != NULL)
		MemoryContextReset(W.dimensions_cxt);
	decoder_streams_reset(&W.target);
	W.target.txn_changes_catalog = false;
	W.target.catalog_changed = false;
	W.target.changed = false;
	W.target.rewind = false;
	/* readers keep what they saw until decoding is back there */
	if (!state_shmem_holding())
		W.readers_held_upto = W.published_at;
	start_from_checkpoint(true);
}

/*
 * replay_requested serves replay_dead_letters: what was set aside is written
 * first, then applied again, then checkpointed with the dead letters that
 * succeeded removed, and the caller told.
 */
static void
replay_requested(void)
{
	uint64		request;
	int32		view_id;
	int32		sub_id;
	int64		ok = 0;
	int64		failed = 0;

	/* the request as one: a later one may come while this one is served */
	SpinLockAcquire(&W.slot->mutex);
	request = W.slot->replay_requested;
	view_id = W.slot->replay_view_id;
	sub_id = W.slot->replay_sub_id;
	SpinLockRelease(&W.slot->mutex);

	W.target.changed = true;
	checkpoint_now();
	if (!replay_dead_letters_now(view_id, sub_id, W.plans, W.subs, W.target.streams,
								 &ok, &failed))
	{
		/* a view is half changed: back to the checkpoint just made */
		answer_replay(request, ok, failed);
		rewind_to_checkpoint();
		return;
	}
	publish_all(false);
	W.target.changed = true;
	checkpoint_now();
	answer_replay(request, ok, failed);
}

/*
 * answer_replay gives replay_dead_letters() its answer: the counts and the
 * request they answer change together, then the caller is woken.
 */
static void
answer_replay(uint64 request, int64 ok, int64 failed)
{
	SpinLockAcquire(&W.slot->mutex);
	W.slot->replay_ok = ok;
	W.slot->replay_failed = failed;
	W.slot->replay_done = request;
	SpinLockRelease(&W.slot->mutex);
	ConditionVariableBroadcast(&W.slot->replay_cv);
}

/*
 * note_failure records in the database's shared slot why this worker ends
 * in an error, for streamext.streams and the launcher's log line.
 */
static void
note_failure(void)
{
	ErrorData  *edata;
	TimestampTz now = GetCurrentTimestamp();

	MemoryContextSwitchTo(TopMemoryContext);
	edata = CopyErrorData();
	SpinLockAcquire(&W.slot->mutex);
	strlcpy(W.slot->last_error, edata->message, sizeof(W.slot->last_error));
	W.slot->last_error_time = now;
	W.slot->restarts++;
	SpinLockRelease(&W.slot->mutex);
	FreeErrorData(edata);
}

/*
 * checkpoint_owed says whether a view has late events' corrections of
 * closed windows or new dead letters, which readers see only once a
 * checkpoint wrote them.
 */
static bool
checkpoint_owed(void)
{
	ListCell   *lc;

	foreach(lc, W.plans)
		if (((ViewPlan *) lfirst(lc))->state->corrections_pending ||
			((ViewPlan *) lfirst(lc))->state->new_dead_letters != NIL)
			return true;
	return false;
}

/*
 * decode_available decodes everything flushed so far and publishes the
 * result; a commit that changed the view catalog ends the batch there, so
 * that the new views see exactly the commits after theirs.
 */
static void
decode_available(void)
{
	/* the clock, then the WAL inserted: see view_state_note_clock */
	TimestampTz now = GetCurrentTimestamp();
	XLogRecPtr	inserted = decoder_wal_inserted_upto();
	XLogRecPtr	end;
	int			records = 0;
	ListCell   *lc;
	List	   *new_plans;
	bool		moved;
	bool		views_loaded = false;

	/*
	 * The clock is due to close windows: WAL inserted but not flushed yet
	 * (the WAL writer flushes what no commit did only every
	 * wal_writer_delay) must not hold it up.
	 */
	if (now >= W.wake_at)
		XLogFlush(inserted);
	end = closed_ahead_stop(decoder_wal_flushed_upto());

	W.wal_moving = (W.ctx->reader->EndRecPtr < end);
	if (W.wal_moving)
		W.wal_moved_at = now;
	while (W.ctx->reader->EndRecPtr < end)
	{
		XLogRecord *record;
		char	   *errm = NULL;

		record = XLogReadRecord(W.ctx->reader, &errm);
		if (errm)
			elog(ERROR, "streamext: could not read WAL: %s", errm);
		if (record != NULL)
			LogicalDecodingProcessRecord(W.ctx, W.ctx->reader);
		/* a streamed transaction committed: it counts before what follows */
		if (W.target.committed != NULL)
			place_streamed();
		decoder_set_streaming(W.ctx, &W.target);

		if (W.target.catalog_changed)
		{
			/*
			 * The reload may free plans that streamed transactions folded
			 * for; those a crash cut off fold nothing more.
			 */
			decoder_forget_cut_streams(W.ctx, &W.target);
			decoder_fall_back_in_progress(&W.target, W.ctx->reader->EndRecPtr);
			publish_all(false);
			/* subscriptions are loaded afresh: write what they found so far */
			flush_subscriptions();
			/* the catalog change is decoded; wait until it is visible */
			StartTransactionCommand();
			XactLockTableWait(W.target.catalog_xid, NULL, NULL, XLTW_None);
			CommitTransactionCommand();
			W.target.catalog_changed = false;
			new_plans = reload_views();
			/* a new view's history closes before wait_caught_up() returns */
			foreach(lc, new_plans)
				((ViewPlan *) lfirst(lc))->state->close_whole = true;
			apply_pending(new_plans, W.new_subs);
			W.new_subs = NIL;
			views_loaded = true;
			/* new views appear with their creating transaction's events */
			publish_all(false);
			end = closed_ahead_stop(end);
		}
		if (++records % PUBLISH_EVERY_RECORDS == 0)
		{
			publish_all(false);
			flush_subscriptions();
			report_stats();		/* a long catch-up */

			/*
			 * Readers waiting (wait_caught_up) may go on, unless late events
			 * corrected closed windows that only a checkpoint shows (the
			 * end of the batch takes it)
			 */
			if (!checkpoint_owed() && !state_shmem_holding())
			{
				SpinLockAcquire(&W.slot->mutex);
				W.slot->published_upto = W.ctx->reader->EndRecPtr;
				SpinLockRelease(&W.slot->mutex);
				ConditionVariableBroadcast(&W.slot->progress_cv);
			}
		}
		CHECK_FOR_INTERRUPTS();
	}
	publish_all(false);
	flush_subscriptions();

	/* back where windows were closed before a restart: close them again */
	foreach(lc, W.plans)
	{
		XLogRecPtr	at = ((ViewPlan *) lfirst(lc))->state->closed_ahead_lsn;

		if (!XLogRecPtrIsInvalid(at) && at <= W.ctx->reader->EndRecPtr)
		{
			close_windows_now();
			break;
		}
	}

	/*
	 * A closed window that late events corrected shows them after a
	 * checkpoint, and dead letters are written by one: both are visible by
	 * the time wait_caught_up() returns.
	 */
	if (checkpoint_owed())
		checkpoint_now();

	/*
	 * A new view's history (its backfill) closes its past windows before
	 * wait_caught_up() returns on the view's creation, not a round later.
	 */
	if (views_loaded)
	{
		foreach(lc, W.plans)
			if (view_state_close_due(lfirst(lc)))
			{
				close_windows_now();
				break;
			}
		foreach(lc, W.plans)
			((ViewPlan *) lfirst(lc))->state->close_whole = false;
	}

	/*
	 * After the groups it covers were published, under publish_lock; not
	 * while readers still read what was published before a rewind, which
	 * covers more.
	 */
	end = Max(end, W.ctx->reader->EndRecPtr);
	SpinLockAcquire(&W.slot->mutex);
	moved = (W.slot->published_upto != end && !state_shmem_holding());
	if (moved)
		W.slot->published_upto = end;
	/* every WAL record there was at now is read */
	W.slot->caught_up_time = now;
	SpinLockRelease(&W.slot->mutex);
	if (moved)
		ConditionVariableBroadcast(&W.slot->progress_cv);
	if (W.ctx->reader->EndRecPtr >= inserted)
		foreach(lc, W.plans)
			view_state_note_clock(lfirst(lc), now);
}

/*
 * place_streamed makes the streamed transaction just committed count in
 * the views, in a transaction of the worker's own: its partial states are
 * combined into the views' groups (decoder_place_streamed).
 */
static void
place_streamed(void)
{
	SetCurrentStatementStartTimestamp();	/* now() of what it writes */
	begin_transaction();
	PushActiveSnapshot(GetTransactionSnapshot());
	decoder_place_streamed(&W.target);
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * publish_all makes the views' changes visible to readers and refreshes the
 * counters of streamext.streams.
 */
static void
publish_all(bool all_groups)
{
	HASH_SEQ_STATUS status;
	StreamTarget *st;
	int			n = 0;
	uint64		events = 0;
	StreamStat	streams[STREAMEXT_MAX_STREAM_STATS];

	state_shmem_publish_views(W.slot, W.plans, all_groups);
	if (W.ctx != NULL)
	{
		W.published_at = W.ctx->reader->EndRecPtr;
		if (state_shmem_holding() && W.published_at >= W.readers_held_upto)
			state_shmem_go_live(W.slot);
	}
	/* the counters, like the views, stay as readers saw them meanwhile */
	if (state_shmem_holding())
		return;

	if (W.target.streams != NULL)
	{
		hash_seq_init(&status, W.target.streams);
		while ((st = hash_seq_search(&status)) != NULL)
		{
			if (n < STREAMEXT_MAX_STREAM_STATS)
			{
				streams[n].relid = st->relid;
				streams[n].events = st->events;
				n++;
			}
			events += st->events;
		}
	}
	/* only copying under the spinlock */
	SpinLockAcquire(&W.slot->mutex);
	memcpy(W.slot->streams, streams, n * sizeof(StreamStat));
	W.slot->nstreams = n;
	W.slot->events_decoded = events;
	W.slot->transactions = W.target.transactions;
	if (W.target.last_commit_end != InvalidXLogRecPtr)
	{
		W.slot->applied_lsn = W.target.last_commit_end;
		W.slot->applied_commit_time = W.target.last_commit_time;
	}
	SpinLockRelease(&W.slot->mutex);
}

/*
 * flush_subscriptions queues what the subscriptions found in the WAL decoded
 * so far, in a transaction of its own whose commit notifies the listeners.
 * It does not move the worker's origin: the views' durable position is the
 * checkpoint's.
 */
static void
flush_subscriptions(void)
{
	XLogRecPtr	upto = W.ctx->reader->EndRecPtr;

	if (W.subs == NIL)
		return;
	SetCurrentStatementStartTimestamp();	/* now() of what it writes */
	begin_transaction();
	subscriptions_collect(W.subs, upto);
	if (subscriptions_have_pending(W.subs))
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		replorigin_session_origin_lsn = InvalidXLogRecPtr;
		subscriptions_write(W.subs);
		PopActiveSnapshot();
	}
	CommitTransactionCommand();
}

/*
 * checkpoint_now persists the views at the current read position and then
 * lets the slot release the WAL before it.  With nothing changed, only the
 * slot moves on; corrections of closed windows or dead letters waiting are
 * a change, whatever made them (moving the slot past them unwritten would
 * lose them for good).  Subscriptions are written in the same transaction:
 * those of views get the windows it closes.
 */
static void
checkpoint_now(void)
{
	XLogRecPtr	lsn = W.ctx->reader->EndRecPtr;
	TimestampTz now;

	if (W.target.changed || checkpoint_owed())
	{
		elog(DEBUG1, "streamext checkpoint");
		SetCurrentStatementStartTimestamp();
		begin_transaction();
		PushActiveSnapshot(GetTransactionSnapshot());
		subscriptions_collect(W.subs, lsn);
		checkpoint_write(W.slot, W.plans, lsn, W.target.last_commit_time,
						 subscriptions_emit_row);
		subscriptions_write(W.subs);
		PopActiveSnapshot();

		/*
		 * Before the commit: what the checkpoint changed in memory is
		 * published marked with its transaction (sessions it made and
		 * groups it retired), so readers see it exactly when they see the
		 * rows it wrote.
		 */
		publish_all(false);
		CommitTransactionCommand();
		W.target.changed = false;
		W.target.applied_upto = lsn;
		now = GetCurrentTimestamp();
		SpinLockAcquire(&W.slot->mutex);
		W.slot->checkpoint_lsn = lsn;
		W.slot->checkpoint_time = now;
		SpinLockRelease(&W.slot->mutex);
		decoder_forget_set_aside(&W.target, lsn);
		decoder_set_streaming(W.ctx, &W.target);
		if (W.target.streams != NULL)
		{
			HASH_SEQ_STATUS status;
			StreamTarget *st;

			hash_seq_init(&status, W.target.streams);
			while ((st = hash_seq_search(&status)) != NULL)
				st->events_checkpointed = st->events;
		}
	}
	if (lsn > MyReplicationSlot->data.confirmed_flush)
		LogicalConfirmReceivedLocation(lsn);
	decoder_forget_cut_streams(W.ctx, &W.target);
	W.last_checkpoint = GetCurrentTimestamp();
	/* it closed what was due; its length says nothing of closing's */
	W.last_close = W.last_checkpoint;
	W.close_backlog = false;
}

/*
 * check_extension leaves for good when the extension was dropped (DROP
 * EXTENSION tells the worker; a drop by other means is found within
 * EXTENSION_CHECK_MS).
 */
static void
check_extension(void)
{
	/* cleared before the look: a drop committed after it asks again */
	LWLockAcquire(&StreamextState->lock, LW_EXCLUSIVE);
	W.slot->recheck_extension = false;
	LWLockRelease(&StreamextState->lock);
	W.last_extension_check = GetCurrentTimestamp();
	begin_transaction();
	CommitTransactionCommand();
}

/*
 * close_due_windows closes the windows whose time has come at once, rather
 * than at the next periodic checkpoint: their final rows reach subscribers
 * as soon as the watermark (moved by events or by the clock) passes their
 * end.  It also finds when the clock alone will make windows due next.
 */
static void
close_due_windows(void)
{
	ListCell   *lc;
	bool		due = false;

	/*
	 * Closing takes at most half the worker's time: its cost is mostly the
	 * rows it writes, which wait for it; the rest is a commit per round.  A
	 * round cut short by its budget goes on after a round of decoding.
	 */
	TimestampTz next_allowed = W.close_backlog ? W.last_close :
		W.last_close + Max(CLOSE_MIN_INTERVAL_MS * INT64CONST(1000), W.close_usecs);

	W.wake_at = DT_NOEND;
	foreach(lc, W.plans)
		if (view_state_close_due(lfirst(lc)) || view_source_behind(lfirst(lc), W.plans))
			due = true;
	if (due && GetCurrentTimestamp() < next_allowed)
	{
		/* windows ending all the time (sessions) must not close per event */
		W.wake_at = next_allowed;
		return;
	}
	if (due)
		close_windows_now();
	else
		W.close_backlog = false;	/* views reloaded, say: nothing left */
	foreach(lc, W.plans)
		W.wake_at = Min(W.wake_at, view_state_wake_at(lfirst(lc)));
}

/*
 * checkpoint_due says whether the periodic checkpoint is due.  Rounds of
 * closing still to do hold it off for a while: a checkpoint closes every
 * window due at once, holding decoding off as long, or writes the open
 * states of windows about to close.
 */
static bool
checkpoint_due(void)
{
	TimestampTz now = GetCurrentTimestamp();

	if (!TimestampDifferenceExceeds(W.last_checkpoint, now, streamext_checkpoint_interval_ms))
		return false;
	return !W.close_backlog ||
		TimestampDifferenceExceeds(W.last_checkpoint, now,
								   streamext_checkpoint_interval_ms + CLOSE_BACKLOG_DEFER_MS);
}

/*
 * close_windows_now closes the windows the watermark has passed, in a
 * short transaction that writes their rows and subscribers' entries and
 * notifies, without the open states: it costs what closes, not what is
 * open.  A checkpoint does it when that cannot be (checkpoint.c).  Each
 * view closes about CLOSE_ROUND_GROUPS groups, the rest in the next rounds.
 */
static void
close_windows_now(void)
{
	XLogRecPtr	lsn = W.ctx->reader->EndRecPtr;
	TimestampTz started = GetCurrentTimestamp();
	bool		closed;
	bool		more = false;

	report_step("closing windows");
	SetCurrentStatementStartTimestamp();
	begin_transaction();
	PushActiveSnapshot(GetTransactionSnapshot());
	subscriptions_collect(W.subs, lsn);
	closed = checkpoint_close_windows(W.slot, W.plans, lsn, subscriptions_emit_row,
									  CLOSE_ROUND_GROUPS, &more);
	if (closed)
		subscriptions_write(W.subs);
	PopActiveSnapshot();
	if (!closed)
	{
		CommitTransactionCommand();
		W.target.changed = true;
		checkpoint_now();
		return;
	}
	/* as a checkpoint does: readers see groups leave with the rows */
	publish_all(false);
	CommitTransactionCommand();
	W.last_close = GetCurrentTimestamp();
	W.close_usecs = W.last_close - started;
	W.close_backlog = more;
}

/*
 * decoded_upto is where the worker's views are consistent: where decoding
 * is, or where it starts (the checkpoint's position).
 */
static XLogRecPtr
decoded_upto(void)
{
	return W.ctx != NULL ? W.ctx->reader->EndRecPtr : W.target.applied_upto;
}

/*
 * closed_ahead_stop is end, or the first position before it at which
 * decoding again must stop so that windows closed there before a restart
 * close again, silently, before the commits after it (checkpoint.c).
 */
static XLogRecPtr
closed_ahead_stop(XLogRecPtr end)
{
	ListCell   *lc;

	foreach(lc, W.plans)
	{
		XLogRecPtr	at = ((ViewPlan *) lfirst(lc))->state->closed_ahead_lsn;

		if (!XLogRecPtrIsInvalid(at) && at >= W.ctx->reader->EndRecPtr)
			end = Min(end, at);
	}
	return end;
}

/*
 * ms_until is how long to sleep until t, at least a little: a time that has
 * passed with nothing due (the WAL not flushed yet) must not spin.
 */
static long
ms_until(TimestampTz t)
{
	long		secs;
	int			usecs;

	if (TIMESTAMP_NOT_FINITE(t))
		return LONG_MAX;
	TimestampDifference(GetCurrentTimestamp(), t, &secs, &usecs);
	return Max(secs * 1000 + usecs / 1000 + 1, 10);
}

/*
 * begin_transaction starts a transaction of the worker's own and holds off
 * DROP EXTENSION until it ends.  A drop committed half-way through a
 * checkpoint would make the worker fail on its missing tables (and the
 * launcher restart it) instead of leaving for good.
 */
static void
begin_transaction(void)
{
	StartTransactionCommand();
	if (!catalog_lock_extension())
	{
		AbortCurrentTransaction();
		LWLockAcquire(&StreamextState->lock, LW_EXCLUSIVE);
		W.slot->absent = true;
		LWLockRelease(&StreamextState->lock);
		leave_for_good(true);
	}
}

/*
 * load_view compiles a view and restores its state.  A view that cannot be
 * loaded (its stream was dropped with CASCADE, say) is reported and skipped,
 * so that one broken definition does not stop the other views.
 */
static ViewPlan *
load_view(ViewCatalogRow *row)
{
	LoadedView	lv = {row, NULL, false};
	UserCodeFailure failure;
	ErrorData  *edata;
	bool		loaded;

	loaded = usercode_isolated_untimed(InvalidOid, USERCODE_READ_ONLY, load_one, &lv, &failure);
	if (!loaded && failure.error->sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE)
	{
		/*
		 * Its owner lost EXECUTE on a function it calls: its events are set
		 * aside until EXECUTE is granted again, as for a view loaded before
		 * the REVOKE, rather than not seen at all.
		 */
		ereport(LOG,
				(errmsg("streamext loads continuous view \"%s\" whose owner may not run it: %s",
						row->name, failure.error->message),
				 errdetail("Its events are set aside as dead letters until the privilege is granted again.")));
		if (lv.plan != NULL)
			view_plan_free(lv.plan);
		lv.plan = NULL;
		lv.unchecked = true;
		loaded = usercode_isolated_untimed(InvalidOid, USERCODE_READ_ONLY, load_one, &lv, &failure);
	}
	if (loaded)
	{
		if (lv.plan->source_id != 0 && lv.plan->state->computed_apart)
			recompute_view_on_view(&lv);
		return lv.plan;
	}
	edata = failure.error;
	if (lv.plan != NULL)
		view_plan_free(lv.plan);
	ereport(WARNING,
			(errcode(edata->sqlerrcode),
			 errmsg("streamext cannot maintain continuous view \"%s\": %s",
					row->name, edata->message),
			 errhint("Drop it with streamext.drop_view('%s').", row->name)));
	return NULL;
}

/*
 * recompute_view_on_view computes a view on a view again from the rows the
 * view it reads has now, when a backend computed it last (create_view,
 * rebuild_view, replace_view, adopt_view): the worker may have corrected
 * rows of that view in a checkpoint that committed after the backend read
 * them and before the worker loaded this view, which therefore did not
 * compute those windows again (view_source.c).  Its windows close here up
 * to where they were closed (unsent, as then); those after close as the
 * worker goes on, and are sent.  A view that cannot be computed keeps the
 * state it was loaded with.
 */
static void
recompute_view_on_view(LoadedView *lv)
{
	UserCodeFailure failure;

	if (usercode_isolated_untimed(InvalidOid, USERCODE_MAY_WRITE, recompute_loaded, lv,
								  &failure))
		return;
	ereport(WARNING,
			(errcode(failure.error->sqlerrcode),
			 errmsg("streamext could not compute continuous view \"%s\" again: %s",
					lv->row->name, failure.error->message),
			 errdetail("It keeps the state it was computed with, which may miss corrections of the view it reads."),
			 errhint("Fix the cause, then call streamext.rebuild_view('%s').", lv->row->name)));
	FreeErrorData(failure.error);
}

/*
 * recompute_loaded does the work of recompute_view_on_view, for
 * usercode_isolated: the plan it leaves in lv is the one computed.
 */
static void
recompute_loaded(void *arg)
{
	LoadedView *lv = arg;
	TimestampTz closed_upto = lv->plan->state->closed_upto;
	ViewPlan   *plan;

	checkpoint_clear_view(lv->row->id, lv->row->closed_relid);
	plan = view_plan_compute(lv->row, W.cxt, GetActiveSnapshot());
	checkpoint_write_computed(plan, decoded_upto(), closed_upto);
	view_plan_free(lv->plan);
	lv->plan = plan;
}

/*
 * load_one compiles a view and restores its state, for usercode_isolated.
 */
static void
load_one(void *arg)
{
	LoadedView *lv = arg;

	lv->plan = lv->unchecked ? view_plan_build_unchecked(lv->row, W.cxt) :
		view_plan_build(lv->row, W.cxt);
	view_state_create(lv->plan);
	checkpoint_load_view(lv->plan, decoded_upto());
}

/*
 * apply_pending gives the views and subscriptions just created the events of
 * the transaction that created them, which create_view's backfill leaves to
 * the worker.  Those created by later transactions started after it and get
 * none.
 */
static void
apply_pending(List *new_plans, List *new_subs)
{
	ListCell   *lc;
	ListCell   *lc2;
	List	   *plans;
	List	   *subs;

	if (W.target.pending_tables != NIL)
	{
		/* the tables as the transaction left them, before its events */
		begin_transaction();
		PushActiveSnapshot(GetTransactionSnapshot());
		decoder_apply_pending_tables(&W.target, new_plans);
		PopActiveSnapshot();
		CommitTransactionCommand();
		W.target.pending_tables = NIL;
	}
	if (W.target.pending == NIL)
	{
		MemoryContextReset(W.target.pending_cxt);
		list_free(new_plans);
		list_free(new_subs);
		return;
	}
	/* what decoding does for a transaction's changes, done here after it */
	begin_transaction();
	PushActiveSnapshot(GetTransactionSnapshot());
	foreach(lc, W.target.pending)
	{
		PendingInsert *pi = lfirst(lc);
		StreamTarget *st = hash_search(W.target.streams, &pi->relid, HASH_FIND, NULL);

		if (st == NULL)
			continue;
		ExecStoreHeapTuple(pi->tuple, st->slot, false);
		plans = NIL;
		subs = NIL;
		foreach(lc2, new_plans)
			if (((ViewPlan *) lfirst(lc2))->stream_relid == pi->relid)
				plans = lappend(plans, lfirst(lc2));
		foreach(lc2, new_subs)
			if (((SubscriptionPlan *) lfirst(lc2))->source_relid == pi->relid)
				subs = lappend(subs, lfirst(lc2));
		decoder_apply_event(&W.target, plans, subs, st->slot, pi->final_lsn, pi->end_lsn,
							pi->event_no, pi->commit_time);
		list_free(plans);
		list_free(subs);
		ExecClearTuple(st->slot);
		W.target.changed = true;
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	W.target.pending = NIL;
	MemoryContextReset(W.target.pending_cxt);
	list_free(new_plans);
	list_free(new_subs);
}

/*
 * stream_target finds or adds the decoding target of a stream.
 */
static StreamTarget *
stream_target(Oid relid)
{
	bool		found;
	StreamTarget *st = hash_search(W.target.streams, &relid, HASH_ENTER, &found);

	if (!found)
	{
		/* the entry may reuse the memory of a stream forgotten before */
		st->plans = NIL;
		st->joining_plans = NIL;
		st->plain_plans = NIL;
		st->subs = NIL;
		st->events = 0;
		st->events_checkpointed = 0;
		st->slot = NULL;
	}
	return st;
}

/*
 * sort_rows_by_depth returns catalog rows of views in the order
 * plan_depth_cmp gives plans: views on streams first, then views on those,
 * and so on.
 */
static List *
sort_rows_by_depth(List *rows)
{
	List	   *sorted = NIL;
	List	   *placed = NIL;	/* view relations of the rows sorted */
	List	   *pending = list_copy(rows);
	bool		moved = true;

	/* a level at a time: those reading a stream, then those reading those */
	while (pending != NIL && moved)
	{
		List	   *level = NIL;
		ListCell   *lc;

		foreach(lc, pending)
		{
			ViewCatalogRow *row = lfirst(lc);
			AttrNumber	time_attno;

			if (catalog_is_stream(row->stream_relid, &time_attno) ||
				list_member_oid(placed, row->stream_relid))
			{
				level = lappend(level, row);
				pending = foreach_delete_current(pending, lc);
			}
		}
		foreach(lc, level)
			placed = lappend_oid(placed, ((ViewCatalogRow *) lfirst(lc))->view_relid);
		sorted = list_concat(sorted, level);
		moved = (level != NIL);
	}
	/* rows reading nothing known (restored, say) keep their place at the end */
	return list_concat(sorted, pending);
}

/*
 * plan_depth_cmp orders views on streams first, then views on those, and
 * so on: in a checkpoint, a view on a view sees the rows the view it reads
 * closed and corrected in the same transaction.
 */
static int
plan_depth_cmp(const ListCell *a, const ListCell *b)
{
	const ViewPlan *x = lfirst(a);
	const ViewPlan *y = lfirst(b);

	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return x->id < y->id ? -1 : (x->id > y->id ? 1 : 0);
}

/*
 * reload_views brings the worker's views in line with the catalog: new
 * views are loaded from their last checkpoint or backfill, dropped ones are
 * forgotten.  Leaves for good when the extension was dropped.  Returns the
 * views it loaded, which the caller publishes.
 */
static List *
reload_views(void)
{
	List	   *new_plans = NIL;
	List	   *gone_views = NIL;
	List	   *gone_subs = NIL;
	List	   *rows;
	ListCell   *lc;
	ListCell   *lc2;
	HASHCTL		hctl;
	MemoryContext old;

	begin_transaction();
	PushActiveSnapshot(GetTransactionSnapshot());
	W.target.view_catalog_relid = catalog_view_table_oid();
	W.target.sub_catalog_relid = catalog_subscription_table_oid();
	W.target.stream_catalog_relid = catalog_stream_table_oid();
	rows = catalog_load_views(CurrentMemoryContext);

	/* forget dropped views */
	foreach(lc, W.plans)
	{
		ViewPlan   *plan = lfirst(lc);
		bool		found = false;
		bool		rebuilt = false;

		/* a view rebuild_view recomputed is loaded again, too */
		foreach(lc2, rows)
			if (((ViewCatalogRow *) lfirst(lc2))->id == plan->id)
			{
				if (((ViewCatalogRow *) lfirst(lc2))->start_lsn != plan->start_lsn)
				{
					rebuilt = true;
					continue;
				}
				found = true;
				/* set_view_retention, set_stream_idle_timeout */
				plan->retention_usec = ((ViewCatalogRow *) lfirst(lc2))->retention_usec;
				plan->idle_timeout_usec = catalog_stream_idle_timeout(plan->stream_relid);
			}
		if (!found)
		{
			if (!rebuilt)
				gone_views = lappend_int(gone_views, plan->id);
			state_shmem_drop_view(W.slot, plan->id);
			view_plan_free(plan);
			W.plans = foreach_delete_current(W.plans, lc);
		}
	}

	/* load new ones */
	foreach(lc2, rows)
	{
		ViewCatalogRow *row = lfirst(lc2);
		bool		found = false;
		ViewPlan   *plan;

		foreach(lc, W.plans)
			if (((ViewPlan *) lfirst(lc))->id == row->id)
				found = true;
		/* restored by pg_restore, its query not analysed here yet: adopt_view */
		if (found || row->restored)
			continue;
		plan = load_view(row);
		if (plan == NULL)
			continue;
		/* both lists outlive this transaction */
		old = MemoryContextSwitchTo(W.cxt);
		W.plans = lappend(W.plans, plan);
		new_plans = lappend(new_plans, plan);
		MemoryContextSwitchTo(old);
	}

	/* a view on a view after the view it reads: it takes what that closed */
	list_sort(W.plans, plan_depth_cmp);
	foreach(lc, W.plans)
		((ViewPlan *) lfirst(lc))->state->read_by_views = false;
	foreach(lc, W.plans)
	{
		ViewPlan   *upper = lfirst(lc);

		foreach(lc2, W.plans)
			if (upper->source_id == ((ViewPlan *) lfirst(lc2))->id)
				((ViewPlan *) lfirst(lc2))->state->read_by_views = true;
	}

	/* subscriptions, whose entries were written before the reload */
	{
		List	   *old_subs = W.subs;

		W.subs = subscriptions_load(W.plans, W.cxt);
		W.new_subs = NIL;
		foreach(lc, W.subs)
		{
			SubscriptionPlan *sub = lfirst(lc);
			bool		known = false;

			foreach(lc2, old_subs)
				if (((SubscriptionPlan *) lfirst(lc2))->id == sub->id)
					known = true;
			if (!known)
			{
				old = MemoryContextSwitchTo(W.cxt);
				W.new_subs = lappend(W.new_subs, sub);
				MemoryContextSwitchTo(old);
			}
		}
		foreach(lc2, old_subs)
		{
			int32		id = ((SubscriptionPlan *) lfirst(lc2))->id;
			bool		kept = false;

			foreach(lc, W.subs)
				if (((SubscriptionPlan *) lfirst(lc))->id == id)
					kept = true;
			if (!kept)
				gone_subs = lappend_int(gone_subs, id);
		}
		subscriptions_free(old_subs);
	}
	/* what this worker wrote for them as they were dropped */
	if (gone_views != NIL || gone_subs != NIL)
		catalog_delete_leftovers(gone_views, gone_subs);

	/* streams -> views; a stream's event count survives the reload */
	W.target.last_stream = NULL;
	if (W.target.streams == NULL)
	{
		memset(&hctl, 0, sizeof(hctl));
		hctl.keysize = sizeof(Oid);
		hctl.entrysize = sizeof(StreamTarget);
		hctl.hcxt = W.cxt;
		W.target.streams = hash_create("streamext streams", 16, &hctl,
									   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	else
	{
		HASH_SEQ_STATUS status;
		StreamTarget *st;

		hash_seq_init(&status, W.target.streams);
		while ((st = hash_seq_search(&status)) != NULL)
		{
			list_free(st->plans);
			list_free(st->joining_plans);
			list_free(st->plain_plans);
			list_free(st->subs);
			st->plans = NIL;
			st->joining_plans = NIL;
			st->plain_plans = NIL;
			st->subs = NIL;
			st->slot = NULL;	/* its plan may be gone */
		}
	}
	foreach(lc, W.plans)
	{
		ViewPlan   *plan = lfirst(lc);
		StreamTarget *st = stream_target(plan->stream_relid);

		if (st->slot == NULL)
			st->slot = view_plan_event_slot(plan);
		old = MemoryContextSwitchTo(W.cxt);
		st->plans = lappend(st->plans, plan);
		/* events of views that join wait for their commit (decoder.c) */
		if (plan->joined.nlookups > 0)
			st->joining_plans = lappend(st->joining_plans, plan);
		else
			st->plain_plans = lappend(st->plain_plans, plan);
		MemoryContextSwitchTo(old);
	}
	foreach(lc, W.subs)
	{
		SubscriptionPlan *sub = lfirst(lc);
		StreamTarget *st;

		if (sub->view_id != 0)
			continue;
		st = stream_target(sub->source_relid);
		if (st->slot == NULL)
			st->slot = subscription_event_slot(sub);
		if (st->slot == NULL)
			continue;
		old = MemoryContextSwitchTo(W.cxt);
		st->subs = lappend(st->subs, sub);
		MemoryContextSwitchTo(old);
	}
	build_dimensions();
	{
		/* streams left without views or subscriptions are forgotten */
		HASH_SEQ_STATUS status;
		StreamTarget *st;

		hash_seq_init(&status, W.target.streams);
		while ((st = hash_seq_search(&status)) != NULL)
			if (st->plans == NIL && st->subs == NIL)
				hash_search(W.target.streams, &st->relid, HASH_REMOVE, NULL);
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	return new_plans;
}

/*
 * build_dimensions lists, for the decoder, the tables the worker's views
 * join and which lookup of which view follows each.
 */
static void
build_dimensions(void)
{
	HASHCTL		hctl;
	ListCell   *lc;
	MemoryContext old;

	if (W.dimensions_cxt == NULL)
		W.dimensions_cxt = AllocSetContextCreate(W.cxt, "streamext joined tables",
												 ALLOCSET_SMALL_SIZES);
	MemoryContextReset(W.dimensions_cxt);
	W.target.dimensions = NULL;
	old = MemoryContextSwitchTo(W.dimensions_cxt);
	foreach(lc, W.plans)
	{
		ViewPlan   *plan = lfirst(lc);
		int			d;

		for (d = 0; d < plan->joined.nlookups; d++)
		{
			DimensionTarget *dt;
			DimensionUse *use = palloc(sizeof(DimensionUse));
			bool		found;

			if (W.target.dimensions == NULL)
			{
				memset(&hctl, 0, sizeof(hctl));
				hctl.keysize = sizeof(Oid);
				hctl.entrysize = sizeof(DimensionTarget);
				hctl.hcxt = W.dimensions_cxt;
				W.target.dimensions = hash_create("streamext joined tables", 16, &hctl,
												  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
			}
			dt = hash_search(W.target.dimensions, &plan->joined.lookups[d].relid, HASH_ENTER, &found);
			if (!found)
				dt->uses = NIL;
			use->plan = plan;
			use->which = d;
			dt->uses = lappend(dt->uses, use);
		}
	}
	MemoryContextSwitchTo(old);
}

/*
 * ensure_slot creates the database's slot if it does not exist, and with
 * the slot's initial snapshot recomputes every view defined before it.
 */
static void
ensure_slot(void)
{
	LogicalDecodingContext *ctx;
	Snapshot	snap;
	XLogRecPtr	consistent;
	List	   *rows;
	int			nviews = 0;		/* counted here: rows goes with the
								 * transaction */
	ListCell   *lc;
	MemoryContext cxt;
	ReplicationSlot *existing = SearchNamedReplicationSlot(W.slot_name, true);
	XLogRecPtr	lost_at;
	char		last_error[sizeof(W.slot->last_error)];
	TimestampTz now;

	if (existing != NULL && existing->data.invalidated_at == InvalidXLogRecPtr)
		return;
	if (existing != NULL)
	{
		/* max_slot_wal_keep_size removed WAL it had not decoded yet */
		lost_at = existing->data.invalidated_at;
		ereport(WARNING,
				(errmsg("streamext replication slot \"%s\" was invalidated at %X/%X: recomputing every view from the stream tables",
						W.slot_name, LSN_FORMAT_ARGS(lost_at)),
				 errdetail("Subscriptions miss the events committed between their last delivered position and the new slot."),
				 errhint("Raise max_slot_wal_keep_size, or streamext.max_lag_warning to be warned earlier.")));
		/* said before the slot goes: this worker may be stopped meanwhile */
		snprintf(last_error, sizeof(last_error),
				 "replication slot invalidated at %X/%X; views recomputed from the stream tables, subscriptions missed the commits until the new slot",
				 LSN_FORMAT_ARGS(lost_at));
		now = GetCurrentTimestamp();
		SpinLockAcquire(&W.slot->mutex);
		strlcpy(W.slot->last_error, last_error, sizeof(W.slot->last_error));
		W.slot->last_error_time = now;
		SpinLockRelease(&W.slot->mutex);
		ReplicationSlotDrop(W.slot_name, true);
	}

	ereport(LOG,
			(errmsg("streamext worker creating replication slot \"%s\"", W.slot_name)));
	CheckLogicalDecodingRequirements();
	ReplicationSlotCreate(W.slot_name, true, RS_EPHEMERAL, false);
	/* create_subscription waits for the slot to exist (wait_for_decoding) */
	ConditionVariableBroadcast(&W.slot->progress_cv);

	StartTransactionCommand();
	XactIsoLevel = XACT_REPEATABLE_READ;
	/* the decoding context outlives this transaction */
	MemoryContextSwitchTo(TopMemoryContext);
	ctx = CreateInitDecodingContext("streamext", NIL, true, InvalidXLogRecPtr,
									XL_ROUTINE(.page_read = decoder_read_wal_page,
											   .segment_open = wal_segment_open,
											   .segment_close = wal_segment_close),
									prepare_write, do_write, NULL);
	DecodingContextFindStartpoint(ctx);
	snap = SnapBuildInitialSnapshot(ctx->snapshot_builder);
	MemoryContextSwitchTo(TopTransactionContext);
	RestoreTransactionSnapshot(snap, MyProc);
	consistent = MyReplicationSlot->data.confirmed_flush;

	PushActiveSnapshot(GetTransactionSnapshot());
	cxt = AllocSetContextCreate(CurrentMemoryContext, "streamext recompute",
								ALLOCSET_DEFAULT_SIZES);
	rows = catalog_load_views_snapshot(CurrentMemoryContext, GetActiveSnapshot());
	/* a view on a view after the view it reads, which it computes from */
	rows = sort_rows_by_depth(rows);
	foreach(lc, rows)
	{
		ViewCatalogRow *row = lfirst(lc);
		RecomputedView rv = {row, cxt, consistent};
		UserCodeFailure failure;

		if (row->restored)
			continue;			/* adopt_view computes it */
		/* a view that cannot be computed must not keep the slot from being made */
		if (usercode_isolated_untimed(InvalidOid, USERCODE_MAY_WRITE, recompute_one, &rv, &failure))
			nviews++;
		else
		{
			ereport(WARNING,
					(errcode(failure.error->sqlerrcode),
					 errmsg("streamext could not recompute continuous view \"%s\": %s",
							row->name, failure.error->message),
					 errdetail("It keeps the state it had, which misses the events committed while the slot was missing."),
					 errhint("Fix the cause, then call streamext.rebuild_view('%s').", row->name)));
			FreeErrorData(failure.error);
		}
	}
	PopActiveSnapshot();
	replorigin_session_origin_lsn = consistent;
	replorigin_session_origin_timestamp = GetCurrentTimestamp();
	W.recompute_xid = GetTopTransactionIdIfAny();
	CommitTransactionCommand();

	FreeDecodingContext(ctx);
	ReplicationSlotPersist();
	ReplicationSlotRelease();
	ereport(LOG,
			(errmsg("streamext worker recomputed %d view(s) at %X/%X",
					nviews, LSN_FORMAT_ARGS(consistent))));
}

/*
 * recompute_one computes a view from the stream tables with the new slot's
 * snapshot, for usercode_isolated in ensure_slot.
 */
static void
recompute_one(void *arg)
{
	RecomputedView *rv = arg;
	ViewPlan   *plan;
	ViewProgressRow progress;
	TimestampTz floor = DT_NOBEGIN;
	AttrNumber	time_attno;

	/* as rebuild_view: what was closed before (by the clock, too) stays closed */
	if (catalog_is_stream(rv->row->stream_relid, &time_attno) &&
		catalog_read_view_progress(rv->row->id, NULL, &progress))
		floor = progress.closed_upto;
	checkpoint_clear_view(rv->row->id, rv->row->closed_relid);
	plan = view_plan_compute(rv->row, rv->cxt, GetActiveSnapshot());
	plan->state->clock_watermark = Max(plan->state->clock_watermark, floor);
	/* as rebuild_view: windows the watermark passed close here, unsent */
	checkpoint_write(NULL, list_make1(plan), rv->consistent, 0, NULL);
	view_plan_free(plan);
}

/*
 * leave_for_good ends the worker without a restart: the extension is gone
 * (its slot and origin are dropped, so nothing holds WAL) or the database
 * is being dropped (which drops the slot itself).
 */
static void
leave_for_good(bool drop_slot)
{
	if (W.ctx != NULL)
	{
		FreeDecodingContext(W.ctx);
		W.ctx = NULL;
	}
	if (MyReplicationSlot != NULL)
		ReplicationSlotRelease();
	state_shmem_release(W.slot);
	if (drop_slot)
	{
		if (replorigin_session_origin != InvalidRepOriginId)
		{
			replorigin_session_reset();
			replorigin_session_origin = InvalidRepOriginId;
		}
		if (SearchNamedReplicationSlot(W.slot_name, true) != NULL)
			ReplicationSlotDrop(W.slot_name, true);
		StartTransactionCommand();
		replorigin_drop_by_name(W.slot_name, true, false);
		CommitTransactionCommand();
		ereport(LOG,
				(errmsg("streamext worker for database %u left: the extension is not installed",
						MyDatabaseId)));
	}
	proc_exit(0);
}
