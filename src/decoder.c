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

#include "access/tupconvert.h"
#include "access/xact.h"
#include "catalog/partition.h"
#include "replication/logical.h"
#include "replication/output_plugin.h"
#include "storage/lock.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/reltrigger.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "decoder.h"

extern PGDLLEXPORT void _PG_output_plugin_init(OutputPluginCallbacks *cb);

static void decoder_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt,
							bool is_init);
static void decoder_begin(LogicalDecodingContext *ctx, ReorderBufferTXN *txn);
static void decoder_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
						   Relation relation, ReorderBufferChange *change);
static void decoder_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
						   XLogRecPtr commit_lsn);
static bool is_stream(Relation relation);

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
static SetAside *find_set_aside(DecodeTarget *target, XLogRecPtr txn_end,
								uint32 event_no, int32 view_id, int32 sub_id);
static void decode_again_without(DecodeTarget *target, XLogRecPtr txn_end,
								 uint32 event_no, int32 view_id, int32 sub_id,
								 const char *what, UserCodeFailure *failure);
static bool decoder_filter_by_origin(LogicalDecodingContext *ctx,
									 RepOriginId origin_id);

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
		target->txn_changes_catalog = false;
		target->txn_event = 0;
		target->pending = NIL;
		MemoryContextReset(target->pending_cxt);
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
	ListCell   *lc;
	HeapTuple	tuple;
	HeapTuple	flat = NULL;
	HeapTuple	converted = NULL;
	TupleDesc	desc;
	bool		leaf_of_stream = false;

	if (target == NULL)
		return;
	if (relid == target->view_catalog_relid || relid == target->sub_catalog_relid)
	{
		target->txn_changes_catalog = true;
		return;
	}
	if (change->action != REORDER_BUFFER_CHANGE_INSERT ||
		change->data.tp.newtuple == NULL ||
		txn->end_lsn <= target->applied_upto)
		return;

	/* every insert is numbered, whatever reads it: see SetAside */
	target->txn_event++;
	tuple = &change->data.tp.newtuple->tuple;
	desc = RelationGetDescr(relation);
	if (relation->rd_rel->relispartition)
	{
		PartitionRoot *pr = partition_root(relation);

		if (!pr->root_is_stream)
			return;
		relid = pr->root;
		desc = pr->rootdesc;
		if (pr->map != NULL)
			tuple = converted = execute_attr_map_tuple(tuple, pr->map);
		leaf_of_stream = true;
	}

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
	foreach(lc, st->plans)
	{
		ViewPlan   *plan = lfirst(lc);

		if (txn->final_lsn <= plan->start_lsn)
			continue;
		decoder_apply_to_view(target, plan, st->slot, txn->final_lsn, txn->end_lsn,
							  target->txn_event, txn->xact_time.commit_time);
	}
	foreach(lc, st->subs)
	{
		SubscriptionPlan *sub = lfirst(lc);

		if (txn->final_lsn <= sub->start_lsn || txn->end_lsn <= sub->delivered_lsn)
			continue;
		decoder_apply_to_subscription(target, sub, st->slot, txn->final_lsn, txn->end_lsn,
									  target->txn_event, txn->xact_time.commit_time);
	}
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
 * decoder_apply_to_view applies a committed event to one of its stream's
 * views.  Each event runs in a subtransaction of its own behind the gate
 * for the view's owner, so an event that fails costs that event of that
 * view (a dead letter) and nothing else waits.  One that cannot be set
 * aside where it failed is set aside when the WAL is decoded again.
 */
void
decoder_apply_to_view(DecodeTarget *target, ViewPlan *plan, TupleTableSlot *event,
					  XLogRecPtr final_lsn, XLogRecPtr end_lsn, uint32 event_no,
					  TimestampTz commit_time)
{
	SetAside   *sa = find_set_aside(target, end_lsn, event_no, plan->id, 0);
	UserCodeFailure failure;

	plan->txn_end = end_lsn;
	if (sa != NULL)
	{
		(void) view_plan_note_event_time(plan, event, commit_time);
		view_plan_set_aside(plan, event, commit_time, final_lsn, sa->sqlerrcode, sa->message);
	}
	else if (!usercode_acl_ok(&plan->acl))
	{
		/* a REVOKE committed before this event */
		(void) view_plan_note_event_time(plan, event, commit_time);
		view_plan_set_aside(plan, event, commit_time, final_lsn, plan->acl.denied_code,
							plan->acl.denied);
	}
	else
		switch (view_plan_apply_isolated(plan, event, commit_time, final_lsn, &failure))
		{
			case APPLY_DONE:
				break;
			case APPLY_FAILED:
				view_plan_set_aside(plan, event, commit_time, final_lsn,
									failure.error->sqlerrcode, failure.error->message);
				FreeErrorData(failure.error);
				break;
			case APPLY_REWIND:
				decode_again_without(target, end_lsn, event_no, plan->id, 0, plan->name,
									 &failure);
				break;
		}
}

/*
 * decoder_apply_to_subscription gives a committed event to a subscription
 * of its stream, which queues it when it passes the filter, or sets it
 * aside when the filter fails on it.
 */
void
decoder_apply_to_subscription(DecodeTarget *target, SubscriptionPlan *sub,
							  TupleTableSlot *event, XLogRecPtr final_lsn,
							  XLogRecPtr end_lsn, uint32 event_no,
							  TimestampTz commit_time)
{
	SetAside   *sa = find_set_aside(target, end_lsn, event_no, 0, sub->id);
	UserCodeFailure failure;

	if (sa != NULL)
		subscription_set_aside(sub, event, commit_time, final_lsn, sa->sqlerrcode,
							   sa->message);
	else if (!usercode_acl_ok(&sub->acl))
		subscription_set_aside(sub, event, commit_time, final_lsn, sub->acl.denied_code,
							   sub->acl.denied);
	else if (!subscription_apply_event(sub, event, commit_time, final_lsn, &failure))
		decode_again_without(target, end_lsn, event_no, 0, sub->id, sub->name, &failure);
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
