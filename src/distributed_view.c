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
 *	  index.  combine_partials deserialises each node's states and combines
 *	  them with the aggregates' own combine functions, in C behind the
 *	  view owner's gate (those functions refuse to run outside an aggregate,
 *	  and internal states cannot pass through SQL); distributed_row
 *	  finalises them and computes the view's outputs and HAVING.
 *
 *	  Why the nodes' shard views are made by a call on each node rather
 *	  than from here: postgres_fdw runs no DDL on a node, and making them
 *	  atomically from the coordinator needs dblink and two-phase commit on
 *	  every node (max_prepared_transactions, and credentials on the
 *	  coordinator that may create views on every node).  A call on each
 *	  node runs with that node's own privileges and ownership checks; the
 *	  coordinator then checks what each node computes before it combines
 *	  anything (shard_view_signature), and names the node that differs.
 *
 *	  A session view groups by key only: merge_sessions takes every node's
 *	  sessions of a key and merges those that overlap (a session ends the
 *	  gap after its last event, so two nodes' sessions overlap exactly when
 *	  some events of theirs are less than the gap apart, as one server
 *	  would have merged them), whatever key the stream is sharded by;
 *	  distributed_row then makes a row of each merged session.
 *
 *	  A node that cannot be reached fails the read with postgres_fdw's
 *	  error, which names its server: a read is never silently partial.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "common/hmac.h"
#include "common/sha2.h"
#include "executor/executor.h"
#include "foreign/foreign.h"
#include "libpq/pqformat.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "port/pg_bswap.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "hooks.h"
#include "shard_view.h"
#include "sqlfunc.h"
#include "usercode.h"
#include "view_plan.h"
#include "view_query.h"
#include "window.h"

PG_FUNCTION_INFO_V1(streamext_create_distributed_view);
PG_FUNCTION_INFO_V1(streamext_drop_distributed_view);
PG_FUNCTION_INFO_V1(streamext_combine_partials_step);
PG_FUNCTION_INFO_V1(streamext_combine_partials_final);
PG_FUNCTION_INFO_V1(streamext_distributed_row);
PG_FUNCTION_INFO_V1(streamext_merge_sessions_step);
PG_FUNCTION_INFO_V1(streamext_merge_sessions_final);
PG_FUNCTION_INFO_V1(streamext_distributed_progress);

/* the bytes of the seal on combined states (seal_states) */
#define STATES_MAC_LEN 16

/* a distributed view compiled for this transaction and user */
typedef struct DistributedPlan
{
	int32		id;
	Oid			userid;
	ViewPlan   *plan;
	List	   *node_tables;	/* OIDs of its nodes' partial states */
} DistributedPlan;

/*
 * the aggregate state of combine_partials: one group's states from each
 * node, combined by the final function behind one gate for the group (a
 * gate per node's row cost a fifth of a read)
 */
typedef struct CombinedStates
{
	ViewPlan   *plan;
	List	   *parts;			/* bytea, in the aggregate's memory */
} CombinedStates;

/* one node's session of a key, as merge_sessions collects them */
typedef struct NodeSession
{
	TimestampTz start;
	TimestampTz end;
	bytea	   *states;
} NodeSession;

/* the aggregate state of merge_sessions: a key's sessions from every node */
typedef struct KeySessions
{
	ViewPlan   *plan;
	List	   *sessions;		/* NodeSession */
} KeySessions;

static List *node_names(ArrayType *nodes);
static DistributedViewRow *distributed_view_of(const char *name);
static void check_node_server(const char *server);
static void check_node_signature(const char *server, const char *schema,
								 const char *partials, const char *signature);
static char *node_table_name(const char *relname, const char *server);
static char *progress_table_name(const char *relname, const char *server);
static char *coordinator_query(ViewPlan *plan, int32 id, char **keys, List *tables);
static DistributedPlan *distributed_plan(int32 id);
static void check_states_come_from_nodes(FunctionCallInfo fcinfo, DistributedPlan *dp,
										 int argno);
static bool states_from_node_tables(PlanState *ps, AttrNumber attno, DistributedPlan *dp);
static void states_mac(int32 id, const char *data, Size len, uint8 *mac);
static bytea *seal_states(int32 id, bytea *states);
static void unseal_states(int32 id, bytea *sealed, const char **data, Size *len);
static int	session_cmp(const ListCell *a, const ListCell *b);
static bytea *combine_wire(ViewPlan *plan, List *states);

static List *cached_plans = NIL;	/* DistributedPlan, of cached_lxid */
static LocalTransactionId cached_lxid = InvalidLocalTransactionId;

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
 * node_table_name is the name of the foreign table of server's partial
 * states of the view relname, beside the view.
 */
static char *
node_table_name(const char *relname, const char *server)
{
	char	   *name = psprintf("%s_on_%s", relname, server);

	if (strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("the name of node \"%s\"'s partial states of \"%s\" would be too long",
						server, relname),
				 errhint("Shorten the view's name or the server's: the table is named view_on_server.")));
	return name;
}

/*
 * progress_table_name is the name of the foreign table of server's shard
 * views' progress, for the view relname, beside the view.
 */
static char *
progress_table_name(const char *relname, const char *server)
{
	char	   *name = psprintf("%s_progress_on_%s", relname, server);

	if (strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("the name of node \"%s\"'s progress of \"%s\" would be too long",
						server, relname),
				 errhint("Shorten the view's name or the server's: the table is named view_progress_on_server.")));
	return name;
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
 * distributed_plan is distributed view id compiled for this transaction,
 * once the caller is found to be allowed to read it: combine_partials and
 * distributed_row take raw states, so they serve only readers of the view.
 */
static DistributedPlan *
distributed_plan(int32 id)
{
	ListCell   *lc;
	DistributedPlan *entry;
	DistributedViewRow *d;
	ViewCatalogRow *row;
	MemoryContext old;
	AclResult	aclresult;

	if (cached_lxid != MyProc->lxid)
	{
		/* the plans of an earlier transaction went with its memory */
		cached_plans = NIL;
		cached_lxid = MyProc->lxid;
	}
	foreach(lc, cached_plans)
	{
		entry = lfirst(lc);
		if (entry->id == id && entry->userid == GetUserId())
			return entry;
	}
	old = MemoryContextSwitchTo(TopTransactionContext);
	d = catalog_distributed_view(id);
	row = d ? &d->view : NULL;
	if (row == NULL || get_rel_name(row->view_relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("distributed view %d does not exist", id),
				 errhint("streamext.distributed_view_def lists the distributed views.")));
	aclresult = pg_class_aclcheck(row->view_relid, GetUserId(), ACL_SELECT);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_VIEW, get_rel_name(row->view_relid));
	entry = palloc0(sizeof(DistributedPlan));
	entry->id = id;
	entry->userid = GetUserId();
	entry->plan = view_plan_build(row, TopTransactionContext);
	entry->plan->wire_signature = view_plan_wire_signature(entry->plan, row);
	/* by OID: a table of the same name made since is not one of them */
	entry->node_tables = d->node_tables;
	cached_plans = lappend(cached_plans, entry);
	MemoryContextSwitchTo(old);
	return entry;
}

/*
 * states_from_node_tables says whether column attno of what ps returns is,
 * whatever plan nodes pass it up (sorts, appends, subquery scans), the
 * _state column of one of dp's nodes' foreign tables, as the node sent it.
 */
static bool
states_from_node_tables(PlanState *ps, AttrNumber attno, DistributedPlan *dp)
{
	Plan	   *plan = ps->plan;
	TargetEntry *tle;
	Var		   *var;
	int			i;

	if (attno < 1 || attno > list_length(plan->targetlist))
		return false;
	tle = list_nth_node(TargetEntry, plan->targetlist, attno - 1);
	if (!IsA(tle->expr, Var))
		return false;
	var = (Var *) tle->expr;
	switch (nodeTag(ps))
	{
		case T_SortState:
		case T_IncrementalSortState:
		case T_MaterialState:
		case T_MemoizeState:
		case T_ResultState:
			return var->varno == OUTER_VAR && outerPlanState(ps) != NULL &&
				states_from_node_tables(outerPlanState(ps), var->varattno, dp);
		case T_AppendState:
			{
				AppendState *as = (AppendState *) ps;

				for (i = 0; i < as->as_nplans; i++)
					if (!states_from_node_tables(as->appendplans[i], var->varattno, dp))
						return false;
				return var->varno == OUTER_VAR;
			}
		case T_MergeAppendState:
			{
				MergeAppendState *ms = (MergeAppendState *) ps;

				for (i = 0; i < ms->ms_nplans; i++)
					if (!states_from_node_tables(ms->mergeplans[i], var->varattno, dp))
						return false;
				return var->varno == OUTER_VAR;
			}
		case T_SubqueryScanState:
			return var->varno == ((Scan *) plan)->scanrelid &&
				states_from_node_tables(((SubqueryScanState *) ps)->subplan, var->varattno, dp);
		case T_ForeignScanState:
			{
				Index		scanrelid = ((Scan *) plan)->scanrelid;
				Oid			relid;

				/* a join or aggregate done by the node has no base relation */
				if (scanrelid == 0 || var->varno != scanrelid)
					return false;
				relid = exec_rt_fetch(scanrelid, ps->state)->relid;
				return list_member_oid(dp->node_tables, relid) &&
					var->varattno == get_attnum(relid, "_state");
			}
		default:
			return false;
	}
}

/*
 * check_states_come_from_nodes refuses states (argument argno of an
 * aggregate) that do not come straight from the nodes' partial states of
 * the view: the aggregates' deserial functions (hll's, say) trust their
 * input, which only the nodes' serial functions made.  Checked once per
 * aggregate in a query (fn_extra remembers).
 */
static void
check_states_come_from_nodes(FunctionCallInfo fcinfo, DistributedPlan *dp, int argno)
{
	Aggref	   *aggref = AggGetAggref(fcinfo);
	TargetEntry *arg;
	Var		   *var;

	if (fcinfo->flinfo->fn_extra == dp)
		return;
	if (aggref == NULL || !IsA(fcinfo->context, AggState) ||
		list_length(aggref->args) <= argno)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("streamext.combine_partials and streamext.merge_sessions serve only the query of a distributed view"),
				 errhint("Read the distributed view itself.")));
	arg = list_nth_node(TargetEntry, aggref->args, argno);
	var = (Var *) arg->expr;
	if (!IsA(var, Var) || var->varno != OUTER_VAR ||
		outerPlanState((AggState *) fcinfo->context) == NULL ||
		!states_from_node_tables(outerPlanState((AggState *) fcinfo->context), var->varattno, dp))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("streamext.%s combines only the states the nodes of distributed view \"%s\" send",
						get_func_name(aggref->aggfnoid), dp->plan->name),
				 errhint("Read the distributed view itself; its states come from its nodes' foreign tables.")));
	fcinfo->flinfo->fn_extra = dp;
}

/* the key of this backend's seals on combined states (seal_states) */
static uint8 seal_key[32];
static bool seal_key_made = false;

/* states_mac is the HMAC of distributed view id's states data */
static void
states_mac(int32 id, const char *data, Size len, uint8 *mac)
{
	pg_hmac_ctx *ctx;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	int32		netid = pg_hton32(id);

	if (!seal_key_made)
	{
		if (!pg_strong_random(seal_key, sizeof(seal_key)))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate a random key")));
		seal_key_made = true;
	}
	ctx = pg_hmac_create(PG_SHA256);
	if (ctx == NULL ||
		pg_hmac_init(ctx, seal_key, sizeof(seal_key)) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) &netid, sizeof(netid)) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) data, len) < 0 ||
		pg_hmac_final(ctx, digest, sizeof(digest)) < 0)
	{
		const char *why = ctx ? pg_hmac_error(ctx) : "out of memory";

		pg_hmac_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute an HMAC: %s", why)));
	}
	pg_hmac_free(ctx);
	memcpy(mac, digest, STATES_MAC_LEN);
}

/*
 * seal_states appends to a group's combined states (what combine_partials
 * and merge_sessions return) a MAC keyed by a secret of this backend, so
 * that distributed_row, which any reader can call, takes only what those
 * aggregates made from the nodes' states (check_states_come_from_nodes),
 * never bytes a caller wrote.
 */
static bytea *
seal_states(int32 id, bytea *states)
{
	Size		len = VARSIZE_ANY_EXHDR(states);
	bytea	   *sealed = palloc(VARHDRSZ + len + STATES_MAC_LEN);

	SET_VARSIZE(sealed, VARHDRSZ + len + STATES_MAC_LEN);
	memcpy(VARDATA(sealed), VARDATA_ANY(states), len);
	states_mac(id, VARDATA_ANY(states), len, (uint8 *) VARDATA(sealed) + len);
	return sealed;
}

/* unseal_states checks a seal_states seal and gives the states under it */
static void
unseal_states(int32 id, bytea *sealed, const char **data, Size *len)
{
	uint8		mac[STATES_MAC_LEN];
	Size		total = VARSIZE_ANY_EXHDR(sealed);

	if (total < STATES_MAC_LEN)
		*len = 0;
	else
	{
		*len = total - STATES_MAC_LEN;
		*data = VARDATA_ANY(sealed);
		states_mac(id, *data, *len, mac);
	}
	if (total < STATES_MAC_LEN || timingsafe_bcmp(mac, *data + *len, STATES_MAC_LEN) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("streamext.distributed_row takes only states that combine_partials or merge_sessions made in this session"),
				 errhint("Read the distributed view itself.")));
}

/*
 * streamext_combine_partials_step is the transition function of
 * combine_partials(view_id, states): it keeps one node's states of a group
 * for the final function.
 */
Datum
streamext_combine_partials_step(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	CombinedStates *combined = PG_ARGISNULL(0) ? NULL : (CombinedStates *) PG_GETARG_POINTER(0);
	MemoryContext old;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("streamext.combine_partials_step can only be called as an aggregate")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the view id of streamext.combine_partials cannot be NULL")));
	if (PG_ARGISNULL(2))
	{
		/* a NULL state as long as no node gave one */
		if (combined == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(combined);
	}
	if (combined == NULL)
	{
		DistributedPlan *dp = distributed_plan(PG_GETARG_INT32(1));

		check_states_come_from_nodes(fcinfo, dp, 1);
		combined = MemoryContextAllocZero(aggcxt, sizeof(CombinedStates));
		combined->plan = dp->plan;
	}
	old = MemoryContextSwitchTo(aggcxt);
	combined->parts = lappend(combined->parts, PG_GETARG_BYTEA_P_COPY(2));
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(combined);
}

/*
 * streamext_combine_partials_final is the final function of
 * combine_partials: the group's states combined, as servers exchange them.
 */
Datum
streamext_combine_partials_final(PG_FUNCTION_ARGS)
{
	CombinedStates *combined;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	combined = (CombinedStates *) PG_GETARG_POINTER(0);
	PG_RETURN_BYTEA_P(seal_states(combined->plan->id,
								  combine_wire(combined->plan, combined->parts)));
}

/*
 * streamext_distributed_row returns the row of one group of distributed
 * view view_id from its combined states, window and keys (the fifth
 * argument on), or no row when HAVING rejects it.
 */
Datum
streamext_distributed_row(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ViewPlan   *plan;
	TupleDesc	desc;
	AggValue   *values;
	Datum	   *keys;
	bool	   *keynulls;
	Datum	   *out;
	bool	   *outnulls;
	const char *data = NULL;
	Size		len;
	UserCodeGate gate;
	int			i;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the view id of streamext.distributed_row cannot be NULL")));
	if (PG_ARGISNULL(1))
		return (Datum) 0;
	plan = distributed_plan(PG_GETARG_INT32(0))->plan;
	desc = rsinfo->setDesc;
	if (desc->natts != plan->outdesc->natts || PG_NARGS() - 4 != plan->nkeys)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("streamext.distributed_row(%d) was not called as the view calls it",
						plan->id)));
	for (i = 0; i < desc->natts; i++)
		if (TupleDescAttr(desc, i)->atttypid != TupleDescAttr(plan->outdesc, i)->atttypid)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column %d of streamext.distributed_row(%d) is of type %s, the view's is %s",
							i + 1, plan->id, format_type_be(TupleDescAttr(desc, i)->atttypid),
							format_type_be(TupleDescAttr(plan->outdesc, i)->atttypid))));

	keys = palloc(sizeof(Datum) * Max(plan->nkeys, 1));
	keynulls = palloc(sizeof(bool) * Max(plan->nkeys, 1));
	for (i = 0; i < plan->nkeys; i++)
	{
		if (get_fn_expr_argtype(fcinfo->flinfo, 4 + i) !=
			TupleDescAttr(plan->keydesc, i)->atttypid)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("key %d of streamext.distributed_row(%d) is not of the view's key type %s",
							i + 1, plan->id,
							format_type_be(TupleDescAttr(plan->keydesc, i)->atttypid))));
		keys[i] = PG_GETARG_DATUM(4 + i);
		keynulls[i] = PG_ARGISNULL(4 + i);
	}
	unseal_states(plan->id, PG_GETARG_BYTEA_PP(1), &data, &len);
	values = palloc0(sizeof(AggValue) * Max(plan->aggs.naggs, 1));
	out = palloc(sizeof(Datum) * desc->natts);
	outnulls = palloc(sizeof(bool) * desc->natts);
	/* one gate for the group: view_plan_output's own is then free */
	usercode_enter(&gate, plan->owner, USERCODE_READ_ONLY);
	if (plan->window.kind != WINDOW_SESSION)
	{
		agg_wire_read(&plan->aggs, data, len, values, CurrentMemoryContext,
					  plan->wire_signature);
		if (view_plan_output(plan,
							 PG_ARGISNULL(2) ? DT_NOBEGIN : PG_GETARG_TIMESTAMPTZ(2),
							 PG_ARGISNULL(3) ? DT_NOEND : PG_GETARG_TIMESTAMPTZ(3),
							 keys, keynulls, values, out, outnulls))
			tuplestore_putvalues(rsinfo->setResult, desc, out, outnulls);
	}
	else
	{
		/* a key's merged sessions (merge_sessions_final): a row each */
		StringInfoData msg;
		int			n;

		msg.data = (char *) data;
		msg.len = msg.maxlen = len;
		msg.cursor = 0;
		n = pq_getmsgint(&msg, 4);
		for (i = 0; i < n; i++)
		{
			TimestampTz start = pq_getmsgint64(&msg);
			TimestampTz end = pq_getmsgint64(&msg);
			int			stateslen = pq_getmsgint(&msg, 4);
			const char *bytes = pq_getmsgbytes(&msg, stateslen);

			agg_wire_read(&plan->aggs, bytes, stateslen, values, CurrentMemoryContext,
						  plan->wire_signature);
			if (view_plan_output(plan, start, end, keys, keynulls, values, out, outnulls))
				tuplestore_putvalues(rsinfo->setResult, desc, out, outnulls);
		}
		pq_getmsgend(&msg);
	}
	usercode_leave(&gate);
	return (Datum) 0;
}

/* session_cmp orders NodeSessions by start */
static int
session_cmp(const ListCell *a, const ListCell *b)
{
	NodeSession *sa = lfirst(a);
	NodeSession *sb = lfirst(b);

	return sa->start < sb->start ? -1 : (sa->start > sb->start ? 1 : 0);
}

/*
 * combine_wire combines a list of states (bytea, as servers exchange them)
 * into one, behind the view owner's gate.
 */
static bytea *
combine_wire(ViewPlan *plan, List *states)
{
	AggValue   *into = palloc0(sizeof(AggValue) * Max(plan->aggs.naggs, 1));
	AggValue   *values = palloc0(sizeof(AggValue) * Max(plan->aggs.naggs, 1));
	UserCodeGate gate;
	bytea	   *result;
	ListCell   *lc;

	if (list_length(states) == 1)
		return linitial(states);
	usercode_enter(&gate, plan->owner, USERCODE_READ_ONLY);
	agg_init_values(&plan->aggs, into, CurrentMemoryContext);
	foreach(lc, states)
	{
		bytea	   *s = lfirst(lc);

		agg_wire_read(&plan->aggs, VARDATA_ANY(s), VARSIZE_ANY_EXHDR(s), values,
					  CurrentMemoryContext, plan->wire_signature);
		agg_combine_values(&plan->aggs, into, values, CurrentMemoryContext);
	}
	result = agg_wire_bytea(&plan->aggs, into, plan->wire_signature);
	usercode_leave(&gate);
	return result;
}

/*
 * streamext_merge_sessions_step is the transition function of
 * merge_sessions(view_id, window_start, window_end, states): it keeps one
 * node's session of the group's key.
 */
Datum
streamext_merge_sessions_step(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	KeySessions *key = PG_ARGISNULL(0) ? NULL : (KeySessions *) PG_GETARG_POINTER(0);
	MemoryContext old;
	NodeSession *session;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("streamext.merge_sessions_step can only be called as an aggregate")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the view id of streamext.merge_sessions cannot be NULL")));
	if (PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
	{
		if (key == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(key);
	}
	if (key == NULL)
	{
		DistributedPlan *dp = distributed_plan(PG_GETARG_INT32(1));

		check_states_come_from_nodes(fcinfo, dp, 3);
		key = MemoryContextAllocZero(aggcxt, sizeof(KeySessions));
		key->plan = dp->plan;
		if (key->plan->window.kind != WINDOW_SESSION)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("distributed view %d has no session window", key->plan->id)));
	}
	old = MemoryContextSwitchTo(aggcxt);
	session = palloc(sizeof(NodeSession));
	session->start = PG_GETARG_TIMESTAMPTZ(2);
	session->end = PG_GETARG_TIMESTAMPTZ(3);
	session->states = PG_GETARG_BYTEA_P_COPY(4);
	key->sessions = lappend(key->sessions, session);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(key);
}

/*
 * streamext_merge_sessions_final merges the sessions of a key that overlap,
 * combining their states, and returns them for distributed_row: their
 * number, then each one's start, end and states.
 */
Datum
streamext_merge_sessions_final(PG_FUNCTION_ARGS)
{
	KeySessions *key;
	StringInfoData buf;
	StringInfoData merged;
	int			n = 0;
	int			i;
	TimestampTz start = 0;
	TimestampTz end = 0;
	List	   *run = NIL;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	key = (KeySessions *) PG_GETARG_POINTER(0);
	list_sort(key->sessions, session_cmp);
	initStringInfo(&merged);
	for (i = 0; i <= list_length(key->sessions); i++)
	{
		NodeSession *s = i < list_length(key->sessions) ? list_nth(key->sessions, i) : NULL;

		/* one server merges sessions less than the gap apart: overlapping ones */
		if (s != NULL && run != NIL && s->start < end)
		{
			end = Max(end, s->end);
			run = lappend(run, s->states);
			continue;
		}
		if (run != NIL)
		{
			bytea	   *states = combine_wire(key->plan, run);

			pq_sendint64(&merged, start);
			pq_sendint64(&merged, end);
			pq_sendint32(&merged, VARSIZE_ANY_EXHDR(states));
			appendBinaryStringInfo(&merged, VARDATA_ANY(states), VARSIZE_ANY_EXHDR(states));
			n++;
		}
		if (s != NULL)
		{
			start = s->start;
			end = s->end;
			run = list_make1(s->states);
		}
	}
	initStringInfo(&buf);
	appendStringInfoSpaces(&buf, VARHDRSZ);
	pq_sendint32(&buf, n);
	appendBinaryStringInfo(&buf, merged.data, merged.len);
	SET_VARSIZE(buf.data, buf.len);
	PG_RETURN_BYTEA_P(seal_states(key->plan->id, (bytea *) buf.data));
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
