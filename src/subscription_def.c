/*-------------------------------------------------------------------------
 *
 * subscription_def.c
 *	  Defining subscriptions: create_subscription and drop_subscription,
 *	  the validation of their arguments, and their filters, which are
 *	  analysed once at creation (so search_path no longer matters), compiled
 *	  and evaluated with the rights of the subscription's owner.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "replication/slot.h"
#include "storage/condition_variable.h"
#include "access/xact.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "storage/lmgr.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/pg_lsn.h"
#include "utils/regproc.h"
#include "utils/rls.h"
#include "miscadmin.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "catalog.h"
#include "determinism.h"
#include "hooks.h"
#include "shmem.h"
#include "sqlfunc.h"
#include "subscription_def.h"
#include "usercode.h"
#include "view_query.h"
#include "window.h"

PG_FUNCTION_INFO_V1(streamext_create_subscription);
PG_FUNCTION_INFO_V1(streamext_drop_subscription);
PG_FUNCTION_INFO_V1(streamext_adopt_subscription);

static Node *subscription_filter_analyze(const char *filter, Oid source_relid, bool restored);
static void check_view_emit(int32 view_id, const char *source, const char *emit);
static void check_listen_name(const char *value, const char *what);
static Query *analyze_filter(const char *sql);
static Oid	resolve_source(const char *source, int32 *view_id, Oid *stream_relid,
						   int32 *distributed_id);
static TimestampTz check_distributed_source(int32 distributed_id, const char *source,
										   const char *filter, const char *emit);
static void wait_for_decoding(void);

#define SLOT_WAIT_MS 30000
#define FILTER_HINT "A filter is one boolean expression over the source's columns, e.g. 'ms > 1000 AND url LIKE ''/api/%'''."

/*
 * check_listen_name accepts names a client can LISTEN to as written:
 * channels, and subscription names, which are the default channel.
 */
static void
check_listen_name(const char *value, const char *what)
{
	const char *p;
	bool		ok = (value[0] != '\0' && strlen(value) < NAMEDATALEN &&
					  ((value[0] >= 'a' && value[0] <= 'z') || value[0] == '_'));

	for (p = value; ok && *p; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("%s \"%s\" is not a valid channel name", what, value),
				 errhint("Use at most %d lower-case letters, digits and underscores, starting with a letter or underscore, so that LISTEN %s works as written.",
						 NAMEDATALEN - 1, what)));
}

/*
 * analyze_filter parses and analyses the query around a filter, errors
 * pointing into it.
 */
static Query *
analyze_filter(const char *sql)
{
	Query	   *query = NULL;
	List	   *raw;
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		raw = pg_parse_query(sql);
		if (list_length(raw) != 1 || !IsA(linitial_node(RawStmt, raw)->stmt, SelectStmt))
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("a subscription filter must be one boolean expression"),
					 errhint("%s", FILTER_HINT)));
		query = parse_analyze_fixedparams(linitial_node(RawStmt, raw), sql, NULL, 0, NULL);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		report_in_query(sql);
	}
	PG_END_TRY();
	return query;
}

/*
 * subscription_filter_analyze analyses a filter over the rows of its source
 * (a stream's events or a continuous view's rows) and returns it as a
 * boolean expression, refusing what the worker cannot evaluate per event,
 * or could evaluate differently when it does again (determinism.c; not
 * checked again for a restored one, as view_def_analyze does not).
 */
static Node *
subscription_filter_analyze(const char *filter, Oid source_relid, bool restored)
{
	char	   *relname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(source_relid)),
													 get_rel_name(source_relid));
	char	   *sql = psprintf("SELECT FROM ONLY %s WHERE %s", relname, filter);
	Query	   *query = analyze_filter(sql);

	if (query->setOperations || query->cteList || query->groupClause ||
		query->havingQual || query->sortClause || query->limitCount ||
		query->limitOffset || query->distinctClause || query->rowMarks ||
		query->windowClause || query->targetList || query->hasAggs ||
		list_length(query->rtable) != 1 || query->jointree->quals == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("a subscription filter must be one boolean expression"),
				 errhint("%s", FILTER_HINT)));
	if (query->hasSubLinks)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a subquery is not supported in a subscription filter"),
				 errhint("%s", FILTER_HINT)));
	if (!restored)
		determinism_check(query->jointree->quals, DETERMINISM_FILTER, sql,
						  catalog_deterministic_functions());
	return query->jointree->quals;
}

/*
 * subscription_filter_compile prepares an analysed filter for evaluation.
 * Privileges on the functions it calls are checked here, for owner.
 */
ExprState *
subscription_filter_compile(const char *filter_tree, Oid owner)
{
	UserCodeGate gate;
	ExprState  *result;

	/* constant folding may call the owner's functions: behind the gate too */
	usercode_enter(&gate, owner, USERCODE_READ_ONLY);
	result = ExecInitQual(make_ands_implicit(expression_planner((Expr *) stringToNode(filter_tree))),
						  NULL);
	usercode_leave(&gate);
	return result;
}

/*
 * resolve_source finds the stream, continuous view or distributed view a
 * subscription reads.  Returns the relation; view_id is 0 for a stream and
 * a distributed view, distributed_id the latter's id (else 0).
 */
static Oid
resolve_source(const char *source, int32 *view_id, Oid *stream_relid, int32 *distributed_id)
{
	RangeVar   *rv = makeRangeVarFromNameList(stringToQualifiedNameList(source));
	Oid			relid = RangeVarGetRelid(rv, AccessShareLock, true);
	AttrNumber	time_attno;
	ListCell   *lc;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("stream or continuous view \"%s\" does not exist", source),
				 errhint("streamext.streams and streamext.views list them.")));
	*view_id = 0;
	*stream_relid = relid;
	*distributed_id = 0;
	if (catalog_is_stream(relid, &time_attno))
		return relid;
	foreach(lc, catalog_load_views(CurrentMemoryContext))
	{
		ViewCatalogRow *row = lfirst(lc);

		if (row->view_relid == relid)
		{
			*view_id = row->id;
			*stream_relid = row->stream_relid;
			return relid;
		}
	}
	if ((*distributed_id = catalog_distributed_view_on_relation(relid)) != 0)
		return relid;
	ereport(ERROR,
			(errcode(ERRCODE_WRONG_OBJECT_TYPE),
			 errmsg("\"%s\" is neither a stream nor a continuous view", source),
			 errhint("Make the table a stream with streamext.create_stream() first.")));
	return InvalidOid;			/* keep compiler quiet */
}

/*
 * check_distributed_source refuses what a subscription of distributed view
 * distributed_id (named source) cannot do, and returns the horizon every
 * node has closed it to now: its windows ending later are delivered (as a
 * subscription of a view delivers the windows that close after it is
 * made).  Reads every node, as the caller.
 */
static TimestampTz
check_distributed_source(int32 distributed_id, const char *source, const char *filter,
						 const char *emit)
{
	ViewCatalogRow *row = &catalog_distributed_view(distributed_id)->view;
	WindowSpec	spec;
	TimestampTz upto = DT_NOBEGIN;
	Datum		arg = CStringGetTextDatum(source);
	Oid			argtype = TEXTOID;

	window_parse(row->window_text, row->time_zone, &spec);
	if (strcmp(emit, "final") != 0 || !window_closes(&spec))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a subscription of distributed view \"%s\" delivers its closed windows only", source),
				 errhint("Use emit => 'final' on a distributed view with a tumbling, hopping, cumulating or session window.")));
	if (filter != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a subscription of distributed view \"%s\" cannot have a filter", source),
				 errhint("Filter in the view's query, or when you read the entries.")));
	SPI_connect();
	if (SPI_execute_with_args("SELECT streamext.distributed_final_upto($1)",
							  1, &argtype, &arg, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not read the progress of \"%s\"", source);
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			upto = DatumGetTimestampTz(d);
	}
	SPI_finish();
	return upto;
}

/*
 * wait_for_decoding waits until the worker decodes this database: a
 * subscription delivers commits from its creation on, which only a slot
 * that can decode them already can.  Right after CREATE EXTENSION the
 * worker may not have created it yet, or created it but not found where
 * it can start decoding: that waits for every transaction with an xid in
 * the cluster (another database's too), so a transaction that has written
 * cannot wait for it.  The slot existing is not enough: commits before its
 * start reach the views (their first recompute counts them), never a
 * subscription.
 */
static void
wait_for_decoding(void)
{
	char		slot_name[NAMEDATALEN];
	TimestampTz start = GetCurrentTimestamp();
	StreamextDbSlot *slot = NULL;

	/*
	 * The worker broadcasts its progress_cv once its slot is ready, and
	 * a database's first shared slot is announced on slot_claimed_cv.  The
	 * sleep checks for interrupts; an error ends it in AbortTransaction.
	 */
	snprintf(slot_name, NAMEDATALEN, "streamext_%u", MyDatabaseId);
	for (;;)
	{
		bool		ready = false;
		long		remaining;

		if (slot == NULL)
			slot = streamext_find_db_slot(MyDatabaseId, false);
		if (slot != NULL && SearchNamedReplicationSlot(slot_name, true) != NULL)
		{
			SpinLockAcquire(&slot->mutex);
			ready = slot->ready;
			SpinLockRelease(&slot->mutex);
		}
		if (ready)
			break;
		remaining = SLOT_WAIT_MS - TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());

		if (TransactionIdIsValid(GetTopTransactionIdIfAny()) || remaining <= 0)
		{
			ConditionVariableCancelSleep();
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("streamext does not decode this database yet"),
					 errdetail("Its worker creates replication slot \"%s\" once the transaction that created the first stream has committed, and can decode from it once every transaction then holding a transaction ID, in any database, has ended.",
							   slot_name),
					 errhint("Create subscriptions in a transaction of their own after that; if this persists, see last_error in streamext.streams and long transactions in pg_stat_activity.")));
		}
		(void) ConditionVariableTimedSleep(slot != NULL ? &slot->progress_cv :
										   &StreamextState->slot_claimed_cv,
										   remaining, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
}

/*
 * subscription_lookup finds a subscription by name for poll, ack and
 * drop_subscription, and refuses callers that do not have the privileges
 * of its owner.
 */
void
subscription_lookup(const char *name, Oid caller, int32 *id, Oid *owner,
					Oid *source_relid)
{
	SubscriptionCatalogRow *row = catalog_find_subscription(name);

	if (row == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("subscription \"%s\" does not exist", name),
				 errhint("streamext.subscriptions lists the subscriptions you may use.")));
	*id = row->id;
	*owner = row->owner;
	*source_relid = row->source_relid;
	if (!has_privs_of_role(caller, *owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for subscription \"%s\"", name),
				 errdetail("Only roles with the privileges of its owner \"%s\" may use it.",
						   GetUserNameFromId(*owner, false)),
				 errhint("GRANT %s TO %s;", quote_identifier(GetUserNameFromId(*owner, false)),
						 quote_identifier(GetUserNameFromId(caller, false)))));
}

/*
 * emit_fits says whether a view with windows spec gives what emit asks
 * for: final rows need windows that close, and changes are not given of
 * windows kept as panes (a change of a pane is a change of several
 * windows).
 */
static bool
emit_fits(const WindowSpec *spec, const char *emit)
{
	if (strcmp(emit, "final") == 0)
		return window_closes(spec);
	return !(spec->kind == WINDOW_HOPPING || spec->kind == WINDOW_CUMULATE ||
			 spec->kind == WINDOW_SLIDING);
}

/*
 * check_changes_of_view_on_view refuses emit => 'changes' of a view on a
 * view (reading relation source_relid): its groups change as the view it
 * reads closes windows, in the worker's closing transactions, not with
 * the commits of a stream that 'changes' follows.
 */
static void
check_changes_of_view_on_view(Oid source_relid, const char *view_name, const char *emit)
{
	AttrNumber	time_attno;

	if (strcmp(emit, "changes") == 0 && !catalog_is_stream(source_relid, &time_attno))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("emit => 'changes' is not available for a continuous view on a continuous view"),
				 errdetail("\"%s\" changes as the view it reads closes windows, not with commits of a stream.",
						   view_name),
				 errhint("Subscribe with emit => 'final' to get each window as it closes, or read the view with SELECT.")));
}

/*
 * check_view_emit refuses what a view's windows cannot give (emit_fits).
 */
static void
check_view_emit(int32 view_id, const char *source, const char *emit)
{
	List	   *rows = catalog_load_views_filtered(CurrentMemoryContext, view_id);
	WindowSpec	spec;

	if (rows == NIL)
		return;
	window_parse(((ViewCatalogRow *) linitial(rows))->window_text,
				 ((ViewCatalogRow *) linitial(rows))->time_zone, &spec);
	check_changes_of_view_on_view(((ViewCatalogRow *) linitial(rows))->stream_relid, source, emit);
	if (emit_fits(&spec, emit))
		return;
	if (strcmp(emit, "final") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("continuous view \"%s\" has no windows that close", source),
				 errdetail("emit => 'final' delivers each window as it closes."),
				 errhint("Use emit => 'changes' to get every update of the view.")));
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("emit => 'changes' is not available for hopping, cumulating or sliding windows"),
			 errdetail("Their states are kept per pane, and one event changes several windows."),
			 errhint("Subscribe with emit => 'final' to get each window as it closes, or read the view with SELECT.")));
}

/*
 * subscription_check_view_windows refuses a new window for a continuous
 * view (replace_view) that one of its subscriptions cannot follow: a
 * 'final' one needs windows that close, a 'changes' one windows not kept
 * as panes.  Their filters need no check: the view keeps the names and
 * types of the columns they read.
 */
void
subscription_check_view_windows(int32 view_id, const char *view_name, const WindowSpec *spec,
								Oid source_relid)
{
	ListCell   *lc;

	foreach(lc, catalog_load_subscriptions(CurrentMemoryContext))
	{
		SubscriptionCatalogRow *sub = lfirst(lc);

		if (sub->view_id != view_id)
			continue;
		check_changes_of_view_on_view(source_relid, view_name, sub->emit);
		if (emit_fits(spec, sub->emit))
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("subscription \"%s\" of continuous view \"%s\" cannot follow its new window",
						sub->name, view_name),
				 strcmp(sub->emit, "final") == 0 ?
				 errdetail("It takes each window as it closes (emit => 'final'), and the new definition has no windows that close.") :
				 errdetail("It takes every change (emit => 'changes'), which hopping, cumulating and sliding windows do not give."),
				 errhint("Keep a window it can follow, or drop the subscription with streamext.drop_subscription('%s') first.",
						 sub->name)));
	}
}

/*
 * streamext_create_subscription defines a subscription: validated first,
 * then registered with the position it starts from.  A stream is locked in
 * SHARE mode until commit, as create_view does, so that every event either
 * committed before the subscription or is delivered by it.
 */
Datum
streamext_create_subscription(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *source;
	char	   *filter = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *channel;
	char	   *notify = PG_ARGISNULL(4) ? "event" : text_to_cstring(PG_GETARG_TEXT_PP(4));
	char	   *emit = PG_ARGISNULL(5) ? "final" : text_to_cstring(PG_GETARG_TEXT_PP(5));
	Oid			owner = GetUserId();
	Oid			relid;
	Oid			stream_relid;
	int32		view_id;
	int32		distributed_id;
	TimestampTz delivered_upto = DT_NOBEGIN;
	char	   *filter_tree = NULL;
	char	   *filter_definition = NULL;
	XLogRecPtr	start_lsn;
	CatalogAccess ca;
	SubscriptionCatalogRow row;

	sqlfunc_check_setup();
	sqlfunc_check_arg_not_null(fcinfo, 0, "the name of a subscription",
							   "Pass the name to LISTEN on and poll by, e.g. 'slow_clicks'.");
	sqlfunc_check_arg_not_null(fcinfo, 1, "the source of a subscription",
							   "Pass the stream or continuous view whose events it delivers, e.g. 'clicks'.");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	source = text_to_cstring(PG_GETARG_TEXT_PP(1));
	channel = PG_ARGISNULL(3) ? name : text_to_cstring(PG_GETARG_TEXT_PP(3));

	check_listen_name(name, "subscription name");
	check_listen_name(channel, "channel");
	if (strcmp(notify, "event") != 0 && strcmp(notify, "batch") != 0 &&
		strcmp(notify, "none") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid notify value \"%s\"", notify),
				 errhint("Use 'event' (one NOTIFY per event), 'batch' (one per batch, with the position range) or 'none' (poll only).")));
	if (strcmp(emit, "final") != 0 && strcmp(emit, "changes") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid emit value \"%s\"", emit),
				 errhint("Use 'final' (each closed window once) or 'changes' (every update).")));

	relid = resolve_source(source, &view_id, &stream_relid, &distributed_id);
	if (distributed_id != 0)
		delivered_upto = check_distributed_source(distributed_id, source, filter, emit);
	else if (view_id == 0 && strcmp(emit, "final") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("emit => '%s' applies to continuous views, and \"%s\" is a stream", emit, source),
				 errhint("A subscription to a stream delivers every event; leave emit out.")));
	if (view_id != 0)
		check_view_emit(view_id, source, emit);
	if (pg_class_aclcheck(relid, owner, ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for %s \"%s\"", view_id ? "view" : "table", source),
				 errdetail("A subscription delivers only what its owner may SELECT."),
				 errhint("GRANT SELECT ON %s TO %s;", source,
						 quote_identifier(GetUserNameFromId(owner, false)))));
	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("\"%s\" has row-level security, which subscriptions do not apply", source),
				 errhint("Subscribe as a role that bypasses row-level security, and filter the events explicitly.")));

	if (filter != NULL)
	{
		Node	   *tree = subscription_filter_analyze(filter, relid, false);

		filter_tree = nodeToString(tree);
		/* what a restored database analyses again (adopt_subscription) */
		filter_definition = deparse_qualified_expr(tree, relid);
		/* the owner may call every function of it, or this fails now */
		(void) subscription_filter_compile(filter_tree, owner);
	}

	wait_for_decoding();
	if (view_id == 0)
		LockRelationOid(stream_relid, ShareLock);
	start_lsn = GetXLogInsertRecPtr();

	memset(&row, 0, sizeof(row));
	row.name = name;
	row.owner = owner;
	row.source_relid = relid;
	row.view_id = view_id;
	row.filter = filter;
	row.filter_tree = filter_tree;
	row.filter_definition = filter_definition;
	row.channel = channel;
	row.notify = notify;
	row.emit = emit;
	row.start_lsn = start_lsn;

	catalog_owner_enter(&ca);
	if (catalog_find_subscription(name) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("subscription \"%s\" already exists", name),
				 errhint("Choose another name, or drop it with streamext.drop_subscription('%s').", name)));
	catalog_insert_subscription(&row);
	if (distributed_id != 0)
		catalog_insert_distributed_delivery(name, distributed_id, delivered_upto);
	catalog_owner_leave(&ca);

	streamext_note_catalog_change();
	PG_RETURN_VOID();
}

/*
 * streamext_drop_subscription drops a subscription with everything queued
 * for it; the worker notices in the decoded WAL.
 */
Datum
streamext_drop_subscription(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Oid			caller = GetUserId();
	int32		id;
	Oid			owner;
	Oid			source_relid;
	CatalogAccess ca;

	sqlfunc_check_setup();
	catalog_owner_enter(&ca);
	subscription_lookup(name, caller, &id, &owner, &source_relid);
	catalog_delete_subscription(id);
	catalog_owner_leave(&ca);

	streamext_note_catalog_change();
	PG_RETURN_VOID();
}

/*
 * streamext_adopt_subscription makes a subscription that pg_restore
 * restored a working one (see streamext_adopt_view).  Its entries and
 * acknowledged position are restored as dumped; its analysed filter holds
 * the OIDs of the dumped database and its WAL positions are another
 * server's.  The schema-qualified filter is analysed again, and the
 * subscription delivers the commits after this call, numbered after the
 * newest restored position.  Events committed in the dumped database but
 * not yet queued when the dump was taken are not delivered.
 */
Datum
streamext_adopt_subscription(PG_FUNCTION_ARGS)
{
	int32		id = PG_GETARG_INT32(0);
	CatalogAccess ca;
	SubscriptionCatalogRow *row;
	ViewProgressRow progress;
	char	   *filter_tree = NULL;
	XLogRecPtr	start_lsn;

	sqlfunc_check_setup();
	row = catalog_find_subscription_id(id);
	if (row == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("subscription %d does not exist", id)));
	if (!row->restored)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("subscription \"%s\" was not restored from a dump", row->name)));
	if (!has_privs_of_role(GetUserId(), row->owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for subscription \"%s\"", row->name)));
	if (row->view_id != 0 &&
		!catalog_read_view_progress(row->view_id, NULL, &progress))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the continuous view of subscription \"%s\" is not adopted yet", row->name),
				 errhint("Adopt the view first: SELECT * FROM streamext.adopt_restored();")));

	if (row->filter != NULL)
	{
		/* the definition names its schemas; older rows have only the filter */
		int			nestlevel = row->filter_definition ? pin_empty_search_path() : -1;

		filter_tree = nodeToString(subscription_filter_analyze(row->filter_definition ?
															   row->filter_definition :
															   row->filter,
															   row->source_relid, true));
		if (nestlevel >= 0)
			AtEOXact_GUC(true, nestlevel);
		(void) subscription_filter_compile(filter_tree, row->owner);
	}

	/* as create_subscription: every later commit is delivered */
	if (row->view_id == 0)
		LockRelationOid(row->source_relid, ShareLock);
	start_lsn = GetXLogInsertRecPtr();

	catalog_owner_enter(&ca);
	catalog_adopt_subscription(id, filter_tree, start_lsn);
	catalog_owner_leave(&ca);

	streamext_note_catalog_change();
	PG_RETURN_VOID();
}
