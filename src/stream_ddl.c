/*-------------------------------------------------------------------------
 *
 * stream_ddl.c
 *	  What ALTER TABLE and DROP TABLE may do to a stream.  Adding a column
 *	  is fine: views and subscriptions keep reading the columns they use.
 *	  Dropping a column, changing its type, or letting the time column take
 *	  NULLs is refused while a view or subscription uses it, naming that
 *	  view or subscription.  A stream is dropped with drop_stream first, or
 *	  with DROP TABLE ... CASCADE, which drops its views and subscriptions
 *	  too (the extension's sql_drop event trigger forgets them).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "catalog/namespace.h"
#include "commands/extension.h"
#include "nodes/parsenodes.h"
#include "optimizer/optimizer.h"
#include "utils/lsyscache.h"

#include "streamext.h"

static char *column_user(Oid relid, AttrNumber attno, AttrNumber time_attno);
static bool uses_column(Node *expr, AttrNumber attno);
static void check_alter_stream(AlterTableStmt *stmt, Oid relid);
static void check_drop_streams(List *relids);

/*
 * uses_column says whether an expression over a stream reads column attno
 * (a whole-row reference reads them all).
 */
static bool
uses_column(Node *expr, AttrNumber attno)
{
	Bitmapset  *attrs = NULL;

	pull_varattnos(expr, 1, &attrs);
	return bms_is_member(attno - FirstLowInvalidHeapAttributeNumber, attrs) ||
		bms_is_member(InvalidAttrNumber - FirstLowInvalidHeapAttributeNumber, attrs);
}

/*
 * column_user names what uses a stream's column, or returns NULL.
 */
static char *
column_user(Oid relid, AttrNumber attno, AttrNumber time_attno)
{
	ListCell   *lc;

	if (attno == time_attno)
		return pstrdup("the stream itself, as its time column");
	foreach(lc, catalog_load_views(CurrentMemoryContext))
	{
		ViewCatalogRow *row = lfirst(lc);
		Query	   *query;

		/* a restored view's tree holds the dumped database's attnos */
		if (row->stream_relid != relid || row->restored)
			continue;
		query = (Query *) stringToNode(row->query_tree);
		if (uses_column((Node *) query->targetList, attno) ||
			uses_column(query->jointree->quals, attno) ||
			uses_column(query->havingQual, attno))
			return psprintf("continuous view \"%s\"", row->name);
	}
	foreach(lc, catalog_load_subscriptions(CurrentMemoryContext))
	{
		SubscriptionCatalogRow *row = lfirst(lc);

		if (row->source_relid == relid && row->filter_tree != NULL &&
			uses_column(stringToNode(row->filter_tree), attno))
			return psprintf("subscription \"%s\"", row->name);
	}
	return NULL;
}

/*
 * check_alter_stream refuses the subcommands of an ALTER TABLE that would
 * take a column from under a view or subscription of the stream.
 */
static void
check_alter_stream(AlterTableStmt *stmt, Oid relid)
{
	AttrNumber	time_attno;
	ListCell   *lc;

	if (!OidIsValid(relid) || !catalog_is_stream(relid, &time_attno))
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		const char *what;
		AttrNumber	attno;
		char	   *user;

		if (cmd->subtype == AT_DropColumn)
			what = "drop";
		else if (cmd->subtype == AT_AlterColumnType)
			what = "change the type of";
		else if (cmd->subtype == AT_DropNotNull)
			what = "allow NULL in";
		else
			continue;
		attno = get_attnum(relid, cmd->name);
		if (attno == InvalidAttrNumber)
			continue;			/* ALTER TABLE reports it */
		if (cmd->subtype == AT_DropNotNull && attno != time_attno)
			continue;
		user = column_user(relid, attno, time_attno);
		if (user != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot %s column \"%s\" of stream \"%s\": %s uses it",
							what, cmd->name, get_rel_name(relid), user),
					 errhint("Drop what uses it first (streamext.drop_view, streamext.drop_subscription), and create it again afterwards.")));
	}
}

/*
 * check_drop_streams refuses DROP TABLE of a stream without CASCADE.
 */
static void
check_drop_streams(List *relids)
{
	ListCell   *lc;

	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);
		AttrNumber	time_attno;

		if (catalog_is_stream(relid, &time_attno))
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("table \"%s\" is a stream", get_rel_name(relid)),
					 errhint("Call streamext.drop_stream('%s') first, or DROP TABLE ... CASCADE to drop its continuous views and subscriptions too.",
							 get_rel_name(relid))));
	}
}

/*
 * stream_ddl_check is called by the utility hook before a statement runs,
 * in databases that have the extension.
 */
void
stream_ddl_check(Node *parsetree)
{
	CatalogAccess ca;
	Oid			relid = InvalidOid;
	List	   *relids = NIL;

	if (!IsA(parsetree, AlterTableStmt) && !IsA(parsetree, DropStmt))
		return;
	if (IsA(parsetree, AlterTableStmt) &&
		((AlterTableStmt *) parsetree)->objtype != OBJECT_TABLE)
		return;
	if (creating_extension || !streamext_extension_exists())
		return;
	/* names resolve with the caller's search_path, before it is pinned */
	if (IsA(parsetree, AlterTableStmt))
		relid = RangeVarGetRelid(((AlterTableStmt *) parsetree)->relation, NoLock, true);
	else
	{
		DropStmt   *stmt = (DropStmt *) parsetree;
		ListCell   *lc;

		if (stmt->removeType != OBJECT_TABLE || stmt->behavior == DROP_CASCADE)
			return;
		foreach(lc, stmt->objects)
		{
			Oid			dropped = RangeVarGetRelid(makeRangeVarFromNameList(lfirst(lc)),
												   NoLock, true);

			if (OidIsValid(dropped))
				relids = lappend_oid(relids, dropped);
		}
	}
	/* the catalog is closed to the table owners who run these */
	catalog_owner_enter(&ca);
	if (IsA(parsetree, AlterTableStmt))
		check_alter_stream((AlterTableStmt *) parsetree, relid);
	else
		check_drop_streams(relids);
	catalog_owner_leave(&ca);
}
