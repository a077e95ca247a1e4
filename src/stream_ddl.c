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
 *	  The partitions of a partitioned stream hold its events: DROP TABLE,
 *	  DETACH PARTITION and TRUNCATE of one are refused (events leave a
 *	  stream through its retention, whose maintenance is let through), and
 *	  ATTACH PARTITION only takes an empty table, since rows already in it
 *	  were never inserted into the stream and no view counted them.
 *
 *	  Logical decoding sees only rows written to the WAL of this database:
 *	  a stream, and each of its partitions at any depth, is a logged table,
 *	  never an unlogged, temporary or foreign one.  create_stream checks the
 *	  table and its partitions; CREATE UNLOGGED TABLE or CREATE FOREIGN
 *	  TABLE ... PARTITION OF, ATTACH PARTITION and SET UNLOGGED are refused
 *	  here for a stream or any of its partitions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "storage/lmgr.h"
#include "utils/snapmgr.h"
#include "commands/extension.h"
#include "nodes/parsenodes.h"
#include "parser/parsetree.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "catalog.h"
#include "stream_ddl.h"

static Oid stream_of_partition(Oid relid);
static char *column_user(Oid relid, AttrNumber attno, AttrNumber time_attno);
static bool uses_column(Node *expr, AttrNumber attno);
static void check_alter_stream(AlterTableStmt *stmt, Oid relid, List *partitions);
static void check_alter_joined(AlterTableStmt *stmt, Oid relid);
static char *view_joining(Oid relid);
static int	view_id_cmp(const ListCell *a, const ListCell *b);
static List *views_by_id(void);
static void check_inherit_joined(Oid parent);
static void check_drop_streams(List *relids);
static void check_rename_view_column(RenameStmt *stmt);
static void check_replace_view(ViewStmt *stmt);
static void check_partition_change(Oid partition, const char *what);
static void check_attach_empty(Oid root, Oid part);
static void check_new_partition(CreateStmt *stmt, Oid parent, bool foreign);
static void check_set_unlogged(Oid relid, bool is_stream);
static void refuse_partition(const char *part, Oid stream, char kind,
							 const char *hint);

#define UNLOGGED_DETAIL \
	"Logical decoding does not see the rows inserted into an unlogged or temporary table, so no continuous view or subscription would count them."
#define FOREIGN_DETAIL \
	"A foreign table's rows are stored by another server: logical decoding does not see them, so no continuous view or subscription would count them."

/* retention's own DROP, DETACH and ATTACH of partitions are let through */
static bool maintenance_allowed = false;

/* and replace_view's own CREATE OR REPLACE VIEW of a continuous view */
static bool view_replace_allowed = false;

/*
 * stream_ddl_allow_view_replace lets replace_view replace a continuous
 * view's relation, or stops letting it.
 */
void
stream_ddl_allow_view_replace(bool allow)
{
	view_replace_allowed = allow;
}

/*
 * stream_ddl_allow_maintenance lets the retention code change a stream's
 * partitions, or stops letting it.
 */
void
stream_ddl_allow_maintenance(bool allow)
{
	maintenance_allowed = allow;
}

/*
 * stream_of_partition returns the stream a relation is a partition of (at
 * any depth), or InvalidOid.
 */
static Oid
stream_of_partition(Oid relid)
{
	ListCell   *lc;
	AttrNumber	time_attno;

	if (!get_rel_relispartition(relid))
		return InvalidOid;
	foreach(lc, get_partition_ancestors(relid))
		if (catalog_is_stream(lfirst_oid(lc), &time_attno))
			return lfirst_oid(lc);
	return InvalidOid;
}

/*
 * stream_check_decodable refuses a table as a stream, or as a partition of
 * stream, if logical decoding would not see the rows inserted into it or
 * into one of its partitions at any depth.  creating says create_stream
 * asks (relid is to become the stream); the partitions are locked in
 * lockmode, so that none turns unlogged before the caller commits.
 */
void
stream_check_decodable(Oid relid, Oid stream, LOCKMODE lockmode, bool creating)
{
	List	   *rels = list_make1_oid(relid);
	ListCell   *lc;

	/* a table is attached as a partition with its own partitions */
	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		rels = find_all_inheritors(relid, lockmode, NULL);
	foreach(lc, rels)
	{
		Oid			part = lfirst_oid(lc);
		char		persistence = get_rel_persistence(part);

		if (part == stream && persistence == RELPERSISTENCE_TEMP)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("temporary table \"%s\" cannot be a stream", get_rel_name(part)),
					 errdetail(UNLOGGED_DETAIL),
					 errhint("A stream is an ordinary table: create it without TEMPORARY.")));
		if (part == stream && persistence == RELPERSISTENCE_UNLOGGED)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("unlogged table \"%s\" cannot be a stream", get_rel_name(part)),
					 errdetail(UNLOGGED_DETAIL),
					 errhint("Make it logged first: ALTER TABLE %s SET LOGGED;",
							 get_rel_name(part))));
		if (get_rel_relkind(part) == RELKIND_FOREIGN_TABLE)
			refuse_partition(get_rel_name(part), stream, RELKIND_FOREIGN_TABLE,
							 creating ?
							 psprintf("Detach it first: ALTER TABLE %s DETACH PARTITION %s;",
									  get_rel_name(get_partition_parent(part, false)),
									  get_rel_name(part)) :
							 "The partitions of a stream are tables of this database.");
		if (persistence != RELPERSISTENCE_PERMANENT)
			refuse_partition(get_rel_name(part), stream, persistence,
							 psprintf("Make it logged first: ALTER TABLE %s SET LOGGED;",
									  get_rel_name(part)));
	}
}

/*
 * refuse_partition reports a table (named part: it may not exist yet) that
 * decoding does not see as a partition of stream: kind is
 * RELKIND_FOREIGN_TABLE, or the table's (non-permanent) persistence.
 */
static void
refuse_partition(const char *part, Oid stream, char kind, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s table \"%s\" cannot be a partition of stream \"%s\"",
					kind == RELKIND_FOREIGN_TABLE ? "foreign" :
					kind == RELPERSISTENCE_TEMP ? "temporary" : "unlogged",
					part, get_rel_name(stream)),
			 errdetail("%s", kind == RELKIND_FOREIGN_TABLE ? FOREIGN_DETAIL : UNLOGGED_DETAIL),
			 errhint("%s", hint)));
}

/*
 * check_new_partition refuses CREATE UNLOGGED TABLE or CREATE FOREIGN TABLE
 * ... PARTITION OF a stream or of one of its partitions.
 */
static void
check_new_partition(CreateStmt *stmt, Oid parent, bool foreign)
{
	AttrNumber	time_attno;
	Oid			stream;

	if (!OidIsValid(parent))
		return;					/* CREATE TABLE reports a missing one */
	stream = catalog_is_stream(parent, &time_attno) ? parent : stream_of_partition(parent);
	if (OidIsValid(stream))
		refuse_partition(stmt->relation->relname, stream,
						 foreign ? RELKIND_FOREIGN_TABLE : RELPERSISTENCE_UNLOGGED,
						 foreign ? "The partitions of a stream are tables of this database." :
						 "Create it without UNLOGGED.");
}

/*
 * check_set_unlogged refuses ALTER TABLE ... SET UNLOGGED of a stream or of
 * one of its partitions (a no-op on a partitioned table in PostgreSQL 15,
 * refused all the same).
 */
static void
check_set_unlogged(Oid relid, bool is_stream)
{
	Oid			stream;

	if (!OidIsValid(relid))
		return;
	stream = is_stream ? relid : stream_of_partition(relid);
	if (!OidIsValid(stream))
		return;
	if (is_stream)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("stream \"%s\" cannot be made unlogged", get_rel_name(relid)),
				 errdetail(UNLOGGED_DETAIL),
				 errhint("Turn it back into an ordinary table with streamext.drop_stream('%s') first.",
						 get_rel_name(relid))));
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("partition \"%s\" of stream \"%s\" cannot be made unlogged",
					get_rel_name(relid), get_rel_name(stream)),
			 errdetail(UNLOGGED_DETAIL),
			 errhint("Turn the stream back into an ordinary table with streamext.drop_stream('%s') first.",
					 get_rel_name(stream))));
}

/*
 * check_partition_change refuses to take a partition, and its events, from
 * a stream.
 */
static void
check_partition_change(Oid partition, const char *what)
{
	Oid			stream;

	if (maintenance_allowed || !OidIsValid(partition))
		return;
	stream = stream_of_partition(partition);
	if (OidIsValid(stream))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot %s \"%s\": it is a partition of stream \"%s\"",
						what, get_rel_name(partition), get_rel_name(stream)),
				 errdetail("A stream is append-only; its events leave through its retention."),
				 errhint("Use streamext.set_stream_retention('%s', ...), or streamext.drop_stream('%s') first.",
						 get_rel_name(stream), get_rel_name(stream))));
}

/*
 * check_attach_empty refuses to attach a table that holds rows to a stream:
 * they were never inserted into the stream, so no view counted them.
 */
static void
check_attach_empty(Oid root, Oid part)
{
	ListCell   *lc;

	if (maintenance_allowed || !OidIsValid(part))
		return;					/* ALTER TABLE reports a missing one */
	foreach(lc, find_all_inheritors(part, AccessExclusiveLock, NULL))
	{
		Relation	rel = table_open(lfirst_oid(lc), AccessShareLock);
		bool		empty = true;

		if (rel->rd_rel->relkind == RELKIND_RELATION)
		{
			Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
			TableScanDesc scan = table_beginscan(rel, snap, 0, NULL);
			TupleTableSlot *slot = table_slot_create(rel, NULL);

			empty = !table_scan_getnextslot(scan, ForwardScanDirection, slot);
			ExecDropSingleTupleTableSlot(slot);
			table_endscan(scan);
			UnregisterSnapshot(snap);
		}
		table_close(rel, AccessShareLock);
		if (!empty)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot attach \"%s\" to stream \"%s\": it holds rows",
							get_rel_name(part), get_rel_name(root)),
					 errdetail("Its rows were never inserted into the stream, so no continuous view counted them."),
					 errhint("Attach an empty table, then INSERT INTO %s SELECT ... the rows.",
							 get_rel_name(root))));
	}
}

/*
 * view_id_cmp orders views by id, for list_sort.
 */
static int
view_id_cmp(const ListCell *a, const ListCell *b)
{
	int32		ia = ((ViewCatalogRow *) lfirst(a))->id;
	int32		ib = ((ViewCatalogRow *) lfirst(b))->id;

	return (ia > ib) - (ia < ib);
}

/*
 * views_by_id lists the continuous views, the oldest first: a refusal
 * names the same view whatever order the catalog's rows are stored in.
 */
static List *
views_by_id(void)
{
	List	   *rows = catalog_load_views(CurrentMemoryContext);

	list_sort(rows, view_id_cmp);
	return rows;
}

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
	foreach(lc, views_by_id())
	{
		ViewCatalogRow *row = lfirst(lc);
		Query	   *query;

		/* a restored view's tree holds the dumped database's attnos */
		if (row->stream_relid != relid || row->restored)
			continue;
		query = (Query *) stringToNode(row->query_tree);
		/* the jointree: WHERE, and the ON of joins with tables */
		if (uses_column((Node *) query->targetList, attno) ||
			uses_column((Node *) query->jointree, attno) ||
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
 * view_joining names a continuous view that joins the table relid, or
 * returns NULL.
 */
static char *
view_joining(Oid relid)
{
	ListCell   *lc;

	foreach(lc, views_by_id())
	{
		ViewCatalogRow *row = lfirst(lc);
		Query	   *query;
		ListCell   *lc2;

		if (row->restored)
			continue;
		query = (Query *) stringToNode(row->query_tree);
		for_each_from(lc2, query->rtable, 1)
		{
			RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc2);

			if (rte->rtekind == RTE_RELATION && rte->relid == relid)
				return row->name;
		}
	}
	return NULL;
}

/*
 * check_inherit_joined refuses to make a table the child of one that
 * continuous views join: the worker follows the joined table alone, and
 * its child's rows would be missed.
 */
static void
check_inherit_joined(Oid parent)
{
	char	   *view;

	if (!OidIsValid(parent) || (view = view_joining(parent)) == NULL)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("cannot inherit from \"%s\": continuous view \"%s\" joins it",
					get_rel_name(parent), view),
			 errdetail("The worker follows the rows of the joined table alone; a child's rows would not be joined."),
			 errhint("Drop the view with streamext.drop_view() first, or join another table.")));
}

/*
 * check_alter_joined refuses the subcommands of an ALTER TABLE of a table
 * that continuous views join which would make the worker, which follows
 * the table's changes through the WAL, miss or misread them: SET
 * UNLOGGED, row level security (the worker would join every row), a
 * replica identity other than the default or FULL (decoding could not find
 * the row an update or delete replaces), a new type for a column a view
 * reads.
 */
static void
check_alter_joined(AlterTableStmt *stmt, Oid relid)
{
	ListCell   *lc;

	if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_RELATION)
		return;
	foreach(lc, views_by_id())
	{
		ViewCatalogRow *row = lfirst(lc);
		Query	   *query;
		Index		rti;
		ListCell   *lc2;

		/* a restored view's tree holds the dumped database's OIDs */
		if (row->restored)
			continue;
		query = (Query *) stringToNode(row->query_tree);
		for (rti = 2; rti <= list_length(query->rtable); rti++)
		{
			RangeTblEntry *rte = rt_fetch(rti, query->rtable);

			if (rte->rtekind != RTE_RELATION || rte->relid != relid)
				continue;
			foreach(lc2, stmt->cmds)
			{
				AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc2);
				const char *what = NULL;

				if (cmd->subtype == AT_SetUnLogged)
					what = "make it unlogged";
				else if (cmd->subtype == AT_EnableRowSecurity ||
						 cmd->subtype == AT_ForceRowSecurity)
					what = "give it row level security";
				else if (cmd->subtype == AT_ReplicaIdentity &&
						 ((ReplicaIdentityStmt *) cmd->def)->identity_type != REPLICA_IDENTITY_FULL &&
						 ((ReplicaIdentityStmt *) cmd->def)->identity_type != REPLICA_IDENTITY_DEFAULT)
					what = "change its replica identity";
				else if (cmd->subtype == AT_AlterColumnType)
				{
					Bitmapset  *attrs = NULL;
					AttrNumber	attno = get_attnum(relid, cmd->name);

					pull_varattnos((Node *) list_make3(query->targetList, query->jointree,
													   query->havingQual), rti, &attrs);
					if (bms_is_member(attno - FirstLowInvalidHeapAttributeNumber, attrs))
						what = psprintf("change the type of its column \"%s\"", cmd->name);
				}
				if (what != NULL)
					ereport(ERROR,
							(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
							 errmsg("cannot %s: continuous view \"%s\" joins table \"%s\"",
									what, row->name, get_rel_name(relid)),
							 errdetail("The worker follows the table's changes through the write-ahead log, by the columns the view joins on."),
							 errhint("Drop the view with streamext.drop_view() first, and create it again afterwards.")));
			}
		}
	}
}

/*
 * check_alter_stream refuses the subcommands of an ALTER TABLE that would
 * take a column from under a view or subscription of the stream, detach
 * one of its partitions, attach a table that holds rows or that decoding
 * does not see, or make the stream or a partition unlogged.  partitions
 * has the OID of the table each ATTACH or DETACH names, in order.
 */
static void
check_alter_stream(AlterTableStmt *stmt, Oid relid, List *partitions)
{
	AttrNumber	time_attno;
	ListCell   *lc;
	ListCell   *part = list_head(partitions);
	bool		is_stream = OidIsValid(relid) && catalog_is_stream(relid, &time_attno);

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		const char *what;
		AttrNumber	attno;
		char	   *user;

		if (cmd->subtype == AT_DetachPartition ||
			cmd->subtype == AT_DetachPartitionFinalize)
		{
			/* also a partition of a sub-partitioned stream's partition */
			check_partition_change(lfirst_oid(part), "detach");
			part = lnext(partitions, part);
			continue;
		}
		if (cmd->subtype == AT_AttachPartition)
		{
			Oid			attached = lfirst_oid(part);
			Oid			stream = is_stream ? relid : stream_of_partition(relid);

			part = lnext(partitions, part);
			if (OidIsValid(stream) && OidIsValid(attached))
			{
				stream_check_decodable(attached, stream, AccessExclusiveLock, false);
				check_attach_empty(stream, attached);
			}
			continue;
		}
		if (cmd->subtype == AT_SetUnLogged)
		{
			check_set_unlogged(relid, is_stream);
			continue;
		}
		if (!is_stream)
			continue;
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
 * check_rename_view_column refuses to rename a column of a continuous
 * view: its columns are its query's, which a restored database analyses
 * again and compares with them.  (Renames of what a view reads are
 * followed: renames.c.)
 */
static void
check_rename_view_column(RenameStmt *stmt)
{
	CatalogAccess ca;
	Oid			relid;
	ListCell   *lc;

	if (stmt->renameType != OBJECT_COLUMN || stmt->relation == NULL ||
		creating_extension || !streamext_extension_exists())
		return;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_VIEW)
		return;
	catalog_owner_enter(&ca);
	foreach(lc, views_by_id())
		if (((ViewCatalogRow *) lfirst(lc))->view_relid == relid)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot rename column \"%s\" of continuous view \"%s\"",
							stmt->subname, get_rel_name(relid)),
					 errdetail("A continuous view's columns are named by its query, which a restored database analyses again."),
					 errhint("Name the column in the query (AS %s): drop the view with streamext.drop_view() and create it again, or read it through a view of your own.",
							 quote_identifier(stmt->newname))));
	catalog_owner_leave(&ca);
}

/*
 * check_replace_view refuses CREATE OR REPLACE VIEW of a continuous view's
 * relation but by replace_view: the rows it shows are its closed-window
 * table's and read_view's, whose columns the worker and the views on it
 * read by position (a replaced relation would have them misread).
 */
static void
check_replace_view(ViewStmt *stmt)
{
	CatalogAccess ca;
	Oid			relid;
	bool		continuous;

	if (!stmt->replace || view_replace_allowed || creating_extension ||
		!streamext_extension_exists())
		return;
	relid = RangeVarGetRelid(stmt->view, NoLock, true);
	if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_VIEW)
		return;
	catalog_owner_enter(&ca);
	continuous = (catalog_view_on_relation(relid) != NULL);
	catalog_owner_leave(&ca);
	if (continuous)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot replace continuous view \"%s\" with CREATE OR REPLACE VIEW",
						get_rel_name(relid)),
				 errhint("Change its definition with streamext.replace_view().")));
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
	List	   *partitions = NIL;
	List	   *inherit_parents = NIL;
	bool		cascade = false;
	bool		create = IsA(parsetree, CreateStmt) || IsA(parsetree, CreateForeignTableStmt);

	if (IsA(parsetree, RenameStmt))
	{
		check_rename_view_column((RenameStmt *) parsetree);
		return;
	}
	if (IsA(parsetree, ViewStmt))
	{
		check_replace_view((ViewStmt *) parsetree);
		return;
	}
	if (!IsA(parsetree, AlterTableStmt) && !IsA(parsetree, DropStmt) &&
		!IsA(parsetree, TruncateStmt) && !create)
		return;
	if (IsA(parsetree, AlterTableStmt) &&
		((AlterTableStmt *) parsetree)->objtype != OBJECT_TABLE)
		return;
	if (IsA(parsetree, DropStmt) &&
		((DropStmt *) parsetree)->removeType != OBJECT_TABLE)
		return;
	/* of new tables, only partitions that decoding would not see matter */
	/* a child of a table that views join: its rows would be missed */
	if (IsA(parsetree, CreateStmt) && ((CreateStmt *) parsetree)->partbound == NULL &&
		((CreateStmt *) parsetree)->inhRelations != NIL &&
		!creating_extension && streamext_extension_exists())
	{
		List	   *parents = NIL;
		ListCell   *lc;

		foreach(lc, ((CreateStmt *) parsetree)->inhRelations)
			parents = lappend_oid(parents, RangeVarGetRelid(lfirst_node(RangeVar, lc), NoLock, true));
		catalog_owner_enter(&ca);
		foreach(lc, parents)
			check_inherit_joined(lfirst_oid(lc));
		catalog_owner_leave(&ca);
		return;
	}
	if (create &&
		(((CreateStmt *) parsetree)->partbound == NULL ||
		 list_length(((CreateStmt *) parsetree)->inhRelations) != 1 ||
		 (IsA(parsetree, CreateStmt) &&
		  ((CreateStmt *) parsetree)->relation->relpersistence != RELPERSISTENCE_UNLOGGED)))
		return;
	if (creating_extension || !streamext_extension_exists())
		return;
	/* names resolve with the caller's search_path, before it is pinned */
	if (create)
		relid = RangeVarGetRelid(linitial_node(RangeVar, ((CreateStmt *) parsetree)->inhRelations),
								 NoLock, true);
	else if (IsA(parsetree, AlterTableStmt))
	{
		ListCell   *lc;

		relid = RangeVarGetRelid(((AlterTableStmt *) parsetree)->relation, NoLock, true);
		foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

			if (cmd->subtype == AT_AddInherit)
				inherit_parents = lappend_oid(inherit_parents,
											  RangeVarGetRelid((RangeVar *) cmd->def, NoLock, true));
			/* ATTACH takes this lock too: nobody adds rows until it commits */
			if (cmd->subtype == AT_AttachPartition)
				partitions = lappend_oid(partitions,
										 RangeVarGetRelid(((PartitionCmd *) cmd->def)->name,
														  AccessExclusiveLock, true));
			else if (cmd->subtype == AT_DetachPartition ||
					 cmd->subtype == AT_DetachPartitionFinalize)
				partitions = lappend_oid(partitions,
										 RangeVarGetRelid(((PartitionCmd *) cmd->def)->name,
														  NoLock, true));
		}
	}
	else if (IsA(parsetree, TruncateStmt))
	{
		ListCell   *lc;

		foreach(lc, ((TruncateStmt *) parsetree)->relations)
		{
			Oid			truncated = RangeVarGetRelid(lfirst_node(RangeVar, lc), NoLock, true);

			if (OidIsValid(truncated))
				relids = lappend_oid(relids, truncated);
		}
	}
	else
	{
		DropStmt   *stmt = (DropStmt *) parsetree;
		ListCell   *lc;

		cascade = (stmt->behavior == DROP_CASCADE);
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
	if (create)
		check_new_partition((CreateStmt *) parsetree, relid,
							IsA(parsetree, CreateForeignTableStmt));
	else if (IsA(parsetree, AlterTableStmt))
	{
		ListCell   *lc;

		check_alter_stream((AlterTableStmt *) parsetree, relid, partitions);
		check_alter_joined((AlterTableStmt *) parsetree, relid);
		foreach(lc, inherit_parents)
			check_inherit_joined(lfirst_oid(lc));
	}
	else
	{
		ListCell   *lc;

		if (IsA(parsetree, DropStmt) && !cascade)
			check_drop_streams(relids);
		/* a partition goes with its stream, if that is dropped too */
		foreach(lc, relids)
		{
			Oid			stream = stream_of_partition(lfirst_oid(lc));

			if (OidIsValid(stream) &&
				!(IsA(parsetree, DropStmt) && list_member_oid(relids, stream)))
				check_partition_change(lfirst_oid(lc),
									   IsA(parsetree, DropStmt) ? "drop" : "truncate");
		}
	}
	catalog_owner_leave(&ca);
}
