/*-------------------------------------------------------------------------
 *
 * shard_view.c
 *	  Shard views: a continuous view on one of several servers that hold a
 *	  stream's shards, whose partial states a coordinator combines
 *	  (distributed_view.c).
 *
 *	  publish_partials(view) gives a continuous view a second relation,
 *	  <view>_partials: per window and group the key and the aggregates'
 *	  transition states, as servers exchange them (agg_wire_write), not
 *	  their final values.  It is a plain view over the closed windows' table
 *	  (its states converted by partial_wire, given each row's ctid) UNION ALL read_partials(id),
 *	  the open windows, so that a postgres_fdw foreign table on a
 *	  coordinator reads it with its conditions on the key and the window
 *	  pushed down to the node, where the closed table is read by index.
 *	  No HAVING is applied here: only the combined states can decide it.
 *
 *	  shard_signature(id) is what a coordinator compares before it combines
 *	  a node's states with others' (view_plan_signature); the states carry
 *	  its hash, so that a shard view defined again later is refused at
 *	  read time too.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "storage/bufmgr.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_proc.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/snapmgr.h"

#include "catalog.h"
#include "shard_view.h"
#include "sqlfunc.h"
#include "view_plan.h"
#include "view_read.h"
#include "window.h"

PG_FUNCTION_INFO_V1(streamext_read_partials);
PG_FUNCTION_INFO_V1(streamext_partial_wire);
PG_FUNCTION_INFO_V1(streamext_shard_signature);
PG_FUNCTION_INFO_V1(streamext_publish_partials);


/*
 * streamext_read_partials returns the open windows of a continuous view as
 * rows of partial states (view_plan_partial_desc), for its _partials view.
 */
Datum
streamext_read_partials(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ViewReader	reader;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	view_reader_open_partial(&reader, PG_GETARG_INT32(0), rsinfo->setDesc,
							 rsinfo->econtext ? rsinfo->econtext->ecxt_estate : NULL);
	view_reader_read(&reader, NULL, -1, rsinfo->setResult, rsinfo->setDesc);
	return (Datum) 0;
}

/* what partial_wire keeps from one call to the next of a query */
typedef struct WireCall
{
	ViewReader	reader;
	Oid			slot_relid;		/* the closed table slot is made for */
	TupleTableSlot *slot;
	AttrNumber	states_attno;	/* its _state column */
	BlockNumber nblocks;		/* its size when last looked at */
} WireCall;

/*
 * streamext_partial_wire converts the states of a closed window's row (its
 * closed table's _state) into the form servers exchange.  It takes the
 * row's position, not its bytes: the stored form is memory images that
 * only the worker's own writes may give it, and a caller could pass any
 * bytea.  The view is opened, and a slot made, once per query, not per
 * row.
 */
Datum
streamext_partial_wire(PG_FUNCTION_ARGS)
{
	int32		view_id = PG_GETARG_INT32(0);
	ItemPointer tid = (ItemPointer) PG_GETARG_POINTER(1);
	WireCall   *call = fcinfo->flinfo->fn_extra;
	ViewPlan   *plan;
	Relation	rel;
	bool		isnull;
	Datum		states;
	bytea	   *result;

	if (call == NULL || call->reader.view_id != view_id)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		call = palloc0(sizeof(WireCall));
		/* it reads no open window */
		view_reader_open_partial(&call->reader, view_id, NULL, NULL);
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = call;
	}
	plan = call->reader.plan;
	if (!OidIsValid(plan->closed_relid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("continuous view \"%s\" has no closed windows", plan->name)));

	/* the scan that gave the position holds the lock already */
	rel = table_open(plan->closed_relid, AccessShareLock);
	/* the lock keeps the table's row type while the query runs */
	if (call->slot_relid != plan->closed_relid)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		call->slot = MakeSingleTupleTableSlot(CreateTupleDescCopy(RelationGetDescr(rel)),
											  table_slot_callbacks(rel));
		call->slot_relid = plan->closed_relid;
		call->states_attno = get_attnum(plan->closed_relid, "_state");
		call->nblocks = 0;
		MemoryContextSwitchTo(old);
	}
	/* a position past the end is refused; the size is looked up again only then */
	if (ItemPointerIsValid(tid) && ItemPointerGetBlockNumber(tid) >= call->nblocks)
		call->nblocks = RelationGetNumberOfBlocks(rel);
	if (call->states_attno == InvalidAttrNumber || !ItemPointerIsValid(tid) ||
		ItemPointerGetBlockNumber(tid) >= call->nblocks ||
		!table_tuple_fetch_row_version(rel, tid, GetActiveSnapshot(), call->slot))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no closed window of continuous view \"%s\" is at %s",
						plan->name,
						DatumGetCString(DirectFunctionCall1(tidout, PointerGetDatum(tid)))),
				 errhint("streamext.partial_wire is called by a shard view's _partials view with its closed rows' ctid.")));
	states = slot_getattr(call->slot, call->states_attno, &isnull);
	if (isnull)
		elog(ERROR, "streamext: a closed window of \"%s\" has no states", plan->name);
	result = view_reader_wire_states(&call->reader, DatumGetByteaPP(states));
	/* the slot pins the row's buffer until it is cleared */
	ExecClearTuple(call->slot);
	table_close(rel, AccessShareLock);
	PG_RETURN_BYTEA_P(result);
}

/*
 * streamext_shard_signature is view_plan_signature of continuous view
 * view_id, for streamext.shard_signatures (which a coordinator reads).
 */
Datum
streamext_shard_signature(PG_FUNCTION_ARGS)
{
	int32		view_id = PG_GETARG_INT32(0);
	ViewCatalogRow *row = catalog_view_as_of(view_id, GetActiveSnapshot());
	ViewPlan   *plan;

	if (row == NULL)
		PG_RETURN_NULL();
	plan = view_read_plan(view_id);
	if (plan == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(view_plan_signature(plan, row)));
}

/*
 * shard_view_key_names gives, for each group key of plan, the name of the
 * view's column that shows it; a key no column shows is an error (what,
 * e.g. "a shard view", names what needs it).  A coordinator groups states
 * by those columns and looks them up by them.
 */
char	  **
shard_view_key_names(ViewPlan *plan, const char *what)
{
	char	  **names = palloc0(sizeof(char *) * Max(plan->nkeys, 1));
	int			outcol = window_has_columns(&plan->window) ? 2 : 0;
	int			i;

	for (i = plan->nout - 1; i >= 0; i--)
		if (plan->output_key[i] >= 0)
			names[plan->output_key[i]] =
				NameStr(TupleDescAttr(plan->outdesc, outcol + i)->attname);
	for (i = 0; i < plan->nkeys; i++)
		if (names[i] == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s needs every GROUP BY key as a column", what),
					 errdetail("Key %d of \"%s\" is not one of its columns as such.", i + 1,
							   plan->name),
					 errhint("Select each grouping expression as a column of the view.")));
	return names;
}

/*
 * streamext_publish_partials makes a continuous view the caller owns a
 * shard view: creates <view>_partials beside it, which goes with it when
 * it is dropped.  Returns the new relation.
 */
Datum
streamext_publish_partials(PG_FUNCTION_ARGS)
{
	Oid			view_relid = PG_GETARG_OID(0);
	Oid			nsp = get_rel_namespace(view_relid);
	ViewCatalogRow *row;
	ViewPlan   *plan;
	char	  **keys;
	char	   *relname;
	char	   *qualified;
	StringInfoData cols;
	StringInfoData keylist;
	StringInfoData sql;
	Oid			partials;
	int			i;

	sqlfunc_check_setup();
	row = catalog_view_on_relation(view_relid);
	if (row == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 get_rel_name(view_relid) != NULL ?
				 errmsg("\"%s\" is not a continuous view", get_rel_name(view_relid)) :
				 errmsg("relation %u is not a continuous view", view_relid),
				 errhint("Create a shard view with streamext.create_shard_view().")));
	if (!pg_class_ownercheck(view_relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_VIEW, get_rel_name(view_relid));
	plan = view_read_plan(row->id);
	if (plan == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("continuous view \"%s\" is not computed yet", row->name),
				 errhint("SELECT * FROM streamext.adopt_restored(); computes it from its stream.")));
	if (plan->window.kind == WINDOW_SLIDING)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the partial states of sliding view \"%s\" cannot be combined with other servers'",
						row->name),
				 errhint("Each server slides the window to its own watermark; distribute a hopping window instead.")));
	agg_wire_check(&plan->aggs);
	keys = shard_view_key_names(plan, "a shard view");

	relname = psprintf("%s_partials", get_rel_name(view_relid));
	if (strlen(relname) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("the name of the partial states of \"%s\" would be too long",
						get_rel_name(view_relid)),
				 errhint("Give the view a name of at most %d bytes.", NAMEDATALEN - 10)));
	if (OidIsValid(get_relname_relid(relname, nsp)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s\" already exists", relname),
				 errhint("A shard view's partial states are named after it: rename or drop \"%s\".",
						 relname)));
	qualified = quote_qualified_identifier(get_namespace_name(nsp), relname);

	initStringInfo(&cols);
	initStringInfo(&keylist);
	for (i = 0; i < plan->nkeys; i++)
	{
		Form_pg_attribute key = TupleDescAttr(plan->keydesc, i);

		appendStringInfo(&keylist, "%s, ", quote_identifier(keys[i]));
		appendStringInfo(&cols, "%s %s, ", quote_identifier(keys[i]),
						 format_type_with_typemod(key->atttypid, key->atttypmod));
	}
	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE VIEW %s AS ", qualified);
	if (OidIsValid(row->closed_relid))
		appendStringInfo(&sql, "SELECT window_start, window_end, %sstreamext.partial_wire(%d, ctid) AS _state "
						 "FROM %s UNION ALL ",
						 keylist.data, row->id, catalog_qualified_name(row->closed_relid));
	appendStringInfo(&sql, "SELECT * FROM streamext.read_partials(%d) AS t(window_start timestamptz, "
					 "window_end timestamptz, %s_state bytea)", row->id, cols.data);

	SPI_connect();
	sqlfunc_spi_exec(sql.data, SPI_OK_UTILITY);
	SPI_finish();
	partials = get_relname_relid(relname, nsp);

	/* it goes when the view goes (drop_view, DROP VIEW) */
	{
		ObjectAddress partialsaddr;
		ObjectAddress viewaddr;

		ObjectAddressSet(partialsaddr, RelationRelationId, partials);
		ObjectAddressSet(viewaddr, RelationRelationId, view_relid);
		recordDependencyOn(&partialsaddr, &viewaddr, DEPENDENCY_AUTO);
	}
	PG_RETURN_OID(partials);
}
