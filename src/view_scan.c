/*-------------------------------------------------------------------------
 *
 * view_scan.c
 *	  Reads of a continuous view by group key, and the planner's statistics
 *	  of a view's keys.
 *
 *	  A continuous view is a plain view over its closed windows' table
 *	  UNION ALL streamext.read_view(id), its open windows.  PostgreSQL pushes
 *	  a query's conditions, and the parameters of a nested loop's inner
 *	  side, through the view and the UNION ALL down to the function's scan.
 *	  There set_rel_pathlist_hook offers a custom scan beside the function
 *	  scan: given every group key column by equality (=, IN, = ANY, or a
 *	  join with an outer column), it hashes the keys asked for and reads
 *	  only their groups from shared memory, through state_shmem.c's index by
 *	  key hash, rather than every group of the view.  The scan keeps every
 *	  condition as a filter: a hash may bring a few other groups.  For a
 *	  tumbling or session view it can also give the open windows in window
 *	  order, making rows only as the consumer takes them (ORDER BY
 *	  window_start DESC LIMIT, merged with the closed table read by index).
 *	  And a read of every group of a view whose groups are its rows makes
 *	  them as the consumer takes them too, in the order they were read:
 *	  read_view, a set-returning function, would first put them all into a
 *	  tuplestore, written to a temporary file past work_mem.
 *
 *	  ExecutorStart_hook pins, as a query that reads views starts, the
 *	  publish all its reads see, so that a cursor reads the views as of its
 *	  DECLARE, with its snapshot.
 *
 *	  get_relation_stats_hook tells the planner how many distinct keys the
 *	  view holds (as the worker last published), so that a lookup and a
 *	  join are estimated for the rows they return.
 *
 *	  Why a custom scan over the function rather than a foreign table: the
 *	  object a user sees stays the view 0.1 made (relkind 'v', same query),
 *	  so no view is converted, ALTER VIEW, grants and dependent views keep
 *	  working, and a dump restores it unchanged; the scan names the view as
 *	  read_view(id) does, by its id, which the dumped catalog keeps.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "lib/qunique.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/planner.h"
#include "optimizer/restrictinfo.h"
#include "parser/parsetree.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"

#include "shmem.h"
#include "state_format.h"
#include "state_shmem.h"
#include "usercode.h"
#include "view_read.h"
#include "view_scan.h"
#include "window.h"

#define LOOKUP_NAME "streamext view lookup"

/*
 * The cost of one key's lookup, in cpu_operator_cost: hashing, the chain in
 * shared memory, and for each probe of a nested loop a read of its own
 * (measured by bench/suite.py's reads: about four groups' worth of a full
 * read, VIEW_GROUP_READ_COST each).
 */
#define KEY_LOOKUP_COST 40
/* fewer lookups than this are made whatever the view's size */
#define MIN_LOOKUPS_TO_COUNT 1000
/* copying a group out of shared memory, in cpu_operator_cost */
#define GROUP_COPY_COST 2
/* how many elements an = ANY whose array is not a constant is taken for */
#define GUESSED_ARRAY_LENGTH 10

/* one key's condition: key = expr, or key = ANY (expr) */
typedef struct KeyLookup
{
	Expr	   *expr;
	bool		is_array;
	Oid			hashfn;			/* hashes expr's values (array's elements) */
	bool		from_join;		/* a join clause of the path's outer side */
	AttrNumber	attno;			/* the column of read_view's rows it gives */
} KeyLookup;

typedef struct ViewScanState
{
	CustomScanState css;
	int32		view_id;
	int			nkeys;
	List	   *key_attnos;		/* the column of each key, as planned */
	List	   *key_collations; /* and its collation */
	List	   *key_states;		/* ExprState of each key's value (or array) */
	bool	   *is_array;
	FmgrInfo   *hashfns;		/* of the values' types */
	int16	   *elmlen;
	bool	   *elmbyval;
	char	   *elmalign;
	Tuplestorestate *store;
	TupleTableSlot *readslot;
	bool		fetched;
	bool		opened;			/* reader checked, at the first read */
	ViewReader	reader;
	/* made rows as asked (lazy): in window order (direction 1 or -1), sorted */
	bool		lazy;
	int			direction;
	MemoryContext scancxt;		/* the groups read, until a rescan */
	MemoryContext batchcxt;		/* rows of the batch */
	MemoryContext rowcxt;
	SharedGroupCopy *groups;	/* as read (view_reader_groups) */
	struct OrderedGroup *ordered;	/* in window order, when read so */
	int64		ngroups;
	int64		next_group;
	Datum	   *batch_values;	/* batch_len rows of the scan's columns */
	bool	   *batch_nulls;
	int			batch_len;
	int			batch_next;
	int			batch_size;
} ViewScanState;

/* a group read, by its window's start */
typedef struct OrderedGroup
{
	TimestampTz start;
	SharedGroupCopy *copy;
} OrderedGroup;

/* rows made behind one gate, at first and at most */
#define FIRST_BATCH 16
#define MAX_BATCH 1024

static planner_hook_type prev_planner = NULL;
static set_rel_pathlist_hook_type prev_set_rel_pathlist = NULL;
static get_relation_stats_hook_type prev_get_relation_stats = NULL;
static ExecutorStart_hook_type prev_executor_start = NULL;

static void view_scan_executor_start(QueryDesc *queryDesc, int eflags);
static bool reads_views(PlanState *ps, void *context);
static const char *reader_function(Oid funcid);

static PlannedStmt *view_scan_planner(Query *parse, const char *query_string,
									  int cursorOptions, ParamListInfo boundParams);
static void view_scan_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti,
							   RangeTblEntry *rte);
static bool view_scan_stats(PlannerInfo *root, RangeTblEntry *rte, AttrNumber attnum,
							VariableStatData *vardata);
static Plan *plan_lookup(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
						 List *tlist, List *clauses, List *custom_plans);
static Node *create_lookup_state(CustomScan *cscan);
static void begin_lookup(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *exec_lookup(CustomScanState *node);
static void end_lookup(CustomScanState *node);
static void rescan_lookup(CustomScanState *node);
static void explain_lookup(CustomScanState *node, List *ancestors, ExplainState *es);

static const CustomPathMethods lookup_path_methods = {
	.CustomName = LOOKUP_NAME,
	.PlanCustomPath = plan_lookup,
};

static const CustomScanMethods lookup_scan_methods = {
	.CustomName = LOOKUP_NAME,
	.CreateCustomScanState = create_lookup_state,
};

static const CustomExecMethods lookup_exec_methods = {
	.CustomName = LOOKUP_NAME,
	.BeginCustomScan = begin_lookup,
	.ExecCustomScan = exec_lookup,
	.EndCustomScan = end_lookup,
	.ReScanCustomScan = rescan_lookup,
	.ExplainCustomScan = explain_lookup,
};

/*
 * view_scan_install installs the planner hooks and the executor's start
 * hook; from _PG_init.
 */
void
view_scan_install(void)
{
	RegisterCustomScanMethods(&lookup_scan_methods);
	prev_planner = planner_hook;
	planner_hook = view_scan_planner;
	prev_set_rel_pathlist = set_rel_pathlist_hook;
	set_rel_pathlist_hook = view_scan_pathlist;
	prev_get_relation_stats = get_relation_stats_hook;
	get_relation_stats_hook = view_scan_stats;
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = view_scan_executor_start;
}

/* the views a plan reads, by id, as reads_views finds them */
typedef struct ViewsRead
{
	int32		ids[8];
	int			n;
} ViewsRead;

/*
 * view_scan_executor_start pins, as a query that reads views starts, the
 * publish its reads are to see (view_read_pin_statement): a cursor reads
 * the views as they were when it was declared, as its snapshot reads
 * tables, not as they are at its first FETCH.
 */
static void
view_scan_executor_start(QueryDesc *queryDesc, int eflags)
{
	ViewsRead	views = {{0}, 0};

	if (prev_executor_start)
		prev_executor_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
	if (!(eflags & EXEC_FLAG_EXPLAIN_ONLY) && StreamextState != NULL)
	{
		(void) reads_views(queryDesc->planstate, &views);
		view_read_pin_statement(queryDesc->estate, views.ids, views.n);
	}
}

/*
 * reads_views notes in *context (a ViewsRead) the views a plan reads, by
 * the scans that read them: read_view(id) or read_partials(id) with a
 * constant id, or the lookup scan in their stead (the plan's range table
 * no longer names the functions it calls: the plan nodes do).  The first
 * eight are enough to find one the caller may read.
 */
static bool
reads_views(PlanState *ps, void *context)
{
	ViewsRead  *views = context;

	if (ps == NULL || views->n == lengthof(views->ids))
		return false;
	if (IsA(ps, CustomScanState) &&
		((CustomScanState *) ps)->methods == &lookup_exec_methods)
		views->ids[views->n++] = ((ViewScanState *) ps)->view_id;
	else if (IsA(ps, FunctionScanState))
	{
		ListCell   *lc;

		foreach(lc, ((FunctionScan *) ps->plan)->functions)
		{
			FuncExpr   *call = (FuncExpr *) ((RangeTblFunction *) lfirst(lc))->funcexpr;
			Const	   *arg;

			if (!IsA(call, FuncExpr) || list_length(call->args) != 1 ||
				!IsA(linitial(call->args), Const) || reader_function(call->funcid) == NULL)
				continue;
			arg = linitial(call->args);
			if (!arg->constisnull && arg->consttype == INT4OID &&
				views->n < lengthof(views->ids))
				views->ids[views->n++] = DatumGetInt32(arg->constvalue);
		}
	}
	return planstate_tree_walker(ps, reads_views, context);
}

/*
 * reader_function is "read_view" or "read_partials" if funcid is
 * streamext's function of that name, known by the C symbol it runs (only
 * a superuser makes a C function), not by its name: any role may name a
 * function of its own so, in a schema it calls streamext.  NULL otherwise.
 */
static const char *
reader_function(Oid funcid)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	const char *result = NULL;

	if (!HeapTupleIsValid(tuple))
		return NULL;
	if (((Form_pg_proc) GETSTRUCT(tuple))->prolang == ClanguageId)
	{
		bool		isnull;
		Datum		src = SysCacheGetAttr(PROCOID, tuple, Anum_pg_proc_prosrc, &isnull);

		if (!isnull)
		{
			char	   *symbol = TextDatumGetCString(src);

			if (strcmp(symbol, "streamext_read_view") == 0)
				result = "read_view";
			else if (strcmp(symbol, "streamext_read_partials") == 0)
				result = "read_partials";
			pfree(symbol);
		}
	}
	ReleaseSysCache(tuple);
	return result;
}

/*
 * view_scan_planner numbers each planning, within which view_read_plan
 * keeps the plans it found for the hooks below.
 */
static PlannedStmt *
view_scan_planner(Query *parse, const char *query_string, int cursorOptions,
				  ParamListInfo boundParams)
{
	uint64		outer = view_read_planning_begins();
	PlannedStmt *result;

	PG_TRY();
	{
		if (prev_planner)
			result = prev_planner(parse, query_string, cursorOptions, boundParams);
		else
			result = standard_planner(parse, query_string, cursorOptions, boundParams);
	}
	PG_FINALLY();
	{
		view_read_planning_ends(outer);
	}
	PG_END_TRY();
	return result;
}

/*
 * read_view_call is the view id of a range table entry that is a call of
 * streamext.read_view(id) with a constant id and a column definition
 * list, as every continuous view's query has; -1 for any other.
 */
static int32
read_view_call(RangeTblEntry *rte)
{
	RangeTblFunction *rtfunc;
	FuncExpr   *call;
	Const	   *arg;
	const char *name;
	bool		ours;

	if (StreamextState == NULL || rte->rtekind != RTE_FUNCTION ||
		list_length(rte->functions) != 1 || rte->funcordinality)
		return -1;
	rtfunc = linitial(rte->functions);
	if (!IsA(rtfunc->funcexpr, FuncExpr) || rtfunc->funccoltypes == NIL)
		return -1;
	call = (FuncExpr *) rtfunc->funcexpr;
	if (call->funcresulttype != RECORDOID || list_length(call->args) != 1 ||
		!IsA(linitial(call->args), Const))
		return -1;
	arg = linitial(call->args);
	if (arg->constisnull || arg->consttype != INT4OID)
		return -1;
	name = reader_function(call->funcid);
	ours = (name != NULL && strcmp(name, "read_view") == 0);
	return ours ? DatumGetInt32(arg->constvalue) : -1;
}

/* key_of_column is the key a column of read_view's rows shows, or -1 */
static int
key_of_column(ViewPlan *plan, AttrNumber attno)
{
	int			output = attno - 1 - (window_has_columns(&plan->window) ? 2 : 0);

	if (attno <= 0 || output < 0 || output >= plan->nout)
		return -1;
	return plan->output_key[output];
}

/*
 * key_var is the key that node (a column of the scanned rel) shows, or -1;
 * its column in *attno if not NULL.
 */
static int
key_var(ViewPlan *plan, Index relid, Node *node, AttrNumber *attno)
{
	while (node != NULL && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (node == NULL || !IsA(node, Var) || ((Var *) node)->varno != relid ||
		((Var *) node)->varlevelsup != 0)
		return -1;
	if (attno != NULL)
		*attno = ((Var *) node)->varattno;
	return key_of_column(plan, ((Var *) node)->varattno);
}

/*
 * lookup_value says whether expr can give a key to look up: computed
 * before the scan from constants, parameters and outer columns.
 */
static bool
lookup_value(PlannerInfo *root, Index relid, Node *expr)
{
	return !bms_is_member(relid, pull_varnos(root, expr)) &&
		!contain_volatile_functions(expr) && !contain_subplans(expr);
}

/*
 * match_key_clause notes in lookups the key a clause gives, if it is
 * key = value or key = ANY (array) with an equality operator of the hash
 * operator family of the view's GROUP BY equality: the key's own, or a
 * cross-type one such as int8 = int4, whose values hash alike.
 */
static void
match_key_clause(PlannerInfo *root, ViewPlan *plan, Index relid, RestrictInfo *rinfo,
				 bool from_join, KeyLookup *lookups)
{
	Node	   *clause = (Node *) rinfo->clause;
	Node	   *value = NULL;
	Oid			opno;
	Oid			collid;
	Oid			lefthash;
	Oid			righthash;
	Oid			keyhash;
	Oid			valuehash;
	bool		is_array = false;
	bool		key_left;
	AttrNumber	attno = InvalidAttrNumber;
	int			k;

	if (rinfo->pseudoconstant)
		return;
	if (IsA(clause, OpExpr) && list_length(((OpExpr *) clause)->args) == 2)
	{
		OpExpr	   *op = (OpExpr *) clause;

		opno = op->opno;
		collid = op->inputcollid;
		key_left = (k = key_var(plan, relid, linitial(op->args), &attno)) >= 0;
		if (!key_left && (k = key_var(plan, relid, lsecond(op->args), &attno)) < 0)
			return;
		value = key_left ? lsecond(op->args) : linitial(op->args);
	}
	else if (IsA(clause, ScalarArrayOpExpr) && ((ScalarArrayOpExpr *) clause)->useOr)
	{
		ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) clause;

		opno = saop->opno;
		collid = saop->inputcollid;
		key_left = true;
		if ((k = key_var(plan, relid, linitial(saop->args), &attno)) < 0)
			return;
		value = lsecond(saop->args);
		is_array = true;
	}
	else
		return;
	if (lookups[k].expr != NULL || !get_op_hash_functions(opno, &lefthash, &righthash))
		return;
	keyhash = key_left ? lefthash : righthash;
	valuehash = key_left ? righthash : lefthash;
	if (keyhash != plan->key_hashfns[k].fn_oid ||
		(OidIsValid(plan->key_collations[k]) && collid != plan->key_collations[k]) ||
		!lookup_value(root, relid, value))
		return;
	lookups[k].expr = (Expr *) value;
	lookups[k].is_array = is_array;
	lookups[k].hashfn = valuehash;
	lookups[k].from_join = from_join;
	lookups[k].attno = attno;
}

/*
 * window_start_pathkeys is the order by window_start (read_view's first
 * column) ascending (direction 1) or descending (-1), if the query has a
 * use for it; NIL otherwise.
 */
static List *
window_start_pathkeys(PlannerInfo *root, RelOptInfo *rel, int direction)
{
	TypeCacheEntry *type = lookup_type_cache(TIMESTAMPTZOID, TYPECACHE_LT_OPR | TYPECACHE_GT_OPR);
	Var		   *var = makeVar(rel->relid, 1, TIMESTAMPTZOID, -1, InvalidOid, 0);

	return build_expression_pathkey(root, (Expr *) var, NULL,
									direction > 0 ? type->lt_opr : type->gt_opr,
									rel->relids, false);
}

/* rows_are_groups says whether each group of a view is one of its rows */
static bool
rows_are_groups(ViewPlan *plan)
{
	return plan->window.kind == WINDOW_NONE || plan->window.kind == WINDOW_TUMBLING ||
		plan->window.kind == WINDOW_SESSION;
}

/*
 * add_lookup_path adds a lookup path to rel if the clauses give every key
 * of the view; ppi, if given, is the path's parameterization, whose join
 * clauses count too (and must give a key, or the path is no better than
 * the unparameterized one).  Without keys nor parameterization, it adds a
 * read of every group, in window order (direction 1 or -1), or in no
 * order (0) for a view whose groups are its rows.
 */
static void
add_lookup_path(PlannerInfo *root, RelOptInfo *rel, ViewPlan *plan, int32 view_id,
				ParamPathInfo *ppi, int direction)
{
	KeyLookup  *lookups = palloc0(sizeof(KeyLookup) * plan->nkeys);
	CustomPath *path;
	List	   *exprs = NIL;
	List	   *arrays = NIL;
	List	   *hashfns = NIL;
	List	   *attnos = NIL;
	List	   *collations = NIL;
	double		nlookups = 1;
	double		copied;
	bool		any_join = false;
	bool		keyed = true;
	List	   *pathkeys = NIL;
	ListCell   *lc;
	int			k;

	foreach(lc, rel->baserestrictinfo)
		match_key_clause(root, plan, rel->relid, lfirst(lc), false, lookups);
	if (ppi != NULL)
		foreach(lc, ppi->ppi_clauses)
			match_key_clause(root, plan, rel->relid, lfirst(lc), true, lookups);
	for (k = 0; k < plan->nkeys; k++)
		keyed &= (lookups[k].expr != NULL);
	/* a lookup, or every group: in window order, or as rows one by one */
	if (!keyed && (ppi != NULL || (direction == 0 && !rows_are_groups(plan))))
		return;
	for (k = 0; keyed && k < plan->nkeys; k++)
	{
		any_join |= lookups[k].from_join;
		exprs = lappend(exprs, lookups[k].expr);
		arrays = lappend_int(arrays, lookups[k].is_array);
		hashfns = lappend_oid(hashfns, lookups[k].hashfn);
		attnos = lappend_int(attnos, lookups[k].attno);
		collations = lappend_oid(collations, plan->key_collations[k]);
		if (lookups[k].is_array)
		{
			Node	   *arr = (Node *) lookups[k].expr;

			if (IsA(arr, Const) && !((Const *) arr)->constisnull)
				nlookups *= ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(((Const *) arr)->constvalue)),
										   ARR_DIMS(DatumGetArrayTypeP(((Const *) arr)->constvalue)));
			else
				nlookups *= GUESSED_ARRAY_LENGTH;
		}
	}
	if (ppi != NULL && !any_join)
		return;
	if (direction != 0 &&
		(pathkeys = window_start_pathkeys(root, rel, direction)) == NIL)
		return;

	path = makeNode(CustomPath);
	path->path.pathtype = T_CustomScan;
	path->path.parent = rel;
	path->path.pathtarget = rel->reltarget;
	path->path.param_info = ppi;
	path->path.parallel_aware = false;
	path->path.parallel_safe = false;
	path->path.parallel_workers = 0;
	path->path.rows = ppi != NULL ? ppi->ppi_rows : rel->rows;
	/* as read_view's cost (view_read.c), but for the groups looked up */
	path->path.startup_cost = keyed ? nlookups * KEY_LOOKUP_COST * cpu_operator_cost : 0;
	path->path.total_cost = path->path.rows *
		(cpu_tuple_cost + cpu_operator_cost * list_length(rel->baserestrictinfo));
	if (keyed && direction == 0)
		path->path.startup_cost += path->path.rows * VIEW_GROUP_READ_COST * cpu_operator_cost;
	else if (direction == 0)
	{
		/*
		 * read_view's own cost, less its tuplestore, row by row: every group
		 * is made a row and filtered, as a function scan's rows are.
		 */
		copied = Max(rel->tuples, 1);
		path->path.startup_cost += copied * GROUP_COPY_COST * cpu_operator_cost;
		path->path.total_cost = path->path.rows * cpu_tuple_cost +
			copied * (VIEW_GROUP_READ_COST - GROUP_COPY_COST - 1 +
					  list_length(rel->baserestrictinfo)) * cpu_operator_cost;
	}
	else
	{
		/* the groups are copied and sorted first, and made rows as asked */
		copied = keyed ? path->path.rows : Max(rel->tuples, 1);
		path->path.startup_cost += copied * (GROUP_COPY_COST + log2(copied)) * cpu_operator_cost;
		path->path.total_cost += path->path.rows * VIEW_GROUP_READ_COST * cpu_operator_cost;
	}
	path->path.total_cost += path->path.startup_cost;
	path->path.pathkeys = pathkeys;
	path->flags = 0;
	path->custom_paths = NIL;
	path->custom_private = list_make5(exprs, arrays, hashfns, attnos, collations);
	path->custom_private = lappend(path->custom_private, makeInteger(direction));
	path->custom_private = lappend(path->custom_private, makeInteger(!keyed || direction != 0));
	path->methods = &lookup_path_methods;
	add_path(rel, &path->path);
}

/*
 * join_parameterizations adds to ppis the parameterization of rel by the
 * outer side of each join clause that can be moved to it.
 */
static List *
join_parameterizations(PlannerInfo *root, RelOptInfo *rel, List *clauses, List *ppis)
{
	ListCell   *lc;

	foreach(lc, clauses)
	{
		RestrictInfo *rinfo = lfirst(lc);
		Relids		outer;

		if (!join_clause_is_movable_to(rinfo, rel))
			continue;
		outer = bms_del_member(bms_union(rinfo->clause_relids, rel->lateral_relids),
							   rel->relid);
		if (!bms_is_empty(outer))
			ppis = list_append_unique_ptr(ppis, get_baserel_parampathinfo(root, rel, outer));
	}
	return ppis;
}

/* ec_member_is_key finds the view's key columns in equivalence classes */
static bool
ec_member_is_key(PlannerInfo *root, RelOptInfo *rel, EquivalenceClass *ec,
				 EquivalenceMember *em, void *arg)
{
	return key_var((ViewPlan *) arg, rel->relid, (Node *) em->em_expr, NULL) >= 0;
}

/*
 * view_scan_pathlist offers lookup paths for a scan of read_view(id): one
 * for the query's own conditions, one per outer side whose join clauses
 * give the keys (found as postgres_fdw finds its parameterized paths).
 */
static void
view_scan_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti, RangeTblEntry *rte)
{
	int32		view_id;
	ViewPlan   *plan;
	Bitmapset  *attrs = NULL;
	List	   *ppis = NIL;
	ListCell   *lc;

	if (prev_set_rel_pathlist)
		prev_set_rel_pathlist(root, rel, rti, rte);
	if (rel->reloptkind != RELOPT_BASEREL && rel->reloptkind != RELOPT_OTHER_MEMBER_REL)
		return;
	if ((view_id = read_view_call(rte)) < 0 || (plan = view_read_plan(view_id)) == NULL ||
		plan->nkeys == 0)
		return;

	/*
	 * Not under UPDATE, DELETE or row locks: their EvalPlanQual recheck asks
	 * a scan without a relation of its own (scanrelid 0) for its rows
	 * through its recheck method, which this scan cannot answer as a
	 * function scan does (the rows of a concurrently updated target went
	 * missing from UPDATE ... FROM a view).
	 */
	if (root->parse->resultRelation != 0 || root->rowMarks != NIL)
		return;
	/* the scan's rows are the function's columns: no whole-row reference */
	pull_varattnos((Node *) rel->reltarget->exprs, rel->relid, &attrs);
	foreach(lc, rel->baserestrictinfo)
		pull_varattnos((Node *) ((RestrictInfo *) lfirst(lc))->clause, rel->relid, &attrs);
	if (bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, attrs))
		return;

	/* in LATERAL a scan must be parameterized by what it refers to */
	if (bms_is_empty(rel->lateral_relids))
	{
		add_lookup_path(root, rel, plan, view_id, NULL, 0);
		/* a view whose groups are its rows can give them in window order */
		if (plan->window.kind == WINDOW_TUMBLING || plan->window.kind == WINDOW_SESSION)
		{
			add_lookup_path(root, rel, plan, view_id, NULL, 1);
			add_lookup_path(root, rel, plan, view_id, NULL, -1);
		}
	}

	ppis = join_parameterizations(root, rel, rel->joininfo, NIL);
	if (rel->has_eclass_joins)
		ppis = join_parameterizations(root, rel,
									  generate_implied_equalities_for_column(root, rel,
																			 ec_member_is_key, plan,
																			 rel->lateral_referencers),
									  ppis);
	foreach(lc, ppis)
		add_lookup_path(root, rel, plan, view_id, lfirst(lc), 0);
}

/*
 * plan_lookup makes the scan of a lookup path.  It scans no relation
 * (scanrelid 0): its rows are described by custom_scan_tlist, the
 * function's columns, as a join pushed down to a foreign server is.
 */
static Plan *
plan_lookup(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
			List *tlist, List *clauses, List *custom_plans)
{
	CustomScan *cscan = makeNode(CustomScan);
	RangeTblEntry *rte = planner_rt_fetch(rel->relid, root);
	RangeTblFunction *rtfunc = linitial(rte->functions);
	List	   *scan_tlist = NIL;
	int			i;

	for (i = 0; i < list_length(rtfunc->funccoltypes); i++)
	{
		Var		   *var = makeVar(rel->relid, i + 1,
								  list_nth_oid(rtfunc->funccoltypes, i),
								  list_nth_int(rtfunc->funccoltypmods, i),
								  list_nth_oid(rtfunc->funccolcollations, i), 0);

		scan_tlist = lappend(scan_tlist, makeTargetEntry((Expr *) var, i + 1, NULL, false));
	}
	cscan->scan.plan.targetlist = tlist;
	/* every condition stays: a key hash may bring other groups along */
	cscan->scan.plan.qual = extract_actual_clauses(clauses, false);
	cscan->scan.scanrelid = 0;
	cscan->custom_scan_tlist = scan_tlist;
	cscan->custom_exprs = copyObject(linitial(best_path->custom_private));
	cscan->custom_private = list_make5(makeInteger(read_view_call(rte)),
									   lsecond(best_path->custom_private),
									   lthird(best_path->custom_private),
									   lfourth(best_path->custom_private),
									   list_nth(best_path->custom_private, 4));
	/* read_view's own: its EXECUTE is checked as a function scan would */
	cscan->custom_private = lappend(cscan->custom_private,
									list_make1_oid(((FuncExpr *) rtfunc->funcexpr)->funcid));
	cscan->custom_private = lappend(cscan->custom_private,
									list_nth(best_path->custom_private, 5));
	cscan->custom_private = lappend(cscan->custom_private,
									list_nth(best_path->custom_private, 6));
	cscan->methods = &lookup_scan_methods;
	return &cscan->scan.plan;
}

static Node *
create_lookup_state(CustomScan *cscan)
{
	ViewScanState *vss = palloc0(sizeof(ViewScanState));

	NodeSetTag(vss, T_CustomScanState);
	vss->css.methods = &lookup_exec_methods;
	vss->view_id = intVal(linitial(cscan->custom_private));
	return (Node *) vss;
}

static void
begin_lookup(CustomScanState *node, EState *estate, int eflags)
{
	ViewScanState *vss = (ViewScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	List	   *arrays = lsecond(cscan->custom_private);
	List	   *hashfns = lthird(cscan->custom_private);
	Oid			funcid = linitial_oid(list_nth(cscan->custom_private, 5));
	AclResult	aclresult;
	ListCell   *lc;
	int			k = 0;

	/* what ExecInitFunctionScan checks of read_view, which this scan replaces */
	aclresult = pg_proc_aclcheck(funcid, GetUserId(), ACL_EXECUTE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FUNCTION, get_func_name(funcid));
	InvokeFunctionExecuteHook(funcid);

	vss->direction = intVal(list_nth(cscan->custom_private, 6));
	vss->lazy = intVal(list_nth(cscan->custom_private, 7));
	if (vss->lazy)
	{
		vss->scancxt = AllocSetContextCreate(estate->es_query_cxt, "streamext ordered read",
											 ALLOCSET_DEFAULT_SIZES);
		vss->batchcxt = AllocSetContextCreate(estate->es_query_cxt, "streamext read batch",
											  ALLOCSET_DEFAULT_SIZES);
		vss->rowcxt = AllocSetContextCreate(estate->es_query_cxt, "streamext read row",
											ALLOCSET_DEFAULT_SIZES);
	}
	vss->key_attnos = lfourth(cscan->custom_private);
	vss->key_collations = list_nth(cscan->custom_private, 4);
	vss->nkeys = list_length(cscan->custom_exprs);
	vss->key_states = ExecInitExprList(cscan->custom_exprs, (PlanState *) node);
	vss->is_array = palloc0(sizeof(bool) * vss->nkeys);
	vss->hashfns = palloc0(sizeof(FmgrInfo) * vss->nkeys);
	vss->elmlen = palloc0(sizeof(int16) * vss->nkeys);
	vss->elmbyval = palloc0(sizeof(bool) * vss->nkeys);
	vss->elmalign = palloc0(sizeof(char) * vss->nkeys);
	foreach(lc, cscan->custom_exprs)
	{
		vss->is_array[k] = list_nth_int(arrays, k);
		fmgr_info(list_nth_oid(hashfns, k), &vss->hashfns[k]);
		if (vss->is_array[k])
			get_typlenbyvalalign(get_element_type(exprType(lfirst(lc))),
								 &vss->elmlen[k], &vss->elmbyval[k], &vss->elmalign[k]);
		k++;
	}
	vss->readslot = ExecAllocTableSlot(&estate->es_tupleTable,
									   node->ss.ss_ScanTupleSlot->tts_tupleDescriptor,
									   &TTSOpsMinimalTuple);
}

/* uint32_cmp orders key hashes for qsort */
static int
uint32_cmp(const void *a, const void *b)
{
	uint32		x = *(const uint32 *) a;
	uint32		y = *(const uint32 *) b;

	return (x > y) - (x < y);
}

/*
 * key_hashes evaluates the keys asked for and hashes every combination of
 * them (a NULL asks for nothing: key = NULL is never true).  Returns how
 * many distinct hashes; -1 if the view's keys are no longer those the
 * plan was made for (replace_view does not invalidate a plan that calls
 * read_view itself): then every group is read, and the filter decides.
 */
static int
key_hashes(ViewScanState *vss, uint32 **hashes, UserCodeGate *gate)
{
	ExprContext *econtext = vss->css.ss.ps.ps_ExprContext;
	ViewPlan   *plan = vss->reader.plan;
	int			nkeys = vss->nkeys;
	Datum	  **values = palloc(sizeof(Datum *) * nkeys);
	int		   *counts = palloc(sizeof(int) * nkeys);
	int		   *pos = palloc0(sizeof(int) * nkeys);
	Datum	   *key = palloc(sizeof(Datum) * nkeys);
	bool	   *nulls = palloc0(sizeof(bool) * nkeys);
	int64		total = 1;
	int			n = 0;
	int			k;
	ListCell   *lc;
	ViewStats	stats;

	if (plan->nkeys != nkeys)
		return -1;
	for (k = 0; k < nkeys; k++)
		if (key_of_column(plan, list_nth_int(vss->key_attnos, k)) != k ||
			plan->key_collations[k] != list_nth_oid(vss->key_collations, k))
			return -1;
	k = 0;
	foreach(lc, vss->key_states)
	{
		bool		isnull;

		/*
		 * The caller's own expressions, evaluated as the filter evaluates
		 * them (with the caller's rights and settings): behind the gate,
		 * search_path or transaction_read_only would differ, and the groups
		 * looked up would not be those the filter keeps.
		 */
		Datum		d = usercode_eval_callers(lfirst(lc), econtext, &isnull);

		counts[k] = 0;
		if (isnull)
			;
		else if (!vss->is_array[k])
		{
			values[k] = palloc(sizeof(Datum));
			values[k][0] = d;
			counts[k] = 1;
		}
		else
		{
			ArrayType  *arr = DatumGetArrayTypeP(d);
			bool	   *elnulls;
			Datum	   *elems;
			int			nelems;
			int			i;

			deconstruct_array(arr, ARR_ELEMTYPE(arr), vss->elmlen[k], vss->elmbyval[k],
							  vss->elmalign[k], &elems, &elnulls, &nelems);
			values[k] = palloc(sizeof(Datum) * Max(nelems, 1));
			for (i = 0; i < nelems; i++)
				if (!elnulls[i])
					values[k][counts[k]++] = elems[i];
		}
		total *= counts[k];
		k++;
	}
	/*
	 * More combinations of keys than the view has groups (arrays given as
	 * parameters can be any size): reading every group costs less.
	 */
	if (total > MaxAllocSize / sizeof(uint32) ||
		(total > MIN_LOOKUPS_TO_COUNT && vss->reader.slot != NULL &&
		 state_shmem_get_stats(vss->reader.slot, vss->view_id, &stats) &&
		 total > stats.groups))
		return -1;
	*hashes = palloc(sizeof(uint32) * Max(total, 1));
	if (total == 0)
		return 0;

	/*
	 * The key types' hash functions run as the view's owner; the gate stays
	 * for the read that follows (fetch_rows), which runs behind it too:
	 * one gate per probe of a nested loop, not two.
	 */
	usercode_enter(gate, plan->owner, USERCODE_READ_ONLY);
	for (;;)
	{
		for (k = 0; k < nkeys; k++)
			key[k] = values[k][pos[k]];
		(*hashes)[n++] = view_plan_key_hash(plan, vss->hashfns, key, nulls);
		for (k = nkeys - 1; k >= 0; k--)
		{
			if (++pos[k] < counts[k])
				break;
			pos[k] = 0;
		}
		if (k < 0)
			break;
	}
	qsort(*hashes, n, sizeof(uint32), uint32_cmp);
	return qunique(*hashes, n, sizeof(uint32), uint32_cmp);
}

/* fetch_rows reads the groups of the keys asked for (or all) into the scan's store */
static void
fetch_rows(ViewScanState *vss)
{
	ExprContext *econtext = vss->css.ss.ps.ps_ExprContext;
	MemoryContext old = MemoryContextSwitchTo(vss->css.ss.ps.state->es_query_cxt);
	uint32	   *hashes = NULL;
	int			n;
	UserCodeGate gate;

	if (!vss->opened)
		view_reader_open(&vss->reader, vss->view_id, vss->readslot->tts_tupleDescriptor,
						 vss->css.ss.ps.state);
	vss->opened = true;
	vss->store = tuplestore_begin_heap(false, false, work_mem);
	ResetExprContext(econtext);
	MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	gate.entered = false;
	/* every group, when a read of all of them found its view changed */
	n = vss->nkeys > 0 ? key_hashes(vss, &hashes, &gate) : -1;
	view_reader_read(&vss->reader, hashes, n, vss->store, vss->readslot->tts_tupleDescriptor);
	if (gate.entered)
		usercode_leave(&gate);
	MemoryContextSwitchTo(old);
	ResetExprContext(econtext);
	vss->fetched = true;
}

/* ordered_cmp orders groups by window start, ascending */
static int
ordered_cmp(const void *a, const void *b)
{
	TimestampTz x = ((const OrderedGroup *) a)->start;
	TimestampTz y = ((const OrderedGroup *) b)->start;

	return (x > y) - (x < y);
}

/*
 * fetch_groups reads the groups of the keys asked for (or all of them),
 * sorted by window start for a read in window order; fill_batch makes them
 * rows, as many as the consumer takes (a LIMIT stops it early).
 */
static void
fetch_groups(ViewScanState *vss)
{
	ExprContext *econtext = vss->css.ss.ps.ps_ExprContext;
	MemoryContext old = MemoryContextSwitchTo(vss->css.ss.ps.state->es_query_cxt);
	uint32	   *hashes = NULL;
	int			n = -1;
	UserCodeGate gate;
	int64		i;

	if (!vss->opened)
		view_reader_open(&vss->reader, vss->view_id, vss->readslot->tts_tupleDescriptor,
						 vss->css.ss.ps.state);
	vss->opened = true;

	/*
	 * A plan that calls read_view itself outlives replace_view: a view
	 * whose groups are no longer its rows is read through read_view's own
	 * path, or, in window order, not at all.
	 */
	if (!rows_are_groups(vss->reader.plan) || vss->reader.plan->nkeys == 0)
	{
		if (vss->direction != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("continuous view \"%s\" changed since this query was planned",
							vss->reader.plan->name),
					 errhint("Prepare the statement again.")));
		vss->lazy = false;
		MemoryContextSwitchTo(old);
		fetch_rows(vss);
		return;
	}
	MemoryContextReset(vss->scancxt);
	ResetExprContext(econtext);
	gate.entered = false;
	if (vss->nkeys > 0)
	{
		MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
		n = key_hashes(vss, &hashes, &gate);
	}
	MemoryContextSwitchTo(vss->scancxt);
	vss->groups = view_reader_groups(&vss->reader, hashes, n, &vss->ngroups);
	if (gate.entered)
		usercode_leave(&gate);
	vss->ordered = NULL;
	if (vss->direction != 0)
	{
		vss->ordered = palloc_extended(sizeof(OrderedGroup) * Max(vss->ngroups, 1),
									   MCXT_ALLOC_HUGE);
		for (i = 0; i < vss->ngroups; i++)
		{
			BlobParts	parts;

			state_blob_parts(vss->groups[i].blob, vss->groups[i].len, &parts);
			vss->ordered[i].start = parts.start;
			vss->ordered[i].copy = &vss->groups[i];
		}
		qsort(vss->ordered, vss->ngroups, sizeof(OrderedGroup), ordered_cmp);
	}
	vss->next_group = 0;
	vss->batch_len = vss->batch_next = 0;
	vss->batch_size = FIRST_BATCH;
	MemoryContextSwitchTo(old);
	ResetExprContext(econtext);
	vss->fetched = true;
}

static bool
fill_batch(ViewScanState *vss)
{
	TupleDesc	desc = vss->readslot->tts_tupleDescriptor;
	int			natts = desc->natts;
	MemoryContext old;
	UserCodeGate gate;

	MemoryContextReset(vss->batchcxt);
	old = MemoryContextSwitchTo(vss->batchcxt);
	vss->batch_values = palloc(sizeof(Datum) * natts * vss->batch_size);
	vss->batch_nulls = palloc(sizeof(bool) * natts * vss->batch_size);
	vss->batch_len = vss->batch_next = 0;
	/* the view's functions make the rows, as its owner */
	usercode_enter(&gate, vss->reader.plan->owner, USERCODE_READ_ONLY);
	/* a batch of groups HAVING rejects all is no end: on to the next */
	while ((vss->batch_len < vss->batch_size || vss->batch_len == 0) &&
		   vss->next_group < vss->ngroups)
	{
		int64		i = vss->direction >= 0 ? vss->next_group :
			vss->ngroups - 1 - vss->next_group;

		vss->next_group++;
		if (view_reader_group_values(&vss->reader,
									 vss->ordered ? vss->ordered[i].copy : &vss->groups[i],
									 desc,
									 &vss->batch_values[vss->batch_len * natts],
									 &vss->batch_nulls[vss->batch_len * natts],
									 vss->rowcxt))
			vss->batch_len++;
	}
	usercode_leave(&gate);
	MemoryContextSwitchTo(old);
	vss->batch_size = Min(vss->batch_size * 2, MAX_BATCH);
	return vss->batch_len > 0;
}

static TupleTableSlot *
next_row(ScanState *ss)
{
	ViewScanState *vss = (ViewScanState *) ss;

	TupleTableSlot *scanslot = ss->ss_ScanTupleSlot;
	int			natts = scanslot->tts_tupleDescriptor->natts;

	ExecClearTuple(scanslot);
	if (vss->lazy && !vss->fetched)
		fetch_groups(vss);		/* which may find the view changed: not lazy */
	if (vss->lazy)
	{
		if (vss->batch_next == vss->batch_len && !fill_batch(vss))
			return scanslot;

		/* the batch's values stay until the next batch is made */
		memcpy(scanslot->tts_values, &vss->batch_values[vss->batch_next * natts],
			   natts * sizeof(Datum));
		memcpy(scanslot->tts_isnull, &vss->batch_nulls[vss->batch_next * natts],
			   natts * sizeof(bool));
		vss->batch_next++;
		return ExecStoreVirtualTuple(scanslot);
	}
	else
	{
		if (!vss->fetched)
			fetch_rows(vss);
		if (!tuplestore_gettupleslot(vss->store, true, false, vss->readslot))
			return scanslot;
	}

	/*
	 * The scan slot is virtual (its expressions are compiled for that): it
	 * points into the stored row, which stays until the next one is read.
	 */
	slot_getallattrs(vss->readslot);
	memcpy(scanslot->tts_values, vss->readslot->tts_values, natts * sizeof(Datum));
	memcpy(scanslot->tts_isnull, vss->readslot->tts_isnull, natts * sizeof(bool));
	return ExecStoreVirtualTuple(scanslot);
}

/* recheck_row: never in an EvalPlanQual recheck (see view_scan_pathlist) */
static bool
recheck_row(ScanState *ss, TupleTableSlot *slot)
{
	return true;
}

static TupleTableSlot *
exec_lookup(CustomScanState *node)
{
	return ExecScan(&node->ss, next_row, recheck_row);
}

static void
end_lookup(CustomScanState *node)
{
	ViewScanState *vss = (ViewScanState *) node;

	if (vss->store != NULL)
		tuplestore_end(vss->store);
	vss->store = NULL;
}

/*
 * rescan_lookup reads again for new keys; a read of every group gives the
 * groups it copied again, from the first, as read_view's tuplestore would:
 * one statement sees one state of the view.
 */
static void
rescan_lookup(CustomScanState *node)
{
	ViewScanState *vss = (ViewScanState *) node;

	if (vss->lazy && vss->nkeys == 0 && vss->fetched)
	{
		ExecClearTuple(vss->readslot);
		MemoryContextReset(vss->batchcxt);
		vss->next_group = 0;
		vss->batch_len = vss->batch_next = 0;
		vss->batch_size = FIRST_BATCH;
	}
	else
	{
		end_lookup(node);
		vss->fetched = false;
	}
	ExecScanReScan(&node->ss);
}

static void
explain_lookup(CustomScanState *node, List *ancestors, ExplainState *es)
{
	ViewScanState *vss = (ViewScanState *) node;
	ViewPlan   *plan = view_read_plan(vss->view_id);

	if (plan != NULL)
		ExplainPropertyText("Continuous View", plan->name, es);
	if (vss->nkeys > 0)
		ExplainPropertyInteger("Lookup Keys", NULL, vss->nkeys, es);
	if (vss->direction != 0)
		ExplainPropertyText("Window Order", vss->direction > 0 ? "ascending" : "descending", es);
}

/* free_stats frees a statistics tuple made by key_stats */
static void
free_stats(HeapTuple tuple)
{
	heap_freetuple(tuple);
}

/*
 * key_stats is a pg_statistic tuple that says only how many distinct
 * values a column has, and that none is NULL.
 */
static HeapTuple
key_stats(double ndistinct)
{
	static TupleDesc desc = NULL;
	Datum		values[Natts_pg_statistic];
	bool		nulls[Natts_pg_statistic];
	int			i;

	if (desc == NULL)
	{
		Relation	rel = table_open(StatisticRelationId, AccessShareLock);
		MemoryContext old = MemoryContextSwitchTo(CacheMemoryContext);

		desc = CreateTupleDescCopy(RelationGetDescr(rel));
		MemoryContextSwitchTo(old);
		table_close(rel, AccessShareLock);
	}
	memset(values, 0, sizeof(values));
	memset(nulls, false, sizeof(nulls));
	values[Anum_pg_statistic_stanullfrac - 1] = Float4GetDatum(0.0);
	values[Anum_pg_statistic_stadistinct - 1] = Float4GetDatum((float4) ndistinct);
	for (i = Anum_pg_statistic_stanumbers1; i <= Natts_pg_statistic; i++)
		nulls[i - 1] = true;
	return heap_form_tuple(desc, values, nulls);
}

/*
 * The distinct keys of the view last asked for, in this command: the
 * planner asks once per element of an IN list, and the view's definition
 * is read from the catalog.
 */
static struct
{
	LocalTransactionId lxid;
	CommandId	cid;
	int32		view_id;
	int16		nkeys;
	int16		ncols;
	int8		key_of_col[MaxTupleAttributeNumber / 8]; /* -1: no key */
	double		keys;			/* 0: not published */
}			keys_memo;

/*
 * view_in_union is the id of the view whose open part is a branch of the
 * UNION ALL that a range table entry is (a continuous view with closed
 * windows, flattened by the planner into an append relation, whose columns
 * are those of read_view), or -1.
 */
static int32
view_in_union(RangeTblEntry *rte)
{
	ListCell   *lc;

	if (rte->rtekind != RTE_SUBQUERY || !rte->inh || rte->subquery == NULL ||
		rte->subquery->setOperations == NULL)
		return -1;
	foreach(lc, rte->subquery->rtable)
	{
		RangeTblEntry *leaf = lfirst(lc);

		if (leaf->rtekind == RTE_SUBQUERY && leaf->subquery != NULL &&
			list_length(leaf->subquery->rtable) == 1)
		{
			int32		view_id = read_view_call(linitial(leaf->subquery->rtable));

			if (view_id >= 0)
				return view_id;
		}
	}
	return -1;
}

/*
 * view_scan_stats gives the planner the number of distinct values of a
 * view's group key columns, from the worker's last publish, for read_view's
 * scan and for the view with closed windows as a whole (whose keys are
 * mostly those still open).  A key of one column has the view's distinct
 * keys; the columns of a key of n have their n-th root each, which is
 * wrong for one column alone but right for the whole key, which the
 * lookups and joins by key give: their selectivities multiply.
 */
static bool
view_scan_stats(PlannerInfo *root, RangeTblEntry *rte, AttrNumber attnum,
				VariableStatData *vardata)
{
	int32		view_id;

	if (prev_get_relation_stats && prev_get_relation_stats(root, rte, attnum, vardata))
		return true;
	if (attnum <= 0 || ((view_id = read_view_call(rte)) < 0 && (view_id = view_in_union(rte)) < 0))
		return false;
	if (keys_memo.lxid != MyProc->lxid || keys_memo.cid != GetCurrentCommandId(false) ||
		keys_memo.view_id != view_id)
	{
		ViewPlan   *plan = view_read_plan(view_id);
		StreamextDbSlot *slot = streamext_find_db_slot(MyDatabaseId, false);
		ViewStats	stats;
		int			i;

		keys_memo.lxid = MyProc->lxid;
		keys_memo.cid = GetCurrentCommandId(false);
		keys_memo.view_id = view_id;
		keys_memo.nkeys = 0;
		keys_memo.ncols = 0;
		keys_memo.keys = 0;
		if (plan != NULL && plan->outdesc->natts <= lengthof(keys_memo.key_of_col))
		{
			keys_memo.nkeys = plan->nkeys;
			keys_memo.ncols = plan->outdesc->natts;
			for (i = 1; i <= plan->outdesc->natts; i++)
				keys_memo.key_of_col[i - 1] = key_of_column(plan, i);
		}
		if (slot != NULL && state_shmem_get_stats(slot, view_id, &stats))
			keys_memo.keys = stats.keys;
	}
	if (attnum > keys_memo.ncols || keys_memo.key_of_col[attnum - 1] < 0 ||
		keys_memo.keys <= 0)
		return false;
	vardata->statsTuple = key_stats(pow(keys_memo.keys, 1.0 / keys_memo.nkeys));
	vardata->freefunc = free_stats;
	vardata->acl_ok = true;
	return true;
}
