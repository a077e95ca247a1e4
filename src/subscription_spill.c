/*-------------------------------------------------------------------------
 *
 * subscription_spill.c
 *	  The events a streamed transaction brings its stream's subscriptions,
 *	  kept in temporary files until its commit queues them.
 *
 *	  PostgreSQL hands the worker a transaction larger than
 *	  logical_decoding_work_mem before it commits (decoder.c).  Each of its
 *	  events that passes a subscription's filter (evaluated as the
 *	  subscription's owner, with the catalog as of the event, as at a
 *	  commit) is written as JSON, tagged with the (sub)transaction that
 *	  inserted it, to a temporary file of that subscription and transaction.
 *	  Changes are streamed in the order of the WAL, so the file holds the
 *	  events in the transaction's order.  A subtransaction rolled back
 *	  (stream_abort) is noted and its events are skipped when the file is
 *	  read back; the whole transaction rolled back, or the worker decoding
 *	  again from its checkpoint, drops the files.  At the commit each file
 *	  is read back and queued in chunks (subscription_write_streamed), so a
 *	  transaction of a million events never sits in the worker's memory.
 *
 *	  One file per subscription and transaction, not per subtransaction: a
 *	  transaction with a savepoint per statement (psql's ON_ERROR_ROLLBACK)
 *	  would hold a file and its buffer per statement, and the commit would
 *	  merge them all.  The price: the bytes of a rolled-back subtransaction
 *	  stay on disk until the transaction ends.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "commands/tablespace.h"
#include "executor/executor.h"
#include "storage/buffile.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "subscription_spill.h"
#include "usercode.h"

/* one subscription's events of one streamed transaction */
typedef struct SpillFile
{
	SubscriptionPlan *sub;
	int32		sub_id;			/* to check sub is still the one loaded */
	Oid			relid;			/* its stream */
	BufFile    *file;
	uint64		records;
} SpillFile;

/* what a streamed transaction holds for its streams' subscriptions */
struct SubscriptionSpill
{
	MemoryContext cxt;			/* the transaction's */
	MemoryContext batch_cxt;	/* the JSON of one batch of events */
	List	   *files;			/* SpillFile */
	SpillFile  *last;			/* the file of the last batch */
	TransactionId *rolled_back; /* subtransactions: their events never count */
	int			nrolled_back;
	int			maxrolled_back;
};

/* a record's head in the file; the event's JSON follows, len bytes */
typedef struct SpillRecord
{
	TransactionId part;
	uint32		len;
} SpillRecord;

/* reads a file back for subscription_write_streamed */
typedef struct SpillReader
{
	SubscriptionSpill *spill;
	SpillFile  *sf;
	TransactionId last_part;	/* the part of the last record read ... */
	bool		last_rolled_back;	/* ... and whether it was rolled back */
} SpillReader;

static SpillFile *spill_file(SubscriptionSpill *spill, SubscriptionPlan *sub, Oid relid);
static int	spill_read(void *arg, char **json, int max);
static void spill_read_exactly(SpillFile *sf, void *buf, size_t len);
static void spill_read_failed(SpillFile *sf) pg_attribute_noreturn();

/*
 * subscription_spill_create makes the (empty) spill of a streamed
 * transaction, in its memory context.
 */
SubscriptionSpill *
subscription_spill_create(MemoryContext cxt)
{
	SubscriptionSpill *spill = MemoryContextAllocZero(cxt, sizeof(SubscriptionSpill));

	spill->cxt = cxt;
	spill->batch_cxt = AllocSetContextCreate(cxt, "streamext spilled events",
											 ALLOCSET_DEFAULT_SIZES);
	return spill;
}

/*
 * spill_file finds (or creates) the file of a subscription.
 */
static SpillFile *
spill_file(SubscriptionSpill *spill, SubscriptionPlan *sub, Oid relid)
{
	MemoryContext old;
	ResourceOwner owner = CurrentResourceOwner;
	SpillFile  *sf;
	ListCell   *lc;

	if (spill->last != NULL && spill->last->sub == sub)
		return spill->last;
	foreach(lc, spill->files)
		if (((SpillFile *) lfirst(lc))->sub == sub)
			return spill->last = lfirst(lc);

	old = MemoryContextSwitchTo(spill->cxt);
	sf = palloc0(sizeof(SpillFile));
	sf->sub = sub;
	sf->sub_id = sub->id;
	sf->relid = relid;

	/*
	 * interXact: the file outlives the transactions the stream blocks run in
	 * (ReorderBufferProcessTXN aborts its own after each block) and the
	 * subtransaction of this batch; it is closed by subscription_spill_drop,
	 * else at the process's exit, and after a crash the postmaster removes
	 * it.  Such a file is registered with no resource owner, yet the BufFile
	 * keeps the current one for its later segments: none, rather than one
	 * that ends with this block.  The catalog lookup of temp_tablespaces
	 * needs the block's, so it is done first.
	 */
	PrepareTempTablespaces();
	CurrentResourceOwner = NULL;
	sf->file = BufFileCreateTemp(true);
	CurrentResourceOwner = owner;
	spill->files = lappend(spill->files, sf);
	MemoryContextSwitchTo(old);
	return spill->last = sf;
}

/*
 * subscription_spill_events evaluates the subscription's filter for a
 * batch of events of one (sub)transaction, behind its owner's gate, and
 * writes those that pass to its file.  Any error, or a subscription that
 * may not take the events now (subscription_refusal), is the caller's:
 * the transaction is decoded again without streaming, where the events
 * are set aside one by one.
 */
void
subscription_spill_events(SubscriptionSpill *spill, SubscriptionPlan *sub, Oid relid,
						  TransactionId part, TupleTableSlot *slot, HeapTuple *tuples,
						  int ntuples)
{
	int			code;
	const char *why = subscription_refusal(sub, &code);
	SpillFile  *sf;
	MemoryContext old;
	UserCodeGate gate;
	StringInfoData buf;
	int			i;

	if (why != NULL)
		ereport(ERROR,
				(errcode(code),
				 errmsg("subscription \"%s\" cannot take events: %s", sub->name, why)));
	sf = spill_file(spill, sub, relid);
	old = MemoryContextSwitchTo(spill->batch_cxt);
	initStringInfo(&buf);
	usercode_enter(&gate, sub->owner, USERCODE_READ_ONLY);
	for (i = 0; i < ntuples; i++)
	{
		char	   *json;

		ExecStoreHeapTuple(tuples[i], slot, false);
		json = subscription_event_json(sub, slot);
		ResetExprContext(sub->econtext);
		if (json != NULL)
		{
			SpillRecord head;

			head.part = part;
			head.len = strlen(json);
			appendBinaryStringInfo(&buf, (char *) &head, sizeof(head));
			appendBinaryStringInfo(&buf, json, head.len);
			sf->records++;
			pfree(json);
		}
	}
	ExecClearTuple(slot);
	usercode_leave(&gate);
	/* one write per batch: a failure leaves no record half written */
	if (buf.len > 0)
		BufFileWrite(sf->file, buf.data, buf.len);
	MemoryContextSwitchTo(old);
	MemoryContextReset(spill->batch_cxt);
}

/*
 * subscription_spill_abort_part notes a subtransaction rolled back: its
 * events are skipped at the commit.
 */
void
subscription_spill_abort_part(SubscriptionSpill *spill, TransactionId part)
{
	if (spill->nrolled_back == spill->maxrolled_back)
	{
		spill->maxrolled_back = Max(16, spill->maxrolled_back * 2);
		if (spill->rolled_back == NULL)
			spill->rolled_back = MemoryContextAlloc(spill->cxt, sizeof(TransactionId) *
													spill->maxrolled_back);
		else
			spill->rolled_back = repalloc(spill->rolled_back, sizeof(TransactionId) *
										  spill->maxrolled_back);
	}
	spill->rolled_back[spill->nrolled_back++] = part;
}

/*
 * subscription_spill_place queues a committed transaction's events, in its
 * order, to each subscription that started before its commit and has not
 * queued it yet (a commit at or below a subscription's progress was queued
 * before a restart), in the caller's transaction.  loaded lists the
 * subscriptions the worker runs now.
 */
void
subscription_spill_place(SubscriptionSpill *spill, List *loaded, XLogRecPtr final_lsn,
						 XLogRecPtr end_lsn, TimestampTz commit_time)
{
	ListCell   *lc;

	if (spill->nrolled_back > 1)
		qsort(spill->rolled_back, spill->nrolled_back, sizeof(TransactionId), xidComparator);
	foreach(lc, spill->files)
	{
		SpillFile  *sf = lfirst(lc);
		SubscriptionPlan *sub = sf->sub;
		SpillReader reader = {spill, sf, InvalidTransactionId, false};

		/* never a subscription a reload freed: see decoder_fall_back_in_progress */
		if (!list_member_ptr(loaded, sub) || sub->id != sf->sub_id)
			elog(ERROR, "streamext: subscription %d of a streamed transaction is gone",
				 sf->sub_id);
		if (final_lsn <= sub->start_lsn || end_lsn <= sub->delivered_lsn ||
			sf->records == 0)
			continue;
		if (BufFileSeek(sf->file, 0, 0, SEEK_SET) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("streamext could not seek in the temporary file of subscription \"%s\": %m",
							sub->name)));
		subscription_write_streamed(sub, end_lsn, commit_time, spill_read, &reader);
	}
}

/*
 * spill_read reads back up to max events of a file, skipping those of
 * subtransactions rolled back, for subscription_write_streamed.
 */
static int
spill_read(void *arg, char **json, int max)
{
	SpillReader *r = arg;
	int			n = 0;

	while (n < max)
	{
		SpillRecord head;
		size_t		got = BufFileRead(r->sf->file, &head, sizeof(head));
		char	   *text;

		if (got == 0)
			break;
		if (got != sizeof(head))
			spill_read_failed(r->sf);
		if (head.part != r->last_part)
		{
			r->last_part = head.part;
			r->last_rolled_back =
				bsearch(&head.part, r->spill->rolled_back, r->spill->nrolled_back,
						sizeof(TransactionId), xidComparator) != NULL;
		}
		text = palloc(head.len + 1);
		spill_read_exactly(r->sf, text, head.len);
		text[head.len] = '\0';
		if (r->last_rolled_back)
			pfree(text);
		else
			json[n++] = text;
	}
	return n;
}

/* spill_read_exactly reads len bytes of an event, or fails */
static void
spill_read_exactly(SpillFile *sf, void *buf, size_t len)
{
	if (BufFileRead(sf->file, buf, len) != len)
		spill_read_failed(sf);
}

/* spill_read_failed reports a file that ends inside an event */
static void
spill_read_failed(SpillFile *sf)
{
	ereport(ERROR,
			(errcode_for_file_access(),
			 errmsg("streamext could not read the temporary file of subscription \"%s\"",
					sf->sub->name),
			 errdetail("The file ends inside an event.")));
}

/*
 * subscription_spill_drop closes and removes the files of a streamed
 * transaction, when it is rolled back, queued or forgotten; the memory goes
 * with the transaction's context.
 */
void
subscription_spill_drop(SubscriptionSpill *spill)
{
	ListCell   *lc;

	foreach(lc, spill->files)
	{
		SpillFile  *sf = lfirst(lc);

		if (sf->file != NULL)
			BufFileClose(sf->file);
		sf->file = NULL;
	}
	list_free(spill->files);
	spill->files = NIL;
	spill->last = NULL;
}
