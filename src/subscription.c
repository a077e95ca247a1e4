/*-------------------------------------------------------------------------
 *
 * subscription.c
 *	  Subscriptions as the worker runs them: positions, the queue, NOTIFY.
 *
 *	  The worker decodes commits in commit order, so numbering the entries
 *	  of a subscription as they are found gives gap-free positions in commit
 *	  order.  Entries wait in memory until the end of the decoded batch (a
 *	  streamed transaction's in files: subscription_spill.c), then go to
 *	  streamext.subscription_queue together with the subscription's
 *	  progress (the WAL position up to which everything is queued) in one
 *	  transaction, whose commit delivers the NOTIFYs.  After a crash the
 *	  worker decodes again from its last checkpoint and skips, for each
 *	  subscription, the commits at or below its progress: every entry is
 *	  queued exactly once and gets the same position.
 *
 *	  A continuous view's subscribers get its rows instead of events: each
 *	  closed window once (and again when late events correct it), from the
 *	  checkpoint that closes it, or every change of a group, once per batch.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/rls.h"
#include "utils/acl.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/pg_lsn.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "agg_state.h"
#include "catalog.h"
#include "catalog_tables.h"
#include "row_insert.h"
#include "subscription.h"
#include "state_format.h"
#include "subscription_def.h"
#include "usercode.h"
#include "view_plan.h"
#include "view_state.h"

/* async.c refuses payloads of this length or more */
#define NOTIFY_PAYLOAD_LIMIT (BLCKSZ - NAMEDATALEN - 128)

#define QUEUE_BATCH 5000
/* entries of a streamed transaction read back and queued per statement */
#define STREAMED_CHUNK 10000

typedef struct CompiledFilter
{
	const char *filter_tree;
	Oid			owner;
	ExprState  *filter;
	UserCodeAcl *acl;			/* the functions it calls, recorded */
} CompiledFilter;

typedef struct FilterCall
{
	SubscriptionPlan *sub;
	TupleTableSlot *row;
	bool		pass;
	Datum		json_of;		/* the row to write as JSON when it passes, or 0:
								 * the slot's */
	char	   *json;
} FilterCall;

/* what the worker writes of subscriptions, prepared once per process */
static CatalogStatement lock_subscription_stmt = {
	"SELECT 1 FROM streamext.subscription_def WHERE id = $1 FOR KEY SHARE", 1, {INT4OID}
};
static CatalogStatement insert_entries = {
	"INSERT INTO streamext.subscription_queue "
	"(subscription_id, position, kind, event, committed_at) "
	"SELECT $1, p, k, e::jsonb, t FROM unnest($2, $3, $4, $5) AS u(p, k, e, t)",
	5, {INT4OID, INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID}
};
static CatalogStatement update_progress = {
	"UPDATE streamext.subscription_progress SET "
	"delivered_lsn = $2, newest_position = $3, "
	"last_notify = CASE WHEN $4 THEN now() ELSE last_notify END "
	"WHERE subscription_id = $1",
	4, {INT4OID, PG_LSNOID, INT8OID, BOOLOID}
};

static void compile_filter(void *arg);
static void eval_filter(void *arg);
/* an entry of a subscription's queue, not written yet */
typedef struct SubEntry
{
	int64		position;
	const char *kind;			/* event, window, correction, change */
	TimestampTz committed_at;
	char	   *json;
} SubEntry;

static bool filter_eval(SubscriptionPlan *sub, TupleTableSlot *row);
static SubscriptionPlan *subscription_build(SubscriptionCatalogRow *row, List *plans,
											MemoryContext parent);
static void add_entry(SubscriptionPlan *sub, const char *kind, TimestampTz at,
					  const char *json);
static void add_dead_letter(SubscriptionPlan *sub, XLogRecPtr lsn, TimestampTz at,
							int sqlerrcode, const char *message, const char *event);
static void emit_view_row(SubscriptionPlan *sub, Datum *values, bool *nulls,
						  const char *kind);
/* one changed group of a view, for group_change */
typedef struct GroupChange
{
	SubscriptionPlan *sub;
	ViewGroup  *group;
	MinimalTuple key;
	TimestampTz start;
	TimestampTz end;
	MemoryContext cxt;			/* per group */
	Datum	   *out;
	bool	   *outnulls;
	Datum	   *keys;
	bool	   *keynulls;
	AggValue   *copy;
} GroupChange;

/* counts changes of relations seen by this process, as invalidations */
static uint64 rel_generation = 1;
static bool rel_callback_registered = false;

static void relations_changed(Datum arg, Oid relid);
static void roles_changed(Datum arg, int cacheid, uint32 hashvalue);
static bool subscription_may_deliver(SubscriptionPlan *sub);
static void collect_changes(SubscriptionPlan *sub, XLogRecPtr upto);
static void group_change(void *arg);
static void write_pending(SubscriptionPlan *sub, List *entries);
static void write_entries(SubscriptionPlan *sub, int n, SubEntry *const *entries);
static void write_entries_statement(SubscriptionPlan *sub, int n, SubEntry *const *entries);
static int64 write_streamed(SubscriptionPlan *sub, TimestampTz at,
							SubscriptionEntryReader next, void *arg);
static void write_subscription(SubscriptionPlan *sub, TimestampTz at,
							   SubscriptionEntryReader next, void *arg);
static void notify_entry(SubscriptionPlan *sub, StringInfo payload, int64 position,
						 const char *kind, const char *json);
static void notify_entries(SubscriptionPlan *sub);
static void notify_batch(SubscriptionPlan *sub, int64 first, int64 count);

/*
 * subscription_build prepares a subscription for the worker.  A filter that
 * cannot be compiled (its owner lost a privilege, say) leaves the
 * subscription broken: its events become dead letters, none is lost.
 */
static SubscriptionPlan *
subscription_build(SubscriptionCatalogRow *row, List *plans, MemoryContext parent)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "streamext subscription",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	SubscriptionPlan *sub = palloc0(sizeof(SubscriptionPlan));
	ListCell   *lc;

	sub->cxt = cxt;
	sub->pending_cxt = AllocSetContextCreate(cxt, "streamext subscription entries",
											 ALLOCSET_DEFAULT_SIZES);
	sub->id = row->id;
	sub->name = pstrdup(row->name);
	sub->owner = row->owner;
	sub->source_relid = row->source_relid;
	sub->view_id = row->view_id;
	sub->emit_changes = (strcmp(row->emit, "changes") == 0);
	sub->channel = pstrdup(row->channel);
	sub->notify = strcmp(row->notify, "event") == 0 ? SUB_NOTIFY_EVENT :
		strcmp(row->notify, "batch") == 0 ? SUB_NOTIFY_BATCH : SUB_NOTIFY_NONE;
	sub->start_lsn = row->start_lsn;
	sub->delivered_lsn = row->delivered_lsn;
	sub->persisted_lsn = row->delivered_lsn;
	sub->newest_position = row->newest_position;
	sub->econtext = CreateStandaloneExprContext();

	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(row->source_relid)))
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		ereport(WARNING,
				(errmsg("streamext cannot deliver subscription \"%s\": its source was dropped",
						row->name),
				 errhint("Drop it with streamext.drop_subscription('%s').", row->name)));
		return NULL;
	}
	if (sub->view_id == 0 && catalog_distributed_view_on_relation(row->source_relid) != 0)
	{
		/* the worker does not decode it: distributed_delivery.c delivers it */
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		return NULL;
	}
	if (sub->view_id != 0)
	{
		foreach(lc, plans)
			if (((ViewPlan *) lfirst(lc))->id == sub->view_id)
				sub->view = lfirst(lc);
		if (sub->view == NULL)
		{
			MemoryContextSwitchTo(old);
			MemoryContextDelete(cxt);
			ereport(WARNING,
					(errmsg("streamext cannot deliver subscription \"%s\": its continuous view is not maintained",
							row->name)));
			return NULL;
		}
		sub->rowdesc = BlessTupleDesc(CreateTupleDescCopy(sub->view->outdesc));
		sub->rowslot = MakeSingleTupleTableSlot(sub->rowdesc, &TTSOpsVirtual);
	}

	if (row->filter_tree != NULL)
	{
		/* the compiled filter lives as long as the subscription, in cxt */
		CompiledFilter cf = {row->filter_tree, row->owner, NULL, &sub->acl};
		UserCodeFailure failure;
		ErrorData  *edata = NULL;

		if (!usercode_isolated_untimed(InvalidOid, USERCODE_READ_ONLY, compile_filter, &cf, &failure))
			edata = failure.error;
		sub->filter = cf.filter;
		if (edata != NULL)
		{
			sub->broken = edata->message;
			sub->broken_code = edata->sqlerrcode;
			ereport(WARNING,
					(errcode(edata->sqlerrcode),
					 errmsg("streamext cannot evaluate the filter of subscription \"%s\": %s",
							row->name, edata->message),
					 errdetail("Its events become dead letters until the subscription is defined again.")));
		}
	}
	MemoryContextSwitchTo(old);
	return sub;
}

/*
 * compile_filter compiles a subscription's filter, for usercode_isolated.
 */
static void
compile_filter(void *arg)
{
	CompiledFilter *cf = arg;

	cf->filter = subscription_filter_compile(cf->filter_tree, cf->owner);
	usercode_acl_add_expr(cf->acl, stringToNode(cf->filter_tree), cf->owner);
}

/*
 * eval_filter evaluates a subscription's filter and writes the row that
 * passes as JSON, for usercode_isolated.
 */
static void
eval_filter(void *arg)
{
	FilterCall *fc = arg;

	fc->pass = filter_eval(fc->sub, fc->row);
	/* behind the same gate: a cast to json is its type owner's code */
	if (fc->pass && fc->json_of != (Datum) 0)
		fc->json = usercode_row_json_gated(fc->json_of);
	else if (fc->pass)
	{
		/* the event's row, made only for events that pass */
		Datum		row = ExecFetchSlotHeapTupleDatum(fc->row);

		fc->json = usercode_row_json_gated(row);
		pfree(DatumGetPointer(row));
	}
}

/*
 * filter_eval says whether a row (an event, or a view's row)
 * passes the subscription's filter, evaluated as the subscription's owner.
 */
static bool
filter_eval(SubscriptionPlan *sub, TupleTableSlot *row)
{
	if (sub->filter == NULL)
		return true;
	ResetExprContext(sub->econtext);
	sub->econtext->ecxt_scantuple = row;
	return usercode_qual(sub->owner, sub->filter, sub->econtext);
}

/*
 * subscriptions_load builds every subscription of the catalog, linking
 * those of continuous views to the view's plan.  Runs in a transaction.
 */
List *
subscriptions_load(List *plans, MemoryContext cxt)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, plans)
		((ViewPlan *) lfirst(lc))->state->subscriptions = NIL;
	foreach(lc, catalog_load_subscriptions(CurrentMemoryContext))
	{
		SubscriptionPlan *sub = subscription_build(lfirst(lc), plans, cxt);
		MemoryContext old;

		if (sub == NULL)
			continue;
		old = MemoryContextSwitchTo(cxt);
		result = lappend(result, sub);
		if (sub->view != NULL)
			sub->view->state->subscriptions = lappend(sub->view->state->subscriptions, sub);
		MemoryContextSwitchTo(old);
	}
	return result;
}

/*
 * subscriptions_free forgets subscriptions whose entries have been written.
 */
void
subscriptions_free(List *subs)
{
	ListCell   *lc;

	foreach(lc, subs)
	{
		SubscriptionPlan *sub = lfirst(lc);

		FreeExprContext(sub->econtext, true);
		MemoryContextDelete(sub->cxt);
	}
	list_free(subs);
}

/*
 * subscription_event_slot makes a slot for events of a stream that only
 * subscriptions read, or returns NULL when the stream was just dropped.
 */
TupleTableSlot *
subscription_event_slot(SubscriptionPlan *sub)
{
	Relation	rel = try_relation_open(sub->source_relid, AccessShareLock);
	MemoryContext old;
	TupleTableSlot *slot;

	if (rel == NULL)
		return NULL;			/* dropped meanwhile: forgotten at its commit */
	old = MemoryContextSwitchTo(sub->cxt);
	slot = MakeSingleTupleTableSlot(CreateTupleDescCopy(RelationGetDescr(rel)),
									&TTSOpsHeapTuple);
	MemoryContextSwitchTo(old);
	relation_close(rel, AccessShareLock);
	return slot;
}

/*
 * add_entry gives the next position to an entry and keeps it until the
 * batch is written.
 */
static void
add_entry(SubscriptionPlan *sub, const char *kind, TimestampTz at, const char *json)
{
	MemoryContext old = MemoryContextSwitchTo(sub->pending_cxt);
	SubEntry   *e = palloc(sizeof(SubEntry));

	e->position = ++sub->newest_position;
	e->kind = kind;
	e->committed_at = at;
	e->json = pstrdup(json);
	sub->pending = lappend(sub->pending, e);
	MemoryContextSwitchTo(old);
}

/*
 * add_dead_letter sets aside an event or row the subscription could not
 * evaluate.
 */
static void
add_dead_letter(SubscriptionPlan *sub, XLogRecPtr lsn, TimestampTz at,
				int sqlerrcode, const char *message, const char *event)
{
	MemoryContext old = MemoryContextSwitchTo(sub->pending_cxt);
	DeadLetter *dl = palloc0(sizeof(DeadLetter));

	dl->commit_lsn = lsn;
	dl->committed_at = at;
	dl->source_start = DT_NOBEGIN;
	dl->sqlerrcode = sqlerrcode;
	dl->message = pstrdup(message);
	dl->event = pstrdup(event);
	sub->new_dead_letters = lappend(sub->new_dead_letters, dl);
	MemoryContextSwitchTo(old);
}

/*
 * relations_changed notes that some relation's definition or grants
 * changed; decoding replays such invalidations at their place in the WAL.
 */
static void
relations_changed(Datum arg, Oid relid)
{
	rel_generation++;
}

/* roles_changed notes a change of roles or memberships, as relations_changed */
static void
roles_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	rel_generation++;
}

/*
 * subscription_may_deliver says whether the subscription's owner may still
 * read its source as create_subscription checked: SELECT granted, no
 * row-level security.  Checked again only when some relation changed, in
 * the worker with the catalog as of the event, so a REVOKE or ENABLE ROW
 * LEVEL SECURITY applies to the events committed after it: those become
 * dead letters, never deliveries.
 */
static bool
subscription_may_deliver(SubscriptionPlan *sub)
{
	const char *denied_table;

	if (!rel_callback_registered)
	{
		/* SELECT can change with the relation or with a role's memberships */
		CacheRegisterRelcacheCallback(relations_changed, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, roles_changed, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHOID, roles_changed, (Datum) 0);
		rel_callback_registered = true;
	}
	if (sub->read_generation == rel_generation)
		return sub->read_denied == NULL;
	sub->read_generation = rel_generation;
	sub->read_denied = NULL;
	if (pg_class_aclcheck(sub->source_relid, sub->owner, ACL_SELECT) != ACLCHECK_OK)
	{
		sub->read_denied_code = ERRCODE_INSUFFICIENT_PRIVILEGE;
		sub->read_denied = MemoryContextStrdup(sub->cxt,
											   psprintf("permission denied for relation %u: a subscription delivers only what its owner may SELECT",
														sub->source_relid));
	}
	else if (check_enable_rls(sub->source_relid, sub->owner, true) == RLS_ENABLED)
	{
		sub->read_denied_code = ERRCODE_FEATURE_NOT_SUPPORTED;
		sub->read_denied = MemoryContextStrdup(sub->cxt,
											   psprintf("relation %u has row-level security, which subscriptions do not apply",
														sub->source_relid));
	}
	else if (sub->view != NULL &&
			 (denied_table = lookup_join_denied(&sub->view->joined, sub->view->owner)) != NULL)
	{
		/* the view's rows show it, but its own readers are refused now */
		sub->read_denied_code = ERRCODE_INSUFFICIENT_PRIVILEGE;
		sub->read_denied = MemoryContextStrdup(sub->cxt,
											   psprintf("permission denied for table %s, which continuous view \"%s\" joins: a subscription delivers only what the view may show",
														denied_table, sub->view->name));
	}
	return sub->read_denied == NULL;
}

/*
 * subscription_refusal says why the subscription may not take its stream's
 * events now, with the SQLSTATE, or NULL: its filter cannot be compiled,
 * its owner may no longer read the source (subscription_may_deliver) or
 * lost EXECUTE on a function of the filter.
 */
const char *
subscription_refusal(SubscriptionPlan *sub, int *sqlerrcode)
{
	if (sub->broken != NULL)
	{
		*sqlerrcode = sub->broken_code;
		return sub->broken;
	}
	if (!subscription_may_deliver(sub))
	{
		*sqlerrcode = sub->read_denied_code;
		return sub->read_denied;
	}
	if (!usercode_acl_ok(&sub->acl))
	{
		*sqlerrcode = sub->acl.denied_code;
		return sub->acl.denied;
	}
	return NULL;
}

/*
 * subscription_event_json evaluates the filter for one event and returns
 * the event as JSON when it passes, in the caller's memory context, or
 * NULL.  The caller is behind the gate of the subscription's owner
 * (usercode_enter), and resets sub->econtext after it.
 */
char *
subscription_event_json(SubscriptionPlan *sub, TupleTableSlot *event)
{
	FilterCall	fc = {sub, event, true, (Datum) 0, NULL};

	eval_filter(&fc);
	return fc.json;
}

/*
 * subscription_deliver queues an event of a committed transaction when it
 * passes the filter: the filter and the event's JSON run behind the gate of
 * the subscription's owner.  An error is the caller's to catch: the caller
 * (decoder_apply_event) runs it in a subtransaction and sets the event
 * aside.  An event of a subscription whose filter cannot be compiled, or
 * whose owner may no longer read the source, is set aside at once.
 */
void
subscription_deliver(SubscriptionPlan *sub, TupleTableSlot *event,
					 TimestampTz commit_time, XLogRecPtr final_lsn)
{
	UserCodeGate gate;
	char	   *json;

	if (sub->broken != NULL)
	{
		subscription_set_aside(sub, event, commit_time, final_lsn, sub->broken_code,
							   sub->broken);
		return;
	}
	if (!subscription_may_deliver(sub))
	{
		subscription_set_aside(sub, event, commit_time, final_lsn, sub->read_denied_code,
							   sub->read_denied);
		return;
	}
	usercode_enter(&gate, sub->owner, USERCODE_READ_ONLY);
	json = subscription_event_json(sub, event);
	usercode_leave(&gate);
	if (json != NULL)
	{
		add_entry(sub, "event", commit_time, json);
		pfree(json);
	}
	ResetExprContext(sub->econtext);
}

/*
 * subscription_set_aside keeps an event of the subscription's stream as a
 * dead letter of the subscription.
 */
void
subscription_set_aside(SubscriptionPlan *sub, TupleTableSlot *event,
					   TimestampTz commit_time, XLogRecPtr final_lsn,
					   int sqlerrcode, const char *message)
{
	MemoryContext cxt = MemoryContextSwitchTo(sub->econtext->ecxt_per_tuple_memory);

	add_dead_letter(sub, final_lsn, commit_time, sqlerrcode, message,
					usercode_row_json(sub->owner, ExecFetchSlotHeapTupleDatum(event)));
	MemoryContextSwitchTo(cxt);
	ResetExprContext(sub->econtext);
}

/*
 * subscription_replay_event evaluates again an event the subscription set
 * aside, and queues it when it passes.  False when the filter still fails:
 * the dead letter stays.
 */
bool
subscription_replay_event(SubscriptionPlan *sub, TupleTableSlot *event,
						  TimestampTz commit_time)
{
	FilterCall	fc = {sub, event, true, (Datum) 0, NULL};
	UserCodeFailure failure;
	bool		ok;

	if (sub->broken != NULL)
		return false;
	ok = usercode_isolated(sub->owner, USERCODE_READ_ONLY, eval_filter, &fc, &failure);
	if (!ok)
	{
		if (failure.error != NULL)
			FreeErrorData(failure.error);
		ResetExprContext(sub->econtext);
		return false;
	}
	if (fc.pass)
	{
		add_entry(sub, "event", commit_time, fc.json);
		pfree(fc.json);
	}
	ResetExprContext(sub->econtext);
	return true;
}

/*
 * emit_view_row queues a row of a continuous view when it passes the
 * filter.  Rows come from checkpoints and batch ends, not from one event,
 * so a filter failing on a row always sets that row aside.
 */
static void
emit_view_row(SubscriptionPlan *sub, Datum *values, bool *nulls, const char *kind)
{
	TupleTableSlot *slot = sub->rowslot;
	HeapTuple	tuple = heap_form_tuple(sub->rowdesc, values, nulls);
	FilterCall	fc = {sub, slot, true, HeapTupleGetDatum(tuple), NULL};
	UserCodeFailure failure;
	int			i;

	ExecClearTuple(slot);
	for (i = 0; i < sub->rowdesc->natts; i++)
	{
		slot->tts_values[i] = values[i];
		slot->tts_isnull[i] = nulls[i];
	}
	ExecStoreVirtualTuple(slot);

	if (sub->broken != NULL)
		add_dead_letter(sub, sub->delivered_lsn, 0, sub->broken_code, sub->broken,
						usercode_row_json(sub->owner, fc.json_of));
	else if (!subscription_may_deliver(sub))
		add_dead_letter(sub, sub->delivered_lsn, 0, sub->read_denied_code, sub->read_denied,
						usercode_row_json(sub->owner, fc.json_of));
	else if (!usercode_isolated(sub->owner, USERCODE_READ_ONLY, eval_filter, &fc, &failure))
	{
		add_dead_letter(sub, sub->delivered_lsn, 0,
						failure.error ? failure.error->sqlerrcode : ERRCODE_INTERNAL_ERROR,
						failure.error ? failure.error->message : "unknown error",
						usercode_row_json(sub->owner, fc.json_of));
		if (failure.error != NULL)
			FreeErrorData(failure.error);
	}
	else if (fc.pass)
		add_entry(sub, kind, GetCurrentTimestamp(), fc.json);
	if (fc.json != NULL)
		pfree(fc.json);
	heap_freetuple(tuple);
}

/*
 * subscriptions_emit_row hands the row of a window being closed to the
 * view's subscriptions: final rows to 'final' ones, and the rows late
 * events made (corrections, and windows no row had yet) to all.
 */
void
subscriptions_emit_row(ViewPlan *plan, Datum *values, bool *nulls, bool correction,
					   bool late)
{
	ListCell   *lc;

	foreach(lc, plan->state->subscriptions)
	{
		SubscriptionPlan *sub = lfirst(lc);

		/* 'changes' had every open group's rows: not those late events made */
		if (sub->emit_changes && !late)
			continue;
		emit_view_row(sub, values, nulls,
					  (correction || sub->emit_changes) ? "correction" : "window");
	}
}

/*
 * collect_changes queues the current row of every group of the view that
 * a commit after the subscription's progress changed.  Windows holding late
 * events are left to the checkpoint, which combines them with the closed
 * row first.
 */
static void
collect_changes(SubscriptionPlan *sub, XLogRecPtr upto)
{
	ViewPlan   *plan = sub->view;
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext, "streamext changes",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(tmp);
	GroupChange gc;
	HASH_SEQ_STATUS status;
	WindowGroups *wg;
	UserCodeFailure failure;

	gc.sub = sub;
	gc.out = palloc(sizeof(Datum) * plan->outdesc->natts);
	gc.outnulls = palloc(sizeof(bool) * plan->outdesc->natts);
	gc.keys = palloc(sizeof(Datum) * Max(plan->nkeys, 1));
	gc.keynulls = palloc(sizeof(bool) * Max(plan->nkeys, 1));
	gc.copy = palloc0(sizeof(AggValue) * Max(plan->aggs.naggs, 1));
	gc.cxt = AllocSetContextCreate(tmp, "streamext change", ALLOCSET_DEFAULT_SIZES);
	hash_seq_init(&status, plan->state->windows);
	while ((wg = hash_seq_search(&status)) != NULL)
	{
		TupleHashIterator it;
		TupleHashEntry entry;

		if (wg->changed_lsn <= sub->delivered_lsn)
			continue;
		InitTupleHashIterator(wg->groups, &it);
		while ((entry = ScanTupleHashTable(wg->groups, &it)) != NULL)
		{
			ViewGroup  *gs;

			for (gs = entry->additional; gs != NULL; gs = gs->next_session)
			{
				TimestampTz start;
				TimestampTz end;

				if (gs->changed_lsn <= sub->delivered_lsn)
					continue;
				MemoryContextReset(gc.cxt);
				group_bounds(plan, wg, gs, &start, &end);
				gc.group = gs;
				gc.key = entry->firstTuple;
				gc.start = start;
				gc.end = end;

				/*
				 * The view's functions fail on this group: its change is a
				 * dead letter of the subscription, the other groups go on.
				 */
				if (!usercode_isolated(InvalidOid, USERCODE_READ_ONLY, group_change, &gc,
									   &failure))
				{
					add_dead_letter(sub, sub->delivered_lsn, 0,
									failure.error ? failure.error->sqlerrcode : ERRCODE_INTERNAL_ERROR,
									failure.error ? failure.error->message : "unknown error",
									view_plan_group_json(plan, start, end, entry->firstTuple, false));
					if (failure.error != NULL)
						FreeErrorData(failure.error);
				}
			}
		}
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(tmp);
}

/*
 * group_change computes the current row of one changed group of a view and
 * queues it, for usercode_isolated: the view's functions run behind its
 * owner's gate (agg_state.c, view_plan_output).
 */
static void
group_change(void *arg)
{
	GroupChange *gc = arg;
	ViewPlan   *plan = gc->sub->view;
	StringInfoData buf;
	int			i;

	/* finalising may change states: finalise a copy */
	initStringInfo(&buf);
	states_write(plan, gc->group->values, &buf, gc->cxt);
	states_read(plan, buf.data, buf.len, gc->copy, gc->cxt);
	ExecStoreMinimalTuple(gc->key, plan->keyslot, false);
	slot_getallattrs(plan->keyslot);
	for (i = 0; i < plan->nkeys; i++)
	{
		gc->keys[i] = plan->keyslot->tts_values[i];
		gc->keynulls[i] = plan->keyslot->tts_isnull[i];
	}
	if (view_plan_output(plan, gc->start, gc->end, gc->keys, gc->keynulls, gc->copy,
						 gc->out, gc->outnulls))
		emit_view_row(gc->sub, gc->out, gc->outnulls, "change");
}

/*
 * subscriptions_collect marks everything decoded up to upto as delivered,
 * queueing first the changes of views that 'changes' subscriptions want.
 * Must run before a checkpoint closes windows.
 */
void
subscriptions_collect(List *subs, XLogRecPtr upto)
{
	ListCell   *lc;

	foreach(lc, subs)
	{
		SubscriptionPlan *sub = lfirst(lc);

		if (sub->emit_changes && sub->view != NULL && upto > sub->delivered_lsn)
			collect_changes(sub, upto);
		sub->delivered_lsn = Max(sub->delivered_lsn, upto);
	}
}

/*
 * subscriptions_have_pending says whether a batch has something to write.
 */
bool
subscriptions_have_pending(List *subs)
{
	ListCell   *lc;

	foreach(lc, subs)
	{
		SubscriptionPlan *sub = lfirst(lc);

		if (sub->pending != NIL || sub->new_dead_letters != NIL || sub->replayed != NIL)
			return true;
	}
	return false;
}

/*
 * subscription_lock keeps a subscription from being dropped while its
 * entries are written, in the caller's SPI connection; false when it was
 * dropped already.  drop_subscription deletes the queue after waiting for
 * this lock, and so sees the entries.
 */
bool
subscription_lock(int32 id)
{
	Datum		args[1];

	args[0] = Int32GetDatum(id);
	if (catalog_execute(&lock_subscription_stmt, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not lock subscription");
	return SPI_processed == 1;
}

/*
 * write_pending inserts entries kept in memory (SubEntry).
 */
static void
write_pending(SubscriptionPlan *sub, List *entries)
{
	SubEntry  **array = palloc(sizeof(SubEntry *) * list_length(entries));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, entries)
		array[n++] = lfirst(lc);
	write_entries(sub, n, array);
	pfree(array);
}

/*
 * write_entries inserts n entries into the queue table and its index
 * (row_insert.c), or, when the table was changed so that an INSERT would
 * do more, with one statement of arrays.
 */
static void
write_entries(SubscriptionPlan *sub, int n, SubEntry *const *entries)
{
	static const Oid types[Natts_subscription_queue] = {
		INT4OID, INT8OID, TEXTOID, JSONBOID, TIMESTAMPTZOID
	};
	static const int32 typmods[Natts_subscription_queue] = {-1, -1, -1, -1, -1};
	RowInserter *ri = row_insert_begin(catalog_locked_relid(CATALOG_SUBSCRIPTION_QUEUE,
															RowExclusiveLock),
									   Natts_subscription_queue, types, typmods);
	MemoryContext row_cxt;
	int			i;

	if (ri == NULL)
	{
		write_entries_statement(sub, n, entries);
		return;
	}
	row_cxt = AllocSetContextCreate(CurrentMemoryContext, "streamext queue entry",
									ALLOCSET_DEFAULT_SIZES);
	for (i = 0; i < n; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(row_cxt);
		Datum		values[Natts_subscription_queue];

		values[Anum_subscription_queue_subscription_id - 1] = Int32GetDatum(sub->id);
		values[Anum_subscription_queue_position - 1] = Int64GetDatum(entries[i]->position);
		values[Anum_subscription_queue_kind - 1] = CStringGetTextDatum(entries[i]->kind);
		values[Anum_subscription_queue_event - 1] =
			DirectFunctionCall1(jsonb_in, CStringGetDatum(entries[i]->json));
		values[Anum_subscription_queue_committed_at - 1] =
			TimestampTzGetDatum(entries[i]->committed_at);
		row_insert(ri, values, NULL);
		MemoryContextSwitchTo(old);
		MemoryContextReset(row_cxt);
	}
	MemoryContextDelete(row_cxt);
	row_insert_end(ri);
}

/* write_entries_statement inserts n entries with one statement of arrays */
static void
write_entries_statement(SubscriptionPlan *sub, int n, SubEntry *const *entries)
{
	Datum	   *positions = palloc(sizeof(Datum) * n);
	Datum	   *kinds = palloc(sizeof(Datum) * n);
	Datum	   *events = palloc(sizeof(Datum) * n);
	Datum	   *times = palloc(sizeof(Datum) * n);
	Datum		args[5];
	int			i;

	for (i = 0; i < n; i++)
	{
		positions[i] = Int64GetDatum(entries[i]->position);
		kinds[i] = CStringGetTextDatum(entries[i]->kind);
		events[i] = CStringGetTextDatum(entries[i]->json);
		times[i] = TimestampTzGetDatum(entries[i]->committed_at);
	}
	args[0] = Int32GetDatum(sub->id);
	args[1] = PointerGetDatum(construct_array(positions, n, INT8OID, sizeof(int64),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[2] = PointerGetDatum(construct_array(kinds, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[3] = PointerGetDatum(construct_array(events, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[4] = PointerGetDatum(construct_array(times, n, TIMESTAMPTZOID, sizeof(TimestampTz),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	if (catalog_execute(&insert_entries, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "streamext: could not queue subscription entries");
}

/*
 * write_streamed queues the entries of a streamed transaction as next reads
 * them back, STREAMED_CHUNK per statement, numbered after those already
 * given, with its commit time; only one chunk is in memory at a time.
 * Returns how many it queued.
 */
static int64
write_streamed(SubscriptionPlan *sub, TimestampTz at, SubscriptionEntryReader next, void *arg)
{
	MemoryContext chunk = AllocSetContextCreate(CurrentMemoryContext,
												"streamext streamed entries",
												ALLOCSET_DEFAULT_SIZES);
	char	  **json = palloc(sizeof(char *) * STREAMED_CHUNK);
	SubEntry   *entries = palloc(sizeof(SubEntry) * STREAMED_CHUNK);
	SubEntry  **pointers = palloc(sizeof(SubEntry *) * STREAMED_CHUNK);
	StringInfoData payload;
	int64		count = 0;

	initStringInfo(&payload);
	for (;;)
	{
		MemoryContext old = MemoryContextSwitchTo(chunk);
		int			n = next(arg, json, STREAMED_CHUNK);
		int			i;

		for (i = 0; i < n; i++)
		{
			entries[i].position = sub->newest_position + 1 + i;
			entries[i].kind = "event";
			entries[i].committed_at = at;
			entries[i].json = json[i];
			pointers[i] = &entries[i];
		}
		if (n > 0)
			write_entries(sub, n, pointers);
		if (sub->notify == SUB_NOTIFY_EVENT)
			for (i = 0; i < n; i++)
				notify_entry(sub, &payload, sub->newest_position + 1 + i, "event", json[i]);
		sub->newest_position += n;
		count += n;
		MemoryContextSwitchTo(old);
		MemoryContextReset(chunk);
		if (n == 0)
			break;
	}
	MemoryContextDelete(chunk);
	pfree(payload.data);
	return count;
}

/*
 * notify_entry sends the NOTIFY of one entry, delivered when the
 * transaction that queues it commits.  A payload is the entry as JSON, or,
 * where that would pass NOTIFY's limit, its position alone.
 */
static void
notify_entry(SubscriptionPlan *sub, StringInfo payload, int64 position, const char *kind,
			 const char *json)
{
	subscription_notify_entry(sub->channel, sub->name, payload, position, kind, json);
}

/*
 * subscription_notify_entry is notify_entry for subscription name on
 * channel; payload is the caller's buffer, reused from one entry to the
 * next.
 */
void
subscription_notify_entry(const char *channel, const char *name, StringInfo payload,
						  int64 position, const char *kind, const char *json)
{
	int			head;

	resetStringInfo(payload);
	appendStringInfoString(payload, "{\"subscription\": ");
	escape_json(payload, name);
	appendStringInfo(payload, ", \"position\": " INT64_FORMAT ", \"kind\": \"%s\"",
					 position, kind);
	head = payload->len;
	appendStringInfo(payload, ", \"event\": %s}", json);
	if (payload->len >= NOTIFY_PAYLOAD_LIMIT)
	{
		payload->len = head;
		payload->data[head] = '\0';
		appendStringInfoString(payload, ", \"truncated\": true}");
	}
	Async_Notify(channel, payload->data);
}

/*
 * notify_entries sends the NOTIFY of each entry kept in memory, for
 * subscriptions that want one per entry.
 */
static void
notify_entries(SubscriptionPlan *sub)
{
	StringInfoData payload;
	ListCell   *lc;

	if (sub->notify != SUB_NOTIFY_EVENT || sub->pending == NIL)
		return;
	initStringInfo(&payload);
	foreach(lc, sub->pending)
	{
		SubEntry   *e = lfirst(lc);

		notify_entry(sub, &payload, e->position, e->kind, e->json);
	}
	pfree(payload.data);
}

/*
 * notify_batch sends the one NOTIFY of a write, with the range of positions
 * it queued, for subscriptions that want one per batch.
 */
static void
notify_batch(SubscriptionPlan *sub, int64 first, int64 count)
{
	if (sub->notify != SUB_NOTIFY_BATCH || count == 0)
		return;
	subscription_notify_batch(sub->channel, sub->name, first, count);
}

/*
 * subscription_notify_batch is notify_batch for subscription name on
 * channel.
 */
void
subscription_notify_batch(const char *channel, const char *name, int64 first, int64 count)
{
	StringInfoData payload;

	initStringInfo(&payload);
	appendStringInfoString(&payload, "{\"subscription\": ");
	escape_json(&payload, name);
	appendStringInfo(&payload, ", \"first\": " INT64_FORMAT ", \"last\": " INT64_FORMAT
					 ", \"count\": " INT64_FORMAT "}",
					 first, first + count - 1, count);
	Async_Notify(channel, payload.data);
	pfree(payload.data);
}

/*
 * write_subscription queues a subscription's entries found since the last
 * write, then those next reads back (a streamed transaction's, when next
 * is not NULL), with its dead letters and its progress, in the caller's
 * transaction; its commit sends the NOTIFYs.
 */
static void
write_subscription(SubscriptionPlan *sub, TimestampTz at, SubscriptionEntryReader next,
				   void *arg)
{
	if (subscription_lock(sub->id))
	{
		int			n = list_length(sub->pending);
		int64		first = sub->newest_position - n + 1;
		int64		count = n;
		Datum		args[4];
		int			i;

		for (i = 0; i < n; i += QUEUE_BATCH)
			write_pending(sub, list_truncate(list_copy_tail(sub->pending, i), QUEUE_BATCH));
		notify_entries(sub);
		if (next != NULL)
			count += write_streamed(sub, at, next, arg);
		catalog_write_dead_letters(CATALOG_SUBSCRIPTION_DEF, sub->id, sub->new_dead_letters,
								   sub->replayed);
		args[0] = Int32GetDatum(sub->id);
		args[1] = LSNGetDatum(sub->delivered_lsn);
		args[2] = Int64GetDatum(sub->newest_position);
		args[3] = BoolGetDatum(sub->notify != SUB_NOTIFY_NONE && count > 0);
		if (catalog_execute(&update_progress, args, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "streamext: could not record subscription progress");
		notify_batch(sub, first, count);
	}
	sub->persisted_lsn = sub->delivered_lsn;
	sub->pending = NIL;
	sub->new_dead_letters = NIL;
	sub->replayed = NIL;
	MemoryContextReset(sub->pending_cxt);
}

/*
 * subscriptions_write queues the entries found since the last write, with
 * each subscription's progress, in the caller's transaction; its commit
 * sends the NOTIFYs.
 */
void
subscriptions_write(List *subs)
{
	ListCell   *lc;

	SPI_connect();
	foreach(lc, subs)
	{
		SubscriptionPlan *sub = lfirst(lc);

		if (sub->pending == NIL && sub->new_dead_letters == NIL && sub->replayed == NIL &&
			sub->delivered_lsn == sub->persisted_lsn)
			continue;
		write_subscription(sub, 0, NULL, NULL);
	}
	SPI_finish();
}

/*
 * subscription_write_streamed queues, in the caller's transaction, what the
 * subscription found before a streamed transaction's commit (its pending
 * entries, of earlier commits), then that transaction's entries as next
 * reads them back, and records the subscription's progress as that
 * commit's end: everything up to it is queued by this one transaction, or
 * nothing, so a crash anywhere queues the transaction exactly once (after
 * it, the commit is at or below the progress and skipped).  The decoding
 * is right after the commit, so no later commit has entries yet.
 */
void
subscription_write_streamed(SubscriptionPlan *sub, XLogRecPtr end_lsn,
							TimestampTz commit_time, SubscriptionEntryReader next, void *arg)
{
	Assert(end_lsn > sub->delivered_lsn);
	sub->delivered_lsn = end_lsn;
	SPI_connect();
	write_subscription(sub, commit_time, next, arg);
	SPI_finish();
}
