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
#include "streamext.h"

typedef struct StreamTarget
{
	Oid			relid;			/* hash key */
	TupleTableSlot *slot;		/* holds the decoded tuple */
	List	   *plans;			/* ViewPlan of this stream */
	List	   *subs;			/* SubscriptionPlan of this stream */
	uint64		events;
} StreamTarget;

typedef struct PendingInsert
{
	Oid			relid;
	HeapTuple	tuple;
	TimestampTz commit_time;
	XLogRecPtr	final_lsn;
	XLogRecPtr	end_lsn;
} PendingInsert;

typedef struct DecodeTarget
{
	HTAB	   *streams;		/* relid -> StreamTarget */
	StreamTarget *last_stream;	/* the stream of the last change */
	Oid			view_catalog_relid;
	Oid			sub_catalog_relid;
	RepOriginId own_origin;
	XLogRecPtr	applied_upto;	/* commits ending at or before this are applied */

	/*
	 * Inserts of the transaction being decoded, kept when it changes system
	 * catalogs: create_view may be part of it, and the views it creates are
	 * loaded only after its commit, yet must count its events.
	 */
	MemoryContext pending_cxt;
	List	   *pending;		/* PendingInsert */

	XLogRecPtr	isolate_txn_end;	/* apply this transaction event by event */
	XLogRecPtr	current_txn_end;	/* the transaction being applied */
	bool		snapshot_pushed;	/* an active snapshot for its functions */

	/* reported by the plugin */
	bool		txn_changes_catalog;
	bool		catalog_changed;
	TransactionId catalog_xid;
	bool		changed;		/* some view changed since the last checkpoint */
	XLogRecPtr	last_commit_end;
	TimestampTz last_commit_time;
	uint64		transactions;
} DecodeTarget;

#endif							/* STREAMEXT_DECODER_H */
