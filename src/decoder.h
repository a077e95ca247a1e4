/*-------------------------------------------------------------------------
 *
 * decoder.h
 *	  What the worker hands the output plugin: the streams to apply, with
 *	  their views, and what the plugin reports back about commits.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_DECODER_H
#define STREAMEXT_DECODER_H

#include "replication/origin.h"
#include "access/xlogdefs.h"
#include "executor/tuptable.h"
#include "utils/hsearch.h"

typedef struct StreamTarget
{
	Oid			relid;			/* hash key */
	TupleTableSlot *slot;		/* holds the decoded tuple */
	List	   *plans;			/* ViewPlan of this stream */
	List	   *joining_plans;	/* those of them that join tables ... */
	List	   *plain_plans;	/* ... and the others */
	List	   *subs;			/* SubscriptionPlan of this stream */
	uint64		events;
	uint64		events_checkpointed;	/* events as of the last checkpoint */
} StreamTarget;

/* a table some views join: who follows its changes (lookup_join.h) */
typedef struct DimensionUse
{
	struct ViewPlan *plan;
	int			which;			/* its lookup */
} DimensionUse;

typedef struct DimensionTarget
{
	Oid			relid;			/* hash key */
	List	   *uses;			/* DimensionUse */
} DimensionTarget;

/* a change of a table a view created in the same transaction may join */
typedef struct PendingTableChange
{
	Oid			relid;
	bool		truncate;
	HeapTuple	oldtuple;
	HeapTuple	newtuple;
	bool		old_is_full;
	bool		keyed;			/* an update or a delete */
	Bitmapset  *identity;		/* the old key's columns, unless old_is_full */
	XLogRecPtr	final_lsn;
} PendingTableChange;

typedef struct PendingInsert
{
	Oid			relid;
	HeapTuple	tuple;
	TimestampTz commit_time;
	XLogRecPtr	final_lsn;
	XLogRecPtr	end_lsn;
	uint32		event_no;		/* its place among its transaction's inserts */
} PendingInsert;

/*
 * An event that must not be applied again to one view or subscription: it
 * failed there in a way that left nothing to go on from (states half
 * changed, an XID taken), so the worker decodes again from its checkpoint
 * and, this time, sets the event aside as a dead letter with this error.
 * An event is named by its transaction and its place among the inserts of
 * that transaction, which decoding the same WAL again gives again.
 */
typedef struct SetAside
{
	XLogRecPtr	txn_end;
	uint32		event_no;
	int32		view_id;		/* the view it failed in, or 0 ... */
	int32		sub_id;			/* ... the subscription */
	int			sqlerrcode;
	char	   *message;
} SetAside;

typedef struct DecodeTarget
{
	HTAB	   *streams;		/* relid -> StreamTarget */
	StreamTarget *last_stream;	/* the stream of the last change */
	HTAB	   *dimensions;		/* relid -> DimensionTarget, or NULL */
	Oid			view_catalog_relid;
	Oid			sub_catalog_relid;
	Oid			stream_catalog_relid;
	RepOriginId own_origin;
	XLogRecPtr	applied_upto;	/* commits ending at or before this are applied */

	/*
	 * Inserts of the transaction being decoded, kept when it changes system
	 * catalogs: create_view may be part of it, and the views it creates are
	 * loaded only after its commit, yet must count its events.
	 */
	MemoryContext pending_cxt;
	List	   *pending;		/* PendingInsert */
	List	   *pending_tables; /* PendingTableChange: changes of tables after
								 * a view catalog change of the transaction,
								 * for the views it made to join */

	uint32		txn_event;		/* inserts of the transaction decoded so far */

	/*
	 * Events to set aside when they are decoded again, and whether the
	 * worker must decode again from its checkpoint (decoder_rewind).
	 */
	MemoryContext set_aside_cxt;
	List	   *set_aside;		/* SetAside */
	List	   *joins_at_commit;	/* XLogRecPtr *, in set_aside_cxt: the
									 * end of transactions whose events join
									 * tables at their commit */
	bool		txn_joined;		/* the transaction decoded has applied an
								 * event to a view that joins before its
								 * commit */
	bool		txn_joins_at_commit;	/* it is one of joins_at_commit */
	MemoryContext deferred_cxt;
	List	   *deferred;		/* PendingInsert: its events for those views */
	Size		deferred_bytes; /* their tuples' size */
	bool		rewind;

	/*
	 * Transactions PostgreSQL streams before their commit (larger than
	 * logical_decoding_work_mem): their partial states by top-level XID, the
	 * one just committed (placed by decoder_place_streamed), and those to
	 * decode again without streaming (FallbackTxn).
	 */
	MemoryContext streamed_cxt;
	HTAB	   *streamed;		/* TransactionId -> StreamedTxn */
	struct StreamedTxn *committed;
	struct FoldBatch *batch;	/* events waiting to be folded */
	List	   *fallback;		/* FallbackTxn, in set_aside_cxt */
	uint64		streamed_transactions;

	/* reported by the plugin */
	bool		txn_changes_catalog;
	bool		catalog_changed;
	TransactionId catalog_xid;
	bool		changed;		/* some view changed since the last checkpoint */
	XLogRecPtr	last_commit_end;
	TimestampTz last_commit_time;
	uint64		transactions;
} DecodeTarget;

/*
 * A streamed transaction decoded again without streaming: its partial
 * states could not be kept (user code failed in them, it changed the view
 * catalog, a stream it writes has a session view, a subscription's filter
 * failed or its owner may not read the stream).  Done
 * once this decoding has passed where it was decided and the transaction
 * has left the reorder buffer; forgotten at the next checkpoint after that.
 */
typedef struct FallbackTxn
{
	TransactionId xid;
	XLogRecPtr	decided_at;
	bool		done;
} FallbackTxn;

struct LogicalDecodingContext;

extern void decoder_apply_event(DecodeTarget *target, List *plans, List *subs,
								TupleTableSlot *event, XLogRecPtr final_lsn,
								XLogRecPtr end_lsn, uint32 event_no,
								TimestampTz commit_time);
extern void decoder_forget_set_aside(DecodeTarget *target, XLogRecPtr upto);
extern XLogRecPtr decoder_wal_inserted_upto(void);
extern XLogRecPtr decoder_wal_flushed_upto(void);
extern int	decoder_read_wal_page(struct XLogReaderState *state, XLogRecPtr targetPagePtr,
								  int reqLen, XLogRecPtr targetRecPtr, char *readBuf);
extern void decoder_set_streaming(struct LogicalDecodingContext *ctx, DecodeTarget *target);
extern void decoder_settings_reloaded(void);
extern void decoder_place_streamed(DecodeTarget *target);
extern void decoder_streams_reset(DecodeTarget *target);
extern void decoder_forget_cut_streams(struct LogicalDecodingContext *ctx,
									   DecodeTarget *target);
extern void decoder_apply_pending_tables(DecodeTarget *target, List *new_plans);
extern void decoder_fall_back_in_progress(DecodeTarget *target, XLogRecPtr decided_at);

#endif							/* STREAMEXT_DECODER_H */
