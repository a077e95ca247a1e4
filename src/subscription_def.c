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

static Node *subscription_filter_analyze(const char *filter, Oid source_relid);
static void check_view_emit(int32 view_id, const char *source, const char *emit);
static void check_listen_name(const char *value, const char *what);
static Query *analyze_filter(const char *sql);
static Oid	resolve_source(const char *source, int32 *view_id, Oid *stream_relid);
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
 * or could evaluate differently when it does again (determinism.c).
 */
static Node *
subscription_filter_analyze(const char *filter, Oid source_relid)
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
	determinism_check(query->jointree->quals, DETERMINISM_FILTER, sql);
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
 * resolve_source finds the stream or continuous view a subscription reads.
 * Returns the relation; view_id is 0 for a stream.
 */
static Oid
resolve_source(const char *source, int32 *view_id, Oid *stream_relid)
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
	ereport(ERROR,
			(errcode(ERRCODE_WRONG_OBJECT_TYPE),
			 errmsg("\"%s\" is neither a stream nor a continuous view", source),
			 errhint("Make the table a stream with streamext.create_stream() first.")));
	return InvalidOid;			/* keep compiler quiet */
}

/*
 * wait_for_decoding waits until the worker decodes this database: a
 * subscription delivers commits from its creation on, which only a slot
 * created before can decode.  Right after CREATE EXTENSION the worker may
 * not have created it yet; it waits for transactions with an xid, so a
 * transaction that has written cannot wait for it.
 */
static void
wait_for_decoding(void)
{
	char		slot_name[NAMEDATALEN];
	TimestampTz start = GetCurrentTimestamp();
	StreamextDbSlot *slot = NULL;

	/*
	 * The worker broadcasts its progress_cv once it created the slot, and
	 * a database's first shared slot is announced on slot_claimed_cv.  The
	 * sleep checks for interrupts; an error ends it in AbortTransaction.
	 */
	snprintf(slot_name, NAMEDATALEN, "streamext_%u", MyDatabaseId);
	while (SearchNamedReplicationSlot(slot_name, true) == NULL)
	{
		long		remaining = SLOT_WAIT_MS -
			TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());

		if (TransactionIdIsValid(GetTopTransactionIdIfAny()) || remaining <= 0)
		{
			ConditionVariableCancelSleep();
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("streamext does not decode this database yet"),
					 errdetail("Its worker creates replication slot \"%s\" once the transaction that created the first stream has committed.",
							   slot_name),
					 errhint("Create subscriptions in a transaction of their own after that; if this persists, see last_error in streamext.streams.")));
		}
		if (slot == NULL)
			slot = streamext_find_db_slot(MyDatabaseId, false);
		(void) ConditionVariableTimedSleep(slot != NULL ? &slot->progress_cv :
										   &StreamextState->slot_claimed_cv,
										   remaining, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
}

/*
 * subscription_lookup finds a subscription by name for poll, ack and
 * drop_subscription, and refuses callers that do not have the privileges
 * of its owner.  Must be called as the catalog's owner.
 */
void
subscription_lookup(const char *name, Oid caller, int32 *id, Oid *owner,
					Oid *source_relid)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	bool		isnull;

	args[0] = CStringGetTextDatum(name);
	SPI_connect();
	if (SPI_execute_with_args("SELECT id, owner, source FROM streamext.subscription_def WHERE name = $1",
							  1, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not read subscriptions");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("subscription \"%s\" does not exist", name),
				 errhint("streamext.subscriptions lists the subscriptions you may use.")));
	*id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	*owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	*source_relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	SPI_finish();
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
 * subscription_on_source names a subscription reading relid, or returns
 * NULL: drop_stream and drop_view refuse to leave it without a source.
 */
char *
subscription_on_source(Oid relid)
{
	CatalogAccess ca;
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1];
	char	   *result = NULL;
	MemoryContext cxt = CurrentMemoryContext;

	args[0] = ObjectIdGetDatum(relid);
	catalog_owner_enter(&ca);
	SPI_connect();
	if (SPI_execute_with_args("SELECT name FROM streamext.subscription_def WHERE source = $1 ORDER BY id",
							  1, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not read subscriptions");
	/* SPI_finish frees what SPI_getvalue returns: the caller's copy */
	if (SPI_processed > 0)
		result = MemoryContextStrdup(cxt, SPI_getvalue(SPI_tuptable->vals[0],
													   SPI_tuptable->tupdesc, 1));
	SPI_finish();
	catalog_owner_leave(&ca);
	return result;
}

/*
 * check_view_emit refuses what a view's windows cannot give: final rows of
 * windows that never close, and changes of windows kept as panes (a change
 * of a pane is a change of several windows).
 */
static void
check_view_emit(int32 view_id, const char *source, const char *emit)
{
	List	   *rows = catalog_load_views_filtered(CurrentMemoryContext, view_id);
	WindowSpec	spec;

	if (rows == NIL)
		return;
	window_parse(((ViewCatalogRow *) linitial(rows))->window_text, &spec);
	if (strcmp(emit, "final") == 0 && !window_closes(&spec))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("continuous view \"%s\" has no windows that close", source),
				 errdetail("emit => 'final' delivers each window as it closes."),
				 errhint("Use emit => 'changes' to get every update of the view.")));
	if (strcmp(emit, "changes") == 0 &&
		(spec.kind == WINDOW_HOPPING || spec.kind == WINDOW_CUMULATE ||
		 spec.kind == WINDOW_SLIDING))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("emit => 'changes' is not available for hopping, cumulating or sliding windows"),
				 errdetail("Their states are kept per pane, and one event changes several windows."),
				 errhint("Subscribe with emit => 'final' to get each window as it closes, or read the view with SELECT.")));
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
	char	   *filter_tree = NULL;
	char	   *filter_definition = NULL;
	XLogRecPtr	start_lsn;
	CatalogAccess ca;
	Oid			argtypes[11] = {TEXTOID, OIDOID, REGCLASSOID, INT4OID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, TEXTOID, PG_LSNOID, TEXTOID};
	Datum		args[11];
	char		nulls[11] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

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

	relid = resolve_source(source, &view_id, &stream_relid);
	if (view_id == 0 && strcmp(emit, "final") != 0)
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
		Node	   *tree = subscription_filter_analyze(filter, relid);

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

	args[0] = CStringGetTextDatum(name);
	args[1] = ObjectIdGetDatum(owner);
	args[2] = ObjectIdGetDatum(relid);
	args[3] = Int32GetDatum(view_id);
	nulls[3] = view_id ? ' ' : 'n';
	args[4] = filter ? CStringGetTextDatum(filter) : (Datum) 0;
	nulls[4] = filter ? ' ' : 'n';
	args[5] = filter ? CStringGetTextDatum(filter_tree) : (Datum) 0;
	nulls[5] = filter ? ' ' : 'n';
	args[6] = CStringGetTextDatum(channel);
	args[7] = CStringGetTextDatum(notify);
	args[8] = CStringGetTextDatum(emit);
	args[9] = LSNGetDatum(start_lsn);
	args[10] = filter ? CStringGetTextDatum(filter_definition) : (Datum) 0;
	nulls[10] = filter ? ' ' : 'n';

	catalog_owner_enter(&ca);
	SPI_connect();
	if (SPI_execute_with_args("SELECT 1 FROM streamext.subscription_def WHERE name = $1",
							  1, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not read subscriptions");
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("subscription \"%s\" already exists", name),
				 errhint("Choose another name, or drop it with streamext.drop_subscription('%s').", name)));
	if (SPI_execute_with_args("WITH s AS (INSERT INTO streamext.subscription_def "
							  "(name, owner, source, view_id, filter, filter_tree, channel, notify, emit, start_lsn, "
							  "filter_definition) "
							  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id), "
							  "p AS (INSERT INTO streamext.subscription_progress (subscription_id, delivered_lsn) "
							  "SELECT id, $10 FROM s) "
							  "INSERT INTO streamext.subscription_ack (subscription_id) SELECT id FROM s",
							  11, argtypes, args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "streamext: could not register subscription");
	SPI_finish();
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
	char	   *sql;

	sqlfunc_check_setup();
	catalog_owner_enter(&ca);
	subscription_lookup(name, caller, &id, &owner, &source_relid);
	sql = psprintf("DELETE FROM streamext.subscription_queue WHERE subscription_id = %d;"
				   "DELETE FROM streamext.subscription_def WHERE id = %d;", id, id);
	SPI_connect();
	if (SPI_execute(sql, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "streamext: could not drop subscription");
	SPI_finish();
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
	Oid			argtypes[3] = {INT4OID, TEXTOID, PG_LSNOID};
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	CatalogAccess ca;
	char	   *name;
	Oid			owner;
	Oid			relid;
	int32		view_id;
	char	   *filter = NULL;
	char	   *filter_definition = NULL;
	char	   *filter_tree = NULL;
	bool		isnull;
	bool		has_progress;
	bool		view_restored = false;
	XLogRecPtr	start_lsn;
	HeapTuple	tup;
	TupleDesc	desc;
	Datum		d;
	MemoryContext outer = CurrentMemoryContext;

	sqlfunc_check_setup();
	args[0] = Int32GetDatum(id);
	catalog_owner_enter(&ca);
	SPI_connect();
	if (SPI_execute_with_args("SELECT s.name, s.owner, s.source, coalesce(s.view_id, 0), s.filter, "
							  "s.filter_definition, "
							  "EXISTS (SELECT 1 FROM streamext.subscription_progress p WHERE p.subscription_id = s.id), "
							  "s.view_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM streamext.view_progress v WHERE v.view_id = s.view_id) "
							  "FROM streamext.subscription_def s WHERE s.id = $1",
							  1, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not read subscriptions");
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("subscription %d does not exist", id)));
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	name = MemoryContextStrdup(outer, SPI_getvalue(tup, desc, 1));
	owner = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
	relid = DatumGetObjectId(SPI_getbinval(tup, desc, 3, &isnull));
	view_id = DatumGetInt32(SPI_getbinval(tup, desc, 4, &isnull));
	d = SPI_getbinval(tup, desc, 5, &isnull);
	if (!isnull)
		filter = MemoryContextStrdup(outer, TextDatumGetCString(d));
	d = SPI_getbinval(tup, desc, 6, &isnull);
	if (!isnull)
		filter_definition = MemoryContextStrdup(outer, TextDatumGetCString(d));
	has_progress = DatumGetBool(SPI_getbinval(tup, desc, 7, &isnull));
	view_restored = DatumGetBool(SPI_getbinval(tup, desc, 8, &isnull));
	SPI_finish();
	catalog_owner_leave(&ca);

	if (has_progress)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("subscription \"%s\" was not restored from a dump", name)));
	if (!has_privs_of_role(GetUserId(), owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for subscription \"%s\"", name)));
	if (view_restored)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the continuous view of subscription \"%s\" is not adopted yet", name),
				 errhint("Adopt the view first: SELECT * FROM streamext.adopt_restored();")));

	if (filter != NULL)
	{
		/* the definition names its schemas; older rows have only the filter */
		int			nestlevel = filter_definition ? pin_empty_search_path() : -1;

		filter_tree = nodeToString(subscription_filter_analyze(filter_definition ? filter_definition : filter,
															   relid));
		if (nestlevel >= 0)
			AtEOXact_GUC(true, nestlevel);
		(void) subscription_filter_compile(filter_tree, owner);
	}

	/* as create_subscription: every later commit is delivered */
	if (view_id == 0)
		LockRelationOid(relid, ShareLock);
	start_lsn = GetXLogInsertRecPtr();

	args[1] = filter_tree ? CStringGetTextDatum(filter_tree) : (Datum) 0;
	nulls[1] = filter_tree ? ' ' : 'n';
	args[2] = LSNGetDatum(start_lsn);
	catalog_owner_enter(&ca);
	SPI_connect();
	if (SPI_execute_with_args("UPDATE streamext.subscription_def SET filter_tree = $2, start_lsn = $3 "
							  "WHERE id = $1",
							  3, argtypes, args, nulls, false, 0) != SPI_OK_UPDATE ||
		SPI_execute_with_args("INSERT INTO streamext.subscription_ack (subscription_id) VALUES ($1) "
							  "ON CONFLICT DO NOTHING",
							  1, argtypes, args, NULL, false, 0) != SPI_OK_INSERT ||
		SPI_execute_with_args("INSERT INTO streamext.subscription_progress "
							  "(subscription_id, delivered_lsn, newest_position) "
							  "SELECT $1, $3, greatest(a.acked_position, "
							  "(SELECT coalesce(max(q.position), 0) FROM streamext.subscription_queue q "
							  "WHERE q.subscription_id = $1)) "
							  "FROM streamext.subscription_ack a WHERE a.subscription_id = $1",
							  3, argtypes, args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "streamext: could not adopt subscription");
	SPI_finish();
	catalog_owner_leave(&ca);

	streamext_note_catalog_change();
	PG_RETURN_VOID();
}
