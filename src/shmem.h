/*-------------------------------------------------------------------------
 *
 * shmem.h
 *	  The shared memory every process of the server sees: one slot per
 *	  database with a worker, shared by the launcher, that worker and the
 *	  database's backends.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_SHMEM_H
#define STREAMEXT_SHMEM_H

#include "access/xlogdefs.h"
#include "datatype/timestamp.h"
#include "lib/dshash.h"
#include "storage/condition_variable.h"
#include "storage/dsm.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/spin.h"
#include "utils/dsa.h"

#define STREAMEXT_MAX_STREAM_STATS 64

/* dsa_handle is a dsm_handle in PostgreSQL 15 */
#define DSA_HANDLE_INVALID ((dsa_handle) DSM_HANDLE_INVALID)

/* Counters of one stream, as published by its database's worker. */
typedef struct StreamStat
{
	Oid			relid;
	uint64		events;
} StreamStat;

/*
 * StreamextDbSlot is what one database's worker shares with the launcher
 * and with every backend of that database.  It is cut into parts, each
 * under one lock; shmem.c states the protocol (who writes, who reads).
 */
typedef struct StreamextDbSlot
{
	/*
	 * Assignment and lifecycle: StreamextShared->lock, shared to read,
	 * exclusive to write.
	 */
	Oid			dboid;			/* InvalidOid: slot free */
	pid_t		worker_pid;		/* 0 when no worker runs */
	Latch	   *worker_latch;	/* NULL when no worker runs */
	bool		absent;			/* worker found no extension here */
	bool		wanted;			/* a backend asked for a worker */
	bool		stop_requested; /* DROP DATABASE asks the worker to leave */
	TimestampTz stop_requested_at;
	bool		recheck_extension;	/* DROP EXTENSION may have removed it */

	/*
	 * Progress and counters: mutex.  Only the worker writes them; readers
	 * copy what they need in one critical section, so that they see one
	 * moment of the worker.
	 */
	bool		ready;			/* a worker made its replication slot and
								 * decoded once: every event counts */
	XLogRecPtr	published_upto; /* WAL decoded and visible to readers */
	XLogRecPtr	applied_lsn;	/* end of the last applied stream commit */
	TimestampTz applied_commit_time;
	TimestampTz caught_up_time; /* the worker had read all WAL there was then */
	XLogRecPtr	checkpoint_lsn; /* durable position */
	TimestampTz checkpoint_time;
	uint64		events_decoded;
	uint64		transactions;
	int			restarts;		/* workers that ended in an error */
	char		last_error[256];
	TimestampTz last_error_time;
	int			nstreams;
	StreamStat	streams[STREAMEXT_MAX_STREAM_STATS];

	/*
	 * The replay handshake: mutex.  replay_dead_letters() numbers its
	 * request and names what to replay in one critical section; the worker
	 * answers with the counts and replay_done in another, then broadcasts
	 * replay_cv.
	 */
	uint64		replay_requested;	/* replay_dead_letters calls, numbered */
	int32		replay_view_id; /* what it replays: a view ... */
	int32		replay_sub_id;	/* ... or a subscription */
	uint64		replay_done;	/* the last one the worker answered */
	int64		replay_ok;		/* its answer: dead letters applied ... */
	int64		replay_failed;	/* ... and still failing */

	/*
	 * The published area: publish_lock, shared to attach and copy,
	 * exclusive (the worker) to change.
	 */
	dsa_handle	area;			/* open-window states, DSA_HANDLE_INVALID if none */
	uint64		area_generation;
	dshash_table_handle views;	/* view id -> SharedView */
	bool		views_unpublished;	/* max_memory left a view out of the area */
	TransactionId area_valid_from;	/* the area shows what this transaction
									 * committed: older snapshots read the
									 * checkpoint instead */
	uint64		publish_seq;	/* publishes of views in this area, numbered:
								 * a statement's reads see those up to the
								 * one its first read saw (state_shmem.c) */
	dsa_pointer pins;			/* pg_atomic_uint64 per backend id: the
								 * oldest publish a statement of it sees (0:
								 * none), set under the shared lock */

	/*
	 * The locks and condition variables, set up at server start and kept
	 * when the slot is claimed again (everything above is reset then).
	 */
	slock_t		mutex;			/* progress, counters, replay */
	ConditionVariable progress_cv;	/* published_upto moved, the worker left,
									 * or it created its replication slot */
	ConditionVariable replay_cv;	/* replay_done moved */
	LWLock		publish_lock;	/* the published area */
} StreamextDbSlot;

/* the part of a slot that claiming it resets */
#define STREAMEXT_SLOT_RESET_SIZE offsetof(StreamextDbSlot, mutex)

/*
 * StreamextShared is the fixed shared memory of streamext: the slots, and
 * what finds them.
 */
typedef struct StreamextShared
{
	LWLock		lock;			/* slot assignment and lifecycle, launcher_* */
	pid_t		launcher_pid;	/* lock */
	Latch	   *launcher_latch; /* lock; NULL when no launcher runs */
	ConditionVariable slot_claimed_cv;	/* a slot got its database */
	int			dsa_tranche;	/* set at server start */
	int			max_databases;	/* set at server start */
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

#endif							/* STREAMEXT_SHMEM_H */
