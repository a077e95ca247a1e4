/*-------------------------------------------------------------------------
 *
 * view_plan.c
 *	  A continuous view compiled for evaluation (ViewPlan), as its owner.
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
#include "access/genam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_proc.h"
#include "commands/extension.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "parser/parsetree.h"
#include "tcop/tcopprot.h"
#include "port/pg_bitutils.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "agg_state.h"
#include "catalog.h"
#include "usercode.h"
#include "view_plan.h"
#include "window.h"

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

static bool collect_aggs_walker(Node *node, CollectAggsContext *ctx);
static Node *rewrite_output_mutator(Node *node, RewriteContext *ctx);
static ViewPlan *build_plan(const ViewCatalogRow *row, Oid owner, MemoryContext parent);
static void plan_source_view(ViewPlan *plan, const ViewCatalogRow *row);
static bool output_row(ViewPlan *plan, TimestampTz wstart, TimestampTz wend,
					   Datum *keys, bool *keynulls,
					   AggValue *values, Datum *out, bool *outnulls);

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
 * plan_source_view sets up a view on a view: its events are the rows of the
 * lower view's closed windows, whose first column is window_start.  Its
 * windows close as the lower view's do, never by a clock of its own.
 */
static void
plan_source_view(ViewPlan *plan, const ViewCatalogRow *row)
{
	ViewCatalogRow *lower = catalog_view_on_relation(row->stream_relid);
	int			depth = 1;
	AttrNumber	time_attno;

	if (lower == NULL)
		elog(ERROR, "streamext: view \"%s\" reads relation %u, which is neither a stream nor a continuous view",
			 row->name, row->stream_relid);
	plan->source_id = lower->id;
	plan->source_closed_relid = lower->closed_relid;
	window_parse(lower->window_text, lower->time_zone, &plan->source_window);
	plan->time_attno = 1;
	plan->idle_timeout_usec = -1;
	/* the chain ends at a view on a stream; a cycle cannot be created */
	while (lower != NULL && !catalog_is_stream(lower->stream_relid, &time_attno))
	{
		lower = catalog_view_on_relation(lower->stream_relid);
		depth++;
	}
	plan->depth = depth;
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
	window_parse(row->window_text, row->time_zone, &plan->window);
	if (catalog_is_stream(row->stream_relid, &plan->time_attno))
		plan->idle_timeout_usec = catalog_stream_idle_timeout(row->stream_relid);
	else if (!row->distributed)
		plan_source_view(plan, row);

	/* a relation lock keeps the descriptor stable while we compile */
	rel = table_open(row->stream_relid, AccessShareLock);
	/* a query that joins tables becomes one over its joined row */
	lookup_join_plan(&plan->joined, query, RelationGetDescr(rel), owner, &plan->acl, cxt);
	table_close(rel, AccessShareLock);

	plan->econtext = CreateStandaloneExprContext();
	plan->aggs.owner = owner;
	plan->aggs.acl = &plan->acl;
	plan->aggs.aggcontext_node = makeNode(AggState);
	plan->aggs.aggcontext_expr = makeNode(ExprContext);
	plan->aggs.aggcontext_node->curaggcontext = plan->aggs.aggcontext_expr;
	plan->aggs.aggcontext_node->tmpcontext = plan->econtext;

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
	plan->key_eqops = eqops;
	plan->key_cols = palloc(sizeof(AttrNumber) * nhashkeys);
	for (i = 0; i < nhashkeys; i++)
		plan->key_cols[i] = i + 1;

	/* aggregates */
	collect_aggs_walker((Node *) query->targetList, &collect);
	collect_aggs_walker(query->havingQual, &collect);
	plan->aggs.naggs = list_length(collect.aggs);
	plan->aggs.runners = palloc0(sizeof(AggRunner) * Max(plan->aggs.naggs, 1));
	plan->agg_skip = palloc0(sizeof(bool) * Max(plan->aggs.naggs, 1));
	i = 0;
	foreach(lc, collect.aggs)
		agg_runner_init(&plan->aggs, &plan->aggs.runners[i++], lfirst_node(Aggref, lc));

	/* the intermediate row: keys, then finalised aggregates */
	plan->interdesc = CreateTemplateTupleDesc(Max(plan->nkeys + plan->aggs.naggs, 1));
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
	plan->output_key = palloc(sizeof(int) * Max(plan->nout, 1));
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
		/* an output that is a key as such: lookups by it go by the key */
		plan->output_key[i] = -1;
		if (IsA(expr, Var) && ((Var *) expr)->varattno <= plan->nkeys &&
			exprType(expr) == exprType((Node *) tle->expr))
			plan->output_key[i] = ((Var *) expr)->varattno - 1;
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

	MemoryContextSwitchTo(old);
	return plan;
}

/*
 * view_plan_build compiles a view from its catalog row, as the view's
 * owner.  Must run in a transaction; everything it allocates lives in the
 * plan's own context.
 */
ViewPlan *
view_plan_build(const ViewCatalogRow *row, MemoryContext parent)
{
	/* a distributed view is compiled before its relation exists */
	Oid			owner = OidIsValid(row->view_relid) ?
		catalog_relation_owner(row->view_relid) : GetUserId();
	UserCodeGate gate;
	ViewPlan   *plan;

	usercode_enter(&gate, owner, USERCODE_READ_ONLY);
	plan = build_plan(row, owner, parent);
	usercode_leave(&gate);
	return plan;
}

/* what build_unchecked builds */
typedef struct UncheckedBuild
{
	const ViewCatalogRow *row;
	Oid			owner;
	MemoryContext parent;
	ViewPlan   *plan;
} UncheckedBuild;

static void
build_unchecked(void *arg)
{
	UncheckedBuild *ub = arg;

	ub->plan = build_plan(ub->row, ub->owner, ub->parent);
}

/*
 * view_plan_build_unchecked is view_plan_build for the worker loading a view
 * whose owner may not execute a function the view calls: compiled without
 * that check, which usercode_acl_ok makes for every event instead (see
 * usercode_compile_unchecked).
 */
ViewPlan *
view_plan_build_unchecked(const ViewCatalogRow *row, MemoryContext parent)
{
	UncheckedBuild ub = {row, catalog_relation_owner(row->view_relid), parent, NULL};

	usercode_compile_unchecked(build_unchecked, &ub);
	usercode_acl_recheck(&ub.plan->acl);
	return ub.plan;
}

/*
 * view_plan_free releases a view's compiled form, and its state with it:
 * the state and its windows live in the plan's memory.
 */
void
view_plan_free(ViewPlan *plan)
{
	FreeExprContext(plan->econtext, true);
	MemoryContextDelete(plan->cxt);
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
	for (i = 0; i < plan->aggs.naggs; i++)
		slot->tts_values[plan->nkeys + i] =
			agg_finalize(&plan->aggs, &plan->aggs.runners[i], &values[i],
						 &slot->tts_isnull[plan->nkeys + i],
						 econtext->ecxt_per_tuple_memory);
	if (plan->nkeys + plan->aggs.naggs == 0)
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
 * extension_version is the installed version of extension extoid
 */
static char *
extension_version(Oid extoid)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	char	   *version = NULL;

	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	if (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tuple, Anum_pg_extension_extversion,
									 RelationGetDescr(rel), &isnull);

		if (!isnull)
			version = TextDatumGetCString(d);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return version ? version : "?";
}

/*
 * view_plan_signature describes what the view of row, compiled as plan,
 * computes and how its states are made, one line per part, so that two
 * servers whose views have the same signature can combine their states
 * (shard_view.c, distributed_view.c) and a difference is named by its
 * line: the server's major version, the query as deparsed with qualified
 * names (on one line), the window, time zone, lateness and retention, the
 * keys' types, and the aggregates by signature (not OID) with their state
 * type and the version of the extension that provides each: states are
 * internal to those versions.
 */
char *
view_plan_signature(ViewPlan *plan, const ViewCatalogRow *row)
{
	StringInfoData buf;
	char	   *query = pstrdup(row->definition ? row->definition : row->query);
	char	   *c;
	int			i;

	for (c = query; *c; c++)
		if (*c == '\n' || *c == '\t')
			*c = ' ';
	initStringInfo(&buf);
	appendStringInfo(&buf, "server %d\n", PG_VERSION_NUM / 10000);
	appendStringInfo(&buf, "query %s\n", query);
	appendStringInfo(&buf, "window %s\n", row->window_text ? row->window_text : "none");
	appendStringInfo(&buf, "time zone %s\n", row->time_zone ? row->time_zone : "none");
	appendStringInfo(&buf, "lateness " INT64_FORMAT " microseconds\n", row->lateness_usec);
	appendStringInfo(&buf, "retention " INT64_FORMAT " microseconds\n", row->retention_usec);
	for (i = 0; i < plan->nkeys; i++)
	{
		Form_pg_attribute key = TupleDescAttr(plan->keydesc, i);

		appendStringInfo(&buf, "key %d %s\n", i + 1,
						 format_type_with_typemod(key->atttypid, key->atttypmod));
	}
	for (i = 0; i < plan->aggs.naggs; i++)
	{
		AggRunner  *agg = &plan->aggs.runners[i];
		Oid			extoid = getExtensionOfObject(ProcedureRelationId, agg->aggfnoid);

		appendStringInfo(&buf, "aggregate %d %s state %s", i + 1,
						 format_procedure_qualified(agg->aggfnoid),
						 format_type_be_qualified(agg->transtype));
		if (OidIsValid(extoid))
			appendStringInfo(&buf, " from %s %s", get_extension_name(extoid),
							 extension_version(extoid));
		appendStringInfoChar(&buf, '\n');
	}
	return buf.data;
}

/*
 * view_plan_wire_signature is the hash of view_plan_signature that partial
 * states carry (agg_wire_write); never 0, which marks a plan without one.
 */
uint32
view_plan_wire_signature(ViewPlan *plan, const ViewCatalogRow *row)
{
	char	   *signature = view_plan_signature(plan, row);
	uint32		hash = hash_bytes((const unsigned char *) signature, strlen(signature));

	return hash != 0 ? hash : 1;
}

/*
 * view_plan_partial_desc is the row of a group's partial states, as a shard
 * view shows them to a coordinator (shard_view.c): window_start,
 * window_end, the group keys, and _state, the states as servers exchange
 * them (agg_wire_write).  Made in the caller's memory context.
 */
TupleDesc
view_plan_partial_desc(ViewPlan *plan)
{
	TupleDesc	desc = CreateTemplateTupleDesc(plan->nkeys + 3);
	int			i;

	TupleDescInitEntry(desc, 1, "window_start", TIMESTAMPTZOID, -1, 0);
	TupleDescInitEntry(desc, 2, "window_end", TIMESTAMPTZOID, -1, 0);
	for (i = 0; i < plan->nkeys; i++)
	{
		Form_pg_attribute key = TupleDescAttr(plan->keydesc, i);

		TupleDescInitEntry(desc, i + 3, NULL, key->atttypid, key->atttypmod, 0);
		TupleDescInitEntryCollation(desc, i + 3, key->attcollation);
	}
	TupleDescInitEntry(desc, plan->nkeys + 3, "_state", BYTEAOID, -1, 0);
	return desc;
}

/*
 * view_plan_partial_output puts the partial row of one group (see
 * view_plan_partial_desc) into out and outnulls, behind the gate for the
 * view's owner: no HAVING, which only the combined states can decide.  A
 * view without window columns shows NULL windows.  The values live in the
 * plan's per-row memory until the next row.
 */
void
view_plan_partial_output(ViewPlan *plan, TimestampTz wstart, TimestampTz wend,
						 Datum *keys, bool *keynulls, AggValue *values,
						 Datum *out, bool *outnulls)
{
	UserCodeGate gate;
	MemoryContext old;
	bool		windowed = window_has_columns(&plan->window);
	int			i;

	ResetExprContext(plan->econtext);
	old = MemoryContextSwitchTo(plan->econtext->ecxt_per_tuple_memory);
	out[0] = TimestampTzGetDatum(wstart);
	outnulls[0] = !windowed;
	out[1] = TimestampTzGetDatum(wend);
	outnulls[1] = !windowed;
	for (i = 0; i < plan->nkeys; i++)
	{
		out[i + 2] = keys[i];
		outnulls[i + 2] = keynulls[i];
	}
	usercode_enter(&gate, plan->owner, USERCODE_READ_ONLY);
	Assert(plan->wire_signature != 0);
	out[plan->nkeys + 2] = PointerGetDatum(agg_wire_bytea(&plan->aggs, values,
														   plan->wire_signature));
	usercode_leave(&gate);
	outnulls[plan->nkeys + 2] = false;
	MemoryContextSwitchTo(old);
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
 * view_plan_key_hash hashes a group key with the hash functions of its
 * GROUP BY equality operators, so that keys equal for the view hash alike
 * whatever their bytes.  Shared memory indexes published groups by it
 * (state_shmem.c), and a lookup by key (view_scan.c) hashes the values it
 * looks for the same way, with fns, the hash functions of their own types
 * where those differ (an int4 looked up in an int8 key: a hash operator
 * family hashes equal values of its types alike), or NULL for the keys'.
 * Type hash functions may be user code: they run as the view's owner.
 */
uint32
view_plan_key_hash(ViewPlan *plan, FmgrInfo *fns, const Datum *values, const bool *isnull)
{
	LOCAL_FCINFO(fcinfo, 1);
	uint32		hash = 0;
	int			i;

	if (fns == NULL)
		fns = plan->key_hashfns;
	for (i = 0; i < plan->nkeys; i++)
	{
		hash = pg_rotate_left32(hash, 1);
		if (isnull[i])
			continue;
		InitFunctionCallInfoData(*fcinfo, &fns[i], 1, plan->key_collations[i], NULL, NULL);
		fcinfo->args[0].value = values[i];
		fcinfo->args[0].isnull = false;
		hash ^= DatumGetUInt32(usercode_call(plan->owner, fcinfo));
	}
	return murmurhash32(hash);
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
