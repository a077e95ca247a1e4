/*-------------------------------------------------------------------------
 *
 * streamext.h
 *	  Declarations shared by the files of the streamext extension: GUCs,
 *	  the per-database shared memory slot, and the compiled form of a
 *	  continuous view that the worker, create_view and readers evaluate.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_H
#define STREAMEXT_H

#include "access/xlogdefs.h"
#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/execnodes.h"
#include "storage/latch.h"
#include "storage/lockdefs.h"
#include "storage/lwlock.h"
#include "storage/dsm.h"
#include "utils/dsa.h"
#include "lib/dshash.h"

#include "usercode.h"

#define STREAMEXT_MAX_STREAM_STATS 64

/* dsa_handle is a dsm_handle in PostgreSQL 15 */
#define DSA_HANDLE_INVALID ((dsa_handle) DSM_HANDLE_INVALID)

/* GUCs (streamext.c) */
extern int	streamext_max_databases;
extern int	streamext_checkpoint_interval_ms;
extern int	streamext_max_memory_mb;
extern int	streamext_max_lag_warning_kb;
extern int	streamext_max_future_s;
extern int	streamext_usercode_timeout_ms;
extern int	streamext_maintenance_interval_ms;

/* Counters of one stream, as published by its database's worker. */
typedef struct StreamStat
{
	Oid			relid;
	uint64		events;
} StreamStat;

/*
 * StreamextDbSlot is what one database's worker shares with the launcher
 * and with every backend of that database.
 */
typedef struct StreamextDbSlot
{
	Oid			dboid;			/* InvalidOid: slot free */
	pid_t		worker_pid;		/* 0 when no worker runs */
	Latch	   *worker_latch;
	bool		absent;			/* worker found no extension here */
	bool		wanted;			/* a backend asked for a worker */
	bool		stop_requested; /* DROP DATABASE asks the worker to leave */
	TimestampTz stop_requested_at;
	bool		recheck_extension;	/* DROP EXTENSION may have removed it */
	dsa_handle	area;			/* open-window states, DSA_HANDLE_INVALID if none */
	uint64		area_generation;
	dshash_table_handle views;	/* view id -> SharedView */
	XLogRecPtr	published_upto; /* WAL decoded and visible to readers */
	bool		views_unpublished;	/* max_memory left a view out of the area;
									 * publish_lock */
	XLogRecPtr	applied_lsn;	/* end of the last applied stream commit */
	TimestampTz applied_commit_time;
	XLogRecPtr	checkpoint_lsn; /* durable position */
	TimestampTz checkpoint_time;
	uint64		events_decoded;
	uint64		transactions;
	int			restarts;		/* workers that ended in an error */
	char		last_error[256];
	TimestampTz last_error_time;
	uint64		replay_requested;	/* replay_dead_letters calls, numbered */
	uint64		replay_done;	/* the last one the worker answered */
	int32		replay_view_id; /* what it replays: a view ... */
	int32		replay_sub_id;	/* ... or a subscription */
	int64		replay_ok;		/* its answer: dead letters applied ... */
	int64		replay_failed;	/* ... and still failing */
	int			nstreams;
	StreamStat	streams[STREAMEXT_MAX_STREAM_STATS];
	LWLock		publish_lock;	/* readers shared, publishing worker exclusive */
} StreamextDbSlot;

typedef struct StreamextShared
{
	LWLock		lock;			/* protects slot assignment */
	pid_t		launcher_pid;
	Latch	   *launcher_latch;
	int			dsa_tranche;
	int			max_databases;
	StreamextDbSlot slots[FLEXIBLE_ARRAY_MEMBER];
} StreamextShared;

/* shmem.c */
extern StreamextShared *StreamextState;
extern void streamext_shmem_request(void);
extern void streamext_shmem_startup(void);
extern StreamextDbSlot *streamext_find_db_slot(Oid dboid, bool create);
extern void streamext_wake_launcher(void);
extern void streamext_wake_worker(Oid dboid);
extern void streamext_request_worker(Oid dboid);

/* launcher.c / worker.c */
extern PGDLLEXPORT void streamext_launcher_main(Datum main_arg);
extern PGDLLEXPORT void streamext_worker_main(Datum main_arg);
extern void streamext_register_launcher(void);

/* window.c */
typedef enum WindowKind
{
	WINDOW_NONE,				/* one running aggregate over the whole stream */
	WINDOW_TUMBLING,
	WINDOW_HOPPING,
	WINDOW_SLIDING,
	WINDOW_SESSION,
	WINDOW_CUMULATE
} WindowKind;

typedef struct WindowSpec
{
	WindowKind	kind;
	int64		size_usec;		/* width of a window; a session's gap */
	int64		pane_usec;		/* states are kept per pane this wide */
} WindowSpec;

#define WINDOW_UNBOUNDED_START DT_NOBEGIN

extern void window_parse(const char *text, WindowSpec *spec);
extern bool window_has_columns(const WindowSpec *spec);
extern bool window_closes(const WindowSpec *spec);
extern TimestampTz window_pane_for(const WindowSpec *spec, TimestampTz t);
extern int	window_count_of_pane(const WindowSpec *spec, TimestampTz pane);
extern void window_of_pane(const WindowSpec *spec, TimestampTz pane, int i,
						   TimestampTz *start, TimestampTz *end);
extern TimestampTz window_pane_last_end(const WindowSpec *spec, TimestampTz pane);
extern TimestampTz window_pane_first_end(const WindowSpec *spec, TimestampTz pane);
extern TimestampTz window_sliding_cutoff(const WindowSpec *spec, TimestampTz watermark);
extern int64 interval_usecs(const Interval *iv);

/* agg_state.c: one aggregate of a view, ready to run */
typedef struct AggRunner
{
	Oid			aggfnoid;
	int			numargs;
	ExprState **args;			/* argument expressions over the event */
	ExprState  *filter;			/* FILTER (WHERE ...), or NULL */
	Oid			transtype;
	int16		transtyplen;
	bool		transtypbyval;
	Datum		initval;
	bool		initvalisnull;
	bool		transfn_strict;
	bool		combinefn_strict;
	bool		has_finalfn;
	int			numfinalargs;
	FmgrInfo	transfn;
	FmgrInfo	combinefn;
	FmgrInfo	serialfn;		/* valid when transtype is internal */
	FmgrInfo	deserialfn;
	FmgrInfo	finalfn;
	Oid			resulttype;
	FunctionCallInfo trans_fcinfo;
	FunctionCallInfo combine_fcinfo;
	FunctionCallInfo final_fcinfo;
	FunctionCallInfo serial_fcinfo;
	FunctionCallInfo deserial_fcinfo;
} AggRunner;

typedef struct AggValue
{
	Datum		value;
	bool		isnull;
	bool		noValue;		/* strict transfn with NULL initval, no input yet */
} AggValue;

/* one group of one window, as the worker keeps it */
typedef struct ViewGroup
{
	int64		gid;			/* unique within its view, keys shared memory */
	bool		dirty_shmem;	/* changed since last published */
	bool		dirty_disk;		/* changed since last checkpoint */
	XLogRecPtr	changed_lsn;	/* end of the last commit that changed it */
	TransactionId born_xid;		/* readers see it once this commits (sessions) */
	TimestampTz session_start;	/* session windows: first event time ... */
	TimestampTz session_last;	/* ... and last one */
	struct ViewGroup *next_session; /* the group's other open sessions */
	MinimalTuple key;			/* its key, as its window's table keeps it */
	AggValue	values[FLEXIBLE_ARRAY_MEMBER];
} ViewGroup;

/* the open groups of one window */
typedef struct WindowGroups
{
	TimestampTz start;			/* hash key */
	MemoryContext cxt;			/* transition states of this window */
	TupleHashTable groups;
	int64		ngroups;
	bool		any_dirty;
	List	   *changed;		/* groups changed since published, in cxt */
	bool		correction;		/* late events for windows already closed */
	XLogRecPtr	changed_lsn;	/* greatest changed_lsn of its groups */
} WindowGroups;

/* view_def.c: a continuous view compiled for evaluation */
typedef struct ViewPlan
{
	int32		id;
	char	   *name;
	Oid			view_relid;
	Oid			owner;			/* its expressions run with this role's rights */
	UserCodeAcl acl;			/* the functions it may execute */
	Oid			stream_relid;
	Oid			closed_relid;
	AttrNumber	time_attno;		/* InvalidAttrNumber: commit time */
	WindowSpec	window;
	int64		lateness_usec;	/* the watermark trails the greatest event time */
	int64		retention_usec; /* closed windows kept this long; 0: for ever */
	XLogRecPtr	start_lsn;		/* commits at or before this are in its backfill */
	XLogRecPtr	txn_end;		/* end of the commit whose events are applied */
	MemoryContext cxt;
	List	   *subscriptions;	/* SubscriptionPlan reading this view */

	/* per event */
	ExprState  *where;
	int			nkeys;
	ExprState **keys;
	int			naggs;
	AggRunner  *aggs;
	bool	   *agg_skip;		/* per event: FILTER rejected it */
	ExprContext *econtext;
	TupleTableSlot *keyslot;	/* group keys */
	TupleTableSlot *event_slot;	/* an event of the stream */
	TupleDesc	keydesc;
	Oid		   *key_eqfuncs;
	FmgrInfo   *key_hashfns;
	AttrNumber *key_cols;
	Oid		   *key_collations;
	AggState   *aggcontext_node;	/* fake Agg node for AggCheckCallContext */
	ExprContext *aggcontext_expr;

	/* per output row */
	TupleDesc	interdesc;		/* keys..., aggregate results... */
	TupleTableSlot *interslot;
	int			nout;
	ExprState **outputs;
	ExprState  *having;
	TupleDesc	outdesc;		/* [window_start, window_end,] outputs */

	/* the worker's open windows */
	HTAB	   *windows;		/* pane start -> WindowGroups (sessions: one) */
	HTAB	   *corrections;	/* pane start (sessions: event time) -> late
								 * events for windows already closed */
	WindowGroups *last_window;	/* the window the last event went to */
	List	   *dropped_gids;	/* sessions merged away, to leave shared memory */
	List	   *stale_open_rows;	/* StaleOpenRow: sessions moved or merged */
	int64		sessions_freed; /* closed since the session memory was compacted */
	int64		next_gid;
	TimestampTz closed_upto;	/* windows ending at or before this are closed */
	TimestampTz max_event_time; /* greatest event time, capped by max_future */
	uint64		events;
	uint64		late_events;
	uint64		dead_letters;	/* events set aside since the worker started */
	List	   *new_dead_letters;	/* DeadLetter, written at the next checkpoint */
	List	   *replayed;		/* ids of dead letters replay applied (int64 *) */
	bool		corrections_pending;	/* late events wait for a checkpoint */
	bool		mutating;		/* an event is changing states: see
								 * view_plan_apply_isolated */
	bool		shmem_full;
	dshash_table *shm_groups;	/* the worker's attachment to its groups */
	int64		shm_bytes;		/* shared memory its groups use */
	List	   *retired;		/* RetiredGroup: published groups of closed windows */
} ViewPlan;

typedef struct DeadLetter
{
	XLogRecPtr	commit_lsn;
	TimestampTz committed_at;	/* the event time of streams without one */
	int			sqlerrcode;
	char	   *message;
	char	   *event;			/* the event as JSON */
} DeadLetter;

typedef struct StaleOpenRow
{
	TimestampTz start;
	bytea	   *key;
} StaleOpenRow;

typedef struct RetiredGroup
{
	int64		gid;
	TransactionId xid;
} RetiredGroup;

typedef struct ViewCatalogRow
{
	int32		id;
	char	   *name;
	Oid			view_relid;
	Oid			stream_relid;
	Oid			closed_relid;
	char	   *query_tree;
	char	   *window_text;
	int64		lateness_usec;
	int64		retention_usec; /* 0: closed windows are kept */
	XLogRecPtr	start_lsn;
	char	   *query;			/* as the user wrote it */
	char	   *definition;		/* schema-qualified, or NULL (older rows) */
	bool		restored;		/* no persisted state: restored by pg_restore */
} ViewCatalogRow;

extern void report_in_query(const char *query_text);
extern Query *view_def_analyze(const char *query_text, Oid *stream_relid);
extern char *deparse_qualified_query(Query *query);
extern char *deparse_qualified_expr(Node *expr, Oid relid);
extern int	pin_empty_search_path(void);
extern ViewPlan *view_plan_build(const ViewCatalogRow *row, MemoryContext parent);
extern void view_plan_free(ViewPlan *plan);
extern void view_plan_apply_event(ViewPlan *plan, TupleTableSlot *event,
								  TimestampTz commit_time);

/* what became of an event applied in isolation */
typedef enum ApplyResult
{
	APPLY_DONE,					/* it counts */
	APPLY_FAILED,				/* it failed before it changed anything */
	APPLY_REWIND				/* it failed with the view's states half-changed */
} ApplyResult;

extern ApplyResult view_plan_apply_isolated(ViewPlan *plan, TupleTableSlot *event,
											TimestampTz commit_time, XLogRecPtr commit_lsn,
											UserCodeFailure *failure);
extern void view_plan_set_aside(ViewPlan *plan, TupleTableSlot *event,
								TimestampTz commit_time, XLogRecPtr commit_lsn,
								int sqlerrcode, const char *message);
extern char *view_plan_group_json(ViewPlan *plan, TimestampTz start, TimestampTz end,
								  MinimalTuple key, bool late);
extern TimestampTz view_plan_note_event_time(ViewPlan *plan, TupleTableSlot *event,
											 TimestampTz commit_time);
extern ViewGroup *view_plan_group(ViewPlan *plan, WindowGroups *wg,
								   TupleTableSlot *keyslot, bool *isnew);
extern ViewGroup *view_group_new(ViewPlan *plan, WindowGroups *wg, TupleHashEntry entry);
extern WindowGroups *view_plan_window(ViewPlan *plan, TimestampTz wstart, bool create);
extern WindowGroups *view_plan_correction(ViewPlan *plan, TimestampTz start);
extern void window_groups_init(ViewPlan *plan, WindowGroups *wg, bool correction);
extern ViewGroup *advance_group(ViewPlan *plan, WindowGroups *wg, ViewGroup *gs);
extern void view_group_changed(WindowGroups *wg, ViewGroup *gs);
extern TupleTableSlot *view_plan_event_slot(ViewPlan *plan);
extern void view_plan_drop_window(ViewPlan *plan, WindowGroups *wg);
extern bool view_plan_output(ViewPlan *plan, TimestampTz wstart, TimestampTz wend,
							 Datum *keys, bool *keynulls, AggValue *values,
							 Datum *out, bool *outnulls);
extern ViewPlan *view_plan_compute(const ViewCatalogRow *row, MemoryContext parent,
								   Snapshot snapshot);
extern TimestampTz view_plan_watermark(ViewPlan *plan);
extern TimestampTz view_plan_retained_from(ViewPlan *plan);

/* agg_state.c */
extern void agg_runner_init(ViewPlan *plan, AggRunner *agg, Aggref *aggref);
extern void agg_init_value(ViewPlan *plan, AggRunner *agg, AggValue *v,
						   MemoryContext cxt);
extern void agg_advance(ViewPlan *plan, AggRunner *agg, AggValue *v,
						MemoryContext cxt);
extern void agg_combine(ViewPlan *plan, AggRunner *agg, AggValue *v,
						Datum other, bool otherisnull, MemoryContext cxt);
extern void agg_init_values(ViewPlan *plan, AggValue *values, MemoryContext cxt);
extern void agg_combine_values(ViewPlan *plan, AggValue *into, const AggValue *from,
							   MemoryContext cxt);
extern Datum agg_finalize(ViewPlan *plan, AggRunner *agg, AggValue *v,
						  bool *isnull, MemoryContext cxt);
extern void agg_serialize_states(ViewPlan *plan, AggValue *values,
								 StringInfo buf, MemoryContext cxt);
extern void agg_deserialize_states(ViewPlan *plan, const char *data, Size len,
								   AggValue *values, MemoryContext cxt);
extern void agg_set_context(ViewPlan *plan, MemoryContext cxt);

/* group key serialisation (view_def.c) */
extern void group_key_serialize(ViewPlan *plan, TupleTableSlot *keyslot,
								StringInfo buf);
extern void group_key_deserialize(ViewPlan *plan, const char *data, Size len,
								  TupleTableSlot *keyslot);

/* catalog.c */
extern Oid	catalog_view_table_oid(void);
extern List *catalog_load_views(MemoryContext cxt);
extern List *catalog_load_views_filtered(MemoryContext cxt, int32 only_id);
extern List *catalog_load_views_snapshot(MemoryContext cxt, Snapshot snapshot);
extern XLogRecPtr catalog_view_start_lsn(int32 view_id, Snapshot snapshot);
extern Oid	catalog_relation_owner(Oid relid);
extern bool catalog_is_stream(Oid relid, AttrNumber *time_attno);
extern Oid	catalog_subscription_table_oid(void);
extern List *catalog_load_subscriptions(MemoryContext cxt);
/* what catalog_owner_enter changed, for catalog_owner_leave to restore */
typedef struct CatalogAccess
{
	Oid			saved_userid;
	int			saved_sec_context;
	int			guc_nestlevel;
} CatalogAccess;
extern void catalog_owner_enter(CatalogAccess *ca);
extern void catalog_owner_leave(CatalogAccess *ca);
extern bool streamext_extension_exists(void);
extern bool catalog_lock_extension(void);

/* state_shmem.c */
extern void state_shmem_reset(StreamextDbSlot *slot);
extern void state_shmem_release(StreamextDbSlot *slot);
extern void state_shmem_set_limit(void);
extern void state_shmem_publish_views(StreamextDbSlot *slot, List *plans,
									  bool all_groups);
extern void state_shmem_retire_window(StreamextDbSlot *slot, ViewPlan *plan,
									  WindowGroups *wg, TransactionId xid);
extern void state_shmem_gc(StreamextDbSlot *slot, List *plans);
extern void state_shmem_drop_view(StreamextDbSlot *slot, int32 view_id);
typedef struct ViewStats
{
	int64		groups;
	int64		windows;
	int64		bytes;
	int64		events;
	int64		late_events;
	int64		dead_letters;
} ViewStats;
extern bool state_shmem_get_stats(StreamextDbSlot *slot, int32 view_id, ViewStats *stats);

typedef struct SharedGroupCopy
{
	char	   *blob;
	Size		len;
} SharedGroupCopy;
extern List *state_shmem_read_view(StreamextDbSlot *slot, int32 view_id,
								   XLogRecPtr start_lsn, bool *found, bool *incomplete,
								   TimestampTz *watermark);
extern void state_shmem_retire_gid(StreamextDbSlot *slot, ViewPlan *plan, int64 gid,
								   TransactionId xid);

/* subscriptions, as the worker runs them */
typedef enum SubNotify
{
	SUB_NOTIFY_EVENT,			/* one NOTIFY per entry */
	SUB_NOTIFY_BATCH,			/* one NOTIFY per written batch */
	SUB_NOTIFY_NONE				/* poll only */
} SubNotify;

typedef struct SubEntry
{
	int64		position;
	const char *kind;			/* event, window, correction, change */
	TimestampTz committed_at;
	char	   *json;
} SubEntry;

typedef struct SubscriptionPlan
{
	int32		id;
	char	   *name;
	Oid			owner;			/* filters run with its rights */
	UserCodeAcl acl;			/* the functions its filter may execute */
	uint64		read_generation;	/* of the relations, when last checked */
	int			read_denied_code;
	char	   *read_denied;	/* why its owner may not read the source now */
	Oid			source_relid;	/* a stream, or a continuous view's relation */
	int32		view_id;		/* 0: the source is a stream */
	bool		emit_changes;	/* view sources: every update, not final rows */
	char	   *channel;
	SubNotify	notify;
	XLogRecPtr	start_lsn;		/* commits at or before this are not its */
	XLogRecPtr	delivered_lsn;	/* commits ending at or before this are queued */
	XLogRecPtr	persisted_lsn;	/* delivered_lsn as last written */
	int64		newest_position;
	struct ViewPlan *view;		/* view sources: the view's plan */
	MemoryContext cxt;
	MemoryContext pending_cxt;	/* entries and dead letters not written yet */
	ExprState  *filter;			/* NULL: every event */
	char	   *broken;			/* why the filter cannot run, or NULL */
	int			broken_code;
	ExprContext *econtext;
	TupleDesc	rowdesc;		/* view sources: the view's row, blessed */
	TupleTableSlot *rowslot;
	List	   *pending;		/* SubEntry, in position order */
	List	   *new_dead_letters;	/* DeadLetter */
	List	   *replayed;		/* ids of dead letters replay delivered (int64 *) */
} SubscriptionPlan;

typedef struct SubscriptionCatalogRow
{
	int32		id;
	char	   *name;
	Oid			owner;
	Oid			source_relid;
	int32		view_id;
	char	   *filter_tree;
	char	   *channel;
	char	   *notify;
	char	   *emit;
	XLogRecPtr	start_lsn;
	XLogRecPtr	delivered_lsn;
	int64		newest_position;
} SubscriptionCatalogRow;

/* subscription_def.c: filters, shared by create_subscription and the worker */
extern Node *subscription_filter_analyze(const char *filter, Oid source_relid);
extern ExprState *subscription_filter_compile(const char *filter_tree, Oid owner);
extern bool subscription_filter_eval(SubscriptionPlan *sub, TupleTableSlot *row);
extern void subscription_lookup(const char *name, Oid caller, int32 *id, Oid *owner,
								Oid *source_relid);
extern char *subscription_on_source(Oid relid);

/* subscription.c: the worker's side */
extern List *subscriptions_load(List *plans, MemoryContext cxt);
extern void subscriptions_free(List *subs);
extern void subscription_deliver(SubscriptionPlan *sub, TupleTableSlot *event,
								 TimestampTz commit_time, XLogRecPtr final_lsn);
extern void subscription_set_aside(SubscriptionPlan *sub, TupleTableSlot *event,
								   TimestampTz commit_time, XLogRecPtr final_lsn,
								   int sqlerrcode, const char *message);
extern void subscriptions_emit_row(ViewPlan *plan, Datum *values, bool *nulls,
								   bool correction);
extern bool subscription_replay_event(SubscriptionPlan *sub, TupleTableSlot *event,
									  TimestampTz commit_time);

/* replay.c */
extern bool replay_dead_letters_now(StreamextDbSlot *slot, List *plans, List *subs,
									HTAB *streams);
extern void subscriptions_collect(List *subs, XLogRecPtr upto);
extern bool subscriptions_have_pending(List *subs);
extern void subscriptions_write(List *subs);
extern TupleTableSlot *subscription_event_slot(SubscriptionPlan *sub);

/* checkpoint.c */
extern void checkpoint_write(StreamextDbSlot *slot, List *plans,
							 XLogRecPtr lsn, TimestampTz commit_time);
extern void checkpoint_load_view(ViewPlan *plan);
extern void checkpoint_write_backfill(ViewPlan *plan);
extern void checkpoint_clear_view(int32 view_id, Oid closed_relid);
extern void dead_letters_write(const char *owner_column, int32 id, List *letters,
							   List *replayed);
extern void state_blob_build(ViewPlan *plan, TimestampTz wstart, TimestampTz wend,
							 ViewGroup *gs, StringInfo buf);
/* a serialised group, as state_blob_build writes it */
typedef struct BlobParts
{
	TimestampTz start;
	TimestampTz end;
	const char *key;
	uint32		keylen;
	const char *states;
	Size		stateslen;
} BlobParts;
extern void state_blob_parts(const char *blob, Size len, BlobParts *parts);
extern void group_bounds(ViewPlan *plan, WindowGroups *wg, ViewGroup *gs,
						 TimestampTz *start, TimestampTz *end);
extern bytea *bytes_to_bytea(const char *data, Size len);

/* what writes the rows of closed windows in a checkpoint */
typedef struct ClosedWriter
{
	SPIPlanPtr	insert;			/* a row */
	SPIPlanPtr	take;			/* DELETE ... RETURNING of a row corrected */
	TransactionId xid;			/* the checkpoint's */
	MemoryContext cxt;			/* per row */
} ClosedWriter;
extern void closed_writer_init(ViewPlan *plan, ClosedWriter *cw);
extern void write_closed_row(ViewPlan *plan, ClosedWriter *cw, TimestampTz start,
							 TimestampTz end, MinimalTuple key, AggValue *values,
							 bool combine, bool as_correction);
extern void delete_open_row(ViewPlan *plan, TimestampTz start, bytea *key);

/* window_panes.c */
extern WindowGroups *window_combine_panes(ViewPlan *plan, TimestampTz start,
										  TimestampTz end);
extern bool window_panes_emit(ViewPlan *plan, Tuplestorestate *store, TupleDesc desc,
							  List *groups, TimestampTz closed_upto, TimestampTz cutoff);

/* window_session.c */
extern void session_apply_event(ViewPlan *plan, TimestampTz t);
extern ViewGroup *session_new(ViewPlan *plan, WindowGroups *wg, TupleHashEntry entry,
							  TimestampTz start, TimestampTz last);
extern void session_checkpoint(StreamextDbSlot *slot, ViewPlan *plan,
							   ClosedWriter *cw, TimestampTz watermark);

/* commands.c */
extern void check_setup(void);
extern void check_arg_not_null(FunctionCallInfo fcinfo, int argno,
							   const char *what, const char *hint);
extern ViewCatalogRow *find_owned_view(const char *name, bool missing_ok);

/* stream_ddl.c */
extern void stream_ddl_check(Node *parsetree);
extern void stream_ddl_allow_maintenance(bool allow);
extern Oid	stream_of_partition(Oid relid);
extern void stream_check_decodable(Oid relid, Oid stream, LOCKMODE lockmode,
								   bool creating);

/* retention.c */
extern int64 retention_usecs(Interval *retention);
extern int64 retention_partition_width(int64 retention_usec);
extern void retention_check_partitioning(Oid relid, AttrNumber time_attno);
extern void retention_ensure_partitions(Oid root, AttrNumber time_attno,
										int64 retention_usec, TimestampTz now,
										bool may_move);
extern int	retention_drop_expired(Oid root, AttrNumber time_attno,
								   int64 retention_usec, TimestampTz now);
extern void retention_maintain(void);


/* hooks.c */
extern void streamext_install_hooks(void);
extern void streamext_note_catalog_change(void);



#endif							/* STREAMEXT_H */
