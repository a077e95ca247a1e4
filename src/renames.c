/*-------------------------------------------------------------------------
 *
 * renames.c
 *	  Renames that continuous views and subscriptions follow.
 *
 *	  What a restored database analyses again (view_def.definition,
 *	  subscription_def.filter_definition) is SQL that names tables,
 *	  columns, functions, types and schemas as they were when it was
 *	  written, while the analysed trees the worker runs hold OIDs and
 *	  attribute numbers: a rename left the views running and the next dump
 *	  unrestorable.  After every ALTER ... RENAME and ALTER ... SET SCHEMA
 *	  the definitions are written again from the trees (as PostgreSQL
 *	  deparses a view), so a dump taken after it restores.  A continuous
 *	  view renamed with ALTER VIEW keeps its name in view_def, by which the
 *	  SQL functions find it, and a stream's time column renamed keeps its
 *	  name in stream_def.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "commands/extension.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "catalog.h"
#include "renames.h"
#include "view_query.h"

static void follow_time_column(RenameStmt *stmt, Oid relid);
static void follow_view(ViewCatalogRow *row, List *rows);
static void follow_filter(SubscriptionCatalogRow *row);
static char *deparse_or_warn(Node *tree, Oid relid, const char *what, const char *name);

/*
 * renames_follow is called after every utility statement that ran: after
 * a rename or a change of schema, it writes again what names objects.
 * relid is the relation a RenameStmt names, looked up before it ran (its
 * old name may find another relation afterwards).  ALTER TYPE ... RENAME
 * VALUE is an AlterEnumStmt: a definition names enum values by label.
 */
void
renames_follow(Node *parsetree, Oid relid)
{
	CatalogAccess ca;
	List	   *views;
	ListCell   *lc;

	if (!IsA(parsetree, RenameStmt) && !IsA(parsetree, AlterObjectSchemaStmt) &&
		!(IsA(parsetree, AlterEnumStmt) && ((AlterEnumStmt *) parsetree)->oldVal != NULL))
		return;
	if (creating_extension || !streamext_extension_exists())
		return;
	/* the statement's own changes of the system catalogs */
	CommandCounterIncrement();
	/* streamext's own tables: the library reads them by their names */
	if (OidIsValid(relid) &&
		get_rel_namespace(relid) == get_namespace_oid("streamext", true))
		return;
	catalog_owner_enter(&ca);
	if (IsA(parsetree, RenameStmt))
		follow_time_column((RenameStmt *) parsetree, relid);
	views = catalog_load_views(CurrentMemoryContext);
	foreach(lc, views)
		follow_view(lfirst(lc), views);
	foreach(lc, catalog_load_subscriptions(CurrentMemoryContext))
		follow_filter(lfirst(lc));
	catalog_owner_leave(&ca);
}

/*
 * deparse_or_warn deparses a view's query (relid invalid) or a filter over
 * relid, in a subtransaction: a tree that names an object dropped since
 * (the query of a view does not hold its functions, types or operators
 * from being dropped) cannot be deparsed, and that must not fail every
 * rename in the database, whoever makes it.  NULL, with a warning, then.
 */
static char *
deparse_or_warn(Node *tree, Oid relid, const char *what, const char *name)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	char	   *volatile result = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		result = OidIsValid(relid) ? deparse_qualified_expr(tree, relid) :
			deparse_qualified_query((Query *) tree);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		ereport(WARNING,
				(errmsg("streamext could not write the definition of %s \"%s\" again: %s",
						what, name, edata->message),
				 errdetail("It names objects as they were before; a dump taken now does not restore it."),
				 errhint("Something it reads was dropped: drop it and create it again.")));
		FreeErrorData(edata);
		result = NULL;
	}
	PG_END_TRY();
	return result;
}

/*
 * follow_time_column renames a stream's time column in stream_def when the
 * column is renamed (on the stream, or on the table a rename recursed
 * from).
 */
static void
follow_time_column(RenameStmt *stmt, Oid relid)
{
	List	   *rels;
	ListCell   *lc;

	if (stmt->renameType != OBJECT_COLUMN || !OidIsValid(relid))
		return;
	/* the rename recursed to inheritance children, streams of their own */
	rels = stmt->relation->inh ? find_all_inheritors(relid, NoLock, NULL) :
		list_make1_oid(relid);
	foreach(lc, rels)
		catalog_rename_time_column(lfirst_oid(lc), stmt->subname, stmt->newname);
}

/*
 * follow_view records a continuous view's name, if its relation was
 * renamed or moved, and its definition, if it now reads differently.  A
 * name that another continuous view has is refused: the SQL functions
 * would not know which one is meant.
 */
static void
follow_view(ViewCatalogRow *row, List *rows)
{
	char	   *relname;
	List	   *names;
	char	   *schema;
	char	   *name = row->name;
	char	   *definition;
	ListCell   *lc;

	/* a restored view's tree holds the dumped database's OIDs */
	if (row->restored || (relname = get_rel_name(row->view_relid)) == NULL)
		return;

	/* the name as it was given: qualified or not */
	names = stringToQualifiedNameList(row->name);
	schema = get_namespace_name(get_rel_namespace(row->view_relid));
	if (list_length(names) == 1 && strcmp(strVal(llast(names)), relname) != 0)
		name = pstrdup(quote_identifier(relname));
	else if (list_length(names) > 1 &&
			 (strcmp(strVal(llast(names)), relname) != 0 ||
			  strcmp(strVal(list_nth(names, list_length(names) - 2)), schema) != 0))
		name = quote_qualified_identifier(schema, relname);
	if (strcmp(name, row->name) != 0)
		foreach(lc, rows)
			if (((ViewCatalogRow *) lfirst(lc))->id != row->id &&
				strcmp(((ViewCatalogRow *) lfirst(lc))->name, name) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_OBJECT),
						 errmsg("a continuous view is named \"%s\" already", name),
						 errhint("Choose another name: streamext's functions find continuous views by name.")));

	definition = deparse_or_warn(stringToNode(row->query_tree), InvalidOid,
								 "continuous view", row->name);
	if (definition == NULL)
		definition = row->definition;	/* kept as it was */
	if (strcmp(name, row->name) != 0 ||
		(definition != NULL &&
		 (row->definition == NULL || strcmp(definition, row->definition) != 0)))
		catalog_rename_view(row->id, name, definition);
}

/*
 * follow_filter writes a subscription's filter again if it now reads
 * differently.
 */
static void
follow_filter(SubscriptionCatalogRow *row)
{
	char	   *definition;

	if (row->restored || row->filter_tree == NULL || get_rel_name(row->source_relid) == NULL)
		return;
	definition = deparse_or_warn(stringToNode(row->filter_tree), row->source_relid,
								 "the filter of subscription", row->name);
	if (definition == NULL)
		return;
	if (row->filter_definition == NULL || strcmp(definition, row->filter_definition) != 0)
		catalog_set_filter_definition(row->id, definition);
}
