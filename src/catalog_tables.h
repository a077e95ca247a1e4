/*-------------------------------------------------------------------------
 *
 * catalog_tables.h
 *	  The shape of streamext's own tables, as sql/streamext--0.1.sql and the
 *	  upgrade scripts make them: attribute numbers (Anum_), column counts
 *	  (Natts_), and the tables and indexes the catalog layer (catalog.c)
 *	  finds by name and caches by OID.  catalog.c checks the columns
 *	  against these when it first opens a table, so that a table of another
 *	  shape fails with an error instead of being misread.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_CATALOG_TABLES_H
#define STREAMEXT_CATALOG_TABLES_H

/* streamext's tables, as catalog_relid() and catalog_open() know them */
typedef enum CatalogTable
{
	CATALOG_STREAM_DEF,
	CATALOG_VIEW_DEF,
	CATALOG_OPEN_STATE,
	CATALOG_VIEW_PROGRESS,
	CATALOG_SUBSCRIPTION_DEF,
	CATALOG_SUBSCRIPTION_PROGRESS,
	CATALOG_SUBSCRIPTION_ACK,
	CATALOG_SUBSCRIPTION_QUEUE,
	CATALOG_DEAD_LETTERS
} CatalogTable;

#define CATALOG_NTABLES (CATALOG_DEAD_LETTERS + 1)

/* the indexes key lookups scan */
typedef enum CatalogIndex
{
	CATALOG_STREAM_DEF_PKEY,	/* relid */
	CATALOG_VIEW_DEF_PKEY,		/* id */
	CATALOG_VIEW_DEF_NAME_KEY,	/* name */
	CATALOG_OPEN_STATE_PKEY,	/* view_id, window_start, group_key */
	CATALOG_VIEW_PROGRESS_PKEY, /* view_id */
	CATALOG_SUBSCRIPTION_DEF_PKEY,	/* id */
	CATALOG_SUBSCRIPTION_DEF_NAME_KEY,	/* name */
	CATALOG_SUBSCRIPTION_PROGRESS_PKEY	/* subscription_id */
} CatalogIndex;

#define CATALOG_NINDEXES (CATALOG_SUBSCRIPTION_PROGRESS_PKEY + 1)

/* streamext.stream_def */
#define Anum_stream_def_relid			1
#define Anum_stream_def_time_column		2
#define Anum_stream_def_created_at		3
#define Anum_stream_def_retention		4
#define Natts_stream_def				4
/* added by 0.1--0.2, after the columns every version has */
#define Anum_stream_def_idle_timeout	5

/* streamext.view_def */
#define Anum_view_def_id				1
#define Anum_view_def_name				2
#define Anum_view_def_view_relid		3
#define Anum_view_def_stream			4
#define Anum_view_def_query				5
#define Anum_view_def_query_tree		6
#define Anum_view_def_window_spec		7
#define Anum_view_def_closed_relid		8
#define Anum_view_def_start_lsn			9
#define Anum_view_def_created_at		10
#define Anum_view_def_definition		11
#define Anum_view_def_lateness			12
#define Anum_view_def_retention			13
#define Natts_view_def					13
/* from 0.2 on, after those: a catalog still at 0.1 has none */
#define Anum_view_def_time_zone			14

/* streamext.open_state */
#define Anum_open_state_view_id			1
#define Anum_open_state_window_start	2
#define Anum_open_state_group_key		3
#define Anum_open_state_state			4
#define Anum_open_state_window_end		5
#define Natts_open_state				5

/* streamext.view_progress */
#define Anum_view_progress_view_id		1
#define Anum_view_progress_closed_upto	2
#define Anum_view_progress_max_event_time 3
#define Anum_view_progress_events		4
#define Anum_view_progress_late_events	5
#define Natts_view_progress				5
/* from 0.2 on: where closing outran the checkpoint (checkpoint.c) */
#define Anum_view_progress_closed_lsn	6
#define Anum_view_progress_states_closed_upto 7
#define Anum_view_progress_future_events 8

/* streamext.subscription_def */
#define Anum_subscription_def_id		1
#define Anum_subscription_def_name		2
#define Anum_subscription_def_owner		3
#define Anum_subscription_def_source	4
#define Anum_subscription_def_view_id	5
#define Anum_subscription_def_filter	6
#define Anum_subscription_def_filter_tree 7
#define Anum_subscription_def_channel	8
#define Anum_subscription_def_notify	9
#define Anum_subscription_def_emit		10
#define Anum_subscription_def_start_lsn 11
#define Anum_subscription_def_created_at 12
#define Anum_subscription_def_filter_definition 13
#define Natts_subscription_def			13

/* streamext.subscription_progress */
#define Anum_subscription_progress_subscription_id 1
#define Anum_subscription_progress_delivered_lsn 2
#define Anum_subscription_progress_newest_position 3
#define Anum_subscription_progress_last_notify 4
#define Natts_subscription_progress		4

/* streamext.subscription_ack */
#define Anum_subscription_ack_subscription_id 1
#define Anum_subscription_ack_acked_position 2
#define Anum_subscription_ack_acked_at	3
#define Natts_subscription_ack			3

/* streamext.subscription_queue */
#define Anum_subscription_queue_subscription_id 1
#define Anum_subscription_queue_position 2
#define Anum_subscription_queue_kind	3
#define Anum_subscription_queue_event	4
#define Anum_subscription_queue_committed_at 5
#define Natts_subscription_queue		5

/* streamext.dead_letters */
#define Anum_dead_letters_id			1
#define Anum_dead_letters_view_id		2
#define Anum_dead_letters_subscription_id 3
#define Anum_dead_letters_commit_lsn	4
#define Anum_dead_letters_sqlstate		5
#define Anum_dead_letters_message		6
#define Anum_dead_letters_event			7
#define Anum_dead_letters_committed_at	8
#define Anum_dead_letters_noted_at		9
#define Natts_dead_letters				9

#endif							/* STREAMEXT_CATALOG_TABLES_H */
