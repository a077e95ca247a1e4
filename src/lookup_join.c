/*-------------------------------------------------------------------------
 *
 * lookup_join.c
 *	  Lookup joins of a continuous view: what create_view accepts (a stream
 *	  joined, INNER or LEFT, to ordinary tables on equality with a unique
 *	  key of each), how the view is compiled (the dimensions' columns become
 *	  columns of a joined row after the stream's own, so that WHERE, keys,
 *	  aggregates and HAVING are compiled as over one relation), and the join
 *	  of each event with the dimensions' rows (lookup_cache.c) as the worker
 *	  holds them at the event's commit.
 *
 *	  Why not read the tables: the worker decodes behind the present, and a
 *	  table read now holds later rows; read with the decoding's historic
 *	  snapshot it holds the rows as of the event's WAL position, not its
 *	  commit.  The worker decodes the dimensions' own changes instead, in
 *	  commit order with the events (decoder.c), into rows kept per view.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "catalog.h"
#include "lookup_join.h"
#include "usercode.h"

/* the equalities of one ON, found by split_on */
typedef struct OnKeys
{
	List	   *dim_attnos;		/* int */
	List	   *probes;			/* Expr, the other side */
	List	   *opnos;			/* Oid */
	List	   *probe_first;	/* int: the probe is the operator's left input */
	List	   *collations;		/* Oid: the operator's input collation */
	List	   *residual;		/* the other conditions */
} OnKeys;

/* Vars of the dimensions moved into the joined row */
typedef struct JoinedVarsContext
{
	int			nrels;
	Index	   *rtis;			/* per dimension: its range table index */
	int		   *first_col;		/* its first column in the joined row, 0-based */
	List	  **cols;			/* its columns read (AttrNumber), in order */
} JoinedVarsContext;

static void refuse_join(const char *what, const char *hint);
static void collect_joins(Node *node, List **joins);
static List *query_joins(Query *query);
static Var *dim_var(Node *node, Index rti);
static void split_on(Query *query, JoinExpr *join, Index rti, Bitmapset *before,
					 OnKeys *keys);
static void check_dimension(Query *query, JoinExpr *join, Bitmapset *before);
static bool covers_unique_index(Relation rel, OnKeys *keys);
static bool covered_by_identity(Relation rel, Bitmapset *keys);
static Node *joined_vars_mutator(Node *node, JoinedVarsContext *ctx);
static bool lookup_readable(const LookupJoin *lk, Oid owner);

/*
 * refuse_join reports a join a continuous view cannot maintain.
 */
static void
refuse_join(const char *what, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s is not supported in a continuous view", what),
			 errhint("%s", hint)));
}

/*
 * collect_joins lists the joins of a left-deep FROM, the innermost first:
 * FROM s JOIN a ON ... JOIN b ON ... gives the join with a, then b.
 */
static void
collect_joins(Node *node, List **joins)
{
	JoinExpr   *join;

	if (IsA(node, RangeTblRef))
	{
		if (((RangeTblRef *) node)->rtindex != 1)
			refuse_join("a join whose first relation is not the stream",
						"Name the stream first: FROM stream JOIN table ON table.key = stream.column.");
		return;
	}
	if (!IsA(node, JoinExpr))
		refuse_join("this kind of FROM item", "FROM stream JOIN table ON table.key = stream.column.");
	join = (JoinExpr *) node;
	if (join->jointype != JOIN_INNER && join->jointype != JOIN_LEFT)
		refuse_join("a RIGHT or FULL join",
					"Name the stream first and join tables to it with JOIN or LEFT JOIN: every event counts once, or not at all.");
	if (!IsA(join->rarg, RangeTblRef))
		refuse_join("a join with a subquery or a parenthesised join",
					"Join tables to the stream one by one: FROM stream JOIN a ON ... JOIN b ON ....");
	collect_joins(join->larg, joins);
	*joins = lappend(*joins, join);
}

/*
 * query_joins lists the joins of a view's query in order: those of the
 * left-deep tree that starts its FROM, then one per table listed after it
 * with a comma (FROM s, users u WHERE u.id = s.user_id), made up as an
 * inner join whose ON is the query's WHERE and marked by rtindex 0: its
 * equalities look the row up, and its other conditions stay in WHERE,
 * evaluated once every table is joined.  NIL when the query joins nothing.
 */
static List *
query_joins(Query *query)
{
	List	   *joins = NIL;
	ListCell   *lc;

	if (list_length(query->jointree->fromlist) == 1 &&
		!IsA(linitial(query->jointree->fromlist), JoinExpr))
		return NIL;
	collect_joins(linitial(query->jointree->fromlist), &joins);
	for_each_from(lc, query->jointree->fromlist, 1)
	{
		JoinExpr   *join;

		if (!IsA(lfirst(lc), RangeTblRef))
			refuse_join("a join after a comma",
						"Join tables to the stream one by one: FROM stream JOIN a ON ... JOIN b ON ....");
		join = makeNode(JoinExpr);
		join->jointype = JOIN_INNER;
		join->larg = NULL;
		join->rarg = lfirst(lc);
		join->quals = query->jointree->quals;
		join->rtindex = 0;
		joins = lappend(joins, join);
	}
	return joins;
}

/*
 * dim_var returns node as a column of the dimension rti, looking through a
 * binary-compatible relabelling, or NULL.
 */
static Var *
dim_var(Node *node, Index rti)
{
	while (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (node && IsA(node, Var) && ((Var *) node)->varno == rti &&
		((Var *) node)->varlevelsup == 0 && ((Var *) node)->varattno > 0)
		return (Var *) node;
	return NULL;
}

/*
 * split_on sorts the conditions of a join's ON into the equalities that
 * look a row up and the rest.  An equality looks up when one side is a
 * column of the table and the other an expression of the stream and the
 * tables joined before it, with an operator that can hash.  Those whose
 * other side reads a column are the key; those with a constant join it
 * only when the key alone covers no unique index (a tenant = 5 of a
 * two-column key), so that ON u.id = c.user_id AND u.country = 'fr' looks
 * up by id.  The choice depends on the query alone: the rows the worker
 * persisted are keyed by it.  The join is flattened: a USING column is
 * its two columns.
 */
static void
split_on(Query *query, JoinExpr *join, Index rti, Bitmapset *before, OnKeys *keys)
{
	Node	   *quals = flatten_join_alias_vars(query, join->quals);
	List	   *constant = NIL;
	List	   *rest = NIL;
	ListCell   *lc;
	int			pass;

	memset(keys, 0, sizeof(OnKeys));
	if (quals == NULL)
		return;
	for (pass = 0; pass < 2; pass++)
	{
		List	   *quallist = pass == 0 ? make_ands_implicit((Expr *) quals) : constant;

		if (pass == 1)
		{
			Relation	rel = table_open(rt_fetch(rti, query->rtable)->relid, AccessShareLock);
			bool		covered = covers_unique_index(rel, keys);

			table_close(rel, AccessShareLock);
			if (covered)
			{
				rest = list_concat(rest, constant);
				break;
			}
		}
		foreach(lc, quallist)
		{
			Node	   *qual = lfirst(lc);
			OpExpr	   *op = (OpExpr *) qual;
			int			side;
			bool		key = false;

			if (IsA(qual, OpExpr) && list_length(op->args) == 2 &&
				op_hashjoinable(op->opno, exprType(linitial(op->args))))
			{
				for (side = 0; side < 2 && !key; side++)
				{
					Var		   *var = dim_var(list_nth(op->args, side), rti);
					Node	   *other = list_nth(op->args, 1 - side);
					Bitmapset  *other_rels = pull_varnos(NULL, other);

					if (var == NULL || !bms_is_subset(other_rels, before) ||
						contain_volatile_functions(other))
						continue;
					if (pass == 0 && bms_is_empty(other_rels))
					{
						constant = lappend(constant, qual);
						key = true;
						break;
					}
					keys->dim_attnos = lappend_int(keys->dim_attnos, var->varattno);
					keys->probes = lappend(keys->probes, other);
					keys->opnos = lappend_oid(keys->opnos, op->opno);
					keys->probe_first = lappend_int(keys->probe_first, side == 1);
					keys->collations = lappend_oid(keys->collations, op->inputcollid);
					key = true;
				}
			}
			if (!key)
				rest = lappend(rest, qual);
		}
	}
	keys->residual = rest;
}

/*
 * covers_unique_index says whether some unique index of rel (valid,
 * immediate, on columns, without predicate) has each of its columns
 * compared by one of the key equalities, with an operator of the index's
 * operator family and a collation no coarser than the index's: then a key
 * finds one row at most, and an event counts once.
 */
static bool
covers_unique_index(Relation rel, OnKeys *keys)
{
	ListCell   *lc;
	bool		found = false;

	foreach(lc, RelationGetIndexList(rel))
	{
		Relation	index = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index form = index->rd_index;
		bool		covered = form->indisunique && form->indimmediate &&
			form->indisvalid && form->indisready && form->indislive &&
			heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, NULL) &&
			heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, NULL);
		int			i;

		for (i = 0; covered && i < form->indnkeyatts; i++)
		{
			int			k;

			covered = false;
			for (k = 0; k < list_length(keys->dim_attnos) && !covered; k++)
			{
				Oid			collation = list_nth_oid(keys->collations, k);

				covered = list_nth_int(keys->dim_attnos, k) == form->indkey.values[i] &&
					op_in_opfamily(list_nth_oid(keys->opnos, k), index->rd_opfamily[i]) &&
					(!OidIsValid(collation) || collation == index->rd_indcollation[i] ||
					 get_collation_isdeterministic(collation));
			}
		}
		index_close(index, AccessShareLock);
		if (covered)
		{
			found = true;
			break;
		}
	}
	return found;
}

/*
 * covered_by_identity says whether the replica identity of rel logs the
 * old values of every column of keys with an update or delete: the worker
 * finds the row a change replaces by them.
 */
static bool
covered_by_identity(Relation rel, Bitmapset *keys)
{
	Oid			identity;
	Relation	index;
	Bitmapset  *cols = NULL;
	int			i;

	if (rel->rd_rel->relreplident == REPLICA_IDENTITY_FULL)
		return true;
	if (rel->rd_rel->relreplident == REPLICA_IDENTITY_NOTHING)
		return false;
	identity = RelationGetReplicaIndex(rel);
	if (!OidIsValid(identity))
		return false;
	index = index_open(identity, AccessShareLock);
	for (i = 0; i < index->rd_index->indnkeyatts; i++)
		cols = bms_add_member(cols, index->rd_index->indkey.values[i]);
	index_close(index, AccessShareLock);
	return bms_is_subset(keys, cols);
}

/*
 * check_dimension checks one joined table and its ON.
 */
static void
check_dimension(Query *query, JoinExpr *join, Bitmapset *before)
{
	Index		rti = ((RangeTblRef *) join->rarg)->rtindex;
	RangeTblEntry *rte = rt_fetch(rti, query->rtable);
	AttrNumber	time_attno;
	Relation	rel;
	OnKeys		keys;
	Bitmapset  *keyset = NULL;
	ListCell   *lc;
	ListCell   *lc2;
	char	   *name;

	if (rte->rtekind == RTE_SUBQUERY || rte->rtekind == RTE_FUNCTION)
		refuse_join("a join with a subquery or a function",
					"Join ordinary tables to the stream.");
	if (rte->rtekind != RTE_RELATION)
		refuse_join("this kind of joined relation", "Join ordinary tables to the stream.");
	name = get_rel_name(rte->relid);
	if (catalog_is_stream(rte->relid, &time_attno))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a join between two streams is not supported in a continuous view"),
				 errdetail("\"%s\" is a stream: its events are not rows that other events look up.", name),
				 errhint("Insert the events of both into one stream, or keep what \"%s\" says about each key in a table and join that.",
						 name)));
	if (rte->relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a continuous view cannot join \"%s\": it is not an ordinary table", name),
				 errhint("Join an ordinary table; a view, a partitioned or a foreign table cannot be followed change by change.")));
	if (has_subclass(rte->relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a continuous view cannot join \"%s\": it has inheritance children", name),
				 errhint("Join a table without children, or FROM ONLY is not enough: their rows would be missed.")));

	split_on(query, join, rti, before, &keys);
	if (keys.dim_attnos == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the join with \"%s\" in a continuous view needs an equality on its key", name),
				 errhint("Join on the columns of a primary key or unique index: JOIN %s ON %s.id = stream.column.",
						 name, name)));
	foreach(lc, keys.dim_attnos)
		keyset = bms_add_member(keyset, lfirst_int(lc));
	forboth(lc, keys.dim_attnos, lc2, keys.collations)
	{
		Oid			collation = lfirst_oid(lc2);
		Oid			typid;
		int32		typmod;
		Oid			attcollation;

		/* a key unique under the column's collation may not be under a coarser one */
		get_atttypetypmodcoll(rte->relid, lfirst_int(lc), &typid, &typmod, &attcollation);
		if (OidIsValid(collation) && collation != attcollation &&
			!get_collation_isdeterministic(collation))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("the join with \"%s\" in a continuous view compares its key with another collation",
							name),
					 errdetail("Its unique key is unique under the column's collation, not under a nondeterministic one: an event could find several rows."),
					 errhint("Join with the column's own collation.")));
	}

	rel = table_open(rte->relid, AccessShareLock);
	if (rel->rd_rel->relpersistence != RELPERSISTENCE_PERMANENT)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a continuous view cannot join \"%s\": it is unlogged or temporary", name),
				 errdetail("The worker follows a joined table through the WAL, which has no changes of it."),
				 errhint("ALTER TABLE %s SET LOGGED.", name)));
	if (rel->rd_rel->relrowsecurity)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a continuous view cannot join \"%s\": it has row level security", name),
				 errdetail("The worker would join every row, whatever the policies let the view's owner see."),
				 errhint("Join a table without row level security, or a copy of the rows the view may use.")));
	if (!covers_unique_index(rel, &keys))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the join with \"%s\" in a continuous view is not on a unique key", name),
				 errdetail("Each event must find one row of it at most."),
				 errhint("Join on the columns of its primary key or of a unique index.")));
	if (!covered_by_identity(rel, keyset))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the join with \"%s\" in a continuous view is not on its replica identity", name),
				 errdetail("The worker finds the row an update or delete replaces by the old values of the join columns, which the WAL holds only for the replica identity."),
				 errhint("Join on its primary key, or ALTER TABLE %s REPLICA IDENTITY FULL.", name)));
	table_close(rel, AccessShareLock);
}

/*
 * lookup_join_check checks the FROM of a view's query that joins its
 * stream (range table entry 1, which the caller checks) to tables: a
 * left-deep chain of INNER or LEFT joins, or tables after commas whose
 * equalities are in WHERE (query_joins), each with an ordinary table
 * looked up by equalities on a unique key it logs with its changes, and
 * no whole-row reference to a table.  The view's owner must be able to
 * read the columns it joins (the caller's privileges, as for a query).
 */
void
lookup_join_check(Query *query)
{
	List	   *joins = NIL;
	Bitmapset  *before = bms_make_singleton(1);
	Node	   *all = flatten_join_alias_vars(query, (Node *) list_make3(query->targetList,
																		 query->jointree,
																		 query->havingQual));
	ListCell   *lc;

	joins = query_joins(query);
	foreach(lc, joins)
	{
		JoinExpr   *join = lfirst(lc);
		Index		rti = ((RangeTblRef *) join->rarg)->rtindex;
		Bitmapset  *attrs = NULL;

		check_dimension(query, join, before);
		pull_varattnos(all, rti, &attrs);
		if (bms_is_member(InvalidAttrNumber - FirstLowInvalidHeapAttributeNumber, attrs))
			refuse_join("a whole-row reference to a joined table",
						"Name the columns of the table the view reads.");
		before = bms_add_member(before, rti);
	}
	(void) ExecCheckRTPerms(query->rtable, true);
}

/*
 * lookup_join_relations lists the tables a view's query joins, in order.
 */
List *
lookup_join_relations(Query *query)
{
	List	   *joins = NIL;
	List	   *relids = NIL;
	ListCell   *lc;

	joins = query_joins(query);
	foreach(lc, joins)
		relids = lappend_oid(relids, rt_fetch(((RangeTblRef *) ((JoinExpr *) lfirst(lc))->rarg)->rtindex,
											  query->rtable)->relid);
	return relids;
}

/*
 * lookup_join_lock_tables holds the tables a view's query joins in SHARE
 * mode until commit, as lock_events holds its stream: a change of them
 * commits either before the view's start_lsn, seen by the computation's
 * snapshot, or after this transaction, decoded by the worker.
 */
void
lookup_join_lock_tables(Query *query)
{
	ListCell   *lc;

	foreach(lc, lookup_join_relations(query))
		LockRelationOid(lfirst_oid(lc), ShareLock);
}

/*
 * lookup_join_record_dependencies makes the view depend on the tables it
 * joins and on each of their columns it reads: DROP TABLE, DROP COLUMN
 * and ALTER COLUMN TYPE of them are refused (or cascade) as for a view.
 */
void
lookup_join_record_dependencies(Oid view_relid, Query *query)
{
	ObjectAddress viewaddr;
	Node	   *all = flatten_join_alias_vars(query, (Node *) list_make3(query->targetList,
																		 query->jointree,
																		 query->havingQual));
	List	   *joins = NIL;
	ListCell   *lc;

	joins = query_joins(query);
	if (joins == NIL)
		return;
	ObjectAddressSet(viewaddr, RelationRelationId, view_relid);
	foreach(lc, joins)
	{
		Index		rti = ((RangeTblRef *) ((JoinExpr *) lfirst(lc))->rarg)->rtindex;
		Oid			relid = rt_fetch(rti, query->rtable)->relid;
		Bitmapset  *attrs = NULL;
		ObjectAddress dimaddr;
		int			k = -1;

		ObjectAddressSet(dimaddr, RelationRelationId, relid);
		recordDependencyOn(&viewaddr, &dimaddr, DEPENDENCY_NORMAL);

		pull_varattnos(all, rti, &attrs);
		while ((k = bms_next_member(attrs, k)) >= 0)
		{
			AttrNumber	attno = k + FirstLowInvalidHeapAttributeNumber;

			if (attno <= 0)
				continue;
			ObjectAddressSubSet(dimaddr, RelationRelationId, relid, attno);
			recordDependencyOn(&viewaddr, &dimaddr, DEPENDENCY_NORMAL);
		}
	}
}

/*
 * joined_vars_mutator moves the Vars of the stream and of the dimensions
 * into the joined row, range table entry 1.
 */
static Node *
joined_vars_mutator(Node *node, JoinedVarsContext *ctx)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Var) && ((Var *) node)->varlevelsup == 0)
	{
		Var		   *var = (Var *) copyObject(node);
		int			d;

		if (var->varno == 1)
			return (Node *) var;
		for (d = 0; d < ctx->nrels; d++)
		{
			ListCell   *lc;
			int			i = 0;

			if (var->varno != ctx->rtis[d])
				continue;
			foreach(lc, ctx->cols[d])
			{
				if (lfirst_int(lc) == var->varattno)
					break;
				i++;
			}
			if (lc == NULL)
				elog(ERROR, "streamext: column %d of a joined table not planned", var->varattno);
			var->varno = var->varnosyn = 1;
			var->varattno = var->varattnosyn = ctx->first_col[d] + i + 1;
			return (Node *) var;
		}
		elog(ERROR, "streamext: a column of range table entry %u in a continuous view", var->varno);
	}
	return expression_tree_mutator(node, joined_vars_mutator, (void *) ctx);
}

/*
 * lookup_join_plan compiles the joins of a view's query (checked by
 * lookup_join_check) into jr, and rewrites the query as one over its joined
 * row: the stream's columns, then those each dimension reads.  Then the
 * rest of view_plan.c compiles it as a query of one relation.  Runs as the
 * view's owner (whose calls go into acl), in cxt, the plan's memory.
 */
void
lookup_join_plan(JoinedRow *jr, Query *query, TupleDesc streamdesc, Oid owner,
				 UserCodeAcl *acl, MemoryContext cxt)
{
	List	   *joins = NIL;
	JoinedVarsContext ctx;
	Bitmapset  *before = bms_make_singleton(1);
	RangeTblRef *stream_ref;
	Node	   *all;
	int			natts = streamdesc->natts;
	int			d;
	ListCell   *lc;

	jr->nlookups = 0;
	jr->slot = NULL;
	joins = query_joins(query);
	if (joins == NIL)
		return;

	query->targetList = (List *) flatten_join_alias_vars(query, (Node *) query->targetList);
	query->havingQual = flatten_join_alias_vars(query, query->havingQual);
	all = (Node *) list_make3(query->targetList, query->jointree, query->havingQual);
	all = flatten_join_alias_vars(query, all);

	jr->nlookups = list_length(joins);
	jr->lookups = palloc0(sizeof(LookupJoin) * jr->nlookups);
	ctx.nrels = jr->nlookups;
	ctx.rtis = palloc(sizeof(Index) * jr->nlookups);
	ctx.first_col = palloc(sizeof(int) * jr->nlookups);
	ctx.cols = palloc0(sizeof(List *) * jr->nlookups);

	/* the columns of each dimension the view reads, and where they go */
	d = 0;
	foreach(lc, joins)
	{
		Index		rti = ((RangeTblRef *) ((JoinExpr *) lfirst(lc))->rarg)->rtindex;
		Bitmapset  *attrs = NULL;
		int			k = -1;

		pull_varattnos(all, rti, &attrs);
		ctx.rtis[d] = rti;
		ctx.first_col[d] = natts;
		while ((k = bms_next_member(attrs, k)) >= 0)
			if (k + FirstLowInvalidHeapAttributeNumber > 0)
				ctx.cols[d] = lappend_int(ctx.cols[d], k + FirstLowInvalidHeapAttributeNumber);
		natts += list_length(ctx.cols[d]);
		d++;
	}

	/* the joined row */
	jr->desc = CreateTemplateTupleDesc(natts);
	for (d = 0; d < streamdesc->natts; d++)
		TupleDescCopyEntry(jr->desc, d + 1, streamdesc, d + 1);

	d = 0;
	foreach(lc, joins)
	{
		JoinExpr   *join = lfirst(lc);
		LookupJoin *lk = &jr->lookups[d];
		Index		rti = ctx.rtis[d];
		OnKeys		keys;
		Relation	rel;
		TupleDesc	dimdesc;
		ListCell   *lc2;
		int			i;

		split_on(query, join, rti, before, &keys);
		if (join->rtindex == 0)
			keys.residual = NIL;	/* a comma's: WHERE has them */
		lk->relid = rt_fetch(rti, query->rtable)->relid;
		rel = table_open(lk->relid, AccessShareLock);
		dimdesc = RelationGetDescr(rel);
		lk->relname = pstrdup(RelationGetRelationName(rel));
		lk->left = (join->jointype == JOIN_LEFT);
		lk->nkeys = list_length(keys.dim_attnos);
		lk->dim_keys = palloc(sizeof(AttrNumber) * lk->nkeys);
		lk->probes = palloc(sizeof(ExprState *) * lk->nkeys);
		lk->probe_values = palloc(sizeof(Datum) * lk->nkeys);
		lk->probe_hash = palloc0(sizeof(FmgrInfo) * lk->nkeys);
		lk->dim_hash = palloc0(sizeof(FmgrInfo) * lk->nkeys);
		lk->probe_eq = palloc0(sizeof(FmgrInfo) * lk->nkeys);
		lk->probe_first = palloc(sizeof(bool) * lk->nkeys);
		lk->dim_eq = palloc0(sizeof(FmgrInfo) * lk->nkeys);
		lk->collations = palloc(sizeof(Oid) * lk->nkeys);
		lk->ncols = list_length(ctx.cols[d]);
		lk->dim_cols = palloc(sizeof(AttrNumber) * Max(lk->ncols, 1));
		lk->first_col = ctx.first_col[d];
		lk->rowdesc = CreateTemplateTupleDesc(lk->nkeys + lk->ncols);

		for (i = 0; i < lk->nkeys; i++)
		{
			Oid			opno = list_nth_oid(keys.opnos, i);
			Expr	   *probe = list_nth(keys.probes, i);
			RegProcedure lhs_hash;
			RegProcedure rhs_hash;
			Oid			lhs_eq;
			Oid			rhs_eq;
			bool		first = list_nth_int(keys.probe_first, i);
			Form_pg_attribute att;

			lk->dim_keys[i] = list_nth_int(keys.dim_attnos, i);
			lk->probe_first[i] = first;
			att = TupleDescAttr(dimdesc, lk->dim_keys[i] - 1);
			if (!get_op_hash_functions(opno, &lhs_hash, &rhs_hash) ||
				!get_compatible_hash_operators(opno, &lhs_eq, &rhs_eq))
				elog(ERROR, "streamext: operator %u of a join cannot hash", opno);
			fmgr_info_cxt(first ? lhs_hash : rhs_hash, &lk->probe_hash[i], cxt);
			fmgr_info_cxt(first ? rhs_hash : lhs_hash, &lk->dim_hash[i], cxt);
			fmgr_info_cxt(get_opcode(opno), &lk->probe_eq[i], cxt);
			fmgr_info_cxt(get_opcode(first ? rhs_eq : lhs_eq), &lk->dim_eq[i], cxt);
			usercode_acl_add(acl, get_opcode(opno), owner, "a join's operator");
			lk->collations[i] = list_nth_oid(keys.collations, i);
			usercode_acl_add_expr(acl, (Node *) probe, owner);
			probe = (Expr *) joined_vars_mutator((Node *) probe, &ctx);
			lk->probes[i] = ExecInitExpr(expression_planner(probe), NULL);
			TupleDescInitEntry(lk->rowdesc, i + 1, NULL, att->atttypid, att->atttypmod, 0);
			TupleDescInitEntryCollation(lk->rowdesc, i + 1, att->attcollation);
		}
		i = 0;
		foreach(lc2, ctx.cols[d])
		{
			Form_pg_attribute att = TupleDescAttr(dimdesc, lfirst_int(lc2) - 1);

			lk->dim_cols[i] = lfirst_int(lc2);
			TupleDescInitEntry(lk->rowdesc, lk->nkeys + i + 1, NULL, att->atttypid,
							   att->atttypmod, 0);
			TupleDescInitEntryCollation(lk->rowdesc, lk->nkeys + i + 1, att->attcollation);
			TupleDescInitEntry(jr->desc, lk->first_col + i + 1, NameStr(att->attname),
							   att->atttypid, att->atttypmod, 0);
			TupleDescInitEntryCollation(jr->desc, lk->first_col + i + 1,
										att->attcollation);
			i++;
		}
		lk->rowslot = MakeSingleTupleTableSlot(lk->rowdesc, &TTSOpsMinimalTuple);

		/*
		 * As a view's owner must be able to read what it reads when it is
		 * queried: a read or a rebuild after a REVOKE fails.  The worker goes
		 * on following the table, so that nothing is missed if it is granted
		 * again (and subscriptions of the view deliver nothing meanwhile:
		 * lookup_join_denied).
		 */
		if (!IsBackgroundWorker && !lookup_readable(lk, owner))
			aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, lk->relname);
		if (keys.residual != NIL)
		{
			Node	   *residual = joined_vars_mutator((Node *) keys.residual, &ctx);

			usercode_acl_add_expr(acl, residual, owner);
			lk->residual = ExecInitQual((List *) expression_planner((Expr *) residual), NULL);
		}
		table_close(rel, AccessShareLock);
		before = bms_add_member(before, rti);
		d++;
	}
	jr->slot = MakeSingleTupleTableSlot(jr->desc, &TTSOpsVirtual);

	/* the query as one over the joined row: its WHERE, without FROM's joins */
	query->targetList = (List *) joined_vars_mutator((Node *) query->targetList, &ctx);
	query->havingQual = joined_vars_mutator(flatten_join_alias_vars(query, query->havingQual),
											&ctx);
	stream_ref = makeNode(RangeTblRef);
	stream_ref->rtindex = 1;
	query->jointree = makeFromExpr(list_make1(stream_ref),
								   joined_vars_mutator(flatten_join_alias_vars(query,
																			   query->jointree->quals),
													   &ctx));
}

/*
 * lookup_join_catalog_exists: streamext.lookup_rows came with 0.2.
 */
bool
lookup_join_catalog_exists(void)
{
	return OidIsValid(get_relname_relid("lookup_rows", get_namespace_oid("streamext", true)));
}

/*
 * lookup_readable says whether owner may read what a lookup reads of its
 * table: the table, or else each column it reads.
 */
static bool
lookup_readable(const LookupJoin *lk, Oid owner)
{
	int			i;

	if (pg_class_aclcheck(lk->relid, owner, ACL_SELECT) == ACLCHECK_OK)
		return true;
	for (i = 0; i < lk->nkeys + lk->ncols; i++)
	{
		AttrNumber	attno = i < lk->nkeys ? lk->dim_keys[i] : lk->dim_cols[i - lk->nkeys];

		if (pg_attribute_aclcheck(lk->relid, attno, owner, ACL_SELECT) != ACLCHECK_OK)
			return false;
	}
	return true;
}

/*
 * lookup_join_denied is the name of a table a view joins that owner (the
 * view's) may no longer read, or NULL: what the view shows of it must not
 * reach anyone meanwhile, a subscriber included.
 */
const char *
lookup_join_denied(const JoinedRow *joined, Oid owner)
{
	int			i;

	for (i = 0; i < joined->nlookups; i++)
		if (!lookup_readable(&joined->lookups[i], owner))
			return joined->lookups[i].relname;
	return NULL;
}
