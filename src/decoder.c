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
#include "access/xlog.h"
#include "access/xlog_internal.h"
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
#include "subscription.h"
#include "usercode.h"
#include "view_apply.h"
#include "view_plan.h"

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
	decoder_apply_event(target, st->plans, st->subs, st->slot, txn->final_lsn, txn->end_lsn,
						target->txn_event, txn->xact_time.commit_time);
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
 * decoder_wal_inserted_upto is the end of the WAL inserted so far.  The insert
 * position points past the header of a page nothing was written on yet
 * when the last record filled the page before: that header is neither
 * flushed nor decoded until a later record comes, so waiting for it (or
 * XLogFlush to it) would fail.
 */
XLogRecPtr
decoder_wal_inserted_upto(void)
{
	XLogRecPtr	pos = GetXLogInsertRecPtr();

	if (XLogSegmentOffset(pos, wal_segment_size) == SizeOfXLogLongPHD)
		return pos - SizeOfXLogLongPHD;
	if (pos % XLOG_BLCKSZ == SizeOfXLogShortPHD)
		return pos - SizeOfXLogShortPHD;
	return pos;
}
