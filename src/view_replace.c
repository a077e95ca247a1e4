/*-------------------------------------------------------------------------
 *
 * view_replace.c
 *	  replace_view: a continuous view changed in place.  The new definition
 *	  is computed from the events in its stream while producers wait for
 *	  the scan (as rebuild_view does) and switched in one transaction: the
 *	  same relation (its grants, comments and dependent objects, through
 *	  CREATE OR REPLACE VIEW), the same view id, the same subscriptions with
 *	  their positions.  Readers see the view as it was until the switch
 *	  commits, then as it is.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "access/relation.h"
#include "access/xlog.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "nodes/nodeFuncs.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "catalog.h"
#include "lookup_join.h"
#include "checkpoint.h"
#include "commands.h"
#include "hooks.h"
#include "sqlfunc.h"
#include "stream_ddl.h"
#include "subscription_def.h"
#include "view_apply.h"
#include "view_plan.h"
#include "view_query.h"
#include "view_read.h"
#include "window.h"

PG_FUNCTION_INFO_V1(streamext_replace_view);

#define COLUMNS_HINT "Keep the view's columns, with their names, types and order, and add new ones after them; or drop the view with streamext.drop_view() and create it again."

static void check_columns(const ViewCatalogRow *row, Query *query, bool windowed);
static void rename_closed_table(Oid relid, const char *from, const char *to);
static void follow_relations(Oid view_relid, Oid new_stream, Query *query);
static void check_views_reading(const ViewCatalogRow *row, const ViewDefinition *def);
static void check_no_cycle(const ViewCatalogRow *row, const ViewDefinition *def);

/*
 * check_columns refuses a new definition whose columns the view's relation
 * cannot take, as CREATE OR REPLACE VIEW would refuse them: one of the
 * existing columns removed, renamed, moved or of another type.  Columns
 * added after them are fine.  This keeps every object that reads the view working,
 * subscriptions' filters included (they read the view's columns).
 */
static void
check_columns(const ViewCatalogRow *row, Query *query, bool windowed)
{
	Relation	rel = relation_open(row->view_relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *names = NIL;
	List	   *types = NIL;
	List	   *typmods = NIL;
	ListCell   *lc;
	int			i;

	if (windowed)
	{
		names = list_make2(pstrdup("window_start"), pstrdup("window_end"));
		types = list_make2_oid(TIMESTAMPTZOID, TIMESTAMPTZOID);
		typmods = list_make2_int(-1, -1);
	}
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (tle->resjunk)
			continue;
		names = lappend(names, tle->resname);
		types = lappend_oid(types, exprType((Node *) tle->expr));
		typmods = lappend_int(typmods, exprTypmod((Node *) tle->expr));
	}

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (i >= list_length(names))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
					 errmsg("replace_view cannot remove column \"%s\" of continuous view \"%s\"",
							NameStr(att->attname), row->name),
					 errdetail("The new definition gives %d columns and the view has %d: objects that read the view may read each of them.",
							   list_length(names), desc->natts),
					 errhint(COLUMNS_HINT)));
		if (strcmp(NameStr(att->attname), list_nth(names, i)) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
					 errmsg("replace_view cannot change column %d of continuous view \"%s\" from \"%s\" to \"%s\"",
							i + 1, row->name, NameStr(att->attname),
							(char *) list_nth(names, i)),
					 errdetail("Objects that read the view may read its columns by name and position."),
					 errhint(COLUMNS_HINT)));
		if (att->atttypid != list_nth_oid(types, i) ||
			att->atttypmod != list_nth_int(typmods, i))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
					 errmsg("replace_view cannot change the type of column \"%s\" of continuous view \"%s\" from %s to %s",
							NameStr(att->attname), row->name,
							format_type_with_typemod(att->atttypid, att->atttypmod),
							format_type_with_typemod(list_nth_oid(types, i),
													 list_nth_int(typmods, i))),
					 errdetail("Objects that read the view may depend on the types of its columns."),
					 errhint(COLUMNS_HINT)));
	}
	relation_close(rel, AccessShareLock);
}

/*
 * rename_closed_table gives the closed-window table made for the new
 * definition (and its indexes, whose names start with the table's) the
 * name of the one it replaces, which forget_dropped() finds it by.  The
 * caller acts as the catalog's owner.
 */
static void
rename_closed_table(Oid relid, const char *from, const char *to)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;

	relation_close(rel, AccessShareLock);
	foreach(lc, indexes)
	{
		char	   *index = get_rel_name(lfirst_oid(lc));

		if (strncmp(index, from, strlen(from)) == 0)
			sqlfunc_spi_exec(psprintf("ALTER INDEX streamext.%s RENAME TO %s",
									  quote_identifier(index),
									  quote_identifier(psprintf("%s%s", to,
																index + strlen(from)))),
							 SPI_OK_UTILITY);
	}
	sqlfunc_spi_exec(psprintf("ALTER TABLE streamext.%s RENAME TO %s", quote_identifier(from),
							  quote_identifier(to)),
					 SPI_OK_UTILITY);
}

/*
 * check_views_reading refuses a new window that the continuous views on
 * this one (views on views) cannot read: they need windows that close, of
 * a bounded length (view_query.c, check_source_view).  Their queries keep
 * working: the columns they read stay.
 */
static void
check_views_reading(const ViewCatalogRow *row, const ViewDefinition *def)
{
	List	   *upper = catalog_views_reading(row->view_relid);

	if (def->retention != NULL)
		check_retention_under_views(row->name, upper);
	if (upper == NIL || (def->closes && def->spec.kind != WINDOW_SESSION))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
			 errmsg("continuous view \"%s\" reads \"%s\" and cannot read its new window",
					((ViewCatalogRow *) linitial(upper))->name, row->name),
			 errdetail("A view on a view reads the closed windows of a tumbling, hopping or cumulating view."),
			 errhint("Keep such a window, or drop the views on it with streamext.drop_view() first.")));
}

/*
 * check_no_cycle refuses a new query that reads the view itself, or a view
 * that reads it (through views on views): the chain of views each reads
 * must end at a stream, or nothing could compute them (and walking down
 * the chain would never end).
 */
static void
check_no_cycle(const ViewCatalogRow *row, const ViewDefinition *def)
{
	Oid			relid = def->stream_relid;
	AttrNumber	time_attno;
	ViewCatalogRow *lower;

	while (!catalog_is_stream(relid, &time_attno) &&
		   (lower = catalog_view_on_relation(relid)) != NULL)
	{
		if (lower->view_relid == row->view_relid)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 def->stream_relid == row->view_relid ?
					 errmsg("continuous view \"%s\" cannot read itself", row->name) :
					 errmsg("continuous view \"%s\" cannot read \"%s\", which reads it",
							row->name, get_rel_name(def->stream_relid)),
					 errdetail("A continuous view reads a stream, or views reading down to a stream: views reading each other could not be computed."),
					 errhint("Read the stream, or a view that does not read \"%s\".", row->name)));
		relid = lower->stream_relid;
	}
}

/*
 * follow_relations makes the view depend on what its new definition reads,
 * in place of what the old one read: the stream (DROP TABLE of it must
 * drop the view) and the tables it joins, with their columns.  A view's
 * relation depends on no other relation (its rule does).
 */
static void
follow_relations(Oid view_relid, Oid new_stream, Query *query)
{
	ObjectAddress viewaddr;
	ObjectAddress streamaddr;

	deleteDependencyRecordsForClass(RelationRelationId, view_relid, RelationRelationId,
									DEPENDENCY_NORMAL);
	ObjectAddressSet(viewaddr, RelationRelationId, view_relid);
	ObjectAddressSet(streamaddr, RelationRelationId, new_stream);
	recordDependencyOn(&viewaddr, &streamaddr, DEPENDENCY_NORMAL);
	lookup_join_record_dependencies(view_relid, query);
}

/*
 * streamext_replace_view gives a continuous view a new definition (query,
 * window, lateness, retention, time zone), with the checks of create_view,
 * and computes it from the events in its stream.
 *
 * As in rebuild_view, the stream is locked in SHARE mode until commit, so
 * every event is either in the computation (committed before start_lsn)
 * or decoded by the worker for the new definition (after it); the worker
 * stops the old definition where it decodes this commit.  The old state and
 * closed windows go, the new closed-window table takes the old one's name,
 * and the user's view is replaced last: readers wait only for that moment,
 * and see the old view or the new one whole.
 */
Datum
streamext_replace_view(PG_FUNCTION_ARGS)
{
	char	   *name;
	ViewCatalogRow *found;
	ViewCatalogRow *old;
	ViewCatalogRow row;
	ViewDefinition def;
	char	   *closed_name;
	char	   *next_name;
	TimestampTz horizon;
	CatalogAccess ca;

	sqlfunc_check_setup();
	sqlfunc_check_arg_not_null(fcinfo, 0, "the name of a continuous view",
							   "Pass the name of the view to replace; streamext.views lists the continuous views.");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));

	/* the owner of the view; one replace_view or drop_view at a time */
	found = catalog_find_owned_view(name, false);
	LockRelationOid(found->view_relid, ShareUpdateExclusiveLock);
	if (found->restored)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("continuous view \"%s\" was restored from a dump and is not computed yet",
						found->name),
				 errhint("SELECT * FROM streamext.adopt_restored(); computes it from its stream first.")));
	/* what create_view checks (the owner of the stream too), and what follows the view */
	view_definition_read(fcinfo, &def);
	check_no_cycle(found, &def);
	check_columns(found, def.query, def.closes);
	subscription_check_view_windows(found->id, found->name, &def.spec, def.stream_relid);
	check_views_reading(found, &def);

	/* producers wait from here to commit; see the function comment */
	lock_events(def.stream_relid, def.query);
	/* late events the worker has not applied correct what it delivered */
	(void) view_read_wait_applied(APPLIED_WAIT_MS);
	SPI_connect();
	catalog_owner_enter(&ca);
	/* as committed now: the worker closes no window of it from here on */
	old = catalog_lock_view(found->id, name);
	horizon = closed_horizon(old, def.closes ? &def.spec : NULL);

	memset(&row, 0, sizeof(row));
	row.id = old->id;
	row.name = old->name;
	row.view_relid = old->view_relid;
	row.start_lsn = GetXLogInsertRecPtr();
	view_definition_to_row(&def, &row);

	/* beside the old closed windows, which readers go on reading until the switch */
	closed_name = psprintf("closed_%d", row.id);
	next_name = psprintf("closed_%d_next", row.id);
	if (def.closes)
		row.closed_relid = create_closed_table(next_name, &def,
											   catalog_relation_owner(row.view_relid));
	catalog_replace_view(&row, def.lateness, def.retention);
	checkpoint_clear_view(row.id, InvalidOid);
	/*
	 * The windows ending by the horizon close at the switch even where the
	 * new definition's events have not passed them: the clock, or another
	 * lateness, closed them before, and they were delivered.
	 */
	compute_and_persist(&row, horizon, horizon == DT_NOEND ? DT_NOBEGIN : horizon);
	catalog_owner_leave(&ca);

	/* the switch: the caller owns the view */
	stream_ddl_allow_view_replace(true);
	PG_TRY();
	{
		sqlfunc_spi_exec(psprintf("CREATE OR REPLACE VIEW %s AS %s",
								  quote_qualified_identifier(get_namespace_name(get_rel_namespace(row.view_relid)),
															 get_rel_name(row.view_relid)),
								  view_relation_query(&def, row.closed_relid, row.id)),
						 SPI_OK_UTILITY);
	}
	PG_FINALLY();
	{
		stream_ddl_allow_view_replace(false);
	}
	PG_END_TRY();
	catalog_owner_enter(&ca);
	if (OidIsValid(old->closed_relid) &&
		SearchSysCacheExists1(RELOID, ObjectIdGetDatum(old->closed_relid)))
		sqlfunc_spi_exec(psprintf("DROP TABLE %s", catalog_qualified_name(old->closed_relid)),
						 SPI_OK_UTILITY);
	if (def.closes)
		rename_closed_table(row.closed_relid, next_name, closed_name);
	catalog_owner_leave(&ca);
	SPI_finish();

	/* views on it read its new closed windows: computed again from them */
	catalog_owner_enter(&ca);
	SPI_connect();
	rebuild_views_reading(row.view_relid);
	SPI_finish();
	catalog_owner_leave(&ca);

	follow_relations(row.view_relid, def.stream_relid, def.query);
	streamext_note_catalog_change();
	PG_RETURN_VOID();
}
