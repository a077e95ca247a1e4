/*-------------------------------------------------------------------------
 *
 * view_query.c
 *	  A continuous view's query as create_view is given it: parsed and
 *	  analysed by PostgreSQL itself, checked for what a continuous view can
 *	  maintain (refuse says what not), and deparsed with every name
 *	  qualified, so that neither depends on search_path.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/commit_ts.h"
#include "access/heaptoast.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/tupconvert.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "parser/parsetree.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "determinism.h"
#include "lookup_join.h"
#include "view_query.h"
#include "window.h"

static void refuse(const char *what, const char *hint);
static List *parse_view_query(const char *query_text);
static Query *analyze_view_query(RawStmt *stmt, const char *query_text);
static Query *analyze_checked(const char *query_text, Oid *stream_relid, bool restored,
							 bool distributed);
static void check_source_view(Oid relid);

/*
 * refuse reports a construct a continuous view cannot maintain.
 */
static void
refuse(const char *what, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s is not supported in a continuous view", what),
			 errhint("%s", hint)));
}

/*
 * report_in_query rethrows the current error with its position moved into
 * query_text (a view's query, a subscription's filter), which psql then
 * shows as the internal query, instead of pointing into the call around it.
 */
void
report_in_query(const char *query_text)
{
	ErrorData  *edata = CopyErrorData();

	FlushErrorState();
	if (edata->cursorpos > 0)
	{
		edata->internalpos = edata->cursorpos;
		edata->internalquery = pstrdup(query_text);
		edata->cursorpos = 0;
	}
	ReThrowError(edata);
}

/*
 * parse_view_query parses create_view's query, errors pointing into it.
 */
static List *
parse_view_query(const char *query_text)
{
	List	   *raw = NIL;
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		raw = pg_parse_query(query_text);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		report_in_query(query_text);
	}
	PG_END_TRY();
	return raw;
}

/*
 * analyze_view_query analyses create_view's query, errors pointing into it.
 */
static Query *
analyze_view_query(RawStmt *stmt, const char *query_text)
{
	Query	   *query = NULL;
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		query = parse_analyze_fixedparams(stmt, query_text, NULL, 0, NULL);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		report_in_query(query_text);
	}
	PG_END_TRY();
	return query;
}

/*
 * pin_empty_search_path makes search_path empty (pg_catalog is still
 * searched first) until AtEOXact_GUC(true, the returned level): SQL written
 * meanwhile names every other schema, and SQL analysed meanwhile must.
 */
int
pin_empty_search_path(void)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("search_path", "", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

/*
 * deparse_qualified_query writes an analysed query back as SQL that names
 * every object outside pg_catalog with its schema, as pg_dump writes a
 * view: the definition a restored database analyses again, whatever its
 * OIDs and search_path.
 */
char *
deparse_qualified_query(Query *query)
{
	int			nestlevel = pin_empty_search_path();
	char	   *result = pg_get_querydef(copyObject(query), false);

	AtEOXact_GUC(true, nestlevel);
	return result;
}

/*
 * deparse_qualified_expr does the same for an expression over the columns
 * of relation relid (a subscription's filter).
 */
char *
deparse_qualified_expr(Node *expr, Oid relid)
{
	int			nestlevel = pin_empty_search_path();
	char	   *result = deparse_expression(expr,
											deparse_context_for(get_rel_name(relid), relid),
											false, false);

	AtEOXact_GUC(true, nestlevel);
	return result;
}

/*
 * check_source_view refuses a relation in FROM that is neither a stream nor
 * a continuous view another view can read: one whose windows close, into
 * rows that are final once closed_upto has passed them, and whose windows
 * have a bounded length (window_first_open_start), so not sessions.
 */
static void
check_source_view(Oid relid)
{
	ViewCatalogRow *lower = catalog_view_on_relation(relid);
	WindowSpec	spec;

	if (lower == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a stream", get_rel_name(relid)),
				 errhint("Make it one first with SELECT streamext.create_stream('%s');",
						 get_rel_name(relid))));
	window_parse(lower->window_text, lower->time_zone, &spec);
	if (!window_closes(&spec) || spec.kind == WINDOW_SESSION)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("continuous view \"%s\" cannot be read by another continuous view", lower->name),
				 errdetail("A view on a view reads the closed windows of a tumbling, hopping or cumulating view; \"%s\" has %s.",
						   lower->name,
						   spec.kind == WINDOW_SESSION ? "session windows, of no bounded length" :
						   spec.kind == WINDOW_SLIDING ? "a sliding window, which never closes" :
						   "no window"),
				 errhint("Read the stream of \"%s\" instead.", lower->name)));
	if (lower->restored)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("continuous view \"%s\" is restored but not yet adopted", lower->name),
				 errhint("It is adopted once its stream's data is restored.")));
}

/*
 * view_def_analyze parses and analyses the query of create_view and checks
 * that it is one a continuous view can maintain: one stream (or continuous
 * view, check_source_view) in FROM, maybe joined to tables (lookup_join.c), an
 * optional WHERE, GROUP BY, aggregates that can be combined, HAVING, and
 * nothing but immutable calls (determinism.c).  The calls of a restored
 * view (adopt_view) are not checked again: they were when it was created,
 * and the functions declared deterministic then may be restored after it
 * (pg_restore -j loads tables in any order).
 */
Query *
view_def_analyze(const char *query_text, Oid *stream_relid, bool restored)
{
	return analyze_checked(query_text, stream_relid, restored, false);
}

/*
 * view_def_analyze_distributed is view_def_analyze for a distributed view
 * (distributed_view.c): its relation is the coordinator's table of the
 * stream's shape (a plain, partitioned or foreign table, or a stream),
 * which the query is analysed and compiled over; it joins nothing.
 */
Query *
view_def_analyze_distributed(const char *query_text, Oid *relid)
{
	return analyze_checked(query_text, relid, false, true);
}

/* analyze_checked does the work of view_def_analyze and its distributed form */
static Query *
analyze_checked(const char *query_text, Oid *stream_relid, bool restored, bool distributed)
{
	List	   *raw;
	RawStmt    *stmt;
	Query	   *query;
	RangeTblEntry *rte;
	ListCell   *lc;
	AttrNumber	time_attno;
	bool		joins;
	const char *hint_simple = "A continuous view reads one stream: SELECT keys, aggregates FROM stream [WHERE ...] [GROUP BY ...] [HAVING ...].";

	raw = parse_view_query(query_text);
	if (list_length(raw) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the query of a continuous view must be exactly one SELECT statement"),
				 errhint("%s", hint_simple)));
	stmt = linitial_node(RawStmt, raw);
	if (!IsA(stmt->stmt, SelectStmt))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the query of a continuous view must be a SELECT statement"),
				 errhint("%s", hint_simple)));

	query = analyze_view_query(stmt, query_text);

	if (query->setOperations)
		refuse("UNION, INTERSECT or EXCEPT", hint_simple);
	if (query->cteList)
		refuse("WITH", hint_simple);
	if (query->hasSubLinks)
		refuse("a subquery", "Compute the value in the producer, or join the view with a table when you read it.");
	if (query->hasWindowFuncs)
		refuse("a window function", "Use the window argument of streamext.create_view for windows over time.");
	if (query->distinctClause != NIL)
		refuse("DISTINCT", "Aggregate with GROUP BY instead.");
	if (query->sortClause != NIL || query->limitCount || query->limitOffset)
		refuse("ORDER BY, LIMIT or OFFSET", "Order or limit when you read the view.");
	if (query->hasTargetSRFs)
		refuse("a set-returning function", hint_simple);
	if (query->groupingSets != NIL)
		refuse("GROUPING SETS, ROLLUP or CUBE", "Create one view per grouping.");
	if (query->rowMarks != NIL)
		refuse("FOR UPDATE or FOR SHARE", hint_simple);

	joins = list_length(query->jointree->fromlist) > 1 ||
		IsA(linitial(query->jointree->fromlist), JoinExpr);
	if (!joins && (!IsA(linitial(query->jointree->fromlist), RangeTblRef) ||
				   list_length(query->rtable) != 1))
		refuse("this kind of FROM item", hint_simple);
	rte = rt_fetch(1, query->rtable);
	if (rte->rtekind == RTE_SUBQUERY)
		refuse("a subquery in FROM", hint_simple);
	if (rte->rtekind != RTE_RELATION)
		refuse("this kind of FROM item", hint_simple);
	if (rte->inh == false)
		refuse("FROM ONLY", hint_simple);

	if (distributed)
	{
		char		relkind = get_rel_relkind(rte->relid);

		if (joins)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a distributed view cannot join tables"),
					 errhint("Each node's table would be joined with its own rows: join the view when you read it.")));
		if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
			relkind != RELKIND_FOREIGN_TABLE)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("\"%s\" is not a table", get_rel_name(rte->relid)),
					 errhint("A distributed view reads a table of the stream's shape on the coordinator: a partitioned table over the nodes' streams, or an empty one.")));
	}
	else if (!catalog_is_stream(rte->relid, &time_attno))
	{
		if (joins && catalog_view_on_relation(rte->relid) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a continuous view on a continuous view cannot join tables"),
					 errhint("Join the tables in the view on the stream, or when you read the view.")));
		if (joins)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("the first relation in FROM of a continuous view that joins tables must be its stream"),
					 errdetail("\"%s\" is not a stream.", get_rel_name(rte->relid)),
					 errhint("Name the stream first: FROM stream JOIN table ON table.key = stream.column.")));
		check_source_view(rte->relid);
	}
	if (joins)
	{
		if (!lookup_join_catalog_exists())
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a continuous view that joins tables needs streamext 0.2"),
					 errhint("ALTER EXTENSION streamext UPDATE.")));
		lookup_join_check(query);
	}

	if (!query->hasAggs && query->groupClause == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a continuous view needs aggregates or GROUP BY"),
				 errhint("For every event as it comes, use a subscription; for a running total, e.g. SELECT count(*) FROM stream.")));

	foreach(lc, query->groupClause)
	{
		SortGroupClause *sgc = lfirst_node(SortGroupClause, lc);
		TargetEntry *tle = get_sortgroupclause_tle(sgc, query->targetList);

		if (!sgc->hashable)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot group by type %s in a continuous view",
							format_type_be(exprType((Node *) tle->expr))),
					 errhint("Open windows are kept in hash tables; group by a type with a hash operator class.")));
	}

	/*
	 * Group keys are in the target list, aggregate arguments and FILTER in
	 * its and HAVING's aggregates.
	 */
	if (!restored)
		determinism_check((Node *) list_make3(query->targetList, query->jointree,
											  query->havingQual),
						  DETERMINISM_VIEW, query_text, catalog_deterministic_functions());

	*stream_relid = rte->relid;
	return query;
}
