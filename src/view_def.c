/*-------------------------------------------------------------------------
 *
 * view_def.c
 *	  A continuous view's definition: analysis and validation of the query
 *	  given to create_view, and its compiled form (ViewPlan) that applies an
 *	  event to the open windows and turns a group's states into a row.
 *
 *	  The query is analysed by PostgreSQL itself and stored as a node tree,
 *	  like a view's rule, so that the worker does not depend on search_path.
 *	  Group keys, WHERE, FILTER and aggregate arguments run through the
 *	  executor's expression machinery; output columns and HAVING are
 *	  rewritten to read the group's keys and finalised aggregates from an
 *	  intermediate slot.
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
#include "miscadmin.h"
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

#include "determinism.h"
#include "streamext.h"
#include "usercode.h"

typedef struct CollectAggsContext
{
	List	   *aggs;
} CollectAggsContext;

typedef struct RewriteContext
{
	List	   *keyexprs;
	List	   *aggs;
	int			nkeys;
} RewriteContext;

/* an event to apply in a subtransaction */
typedef struct IsolatedEvent
{
	ViewPlan   *plan;
	TupleTableSlot *event;
	TimestampTz commit_time;
} IsolatedEvent;

static void refuse(const char *what, const char *hint);
static void apply_one(void *arg);
/* an event of a backfill to set aside: it left the view half changed */
typedef struct BackfillSkip
{
	Oid			relid;
	ItemPointerData tid;
	int			sqlerrcode;
	char	   *message;
} BackfillSkip;

static bool backfill_relation(ViewPlan *plan, Oid relid, Snapshot snapshot, List **skip);
static BackfillSkip *find_skipped(List *skip, Oid relid, ItemPointer tid);
static List *parse_view_query(const char *query_text);
static Query *analyze_view_query(RawStmt *stmt, const char *query_text);
static bool collect_aggs_walker(Node *node, CollectAggsContext *ctx);
static ViewPlan *build_plan(const ViewCatalogRow *row, Oid owner, MemoryContext parent);
static void apply_event(ViewPlan *plan, TupleTableSlot *event, TimestampTz commit_time);
static bool output_row(ViewPlan *plan, TimestampTz wstart, TimestampTz wend,
					   Datum *keys, bool *keynulls,
					   AggValue *values, Datum *out, bool *outnulls);
static Node *rewrite_output_mutator(Node *node, RewriteContext *ctx);

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
 * view_def_analyze parses and analyses the query of create_view and checks
 * that it is one a continuous view can maintain: one stream in FROM, an
 * optional WHERE, GROUP BY, aggregates that can be combined, HAVING, and
 * nothing but immutable calls (determinism.c).
 */
Query *
view_def_analyze(const char *query_text, Oid *stream_relid)
{
	List	   *raw;
	RawStmt    *stmt;
	Query	   *query;
	RangeTblEntry *rte;
	ListCell   *lc;
	AttrNumber	time_attno;
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

	if (list_length(query->rtable) != 1 ||
		list_length(query->jointree->fromlist) != 1 ||
		!IsA(linitial(query->jointree->fromlist), RangeTblRef))
		refuse("a join or more than one relation in FROM",
			   "Join the view with other tables when you read it.");
	rte = rt_fetch(1, query->rtable);
	if (rte->rtekind == RTE_SUBQUERY)
		refuse("a subquery in FROM", hint_simple);
	if (rte->rtekind != RTE_RELATION)
		refuse("this kind of FROM item", hint_simple);
	if (rte->inh == false)
		refuse("FROM ONLY", hint_simple);

	if (!catalog_is_stream(rte->relid, &time_attno))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a stream", get_rel_name(rte->relid)),
				 errhint("Make it one first with SELECT streamext.create_stream('%s');",
						 get_rel_name(rte->relid))));

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
	determinism_check((Node *) list_make3(query->targetList, query->jointree->quals,
										  query->havingQual),
					  DETERMINISM_VIEW, query_text);

	*stream_relid = rte->relid;
	return query;
}

/*
 * collect_aggs_walker lists the distinct aggregates of the output and HAVING.
 */
static bool
collect_aggs_walker(Node *node, CollectAggsContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Aggref))
	{
		ListCell   *lc;

		foreach(lc, ctx->aggs)
			if (equal(lfirst(lc), node))
				return false;
		ctx->aggs = lappend(ctx->aggs, node);
		return false;			/* aggregates do not nest */
	}
	return expression_tree_walker(node, collect_aggs_walker, (void *) ctx);
}

/*
 * rewrite_output_mutator turns an output expression into one over the
 * intermediate row: group expressions and aggregates become its columns.
 */
static Node *
rewrite_output_mutator(Node *node, RewriteContext *ctx)
{
	ListCell   *lc;
	int			i;

	if (node == NULL)
		return NULL;
	i = 0;
	foreach(lc, ctx->keyexprs)
	{
		Node	   *key = lfirst(lc);

		i++;
		if (equal(node, key))
			return (Node *) makeVar(1, i, exprType(key), exprTypmod(key),
									exprCollation(key), 0);
	}
	if (IsA(node, Aggref))
	{
		i = 0;
		foreach(lc, ctx->aggs)
		{
			i++;
			if (equal(node, lfirst(lc)))
			{
				Aggref	   *aggref = (Aggref *) node;

				return (Node *) makeVar(1, ctx->nkeys + i, aggref->aggtype, -1,
										aggref->aggcollid, 0);
			}
		}
		elog(ERROR, "streamext: aggregate not found in view plan");
	}
	if (IsA(node, Var))
		elog(ERROR, "streamext: ungrouped column in view output");
	return expression_tree_mutator(node, rewrite_output_mutator, (void *) ctx);
}

/*
 * build_plan does the work of view_plan_build.
 */
static ViewPlan *
build_plan(const ViewCatalogRow *row, Oid owner, MemoryContext parent)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "streamext view",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	ViewPlan   *plan = palloc0(sizeof(ViewPlan));
	Query	   *query = (Query *) stringToNode(row->query_tree);
	CollectAggsContext collect = {NIL};
	RewriteContext rw;
	List	   *keyexprs = NIL;
	Oid		   *eqops;
	ListCell   *lc;
	int			i;
	int			nhashkeys;
	Relation	rel;
	HASHCTL		hctl;
	int			outcol;

	/* before the planner inlines SQL functions: their privileges count too */
	plan->acl.cxt = cxt;
	usercode_acl_add_expr(&plan->acl, (Node *) query->targetList, owner);
	usercode_acl_add_expr(&plan->acl, query->jointree->quals, owner);
	usercode_acl_add_expr(&plan->acl, query->havingQual, owner);

	/*
	 * What the planner would do before execution: insert default arguments,
	 * fold constants, set function OIDs.  Grouping expressions and the target
	 * list go through it alike, so they still match each other.
	 */
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		tle->expr = expression_planner(tle->expr);
	}
	if (query->jointree->quals)
		query->jointree->quals = (Node *) expression_planner((Expr *) query->jointree->quals);
	if (query->havingQual)
		query->havingQual = (Node *) expression_planner((Expr *) query->havingQual);

	plan->cxt = cxt;
	plan->owner = owner;

	plan->id = row->id;
	plan->name = pstrdup(row->name);
	plan->view_relid = row->view_relid;
	plan->stream_relid = row->stream_relid;
	plan->closed_relid = row->closed_relid;
	plan->start_lsn = row->start_lsn;
	plan->lateness_usec = row->lateness_usec;
	plan->retention_usec = row->retention_usec;
	plan->closed_upto = DT_NOBEGIN;
	plan->max_event_time = DT_NOBEGIN;
	window_parse(row->window_text, &plan->window);
	if (!catalog_is_stream(row->stream_relid, &plan->time_attno))
		elog(ERROR, "streamext: view \"%s\" reads relation %u, which is not a stream",
			 row->name, row->stream_relid);

	/* a relation lock keeps the descriptor stable while we compile */
	rel = table_open(row->stream_relid, AccessShareLock);
	table_close(rel, AccessShareLock);

	plan->econtext = CreateStandaloneExprContext();
	plan->aggcontext_node = makeNode(AggState);
	plan->aggcontext_expr = makeNode(ExprContext);
	plan->aggcontext_node->curaggcontext = plan->aggcontext_expr;
	plan->aggcontext_node->tmpcontext = plan->econtext;

	if (query->jointree->quals)
		plan->where = ExecInitQual(make_ands_implicit((Expr *) query->jointree->quals), NULL);

	/* group keys */
	plan->nkeys = list_length(query->groupClause);
	nhashkeys = Max(plan->nkeys, 1);
	plan->keys = palloc0(sizeof(ExprState *) * nhashkeys);
	eqops = palloc0(sizeof(Oid) * nhashkeys);
	plan->key_collations = palloc0(sizeof(Oid) * nhashkeys);
	plan->keydesc = CreateTemplateTupleDesc(nhashkeys);
	i = 0;
	foreach(lc, query->groupClause)
	{
		SortGroupClause *sgc = lfirst_node(SortGroupClause, lc);
		TargetEntry *tle = get_sortgroupclause_tle(sgc, query->targetList);
		Node	   *expr = (Node *) tle->expr;

		keyexprs = lappend(keyexprs, expr);
		plan->keys[i] = ExecInitExpr((Expr *) expr, NULL);
		eqops[i] = sgc->eqop;
		plan->key_collations[i] = exprCollation(expr);
		TupleDescInitEntry(plan->keydesc, i + 1, NULL, exprType(expr),
						   exprTypmod(expr), 0);
		TupleDescInitEntryCollation(plan->keydesc, i + 1, exprCollation(expr));
		i++;
	}
	if (plan->nkeys == 0)
	{
		/* no GROUP BY: one group per window, keyed by a constant */
		eqops[0] = BooleanEqualOperator;
		plan->keys[0] = ExecInitExpr((Expr *) makeBoolConst(true, false), NULL);
		TupleDescInitEntry(plan->keydesc, 1, NULL, BOOLOID, -1, 0);
	}
	plan->keyslot = MakeSingleTupleTableSlot(plan->keydesc, &TTSOpsMinimalTuple);
	/* looked up once: windows are created while decoding, in any state */
	execTuplesHashPrepare(nhashkeys, eqops, &plan->key_eqfuncs, &plan->key_hashfns);
	plan->key_cols = palloc(sizeof(AttrNumber) * nhashkeys);
	for (i = 0; i < nhashkeys; i++)
		plan->key_cols[i] = i + 1;

	/* aggregates */
	collect_aggs_walker((Node *) query->targetList, &collect);
	collect_aggs_walker(query->havingQual, &collect);
	plan->naggs = list_length(collect.aggs);
	plan->aggs = palloc0(sizeof(AggRunner) * Max(plan->naggs, 1));
	plan->agg_skip = palloc0(sizeof(bool) * Max(plan->naggs, 1));
	i = 0;
	foreach(lc, collect.aggs)
		agg_runner_init(plan, &plan->aggs[i++], lfirst_node(Aggref, lc));

	/* the intermediate row: keys, then finalised aggregates */
	plan->interdesc = CreateTemplateTupleDesc(Max(plan->nkeys + plan->naggs, 1));
	i = 0;
	foreach(lc, keyexprs)
	{
		Node	   *expr = lfirst(lc);

		i++;
		TupleDescInitEntry(plan->interdesc, i, NULL, exprType(expr), exprTypmod(expr), 0);
		TupleDescInitEntryCollation(plan->interdesc, i, exprCollation(expr));
	}
	foreach(lc, collect.aggs)
	{
		Aggref	   *aggref = lfirst(lc);

		i++;
		TupleDescInitEntry(plan->interdesc, i, NULL, aggref->aggtype, -1, 0);
	}
	if (i == 0)
		TupleDescInitEntry(plan->interdesc, 1, NULL, BOOLOID, -1, 0);
	plan->interslot = MakeSingleTupleTableSlot(plan->interdesc, &TTSOpsVirtual);

	/* outputs and HAVING over the intermediate row */
	rw.keyexprs = keyexprs;
	rw.aggs = collect.aggs;
	rw.nkeys = plan->nkeys;
	plan->nout = 0;
	foreach(lc, query->targetList)
		if (!((TargetEntry *) lfirst(lc))->resjunk)
			plan->nout++;
	plan->outputs = palloc0(sizeof(ExprState *) * Max(plan->nout, 1));
	outcol = window_has_columns(&plan->window) ? 2 : 0;
	plan->outdesc = CreateTemplateTupleDesc(outcol + plan->nout);
	if (outcol == 2)
	{
		TupleDescInitEntry(plan->outdesc, 1, "window_start", TIMESTAMPTZOID, -1, 0);
		TupleDescInitEntry(plan->outdesc, 2, "window_end", TIMESTAMPTZOID, -1, 0);
	}
	i = 0;
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Node	   *expr;

		if (tle->resjunk)
			continue;
		expr = rewrite_output_mutator((Node *) tle->expr, &rw);
		plan->outputs[i] = ExecInitExpr((Expr *) expr, NULL);
		TupleDescInitEntry(plan->outdesc, outcol + i + 1, tle->resname,
						   exprType((Node *) tle->expr),
						   exprTypmod((Node *) tle->expr), 0);
		i++;
	}
	if (query->havingQual)
	{
		Node	   *having = rewrite_output_mutator(query->havingQual, &rw);

		plan->having = ExecInitQual(make_ands_implicit((Expr *) having), NULL);
	}

	/* the open windows */
	memset(&hctl, 0, sizeof(hctl));
	hctl.keysize = sizeof(TimestampTz);
	hctl.entrysize = sizeof(WindowGroups);
	hctl.hcxt = cxt;
	plan->windows = hash_create("streamext windows", 64, &hctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	plan->corrections = hash_create("streamext corrections", 16, &hctl,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	MemoryContextSwitchTo(old);
	return plan;
}

/*
 * view_plan_free releases a view's windows and its compiled form.
 */
void
view_plan_free(ViewPlan *plan)
{
	HASH_SEQ_STATUS status;
	WindowGroups *wg;

	hash_seq_init(&status, plan->windows);
	while ((wg = hash_seq_search(&status)) != NULL)
		MemoryContextDelete(wg->cxt);
	hash_seq_init(&status, plan->corrections);
	while ((wg = hash_seq_search(&status)) != NULL)
		MemoryContextDelete(wg->cxt);
	FreeExprContext(plan->econtext, true);
	MemoryContextDelete(plan->cxt);
}

/*
 * view_plan_window finds the open window (pane) starting at wstart,
 * creating it with its own memory context (freed whole when it closes).
 */
WindowGroups *
view_plan_window(ViewPlan *plan, TimestampTz wstart, bool create)
{
	WindowGroups *wg;
	bool		found;

	/* events mostly arrive for the window of the event before */
	if (plan->last_window != NULL && plan->last_window->start == wstart)
		return plan->last_window;

	wg = hash_search(plan->windows, &wstart, create ? HASH_ENTER : HASH_FIND, &found);
	if (create && !found)
		window_groups_init(plan, wg, false);
	plan->last_window = wg;
	return wg;
}

/*
 * view_plan_correction finds or creates the late events of a pane (of a
 * session view: of an event time) for windows that are closed already.
 */
WindowGroups *
view_plan_correction(ViewPlan *plan, TimestampTz start)
{
	WindowGroups *wg;
	bool		found;

	wg = hash_search(plan->corrections, &start, HASH_ENTER, &found);
	if (!found)
		window_groups_init(plan, wg, true);
	return wg;
}

/*
 * window_groups_init makes an empty window in a new hash entry, or
 * standalone (for combined panes) when cxt is given.
 */
void
window_groups_init(ViewPlan *plan, WindowGroups *wg, bool correction)
{
	int			nhashkeys = Max(plan->nkeys, 1);
	MemoryContext old;

	wg->cxt = AllocSetContextCreate(plan->cxt, "streamext window",
									ALLOCSET_DEFAULT_SIZES);
	wg->ngroups = 0;
	wg->any_dirty = false;
	wg->changed = NIL;
	wg->changed_lsn = InvalidXLogRecPtr;
	wg->correction = correction;

	old = MemoryContextSwitchTo(wg->cxt);
	wg->groups = BuildTupleHashTableExt(NULL, plan->keydesc, nhashkeys, plan->key_cols,
										plan->key_eqfuncs, plan->key_hashfns,
										plan->key_collations,
										64, 0, wg->cxt, wg->cxt,
										plan->econtext->ecxt_per_tuple_memory,
										false);
	MemoryContextSwitchTo(old);
}

/*
 * view_plan_drop_window forgets a closed window, or corrections applied,
 * and frees its states.
 */
void
view_plan_drop_window(ViewPlan *plan, WindowGroups *wg)
{
	TimestampTz start = wg->start;

	plan->last_window = NULL;
	MemoryContextDelete(wg->cxt);
	hash_search(wg->correction ? plan->corrections : plan->windows, &start,
				HASH_REMOVE, NULL);
}

/*
 * view_plan_group finds or creates the group of keyslot in a window.
 */
ViewGroup *
view_plan_group(ViewPlan *plan, WindowGroups *wg, TupleTableSlot *keyslot,
				bool *isnew)
{
	TupleHashEntry entry;

	entry = LookupTupleHashEntry(wg->groups, keyslot, isnew, NULL);
	if (*isnew)
		entry->additional = view_group_new(plan, wg, entry);
	return (ViewGroup *) entry->additional;
}

/*
 * view_group_new makes a group with initial states for the key of a hash
 * entry of wg; the caller links it to the entry.
 */
ViewGroup *
view_group_new(ViewPlan *plan, WindowGroups *wg, TupleHashEntry entry)
{
	ViewGroup  *gs;

	gs = MemoryContextAllocZero(wg->cxt,
								offsetof(ViewGroup, values) + sizeof(AggValue) * Max(plan->naggs, 1));
	gs->gid = plan->next_gid++;
	gs->key = entry->firstTuple;
	agg_init_values(plan, gs->values, wg->cxt);
	wg->ngroups++;
	return gs;
}

/*
 * apply_event advances the view with one event in slot.  Called
 * for every decoded insert into the view's stream, so it does nothing per
 * event that could be done once.
 */
static void
apply_event(ViewPlan *plan, TupleTableSlot *event, TimestampTz commit_time)
{
	ExprContext *econtext = plan->econtext;
	TupleTableSlot *keyslot = plan->keyslot;
	TimestampTz t;
	TimestampTz pane;
	bool		live;
	bool		late;
	int			i;
	int			nhashkeys = Max(plan->nkeys, 1);
	MemoryContext old;

	ResetExprContext(econtext);
	econtext->ecxt_scantuple = event;
	t = view_plan_note_event_time(plan, event, commit_time);

	if (plan->where && !usercode_qual(plan->owner, plan->where, econtext))
		return;

	old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);

	/*
	 * Every expression first, then the group and its transitions: an
	 * expression failing on this event leaves windows, groups and states
	 * untouched, so the event can be set aside as a whole.
	 */
	ExecClearTuple(keyslot);
	for (i = 0; i < nhashkeys; i++)
	{
		Datum		d = usercode_eval(plan->owner, plan->keys[i], econtext,
										  &keyslot->tts_isnull[i]);

		/* a group's identity on disk is its key's bytes: never compressed */
		if (!keyslot->tts_isnull[i] && TupleDescAttr(plan->keydesc, i)->attlen == -1 &&
			VARATT_IS_EXTENDED(DatumGetPointer(d)))
			d = PointerGetDatum(PG_DETOAST_DATUM_PACKED(d));
		keyslot->tts_values[i] = d;
	}
	ExecStoreVirtualTuple(keyslot);
	for (i = 0; i < plan->naggs; i++)
	{
		AggRunner  *agg = &plan->aggs[i];
		FunctionCallInfo fcinfo = agg->trans_fcinfo;
		int			a;

		plan->agg_skip[i] = (agg->filter &&
							 !usercode_qual(plan->owner, agg->filter, econtext));
		if (plan->agg_skip[i])
			continue;
		for (a = 0; a < agg->numargs; a++)
			fcinfo->args[a + 1].value = usercode_eval(plan->owner, agg->args[a], econtext,
													  &fcinfo->args[a + 1].isnull);
	}

	/* from here on a failure leaves the view's state half-changed */
	plan->mutating = true;
	plan->events++;
	if (plan->window.kind == WINDOW_SESSION)
	{
		/* an event older than the watermark may join closed sessions */
		if (t < plan->closed_upto)
		{
			/* sessions past the retention are gone: a new one would be partial */
			if (t + plan->window.size_usec > view_plan_retained_from(plan))
				advance_group(plan, view_plan_correction(plan, t), NULL);
			plan->late_events++;
			plan->corrections_pending = true;
		}
		else
			session_apply_event(plan, t);
		plan->mutating = false;
		MemoryContextSwitchTo(old);
		return;
	}

	/*
	 * The event updates the state of its pane, which open windows combine,
	 * and, when windows holding the pane are closed already, the pane's
	 * corrections, which the next checkpoint combines into their rows.
	 */
	pane = window_pane_for(&plan->window, t);
	if (plan->window.kind == WINDOW_SLIDING)
		live = (pane >= window_sliding_cutoff(&plan->window, plan->closed_upto));
	else
		live = (window_pane_last_end(&plan->window, pane) > plan->closed_upto);
	late = (window_pane_first_end(&plan->window, pane) <= plan->closed_upto &&
			window_pane_last_end(&plan->window, pane) > view_plan_retained_from(plan));
	if (live)
		advance_group(plan, view_plan_window(plan, pane, true), NULL);
	if (late)
	{
		advance_group(plan, view_plan_correction(plan, pane), NULL);
		plan->corrections_pending = true;
	}
	/*
	 * An event older than a sliding window is in no window ever again, one
	 * older than the retention in no window kept.
	 */
	if (late || !live)
		plan->late_events++;
	plan->mutating = false;
	MemoryContextSwitchTo(old);
}

/*
 * view_plan_note_event_time moves the view's greatest event time with an
 * event, whether or not the event counts: one set aside as a dead letter
 * moves it too, so that the view closes the same windows whether the event
 * failed live or is skipped when the WAL is decoded again.  Returns the
 * event's time.
 */
TimestampTz
view_plan_note_event_time(ViewPlan *plan, TupleTableSlot *event, TimestampTz commit_time)
{
	TimestampTz t = commit_time;

	if (plan->time_attno != InvalidAttrNumber)
	{
		bool		isnull;
		Datum		d = slot_getattr(event, plan->time_attno, &isnull);

		if (!isnull)
			t = DatumGetTimestampTz(d);
	}
	if (t > plan->max_event_time)
	{
		/*
		 * An event time far ahead of its commit (a wrong clock) must not close
		 * every open window: the watermark follows it only up to
		 * streamext.max_future past the commit, which replays the same way.
		 * Backfilled events have no commit time here: now stands in.
		 */
		TimestampTz limit = (commit_time != 0 ? commit_time : GetCurrentTimestamp()) +
			(int64) streamext_max_future_s * USECS_PER_SEC;

		plan->max_event_time = Max(plan->max_event_time, Min(t, limit));
	}
	return t;
}

/*
 * apply_one applies one event to one view, for usercode_isolated, which
 * has put it behind the view owner's gate.
 */
static void
apply_one(void *arg)
{
	IsolatedEvent *ie = arg;

	apply_event(ie->plan, ie->event, ie->commit_time);
}

/*
 * view_plan_apply_isolated applies one event in a subtransaction behind
 * the gate, so that an event failing in this view costs this event of this
 * view.  An event that fails in its expressions, before it changed
 * anything, has changed nothing (APPLY_FAILED): the caller sets it aside as
 * a dead letter, or keeps the one it replays.  One that
 * failed after it began to change the view's states (in a transition or
 * combine function), or that made the transaction take an XID, leaves
 * nothing the caller can continue from (APPLY_REWIND): the caller starts
 * over from the view's last durable state with the event set aside.  Either
 * way failure holds the error.
 */
ApplyResult
view_plan_apply_isolated(ViewPlan *plan, TupleTableSlot *event, TimestampTz commit_time,
						 XLogRecPtr commit_lsn, UserCodeFailure *failure)
{
	IsolatedEvent ie = {plan, event, commit_time};

	if (usercode_isolated(plan->owner, USERCODE_READ_ONLY, apply_one, &ie, failure))
		return APPLY_DONE;
	if (failure->assigned_xid || plan->mutating)
	{
		plan->mutating = false;
		return APPLY_REWIND;
	}
	return APPLY_FAILED;
}

/*
 * view_plan_group_json names a group of a window as JSON, for a dead letter
 * that is not an event (replay_dead_letters leaves those alone): its window,
 * whether late events were being added, and its key as text.  Only the key
 * types' output functions run, no user-defined cast.
 */
char *
view_plan_group_json(ViewPlan *plan, TimestampTz start, TimestampTz end, MinimalTuple key,
					 bool late)
{
	StringInfoData json;
	int			i;

	initStringInfo(&json);
	/* timestamptz_to_str returns a static buffer: one call at a time */
	appendStringInfo(&json, "{\"streamext_window\": {\"window_start\": \"%s\", ",
					 timestamptz_to_str(start));
	appendStringInfo(&json, "\"window_end\": \"%s\", \"late_events\": %s}, \"group\": [",
					 timestamptz_to_str(end), late ? "true" : "false");
	ExecStoreMinimalTuple(key, plan->keyslot, false);
	slot_getallattrs(plan->keyslot);
	for (i = 0; i < plan->nkeys; i++)
	{
		Oid			typoutput;
		bool		isvarlena;

		if (i > 0)
			appendStringInfoString(&json, ", ");
		if (plan->keyslot->tts_isnull[i])
		{
			appendStringInfoString(&json, "null");
			continue;
		}
		getTypeOutputInfo(TupleDescAttr(plan->keydesc, i)->atttypid, &typoutput, &isvarlena);
		escape_json(&json, OidOutputFunctionCall(typoutput, plan->keyslot->tts_values[i]));
	}
	appendStringInfoString(&json, "]}");
	return json.data;
}

/*
 * view_plan_set_aside keeps an event that failed in this view as a dead
 * letter, written at the next checkpoint.
 */
void
view_plan_set_aside(ViewPlan *plan, TupleTableSlot *event, TimestampTz commit_time,
					XLogRecPtr commit_lsn, int sqlerrcode, const char *message)
{
	MemoryContext old = MemoryContextSwitchTo(plan->cxt);
	DeadLetter *dl = palloc(sizeof(DeadLetter));

	/* the event itself, as JSON, for whoever fixes the cause */
	dl->event = usercode_row_json(plan->owner, ExecFetchSlotHeapTupleDatum(event));
	dl->commit_lsn = commit_lsn;
	dl->committed_at = commit_time;
	dl->sqlerrcode = sqlerrcode;
	dl->message = pstrdup(message);
	plan->new_dead_letters = lappend(plan->new_dead_letters, dl);
	plan->dead_letters++;
	MemoryContextSwitchTo(old);
}

/*
 * advance_group applies the event whose keys and arguments are evaluated to
 * its group in wg (or to the group gs given), and marks what changed.
 */
ViewGroup *
advance_group(ViewPlan *plan, WindowGroups *wg, ViewGroup *gs)
{
	bool		isnew;
	int			i;

	if (gs == NULL)
		gs = view_plan_group(plan, wg, plan->keyslot, &isnew);
	for (i = 0; i < plan->naggs; i++)
		if (!plan->agg_skip[i])
			agg_advance(plan, &plan->aggs[i], &gs->values[i], wg->cxt);
	view_group_changed(wg, gs);
	gs->dirty_disk = true;
	gs->changed_lsn = plan->txn_end;
	wg->changed_lsn = Max(wg->changed_lsn, plan->txn_end);
	return gs;
}

/*
 * view_group_changed notes a group to publish: publishing walks the groups
 * changed, not the window's.  The list lives in the window's memory, not in
 * the per-event memory this runs in.
 */
void
view_group_changed(WindowGroups *wg, ViewGroup *gs)
{
	if (!gs->dirty_shmem)
	{
		MemoryContext old = MemoryContextSwitchTo(wg->cxt);

		wg->changed = lappend(wg->changed, gs);
		MemoryContextSwitchTo(old);
		gs->dirty_shmem = true;
	}
	wg->any_dirty = true;
}

/*
 * output_row computes the output row of one group from its keys and
 * states, and returns whether HAVING accepts it.  The states are finalised,
 * so callers pass states they may discard.
 */
static bool
output_row(ViewPlan *plan, TimestampTz wstart, TimestampTz wend,
		   Datum *keys, bool *keynulls, AggValue *values, Datum *out, bool *outnulls)
{
	ExprContext *econtext = plan->econtext;
	TupleTableSlot *slot = plan->interslot;
	MemoryContext old;
	int			i;
	int			outcol = 0;
	bool		having_ok;

	ResetExprContext(econtext);
	old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	ExecClearTuple(slot);
	for (i = 0; i < plan->nkeys; i++)
	{
		slot->tts_values[i] = keys[i];
		slot->tts_isnull[i] = keynulls[i];
	}
	for (i = 0; i < plan->naggs; i++)
		slot->tts_values[plan->nkeys + i] =
			agg_finalize(plan, &plan->aggs[i], &values[i],
						 &slot->tts_isnull[plan->nkeys + i],
						 econtext->ecxt_per_tuple_memory);
	if (plan->nkeys + plan->naggs == 0)
	{
		slot->tts_values[0] = BoolGetDatum(true);
		slot->tts_isnull[0] = false;
	}
	ExecStoreVirtualTuple(slot);
	econtext->ecxt_scantuple = slot;

	having_ok = (plan->having == NULL ||
				 usercode_qual(plan->owner, plan->having, econtext));

	if (window_has_columns(&plan->window))
	{
		out[0] = TimestampTzGetDatum(wstart);
		outnulls[0] = false;
		out[1] = TimestampTzGetDatum(wend);
		outnulls[1] = false;
		outcol = 2;
	}
	for (i = 0; i < plan->nout; i++)
		out[outcol + i] = usercode_eval(plan->owner, plan->outputs[i], econtext,
										&outnulls[outcol + i]);
	MemoryContextSwitchTo(old);
	return having_ok;
}

/*
 * view_plan_event_slot gives the view's slot for events of its stream, made
 * once.
 */
TupleTableSlot *
view_plan_event_slot(ViewPlan *plan)
{
	Relation	rel;
	MemoryContext old;

	if (plan->event_slot != NULL)
		return plan->event_slot;
	rel = table_open(plan->stream_relid, AccessShareLock);
	old = MemoryContextSwitchTo(plan->cxt);
	plan->event_slot = MakeSingleTupleTableSlot(CreateTupleDescCopy(RelationGetDescr(rel)),
												&TTSOpsHeapTuple);
	MemoryContextSwitchTo(old);
	table_close(rel, AccessShareLock);
	return plan->event_slot;
}

/*
 * view_plan_compute builds a view from its catalog row and applies every
 * event of the stream visible to snapshot that other transactions
 * committed: the stream's table, or each partition of a partitioned stream.
 * Events of a stream without a time column need their commit time, which
 * only track_commit_timestamp keeps.  An event that fails is set aside as
 * a dead letter (a WARNING says how many); one that failed with the view's
 * states half changed makes the view be computed again without it.
 */
ViewPlan *
view_plan_compute(const ViewCatalogRow *row, MemoryContext parent, Snapshot snapshot)
{
	List	   *skip = NIL;

	for (;;)
	{
		ViewPlan   *plan = view_plan_build(row, parent);
		ListCell   *lc;
		uint64		set_aside = 0;
		bool		done = true;

		foreach(lc, find_all_inheritors(plan->stream_relid, AccessShareLock, NULL))
			if (get_rel_relkind(lfirst_oid(lc)) == RELKIND_RELATION &&
				!backfill_relation(plan, lfirst_oid(lc), snapshot, &skip))
			{
				done = false;
				break;
			}
		if (!done)
		{
			/* half changed: computed again, with that event set aside */
			view_plan_free(plan);
			continue;
		}

		set_aside = plan->dead_letters;
		if (set_aside > 0)
			ereport(WARNING,
					(errcode(((DeadLetter *) linitial(plan->new_dead_letters))->sqlerrcode),
					 errmsg("%llu event(s) of \"%s\" failed in continuous view \"%s\" and were set aside",
							(unsigned long long) set_aside, get_rel_name(plan->stream_relid),
							plan->name),
					 errdetail("The first failed with: %s",
							   ((DeadLetter *) linitial(plan->new_dead_letters))->message),
					 errhint("They are in streamext.dead_letters; fix the cause, then call streamext.replay_dead_letters('%s').",
							 plan->name)));
		return plan;
	}
}

/*
 * find_skipped finds an event of a backfill among those to set aside.
 */
static BackfillSkip *
find_skipped(List *skip, Oid relid, ItemPointer tid)
{
	ListCell   *lc;

	foreach(lc, skip)
	{
		BackfillSkip *bs = lfirst(lc);

		if (bs->relid == relid && ItemPointerEquals(&bs->tid, tid))
			return bs;
	}
	return NULL;
}

/*
 * backfill_relation applies the events of one table of the stream: the
 * stream itself or one of its partitions, whose rows are converted to the
 * stream's layout where it differs (a column dropped before the partition
 * was created).
 */
static bool
backfill_relation(ViewPlan *plan, Oid relid, Snapshot snapshot, List **skip)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TableScanDesc scan;
	TupleTableSlot *scanslot = table_slot_create(rel, NULL);
	TupleTableSlot *event = view_plan_event_slot(plan);
	TupleDesc	streamdesc = event->tts_tupleDescriptor;
	TupleConversionMap *map = NULL;
	Datum	   *values = NULL;
	bool	   *nulls = NULL;
	bool		need_commit_time = (plan->time_attno == InvalidAttrNumber &&
									plan->window.kind != WINDOW_NONE);
	UserCodeFailure failure;
	ApplyResult result;
	BackfillSkip *skipped;
	/* the events to set aside outlive the plan, which may be built again */
	MemoryContext skip_cxt = MemoryContextGetParent(plan->cxt);

	if (relid != plan->stream_relid)
	{
		map = convert_tuples_by_name(RelationGetDescr(rel), streamdesc);
		values = palloc(sizeof(Datum) * streamdesc->natts);
		nulls = palloc(sizeof(bool) * streamdesc->natts);
	}
	scan = table_beginscan(rel, snapshot, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, scanslot))
	{
		TimestampTz commit_time = 0;
		bool		shouldfree;
		HeapTuple	tup = ExecFetchSlotHeapTuple(scanslot, false, &shouldfree);

		/* the worker applies this transaction's own events at its commit */
		if (TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data)))
		{
			if (shouldfree)
				heap_freetuple(tup);
			continue;
		}

		if (need_commit_time)
		{
			TransactionId xmin = HeapTupleHeaderGetXmin(tup->t_data);

			if (!track_commit_timestamp ||
				!TransactionIdGetCommitTsData(xmin, &commit_time, NULL))
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("cannot compute windows over the events already in stream \"%s\"",
								RelationGetRelationName(rel)),
						 errdetail("The stream has no time column, and the commit time of its existing events is not known."),
						 errhint("Give the stream a time column (streamext.create_stream(..., time_column => ...)), or set track_commit_timestamp = on before the events are inserted.")));
		}
		if (map != NULL)
		{
			/* through the slot, which fills in columns added since with defaults */
			int			i;

			slot_getallattrs(scanslot);
			for (i = 0; i < streamdesc->natts; i++)
			{
				AttrNumber	from = map->attrMap->attnums[i];

				values[i] = from > 0 ? scanslot->tts_values[from - 1] : (Datum) 0;
				nulls[i] = from > 0 ? scanslot->tts_isnull[from - 1] : true;
			}
			if (shouldfree)
				heap_freetuple(tup);
			tup = heap_form_tuple(streamdesc, values, nulls);
			shouldfree = true;
		}
		/* group keys and states must not point into the table's TOAST */
		if (HeapTupleHasExternal(tup))
		{
			HeapTuple	flat = toast_flatten_tuple(tup, map ? streamdesc : RelationGetDescr(rel));

			if (shouldfree)
				heap_freetuple(tup);
			tup = flat;
			shouldfree = true;
		}
		ExecStoreHeapTuple(tup, event, false);
		skipped = find_skipped(*skip, relid, &scanslot->tts_tid);
		if (skipped != NULL)
		{
			(void) view_plan_note_event_time(plan, event, commit_time);
			view_plan_set_aside(plan, event, commit_time, plan->start_lsn,
								skipped->sqlerrcode, skipped->message);
			result = APPLY_DONE;
		}
		else
			result = view_plan_apply_isolated(plan, event, commit_time, plan->start_lsn,
											  &failure);
		if (result == APPLY_FAILED)
		{
			view_plan_set_aside(plan, event, commit_time, plan->start_lsn,
								failure.error->sqlerrcode, failure.error->message);
			FreeErrorData(failure.error);
		}
		else if (result == APPLY_REWIND)
		{
			/* the caller computes the view again without this event */
			MemoryContext old = MemoryContextSwitchTo(skip_cxt);
			BackfillSkip *bs = palloc(sizeof(BackfillSkip));

			bs->relid = relid;
			bs->tid = scanslot->tts_tid;
			bs->sqlerrcode = failure.error ? failure.error->sqlerrcode : ERRCODE_INTERNAL_ERROR;
			bs->message = pstrdup(failure.error ? failure.error->message : "unknown error");
			*skip = lappend(*skip, bs);
			MemoryContextSwitchTo(old);
			if (shouldfree)
				heap_freetuple(tup);
			table_endscan(scan);
			ExecDropSingleTupleTableSlot(scanslot);
			table_close(rel, AccessShareLock);
			return false;
		}
		if (shouldfree)
			heap_freetuple(tup);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(scanslot);
	table_close(rel, AccessShareLock);
	return true;
}

/*
 * group_key_serialize writes the group key in keyslot in datumSerialize()
 * format: the identity of a group on disk and in shared memory.
 */
void
group_key_serialize(ViewPlan *plan, TupleTableSlot *keyslot, StringInfo buf)
{
	int			n = Max(plan->nkeys, 1);
	int			i;

	slot_getallattrs(keyslot);
	for (i = 0; i < n; i++)
	{
		Form_pg_attribute att = TupleDescAttr(plan->keydesc, i);
		Size		sz = datumEstimateSpace(keyslot->tts_values[i], keyslot->tts_isnull[i],
											att->attbyval, att->attlen);
		char	   *p;

		enlargeStringInfo(buf, sz);
		p = buf->data + buf->len;
		datumSerialize(keyslot->tts_values[i], keyslot->tts_isnull[i],
					   att->attbyval, att->attlen, &p);
		buf->len += sz;
		buf->data[buf->len] = '\0';
	}
}

/*
 * group_key_deserialize restores a key written by group_key_serialize into
 * keyslot, as a virtual tuple allocated in the current memory context.
 */
void
group_key_deserialize(ViewPlan *plan, const char *data, Size len,
					  TupleTableSlot *keyslot)
{
	int			n = Max(plan->nkeys, 1);
	char	   *p = (char *) data;
	int			i;

	ExecClearTuple(keyslot);
	for (i = 0; i < n; i++)
		keyslot->tts_values[i] = datumRestore(&p, &keyslot->tts_isnull[i]);
	if (p != data + len)
		elog(ERROR, "streamext: malformed group key");
	ExecStoreVirtualTuple(keyslot);
}

/*
 * view_plan_build compiles a view from its catalog row, as the view's
 * owner.  Must run in a transaction; everything it allocates lives in the
 * plan's own context.
 */
ViewPlan *
view_plan_build(const ViewCatalogRow *row, MemoryContext parent)
{
	Oid			owner = catalog_relation_owner(row->view_relid);
	UserCodeGate gate;
	ViewPlan   *plan;

	usercode_enter(&gate, owner, USERCODE_READ_ONLY);
	plan = build_plan(row, owner, parent);
	usercode_leave(&gate);
	return plan;
}

/*
 * view_plan_apply_event advances the view with one event in slot, behind
 * one gate for the view's owner: the expressions and aggregates of the
 * event run with the owner's rights (usercode.c).
 */
void
view_plan_apply_event(ViewPlan *plan, TupleTableSlot *event, TimestampTz commit_time)
{
	UserCodeGate gate;

	usercode_enter(&gate, plan->owner, USERCODE_READ_ONLY);
	apply_event(plan, event, commit_time);
	usercode_leave(&gate);
}

/*
 * view_plan_output computes the output row of one group, behind the gate
 * for the view's owner; see output_row.
 */
bool
view_plan_output(ViewPlan *plan, TimestampTz wstart, TimestampTz wend,
				 Datum *keys, bool *keynulls, AggValue *values, Datum *out, bool *outnulls)
{
	UserCodeGate gate;
	bool		result;

	usercode_enter(&gate, plan->owner, USERCODE_READ_ONLY);
	result = output_row(plan, wstart, wend, keys, keynulls, values, out, outnulls);
	usercode_leave(&gate);
	return result;
}

/*
 * view_plan_watermark is the event time up to which the view's windows are
 * complete: the greatest event time applied less the view's lateness.
 */
TimestampTz
view_plan_watermark(ViewPlan *plan)
{
	if (TIMESTAMP_NOT_FINITE(plan->max_event_time))
		return plan->max_event_time;
	return plan->max_event_time - plan->lateness_usec;
}

/*
 * view_plan_retained_from is the end before which closed windows are
 * removed (and late events for them no longer count): the view's retention
 * before its closed horizon.
 */
TimestampTz
view_plan_retained_from(ViewPlan *plan)
{
	if (plan->retention_usec == 0 || TIMESTAMP_NOT_FINITE(plan->closed_upto))
		return DT_NOBEGIN;
	return plan->closed_upto - plan->retention_usec;
}
