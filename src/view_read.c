/*-------------------------------------------------------------------------
 *
 * view_read.c
 *	  SQL-callable functions that read: read_view (the open windows of a
 *	  continuous view, from shared memory, combining panes into windows for
 *	  hopping, cumulating and sliding views), the statistics behind
 *	  streamext.streams and streamext.views, and wait_caught_up.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog_internal.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "storage/condition_variable.h"
#include "storage/proc.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/pg_lsn.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "miscadmin.h"
#include "funcapi.h"
#include "nodes/supportnodes.h"
#include "optimizer/optimizer.h"
#include "utils/wait_event.h"

#include "agg_state.h"
#include "catalog.h"
#include "decoder.h"
#include "settings.h"
#include "shmem.h"
#include "sqlfunc.h"
#include "state_format.h"
#include "state_shmem.h"
#include "usercode.h"
#include "view_plan.h"
#include "view_read.h"
#include "window.h"
#include "window_panes.h"

/* how long a read waits for a new database's worker to make its slot */
#define WORKER_READY_WAIT_MS 10000

PG_FUNCTION_INFO_V1(streamext_read_view);
PG_FUNCTION_INFO_V1(streamext_read_view_support);
PG_FUNCTION_INFO_V1(streamext_worker_status);
PG_FUNCTION_INFO_V1(streamext_stream_events);
PG_FUNCTION_INFO_V1(streamext_view_stats);
PG_FUNCTION_INFO_V1(streamext_wait_caught_up);

typedef struct CachedViewPlan
{
	int32		id;
	Oid			view_def;		/* the OID of streamext.view_def it was read from */
	XLogRecPtr	start_lsn;		/* of the definition compiled: see replace_view */
	ViewPlan   *plan;
} CachedViewPlan;

/*
 * compiled views of this backend; view ids are never reused, but start over
 * when the extension is dropped and created again, with a new view_def
 */
static HTAB *plan_cache = NULL;

/*
 * The pin of each query that read a view (state_shmem.c's ReadPin): every
 * read by one query, its subqueries, CTEs and each probe of a nested loop
 * included (one EState), sees one publish: the last as the query started
 * (view_read_pin_statement), or as its first read came, for a read its plan
 * does not show (read_view in a select list).  It lives in the
 * query's memory, whose end releases it.
 */
typedef struct StatementPin
{
	EState	   *estate;
	ReadPin		pin;
	ViewCatalogRow *checked_row;	/* a view the query may read, as its
									 * snapshot saw it as it started */
	MemoryContextCallback cb;
	dlist_node	node;			/* in statement_pins */
} StatementPin;

static dlist_head statement_pins = DLIST_STATIC_INIT(statement_pins);

/* compiled views replaced in transaction stale_plans_lxid, to free after it */
static List *stale_plans = NIL;
static LocalTransactionId stale_plans_lxid = InvalidLocalTransactionId;

static StreamextDbSlot *wait_for_worker_ready(StreamextDbSlot *slot);
static ViewCatalogRow *reader_row(int32 view_id, ViewCatalogRow *row);
static ViewPlan *reader_plan(ViewCatalogRow *row);
static void read_progress(int32 view_id, TimestampTz *closed_upto,
						  TimestampTz *max_event_time);
static void open_state_copy(const OpenStateRow *row, void *arg);
static SharedGroupCopy *read_open_state_table(int32 view_id, int64 *ngroups);
static void emit_initial_row(ViewPlan *plan, Tuplestorestate *store,
							 TupleDesc desc, MemoryContext rowcxt, bool partial);
static void reader_open(ViewReader *reader, int32 view_id, TupleDesc desc, bool partial,
						EState *estate);
static StatementPin *statement_pin(EState *estate);
/*
 * my_db_slot is the shared slot of the current database, or NULL.
 */
static StreamextDbSlot *
my_db_slot(void)
{
	if (StreamextState == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("streamext is not loaded through shared_preload_libraries"),
				 errhint("Add streamext to shared_preload_libraries in postgresql.conf and restart the server.")));
	return streamext_find_db_slot(MyDatabaseId, false);
}

/*
 * reader_row is a continuous view's definition as the caller's snapshot
 * sees it (row, if the query's start read it already: NULL otherwise).  A
 * snapshot taken before replace_view committed sees the old definition, while the view's relation (which PostgreSQL reads as now
 * committed, not as of the snapshot) and its closed windows are the new
 * ones: the old view can no longer be read whole, nor the new one, whose
 * rows the snapshot does not see.  That is a serialization failure, as
 * REPEATABLE READ reports for a row changed since its snapshot.  (READ
 * COMMITTED takes its snapshot after the lock on the view that
 * replace_view waits for, and never gets here.)
 */
static ViewCatalogRow *
reader_row(int32 view_id, ViewCatalogRow *row)
{
	ViewCatalogRow *then;
	ViewCatalogRow *now;

	if (row == NULL)
		row = catalog_view_brief_as_of(view_id, GetActiveSnapshot());
	if (row == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("continuous view %d does not exist", view_id),
				 errhint("streamext.views lists the continuous views.")));
	if (row->restored)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("continuous view \"%s\" was restored from a dump and is not computed yet",
						row->name),
				 errhint("SELECT * FROM streamext.adopt_restored(); computes it from its stream.")));
	if (IsolationUsesXactSnapshot() &&
		(then = catalog_view_as_of(view_id, GetActiveSnapshot())) != NULL &&
		(now = catalog_view_as_of(view_id, GetLatestSnapshot())) != NULL &&
		(now->closed_relid != then->closed_relid ||
		 strcmp(now->query_tree, then->query_tree) != 0 ||
		 strcmp(now->window_text ? now->window_text : "",
				then->window_text ? then->window_text : "") != 0 ||
		 strcmp(now->time_zone ? now->time_zone : "",
				then->time_zone ? then->time_zone : "") != 0))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to concurrent replace_view"),
				 errdetail("Continuous view \"%s\" was replaced after this transaction took its snapshot.",
						   row->name),
				 errhint("Retry the transaction.")));
	return row;
}

/*
 * reader_plan compiles a view's definition for this backend once and keeps
 * it, until the definition changes (replace_view, and rebuild_view, which
 * gives it a new start_lsn too).
 */
static ViewPlan *
reader_plan(ViewCatalogRow *row)
{
	CachedViewPlan *entry;
	bool		found;
	Oid			view_def = catalog_relid(CATALOG_VIEW_DEF);

	if (plan_cache == NULL)
	{
		HASHCTL		hctl;

		hctl.keysize = sizeof(int32);
		hctl.entrysize = sizeof(CachedViewPlan);
		hctl.hcxt = CacheMemoryContext;
		plan_cache = hash_create("streamext view plans", 16, &hctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	/* plans replaced in an earlier transaction: no scan holds them now */
	if (stale_plans_lxid != MyProc->lxid)
	{
		ListCell   *lc;

		foreach(lc, stale_plans)
			view_plan_free(lfirst(lc));
		list_free(stale_plans);
		stale_plans = NIL;
	}
	entry = hash_search(plan_cache, &row->id, HASH_FIND, &found);
	if (found && entry->view_def == view_def && entry->start_lsn == row->start_lsn)
		return entry->plan;
	if (found)
	{
		/*
		 * A scan of this transaction (a lookup's ViewReader) may still hold
		 * it, read before rebuild_view or replace_view committed: it is
		 * freed in a later one.
		 */
		MemoryContext old = MemoryContextSwitchTo(CacheMemoryContext);

		stale_plans = lappend(stale_plans, entry->plan);
		stale_plans_lxid = MyProc->lxid;
		MemoryContextSwitchTo(old);
		hash_search(plan_cache, &row->id, HASH_REMOVE, NULL);
	}

	entry = hash_search(plan_cache, &row->id, HASH_ENTER, &found);
	entry->view_def = view_def;
	entry->start_lsn = row->start_lsn;
	entry->plan = NULL;
	PG_TRY();
	{
		/* the texts of the query, which a read of a compiled view needs not */
		if (row->query_tree == NULL)
			row = catalog_view_as_of(row->id, GetActiveSnapshot());
		if (row == NULL)
			elog(ERROR, "continuous view %d disappeared", entry->id);
		entry->plan = view_plan_build(row, CacheMemoryContext);
	}
	PG_CATCH();
	{
		hash_search(plan_cache, &row->id, HASH_REMOVE, NULL);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return entry->plan;
}

/*
 * group_row turns one serialised group into the values of an output row:
 * false if HAVING rejects it or its window is closed already.  The values
 * are good until the next call; rowcxt holds the rest, reset here.
 */
static bool
group_row(ViewPlan *plan, const char *blob, Size len, TimestampTz closed_upto,
		  Datum *out, bool *outnulls, MemoryContext rowcxt, bool partial)
{
	BlobParts	parts;
	TimestampTz wend;
	MemoryContext old;
	AggValue   *values;
	Datum	   *keys;
	bool	   *keynulls;
	bool		shown = false;
	int			i;

	MemoryContextReset(rowcxt);
	old = MemoryContextSwitchTo(rowcxt);
	values = palloc0(sizeof(AggValue) * Max(plan->aggs.naggs, 1));
	keys = palloc(sizeof(Datum) * Max(plan->nkeys, 1));
	keynulls = palloc(sizeof(bool) * Max(plan->nkeys, 1));
	state_blob_parts(blob, len, &parts);
	if (plan->window.kind == WINDOW_SESSION)
		wend = parts.end;
	else
		wend = window_pane_end(&plan->window, parts.start);

	/*
	 * A worker decoding again after a restart holds windows it closed
	 * before until it comes back where it closed them: they are in the
	 * closed-window table already.
	 */
	if (wend > closed_upto)
	{
		group_key_deserialize(plan, parts.key, parts.keylen, plan->keyslot);
		for (i = 0; i < plan->nkeys; i++)
		{
			keys[i] = plan->keyslot->tts_values[i];
			keynulls[i] = plan->keyslot->tts_isnull[i];
		}
		states_read(plan, parts.states, parts.stateslen, values, rowcxt);
		if (partial)
		{
			view_plan_partial_output(plan, parts.start, wend, keys, keynulls, values, out,
									 outnulls);
			shown = true;
		}
		else
			shown = view_plan_output(plan, parts.start, wend, keys, keynulls, values, out,
									 outnulls);
	}
	MemoryContextSwitchTo(old);
	return shown;
}

/*
 * view_reader_group_values puts the output row of one group that
 * view_reader_groups read into out and outnulls (desc's columns, values
 * of reference types copied into the current memory context); false if
 * HAVING rejects it or its window is closed.  Behind the view owner's
 * gate.  Only for views whose groups are their rows (not hopping,
 * cumulating or sliding, whose windows combine panes).
 */
bool
view_reader_group_values(ViewReader *reader, const SharedGroupCopy *group, TupleDesc desc,
						 Datum *out, bool *outnulls, MemoryContext rowcxt)
{
	int			i;

	if (!group_row(reader->plan, group->blob, group->len, reader->closed_upto, out, outnulls,
				   rowcxt, false))
		return false;
	/* rowcxt goes with the next group */
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!outnulls[i] && !att->attbyval)
			out[i] = datumCopy(out[i], false, att->attlen);
	}
	return true;
}

/* the groups read from the last checkpoint, as readers get them from shared memory */
typedef struct OpenStateCopies
{
	SharedGroupCopy *items;
	int64		n;
	int64		size;
} OpenStateCopies;

/* open_state_copy adds a group of open_state to the copies */
static void
open_state_copy(const OpenStateRow *row, void *arg)
{
	OpenStateCopies *copies = arg;
	StringInfoData buf;

	if (copies->n == copies->size)
	{
		copies->size = Max(copies->size * 2, 64);
		copies->items = copies->items == NULL ?
			palloc_extended(sizeof(SharedGroupCopy) * copies->size, MCXT_ALLOC_HUGE) :
			repalloc_huge(copies->items, sizeof(SharedGroupCopy) * copies->size);
	}
	initStringInfo(&buf);
	state_blob_assemble(row->window_start, row->window_end,
						VARDATA_ANY(row->group_key), VARSIZE_ANY_EXHDR(row->group_key),
						VARDATA_ANY(row->state), VARSIZE_ANY_EXHDR(row->state), &buf);
	copies->items[copies->n].blob = buf.data;
	copies->items[copies->n++].len = buf.len;
}

/*
 * read_open_state_table reads a view's open windows from its last
 * checkpoint, for when no worker has published it to shared memory (yet).
 */
static SharedGroupCopy *
read_open_state_table(int32 view_id, int64 *ngroups)
{
	OpenStateCopies copies = {NULL, 0, 0};

	catalog_scan_open_states(view_id, GetActiveSnapshot(), open_state_copy, &copies);
	*ngroups = copies.n;
	return copies.items;
}

/*
 * view_read_first_open_start sets *first to the earliest start of the
 * windows of the view of row that end after closed_upto (not closed yet),
 * as the worker last published them, or as the last checkpoint wrote them
 * when it has not published the view whole (not yet, or the memory limit
 * cut it short); DT_NOEND when there is none.  It reads the windows'
 * bounds only, so runs none of the view's code.  false when they are the
 * checkpoint's: windows opened since are missing.
 */
bool
view_read_first_open_start(const ViewCatalogRow *row, TimestampTz closed_upto,
						   TimestampTz *first)
{
	StreamextDbSlot *slot = my_db_slot();
	SharedGroupCopy *groups = NULL;
	int64		ngroups = 0;
	int64		i;
	bool		found = false;
	bool		incomplete = false;
	char		failure[PUBLISH_FAILURE_LEN];
	ViewMarks	marks;

	if (slot != NULL)
		groups = state_shmem_read_view(slot, row->id, row->start_lsn, NULL, -1, &ngroups,
									   &found, &incomplete, failure, &marks, NULL, NULL);
	if (!found || incomplete)
		groups = read_open_state_table(row->id, &ngroups);
	*first = DT_NOEND;
	for (i = 0; i < ngroups; i++)
	{
		BlobParts	parts;

		state_blob_parts(groups[i].blob, groups[i].len, &parts);
		if (parts.end > closed_upto)
			*first = Min(*first, parts.start);
	}
	return found && !incomplete;
}

/*
 * wait_for_worker_ready waits, a little, for the database's worker to have
 * made its replication slot: until then (just after CREATE EXTENSION) the
 * events committed are counted only by the worker's first recompute, and a
 * read would not show them.  A transaction that wrote does not wait: the
 * slot's creation waits for it.  Nor does a read while the worker fails
 * (it has failed in the last WORKER_READY_WAIT_MS, or fails meanwhile): it
 * may never be ready (no free replication slot, say), and each read would
 * wait the whole time.
 */
static StreamextDbSlot *
wait_for_worker_ready(StreamextDbSlot *slot)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz deadline = TimestampTzPlusMilliseconds(now, WORKER_READY_WAIT_MS);
	int			restarts_before;
	bool		failing;

	if (slot == NULL || TransactionIdIsValid(GetTopTransactionIdIfAny()))
		return slot;
	SpinLockAcquire(&slot->mutex);
	restarts_before = slot->restarts;
	failing = slot->last_error_time != 0 &&
		!TimestampDifferenceExceeds(slot->last_error_time, now, WORKER_READY_WAIT_MS);
	SpinLockRelease(&slot->mutex);
	if (failing)
		return slot;
	ConditionVariablePrepareToSleep(&slot->progress_cv);
	for (;;)
	{
		bool		ready;
		bool		failed;
		long		secs;
		int			usecs;

		SpinLockAcquire(&slot->mutex);
		ready = slot->ready;
		failed = slot->restarts != restarts_before;
		SpinLockRelease(&slot->mutex);
		TimestampDifference(GetCurrentTimestamp(), deadline, &secs, &usecs);
		if (ready || failed || (secs == 0 && usecs == 0))
			break;
		(void) ConditionVariableTimedSleep(&slot->progress_cv, secs * 1000 + usecs / 1000 + 1,
										   PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	return slot;
}

/*
 * streamext_read_view returns the open windows of a continuous view as
 * rows.  Each user view is the closed-window table plus this function
 * (which view_scan.c's scan replaces in plans, to read fewer groups).
 */
Datum
streamext_read_view(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	ViewReader	reader;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	view_reader_open(&reader, PG_GETARG_INT32(0), rsinfo->setDesc,
					 rsinfo->econtext ? rsinfo->econtext->ecxt_estate : NULL);
	view_reader_read(&reader, NULL, -1, rsinfo->setResult, rsinfo->setDesc);
	return (Datum) 0;
}

/*
 * The planner asks for a view's plan from several hooks while it plans one
 * query (its paths, its rows, its statistics), each a scan of the catalog:
 * a third of planning a read of the newest windows.  While it plans (under
 * one snapshot), the plans found are kept, by the planning that found them
 * (view_scan.c's planner hook numbers them); a plan stays valid for the
 * transaction (reader_plan).
 */
#define PLAN_MEMO_SIZE 8

static uint64 planning_id = 0;	/* 0: not planning */
static uint64 last_planning_id = 0;
static struct
{
	uint64		planning_id;
	int32		view_id;
	ViewPlan   *plan;
}			plan_memo[PLAN_MEMO_SIZE];
static int	plan_memo_next = 0;

/* view_read_planning_begins numbers a planning; the outer one's returned */
uint64
view_read_planning_begins(void)
{
	uint64		outer = planning_id;

	planning_id = ++last_planning_id;
	return outer;
}

/* view_read_planning_ends goes back to the outer planning, if any */
void
view_read_planning_ends(uint64 outer)
{
	planning_id = outer;
}

/*
 * view_read_plan is the compiled definition of a continuous view for
 * reading, or NULL if the caller's snapshot sees none that can be read
 * (the read itself says why); for the planner.  A definition that cannot
 * be compiled (its owner lost a grant) fails here as the read would.
 */
ViewPlan *
view_read_plan(int32 view_id)
{
	ViewCatalogRow *row;
	ViewPlan   *plan;
	int			i;

	if (!ActiveSnapshotSet())
		return NULL;
	for (i = 0; planning_id != 0 && i < PLAN_MEMO_SIZE; i++)
		if (plan_memo[i].planning_id == planning_id && plan_memo[i].view_id == view_id)
			return plan_memo[i].plan;
	row = catalog_view_brief_as_of(view_id, GetActiveSnapshot());
	plan = (row == NULL || row->restored) ? NULL : reader_plan(row);
	if (planning_id != 0)
	{
		plan_memo[plan_memo_next].planning_id = planning_id;
		plan_memo[plan_memo_next].view_id = view_id;
		plan_memo[plan_memo_next].plan = plan;
		plan_memo_next = (plan_memo_next + 1) % PLAN_MEMO_SIZE;
	}
	return plan;
}

/*
 * release_statement_pin releases a query's pin as its memory goes.
 */
static void
release_statement_pin(void *arg)
{
	StatementPin *sp = arg;

	dlist_delete(&sp->node);
	state_shmem_unpin(&sp->pin);
}

/*
 * statement_pin is the pin of the query that estate runs (NULL: none, each
 * read sees the last publish), made as it starts or at its first read.
 */
static StatementPin *
statement_pin(EState *estate)
{
	dlist_iter	iter;
	StatementPin *sp;

	if (estate == NULL)
		return NULL;
	dlist_foreach(iter, &statement_pins)
	{
		sp = dlist_container(StatementPin, node, iter.cur);
		if (sp->estate == estate)
			return sp;
	}
	sp = MemoryContextAllocZero(estate->es_query_cxt, sizeof(StatementPin));
	sp->estate = estate;
	sp->cb.func = release_statement_pin;
	sp->cb.arg = sp;
	MemoryContextRegisterResetCallback(estate->es_query_cxt, &sp->cb);
	dlist_push_head(&statement_pins, &sp->node);
	return sp;
}

/*
 * view_read_pin_statement pins the publish that the query estate runs is
 * to read, as the query starts rather than at its first read: a cursor
 * then reads the views as they were when it was declared, as its snapshot
 * reads tables, not as they are at its first FETCH.  Only for a query that
 * may read one of the views it names (view_ids): a pin keeps what the
 * worker changes, and a role that may read no view must not keep anything
 * (its first read fails, and releases the pin it would take).  Without a
 * slot for the database, reads find nothing published: nothing to pin.
 */
void
view_read_pin_statement(EState *estate, const int32 *view_ids, int nviews)
{
	StreamextDbSlot *slot;
	MemoryContext old;
	int			i;

	if (nviews == 0 || !ActiveSnapshotSet() ||
		(slot = streamext_find_db_slot(MyDatabaseId, false)) == NULL)
		return;
	/* the row lives as long as the query: its reads take it (reader_open) */
	old = MemoryContextSwitchTo(estate->es_query_cxt);
	for (i = 0; i < nviews; i++)
	{
		ViewCatalogRow *row = catalog_view_brief_as_of(view_ids[i], GetActiveSnapshot());
		StatementPin *sp;

		if (row == NULL || row->restored ||
			pg_class_aclcheck(row->view_relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
			continue;
		sp = statement_pin(estate);
		sp->checked_row = row;
		if (!sp->pin.taken)
			state_shmem_pin(wait_for_worker_ready(slot), &sp->pin);
		break;
	}
	MemoryContextSwitchTo(old);
}

/*
 * view_reader_open checks that the caller may read continuous view view_id
 * as rows of desc, and prepares reader for view_reader_read: once per
 * scan, however often the scan reads (a nested loop's inner side).  Every
 * read of the query estate runs sees one publish of the views.
 */
void
view_reader_open(ViewReader *reader, int32 view_id, TupleDesc desc, EState *estate)
{
	reader_open(reader, view_id, desc, false, estate);
}

/*
 * view_reader_open_partial is view_reader_open for rows of partial states
 * (view_plan_partial_desc), which a coordinator combines with other
 * servers' (shard_view.c).  A sliding window is the one kind whose rows a
 * coordinator could not combine: each server slides it to its own
 * watermark.
 */
void
view_reader_open_partial(ViewReader *reader, int32 view_id, TupleDesc desc, EState *estate)
{
	reader_open(reader, view_id, desc, true, estate);
}

/*
 * view_reader_wire_states converts a group's states as the view's closed
 * table keeps them into the form servers exchange (agg_wire_write), for a
 * reader opened with view_reader_open_partial.
 */
bytea *
view_reader_wire_states(ViewReader *reader, bytea *states)
{
	ViewPlan   *plan = reader->plan;
	AggValue   *values = palloc0(sizeof(AggValue) * Max(plan->aggs.naggs, 1));
	UserCodeGate gate;
	bytea	   *result;

	usercode_enter(&gate, plan->owner, USERCODE_READ_ONLY);
	states_read(plan, VARDATA_ANY(states), VARSIZE_ANY_EXHDR(states), values,
				CurrentMemoryContext);
	result = agg_wire_bytea(&plan->aggs, values, plan->wire_signature);
	usercode_leave(&gate);
	return result;
}

/* reader_open does the work of view_reader_open and view_reader_open_partial */
static void
reader_open(ViewReader *reader, int32 view_id, TupleDesc desc, bool partial, EState *estate)
{
	StatementPin *sp = statement_pin(estate);
	ViewCatalogRow *row = reader_row(view_id, (sp != NULL && sp->checked_row != NULL &&
												sp->checked_row->id == view_id) ?
									 sp->checked_row : NULL);
	ViewPlan   *plan = reader_plan(row);
	TupleDesc	want_desc;
	int			i;

	/* the function reads what the view shows: it needs the view's grant */
	if (pg_class_aclcheck(plan->view_relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_VIEW, get_rel_name(plan->view_relid));
	/* and its owner, the functions it calls: the plan is cached, a REVOKE is not */
	if (!usercode_acl_ok(&plan->acl))
		ereport(ERROR,
				(errcode(plan->acl.denied_code),
				 errmsg("continuous view \"%s\" cannot be read: %s", plan->name, plan->acl.denied),
				 errhint("The owner of the view needs EXECUTE on the functions it calls.")));

	if (partial && plan->window.kind == WINDOW_SLIDING)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the partial states of sliding view \"%s\" cannot be combined with other servers'",
						plan->name),
				 errhint("Each server slides the window to its own watermark; distribute a hopping window instead.")));
	if (partial)
	{
		agg_wire_check(&plan->aggs);
		if (plan->wire_signature == 0)
		{
			ViewCatalogRow *full = catalog_view_as_of(view_id, GetActiveSnapshot());

			if (full == NULL)
				elog(ERROR, "continuous view %d disappeared", view_id);
			plan->wire_signature = view_plan_wire_signature(plan, full);
		}
	}
	want_desc = partial ? view_plan_partial_desc(plan) : plan->outdesc;
	if (desc == NULL)
		want_desc = CreateTemplateTupleDesc(0);	/* no rows: no check */
	else if (desc->natts != want_desc->natts)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column definition list of streamext.%s(%d) has %d columns, the view has %d",
						partial ? "read_partials" : "read_view",
						view_id, desc->natts, want_desc->natts)));
	/* the rows are built for the view's types: any other would be misread */
	for (i = 0; i < want_desc->natts; i++)
	{
		Form_pg_attribute want = TupleDescAttr(want_desc, i);
		Form_pg_attribute given = TupleDescAttr(desc, i);

		if (given->atttypid != want->atttypid)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column %d of the column definition list of streamext.read_view(%d) is of type %s, the view's is %s",
							i + 1, view_id, format_type_be(given->atttypid),
							format_type_be(want->atttypid)),
					 errhint("Read the view itself, or give read_view the view's column types.")));
	}

	reader->view_id = view_id;
	reader->partial = partial;
	reader->row = row;
	reader->plan = plan;
	reader->slot = wait_for_worker_ready(my_db_slot());
	reader->pin = (sp != NULL) ? &sp->pin : NULL;
	/* windows the snapshot sees closed are in the closed-window table */
	reader->closed_upto = DT_NOBEGIN;
	reader->max_event_time = DT_NOBEGIN;
	if (window_closes(&plan->window) || plan->window.kind == WINDOW_SLIDING)
		read_progress(view_id, &reader->closed_upto, &reader->max_event_time);
}

/*
 * reader_groups reads the groups of a read (see view_reader_read) from
 * shared memory (lent for the statement: see state_shmem_read_view), or
 * copies them from the last checkpoint when the worker has not published
 * the view (found false then).
 */
static SharedGroupCopy *
reader_groups(ViewReader *reader, const uint32 *keyhashes, int nkeyhashes, int64 *ngroups,
			  bool *found, ViewMarks *marks, const SlidingRead *sliding)
{
	SharedGroupCopy *groups = NULL;
	bool		incomplete = false;
	char		failure[PUBLISH_FAILURE_LEN];

	*ngroups = 0;
	*found = false;
	failure[0] = '\0';
	if (reader->slot != NULL)
		groups = state_shmem_read_view(reader->slot, reader->view_id, reader->row->start_lsn,
									   keyhashes, nkeyhashes, ngroups, found, &incomplete,
									   failure, marks, sliding, reader->pin);
	if (incomplete && failure[0] != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("continuous view \"%s\" cannot be read: the worker could not publish it",
						reader->plan->name),
				 errdetail("%s", failure),
				 reader->plan->joined.nlookups > 0 ?
				 errhint("A function of the view failed on its groups, or the view cannot follow the tables it joins: fix the cause, then call streamext.rebuild_view('%s').",
						 reader->plan->name) :
				 errhint("No event is lost: the worker keeps the view and writes it at every checkpoint.  A function of the view failed on its groups: fix it, or change the view with streamext.replace_view().")));
	if (incomplete)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("continuous view \"%s\" does not fit in streamext.max_memory",
						reader->plan->name),
				 errdetail("No event is lost: the worker keeps the view and writes it at every checkpoint."),
				 errhint("Raise streamext.max_memory (now %dMB) and reload the configuration, or give the view a window: closed windows leave memory for the closed-window table.",
						 streamext_max_memory_mb)));
	if (!*found)
		groups = read_open_state_table(reader->view_id, ngroups);
	return groups;
}

/*
 * view_reader_groups reads the groups of a view whose groups are its rows
 * (see view_reader_group_values), *ngroups of them: all or those of the
 * given key hashes.  Good while the caller's memory and the statement last
 * (state_shmem_read_view lends them).
 */
SharedGroupCopy *
view_reader_groups(ViewReader *reader, const uint32 *keyhashes, int nkeyhashes,
				   int64 *ngroups)
{
	bool		found;
	ViewMarks	marks;

	return reader_groups(reader, keyhashes, nkeyhashes, ngroups, &found, &marks, NULL);
}

/*
 * view_reader_read puts the open windows of the view of reader into store
 * as rows of desc: every group, or (nkeyhashes >= 0) only the groups whose
 * keys hash to one of keyhashes (view_plan_key_hash), sorted and without
 * duplicates.  Those rows include the ones asked for; the caller filters.
 */
void
view_reader_read(ViewReader *reader, const uint32 *keyhashes, int nkeyhashes,
				 Tuplestorestate *store, TupleDesc desc)
{
	ViewPlan   *plan = reader->plan;
	SharedGroupCopy *groups;
	int64		ngroups;
	int64		i;
	bool		found;
	ViewMarks	marks = {DT_NOBEGIN, DT_NOBEGIN, DT_NOBEGIN};
	MemoryContext rowcxt;
	bool		any_row;
	UserCodeGate gate;
	SlidingRead sliding = {&plan->window, DT_NOBEGIN};

	/*
	 * Commit time is a clock: the window of a stream without a time column
	 * slides on while no event comes.
	 */
	if (plan->window.kind == WINDOW_SLIDING && plan->time_attno == InvalidAttrNumber)
		sliding.clock_floor = GetCurrentTransactionStartTimestamp() - plan->lateness_usec;
	groups = reader_groups(reader, keyhashes, nkeyhashes, &ngroups, &found, &marks,
						   plan->window.kind == WINDOW_SLIDING ? &sliding : NULL);

	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "streamext read row",
								   ALLOCSET_DEFAULT_SIZES);

	/*
	 * The view's functions (combine, final, HAVING, outputs) run as its
	 * owner, as a view's query does: behind one gate for the whole read.
	 */
	usercode_enter(&gate, plan->owner, USERCODE_READ_ONLY);
	any_row = (ngroups > 0);
	if (plan->window.kind == WINDOW_HOPPING || plan->window.kind == WINDOW_CUMULATE ||
		plan->window.kind == WINDOW_SLIDING)
	{
		TimestampTz cutoff = DT_NOBEGIN;

		if (plan->window.kind == WINDOW_SLIDING)
		{
			if (!found && !TIMESTAMP_NOT_FINITE(reader->max_event_time))
				marks.watermark = reader->max_event_time - plan->lateness_usec;
			/* as state_shmem_read_view picked the panes */
			marks.watermark = Max(marks.watermark, sliding.clock_floor);
			cutoff = window_sliding_cutoff(&plan->window, marks.watermark);
		}
		any_row = window_panes_emit(plan, store, desc, groups, ngroups, reader->closed_upto,
									cutoff, &marks, reader->partial);
	}
	else
	{
		Datum	   *out = palloc(sizeof(Datum) * desc->natts);
		bool	   *outnulls = palloc(sizeof(bool) * desc->natts);

		for (i = 0; i < ngroups; i++)
		{
			if (group_row(plan, groups[i].blob, groups[i].len, reader->closed_upto, out,
						  outnulls, rowcxt, reader->partial))
				tuplestore_putvalues(store, desc, out, outnulls);
		}
	}

	/*
	 * Like SELECT count(*) FROM t on an empty t, a view without GROUP BY and
	 * window has its one row before any event: the aggregates' initial
	 * states.
	 */
	if (!any_row && plan->nkeys == 0 && !window_has_columns(&plan->window))
		emit_initial_row(plan, store, desc, rowcxt, reader->partial);
	usercode_leave(&gate);
	MemoryContextDelete(rowcxt);
}

/*
 * read_view_rows is about how many rows read_view returns for a view with
 * the counters stats: a group (of a window, or of a pane) is a row, but a
 * sliding view shows one window per key, and a key's run of p panes of a
 * hopping view makes p + k - 1 windows of k panes each.
 */
static double
read_view_rows(int32 view_id, ViewStats *stats)
{
	ViewPlan   *plan = view_read_plan(view_id);

	if (plan == NULL)
		return stats->groups;
	if (plan->window.kind == WINDOW_SLIDING)
		return stats->keys;
	if (plan->window.kind == WINDOW_HOPPING && !plan->window.calendar &&
		plan->window.pane_usec > 0)
		return stats->groups +
			stats->keys * (plan->window.size_usec / plan->window.pane_usec - 1);
	return stats->groups;
}

/*
 * streamext_read_view_support tells the planner how many rows read_view
 * returns (SupportRequestRows): the open groups the worker published for
 * the view, rather than PostgreSQL's guess of 1,000 rows for any set-
 * returning function, so that a join with a view is planned for its size;
 * and what reading them costs (SupportRequestCost), against which the
 * planner weighs a lookup by key (view_scan.c).  Without a published count
 * (no worker yet) the planner keeps its guesses.
 */
Datum
streamext_read_view_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	Node	   *node;
	FuncExpr   *call;
	Node	   *arg;
	StreamextDbSlot *slot;
	ViewStats	stats;

	if (IsA(rawreq, SupportRequestRows))
		node = ((SupportRequestRows *) rawreq)->node;
	else if (IsA(rawreq, SupportRequestCost))
		node = ((SupportRequestCost *) rawreq)->node;
	else
		PG_RETURN_POINTER(NULL);
	if (StreamextState == NULL || node == NULL || !IsA(node, FuncExpr))
		PG_RETURN_POINTER(NULL);
	call = (FuncExpr *) node;
	arg = list_length(call->args) == 1 ? linitial(call->args) : NULL;
	if (arg == NULL || !IsA(arg, Const) || ((Const *) arg)->constisnull)
		PG_RETURN_POINTER(NULL);
	slot = streamext_find_db_slot(MyDatabaseId, false);
	if (slot == NULL ||
		!state_shmem_get_stats(slot, DatumGetInt32(((Const *) arg)->constvalue), &stats))
		PG_RETURN_POINTER(NULL);
	if (IsA(rawreq, SupportRequestRows))
		((SupportRequestRows *) rawreq)->rows =
			Max(read_view_rows(DatumGetInt32(((Const *) arg)->constvalue), &stats), 1);
	else
	{
		SupportRequestCost *req = (SupportRequestCost *) rawreq;

		/* all of it before the first row: read_view reads every group first */
		req->startup = Max(stats.groups, 1) * VIEW_GROUP_READ_COST * cpu_operator_cost;
		req->per_tuple = 0;
	}
	PG_RETURN_POINTER(rawreq);
}

/*
 * emit_initial_row emits the row of the aggregates' initial states.
 */
static void
emit_initial_row(ViewPlan *plan, Tuplestorestate *store, TupleDesc desc,
				 MemoryContext rowcxt, bool partial)
{
	MemoryContext old = MemoryContextSwitchTo(rowcxt);
	AggValue   *values = palloc0(sizeof(AggValue) * Max(plan->aggs.naggs, 1));
	Datum	   *out = palloc(sizeof(Datum) * desc->natts);
	bool	   *outnulls = palloc(sizeof(bool) * desc->natts);

	agg_init_values(&plan->aggs, values, rowcxt);
	if (partial)
	{
		view_plan_partial_output(plan, WINDOW_UNBOUNDED_START, DT_NOEND, NULL, NULL, values,
								 out, outnulls);
		tuplestore_putvalues(store, desc, out, outnulls);
	}
	else if (view_plan_output(plan, WINDOW_UNBOUNDED_START, DT_NOEND, NULL, NULL, values, out,
							  outnulls))
		tuplestore_putvalues(store, desc, out, outnulls);
	MemoryContextSwitchTo(old);
	MemoryContextReset(rowcxt);
}

/*
 * read_progress reads a view's closed horizon and greatest event time as
 * the caller's snapshot sees them: they commit with the closed rows.
 */
static void
read_progress(int32 view_id, TimestampTz *closed_upto, TimestampTz *max_event_time)
{
	ViewProgressRow progress;

	*closed_upto = DT_NOBEGIN;
	*max_event_time = DT_NOBEGIN;
	if (catalog_read_view_progress(view_id, GetActiveSnapshot(), &progress))
	{
		*closed_upto = progress.closed_upto;
		*max_event_time = progress.max_event_time;
	}
}

/*
 * streamext_worker_status reports the database's worker from its slot.
 */
Datum
streamext_worker_status(PG_FUNCTION_ARGS)
{
	StreamextDbSlot *slot = my_db_slot();
	TupleDesc	desc;
	Datum		values[13];
	bool		nulls[13];

	/* 0.1's worker_status has 12 columns, 0.2's caught_up_time too */
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE ||
		desc->natts > lengthof(values))
		elog(ERROR, "return type must be a row type");
	memset(nulls, true, sizeof(nulls));
	if (slot != NULL)
	{
		pid_t		pid;
		XLogRecPtr	published_upto;
		XLogRecPtr	applied_lsn;
		TimestampTz applied_commit_time;
		XLogRecPtr	checkpoint_lsn;
		TimestampTz checkpoint_time;
		uint64		events_decoded;
		uint64		transactions;
		int			restarts;
		char		last_error[sizeof(slot->last_error)];
		TimestampTz last_error_time;
		TimestampTz caught_up_time;

		LWLockAcquire(&StreamextState->lock, LW_SHARED);
		pid = slot->worker_pid;
		LWLockRelease(&StreamextState->lock);
		/* one moment of the worker: copied together, converted after */
		SpinLockAcquire(&slot->mutex);
		published_upto = slot->published_upto;
		applied_lsn = slot->applied_lsn;
		applied_commit_time = slot->applied_commit_time;
		checkpoint_lsn = slot->checkpoint_lsn;
		checkpoint_time = slot->checkpoint_time;
		events_decoded = slot->events_decoded;
		transactions = slot->transactions;
		restarts = slot->restarts;
		memcpy(last_error, slot->last_error, sizeof(last_error));
		last_error_time = slot->last_error_time;
		caught_up_time = slot->caught_up_time;
		SpinLockRelease(&slot->mutex);

		if (caught_up_time != 0)
		{
			values[12] = TimestampTzGetDatum(caught_up_time);
			nulls[12] = false;
		}

		if (pid != 0)
		{
			values[0] = Int32GetDatum(pid);
			nulls[0] = false;
		}
		values[1] = CStringGetTextDatum(psprintf("streamext_%u", MyDatabaseId));
		nulls[1] = false;
		values[2] = LSNGetDatum(published_upto);
		values[3] = LSNGetDatum(applied_lsn);
		nulls[2] = nulls[3] = false;
		if (applied_commit_time != 0)
		{
			values[4] = TimestampTzGetDatum(applied_commit_time);
			nulls[4] = false;
		}
		values[5] = LSNGetDatum(checkpoint_lsn);
		nulls[5] = false;
		if (checkpoint_time != 0)
		{
			values[6] = TimestampTzGetDatum(checkpoint_time);
			nulls[6] = false;
		}
		values[7] = Int64GetDatum((int64) events_decoded);
		values[8] = Int64GetDatum((int64) transactions);
		nulls[7] = nulls[8] = false;
		values[9] = Int32GetDatum(restarts);
		nulls[9] = false;
		if (last_error_time != 0)
		{
			last_error[sizeof(last_error) - 1] = '\0';
			values[10] = CStringGetTextDatum(last_error);
			values[11] = TimestampTzGetDatum(last_error_time);
			nulls[10] = nulls[11] = false;
		}
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * streamext_stream_events reports the events the worker decoded for a stream.
 */
Datum
streamext_stream_events(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	StreamextDbSlot *slot = my_db_slot();
	uint64		events = 0;
	int			i;

	if (slot != NULL)
	{
		SpinLockAcquire(&slot->mutex);
		for (i = 0; i < slot->nstreams; i++)
			if (slot->streams[i].relid == relid)
			{
				events = slot->streams[i].events;
				break;
			}
		SpinLockRelease(&slot->mutex);
	}
	PG_RETURN_INT64((int64) events);
}

/*
 * streamext_view_stats reports a view's counters as last published.
 */
Datum
streamext_view_stats(PG_FUNCTION_ARGS)
{
	int32		view_id = PG_GETARG_INT32(0);
	StreamextDbSlot *slot = my_db_slot();
	TupleDesc	desc;
	Datum		values[7];
	bool		nulls[7];
	ViewStats	stats;

	/* 0.1's view_stats has 6 columns, 0.2's future_events too */
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE ||
		desc->natts > lengthof(values))
		elog(ERROR, "return type must be a row type");
	memset(nulls, true, sizeof(nulls));
	if (slot != NULL && state_shmem_get_stats(slot, view_id, &stats))
	{
		values[0] = Int64GetDatum(stats.groups);
		values[1] = Int64GetDatum(stats.windows);
		values[2] = Int64GetDatum(stats.bytes);
		values[3] = Int64GetDatum(stats.events);
		values[4] = Int64GetDatum(stats.late_events);
		values[5] = Int64GetDatum(stats.dead_letters);
		values[6] = Int64GetDatum(stats.future_events);
		memset(nulls, false, sizeof(nulls));
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * read_worker_progress reads whether the worker of slot runs, how far it
 * has published and whether it is ready; true when it failed in the last
 * WORKER_READY_WAIT_MS.
 */
static bool
read_worker_progress(StreamextDbSlot *slot, bool *running, XLogRecPtr *published_upto,
					 bool *ready)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz last_error_time;

	LWLockAcquire(&StreamextState->lock, LW_SHARED);
	*running = (slot->worker_pid != 0);
	LWLockRelease(&StreamextState->lock);
	SpinLockAcquire(&slot->mutex);
	*published_upto = slot->published_upto;
	*ready = slot->ready;
	last_error_time = slot->last_error_time;
	SpinLockRelease(&slot->mutex);
	return last_error_time != 0 &&
		!TimestampDifferenceExceeds(last_error_time, now, WORKER_READY_WAIT_MS);
}

/*
 * worker_waits_for_me says whether the worker of slot waits for a lock this
 * backend holds: waiting for it to go on would wait for ourselves.
 */
static bool
worker_waits_for_me(StreamextDbSlot *slot)
{
	int			pid;
	Datum	   *blockers;
	int			n;
	int			i;

	LWLockAcquire(&StreamextState->lock, LW_SHARED);
	pid = slot->worker_pid;
	LWLockRelease(&StreamextState->lock);
	if (pid == 0)
		return false;
	deconstruct_array(DatumGetArrayTypeP(DirectFunctionCall1(pg_blocking_pids, Int32GetDatum(pid))),
					  INT4OID, sizeof(int32), true, TYPALIGN_INT, &blockers, NULL, &n);
	for (i = 0; i < n; i++)
		if (DatumGetInt32(blockers[i]) == MyProcPid)
			return true;
	return false;
}

/*
 * view_read_wait_applied waits, up to timeout_ms, until the database's
 * worker has decoded and published the WAL written so far: the events
 * committed before the call are in its views, their closed windows
 * corrected and sent.  rebuild_view and replace_view call it, holding the
 * stream against producers, before they compute a view again: a late event
 * the worker had not applied yet would otherwise be counted by the
 * recompute, and the window it corrects, delivered before, never sent
 * again.  Does not wait for a worker that is not running, not ready,
 * failed in the last WORKER_READY_WAIT_MS, or waits for a lock of this
 * backend's.  False when it did not see the
 * worker get there.
 */
bool
view_read_wait_applied(int64 timeout_ms)
{
	XLogRecPtr	target = decoder_wal_inserted_upto();
	TimestampTz start = GetCurrentTimestamp();
	StreamextDbSlot *slot = streamext_find_db_slot(MyDatabaseId, false);
	bool		applied = false;

	if (slot == NULL)
		return false;
	XLogFlush(target);
	for (;;)
	{
		bool		running;
		bool		ready;
		bool		failing;
		XLogRecPtr	published_upto;
		int64		remaining;

		failing = read_worker_progress(slot, &running, &published_upto, &ready);
		if (running && published_upto >= target)
		{
			applied = true;
			break;
		}
		remaining = timeout_ms - TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());
		if (!running || !ready || failing || remaining <= 0 || worker_waits_for_me(slot))
			break;
		streamext_wake_worker(MyDatabaseId);
		(void) ConditionVariableTimedSleep(&slot->progress_cv, (long) Min(remaining, 1000),
										   PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	return applied;
}

/*
 * streamext_wait_caught_up waits until the worker has decoded and published
 * all WAL written before the call; false on timeout.  Tests and scripts use
 * it instead of sleeping.
 */
Datum
streamext_wait_caught_up(PG_FUNCTION_ARGS)
{
	Interval   *timeout;
	int64		timeout_ms;
	XLogRecPtr	target = decoder_wal_inserted_upto();
	TimestampTz start = GetCurrentTimestamp();
	StreamextDbSlot *slot = my_db_slot();
	bool		caught_up = false;

	sqlfunc_check_arg_not_null(fcinfo, 0, "timeout",
							   "Pass how long to wait, e.g. '60 seconds', or leave it out for that default.");
	timeout = PG_GETARG_INTERVAL_P(0);
	timeout_ms = (timeout->time + (int64) timeout->day * USECS_PER_DAY) / 1000;
	XLogFlush(target);

	/*
	 * The worker broadcasts progress_cv when published_upto moves, and a
	 * database's first slot is announced on slot_claimed_cv.  The sleep
	 * checks for interrupts; an error (a cancel, statement_timeout) ends it
	 * in AbortTransaction.
	 */
	for (;;)
	{
		int64		remaining;
		bool		ready = false;

		if (slot == NULL)
			slot = streamext_find_db_slot(MyDatabaseId, false);
		if (slot != NULL)
		{
			bool		running;
			XLogRecPtr	published_upto;

			(void) read_worker_progress(slot, &running, &published_upto, &ready);
			if (running && published_upto >= target)
			{
				caught_up = true;
				break;
			}
		}

		/*
		 * A worker that has no slot yet waits for every transaction holding
		 * an xid to make one, this one too: waiting for it here would only
		 * wait for the timeout.
		 */
		if (!ready && TransactionIdIsValid(GetTopTransactionIdIfAny()))
		{
			ereport(WARNING,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("streamext cannot decode this database before this transaction ends"),
					 errdetail("The worker creates its replication slot once every transaction holding a transaction ID has ended, this one included."),
					 errhint("Call wait_caught_up() after COMMIT.")));
			break;
		}
		remaining = timeout_ms - TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());
		if (remaining <= 0)
			break;
		/* the worker may nap: tell it there is WAL to decode */
		if (slot != NULL)
			streamext_wake_worker(MyDatabaseId);
		(void) ConditionVariableTimedSleep(slot != NULL ? &slot->progress_cv :
										   &StreamextState->slot_claimed_cv,
										   (long) Min(remaining, 1000),
										   PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	PG_RETURN_BOOL(caught_up);
}
