/*-------------------------------------------------------------------------
 *
 * row_insert.c
 *	  Rows of streamext's own tables (a view's closed windows, the
 *	  subscriptions' queue) inserted as the executor's ModifyTable inserts
 *	  them (the heap, then each index), without a statement per row or per
 *	  batch.  Closing a window writes a row per group and queues one per
 *	  subscriber: an INSERT through SPI set up and tore down an executor for
 *	  each closed row (a fifth of closing's time; 350,000 windows closing at
 *	  once after a backfill took seconds), and the queue's INSERT of arrays
 *	  unnested them and cast each entry's text to jsonb in a statement,
 *	  about a fifth of closing's time again.  The relation and its indexes
 *	  are opened once per closing or batch, in the transaction that writes;
 *	  a closed row is still written in the caller's subtransaction, so a
 *	  failing row costs only itself.
 *
 *	  The tables are streamext's own (create_closed_table, the extension
 *	  script).  One that someone changed so that an INSERT statement would
 *	  do more than this (triggers, rules, row security, a domain column
 *	  that checks its values, another shape) is written through SPI as
 *	  before: row_insert_begin returns NULL.  The one trigger allowed is the
 *	  catalog's own statement trigger for restores, note_restored_rows,
 *	  which returns at once in the worker, the only caller.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "row_insert.h"

struct RowInserter
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
	int			ncolumns;
};

static bool plain_table(Relation rel, int ncolumns, const Oid *types, const int32 *typmods);
static bool only_restore_triggers(Relation rel);
static bool is_restore_note(Oid funcid);

/*
 * row_insert_begin opens relid, whose rows have ncolumns columns of the
 * given types and typmods, for row_insert; NULL if its rows must go
 * through an INSERT statement.
 */
RowInserter *
row_insert_begin(Oid relid, int ncolumns, const Oid *types, const int32 *typmods)
{
	Relation	rel = table_open(relid, RowExclusiveLock);
	RowInserter *ri;
	RangeTblEntry *rte;

	if (!plain_table(rel, ncolumns, types, typmods))
	{
		table_close(rel, NoLock);
		return NULL;
	}
	ri = palloc0(sizeof(RowInserter));
	ri->rel = rel;
	ri->ncolumns = ncolumns;
	ri->estate = CreateExecutorState();

	/* a range table of the one relation: a constraint's error names it */
	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = relid;
	rte->relkind = rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	ExecInitRangeTable(ri->estate, list_make1(rte));
	ri->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(ri->rri, rel, 1, NULL, 0);
	ExecOpenIndices(ri->rri, false);
	ri->slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsVirtual);
	return ri;
}

/*
 * row_insert inserts one row: values and nulls ('n' for NULL; NULL for
 * none) in the table's column order, as SPI_execute_plan takes them.
 */
void
row_insert(RowInserter *ri, Datum *values, const char *nulls)
{
	TupleTableSlot *slot = ri->slot;
	int			i;

	ExecClearTuple(slot);
	for (i = 0; i < ri->ncolumns; i++)
	{
		slot->tts_values[i] = values[i];
		slot->tts_isnull[i] = (nulls != NULL && nulls[i] == 'n');
	}
	ExecStoreVirtualTuple(slot);
	if (ri->rel->rd_att->constr != NULL)
		ExecConstraints(ri->rri, slot, ri->estate);
	/* seen by the statements after it in this transaction */
	ri->estate->es_output_cid = GetCurrentCommandId(true);
	table_tuple_insert(ri->rel, slot, ri->estate->es_output_cid, 0, NULL);
	if (ri->rri->ri_NumIndices > 0)
		ExecInsertIndexTuples(ri->rri, slot, ri->estate, false, false, NULL, NIL);
	ResetPerTupleExprContext(ri->estate);
}

/* row_insert_end closes what row_insert_begin opened */
void
row_insert_end(RowInserter *ri)
{
	if (ri == NULL)
		return;
	ExecCloseIndices(ri->rri);
	ExecDropSingleTupleTableSlot(ri->slot);
	FreeExecutorState(ri->estate);
	table_close(ri->rel, NoLock);
	pfree(ri);
}

/*
 * plain_table says whether an INSERT into rel would do no more than insert
 * into it and its indexes: no trigger (but the restores' note), rule or
 * row security, and ncolumns columns of the types and typmods of the
 * values (nothing to coerce), none dropped, generated or of a domain type.
 */
static bool
plain_table(Relation rel, int ncolumns, const Oid *types, const int32 *typmods)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	if (!only_restore_triggers(rel) || rel->rd_rules != NULL || rel->rd_rel->relrowsecurity ||
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

/*
 * only_restore_triggers says whether every trigger an INSERT into rel fires
 * is a statement trigger calling streamext.note_restored_rows, and the
 * caller a background worker, for which it does nothing (commands.c).
 */
static bool
only_restore_triggers(Relation rel)
{
	TriggerDesc *trigdesc = rel->trigdesc;
	int			i;

	if (trigdesc == NULL)
		return true;
	if (!IsBackgroundWorker)
		return false;			/* where the note may have work to do */
	for (i = 0; i < trigdesc->numtriggers; i++)
	{
		Trigger    *trigger = &trigdesc->triggers[i];

		if (!TRIGGER_FOR_INSERT(trigger->tgtype))
			continue;
		if (TRIGGER_FOR_ROW(trigger->tgtype) || !is_restore_note(trigger->tgfoid))
			return false;
	}
	return true;
}

/*
 * is_restore_note says whether funcid is this library's
 * streamext_note_restored_rows (by language and C symbol, not by name: a
 * function replaced under the same name keeps its OID and may do more,
 * and is fired through an INSERT).
 */
static bool
is_restore_note(Oid funcid)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	bool		ours = false;

	if (HeapTupleIsValid(tuple))
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(tuple);
		bool		isnull;
		Datum		src = SysCacheGetAttr(PROCOID, tuple, Anum_pg_proc_prosrc, &isnull);

		ours = (proc->prolang == ClanguageId && !isnull &&
				strcmp(TextDatumGetCString(src), "streamext_note_restored_rows") == 0);
		ReleaseSysCache(tuple);
	}
	return ours;
}
