/*-------------------------------------------------------------------------
 *
 * distributed_view.c
 *	  Distributed views: on a coordinator, one continuous view over a stream
 *	  sharded across several servers (nodes), combined exactly from the
 *	  partial states of each node's shard view (shard_view.c).
 *
 *	  create_distributed_view(name, query, nodes, ...) compiles the query
 *	  over a table of the stream's shape on the coordinator, checks that
 *	  every node (a postgres_fdw foreign server) has a shard view of that
 *	  name with the same signature, makes one foreign table per node over
 *	  the node's <name>_partials, and a plain view:
 *
 *		SELECT ... FROM
 *		  (SELECT window_start, window_end, keys...,
 *				  streamext.combine_partials(id, _state) AS _state
 *			 FROM (node 1's partials UNION ALL node 2's ...) u
 *			GROUP BY window_start, window_end, keys...) g,
 *		  LATERAL streamext.distributed_row(id, g._state, ...) r
 *
 *	  PostgreSQL pushes a condition on a key or on the window through the
 *	  grouping and the UNION ALL into each foreign scan, and postgres_fdw
 *	  sends it to the node, where the shard view's closed table is read by
 *	  index.  The functions the view calls to combine the states are in
 *	  distributed_combine.c.
 *
 *	  Why the nodes' shard views are made by a call on each node rather
 *	  than from here: postgres_fdw runs no DDL on a node, and making them
 *	  atomically from the coordinator needs dblink and two-phase commit on
 *	  every node (max_prepared_transactions, and credentials on the
 *	  coordinator that may create views on every node).  A call on each
 *	  node runs with that node's own privileges and ownership checks; the
 *	  coordinator then checks what each node computes before it combines
 *	  anything (view_plan_signature), and names the node that differs.
 *
 *	  A session view groups by key only (merge_sessions merges a key's
 *	  sessions across nodes).
 *
 *	  A node that cannot be reached fails the read with postgres_fdw's
 *	  error, which names its server: a read is never silently partial.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"

#include "catalog.h"
#include "shard_view.h"
#include "sqlfunc.h"
#include "view_plan.h"
#include "view_query.h"
#include "window.h"

PG_FUNCTION_INFO_V1(streamext_create_distributed_view);
PG_FUNCTION_INFO_V1(streamext_drop_distributed_view);
PG_FUNCTION_INFO_V1(streamext_distributed_progress);

static List *node_names(ArrayType *nodes);
static DistributedViewRow *distributed_view_of(const char *name);
static void check_node_server(const char *server);
static void check_node_signature(const char *server, const char *schema,
								 const char *partials, const char *signature);
static char *node_object_name(const char *relname, const char *infix,
							  const char *server, const char *kind);
static char *node_table_name(const char *relname, const char *server);
static char *progress_table_name(const char *relname, const char *server);
static char *coordinator_query(ViewPlan *plan, int32 id, char **keys, List *tables);

/*
 * node_names is the list of server names in nodes: at least one, no NULL,
 * none twice.
 */
static List *
node_names(ArrayType *nodes)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	List	   *names = NIL;

	if (ARR_NDIM(nodes) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nodes must be a one-dimensional array of server names")));
	deconstruct_array(nodes, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a distributed view needs at least one node"),
				 errhint("Pass the postgres_fdw servers of the nodes, e.g. nodes => ARRAY['node1', 'node2'].")));
	for (i = 0; i < n; i++)
	{
		char	   *name;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the nodes of a distributed view cannot be NULL"),
					 errhint("Pass the postgres_fdw servers of the nodes, e.g. nodes => ARRAY['node1', 'node2'].")));
		name = TextDatumGetCString(elems[i]);
		if (list_member(names, makeString(name)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("node \"%s\" is named twice", name),
					 errhint("Name each node's server once: its states would be counted twice.")));
		names = lappend(names, makeString(name));
	}
	return names;
}

/*
 * distributed_view_of is the distributed view whose relation name names
 * (qualified, or found on search_path), or an error.
 */
static DistributedViewRow *
distributed_view_of(const char *name)
{
	RangeVar   *rv = makeRangeVarFromNameList(stringToQualifiedNameList(name));
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);
	int32		id = OidIsValid(relid) ? catalog_distributed_view_on_relation(relid) : 0;
	DistributedViewRow *d = id != 0 ? catalog_distributed_view(id) : NULL;

	if (d == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("distributed view \"%s\" does not exist", name),
				 errhint("streamext.distributed_views lists the distributed views.")));
	return d;
}

/*
 * check_node_server checks that server is a postgres_fdw foreign server the
 * caller may use.
 */
static void
check_node_server(const char *server)
{
	ForeignServer *fs = GetForeignServerByName(server, false);
	ForeignDataWrapper *fdw = GetForeignDataWrapper(fs->fdwid);
	AclResult	aclresult;

	if (strcmp(fdw->fdwname, "postgres_fdw") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("server \"%s\" is not a postgres_fdw server", server),
				 errhint("Each node is a foreign server of postgres_fdw: CREATE SERVER ... FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host ..., dbname ...).")));
	aclresult = pg_foreign_server_aclcheck(fs->serverid, GetUserId(), ACL_USAGE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FOREIGN_SERVER, server);
}

/*
 * node_object_name is the name of a foreign table the view relname keeps
 * beside it for server: <relname>_on_<server> for its partial states
 * (kind "partial states", infix ""), <relname>_progress_on_<server> for
 * its shard views' progress (kind "progress", infix "_progress").
 */
static char *
node_object_name(const char *relname, const char *infix, const char *server,
				 const char *kind)
{
	char	   *name = psprintf("%s%s_on_%s", relname, infix, server);

	if (strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("the name of node \"%s\"'s %s of \"%s\" would be too long",
						server, kind, relname),
				 errhint("Shorten the view's name or the server's: the table is named view%s_on_server.",
						 infix)));
	return name;
}

/* node_table_name names server's partial states of the view relname */
static char *
node_table_name(const char *relname, const char *server)
{
	return node_object_name(relname, "", server, "partial states");
}

/* progress_table_name names server's shard views' progress for relname */
static char *
progress_table_name(const char *relname, const char *server)
{
	return node_object_name(relname, "_progress", server, "progress");
}

/*
 * check_node_signature reads, through a foreign table made for the look
 * and dropped again, the signature of server's shard view whose partial
 * states are schema.partials, and refuses one that differs from the
 * coordinator's signature, naming the first line that differs.
 */
static void
check_node_signature(const char *server, const char *schema, const char *partials,
					 const char *signature)
{
	char	   *probe = psprintf("%s.%s", quote_identifier(schema),
								 quote_identifier(psprintf("streamext_probe_%d", MyProcPid)));
	Datum		args[2] = {CStringGetTextDatum(schema), CStringGetTextDatum(partials)};
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	char	   *theirs;
	char	   *mine;
	char	   *theirs_line;
	char	   *mine_line;
	char	   *theirs_save;
	char	   *mine_save;

	sqlfunc_spi_exec(psprintf("CREATE FOREIGN TABLE %s (partials_schema name, partials_name name, "
							  "signature text) SERVER %s OPTIONS (schema_name 'streamext', "
							  "table_name 'shard_signatures')",
							  probe, quote_identifier(server)),
					 SPI_OK_UTILITY);
	if (SPI_execute_with_args(psprintf("SELECT signature FROM %s WHERE partials_schema = $1 "
									   "AND partials_name = $2", probe),
							  2, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not read the shard views of node \"%s\"", server);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("node \"%s\" has no shard view whose partial states are %s.%s",
						server, schema, partials),
				 errhint("On node \"%s\", call streamext.create_shard_view() with the same name and arguments as this view.",
						 server)));
	theirs = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	sqlfunc_spi_exec(psprintf("DROP FOREIGN TABLE %s", probe), SPI_OK_UTILITY);
	if (theirs != NULL && strcmp(theirs, signature) == 0)
		return;

	/* name the first difference */
	theirs = pstrdup(theirs ? theirs : "");
	mine = pstrdup(signature);
	theirs_line = strtok_r(theirs, "\n", &theirs_save);
	mine_line = strtok_r(mine, "\n", &mine_save);
	while (theirs_line != NULL && mine_line != NULL && strcmp(theirs_line, mine_line) == 0)
	{
		theirs_line = strtok_r(NULL, "\n", &theirs_save);
		mine_line = strtok_r(NULL, "\n", &mine_save);
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the shard view on node \"%s\" does not compute what this view computes", server),
			 errdetail("Node: %s; coordinator: %s.", theirs_line ? theirs_line : "(nothing)",
					   mine_line ? mine_line : "(nothing)"),
			 errhint("Every node runs the same PostgreSQL major version and extension versions, and a shard view made with the same query (over a stream of the same schema and name), window and time zone.")));
}

/*
 * coordinator_query is the query of the coordinator's view of plan (id
 * id): the nodes' foreign tables (qualified names) grouped by window and
 * key, each group's states combined, then made a row.
 */
static char *
coordinator_query(ViewPlan *plan, int32 id, char **keys, List *tables)
{
	StringInfoData sql;
	StringInfoData keylist;
	StringInfoData gkeys;
	ListCell   *lc;
	int			outcol = window_has_columns(&plan->window) ? 2 : 0;
	int			i;

	initStringInfo(&keylist);
	initStringInfo(&gkeys);
	for (i = 0; i < plan->nkeys; i++)
	{
		appendStringInfo(&keylist, ", %s", quote_identifier(keys[i]));
		appendStringInfo(&gkeys, ", g.%s", quote_identifier(keys[i]));
	}

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	if (plan->window.kind == WINDOW_SESSION)
		appendStringInfoString(&sql, "r.window_start, r.window_end");
	else if (outcol == 2)
		appendStringInfoString(&sql, "g.window_start, g.window_end");
	for (i = 0; i < plan->nout; i++)
	{
		const char *col = NameStr(TupleDescAttr(plan->outdesc, outcol + i)->attname);

		if (i > 0 || outcol == 2)
			appendStringInfoString(&sql, ", ");
		/* a key as such comes from the grouping, so conditions on it go to the nodes */
		if (plan->output_key[i] >= 0)
			appendStringInfo(&sql, "g.%s AS %s", quote_identifier(keys[plan->output_key[i]]),
							 quote_identifier(col));
		else
			appendStringInfo(&sql, "r.%s", quote_identifier(col));
	}
	if (plan->window.kind == WINDOW_SESSION)
		appendStringInfo(&sql, " FROM (SELECT NULL::timestamptz AS window_start, "
						 "NULL::timestamptz AS window_end%s, streamext.merge_sessions(%d, "
						 "window_start, window_end, _state) AS _state FROM (",
						 keylist.data, id);
	else
		appendStringInfo(&sql, " FROM (SELECT window_start, window_end%s, "
						 "streamext.combine_partials(%d, _state) AS _state FROM (",
						 keylist.data, id);
	foreach(lc, tables)
	{
		if (lc != list_head(tables))
			appendStringInfoString(&sql, " UNION ALL ");
		appendStringInfo(&sql, "SELECT * FROM %s", (char *) lfirst(lc));
	}
	appendStringInfo(&sql, ") AS u GROUP BY %s%s) AS g, "
					 "LATERAL streamext.distributed_row(%d, g._state, g.window_start, g.window_end%s) AS r(",
					 plan->window.kind == WINDOW_SESSION ? "()" : "window_start, window_end",
					 keylist.data, id, gkeys.data);
	for (i = 0; i < plan->outdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(plan->outdesc, i);

		appendStringInfo(&sql, "%s%s %s", i > 0 ? ", " : "", quote_identifier(NameStr(att->attname)),
						 format_type_with_typemod(att->atttypid, att->atttypmod));
	}
	appendStringInfoChar(&sql, ')');
	return sql.data;
}

/*
 * streamext_create_distributed_view defines a distributed view: see the
 * file's comment.  Arguments: name, query, nodes, "window", lateness,
 * time_zone.
 */
Datum
streamext_create_distributed_view(PG_FUNCTION_ARGS)
{
	char	   *name;
	RangeVar   *rv;
	Oid			nsp;
	char	   *schema;
	Query	   *query;
	Oid			relid;
	List	   *nodes;
	DistributedViewRow d;
	ViewCatalogRow *row = &d.view;
	WindowSpec	spec;
	char	   *untrusted;
	ViewPlan   *plan;
	char	  **keys;
	char	   *signature;
	List	   *tables = NIL;
	ListCell   *lc;
	StringInfoData cols;
	CatalogAccess ca;
	Interval   *lateness;
	AclResult	aclresult;
	Oid			view_relid;
	int32		id;
	int			i;

	sqlfunc_check_setup();
	sqlfunc_check_arg_not_null(fcinfo, 0, "the name of a distributed view",
							   "Pass the name of the view to create, e.g. 'clicks_per_minute'.");
	sqlfunc_check_arg_not_null(fcinfo, 1, "the query of a distributed view",
							   "Pass the query the view computes, e.g. $$ SELECT url, count(*) AS hits FROM clicks GROUP BY url $$.");
	sqlfunc_check_arg_not_null(fcinfo, 2, "the nodes of a distributed view",
							   "Pass the postgres_fdw servers of the nodes, e.g. nodes => ARRAY['node1', 'node2'].");
	sqlfunc_check_arg_not_null(fcinfo, 4, "the lateness of a distributed view",
							   "Pass the lateness the nodes' shard views have, e.g. '0 seconds'.");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	rv = makeRangeVarFromNameList(stringToQualifiedNameList(name));
	nsp = RangeVarGetCreationNamespace(rv);
	schema = get_namespace_name(nsp);
	if (OidIsValid(get_relname_relid(rv->relname, nsp)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s\" already exists", name),
				 errhint("Choose another name, or drop the existing view.")));
	nodes = node_names(PG_GETARG_ARRAYTYPE_P(2));
	lateness = PG_GETARG_INTERVAL_P(4);

	memset(&d, 0, sizeof(d));
	row->distributed = true;
	/* the catalog names it qualified: the worker and other roles find it so */
	row->name = quote_qualified_identifier(schema, rv->relname);
	row->window_text = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	row->time_zone = PG_ARGISNULL(5) ? NULL :
		window_zone_name(text_to_cstring(PG_GETARG_TEXT_PP(5)));
	row->lateness_usec = interval_usecs(lateness);
	window_parse(row->window_text, row->time_zone, &spec);
	if (spec.kind == WINDOW_SLIDING)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a sliding window cannot be distributed"),
				 errhint("Each node slides the window to its own watermark; use a hopping window instead.")));
	query = view_def_analyze_distributed(text_to_cstring(PG_GETARG_TEXT_PP(1)), &relid);
	aclresult = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_TABLE, get_rel_name(relid));
	row->stream_relid = relid;
	row->query = text_to_cstring(PG_GETARG_TEXT_PP(1));
	row->query_tree = nodeToString(query);
	row->definition = deparse_qualified_query(query);

	/* what the nodes must compute alike */
	plan = view_plan_build(row, CurrentMemoryContext);
	keys = shard_view_key_names(plan, "a distributed view");
	agg_wire_check(&plan->aggs);
	signature = view_plan_signature(plan, row);

	/*
	 * The aggregates' deserial (or receive) functions read what the nodes
	 * send.  PostgreSQL's own check their input; an extension's (hll's)
	 * may trust it: then the nodes must be servers only a superuser can
	 * point elsewhere, and the view a superuser's, whose user mappings
	 * reach them.
	 */
	untrusted = agg_wire_untrusted(&plan->aggs);
	if (untrusted != NULL && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only a superuser may create distributed view \"%s\"", name),
				 errdetail("%s, which trusts its input: the coordinator would run it on whatever the nodes send.",
						   untrusted),
				 errhint("Ask a superuser to create it, over servers a superuser owns.")));

	SPI_connect();
	foreach(lc, nodes)
	{
		const char *server = strVal(lfirst(lc));

		check_node_server(server);
		if (untrusted != NULL && !superuser_arg(GetForeignServerByName(server, false)->owner))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("server \"%s\" is not owned by a superuser", server),
					 errdetail("%s, which trusts its input: whoever owns the server could point it at states of their own.",
							   untrusted),
					 errhint("ALTER SERVER %s OWNER TO a superuser.", quote_identifier(server))));
		check_node_signature(server, schema, psprintf("%s_partials", rv->relname), signature);
	}

	/* one foreign table per node over its partial states */
	initStringInfo(&cols);
	for (i = 0; i < plan->nkeys; i++)
	{
		Form_pg_attribute key = TupleDescAttr(plan->keydesc, i);

		appendStringInfo(&cols, "%s %s, ", quote_identifier(keys[i]),
						 format_type_with_typemod(key->atttypid, key->atttypmod));
	}
	foreach(lc, nodes)
	{
		const char *server = strVal(lfirst(lc));
		char	   *table = quote_qualified_identifier(schema,
													   node_table_name(rv->relname, server));

		/*
		 * Every node's rows are fetched in large batches, and the nodes
		 * are read at the same time (postgres_fdw's asynchronous Append).
		 */
		sqlfunc_spi_exec(psprintf("CREATE FOREIGN TABLE %s (window_start timestamptz, "
								  "window_end timestamptz, %s_state bytea) SERVER %s "
								  "OPTIONS (schema_name %s, table_name %s, fetch_size '10000', "
								  "async_capable 'true')",
								  table, cols.data, quote_identifier(server),
								  quote_literal_cstr(schema),
								  quote_literal_cstr(psprintf("%s_partials", rv->relname))),
						 SPI_OK_UTILITY);
		tables = lappend(tables, table);
		d.node_tables = lappend_oid(d.node_tables,
									get_relname_relid(node_table_name(rv->relname, server), nsp));
		sqlfunc_spi_exec(psprintf("CREATE FOREIGN TABLE %s (partials_schema name, "
								  "partials_name name, closed_upto timestamptz, "
								  "max_event_time timestamptz) SERVER %s "
								  "OPTIONS (schema_name 'streamext', table_name 'shard_views')",
								  quote_qualified_identifier(schema,
															 progress_table_name(rv->relname, server)),
								  quote_identifier(server)),
						 SPI_OK_UTILITY);
		d.progress_tables = lappend_oid(d.progress_tables,
										get_relname_relid(progress_table_name(rv->relname, server),
														  nsp));
		d.nodes = lappend(d.nodes, pstrdup(server));
	}

	id = catalog_next_distributed_id();
	sqlfunc_spi_exec(psprintf("CREATE VIEW %s AS %s",
							  quote_qualified_identifier(schema, rv->relname),
							  coordinator_query(plan, id, keys, tables)),
					 SPI_OK_UTILITY);
	view_relid = get_relname_relid(rv->relname, nsp);
	row->id = id;
	row->view_relid = view_relid;
	catalog_owner_enter(&ca);
	/* rows of views DROP VIEW dropped */
	catalog_forget_dropped_distributed_views();
	catalog_insert_distributed_view(&d, lateness);
	catalog_owner_leave(&ca);

	/* the nodes' tables go with the view; the view needs its table's shape */
	{
		ObjectAddress viewaddr;
		ObjectAddress addr;

		ObjectAddressSet(viewaddr, RelationRelationId, view_relid);
		ObjectAddressSet(addr, RelationRelationId, relid);
		recordDependencyOn(&viewaddr, &addr, DEPENDENCY_NORMAL);
		foreach(lc, d.node_tables)
		{
			ObjectAddressSet(addr, RelationRelationId, lfirst_oid(lc));
			recordDependencyOn(&addr, &viewaddr, DEPENDENCY_AUTO);
		}
		foreach(lc, d.progress_tables)
		{
			ObjectAddressSet(addr, RelationRelationId, lfirst_oid(lc));
			recordDependencyOn(&addr, &viewaddr, DEPENDENCY_AUTO);
		}
	}
	SPI_finish();
	view_plan_free(plan);
	PG_RETURN_VOID();
}

/*
 * streamext_drop_distributed_view drops a distributed view the caller owns,
 * with its nodes' foreign tables; the nodes' shard views stay.
 */
Datum
streamext_drop_distributed_view(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	DistributedViewRow *d;
	char	   *subname;
	CatalogAccess ca;

	sqlfunc_check_setup();
	d = distributed_view_of(name);
	if ((subname = catalog_subscription_on_source(d->view.view_relid)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("distributed view \"%s\" has subscription \"%s\"", name, subname),
				 errhint("Drop its subscriptions first with streamext.drop_subscription().")));
	if (!pg_class_ownercheck(d->view.view_relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_VIEW, get_rel_name(d->view.view_relid));
	SPI_connect();
	sqlfunc_spi_exec(psprintf("DROP VIEW %s",
							  quote_qualified_identifier(get_namespace_name(get_rel_namespace(d->view.view_relid)),
														 get_rel_name(d->view.view_relid))),
					 SPI_OK_UTILITY);
	catalog_owner_enter(&ca);
	catalog_delete_distributed_view(d->view.id);
	catalog_owner_leave(&ca);
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * streamext_distributed_progress returns, per node of distributed view
 * name, how far its shard view has closed its windows and the greatest
 * event time it has seen, as the node's snapshot sees them: a window of
 * the distributed view is final once every node's closed_upto has passed
 * its end.  Reads every node; a node down fails it, by its server's name.
 */
Datum
streamext_distributed_progress(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	DistributedViewRow *d;
	ListCell   *server_cell;
	ListCell   *progress_cell;
	ListCell   *node_cell;
	AclResult	aclresult;

	InitMaterializedSRF(fcinfo, 0);
	d = distributed_view_of(name);
	aclresult = pg_class_aclcheck(d->view.view_relid, GetUserId(), ACL_SELECT);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_VIEW, get_rel_name(d->view.view_relid));

	SPI_connect();
	forthree(server_cell, d->nodes, progress_cell, d->progress_tables, node_cell, d->node_tables)
	{
		const char *server = lfirst(server_cell);
		Oid			progress = lfirst_oid(progress_cell);
		ForeignTable *partials = GetForeignTable(lfirst_oid(node_cell));
		char	   *remote_schema = NULL;
		char	   *remote_name = NULL;
		ListCell   *lc;
		Datum		args[2];
		Oid			argtypes[2] = {TEXTOID, TEXTOID};
		Datum		values[3];
		bool		nulls[3] = {false, true, true};

		/* the node's partial states, as the foreign table names them */
		foreach(lc, partials->options)
		{
			DefElem    *opt = lfirst(lc);

			if (strcmp(opt->defname, "schema_name") == 0)
				remote_schema = defGetString(opt);
			else if (strcmp(opt->defname, "table_name") == 0)
				remote_name = defGetString(opt);
		}
		if (remote_schema == NULL || remote_name == NULL || get_rel_name(progress) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the foreign tables of node \"%s\" of distributed view \"%s\" were changed",
							server, get_rel_name(d->view.view_relid)),
					 errhint("Drop and create the distributed view again.")));
		args[0] = CStringGetTextDatum(remote_schema);
		args[1] = CStringGetTextDatum(remote_name);
		if (SPI_execute_with_args(psprintf("SELECT closed_upto, max_event_time FROM %s "
										   "WHERE partials_schema = $1 AND partials_name = $2",
										   quote_qualified_identifier(get_namespace_name(get_rel_namespace(progress)),
																	  get_rel_name(progress))),
								  2, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "streamext: could not read the progress of node \"%s\"", server);
		if (SPI_processed != 1)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("node \"%s\" has no shard view whose partial states are %s.%s",
							server, remote_schema, remote_name),
					 errhint("On node \"%s\", call streamext.create_shard_view() with the same name and arguments as this view.",
							 server)));
		values[0] = CStringGetTextDatum(server);
		values[1] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &nulls[1]);
		values[2] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &nulls[2]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}
