/*-------------------------------------------------------------------------
 *
 * catalog.h
 *	  streamext's own tables, as rows: the definitions of streams, views and
 *	  subscriptions, the state the worker checkpoints, and the dead letters.
 *	  Every other file reads and writes them through here: the tables by
 *	  cached OID, key lookups through their indexes, and statements
 *	  prepared once per process.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_CATALOG_H
#define STREAMEXT_CATALOG_H

#include "access/xlogdefs.h"
#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "nodes/pg_list.h"
#include "storage/lockdefs.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"
#include "utils/snapshot.h"

#include "catalog_tables.h"

/* a row of streamext.view_def */
typedef struct ViewCatalogRow
{
	int32		id;
	char	   *name;
	Oid			view_relid;
	Oid			stream_relid;
	Oid			closed_relid;
	char	   *query_tree;
	char	   *window_text;
	char	   *time_zone;		/* windows aligned in this zone, or NULL */
	int64		lateness_usec;
	int64		retention_usec; /* 0: closed windows are kept */
	XLogRecPtr	start_lsn;
	char	   *query;			/* as the user wrote it */
	char	   *definition;		/* schema-qualified, or NULL (older rows) */
	bool		restored;		/* no persisted state: restored by pg_restore */
	bool		distributed;	/* a coordinator's distributed view: stream_relid
								 * is a table of the stream's shape */
} ViewCatalogRow;

/* a row of streamext.distributed_view_def */
typedef struct DistributedViewRow
{
	ViewCatalogRow view;		/* distributed: stream_relid is the
								 * coordinator's table of the stream's shape */
	List	   *nodes;			/* postgres_fdw server names, C strings */
	List	   *node_tables;	/* OIDs of their foreign tables of partial
								 * states */
	List	   *progress_tables;	/* and of their shard views' progress */
} DistributedViewRow;

/* a row of streamext.subscription_def */
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
	char	   *filter;			/* as the user wrote it, or NULL */
	char	   *filter_definition;	/* schema-qualified, or NULL */
	bool		restored;		/* no delivery progress: restored by pg_restore */
	XLogRecPtr	delivered_lsn;
	int64		newest_position;
} SubscriptionCatalogRow;

/* a stream with a retention (stream_def) */
typedef struct StreamRetentionRow
{
	Oid			relid;
	int64		retention_usec;
} StreamRetentionRow;

/* a dead letter as replay_dead_letters reads it */
typedef struct DeadLetterRow
{
	int64		id;
	Jsonb	   *event;
	TimestampTz at;				/* committed_at, or when it was set aside */
	bool		is_group;		/* a group whose closed row failed: no event */
} DeadLetterRow;

/* a group of an open window as the last checkpoint wrote it (open_state) */
typedef struct OpenStateRow
{
	TimestampTz window_start;
	TimestampTz window_end;		/* DT_NOEND when NULL */
	bytea	   *group_key;
	bytea	   *state;
} OpenStateRow;

/* called for each OpenStateRow; the row lasts for the call only */
typedef void (*OpenStateCallback) (const OpenStateRow *row, void *arg);

/* a view's progress as the worker last wrote it (view_progress) */
typedef struct ViewProgressRow
{
	TimestampTz closed_upto;	/* windows ending at or before are closed */
	TimestampTz max_event_time;
	int64		events;
	int64		late_events;
	XLogRecPtr	closed_lsn;		/* decoded up to here when they closed;
								 * invalid: as of the checkpoint */
	TimestampTz states_closed_upto; /* closed_upto of the checkpoint's open
									 * states */
	int64		future_events;	/* 0.2: beyond streamext.max_future */
} ViewProgressRow;

#define CATALOG_STATEMENT_MAXARGS 13

/*
 * CatalogStatement is a fixed statement on streamext's tables, prepared the
 * first time a process runs it and kept: declare it static, with its text,
 * the number and the types of its parameters.
 */
typedef struct CatalogStatement
{
	const char *sql;
	int			nargs;
	Oid			argtypes[CATALOG_STATEMENT_MAXARGS];
	SPIPlanPtr	plan;			/* NULL until first run */
} CatalogStatement;

/* an event (or a closed window's row) set aside, to write as a dead letter */
typedef struct DeadLetter
{
	XLogRecPtr	commit_lsn;
	TimestampTz committed_at;	/* the event time of streams without one */
	int			sqlerrcode;
	char	   *message;
	char	   *event;			/* the event as JSON */
	TimestampTz source_start;	/* a view on a view's event: the lower row's
								 * window_start; DT_NOBEGIN otherwise */
} DeadLetter;

/* what catalog_owner_enter changed, for catalog_owner_leave to restore */
typedef struct CatalogAccess
{
	Oid			saved_userid;
	int			saved_sec_context;
	int			guc_nestlevel;
} CatalogAccess;

/* the tables, and statements on them */
extern Oid	catalog_relid(CatalogTable table);
extern Oid	catalog_locked_relid(CatalogTable table, LOCKMODE lockmode);
extern char *catalog_qualified_name(Oid relid);
extern int	catalog_execute(CatalogStatement *stmt, Datum *args, const char *nulls,
							bool read_only, long count);
extern SPIPlanPtr catalog_relation_plan(Oid relid, int kind);
extern SPIPlanPtr catalog_keep_relation_plan(Oid relid, int kind, const char *sql,
											 int nargs, Oid *argtypes);

/* the extension, and acting as the owner of its tables */
extern bool streamext_extension_exists(void);
extern bool catalog_lock_extension(void);
extern void catalog_owner_enter(CatalogAccess *ca);
extern List *catalog_deterministic_functions(void);
extern void catalog_set_deterministic(const char *signature, Oid funcid, bool deterministic,
									  Oid declared_by);
extern void catalog_owner_leave(CatalogAccess *ca);
extern Oid	catalog_relation_owner(Oid relid);

/* streams */
extern bool catalog_is_stream(Oid relid, AttrNumber *time_attno);
extern void catalog_insert_stream(Oid relid, const char *time_column, Interval *retention);
extern void catalog_delete_stream(Oid relid);
extern void catalog_set_stream_retention(Oid relid, Interval *retention);
extern List *catalog_load_stream_retentions(MemoryContext cxt);

/* views */
extern Oid	catalog_view_table_oid(void);
extern List *catalog_load_views(MemoryContext cxt);
extern List *catalog_load_views_filtered(MemoryContext cxt, int32 only_id);
extern List *catalog_load_views_snapshot(MemoryContext cxt, Snapshot snapshot);
extern ViewCatalogRow *catalog_find_owned_view(const char *name, bool missing_ok);
extern ViewCatalogRow *catalog_view_on_relation(Oid relid);
extern int32 catalog_next_distributed_id(void);
extern void catalog_insert_distributed_view(const DistributedViewRow *d, Interval *lateness);
extern DistributedViewRow *catalog_distributed_view(int32 id);
extern void catalog_delete_distributed_view(int32 id);
extern void catalog_forget_dropped_distributed_views(void);
extern int32 catalog_distributed_view_on_relation(Oid relid);
extern void catalog_insert_distributed_delivery(const char *name, int32 id,
												TimestampTz delivered_upto);
extern List *catalog_views_reading(Oid relid);
extern ViewCatalogRow *catalog_view_as_of(int32 view_id, Snapshot snapshot);
extern ViewCatalogRow *catalog_view_brief_as_of(int32 view_id, Snapshot snapshot);
extern XLogRecPtr catalog_view_start_lsn(int32 view_id, Snapshot snapshot);
extern bool catalog_read_view_progress(int32 view_id, Snapshot snapshot,
									   ViewProgressRow *progress);
extern bool catalog_view_progress_has_closing(void);
extern void catalog_scan_open_states(int32 view_id, Snapshot snapshot,
									 OpenStateCallback callback, void *arg);
extern int32 catalog_next_view_id(void);
extern void catalog_insert_view(const ViewCatalogRow *row, Interval *lateness,
								Interval *retention);
extern void catalog_set_view_retention(int32 view_id, Interval *retention);
extern void catalog_rename_view(int32 view_id, const char *name, const char *definition);
extern void catalog_rename_time_column(Oid relid, const char *old_name,
									   const char *new_name);
extern void catalog_set_filter_definition(int32 sub_id, const char *definition);
extern void catalog_delete_view(int32 view_id);
extern void catalog_restart_view(int32 view_id, XLogRecPtr start_lsn);
extern ViewCatalogRow *catalog_lock_view(int32 view_id, const char *name);
extern void catalog_replace_view(const ViewCatalogRow *row, Interval *lateness,
								 Interval *retention);
extern void catalog_adopt_view(int32 view_id, const char *query_tree, XLogRecPtr start_lsn);

/* subscriptions */
extern Oid	catalog_subscription_table_oid(void);
extern List *catalog_load_subscriptions(MemoryContext cxt);
extern SubscriptionCatalogRow *catalog_find_subscription(const char *name);
extern SubscriptionCatalogRow *catalog_find_subscription_id(int32 id);
extern char *catalog_subscription_on_source(Oid relid);
extern void catalog_insert_subscription(const SubscriptionCatalogRow *row);
extern void catalog_delete_subscription(int32 id);
extern void catalog_delete_leftovers(List *view_ids, List *sub_ids);
extern void catalog_adopt_subscription(int32 id, const char *filter_tree, XLogRecPtr start_lsn);
extern void catalog_read_queue(int32 id, int32 max_events, Tuplestorestate *store,
							   TupleDesc desc);
extern void catalog_lock_ack(int32 id, int64 *newest, int64 *acked);
extern void catalog_ack(int32 id, int64 position);

/* dead letters */
extern void catalog_write_dead_letters(CatalogTable owner, int32 id, List *letters,
									   List *replayed);
extern List *catalog_read_dead_letters(CatalogTable owner, int32 id);
extern void catalog_delete_source_dead_letters(int32 view_id, TimestampTz from,
											   TimestampTz to);
extern int64 catalog_count_subscription_dead_letters(int32 id);
extern int64 catalog_stream_idle_timeout(Oid relid);
extern void catalog_set_stream_idle_timeout(Oid relid, Interval *idle_timeout);
extern Oid	catalog_stream_table_oid(void);

#endif							/* STREAMEXT_CATALOG_H */
