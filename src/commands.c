/*-------------------------------------------------------------------------
 *
 * commands.c
 *	  The SQL functions that define streams and continuous views:
 *	  create_stream, drop_stream, create_view, drop_view, rebuild_view,
 *	  check_setup; and adopt_view with the triggers that tell when a
 *	  restore has brought every piece of a view or subscription.
 *	  They validate everything before changing anything, so a wrong call
 *	  leaves every stream and view as it was.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xlog.h"
#include "access/xloginsert.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/pg_lsn.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "catalog.h"
#include "lookup_join.h"
#include "checkpoint.h"
#include "commands.h"
#include "hooks.h"
#include "retention.h"
#include "sqlfunc.h"
#include "stream_ddl.h"
#include "view_apply.h"
#include "view_plan.h"
#include "view_query.h"
#include "view_read.h"
#include "window.h"

PG_FUNCTION_INFO_V1(streamext_check_setup);
PG_FUNCTION_INFO_V1(streamext_create_stream);
PG_FUNCTION_INFO_V1(streamext_set_stream_idle_timeout);
PG_FUNCTION_INFO_V1(streamext_drop_stream);
PG_FUNCTION_INFO_V1(streamext_create_view);
PG_FUNCTION_INFO_V1(streamext_drop_view);
PG_FUNCTION_INFO_V1(streamext_set_view_retention);
PG_FUNCTION_INFO_V1(streamext_rebuild_view);
PG_FUNCTION_INFO_V1(streamext_adopt_view);
PG_FUNCTION_INFO_V1(streamext_note_restored_rows);
PG_FUNCTION_INFO_V1(streamext_adopt_after_restore);

/* create_stream is creating its stream's triggers: no restore's piece */
static bool creating_stream_triggers = false;

static bool attribute_is_not_null(Oid relid, AttrNumber attno);
static bool completes_restored_object(Node *parsetree);
static bool finds_row(CatalogStatement *stmt);
static bool type_is_temporary(Oid type);
static void check_stream_owner(Oid relid);
static char *column_list(Query *query, bool windowed, bool typed);
static void check_retention(Interval *retention, bool closes);
static void check_idle_timeout(Interval *idle_timeout);
static AttrNumber check_view_on_view(Oid lower_relid, const WindowSpec *spec,
									 Interval *lateness);
static bool closed_table_restored(Oid relid);

static void check_lateness(Interval *lateness, bool windowed, AttrNumber time_attno,
						   Oid stream_relid);

/*
 * streamext_check_setup is called by the extension script: CREATE EXTENSION
 * fails without the settings streamext needs.
 */
Datum
streamext_check_setup(PG_FUNCTION_ARGS)
{
	sqlfunc_check_setup();
	streamext_note_catalog_change();
	PG_RETURN_VOID();
}

/*
 * type_is_temporary says whether a type lives in a temporary schema.
 */
static bool
type_is_temporary(Oid type)
{
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type));
	bool		result;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for type %u", type);
	result = isAnyTempNamespace(((Form_pg_type) GETSTRUCT(tup))->typnamespace);
	ReleaseSysCache(tup);
	return result;
}

/*
 * attribute_is_not_null says whether a column is declared NOT NULL.
 */
static bool
attribute_is_not_null(Oid relid, AttrNumber attno)
{
	HeapTuple	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid),
									  Int16GetDatum(attno));
	bool		result;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for attribute %d of relation %u", attno, relid);
	result = ((Form_pg_attribute) GETSTRUCT(tup))->attnotnull;
	ReleaseSysCache(tup);
	return result;
}

/*
 * check_stream_owner refuses callers that do not own the table.
 */
static void
check_stream_owner(Oid relid)
{
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
}

/*
 * check_idle_timeout refuses an idle_timeout that cannot be a duration of
 * quiet; NULL (never by the clock) is fine.
 */
static void
check_idle_timeout(Interval *idle_timeout)
{
	if (idle_timeout != NULL &&
		(idle_timeout->month != 0 || interval_usecs(idle_timeout) < 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("idle_timeout must be a duration of zero or more, in days, hours, minutes or seconds"),
				 errhint("Pass e.g. '5 seconds', or NULL for windows that close only as later events come.")));
}

/*
 * streamext_set_stream_idle_timeout changes how long a stream with a time
 * column must be quiet before the clock closes its windows (NULL: never).
 * The worker loads it when it decodes the change.
 */
Datum
streamext_set_stream_idle_timeout(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Interval   *idle_timeout = PG_ARGISNULL(1) ? NULL : PG_GETARG_INTERVAL_P(1);
	CatalogAccess ca;
	AttrNumber	time_attno;

	sqlfunc_check_setup();
	sqlfunc_check_arg_not_null(fcinfo, 0, "stream",
							   "Pass the stream whose idle_timeout to change; streamext.streams lists the streams.");
	relid = PG_GETARG_OID(0);
	check_stream_owner(relid);
	check_idle_timeout(idle_timeout);
	if (!catalog_is_stream(relid, &time_attno))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a stream", get_rel_name(relid)),
				 errhint("streamext.streams lists the streams.")));
	/* an event's time is its commit's: the clock moves its watermark anyway */
	if (time_attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("stream \"%s\" has no time column: the clock closes its windows already",
						get_rel_name(relid)),
				 errhint("idle_timeout applies to streams whose events carry their own time (create_stream's time_column).")));
	SPI_connect();
	catalog_owner_enter(&ca);
	catalog_set_stream_idle_timeout(relid, idle_timeout);
	catalog_owner_leave(&ca);
	SPI_finish();
	streamext_note_catalog_change();
	PG_RETURN_VOID();
}

/*
 * streamext_create_stream makes an existing table a stream: registered in
 * stream_def, guarded append-only, and waking the worker at commit.
 */
Datum
streamext_create_stream(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *time_column = PG_ARGISNULL(1) ? NULL : NameStr(*PG_GETARG_NAME(1));
	Interval   *retention = PG_ARGISNULL(2) ? NULL : PG_GETARG_INTERVAL_P(2);
	/* 0.1's create_stream has no idle_timeout */
	bool		has_idle_timeout = (PG_NARGS() > 3);
	Interval   *idle_timeout = (has_idle_timeout && !PG_ARGISNULL(3)) ?
		PG_GETARG_INTERVAL_P(3) : NULL;
	int64		retention_usec = 0;
	char		relkind;
	AttrNumber	dummy;
	AttrNumber	time_attno = InvalidAttrNumber;
	char	   *qualname;
	StringInfoData sql;
	CatalogAccess ca;

	sqlfunc_check_setup();
	sqlfunc_check_arg_not_null(fcinfo, 0, "stream",
							   "Pass the table to make a stream, e.g. streamext.create_stream('clicks').");
	relid = PG_GETARG_OID(0);
	check_idle_timeout(idle_timeout);

	relkind = get_rel_relkind(relid);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", get_rel_name(relid)),
				 errhint("A stream is an ordinary or partitioned table; create one with CREATE TABLE.")));
	/* the decoder maps a partition's inserts to its topmost partitioned table */
	if (get_rel_relispartition(relid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is a partition", get_rel_name(relid)),
				 errhint("Make its partitioned table \"%s\" the stream.",
						 get_rel_name(llast_oid(get_partition_ancestors(relid))))));
	check_stream_owner(relid);
	LockRelationOid(relid, ShareRowExclusiveLock);
	/* unlogged, temporary and foreign tables write nothing decoding sees */
	stream_check_decodable(relid, relid, AccessShareLock, true);
	if (catalog_is_stream(relid, &dummy))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("table \"%s\" is already a stream", get_rel_name(relid)),
				 errhint("Drop it with streamext.drop_stream() first to define it again.")));

	if (time_column != NULL)
	{
		AttrNumber	attno = get_attnum(relid, time_column);
		Oid			atttype;
		int32		typmod;
		Oid			collid;

		if (attno == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of table \"%s\" does not exist",
							time_column, get_rel_name(relid)),
					 errhint("time_column names the column that holds each event's time.")));
		get_atttypetypmodcoll(relid, attno, &atttype, &typmod, &collid);
		if (atttype != TIMESTAMPTZOID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("time column \"%s\" is of type %s, not timestamptz",
							time_column, format_type_be(atttype)),
					 errhint("Use a timestamp with time zone column for event time.")));
		if (!attribute_is_not_null(relid, attno))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_COLUMN_DEFINITION),
					 errmsg("time column \"%s\" must be NOT NULL", time_column),
					 errhint("ALTER TABLE %s ALTER COLUMN %s SET NOT NULL;",
							 get_rel_name(relid), quote_identifier(time_column))));
		time_attno = attno;
	}
	if (retention != NULL)
	{
		retention_usec = retention_usecs(retention);
		retention_check_partitioning(relid, time_attno);
	}

	qualname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
										  get_rel_name(relid));
	SPI_connect();
	catalog_owner_enter(&ca);
	catalog_insert_stream(relid, time_column, retention);
	/* without a time column, the clock moves the watermark anyway */
	if (has_idle_timeout && time_attno != InvalidAttrNumber)
		catalog_set_stream_idle_timeout(relid, idle_timeout);
	catalog_owner_leave(&ca);

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "CREATE TRIGGER streamext_append_only BEFORE UPDATE OR DELETE ON %s "
					 "FOR EACH STATEMENT EXECUTE FUNCTION streamext.refuse_change();"
					 "CREATE TRIGGER streamext_append_only_truncate BEFORE TRUNCATE ON %s "
					 "FOR EACH STATEMENT EXECUTE FUNCTION streamext.refuse_change();"
					 "CREATE TRIGGER streamext_wake AFTER INSERT ON %s "
					 "FOR EACH STATEMENT EXECUTE FUNCTION streamext.note_write();",
					 qualname, qualname, qualname);
	/*
	 * Statement triggers of a partitioned table do not fire for statements
	 * on its partitions; a row trigger is cloned to every partition, also
	 * those created or attached later.  TRUNCATE of a partition is refused
	 * by stream_ddl_check.
	 */
	if (relkind == RELKIND_PARTITIONED_TABLE)
		appendStringInfo(&sql,
						 "CREATE TRIGGER streamext_append_only_rows BEFORE UPDATE OR DELETE ON %s "
						 "FOR EACH ROW EXECUTE FUNCTION streamext.refuse_change();",
						 qualname);
	/* its streamext_wake is no restore's (streamext_adopt_after_restore) */
	creating_stream_triggers = true;
	PG_TRY();
	{
		sqlfunc_spi_exec(sql.data, SPI_OK_UTILITY);
	}
	PG_FINALLY();
	{
		creating_stream_triggers = false;
	}
	PG_END_TRY();
	/* producers can insert at once: the partitions they need exist */
	if (retention != NULL)
		retention_ensure_partitions(relid, time_attno, retention_usec,
									GetCurrentTimestamp(), false);
	SPI_finish();

	streamext_note_catalog_change();
	PG_RETURN_VOID();
}

/*
 * streamext_drop_stream turns a stream back into an ordinary table; its
 * views must be dropped first.
 */
Datum
streamext_drop_stream(PG_FUNCTION_ARGS)
{
	Oid			relid;
	AttrNumber	dummy;
	char	   *qualname;
	StringInfoData sql;
	List	   *views;
	ListCell   *lc;
	char	   *subname;
	CatalogAccess ca;

	sqlfunc_check_setup();
	sqlfunc_check_arg_not_null(fcinfo, 0, "stream",
							   "Pass the stream to drop; streamext.streams lists the streams.");
	relid = PG_GETARG_OID(0);
	if (!catalog_is_stream(relid, &dummy))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("\"%s\" is not a stream", get_rel_name(relid)),
				 errhint("streamext.streams lists the streams.")));
	check_stream_owner(relid);
	LockRelationOid(relid, ShareRowExclusiveLock);

	views = catalog_load_views(CurrentMemoryContext);
	foreach(lc, views)
	{
		ViewCatalogRow *row = lfirst(lc);

		if (row->stream_relid == relid)
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("stream \"%s\" has continuous view \"%s\"",
							get_rel_name(relid), row->name),
					 errhint("Drop its views first with streamext.drop_view().")));
	}
	if ((subname = catalog_subscription_on_source(relid)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("stream \"%s\" has subscription \"%s\"", get_rel_name(relid), subname),
				 errhint("Drop its subscriptions first with streamext.drop_subscription().")));

	qualname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
										  get_rel_name(relid));
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "DROP TRIGGER streamext_append_only ON %s;"
					 "DROP TRIGGER streamext_append_only_truncate ON %s;"
					 "DROP TRIGGER streamext_wake ON %s;",
					 qualname, qualname, qualname);
	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		appendStringInfo(&sql, "DROP TRIGGER streamext_append_only_rows ON %s;", qualname);
	SPI_connect();
	sqlfunc_spi_exec(sql.data, SPI_OK_UTILITY);
	catalog_owner_enter(&ca);
	catalog_delete_stream(relid);
	catalog_owner_leave(&ca);
	SPI_finish();

	streamext_note_catalog_change();
	PG_RETURN_VOID();
}

/*
 * column_list writes the typed column list of a view's rows, for the
 * closed-window table and the column definition list of read_view().
 */
static char *
column_list(Query *query, bool windowed, bool typed)
{
	StringInfoData buf;
	ListCell   *lc;
	bool		first = true;

	initStringInfo(&buf);
	if (windowed)
	{
		appendStringInfoString(&buf, typed ? "window_start timestamptz, window_end timestamptz" :
							   "window_start, window_end");
		first = false;
	}
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		ListCell   *lc2;

		if (tle->resjunk)
			continue;
		if (windowed && (strcmp(tle->resname, "window_start") == 0 ||
						 strcmp(tle->resname, "window_end") == 0))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("column name \"%s\" is taken by the window", tle->resname),
					 errhint("Rename the column with AS.")));
		foreach(lc2, query->targetList)
		{
			TargetEntry *other = lfirst(lc2);

			if (other == tle)
				break;
			if (!other->resjunk && strcmp(other->resname, tle->resname) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("column \"%s\" appears twice in the view", tle->resname),
						 errhint("Give each output column its own name with AS.")));
		}
		appendStringInfo(&buf, "%s%s", first ? "" : ", ", quote_identifier(tle->resname));
		if (typed)
		{
			Oid			type = exprType((Node *) tle->expr);

			/*
			 * The closed windows' table outlives the session: a temporary
			 * type would take its column with it.  The type is named with
			 * its schema: the table is created with search_path pinned.
			 */
			if (type_is_temporary(type))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("column \"%s\" of a continuous view cannot be of the temporary type %s",
								tle->resname, format_type_be(type)),
						 errhint("Use a type that outlives the session.")));
			appendStringInfo(&buf, " %s",
							 format_type_extended(type, exprTypmod((Node *) tle->expr),
												  FORMAT_TYPE_TYPEMOD_GIVEN |
												  FORMAT_TYPE_FORCE_QUALIFY));
		}
		first = false;
	}
	return buf.data;
}

/*
 * check_lateness refuses a lateness that means nothing or cannot be kept:
 * negative, in months, on a view without windows, or on a stream whose
 * event time is the commit time (which never arrives late).
 */
static void
check_lateness(Interval *lateness, bool windowed, AttrNumber time_attno, Oid stream_relid)
{
	const char *hint = "lateness is how far behind the greatest event time windows stay open, e.g. '5 seconds'.";

	if (lateness == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("lateness must not be NULL"),
				 errhint("%s", hint)));
	if (lateness->month != 0 || interval_usecs(lateness) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid lateness \"%s\"",
						DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(lateness)))),
				 errdetail("Lateness must be zero or positive, in days or less."),
				 errhint("%s", hint)));
	if (interval_usecs(lateness) == 0)
		return;
	if (!windowed)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lateness applies to windowed views"),
				 errhint("Give a window, e.g. \"window\" => 'tumbling 1 minute', or leave lateness out.")));
	if (time_attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lateness needs an event time, and stream \"%s\" has none", get_rel_name(stream_relid)),
				 errdetail("Its events are timed by their commit, which is never late."),
				 errhint("Leave lateness out, or make the stream again with a time_column.")));
}

/*
 * check_retention refuses a retention that is not a positive length, or
 * one on a view that keeps no closed windows.
 */
static void
check_retention(Interval *retention, bool closes)
{
	if (retention == NULL)
		return;
	if (retention->month != 0 || interval_usecs(retention) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid retention \"%s\"",
						DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(retention)))),
				 errdetail("Retention must be positive, in days or less."),
				 errhint("Retention is how long after the watermark passes a window's end the window is kept, e.g. '7 days'; NULL keeps windows for ever.")));
	if (!closes)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("retention applies to views whose windows close"),
				 errhint("A view without a window or with a sliding window keeps no closed windows; leave retention out.")));
}

/*
 * check_view_on_view refuses what a view on a view cannot keep exact.  It
 * computes its panes and windows again from the lower view's rows when the
 * lower view corrects one (view_source.c): session windows, which move with
 * their events, cannot be.  And the lower view's closed rows are final, so
 * nothing is late.  Returns the attribute that times its events: the lower
 * view's window_start.
 */
static AttrNumber
check_view_on_view(Oid lower_relid, const WindowSpec *spec, Interval *lateness)
{
	ViewCatalogRow *lower;

	/* 0.1's catalog wants every view's relation in FROM to be a stream */
	if (!catalog_view_progress_has_closing())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("continuous views on continuous views need streamext 0.2"),
				 errhint("Run ALTER EXTENSION streamext UPDATE.")));
	if (spec->kind == WINDOW_SESSION)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a continuous view on continuous view \"%s\" cannot have session windows",
						get_rel_name(lower_relid)),
				 errdetail("Its events are the closed windows of \"%s\", timed by their window_start; a session of them could not be computed again when \"%s\" corrects one.",
						   get_rel_name(lower_relid), get_rel_name(lower_relid)),
				 errhint("Give a tumbling, hopping, cumulating or sliding window, or read the stream instead.")));
	if (lateness != NULL && interval_usecs(lateness) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a continuous view on continuous view \"%s\" takes no lateness",
						get_rel_name(lower_relid)),
				 errdetail("It reads the windows \"%s\" has closed, which are complete; the lateness of \"%s\" applies.",
						   get_rel_name(lower_relid), get_rel_name(lower_relid)),
				 errhint("Leave lateness out.")));
	lower = catalog_view_on_relation(lower_relid);
	if (spec->kind == WINDOW_NONE && lower != NULL && lower->retention_usec != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a continuous view without a window cannot read continuous view \"%s\", which has a retention",
						lower->name),
				 errdetail("It takes a correction of a row of \"%s\" by computing its groups again from every row of \"%s\", and the retention removes the oldest: the correction would be lost.",
						   lower->name, lower->name),
				 errhint("Give the view a window, or keep every closed window of \"%s\" with streamext.set_view_retention('%s', NULL).",
						 lower->name, lower->name)));
	return 1;
}

/*
 * check_retention_under_views refuses a retention for the view named name
 * that views on it (uppers, ViewCatalogRow) cannot follow: a view without a
 * window computes a group again from every row of the view it reads when
 * one is corrected (check_view_on_view).
 */
void
check_retention_under_views(const char *name, List *uppers)
{
	ListCell   *lc;

	foreach(lc, uppers)
	{
		ViewCatalogRow *upper = lfirst(lc);
		WindowSpec	spec;

		window_parse(upper->window_text, upper->time_zone, &spec);
		if (spec.kind == WINDOW_NONE)
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("continuous view \"%s\" cannot have a retention: continuous view \"%s\", without a window, reads it",
							name, upper->name),
					 errdetail("\"%s\" takes a correction of a row of \"%s\" by computing its groups again from every row, and the retention removes the oldest: the correction would be lost.",
							   upper->name, name),
					 errhint("Give \"%s\" a window with streamext.replace_view(), or drop it first.",
							 upper->name)));
	}
}

/*
 * lock_events keeps, until commit, what a view's backfill reads from
 * changing: producers of a stream (SHARE), or the worker closing windows of
 * the view a view on a view reads (SHARE on its closed table), and the
 * tables query (when not NULL) joins.
 */
void
lock_events(Oid stream_relid, Query *query)
{
	ViewCatalogRow *lower;
	AttrNumber	time_attno;

	if (query != NULL)
		lookup_join_lock_tables(query);

	if (catalog_is_stream(stream_relid, &time_attno))
		LockRelationOid(stream_relid, ShareLock);
	else if ((lower = catalog_view_on_relation(stream_relid)) != NULL)
		LockRelationOid(lower->closed_relid, ShareLock);
}

/*
 * view_definition_read reads and checks the definition create_view and
 * replace_view are given (arguments 1 to 5: query, "window", lateness,
 * retention and, from 0.2 on, time_zone): a query a continuous view can
 * maintain over a stream the caller owns, a window, and a lateness and
 * retention that mean something for them.
 */
void
view_definition_read(FunctionCallInfo fcinfo, ViewDefinition *def)
{
	AttrNumber	time_attno;

	sqlfunc_check_arg_not_null(fcinfo, 1, "the query of a continuous view",
							   "Pass the query the view computes, e.g. $$ SELECT url, count(*) AS hits FROM clicks GROUP BY url $$.");
	def->query_text = text_to_cstring(PG_GETARG_TEXT_PP(1));
	def->window_text = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	def->lateness = PG_ARGISNULL(3) ? NULL : PG_GETARG_INTERVAL_P(3);
	def->retention = PG_ARGISNULL(4) ? NULL : PG_GETARG_INTERVAL_P(4);
	/* 0.1's create_view has no time_zone */
	def->time_zone = (PG_NARGS() < 6 || PG_ARGISNULL(5)) ? NULL :
		window_zone_name(text_to_cstring(PG_GETARG_TEXT_PP(5)));

	window_parse(def->window_text, def->time_zone, &def->spec);
	window_check_new(def->window_text, &def->spec);
	def->closes = window_closes(&def->spec);
	check_retention(def->retention, def->closes);
	def->query = view_def_analyze(def->query_text, &def->stream_relid, false);
	check_stream_owner(def->stream_relid);
	def->cols = column_list(def->query, def->closes, true);
	if (!catalog_is_stream(def->stream_relid, &time_attno))
		time_attno = check_view_on_view(def->stream_relid, &def->spec, def->lateness);
	check_lateness(def->lateness, def->spec.kind != WINDOW_NONE, time_attno, def->stream_relid);
}

/*
 * view_definition_to_row writes a checked definition into a view's catalog
 * row: the query as given, analysed, and deparsed with every name
 * qualified (what a restored database analyses again, adopt_view).
 */
void
view_definition_to_row(const ViewDefinition *def, ViewCatalogRow *row)
{
	row->stream_relid = def->stream_relid;
	row->query = def->query_text;
	row->query_tree = nodeToString(def->query);
	row->definition = deparse_qualified_query(def->query);
	row->window_text = def->window_text;
	row->time_zone = def->time_zone;
	row->lateness_usec = interval_usecs(def->lateness);
	row->retention_usec = def->retention != NULL ? interval_usecs(def->retention) : 0;
}

/*
 * key_index_columns lists the output columns that are the group keys of a
 * view's query, for an index of its closed windows by key; NULL when the
 * query has no key, or a key that is no output or has no btree order
 * (its default btree opclass's comparison).
 */
static char *
key_index_columns(Query *query)
{
	StringInfoData buf;
	ListCell   *lc;

	/* window_start comes after the keys */
	if (query->groupClause == NIL || list_length(query->groupClause) >= INDEX_MAX_KEYS)
		return NULL;
	initStringInfo(&buf);
	foreach(lc, query->groupClause)
	{
		TargetEntry *tle = get_sortgroupclause_tle(lfirst_node(SortGroupClause, lc),
												   query->targetList);
		/*
		 * The default btree opclass's comparison, which the typcache finds
		 * missing for an array or row whose elements have none (xid[]: the
		 * btree opfamily of anyarray, but xid has only a hash opclass); the
		 * index would fail the worker's first insert of a second row.
		 */
		TypeCacheEntry *type = lookup_type_cache(exprType((Node *) tle->expr),
												 TYPECACHE_CMP_PROC);

		if (tle->resjunk || !OidIsValid(type->cmp_proc))
			return NULL;
		appendStringInfo(&buf, "%s, ", quote_identifier(tle->resname));
	}
	return buf.data;
}

/*
 * create_closed_table creates the table of the closed windows of a view
 * defined as def, named name in schema streamext, that reader (the view's
 * owner) may read.  Indexes find a key's windows, for reads and joins by
 * key, and a group's sessions, for a late event of a session window.  The
 * caller acts as the catalog's owner.  The table is named here only: from
 * then on it is its OID.
 */
Oid
create_closed_table(const char *name, const ViewDefinition *def, Oid reader)
{
	Oid			relid;
	char	   *keys = key_index_columns(def->query);

	sqlfunc_spi_exec(psprintf("CREATE TABLE streamext.%s (%s, _group bytea NOT NULL, "
							  "_state bytea NOT NULL, _having bool NOT NULL, "
							  "PRIMARY KEY (window_start, window_end, _group))",
							  name, def->cols),
					 SPI_OK_UTILITY);
	relid = get_relname_relid(name, get_namespace_oid("streamext", false));
	sqlfunc_spi_exec(psprintf("GRANT SELECT ON %s TO %s", catalog_qualified_name(relid),
							  quote_identifier(GetUserNameFromId(reader, false))),
					 SPI_OK_UTILITY);
	if (def->spec.kind == WINDOW_SESSION)
		sqlfunc_spi_exec(psprintf("CREATE INDEX ON %s (_group, window_start)",
								  catalog_qualified_name(relid)),
						 SPI_OK_UTILITY);
	if (keys != NULL)
		sqlfunc_spi_exec(psprintf("CREATE INDEX ON %s (%swindow_start)",
								  catalog_qualified_name(relid), keys),
						 SPI_OK_UTILITY);
	return relid;
}

/*
 * view_relation_query is the query of the user's view of continuous view
 * id with definition def: its closed windows in closed_relid (when its
 * windows close) and the open ones, read_view(id).
 */
char *
view_relation_query(const ViewDefinition *def, Oid closed_relid, int32 id)
{
	if (!def->closes)
		return psprintf("SELECT * FROM streamext.read_view(%d) AS t(%s)", id, def->cols);

	/*
	 * Without HAVING every closed row is shown, and the branch has no WHERE:
	 * PostgreSQL 15 then flattens it into the UNION ALL, so that the
	 * planner can read the table by index for an ORDER BY or a join.
	 */
	return psprintf("SELECT %s FROM %s %s"
					"UNION ALL SELECT * FROM streamext.read_view(%d) AS t(%s)",
					column_list(def->query, true, false), catalog_qualified_name(closed_relid),
					def->query->havingQual != NULL ? "WHERE _having " : "",
					id, def->cols);
}

/*
 * streamext_create_view defines a continuous view and computes it over the
 * events already in the stream.
 *
 * The stream is locked in SHARE mode until commit: producers wait, so every
 * event is either visible to the backfill's snapshot (its commit record lies
 * before start_lsn) or commits after this transaction (after start_lsn),
 * where the worker takes over.  Nothing is counted twice or missed.
 */
Datum
streamext_create_view(PG_FUNCTION_ARGS)
{
	char	   *name;
	ViewDefinition def;
	RangeVar   *rv;
	Oid			nsp;
	char	   *qualview;
	int32		id;
	ViewCatalogRow row;
	ViewPlan   *plan;
	XLogRecPtr	start_lsn;
	CatalogAccess ca;
	Oid			closed_relid = InvalidOid;

	sqlfunc_check_setup();
	sqlfunc_check_arg_not_null(fcinfo, 0, "the name of a continuous view",
							   "Pass the name of the view to create, e.g. 'clicks_per_minute'.");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	rv = makeRangeVarFromNameList(stringToQualifiedNameList(name));
	nsp = RangeVarGetCreationNamespace(rv);
	if (OidIsValid(get_relname_relid(rv->relname, nsp)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s\" already exists", name),
				 errhint("Choose another name, or drop the existing view with streamext.drop_view().")));
	view_definition_read(fcinfo, &def);

	/* producers wait from here to commit; see the function comment */
	lock_events(def.stream_relid, def.query);
	start_lsn = GetXLogInsertRecPtr();

	SPI_connect();
	catalog_owner_enter(&ca);
	id = catalog_next_view_id();
	if (def.closes)
		closed_relid = create_closed_table(psprintf("closed_%d", id), &def, ca.saved_userid);
	catalog_owner_leave(&ca);

	qualview = quote_qualified_identifier(get_namespace_name(nsp), rv->relname);
	sqlfunc_spi_exec(psprintf("CREATE VIEW %s AS %s", qualview,
							  view_relation_query(&def, closed_relid, id)),
					 SPI_OK_UTILITY);

	memset(&row, 0, sizeof(row));
	row.id = id;
	row.name = name;
	row.view_relid = get_relname_relid(rv->relname, nsp);
	row.closed_relid = closed_relid;
	row.start_lsn = start_lsn;
	view_definition_to_row(&def, &row);

	/* DROP TABLE of the stream must not leave the view reading nothing */
	{
		ObjectAddress viewaddr;
		ObjectAddress streamaddr;

		ObjectAddressSet(viewaddr, RelationRelationId, row.view_relid);
		ObjectAddressSet(streamaddr, RelationRelationId, def.stream_relid);
		recordDependencyOn(&viewaddr, &streamaddr, DEPENDENCY_NORMAL);
		lookup_join_record_dependencies(row.view_relid, def.query);
	}

	catalog_owner_enter(&ca);
	catalog_insert_view(&row, def.lateness, def.retention);

	/* backfill: every event committed before start_lsn, evaluated as the owner */
	{
		/* one snapshot for every attempt of the backfill */
		Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());

		plan = view_plan_compute(&row, CurrentMemoryContext, snapshot);
		UnregisterSnapshot(snapshot);
	}
	checkpoint_write_backfill(plan);
	view_plan_free(plan);
	catalog_owner_leave(&ca);
	SPI_finish();

	streamext_note_catalog_change();
	PG_RETURN_VOID();
}

/*
 * streamext_set_view_retention changes how long a view keeps its closed
 * windows; the worker removes those past it at its next checkpoint.
 */
Datum
streamext_set_view_retention(PG_FUNCTION_ARGS)
{
	ViewCatalogRow *found;
	Interval   *retention = PG_ARGISNULL(1) ? NULL : PG_GETARG_INTERVAL_P(1);
	WindowSpec	spec;
	CatalogAccess ca;

	sqlfunc_check_setup();
	sqlfunc_check_arg_not_null(fcinfo, 0, "the name of a continuous view",
							   "Pass the name of a view that streamext.views lists; a NULL retention keeps its closed windows for ever.");
	found = catalog_find_owned_view(text_to_cstring(PG_GETARG_TEXT_PP(0)), false);
	window_parse(found->window_text, found->time_zone, &spec);
	check_retention(retention, window_closes(&spec));
	if (retention != NULL)
		check_retention_under_views(found->name, catalog_views_reading(found->view_relid));

	catalog_owner_enter(&ca);
	catalog_set_view_retention(found->id, retention);
	catalog_owner_leave(&ca);
	streamext_note_catalog_change();
	PG_RETURN_VOID();
}

/*
 * streamext_drop_view drops a continuous view, its closed windows and its
 * state.  The worker notices the catalog change in the decoded WAL.
 */
Datum
streamext_drop_view(PG_FUNCTION_ARGS)
{
	char	   *name;
	ViewCatalogRow *found;
	char	   *subname;
	List	   *upper;
	CatalogAccess ca;

	sqlfunc_check_setup();
	sqlfunc_check_arg_not_null(fcinfo, 0, "the name of a continuous view",
							   "Pass the name of the view to drop; streamext.views lists the continuous views.");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	found = catalog_find_owned_view(name, false);
	if ((upper = catalog_views_reading(found->view_relid)) != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("continuous view \"%s\" is read by continuous view \"%s\"",
						name, ((ViewCatalogRow *) linitial(upper))->name),
				 errhint("Drop the views on it first with streamext.drop_view().")));
	if ((subname = catalog_subscription_on_source(found->view_relid)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("continuous view \"%s\" has subscription \"%s\"", name, subname),
				 errhint("Drop its subscriptions first with streamext.drop_subscription().")));

	/* the view is the caller's; it reads the closed windows, so it goes first */
	SPI_connect();
	sqlfunc_spi_exec(psprintf("DROP VIEW %s",
							  quote_qualified_identifier(get_namespace_name(get_rel_namespace(found->view_relid)),
														 get_rel_name(found->view_relid))),
					 SPI_OK_UTILITY);
	/* the event trigger may have forgotten the rest already */
	catalog_owner_enter(&ca);
	catalog_delete_view(found->id);
	if (OidIsValid(found->closed_relid) &&
		SearchSysCacheExists1(RELOID, ObjectIdGetDatum(found->closed_relid)))
		sqlfunc_spi_exec(psprintf("DROP TABLE %s", catalog_qualified_name(found->closed_relid)),
						 SPI_OK_UTILITY);
	catalog_owner_leave(&ca);
	SPI_finish();

	streamext_note_catalog_change();
	PG_RETURN_VOID();
}

/*
 * compute_and_persist computes a view from its stream, in one snapshot for
 * every attempt of the computation, and persists what it computed at its
 * start_lsn; windows the watermark has passed up to closed_upto close,
 * unsent to subscriptions (see checkpoint_write_computed).  The watermark
 * is at least floor: windows the view had closed before (closed_floor),
 * maybe by the clock past its events, close again, unsent, rather than be
 * closed and sent a second time by the worker.
 */
void
compute_and_persist(const ViewCatalogRow *row, TimestampTz closed_upto, TimestampTz floor)
{
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	ViewPlan   *plan = view_plan_compute(row, CurrentMemoryContext, snapshot);

	UnregisterSnapshot(snapshot);
	plan->state->clock_watermark = Max(plan->state->clock_watermark, floor);
	checkpoint_write_computed(plan, row->start_lsn, closed_upto);
	view_plan_free(plan);
}

/*
 * last_closed_end is the end of the last window in the closed table of the
 * view of row; DT_NOBEGIN when it has none.  Not read-only: a snapshot
 * that sees what the worker closed until the caller's lock.
 */
static TimestampTz
last_closed_end(const ViewCatalogRow *row)
{
	bool		isnull;
	Datum		end;

	if (SPI_execute(psprintf("SELECT max(window_end) FROM %s",
							 catalog_qualified_name(row->closed_relid)),
					false, 1) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not read the closed windows of \"%s\"", row->name);
	end = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? DT_NOBEGIN : DatumGetTimestampTz(end);
}

/*
 * closed_floor is how far a view restored from a dump had closed its
 * windows: its progress, or (a dump has none) the end of the last closed
 * window dumped; DT_NOBEGIN for a view on a view.  The caller is connected
 * to SPI as the catalog's owner, and has not cleared the view.
 */
static TimestampTz
closed_floor(const ViewCatalogRow *row)
{
	ViewProgressRow progress;
	AttrNumber	time_attno;

	/*
	 * Not for a view on a view: its windows close as it takes the rows of the
	 * view it reads, never ahead of them, and it takes them again whole.
	 */
	if (!catalog_is_stream(row->stream_relid, &time_attno))
		return DT_NOBEGIN;
	if (catalog_read_view_progress(row->id, NULL, &progress))
		return progress.closed_upto;
	if (!OidIsValid(row->closed_relid) ||
		!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(row->closed_relid)))
		return DT_NOBEGIN;
	return last_closed_end(row);
}

/*
 * closed_horizon is how far the definition of row has delivered time in
 * closed windows, for the definition next that follows it (NULL: one whose
 * windows do not close): the end of the last window it closed (its row
 * written, its 'final' subscribers served).  The next definition's windows
 * that end by then close at the switch, unsent; those that end after it
 * are sent when they close, the first perhaps overlapping the last of the
 * old shape, so that no stretch of event time is left out between the two.
 * A view whose windows do not close had no 'final' subscriber: every
 * window its watermark passed closes at the switch.  The caller locked the
 * view's row or its closed table, so the worker closes no more windows of
 * it, and acts as the catalog's owner.
 */
TimestampTz
closed_horizon(const ViewCatalogRow *row, const WindowSpec *next)
{
	WindowSpec	spec;
	TimestampTz horizon;
	ViewProgressRow progress;
	bool		has_progress;

	window_parse(row->window_text, row->time_zone, &spec);
	if (next == NULL || !window_closes(&spec) || !OidIsValid(row->closed_relid))
		return DT_NOEND;
	horizon = last_closed_end(row);

	/*
	 * Retention may have taken the last closed rows away.  Every window of
	 * a fixed shape ending by the pane boundary at or before the view's
	 * closed_upto was closed (and delivered, if it had events): windows
	 * end on pane boundaries.  Every session ending by closed_upto was
	 * closed too; a session of a gap as long or longer is made of whole
	 * sessions of the old gap, all closed when it ends by closed_upto less
	 * the old gap plus its own.
	 */
	has_progress = catalog_read_view_progress(row->id, NULL, &progress) &&
		window_time_in_range(&spec, progress.closed_upto);
	if (has_progress && spec.kind != WINDOW_SESSION)
		horizon = Max(horizon, window_pane_for(&spec, progress.closed_upto));
	else if (has_progress && next->kind == WINDOW_SESSION && next->size_usec >= spec.size_usec)
		horizon = Max(horizon, progress.closed_upto - spec.size_usec + next->size_usec);
	else if (has_progress)
	{
		TimestampTz first_open;

		/*
		 * Fixed windows, or sessions of a shorter gap, cut the old sessions
		 * anywhere.  Every event before the first session still open is in
		 * a closed one, delivered; one after it may not be.  The last
		 * closed row's end could be past another group's open session (its
		 * events then never sent), or gone with retention (every window
		 * sent again).  Read from the checkpoint, the sessions opened since
		 * are missing: each started after the checkpoint's closed_upto less
		 * the gap (an event before that was late, and joined a closed
		 * session).
		 */
		if (!view_read_first_open_start(row, progress.closed_upto, &first_open))
			first_open = window_time_in_range(&spec, progress.states_closed_upto) ?
				Min(first_open, progress.states_closed_upto - spec.size_usec) : DT_NOBEGIN;
		horizon = Min(first_open, progress.closed_upto);
	}
	return horizon;
}

/*
 * recompute_after_horizon computes a view again from its source as of now,
 * with a new start_lsn: its state, closed windows and dead letters.  The
 * windows it had closed (closed_horizon) close again, unsent; those its
 * source has made due since, which the worker has not closed yet, stay
 * open, and the worker closes them and sends them to 'final' subscribers.
 * The caller locked the view's row or its closed table.
 */
static void
recompute_after_horizon(ViewCatalogRow *row)
{
	WindowSpec	spec;
	TimestampTz horizon;

	window_parse(row->window_text, row->time_zone, &spec);
	horizon = closed_horizon(row, &spec);

	row->start_lsn = GetXLogInsertRecPtr();
	catalog_restart_view(row->id, row->start_lsn);
	checkpoint_clear_view(row->id, row->closed_relid);
	compute_and_persist(row, horizon, horizon == DT_NOEND ? DT_NOBEGIN : horizon);
}

/*
 * rebuild_views_reading computes again every view on the view whose
 * relation is view_relid, and the views on those, from the rows the view
 * has in this transaction.  Runs as streamext's owner (catalog_owner_enter);
 * each view's own expressions run as its owner.
 */
void
rebuild_views_reading(Oid view_relid)
{
	ListCell   *lc;

	foreach(lc, catalog_views_reading(view_relid))
	{
		ViewCatalogRow *row = lfirst(lc);

		if (row->restored)
			continue;
		LockRelationOid(row->closed_relid, ShareLock);
		recompute_after_horizon(row);
		rebuild_views_reading(row->view_relid);
	}
}

/*
 * streamext_rebuild_view recomputes a continuous view from its stream table,
 * as create_view computes a new one: after a lost replication slot, or when
 * its state is in doubt.  Producers wait for the length of the scan (SHARE
 * lock, see streamext_create_view); readers see the view as it was until
 * this commits, then as recomputed.  The windows the view had closed close
 * again here, and its subscriptions are not sent them again; those due
 * since, not closed yet, are closed and sent by the worker.
 */
Datum
streamext_rebuild_view(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ViewCatalogRow *found;
	CatalogAccess ca;

	sqlfunc_check_setup();
	found = catalog_find_owned_view(name, false);

	/* the worker's checkpoints of the old state wait for this, then skip it */
	lock_events(found->stream_relid, (Query *) stringToNode(found->query_tree));
	/* late events the worker has not applied correct what it delivered */
	(void) view_read_wait_applied(APPLIED_WAIT_MS);
	SPI_connect();
	catalog_owner_enter(&ca);
	/* as committed now: a replace_view may have changed it meanwhile */
	found = catalog_lock_view(found->id, name);
	lock_events(found->stream_relid, (Query *) stringToNode(found->query_tree));
	recompute_after_horizon(found);
	/* and so are the views on it, from the rows it has now */
	rebuild_views_reading(found->view_relid);
	catalog_owner_leave(&ca);
	SPI_finish();

	streamext_note_catalog_change();
	PG_RETURN_VOID();
}

/*
 * check_restored_columns refuses a restored view whose query, analysed again,
 * no longer gives the columns of the view pg_restore created from the dump.
 */
static void
check_restored_columns(const ViewCatalogRow *row, Query *query)
{
	Relation	rel = relation_open(row->view_relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	WindowSpec	spec;
	int			attno;
	ListCell   *lc;
	bool		ok = true;

	window_parse(row->window_text, row->time_zone, &spec);
	attno = window_has_columns(&spec) ? 2 : 0;

	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Form_pg_attribute att;

		if (tle->resjunk)
			continue;
		if (attno >= desc->natts)
		{
			ok = false;
			break;
		}
		att = TupleDescAttr(desc, attno);
		if (strcmp(NameStr(att->attname), tle->resname) != 0 ||
			att->atttypid != exprType((Node *) tle->expr))
			ok = false;
		attno++;
	}
	if (attno != desc->natts)
		ok = false;
	relation_close(rel, AccessShareLock);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the query of restored continuous view \"%s\" no longer gives the columns of its view",
						row->name),
				 errhint("Drop it with streamext.drop_view('%s') and create it again.", row->name)));
}

/*
 * closed_table_restored says whether pg_restore has brought a closed-window
 * table whole: its primary key, made after its data, is there.
 */
static bool
closed_table_restored(Oid relid)
{
	Relation	rel;
	bool		restored;

	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		return false;
	rel = relation_open(relid, AccessShareLock);
	restored = OidIsValid(RelationGetPrimaryKeyIndex(rel));
	relation_close(rel, AccessShareLock);
	return restored;
}

/*
 * streamext_adopt_view makes a continuous view that pg_restore restored a
 * working one.  pg_dump dumps a view's definition (view_def, with its
 * relations by name, and the view and closed-window table themselves) but
 * not the state derived from the stream table: the analysed query holds
 * OIDs and attribute numbers of the dumped database, and start_lsn a WAL
 * position of another server.  The schema-qualified definition is analysed
 * again, and the view is computed from the restored stream table as
 * rebuild_view does, from a new start_lsn.  Called after the stream table's
 * data is restored: the streamext_adopt_restored event trigger calls it when
 * pg_restore creates the stream's triggers, in its post-data section.
 */
Datum
streamext_adopt_view(PG_FUNCTION_ARGS)
{
	int32		id = PG_GETARG_INT32(0);
	List	   *rows;
	ViewCatalogRow *row;
	Query	   *query;
	Oid			stream_relid;
	CatalogAccess ca;
	int			nestlevel;
	TimestampTz floor;

	sqlfunc_check_setup();
	rows = catalog_load_views_filtered(CurrentMemoryContext, id);
	if (rows == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("continuous view %d does not exist", id),
				 errhint("streamext.views lists the continuous views.")));
	row = linitial(rows);
	if (!row->restored)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("continuous view \"%s\" was not restored from a dump", row->name),
				 errhint("streamext.rebuild_view('%s') computes it again.", row->name)));
	if (!pg_class_ownercheck(row->view_relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_VIEW, row->name);

	/* the definition names its schemas; older rows have only the query */
	nestlevel = row->definition ? pin_empty_search_path() : -1;
	query = view_def_analyze(row->definition ? row->definition : row->query, &stream_relid, true);
	if (nestlevel >= 0)
		AtEOXact_GUC(true, nestlevel);
	if (stream_relid != row->stream_relid)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the query of restored continuous view \"%s\" reads \"%s\", not its stream \"%s\"",
						row->name, get_rel_name(stream_relid), get_rel_name(row->stream_relid)),
				 errhint("Drop it with streamext.drop_view('%s') and create it again.", row->name)));
	check_restored_columns(row, query);

	/* as rebuild_view: producers wait, the events before start_lsn are computed here */
	lock_events(stream_relid, query);
	row->start_lsn = GetXLogInsertRecPtr();
	row->query_tree = nodeToString(query);

	SPI_connect();
	catalog_owner_enter(&ca);
	catalog_adopt_view(id, row->query_tree, row->start_lsn);
	lookup_join_record_dependencies(row->view_relid, query);

	/*
	 * The dumped dead letters were events of the stream, and the dumped
	 * closed windows were as of the dumped database's checkpoint: both are
	 * computed below; the windows the dumped database had closed (and
	 * delivered) close again, unsent.
	 */
	floor = closed_floor(row);
	checkpoint_clear_view(id, row->closed_relid);

	compute_and_persist(row, DT_NOEND, floor);
	catalog_owner_leave(&ca);
	SPI_finish();

	/* create_view's dependency is not dumped: DROP TABLE must cascade again */
	{
		ObjectAddress viewaddr;
		ObjectAddress streamaddr;

		ObjectAddressSet(viewaddr, RelationRelationId, row->view_relid);
		ObjectAddressSet(streamaddr, RelationRelationId, stream_relid);
		recordDependencyOn(&viewaddr, &streamaddr, DEPENDENCY_NORMAL);
	}

	/*
	 * The views restored on it read its rows, computed now; one whose
	 * closed-window table is not restored whole yet (pg_restore -j makes its
	 * primary key after its data) is adopted when it is.  One whose table
	 * another job holds (building an index on it) is not waited for: that
	 * job adopts it when its command ends (adopt_ready), and waiting here,
	 * holding the adopters' lock it will ask for, would deadlock.
	 */
	{
		ListCell   *lc;

		foreach(lc, catalog_views_reading(row->view_relid))
		{
			ViewCatalogRow *upper = lfirst(lc);

			/*
			 * The lock before the look: closed_table_restored opens the
			 * table, which would wait for the job adding its primary key
			 * (ACCESS EXCLUSIVE), while that job's adopt_ready waits for
			 * the adopters' lock held here.
			 */
			if (upper->restored &&
				(!OidIsValid(upper->closed_relid) ||
				 (ConditionalLockRelationOid(upper->closed_relid, RowExclusiveLock) &&
				  closed_table_restored(upper->closed_relid))))
				DirectFunctionCall1(streamext_adopt_view, Int32GetDatum(upper->id));
		}
	}

	streamext_note_catalog_change();
	PG_RETURN_VOID();
}

/*
 * streamext_note_restored_rows is the AFTER INSERT ... FOR EACH STATEMENT
 * trigger of the catalog tables pg_dump dumps.  Rows that streamext's own
 * code writes (as the catalog's owner, through catalog_owner_enter, or in
 * the worker) are none of its business: it returns at once, so that the
 * worker's deliveries and dead letters pay one call.  Rows a session writes
 * itself are a restore's (pg_restore's COPY, psql running a plain dump):
 * streamext.catalog_loaded notes that this table's data has arrived and
 * adopts what every piece it needs has arrived for, in whatever order a
 * parallel pg_restore brings them.
 */
Datum
streamext_note_restored_rows(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Datum		args[1];
	Oid			argtypes[1] = {REGCLASSOID};

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		elog(ERROR, "streamext_note_restored_rows: not called as a statement trigger on insert");
	if (IsBackgroundWorker || InLocalUserIdChange())
		return PointerGetDatum(NULL);

	args[0] = ObjectIdGetDatum(RelationGetRelid(trigdata->tg_relation));
	SPI_connect();
	if (SPI_execute_with_args("SELECT streamext.catalog_loaded($1)", 1, argtypes, args,
							  NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not note restored catalog rows");
	SPI_finish();
	return PointerGetDatum(NULL);
}

/*
 * Whether a restore waits, asked by the owner's DDL without the adopters'
 * lock: the first reads restore_loaded only (no other table: a command must
 * not wait for a lock somebody holds on the catalog), the second the
 * catalog.
 */
static CatalogStatement restore_noted = {
	"SELECT 1 FROM streamext.restore_loaded LIMIT 1", 0
};
static CatalogStatement restored_not_adopted = {
	"SELECT 1 FROM streamext.view_def d WHERE NOT EXISTS "
	"(SELECT 1 FROM streamext.view_progress p WHERE p.view_id = d.id) "
	"UNION ALL SELECT 1 FROM streamext.subscription_def s WHERE NOT EXISTS "
	"(SELECT 1 FROM streamext.subscription_progress p WHERE p.subscription_id = s.id) "
	"LIMIT 1", 0
};
static CatalogStatement adopt_ready = {"SELECT streamext.adopt_ready()", 0};

/*
 * streamext_adopt_after_restore is the ddl_command_end event trigger
 * (0.1's, in PL/pgSQL, looked at CREATE TRIGGER only).  Every DDL command of
 * every role fires it, and streamext.adopt_ready() waits for the other
 * adopters' advisory lock and holds it to the end of the transaction, so it
 * calls that only for a command that can be part of a restore of
 * streamext's objects, and decides from what it has at hand:
 *	- a command of streamext's own code (create_stream, create_view, the
 *	  renames it follows, the worker) or of a role that cannot write the
 *	  catalog is none: it returns at once;
 *	- a stream's trigger streamext_wake, or the primary key of a
 *	  closed-window table, is a piece of a restore (pg_dump writes them
 *	  after the table's data): it adopts, whether or not it sees the
 *	  catalog's data yet, which another job may be committing;
 *	- any other command of the catalog's owner adopts only while a restore
 *	  waits (restore_loaded has rows, and a restored view or subscription is
 *	  not adopted yet), which it reads without the adopters' lock: a job
 *	  whose lock made an adopter skip a view (NOWAIT) adopts it when its
 *	  command ends.
 * Outside a restore, then, DDL neither takes nor waits for that lock, nor
 * for one on the catalog: it reads restore_loaded only.
 */
Datum
streamext_adopt_after_restore(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata = (EventTriggerData *) fcinfo->context;
	bool		adopt;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "streamext_adopt_after_restore: not called by the event trigger manager");
	if (IsBackgroundWorker || InLocalUserIdChange() || creating_stream_triggers)
		PG_RETURN_VOID();
	/* only the catalog's owner restores the catalog */
	if (pg_class_aclcheck(catalog_relid(CATALOG_VIEW_DEF), GetUserId(), ACL_UPDATE) != ACLCHECK_OK)
		PG_RETURN_VOID();

	SPI_connect();
	adopt = completes_restored_object(trigdata->parsetree) ||
		(finds_row(&restore_noted) && finds_row(&restored_not_adopted));
	if (adopt && catalog_execute(&adopt_ready, NULL, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not adopt restored views and subscriptions");
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * finds_row says whether a statement without parameters returns a row.  It
 * is not read-only: its snapshot, taken now, sees what committed before.
 */
static bool
finds_row(CatalogStatement *stmt)
{
	if (catalog_execute(stmt, NULL, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not run \"%s\"", stmt->sql);
	return SPI_processed > 0;
}

/*
 * completes_restored_object says whether a DDL command brings one of the
 * pieces a restored view or subscription waits for besides the catalog's
 * data: a stream's trigger streamext_wake, or a primary key added to a
 * closed-window table (known by its columns _group, _state and _having:
 * it may have been renamed or moved).
 */
static bool
completes_restored_object(Node *parsetree)
{
	AlterTableStmt *stmt;
	ListCell   *lc;
	Oid			relid;

	if (IsA(parsetree, CreateTrigStmt))
		return strcmp(((CreateTrigStmt *) parsetree)->trigname, "streamext_wake") == 0;
	if (!IsA(parsetree, AlterTableStmt))
		return false;
	stmt = (AlterTableStmt *) parsetree;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		bool		primary_key;

		primary_key = (cmd->subtype == AT_AddConstraint && IsA(cmd->def, Constraint) &&
					   ((Constraint *) cmd->def)->contype == CONSTR_PRIMARY) ||
			((cmd->subtype == AT_AddIndex || cmd->subtype == AT_AddIndexConstraint) &&
			 IsA(cmd->def, IndexStmt) && ((IndexStmt *) cmd->def)->primary);
		if (!primary_key)
			continue;
		/* the command holds its lock */
		relid = RangeVarGetRelid(stmt->relation, NoLock, true);
		return OidIsValid(relid) &&
			get_attnum(relid, "_group") != InvalidAttrNumber &&
			get_attnum(relid, "_state") != InvalidAttrNumber &&
			get_attnum(relid, "_having") != InvalidAttrNumber;
	}
	return false;
}
