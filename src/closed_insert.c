/*-------------------------------------------------------------------------
 *
 * closed_insert.c
 *	  Rows of a view's closed-window table inserted as the executor's
 *	  ModifyTable inserts them (the heap, then each index), without a
 *	  statement per row: closing a window writes a row per group, and an
 *	  INSERT through SPI set up and tore down an executor for each (a fifth
 *	  of closing's time; 350,000 windows closing at once after a backfill
 *	  took seconds).  The relation and its indexes are opened once per
 *	  closing, in the transaction that closes; each row is still written
 *	  in the caller's subtransaction, so a failing row costs only itself.
 *
 *	  The closed table is streamext's own, made by create_closed_table.
 *	  One that someone changed so that an INSERT statement would do more
 *	  than this (triggers, rules, row security, a domain column that
 *	  checks its values, another shape) is written through SPI as before:
 *	  closed_insert_begin returns NULL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "nodes/execnodes.h"
#include "nodes/parsenodes.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "closed_insert.h"

struct ClosedInserter
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
	int			ncolumns;
};

static bool plain_table(Relation rel, int ncolumns, const Oid *types, const int32 *typmods);

/*
 * closed_insert_begin opens closed_relid, whose rows have ncolumns columns
 * of the given types and typmods, for closed_insert_row; NULL if its rows
 * must go through an INSERT statement.
 */
ClosedInserter *
closed_insert_begin(Oid closed_relid, int ncolumns, const Oid *types, const int32 *typmods)
{
	Relation	rel = table_open(closed_relid, RowExclusiveLock);
	ClosedInserter *ci;
	RangeTblEntry *rte;

	if (!plain_table(rel, ncolumns, types, typmods))
	{
		table_close(rel, NoLock);
		return NULL;
	}
	ci = palloc0(sizeof(ClosedInserter));
	ci->rel = rel;
	ci->ncolumns = ncolumns;
	ci->estate = CreateExecutorState();

	/* a range table of the one relation: a constraint's error names it */
	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = closed_relid;
	rte->relkind = rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	ExecInitRangeTable(ci->estate, list_make1(rte));
	ci->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(ci->rri, rel, 1, NULL, 0);
	ExecOpenIndices(ci->rri, false);
	ci->slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsVirtual);
	return ci;
}

/*
 * closed_insert_row inserts one row: values and nulls ('n' for NULL) in the
 * table's column order, as SPI_execute_plan takes them.
 */
void
closed_insert_row(ClosedInserter *ci, Datum *values, const char *nulls)
{
	TupleTableSlot *slot = ci->slot;
	int			i;

	ExecClearTuple(slot);
	for (i = 0; i < ci->ncolumns; i++)
	{
		slot->tts_values[i] = values[i];
		slot->tts_isnull[i] = (nulls != NULL && nulls[i] == 'n');
	}
	ExecStoreVirtualTuple(slot);
	if (ci->rel->rd_att->constr != NULL)
		ExecConstraints(ci->rri, slot, ci->estate);
	/* seen by the statements after it in this transaction */
	ci->estate->es_output_cid = GetCurrentCommandId(true);
	table_tuple_insert(ci->rel, slot, ci->estate->es_output_cid, 0, NULL);
	if (ci->rri->ri_NumIndices > 0)
		ExecInsertIndexTuples(ci->rri, slot, ci->estate, false, false, NULL, NIL);
	ResetPerTupleExprContext(ci->estate);
}

/* closed_insert_end closes what closed_insert_begin opened */
void
closed_insert_end(ClosedInserter *ci)
{
	if (ci == NULL)
		return;
	ExecCloseIndices(ci->rri);
	ExecDropSingleTupleTableSlot(ci->slot);
	FreeExecutorState(ci->estate);
	table_close(ci->rel, NoLock);
	pfree(ci);
}

/*
 * plain_table says whether an INSERT into rel would do no more than insert
 * into it and its indexes: no trigger, rule or row security, and ncolumns
 * columns of the types and typmods of the values (nothing to coerce), none
 * dropped, generated or of a domain type.
 */
static bool
plain_table(Relation rel, int ncolumns, const Oid *types, const int32 *typmods)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	if (rel->trigdesc != NULL || rel->rd_rules != NULL || rel->rd_rel->relrowsecurity ||
		rel->rd_rel->relkind != RELKIND_RELATION || desc->natts != ncolumns)
		return false;
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || att->attgenerated || att->atttypid != types[i] ||
			(att->atttypmod != typmods[i] && att->atttypmod != -1) ||
			get_typtype(att->atttypid) == TYPTYPE_DOMAIN)
			return false;
	}
	return true;
}
