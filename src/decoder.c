/*-------------------------------------------------------------------------
 *
 * decoder.c
 *	  streamext's logical decoding output plugin.  The worker decodes WAL
 *	  in-process through it: committed inserts into streams are handed to
 *	  the views and subscriptions of their stream as tuples, in commit
 *	  order, without a text round trip; commits that change streamext's view
 *	  or subscription catalog are flagged so the worker reloads them at
 *	  exactly that point of the WAL.
 *
 *	  Inserts into a partition of a partitioned stream are decoded as the
 *	  partition's; they are handed over as the stream's, converted to its
 *	  row layout where the partition's differs (a dropped column).
 *
 *	  Used through any other interface (no DecodeTarget attached), the
 *	  plugin produces nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heaptoast.h"
#include "access/htup_details.h"

#include "access/table.h"
#include "access/tupconvert.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "access/xlogutils.h"
#include "catalog/catalog.h"
#include "catalog/partition.h"
#include "replication/logical.h"
#include "replication/output_plugin.h"
#include "replication/reorderbuffer.h"
#include "storage/procarray.h"
#include "utils/guc.h"
#include "storage/lock.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/reltrigger.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"

#include "decoder.h"
#include "memory_reserve.h"
#include "settings.h"
#include "subscription.h"
#include "subscription_spill.h"
#include "usercode.h"
#include "lookup_cache.h"
#include "view_apply.h"
#include "view_partial.h"
#include "view_plan.h"
#include "view_state.h"

extern PGDLLEXPORT void _PG_output_plugin_init(OutputPluginCallbacks *cb);

static void decoder_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt,
							bool is_init);
static void decoder_begin(LogicalDecodingContext *ctx, ReorderBufferTXN *txn);
static void decoder_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
						   Relation relation, ReorderBufferChange *change);
static void decoder_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
						   XLogRecPtr commit_lsn);
static bool is_stream(Relation relation);
static bool insert_as_stream(Relation relation, ReorderBufferChange *change, Oid *relid,
							 TupleDesc *desc, HeapTuple *tuple, HeapTuple *converted,
							 bool *leaf_of_stream);
static void decoder_stream_start(LogicalDecodingContext *ctx, ReorderBufferTXN *txn);
static void decoder_stream_stop(LogicalDecodingContext *ctx, ReorderBufferTXN *txn);
static void decoder_stream_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
								  Relation relation, ReorderBufferChange *change);
static void decoder_stream_abort(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
								 XLogRecPtr abort_lsn);
static void decoder_stream_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
								  XLogRecPtr commit_lsn);

/* the events of one (sub)transaction of a streamed transaction */
typedef struct StreamedPart
{
	TransactionId xid;			/* hash key */
	List	   *partials;		/* ViewPartial, one per view it reached */
	List	   *counts;			/* StreamCount */
	Oid			fold_relid;		/* the stream of its last event ... */
	List	   *fold_partials;	/* ... its views' partial states */
	struct StreamCount *fold_count;
} StreamedPart;

/* the events of a streamed transaction per stream, for streamext.streams */
typedef struct StreamCount
{
	Oid			relid;
	uint64		events;
} StreamCount;

/* a transaction streamed before its commit */
typedef struct StreamedTxn
{
	TransactionId xid;			/* hash key */
	MemoryContext cxt;
	HTAB	   *parts;			/* subtransaction XID -> StreamedPart */
	List	   *part_order;		/* StreamedPart, as they began */
	StreamedPart *last_part;
	bool		changes_catalog;	/* the view or subscription catalog */
	bool		stream_inserts; /* into any stream */
	SubscriptionSpill *spill;	/* its events for subscriptions, or NULL */
	XLogRecPtr	final_lsn;		/* set at its commit */
	XLogRecPtr	end_lsn;
	TimestampTz commit_time;
} StreamedTxn;

/*
 * events folded into the partial states of a stream's views, and written
 * for its subscriptions
 */
typedef struct EventFold
{
	List	   *partials;
	List	   *subs;			/* SubscriptionPlan */
	SubscriptionSpill *spill;
	Oid			relid;
	TransactionId part;			/* the (sub)transaction of the events */
	TupleTableSlot *event;		/* the stream's slot, to hold each */
	HeapTuple  *tuples;
	int			ntuples;
	int			next;			/* the view, then subscription, being done */
} EventFold;

/*
 * Events of a streamed transaction waiting to be folded: consecutive ones
 * of one part, one stream and one historic snapshot (fold_batch_add).
 */
#define FOLD_BATCH_EVENTS 512

typedef struct FoldBatch
{
	MemoryContext cxt;			/* the tuples' copies */
	TransactionId top_xid;
	StreamedPart *part;
	StreamTarget *stream;
	List	   *partials;		/* its views' partial states */
	Snapshot	snapshot;
	CommandId	curcid;
	int			n;
	HeapTuple	tuples[FOLD_BATCH_EVENTS];
} FoldBatch;

/* a streamed transaction's partial states placed in one view */
typedef struct PartialPlace
{
	ViewPartial *vp;
	StreamedTxn *stx;
} PartialPlace;

static StreamedTxn *streamed_txn(DecodeTarget *target, TransactionId xid, bool create);
static StreamedPart *streamed_part(StreamedTxn *stx, TransactionId xid);
static void streamed_drop(DecodeTarget *target, StreamedTxn *stx);
static void stream_part_for(StreamedTxn *stx, StreamedPart *part, StreamTarget *st);
static void reserve_for_placing(DecodeTarget *target);
static void fold_batch_add(LogicalDecodingContext *ctx, DecodeTarget *target,
						   TransactionId top_xid, StreamedPart *part, StreamTarget *st,
						   HeapTuple tuple, TupleDesc desc);
static void fold_batch_flush(LogicalDecodingContext *ctx, DecodeTarget *target);
static void fold_batch_forget(struct FoldBatch *batch);
static void fold_from(void *arg);
static void place_one(void *arg);
static bool is_concurrent_abort(ErrorData *edata, TransactionId alive);
static void batch_after_concurrent_abort(LogicalDecodingContext *ctx, DecodeTarget *target);
static bool in_reorder_buffer(LogicalDecodingContext *ctx, TransactionId xid);
static void fall_back(DecodeTarget *target, TransactionId xid, XLogRecPtr decided_at,
					  const char *why) pg_attribute_noreturn();

/*
 * What a partition's inserts become: the stream at the top of its
 * partition tree, and the conversion to that stream's row layout (NULL when
 * they are alike).  Built with the historic catalog of the change decoded,
 * forgotten on every relcache invalidation, which decoding replays.
 */
typedef struct PartitionRoot
{
	Oid			leaf;			/* hash key */
	Oid			root;
	bool		root_is_stream;
	TupleDesc	rootdesc;
	TupleConversionMap *map;
} PartitionRoot;

static HTAB *partition_roots = NULL;
static MemoryContext partition_roots_cxt = NULL;
static bool partition_roots_stale = false;

static PartitionRoot *partition_root(Relation leaf);
static void partition_roots_invalidate(Datum arg, Oid relid);
/* an event to apply to the views and subscriptions of its stream */
typedef struct EventApply
{
	DecodeTarget *target;
	List	   *plans;
	List	   *subs;
	TupleTableSlot *event;
	XLogRecPtr	final_lsn;
	XLogRecPtr	end_lsn;
	uint32		event_no;
	TimestampTz commit_time;
	int			next;			/* the next to apply: views, then subscriptions */
} EventApply;

static void apply_from(void *arg);
static void apply_to_view(EventApply *ea, ViewPlan *plan);
static void apply_to_subscription(EventApply *ea, SubscriptionPlan *sub);
static SetAside *find_set_aside(DecodeTarget *target, XLogRecPtr txn_end,
								uint32 event_no, int32 view_id, int32 sub_id);
static void decode_again_without(DecodeTarget *target, XLogRecPtr txn_end,
								 uint32 event_no, int32 view_id, int32 sub_id,
								 const char *what, UserCodeFailure *failure)
			pg_attribute_noreturn();
static bool decoder_filter_by_origin(LogicalDecodingContext *ctx,
									 RepOriginId origin_id);
static void decoder_truncate(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
							 int nrelations, Relation relations[],
							 ReorderBufferChange *change);
static void decoder_stream_truncate(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
									int nrelations, Relation relations[],
									ReorderBufferChange *change);
static bool is_dimension(DecodeTarget *target, Oid relid);
static void apply_dimension_change(DecodeTarget *target, DimensionTarget *dt,
								   ReorderBufferTXN *txn, Relation relation,
								   ReorderBufferChange *change);
static void apply_dimension_one(void *arg);

/* a decoded change of a joined table, for one view's lookup */
typedef struct DimensionChange
{
	DimensionUse *use;
	HeapTuple	oldtuple;
	HeapTuple	newtuple;
	TupleDesc	desc;
	bool		old_is_full;	/* the table logs whole old rows */
	Bitmapset  *identity;		/* else the columns its old key has */
	bool		keyed;			/* an update or delete: found by old key */
} DimensionChange;

static bool fill_dimension_change(DimensionChange *dc, Relation relation,
								  ReorderBufferChange *change);
static void apply_dimension_isolated(DimensionChange *dc);
static void keep_table_change(DecodeTarget *target, ReorderBufferTXN *txn, Relation relation,
							  ReorderBufferChange *change);
static void apply_joining(DecodeTarget *target, StreamTarget *st, HeapTuple tuple,
						  TupleDesc desc, ReorderBufferTXN *txn);
static void apply_deferred(DecodeTarget *target);
static void decode_again_joining_at_commit(DecodeTarget *target, ReorderBufferTXN *txn)
			pg_attribute_noreturn();

static MemoryContext dimension_change_cxt = NULL;

/*
 * The events of one transaction that wait for its commit to reach the
 * views that join tables (apply_joining): beyond this, they are applied as
 * they come.
 */
#define DEFERRED_EVENTS_MAX_BYTES (4 * 1024 * 1024)

/*
 * _PG_output_plugin_init registers the output plugin callbacks.
 */
void
_PG_output_plugin_init(OutputPluginCallbacks *cb)
{
	cb->startup_cb = decoder_startup;
	cb->begin_cb = decoder_begin;
	cb->change_cb = decoder_change;
	cb->commit_cb = decoder_commit;
	cb->filter_by_origin_cb = decoder_filter_by_origin;
	cb->truncate_cb = decoder_truncate;

	/* registering them lets PostgreSQL stream large transactions to us */
	cb->stream_start_cb = decoder_stream_start;
	cb->stream_stop_cb = decoder_stream_stop;
	cb->stream_change_cb = decoder_stream_change;
	cb->stream_abort_cb = decoder_stream_abort;
	cb->stream_commit_cb = decoder_stream_commit;
	cb->stream_truncate_cb = decoder_stream_truncate;
}

/*
 * decoder_startup declares binary output, which is never written.
 */
static void
decoder_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt, bool is_init)
{
	opt->output_type = OUTPUT_PLUGIN_BINARY_OUTPUT;
	opt->receive_rewrites = false;
}

/*
 * decoder_begin resets what the plugin tracks per transaction.
 */
static void
decoder_begin(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	DecodeTarget *target = ctx->output_writer_private;

	if (target)
	{
		ListCell   *lc;

		target->txn_changes_catalog = false;
		target->txn_event = 0;
		target->pending = NIL;
		target->pending_tables = NIL;
		MemoryContextReset(target->pending_cxt);
		target->txn_joined = false;
		target->txn_joins_at_commit = false;
		foreach(lc, target->joins_at_commit)
			if (*(XLogRecPtr *) lfirst(lc) == txn->end_lsn)
				target->txn_joins_at_commit = true;
		target->deferred = NIL;
		target->deferred_bytes = 0;
		if (target->deferred_cxt == NULL)
			target->deferred_cxt = AllocSetContextCreate(TopMemoryContext,
														 "streamext events joined at commit",
														 ALLOCSET_DEFAULT_SIZES);
		MemoryContextReset(target->deferred_cxt);
	}
}

/*
 * decoder_change applies one committed change: an insert into a stream
 * goes to each of the stream's views that started before this commit.
 */
static void
decoder_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
			   Relation relation, ReorderBufferChange *change)
{
	DecodeTarget *target = ctx->output_writer_private;
	Oid			relid = RelationGetRelid(relation);
	StreamTarget *st;
	HeapTuple	tuple;
	HeapTuple	flat = NULL;
	HeapTuple	converted = NULL;
	TupleDesc	desc;
	bool		leaf_of_stream = false;

	if (target == NULL)
		return;
	if (relid == target->view_catalog_relid || relid == target->sub_catalog_relid ||
		relid == target->stream_catalog_relid)
	{
		target->txn_changes_catalog = true;
		return;
	}
	/* not streamext's own tables, nor streams: their rows are not joined */
	if (target->txn_changes_catalog && txn->end_lsn > target->applied_upto &&
		relation->rd_rel->relkind == RELKIND_RELATION && !IsCatalogRelation(relation) &&
		RelationGetNamespace(relation) != get_rel_namespace(target->view_catalog_relid) &&
		!relation->rd_rel->relispartition && !is_stream(relation))
		keep_table_change(target, txn, relation, change);
	if (target->dimensions != NULL && txn->end_lsn > target->applied_upto)
	{
		DimensionTarget *dt = hash_search(target->dimensions, &relid, HASH_FIND, NULL);

		if (dt != NULL)
		{
			/* numbered as any insert: see SetAside */
			if (change->action == REORDER_BUFFER_CHANGE_INSERT)
				target->txn_event++;
			if (target->txn_joined && !target->txn_joins_at_commit)
				decode_again_joining_at_commit(target, txn);
			apply_dimension_change(target, dt, txn, relation, change);
			return;
		}
	}
	if (change->action != REORDER_BUFFER_CHANGE_INSERT ||
		change->data.tp.newtuple == NULL ||
		txn->end_lsn <= target->applied_upto)
		return;

	/* every insert is numbered, whatever reads it: see SetAside */
	target->txn_event++;
	if (!insert_as_stream(relation, change, &relid, &desc, &tuple, &converted,
						  &leaf_of_stream))
		return;

	if (rbtxn_has_catalog_changes(txn) && (leaf_of_stream || is_stream(relation)))
	{
		MemoryContext old = MemoryContextSwitchTo(target->pending_cxt);
		PendingInsert *pi = palloc(sizeof(PendingInsert));

		pi->relid = relid;
		/* values kept out of line live only while this transaction decodes */
		pi->tuple = toast_flatten_tuple(tuple, desc);
		pi->commit_time = txn->xact_time.commit_time;
		pi->final_lsn = txn->final_lsn;
		pi->end_lsn = txn->end_lsn;
		pi->event_no = target->txn_event;
		target->pending = lappend(target->pending, pi);
		MemoryContextSwitchTo(old);
	}
	if (target->last_stream != NULL && target->last_stream->relid == relid)
		st = target->last_stream;
	else
	{
		st = hash_search(target->streams, &relid, HASH_FIND, NULL);
		if (st == NULL)
		{
			if (converted != NULL)
				heap_freetuple(converted);
			return;
		}
		target->last_stream = st;
	}

	/*
	 * Values stored out of line point into the reorder buffer; group keys and
	 * states outlive it, so such a tuple is flattened first.
	 */
	/*
	 * The functions views and filters call (plpgsql, SQL) need a snapshot to
	 * run queries: the decoding's historic one, so they read the catalogs as
	 * of this change.  It is a copy of our own, pushed for this change only.
	 * The historic snapshot belongs to the reorder buffer, which changes and
	 * frees it between changes (a new command ID, a catalog-changing commit
	 * distributing a new snapshot: ReorderBufferProcessTXN); pushed itself
	 * across changes, it stayed on the active stack freed, and popping it at
	 * the commit freed the reorder buffer's next snapshot, which took its
	 * place in memory, so the reorder buffer freed it a second time.
	 */
	PushCopiedSnapshot(GetTransactionSnapshot());
	if (HeapTupleHasExternal(tuple))
		tuple = flat = toast_flatten_tuple(tuple, desc);
	ExecStoreHeapTuple(tuple, st->slot, false);
	if (st->joining_plans == NIL)
		decoder_apply_event(target, st->plans, st->subs, st->slot, txn->final_lsn, txn->end_lsn,
							target->txn_event, txn->xact_time.commit_time);
	else
		apply_joining(target, st, tuple, desc, txn);
	ExecClearTuple(st->slot);
	PopActiveSnapshot();
	if (flat != NULL)
		heap_freetuple(flat);
	if (converted != NULL)
		heap_freetuple(converted);
	st->events++;
	target->changed = true;
}

/*
 * is_dimension says whether some view joins the table relid.
 */
static bool
is_dimension(DecodeTarget *target, Oid relid)
{
	return target->dimensions != NULL &&
		hash_search(target->dimensions, &relid, HASH_FIND, NULL) != NULL;
}

/*
 * apply_dimension_change applies a committed change of a table that views
 * join to the rows each of them keeps (lookup_cache.c), in commit order
 * with the events: an event committed after it finds the row it made.  A
 * view whose rows cannot take the change (its memory full, a type's hash
 * function failing) fails: it cannot be read, with the reason, until
 * rebuild_view, rather than join later events with a row that is wrong.
 */
static void
apply_dimension_change(DecodeTarget *target, DimensionTarget *dt, ReorderBufferTXN *txn,
					   Relation relation, ReorderBufferChange *change)
{
	DimensionChange dc;
	ListCell   *lc;

	if (!fill_dimension_change(&dc, relation, change))
		return;
	PushCopiedSnapshot(GetTransactionSnapshot());
	foreach(lc, dt->uses)
	{
		DimensionUse *use = lfirst(lc);

		/* in the rows its backfill read; or a view failed already */
		if (txn->final_lsn <= use->plan->start_lsn || use->plan->state->lookup_failure != NULL)
			continue;
		dc.use = use;
		apply_dimension_isolated(&dc);
		target->changed = true;
	}
	PopActiveSnapshot();
}

/*
 * fill_dimension_change takes a decoded change of a joined table apart;
 * false for a change that changes no row.
 */
static bool
fill_dimension_change(DimensionChange *dc, Relation relation, ReorderBufferChange *change)
{
	memset(dc, 0, sizeof(DimensionChange));
	dc->desc = RelationGetDescr(relation);
	dc->old_is_full = (relation->rd_rel->relreplident == REPLICA_IDENTITY_FULL);
	dc->keyed = (change->action != REORDER_BUFFER_CHANGE_INSERT);
	switch (change->action)
	{
		case REORDER_BUFFER_CHANGE_INSERT:
			if (change->data.tp.newtuple == NULL)
				return false;
			dc->newtuple = &change->data.tp.newtuple->tuple;
			break;
		case REORDER_BUFFER_CHANGE_UPDATE:
			if (change->data.tp.newtuple == NULL)
				return false;
			dc->newtuple = &change->data.tp.newtuple->tuple;
			if (change->data.tp.oldtuple != NULL)
				dc->oldtuple = &change->data.tp.oldtuple->tuple;
			break;
		case REORDER_BUFFER_CHANGE_DELETE:
			if (change->data.tp.oldtuple != NULL)
				dc->oldtuple = &change->data.tp.oldtuple->tuple;
			break;
		default:
			return false;
	}
	if (dc->keyed && !dc->old_is_full)
		dc->identity = RelationGetIdentityKeyBitmap(relation);
	return true;
}

/*
 * keep_table_change keeps a change of a table that a transaction which
 * changed the view catalog made after that change: a view it created (or
 * computed again) read the table before it, and is loaded only at the
 * transaction's commit; decoder_apply_pending_tables applies it then.
 */
static void
keep_table_change(DecodeTarget *target, ReorderBufferTXN *txn, Relation relation,
				  ReorderBufferChange *change)
{
	MemoryContext old = MemoryContextSwitchTo(target->pending_cxt);
	PendingTableChange *pc = palloc0(sizeof(PendingTableChange));
	DimensionChange dc;

	if (fill_dimension_change(&dc, relation, change))
	{
		pc->relid = RelationGetRelid(relation);
		pc->oldtuple = dc.oldtuple ? heap_copytuple(dc.oldtuple) : NULL;
		pc->newtuple = dc.newtuple ? heap_copytuple(dc.newtuple) : NULL;
		pc->old_is_full = dc.old_is_full;
		pc->keyed = dc.keyed;
		pc->identity = bms_copy(dc.identity);
		pc->final_lsn = txn->final_lsn;
		target->pending_tables = lappend(target->pending_tables, pc);
	}
	MemoryContextSwitchTo(old);
}

/*
 * decoder_apply_pending_tables applies the changes keep_table_change kept
 * to the views the transaction created that join their tables, after they
 * were loaded at its commit and before its events reach them.
 */
void
decoder_apply_pending_tables(DecodeTarget *target, List *new_plans)
{
	ListCell   *lc;

	if (target->pending_tables == NIL)
		return;
	foreach(lc, target->pending_tables)
	{
		PendingTableChange *pc = lfirst(lc);
		Relation	rel;
		ListCell   *lc2;

		rel = try_table_open(pc->relid, AccessShareLock);
		if (rel == NULL)
			continue;
		foreach(lc2, new_plans)
		{
			ViewPlan   *plan = lfirst(lc2);
			int			d;

			for (d = 0; d < plan->joined.nlookups; d++)
			{
				DimensionUse use = {plan, d};
				DimensionChange dc = {&use, pc->oldtuple, pc->newtuple, RelationGetDescr(rel),
				pc->old_is_full, pc->identity, pc->keyed};

				if (plan->joined.lookups[d].relid != pc->relid ||
					pc->final_lsn <= plan->start_lsn || plan->state->lookup_failure != NULL)
					continue;
				if (pc->truncate)
				{
					lookup_cache_truncate(plan, d);
					continue;
				}
				apply_dimension_isolated(&dc);
			}
		}
		table_close(rel, AccessShareLock);
	}
	target->changed = true;
}

/*
 * apply_dimension_isolated applies a change to one view's rows in a
 * subtransaction and a memory context of its own; a view that cannot take
 * it fails (lookup_cache_failed) and the others go on.
 */
static void
apply_dimension_isolated(DimensionChange *dc)
{
	UserCodeFailure failure;

	if (dimension_change_cxt == NULL)
		dimension_change_cxt = AllocSetContextCreate(TopMemoryContext,
													 "streamext dimension change",
													 ALLOCSET_DEFAULT_SIZES);
	if (!usercode_isolated(InvalidOid, USERCODE_READ_ONLY, apply_dimension_one, dc, &failure))
	{
		lookup_cache_failed(dc->use->plan, failure.error->message);
		FreeErrorData(failure.error);
	}
	MemoryContextReset(dimension_change_cxt);
}

static void
apply_dimension_one(void *arg)
{
	DimensionChange *dc = arg;
	MemoryContext old = MemoryContextSwitchTo(dimension_change_cxt);

	usercode_timeout_restart();
	if (dc->keyed && !dc->old_is_full)
	{
		/* the replica identity may have changed since create_view checked it */
		LookupJoin *lk = &dc->use->plan->joined.lookups[dc->use->which];
		int			i;

		for (i = 0; i < lk->nkeys; i++)
			if (!bms_is_member(lk->dim_keys[i] - FirstLowInvalidHeapAttributeNumber,
							   dc->identity))
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("the replica identity of \"%s\" no longer logs the columns the view joins on",
								lk->relname),
						 errhint("ALTER TABLE %s REPLICA IDENTITY FULL (or back to its key), then streamext.rebuild_view().",
								 lk->relname)));
	}
	lookup_cache_apply_change(dc->use->plan, dc->use->which, dc->oldtuple, dc->newtuple,
							  dc->desc, dc->old_is_full, dc->keyed);
	MemoryContextSwitchTo(old);
}

/*
 * apply_joining applies an event of a stream some of whose views join
 * tables.  An event is joined with the tables as its transaction leaves
 * them at its commit, and decoded in order, the transaction's changes of a
 * table after the event are still to come.  So its events wait for its
 * commit to reach the views that join (apply_deferred), while the other
 * views and subscriptions get them at once.  Only so many bytes of a
 * transaction wait (DEFERRED_EVENTS_MAX_BYTES): past them its events are
 * applied as they come, and if it then changes a joined table it is
 * decoded again from the checkpoint (decode_again_joining_at_commit) with
 * all its events waiting.
 */
static void
apply_joining(DecodeTarget *target, StreamTarget *st, HeapTuple tuple, TupleDesc desc,
			  ReorderBufferTXN *txn)
{
	MemoryContext old;
	PendingInsert *pi;

	if (!target->txn_joins_at_commit &&
		(target->txn_joined ||
		 target->deferred_bytes + tuple->t_len > DEFERRED_EVENTS_MAX_BYTES))
	{
		/* too large to wait: what waited goes first, in order */
		if (target->deferred != NIL)
		{
			apply_deferred(target);
			ExecStoreHeapTuple(tuple, st->slot, false);
		}
		target->txn_joined = true;
		decoder_apply_event(target, st->plans, st->subs, st->slot, txn->final_lsn,
							txn->end_lsn, target->txn_event, txn->xact_time.commit_time);
		return;
	}
	decoder_apply_event(target, st->plain_plans, st->subs, st->slot, txn->final_lsn,
						txn->end_lsn, target->txn_event, txn->xact_time.commit_time);
	old = MemoryContextSwitchTo(target->deferred_cxt);
	pi = palloc(sizeof(PendingInsert));
	pi->relid = st->relid;
	pi->tuple = heap_copytuple(tuple);
	pi->commit_time = txn->xact_time.commit_time;
	pi->final_lsn = txn->final_lsn;
	pi->end_lsn = txn->end_lsn;
	pi->event_no = target->txn_event;
	target->deferred = lappend(target->deferred, pi);
	target->deferred_bytes += tuple->t_len;
	MemoryContextSwitchTo(old);
}

/*
 * apply_deferred applies, at its commit, the events of a transaction that
 * waited for it (apply_joining) to the views of their streams that join.
 */
static void
apply_deferred(DecodeTarget *target)
{
	ListCell   *lc;

	PushCopiedSnapshot(GetTransactionSnapshot());
	foreach(lc, target->deferred)
	{
		PendingInsert *pi = lfirst(lc);
		StreamTarget *st = hash_search(target->streams, &pi->relid, HASH_FIND, NULL);

		if (st == NULL)
			continue;
		ExecStoreHeapTuple(pi->tuple, st->slot, false);
		decoder_apply_event(target, st->joining_plans, NIL, st->slot, pi->final_lsn,
							pi->end_lsn, pi->event_no, pi->commit_time);
		ExecClearTuple(st->slot);
	}
	PopActiveSnapshot();
	target->deferred = NIL;
	target->deferred_bytes = 0;
	MemoryContextReset(target->deferred_cxt);
	target->changed = true;
}

/*
 * decode_again_joining_at_commit makes the transaction decoded, which
 * changes a table that views join after it applied events to such views,
 * be decoded again from the checkpoint with its events joined at its
 * commit; it ends the decoding with an error, as fall_back does.
 */
static void
decode_again_joining_at_commit(DecodeTarget *target, ReorderBufferTXN *txn)
{
	MemoryContext old = MemoryContextSwitchTo(target->set_aside_cxt);
	XLogRecPtr *end = palloc(sizeof(XLogRecPtr));

	*end = txn->end_lsn;
	target->joins_at_commit = lappend(target->joins_at_commit, end);
	target->rewind = true;
	MemoryContextSwitchTo(old);
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("streamext decodes transaction %u again: it changes a table that a view joins after events of it the view joined",
					txn->xid),
			 errdetail("The worker decodes again from its checkpoint and joins the transaction's events at its commit.")));
}

/*
 * decoder_truncate empties the rows views keep of a joined table that a
 * committed TRUNCATE emptied.
 */
static void
decoder_truncate(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, int nrelations,
				 Relation relations[], ReorderBufferChange *change)
{
	DecodeTarget *target = ctx->output_writer_private;
	int			i;

	if (target == NULL || txn->end_lsn <= target->applied_upto)
		return;
	for (i = 0; i < nrelations && target->txn_changes_catalog; i++)
	{
		/* for a view the transaction made: see keep_table_change */
		MemoryContext old = MemoryContextSwitchTo(target->pending_cxt);
		PendingTableChange *pc = palloc0(sizeof(PendingTableChange));

		pc->relid = RelationGetRelid(relations[i]);
		pc->truncate = true;
		pc->final_lsn = txn->final_lsn;
		target->pending_tables = lappend(target->pending_tables, pc);
		MemoryContextSwitchTo(old);
	}
	if (target->dimensions == NULL)
		return;
	for (i = 0; i < nrelations; i++)
	{
		Oid			relid = RelationGetRelid(relations[i]);
		DimensionTarget *dt = hash_search(target->dimensions, &relid, HASH_FIND, NULL);
		ListCell   *lc;

		if (dt == NULL)
			continue;
		if (target->txn_joined && !target->txn_joins_at_commit)
			decode_again_joining_at_commit(target, txn);
		foreach(lc, dt->uses)
		{
			DimensionUse *use = lfirst(lc);

			if (txn->final_lsn > use->plan->start_lsn)
				lookup_cache_truncate(use->plan, use->which);
		}
		target->changed = true;
	}
}

/*
 * decoder_stream_truncate makes a streamed transaction that empties a
 * joined table be decoded again at its commit.
 */
static void
decoder_stream_truncate(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, int nrelations,
						Relation relations[], ReorderBufferChange *change)
{
	DecodeTarget *target = ctx->output_writer_private;
	int			i;

	if (target == NULL)
		return;
	for (i = 0; i < nrelations; i++)
		if (is_dimension(target, RelationGetRelid(relations[i])))
		{
			(void) streamed_txn(target, txn->xid, true);
			fall_back(target, txn->xid, ctx->reader->EndRecPtr,
					  "it empties a table that a continuous view joins");
		}
}

/*
 * insert_as_stream gives an insert as its stream gets it: a partition's as
 * its stream's (relid, row layout), a converted copy in *converted.  False
 * for a partition of a table that is not a stream.
 */
static bool
insert_as_stream(Relation relation, ReorderBufferChange *change, Oid *relid,
				 TupleDesc *desc, HeapTuple *tuple, HeapTuple *converted,
				 bool *leaf_of_stream)
{
	*tuple = &change->data.tp.newtuple->tuple;
	*desc = RelationGetDescr(relation);
	*converted = NULL;
	*leaf_of_stream = false;
	if (relation->rd_rel->relispartition)
	{
		PartitionRoot *pr = partition_root(relation);

		if (!pr->root_is_stream)
			return false;
		*relid = pr->root;
		*desc = pr->rootdesc;
		if (pr->map != NULL)
			*tuple = *converted = execute_attr_map_tuple(*tuple, pr->map);
		*leaf_of_stream = true;
	}
	return true;
}

/*
 * decoder_commit reports the commit: its position and time, and whether it
 * changed the view catalog.
 */
static void
decoder_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
			   XLogRecPtr commit_lsn)
{
	DecodeTarget *target = ctx->output_writer_private;

	if (target == NULL)
		return;
	if (target->deferred != NIL)
		apply_deferred(target);
	/* a view's function may not keep a session advisory lock in the worker */
	LockReleaseSession(USER_LOCKMETHOD);
	if (target->txn_changes_catalog)
	{
		target->catalog_changed = true;
		target->catalog_xid = txn->xid;
		target->txn_changes_catalog = false;
	}
	if (txn->end_lsn > target->applied_upto)
	{
		target->last_commit_end = txn->end_lsn;
		target->last_commit_time = txn->xact_time.commit_time;
		target->transactions++;
	}
}

/*
 * decoder_apply_event applies a committed event to the views and
 * subscriptions of its stream that started before its commit.  They run in
 * one subtransaction (a quarter of a microsecond) rather than one each: an
 * event that fails in one of them costs that event of that view or
 * subscription (a dead letter) and the subtransaction is begun again for
 * the ones after it, which did not run; the ones before it are done, and
 * rolling back the subtransaction takes nothing of theirs.  An event that
 * cannot be set aside where it failed (states half changed, an XID taken)
 * is set aside when the WAL is decoded again.
 */
void
decoder_apply_event(DecodeTarget *target, List *plans, List *subs, TupleTableSlot *event,
					XLogRecPtr final_lsn, XLogRecPtr end_lsn, uint32 event_no,
					TimestampTz commit_time)
{
	EventApply	ea = {target, plans, subs, event, final_lsn, end_lsn, event_no,
	commit_time, 0};
	int			nplans = list_length(plans);
	int			n = nplans + list_length(subs);

	while (ea.next < n)
	{
		UserCodeFailure failure;

		if (usercode_isolated(InvalidOid, USERCODE_READ_ONLY, apply_from, &ea, &failure))
			break;
		if (ea.next >= n)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("streamext: the transaction took a transaction ID after the views and subscriptions of an event were done")));
		if (ea.next < nplans)
		{
			ViewPlan   *plan = list_nth(plans, ea.next);

			if (failure.assigned_xid || plan->state->mutating)
			{
				plan->state->mutating = false;
				decode_again_without(target, end_lsn, event_no, plan->id, 0, plan->name,
									 &failure);
			}
			view_plan_set_aside(plan, event, commit_time, final_lsn,
								failure.error->sqlerrcode, failure.error->message);
		}
		else
		{
			SubscriptionPlan *sub = list_nth(subs, ea.next - nplans);

			if (failure.assigned_xid)
				decode_again_without(target, end_lsn, event_no, 0, sub->id, sub->name,
									 &failure);
			subscription_set_aside(sub, event, commit_time, final_lsn,
								   failure.error->sqlerrcode, failure.error->message);
		}
		FreeErrorData(failure.error);
		ea.next++;
	}
}

/*
 * apply_from applies the event to the views and subscriptions from the
 * next one on, for usercode_isolated; ea->next says how far it got.  Each
 * one's code runs behind its owner's gate.
 */
static void
apply_from(void *arg)
{
	EventApply *ea = arg;
	int			nplans = list_length(ea->plans);
	int			n = nplans + list_length(ea->subs);

	for (; ea->next < n; ea->next++)
	{
		usercode_timeout_restart();
		if (ea->next < nplans)
			apply_to_view(ea, list_nth(ea->plans, ea->next));
		else
			apply_to_subscription(ea, list_nth(ea->subs, ea->next - nplans));
	}
}

/*
 * apply_to_view applies the event to one view, or sets it aside when it is
 * to be (decoded again after it failed), or when the view's owner lost
 * EXECUTE on a function it calls in a transaction committed before it.
 */
static void
apply_to_view(EventApply *ea, ViewPlan *plan)
{
	SetAside   *sa;

	if (ea->final_lsn <= plan->start_lsn)
		return;					/* in the view's backfill */
	plan->state->txn_end = ea->end_lsn;
	sa = find_set_aside(ea->target, ea->end_lsn, ea->event_no, plan->id, 0);
	if (sa == NULL && usercode_acl_ok(&plan->acl))
	{
		view_plan_apply_event(plan, ea->event, ea->commit_time);
		return;
	}
	(void) view_plan_note_event_time(plan, ea->event, ea->commit_time);
	if (sa != NULL)
		view_plan_set_aside(plan, ea->event, ea->commit_time, ea->final_lsn,
							sa->sqlerrcode, sa->message);
	else
		view_plan_set_aside(plan, ea->event, ea->commit_time, ea->final_lsn,
							plan->acl.denied_code, plan->acl.denied);
}

/*
 * apply_to_subscription gives the event to one subscription, which queues
 * it when it passes the filter; or sets it aside, as apply_to_view does.
 */
static void
apply_to_subscription(EventApply *ea, SubscriptionPlan *sub)
{
	SetAside   *sa;

	if (ea->final_lsn <= sub->start_lsn || ea->end_lsn <= sub->delivered_lsn)
		return;
	sa = find_set_aside(ea->target, ea->end_lsn, ea->event_no, 0, sub->id);
	if (sa != NULL)
		subscription_set_aside(sub, ea->event, ea->commit_time, ea->final_lsn,
							   sa->sqlerrcode, sa->message);
	else if (!usercode_acl_ok(&sub->acl))
		subscription_set_aside(sub, ea->event, ea->commit_time, ea->final_lsn,
							   sub->acl.denied_code, sub->acl.denied);
	else
		subscription_deliver(sub, ea->event, ea->commit_time, ea->final_lsn);
}

/*
 * find_set_aside finds an event among those to set aside.  The list is
 * empty but after a failure that made the worker decode again.
 */
static SetAside *
find_set_aside(DecodeTarget *target, XLogRecPtr txn_end, uint32 event_no,
			   int32 view_id, int32 sub_id)
{
	ListCell   *lc;

	foreach(lc, target->set_aside)
	{
		SetAside   *sa = lfirst(lc);

		if (sa->txn_end == txn_end && sa->event_no == event_no &&
			sa->view_id == view_id && sa->sub_id == sub_id)
			return sa;
	}
	return NULL;
}

/*
 * decode_again_without remembers an event to set aside and ends the
 * decoding with an error that tells the worker to start over from its
 * checkpoint (worker.c, rewind_to_checkpoint): the view's states are half
 * changed, or the transaction took an XID that decoding cannot give back.
 */
static void
decode_again_without(DecodeTarget *target, XLogRecPtr txn_end, uint32 event_no,
					 int32 view_id, int32 sub_id, const char *what,
					 UserCodeFailure *failure)
{
	MemoryContext old = MemoryContextSwitchTo(target->set_aside_cxt);
	SetAside   *sa = palloc(sizeof(SetAside));

	sa->txn_end = txn_end;
	sa->event_no = event_no;
	sa->view_id = view_id;
	sa->sub_id = sub_id;
	sa->sqlerrcode = failure->error ? failure->error->sqlerrcode : ERRCODE_INTERNAL_ERROR;
	sa->message = pstrdup(failure->error ? failure->error->message : "unknown error");
	target->set_aside = lappend(target->set_aside, sa);
	target->rewind = true;
	MemoryContextSwitchTo(old);
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("streamext sets aside event %u of the transaction ending at %X/%X for \"%s\": %s",
					event_no, LSN_FORMAT_ARGS(txn_end), what, sa->message),
			 errdetail("The event failed after it began to change the view's states, or made the transaction take an XID; the worker decodes again from its checkpoint without it.")));
}

/*
 * decoder_forget_set_aside forgets the events to set aside of transactions
 * that a checkpoint has made durable: they are never decoded again.
 */
void
decoder_forget_set_aside(DecodeTarget *target, XLogRecPtr upto)
{
	ListCell   *lc;

	foreach(lc, target->set_aside)
	{
		SetAside   *sa = lfirst(lc);

		if (sa->txn_end <= upto)
		{
			pfree(sa->message);
			pfree(sa);
			target->set_aside = foreach_delete_current(target->set_aside, lc);
		}
	}
	foreach(lc, target->joins_at_commit)
		if (*(XLogRecPtr *) lfirst(lc) <= upto)
		{
			pfree(lfirst(lc));
			target->joins_at_commit = foreach_delete_current(target->joins_at_commit, lc);
		}
}

/*
 * is_stream says whether a relation is a stream by its write-notice trigger,
 * which create_stream adds; the catalog as of the change is what the
 * relation's descriptor shows while decoding.
 */
static bool
is_stream(Relation relation)
{
	TriggerDesc *trigdesc = relation->trigdesc;
	int			i;

	if (trigdesc == NULL)
		return false;
	for (i = 0; i < trigdesc->numtriggers; i++)
		if (strcmp(trigdesc->triggers[i].tgname, "streamext_wake") == 0)
			return true;
	return false;
}

/* the worker's own writes carry its origin and are not decoded back */
static bool
decoder_filter_by_origin(LogicalDecodingContext *ctx, RepOriginId origin_id)
{
	DecodeTarget *target = ctx->output_writer_private;

	return target != NULL && origin_id != InvalidRepOriginId &&
		origin_id == target->own_origin;
}

/*
 * partition_roots_invalidate forgets what partition_root found, at the next
 * lookup: a partition may have been attached, detached or altered.
 */
static void
partition_roots_invalidate(Datum arg, Oid relid)
{
	partition_roots_stale = true;
}

/*
 * partition_root finds the stream a partition's inserts belong to: the
 * topmost ancestor of its partition tree, as of the change decoded (the
 * historic catalog, so a partition dropped since is still found), and how
 * to convert its rows to that stream's layout.
 */
static PartitionRoot *
partition_root(Relation leaf)
{
	Oid			relid = RelationGetRelid(leaf);
	PartitionRoot *pr;
	bool		found;

	if (partition_roots == NULL || partition_roots_stale)
	{
		HASHCTL		hctl;

		if (partition_roots_cxt == NULL)
		{
			partition_roots_cxt = AllocSetContextCreate(TopMemoryContext,
														"streamext partition roots",
														ALLOCSET_SMALL_SIZES);
			CacheRegisterRelcacheCallback(partition_roots_invalidate, (Datum) 0);
		}
		MemoryContextReset(partition_roots_cxt);
		memset(&hctl, 0, sizeof(hctl));
		hctl.keysize = sizeof(Oid);
		hctl.entrysize = sizeof(PartitionRoot);
		hctl.hcxt = partition_roots_cxt;
		partition_roots = hash_create("streamext partition roots", 16, &hctl,
									  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		partition_roots_stale = false;
	}
	pr = hash_search(partition_roots, &relid, HASH_ENTER, &found);
	if (!found)
	{
		MemoryContext old = MemoryContextSwitchTo(partition_roots_cxt);
		Relation	root;

		pr->root = llast_oid(get_partition_ancestors(relid));
		root = RelationIdGetRelation(pr->root);
		if (!RelationIsValid(root))
			elog(ERROR, "streamext: could not open relation %u, the partitioned table of %u",
				 pr->root, relid);
		pr->root_is_stream = is_stream(root);
		pr->rootdesc = CreateTupleDescCopy(RelationGetDescr(root));
		pr->map = convert_tuples_by_name(CreateTupleDescCopy(RelationGetDescr(leaf)),
										 pr->rootdesc);
		RelationClose(root);
		MemoryContextSwitchTo(old);
	}
	return pr;
}

/*
 * before_empty_page_header is pos, or the end of the page before when pos
 * points just past the header of a page nothing was written on yet (the
 * insert position does after a record that filled the page before, and so
 * may the flush position).  That header is not a record: decoding up to
 * it would wait in read_local_xlog_page for the next record, which may
 * not come for many seconds, and XLogFlush to it would fail.
 */
static XLogRecPtr
before_empty_page_header(XLogRecPtr pos)
{
	if (XLogSegmentOffset(pos, wal_segment_size) == SizeOfXLogLongPHD)
		return pos - SizeOfXLogLongPHD;
	if (pos % XLOG_BLCKSZ == SizeOfXLogShortPHD)
		return pos - SizeOfXLogShortPHD;
	return pos;
}

/* decoder_wal_inserted_upto is the end of the WAL inserted so far */
XLogRecPtr
decoder_wal_inserted_upto(void)
{
	return before_empty_page_header(GetXLogInsertRecPtr());
}

/* decoder_wal_flushed_upto is the end of the WAL flushed so far */
XLogRecPtr
decoder_wal_flushed_upto(void)
{
	return before_empty_page_header(GetFlushRecPtr(NULL));
}

/*
 * decoder_read_wal_page reads WAL for the worker's decoding as
 * read_local_xlog_page does, except that a record inserted but not flushed
 * yet is flushed rather than waited for.  The WAL writer flushes whole
 * pages of a long transaction in the background, so the end of the flushed
 * WAL falls inside records; read_local_xlog_page would sleep until another
 * backend flushes the rest (up to the next commit, or the background
 * writer's snapshot every 15 seconds), deaf to the worker's latch: views,
 * wait_caught_up() and the clock would wait as long.
 */
int
decoder_read_wal_page(XLogReaderState *state, XLogRecPtr targetPagePtr, int reqLen,
					  XLogRecPtr targetRecPtr, char *readBuf)
{
	XLogRecPtr	needed = targetPagePtr + reqLen;

	if (needed > GetFlushRecPtr(NULL) && needed <= decoder_wal_inserted_upto())
		XLogFlush(needed);
	return read_local_xlog_page(state, targetPagePtr, reqLen, targetRecPtr, readBuf);
}

/*
 * decoder_stream_start and decoder_stream_stop frame a block of a streamed
 * transaction's changes; the partial states span blocks, a batch of events
 * does not (the tuples it points to are the block's).
 */
static void
decoder_stream_start(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	DecodeTarget *target = ctx->output_writer_private;

	if (target != NULL && target->batch != NULL)
		fold_batch_forget(target->batch);
}

static void
decoder_stream_stop(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	DecodeTarget *target = ctx->output_writer_private;

	if (target == NULL)
		return;
	if (target->batch != NULL && target->batch->n > 0 && !HistoricSnapshotActive())
		batch_after_concurrent_abort(ctx, target);
	if (target->batch != NULL)
		fold_batch_flush(ctx, target);
	reserve_for_placing(target);
}

/*
 * batch_after_concurrent_abort deals with a batch that the stream stops on
 * after PostgreSQL found a (sub)transaction of it rolled back while
 * decoding its changes: ReorderBufferResetTXN then stops the stream without
 * a historic snapshot (often outside any transaction), so the batch cannot
 * be folded.  The events of a part that was rolled back go with it, as
 * PostgreSQL drops its changes (its abort follows in the WAL); those of a
 * part that goes on, batched before the rolled back one's first change,
 * would be lost: the transaction is decoded again without streaming.
 */
static void
batch_after_concurrent_abort(LogicalDecodingContext *ctx, DecodeTarget *target)
{
	FoldBatch  *batch = target->batch;

	if (TransactionIdDidAbort(batch->part->xid))
	{
		fold_batch_forget(batch);
		return;
	}
	fall_back(target, batch->top_xid, ctx->reader->EndRecPtr,
			  "a part of it was rolled back while it was decoded, with events of another part not folded yet");
}

/*
 * reserve_for_placing faults in, while transactions are still being
 * written, the memory their placing will allocate at their commit (see
 * memory_reserve.c): about twice the partial states it will combine into
 * the views' groups (measured: 2.3 times, 1M events into 349,000 groups of
 * three views), at most streamext.max_memory, what the views may take in
 * shared memory.  The panes the views will adopt as they are allocate
 * nothing (view_partial_bytes_to_combine).
 */
static void
reserve_for_placing(DecodeTarget *target)
{
	HASH_SEQ_STATUS status;
	StreamedTxn *stx;
	Size		partial_bytes = 0;

	if (target->streamed == NULL)
		return;
	hash_seq_init(&status, target->streamed);
	while ((stx = hash_seq_search(&status)) != NULL)
	{
		ListCell   *lc;
		ListCell   *lc2;

		foreach(lc, stx->part_order)
			foreach(lc2, ((StreamedPart *) lfirst(lc))->partials)
				partial_bytes += view_partial_bytes_to_combine(lfirst(lc2));
	}
	memory_reserve_ensure(Min(2 * partial_bytes,
							  (Size) streamext_max_memory_mb * 1024 * 1024));
}

/*
 * decoder_stream_change folds a change of a transaction not committed yet
 * into partial states of the views of its stream, kept per subtransaction
 * (a later stream_abort may cancel one).  Whether the transaction counts
 * at all, and when, is known at its commit: decoder_stream_commit.  What
 * cannot be folded makes the transaction be decoded again without
 * streaming (fall_back), exactly as before streaming existed.
 */
static void
decoder_stream_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
					  Relation relation, ReorderBufferChange *change)
{
	DecodeTarget *target = ctx->output_writer_private;
	Oid			relid = RelationGetRelid(relation);
	StreamedTxn *stx;
	StreamedPart *part;
	StreamTarget *st;
	HeapTuple	tuple;
	HeapTuple	converted = NULL;
	TupleDesc	desc;
	bool		leaf_of_stream;

	if (target == NULL)
		return;
	stx = streamed_txn(target, txn->xid, true);
	if (relid == target->view_catalog_relid || relid == target->sub_catalog_relid)
	{
		stx->changes_catalog = true;
		return;
	}
	/* a change of a joined table applies at its commit, not before */
	if (is_dimension(target, relid))
		fall_back(target, txn->xid, ctx->reader->EndRecPtr,
				  "it changes a table that a continuous view joins");
	if (change->action != REORDER_BUFFER_CHANGE_INSERT ||
		change->data.tp.newtuple == NULL)
		return;
	if (!insert_as_stream(relation, change, &relid, &desc, &tuple, &converted,
						  &leaf_of_stream))
		return;
	st = hash_search(target->streams, &relid, HASH_FIND, NULL);
	if (st == NULL)
	{
		/* a view created by this transaction would need it: see pending */
		if (leaf_of_stream || is_stream(relation))
			stx->stream_inserts = true;
		if (converted != NULL)
			heap_freetuple(converted);
		return;
	}
	stx->stream_inserts = true;
	if (stx->changes_catalog)
		fall_back(target, txn->xid, ctx->reader->EndRecPtr,
				  "it changes the view catalog and inserts into a stream");
	/* an event joins the tables as of its commit, which is to come */
	if (st->joining_plans != NIL)
		fall_back(target, txn->xid, ctx->reader->EndRecPtr,
				  "a continuous view of its stream joins tables");

	part = streamed_part(stx, change->txn->xid);
	if (part->fold_relid != relid)
		stream_part_for(stx, part, st);
	part->fold_count->events++;

	fold_batch_add(ctx, target, txn->xid, part, st, tuple, desc);
	if (converted != NULL)
		heap_freetuple(converted);
}

/*
 * fold_batch_add adds an event to the batch of events to fold, after
 * folding the batch when the event cannot join it: another part or stream,
 * or another historic snapshot (a catalog change of the transaction, or
 * one committed meanwhile, applies to the events after it only).  Folding
 * events in batches enters the subtransaction and each owner's gate once
 * per batch rather than once per event; any failure makes the whole
 * transaction fall back, so an event needs no isolation of its own.
 */
static void
fold_batch_add(LogicalDecodingContext *ctx, DecodeTarget *target, TransactionId top_xid,
			   StreamedPart *part, StreamTarget *st, HeapTuple tuple, TupleDesc desc)
{
	FoldBatch  *batch = target->batch;
	Snapshot	snap = GetTransactionSnapshot();
	MemoryContext old;

	if (batch == NULL)
	{
		batch = MemoryContextAllocZero(TopMemoryContext, sizeof(FoldBatch));
		batch->cxt = AllocSetContextCreate(TopMemoryContext, "streamext fold batch",
										   ALLOCSET_DEFAULT_SIZES);
		target->batch = batch;
	}
	if (batch->n > 0 &&
		(batch->part != part || batch->stream != st || batch->snapshot != snap ||
		 batch->curcid != snap->curcid || batch->n == FOLD_BATCH_EVENTS))
		fold_batch_flush(ctx, target);
	if (batch->n == 0)
	{
		batch->top_xid = top_xid;
		batch->part = part;
		batch->stream = st;
		batch->snapshot = snap;
		batch->curcid = snap->curcid;
		/* the part's list is rebuilt when its next event is another stream's */
		old = MemoryContextSwitchTo(batch->cxt);
		batch->partials = list_copy(part->fold_partials);
		MemoryContextSwitchTo(old);
	}
	/* a copy: toast chunks are freed after their change, and a conversion now */
	old = MemoryContextSwitchTo(batch->cxt);
	if (HeapTupleHasExternal(tuple))
		batch->tuples[batch->n++] = toast_flatten_tuple(tuple, desc);
	else
		batch->tuples[batch->n++] = heap_copytuple(tuple);
	MemoryContextSwitchTo(old);
}

/*
 * fold_batch_flush folds the batched events into the partial states of
 * their stream's views, with the historic snapshot they were decoded with
 * (the decoder's current one: see fold_batch_add).
 */
static void
fold_batch_flush(LogicalDecodingContext *ctx, DecodeTarget *target)
{
	FoldBatch  *batch = target->batch;
	EventFold	ef;
	UserCodeFailure failure;
	TransactionId alive;

	if (batch->n == 0)
		return;
	PushCopiedSnapshot(GetTransactionSnapshot());
	ef.partials = batch->partials;
	ef.subs = batch->stream->subs;
	ef.spill = NULL;
	if (ef.subs != NIL)
	{
		StreamedTxn *stx = streamed_txn(target, batch->top_xid, false);

		if (stx->spill == NULL)
			stx->spill = subscription_spill_create(stx->cxt);
		ef.spill = stx->spill;
	}
	ef.relid = batch->stream->relid;
	ef.part = batch->part->xid;
	ef.event = batch->stream->slot;
	ef.tuples = batch->tuples;
	ef.ntuples = batch->n;
	ef.next = 0;
	/* the subtransaction's abort forgets it */
	alive = CheckXidAlive;
	if (!usercode_isolated(InvalidOid, USERCODE_READ_ONLY, fold_from, &ef, &failure))
	{
		TransactionId xid = batch->top_xid;
		bool		part_aborted = TransactionIdDidAbort(batch->part->xid);

		fold_batch_forget(batch);

		/*
		 * The part was rolled back under us: PostgreSQL's to handle, which
		 * drops its changes.  A batch of another part that goes on, folded
		 * as the rolled back one's first change came, would be lost with
		 * them: decoded again instead.
		 */
		if (is_concurrent_abort(failure.error, alive) && part_aborted)
			ReThrowError(failure.error);
		fall_back(target, xid, ctx->reader->EndRecPtr, failure.error->message);
	}
	PopActiveSnapshot();
	fold_batch_forget(batch);
}

/* fold_batch_forget empties the batch (folded, or to be decoded again) */
static void
fold_batch_forget(FoldBatch *batch)
{
	batch->n = 0;
	batch->part = NULL;
	batch->stream = NULL;
	batch->partials = NIL;
	batch->snapshot = NULL;
	MemoryContextReset(batch->cxt);
}

/*
 * stream_part_for points a part of a streamed transaction at the partial
 * states of a stream's views (made on first use) and at its event count.
 */
static void
stream_part_for(StreamedTxn *stx, StreamedPart *part, StreamTarget *st)
{
	MemoryContext old = MemoryContextSwitchTo(stx->cxt);
	StreamCount *sc = NULL;
	ListCell   *lc;
	ListCell   *lc2;

	list_free(part->fold_partials);
	part->fold_partials = NIL;
	foreach(lc, st->plans)
	{
		ViewPlan   *plan = lfirst(lc);
		ViewPartial *vp = NULL;

		foreach(lc2, part->partials)
			if (((ViewPartial *) lfirst(lc2))->plan == plan)
				vp = lfirst(lc2);
		if (vp == NULL)
		{
			vp = view_partial_create(plan, stx->cxt);
			part->partials = lappend(part->partials, vp);
		}
		part->fold_partials = lappend(part->fold_partials, vp);
	}
	foreach(lc, part->counts)
		if (((StreamCount *) lfirst(lc))->relid == st->relid)
			sc = lfirst(lc);
	if (sc == NULL)
	{
		sc = palloc0(sizeof(StreamCount));
		sc->relid = st->relid;
		part->counts = lappend(part->counts, sc);
	}
	part->fold_count = sc;
	part->fold_relid = st->relid;
	MemoryContextSwitchTo(old);
}

/*
 * fold_from folds the batch into each view's partial states, then writes
 * what passes each subscription's filter to its file, for
 * usercode_isolated; each view's and subscription's code runs behind its
 * owner's gate, with a time of its own for the batch.
 */
static void
fold_from(void *arg)
{
	EventFold  *ef = arg;
	int			nviews = list_length(ef->partials);

	for (; ef->next < nviews + list_length(ef->subs); ef->next++)
	{
		usercode_timeout_restart();
		if (ef->next < nviews)
			view_partial_fold(list_nth(ef->partials, ef->next), ef->event,
							  ef->tuples, ef->ntuples);
		else
			subscription_spill_events(ef->spill, list_nth(ef->subs, ef->next - nviews),
									  ef->relid, ef->part, ef->event,
									  ef->tuples, ef->ntuples);
	}
}

/*
 * is_concurrent_abort says whether an error is PostgreSQL's report that the
 * (sub)transaction being streamed was rolled back while its changes were
 * decoded (HandleConcurrentAbort): it must reach ReorderBufferProcessTXN,
 * which stops streaming it; the abort follows.  alive is the CheckXidAlive
 * the error was raised with.  A user's function raising the same SQLSTATE
 * is not one.
 */
static bool
is_concurrent_abort(ErrorData *edata, TransactionId alive)
{
	return edata->sqlerrcode == ERRCODE_TRANSACTION_ROLLBACK &&
		TransactionIdIsValid(alive) &&
		!TransactionIdIsInProgress(alive) &&
		!TransactionIdDidCommit(alive);
}

/*
 * decoder_stream_abort drops what a rolled-back transaction, or one of its
 * subtransactions (ROLLBACK TO SAVEPOINT), folded.
 */
static void
decoder_stream_abort(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
					 XLogRecPtr abort_lsn)
{
	DecodeTarget *target = ctx->output_writer_private;
	TransactionId top = txn->toptxn ? txn->toptxn->xid : txn->xid;
	StreamedTxn *stx;
	StreamedPart *part;
	ListCell   *lc;

	if (target == NULL || (stx = streamed_txn(target, top, false)) == NULL)
		return;
	if (txn->toptxn == NULL)
	{
		streamed_drop(target, stx);
		return;
	}
	if (stx->spill != NULL)
		subscription_spill_abort_part(stx->spill, txn->xid);
	part = hash_search(stx->parts, &txn->xid, HASH_FIND, NULL);
	if (part == NULL)
		return;
	foreach(lc, part->partials)
		MemoryContextDelete(((ViewPartial *) lfirst(lc))->cxt);
	stx->part_order = list_delete_ptr(stx->part_order, part);
	stx->last_part = NULL;
	hash_search(stx->parts, &txn->xid, HASH_REMOVE, NULL);
}

/*
 * decoder_stream_commit reports the commit of a streamed transaction, as
 * decoder_commit does, and hands its partial states to the worker, which
 * places them before it decodes the next record (decoder_place_streamed):
 * no transaction is open here.  A transaction the checkpoint has already
 * applied (decoded again after a restart) is dropped.
 */
static void
decoder_stream_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
					  XLogRecPtr commit_lsn)
{
	DecodeTarget *target = ctx->output_writer_private;
	StreamedTxn *stx;

	if (target == NULL)
		return;
	LockReleaseSession(USER_LOCKMETHOD);
	stx = streamed_txn(target, txn->xid, false);
	if (stx != NULL && stx->changes_catalog && stx->stream_inserts)
		fall_back(target, txn->xid, ctx->reader->EndRecPtr,
				  "it changes the view catalog and inserts into a stream");
	if (stx != NULL && stx->changes_catalog)
	{
		target->catalog_changed = true;
		target->catalog_xid = txn->xid;
	}
	if (txn->end_lsn <= target->applied_upto)
	{
		if (stx != NULL)
			streamed_drop(target, stx);
		return;
	}
	target->last_commit_end = txn->end_lsn;
	target->last_commit_time = txn->xact_time.commit_time;
	target->transactions++;
	target->streamed_transactions++;
	if (stx != NULL)
	{
		stx->final_lsn = txn->final_lsn;
		stx->end_lsn = txn->end_lsn;
		stx->commit_time = txn->xact_time.commit_time;
		target->committed = stx;
	}
}

/*
 * decoder_place_streamed makes the transaction decoder_stream_commit
 * reported count: its subtransactions' partial states are combined into
 * their views, as of its commit, in one subtransaction per view.  Called by
 * the worker in a transaction of its own.  A failure there leaves the view
 * half changed: the worker decodes again, this transaction not streamed.
 */
void
decoder_place_streamed(DecodeTarget *target)
{
	StreamedTxn *stx = target->committed;
	ListCell   *lc;
	ListCell   *lc2;
	uint64		events = 0;

	target->committed = NULL;
	memory_reserve_release();
	foreach(lc, stx->part_order)
	{
		StreamedPart *part = lfirst(lc);

		foreach(lc2, part->partials)
		{
			ViewPartial *vp = lfirst(lc2);
			StreamTarget *st = hash_search(target->streams, &vp->plan->stream_relid,
										   HASH_FIND, NULL);
			PartialPlace pp = {vp, stx};
			UserCodeFailure failure;

			/* never a plan a reload freed: see decoder_fall_back_in_progress */
			if (st == NULL || !list_member_ptr(st->plans, vp->plan) ||
				vp->plan->id != vp->view_id)
				elog(ERROR, "streamext: view %d of streamed transaction %u is gone",
					 vp->view_id, stx->xid);
			if (stx->final_lsn <= vp->start_lsn)
				continue;		/* in the view's backfill */
			if (!usercode_isolated(InvalidOid, USERCODE_READ_ONLY, place_one, &pp, &failure))
			{
				vp->plan->state->mutating = false;
				fall_back(target, stx->xid, stx->end_lsn, failure.error->message);
			}
		}
		foreach(lc2, part->counts)
		{
			StreamCount *sc = lfirst(lc2);
			StreamTarget *st = hash_search(target->streams, &sc->relid, HASH_FIND, NULL);

			if (st != NULL)
				st->events += sc->events;
			events += sc->events;
		}
	}
	/* the subscriptions' entries, in order, with their progress */
	if (stx->spill != NULL)
	{
		List	   *loaded = NIL;
		HASH_SEQ_STATUS status;
		StreamTarget *st;

		hash_seq_init(&status, target->streams);
		while ((st = hash_seq_search(&status)) != NULL)
			loaded = list_concat(loaded, st->subs);
		subscription_spill_place(stx->spill, loaded, stx->final_lsn,
								 stx->end_lsn, stx->commit_time);
		list_free(loaded);
	}
	elog(DEBUG1, "streamext applied streamed transaction %u: %llu events",
		 stx->xid, (unsigned long long) events);
	if (events > 0)
		target->changed = true;
	streamed_drop(target, stx);
	memory_reserve_settle();
}

/*
 * place_one places a view's partial states, for usercode_isolated.
 */
static void
place_one(void *arg)
{
	PartialPlace *pp = arg;

	usercode_timeout_restart();
	view_partial_place(pp->vp, pp->stx->commit_time, pp->stx->final_lsn, pp->stx->end_lsn);
}

/*
 * streamed_txn finds (or creates) the partial states of a streamed
 * transaction.
 */
static StreamedTxn *
streamed_txn(DecodeTarget *target, TransactionId xid, bool create)
{
	StreamedTxn *stx;
	bool		found;

	if (target->streamed == NULL)
	{
		HASHCTL		hctl;

		if (!create)
			return NULL;
		if (target->streamed_cxt == NULL)
			target->streamed_cxt = AllocSetContextCreate(TopMemoryContext,
														 "streamext streamed transactions",
														 ALLOCSET_SMALL_SIZES);
		memset(&hctl, 0, sizeof(hctl));
		hctl.keysize = sizeof(TransactionId);
		hctl.entrysize = sizeof(StreamedTxn);
		hctl.hcxt = target->streamed_cxt;
		target->streamed = hash_create("streamext streamed transactions", 8, &hctl,
									   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	stx = hash_search(target->streamed, &xid, create ? HASH_ENTER : HASH_FIND, &found);
	if (stx != NULL && !found)
	{
		HASHCTL		hctl;

		stx->cxt = AllocSetContextCreate(target->streamed_cxt, "streamext streamed transaction",
										 ALLOCSET_DEFAULT_SIZES);
		memset(&hctl, 0, sizeof(hctl));
		hctl.keysize = sizeof(TransactionId);
		hctl.entrysize = sizeof(StreamedPart);
		hctl.hcxt = stx->cxt;
		stx->parts = hash_create("streamext streamed parts", 8, &hctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		stx->part_order = NIL;
		stx->last_part = NULL;
		stx->changes_catalog = false;
		stx->stream_inserts = false;
		stx->spill = NULL;
		stx->final_lsn = stx->end_lsn = InvalidXLogRecPtr;
		stx->commit_time = 0;
	}
	return stx;
}

/*
 * streamed_part finds (or creates) the part of a streamed transaction that
 * one of its (sub)transactions folded.
 */
static StreamedPart *
streamed_part(StreamedTxn *stx, TransactionId xid)
{
	StreamedPart *part;
	bool		found;

	if (stx->last_part != NULL && stx->last_part->xid == xid)
		return stx->last_part;
	part = hash_search(stx->parts, &xid, HASH_ENTER, &found);
	if (!found)
	{
		MemoryContext old = MemoryContextSwitchTo(stx->cxt);

		part->partials = NIL;
		part->counts = NIL;
		part->fold_relid = InvalidOid;
		part->fold_partials = NIL;
		part->fold_count = NULL;
		stx->part_order = lappend(stx->part_order, part);
		MemoryContextSwitchTo(old);
	}
	stx->last_part = part;
	return part;
}

/*
 * streamed_drop forgets a streamed transaction and frees its states.
 */
static void
streamed_drop(DecodeTarget *target, StreamedTxn *stx)
{
	TransactionId xid = stx->xid;

	if (target->committed == stx)
		target->committed = NULL;
	if (stx->spill != NULL)
		subscription_spill_drop(stx->spill);
	MemoryContextDelete(stx->cxt);
	hash_search(target->streamed, &xid, HASH_REMOVE, NULL);
	if (hash_get_num_entries(target->streamed) == 0)
	{
		/* nothing left to place: malloc may have the reserve back */
		memory_reserve_release();
		memory_reserve_settle();
	}
}

/*
 * decoder_streams_reset forgets every streamed transaction: the worker
 * decodes again from its checkpoint, where they are streamed again.
 */
void
decoder_streams_reset(DecodeTarget *target)
{
	ListCell   *lc;

	if (target->batch != NULL)
		fold_batch_forget(target->batch);
	if (target->streamed != NULL)
	{
		HASH_SEQ_STATUS status;
		StreamedTxn *stx;

		/* their files are closed (and removed) here, their memory below */
		hash_seq_init(&status, target->streamed);
		while ((stx = hash_seq_search(&status)) != NULL)
			if (stx->spill != NULL)
				subscription_spill_drop(stx->spill);
	}
	if (target->streamed_cxt != NULL)
		MemoryContextReset(target->streamed_cxt);
	target->streamed = NULL;
	target->committed = NULL;
	memory_reserve_release();
	memory_reserve_settle();
	foreach(lc, target->fallback)
		((FallbackTxn *) lfirst(lc))->done = false;
}

/*
 * decoder_forget_cut_streams forgets the streamed transactions that left
 * the reorder buffer with neither a commit nor an abort: cut by a crash,
 * ReorderBufferAbortOld drops them without telling the output plugin.
 * Their partial states and their subscriptions' files would stay until the
 * worker decodes again from its checkpoint.
 */
void
decoder_forget_cut_streams(LogicalDecodingContext *ctx, DecodeTarget *target)
{
	HASH_SEQ_STATUS status;
	StreamedTxn *stx;

	if (target->streamed == NULL)
		return;
	hash_seq_init(&status, target->streamed);
	while ((stx = hash_seq_search(&status)) != NULL)
		if (stx != target->committed && !in_reorder_buffer(ctx, stx->xid))
		{
			elog(DEBUG1, "streamext forgets streamed transaction %u, cut by a crash", stx->xid);
			streamed_drop(target, stx);
		}
}

/*
 * decoder_fall_back_in_progress makes every transaction streamed so far,
 * not committed, be decoded again without streaming: the worker reloads
 * its views, which may free or replace plans their partial states were
 * folded for.  Ends the decoding with an error, as fall_back does.
 */
void
decoder_fall_back_in_progress(DecodeTarget *target, XLogRecPtr decided_at)
{
	HASH_SEQ_STATUS status;
	StreamedTxn *stx;
	TransactionId last = InvalidTransactionId;
	MemoryContext old;

	if (target->streamed == NULL)
		return;
	old = MemoryContextSwitchTo(target->set_aside_cxt);
	hash_seq_init(&status, target->streamed);
	while ((stx = hash_seq_search(&status)) != NULL)
	{
		FallbackTxn *fb;

		if (stx->part_order == NIL)
			continue;			/* folded nothing */
		fb = palloc0(sizeof(FallbackTxn));

		fb->xid = last = stx->xid;
		fb->decided_at = decided_at;
		target->fallback = lappend(target->fallback, fb);
	}
	MemoryContextSwitchTo(old);
	if (!TransactionIdIsValid(last))
		return;
	target->rewind = true;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("streamext decodes transaction %u again without streaming: the views were reloaded while it was streamed",
					last),
			 errdetail("The worker decodes again from its checkpoint.")));
}

/*
 * fall_back makes a streamed transaction be decoded again from the
 * checkpoint with streaming off until it is over, and ends the decoding
 * with an error that tells the worker to do so (as decode_again_without
 * does): then its events reach the views and subscriptions at its commit,
 * one by one, with a failing one set aside as a dead letter.
 */
static void
fall_back(DecodeTarget *target, TransactionId xid, XLogRecPtr decided_at, const char *why)
{
	MemoryContext old = MemoryContextSwitchTo(target->set_aside_cxt);
	FallbackTxn *fb = palloc0(sizeof(FallbackTxn));
	char	   *msg = pstrdup(why);

	fb->xid = xid;
	fb->decided_at = decided_at;
	target->fallback = lappend(target->fallback, fb);
	target->rewind = true;
	MemoryContextSwitchTo(old);
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("streamext decodes transaction %u again without streaming: %s", xid, msg),
			 errdetail("The worker decodes again from its checkpoint and applies the transaction at its commit.")));
}

/*
 * in_reorder_buffer says whether a transaction is still being decoded.
 */
static bool
in_reorder_buffer(LogicalDecodingContext *ctx, TransactionId xid)
{
	dlist_iter	iter;

	dlist_foreach(iter, &ctx->reorder->toplevel_by_lsn)
	{
		ReorderBufferTXN *txn = dlist_container(ReorderBufferTXN, node, iter.cur);

		if (txn->xid == xid)
			return true;
	}
	return false;
}

/*
 * What logical_decoding_work_mem is set for: streaming on (1) or off (0),
 * with the settings as they are; -1 before the first call and after a
 * reload.
 */
static int	streaming_memory_for = -1;

/*
 * decoder_set_streaming turns PostgreSQL's streaming of large transactions
 * to the worker on or off (ctx->streaming, which ReorderBufferCanStream
 * reads each time the memory limit is reached).  It is off while a
 * transaction is to be decoded again without it, and while events are to
 * be set aside (they are named by their commit).  While it is on the
 * worker holds at most streamext.stream_work_mem of a transaction before
 * it is streamed (or the server's logical_decoding_work_mem, if lower),
 * from the first call on: a decoding context starts with streaming on.
 */
void
decoder_set_streaming(LogicalDecodingContext *ctx, DecodeTarget *target)
{
	bool		on = target->set_aside == NIL;
	ListCell   *lc;

	foreach(lc, target->fallback)
	{
		FallbackTxn *fb = lfirst(lc);

		if (!fb->done && ctx->reader->EndRecPtr > fb->decided_at &&
			!in_reorder_buffer(ctx, fb->xid))
			fb->done = true;
		/*
		 * Over, and a checkpoint after it: never decoded again.  One that
		 * never committed (cut by a crash, or rolled back) applies nothing:
		 * decoded again after a rewind it would fall back once more at
		 * worst, so streaming need not wait for a checkpoint, which only
		 * comes with a change.
		 */
		if (fb->done && (fb->decided_at <= target->applied_upto ||
						 !TransactionIdDidCommit(fb->xid)))
		{
			pfree(fb);
			target->fallback = foreach_delete_current(target->fallback, lc);
			continue;
		}
		on = false;
	}
	if (on == ctx->streaming && streaming_memory_for == (int) on)
		return;
	ctx->streaming = on;
	if (on)
	{
		int			server_kb = atoi(GetConfigOptionResetString("logical_decoding_work_mem"));

		SetConfigOption("logical_decoding_work_mem",
						psprintf("%d", Min(streamext_stream_work_mem_kb, server_kb)),
						PGC_SUSET, PGC_S_SESSION);
	}
	else
		SetConfigOption("logical_decoding_work_mem",
						GetConfigOptionResetString("logical_decoding_work_mem"),
						PGC_SUSET, PGC_S_SESSION);
	streaming_memory_for = (int) on;
}

/*
 * decoder_settings_reloaded makes the next decoder_set_streaming apply
 * streamext.stream_work_mem and logical_decoding_work_mem as reloaded.
 * The worker's own value is set as a session's SET is (PGC_S_SESSION),
 * which leaves the server's as the reset value: one set with
 * PGC_S_OVERRIDE would become the reset value itself, and a reload of the
 * server's would never be seen.
 */
void
decoder_settings_reloaded(void)
{
	streaming_memory_for = -1;
}
