/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  Reading streamext's catalog tables (stream_def, view_def,
 *	  subscription_def).  Reads go straight to the heap, without SQL and
 *	  without privilege checks, so that the worker and readers of a view need
 *	  no access to the catalog tables themselves; SQL functions that let
 *	  ordinary roles change them act as the catalog's owner after checking
 *	  the caller's rights.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/namespace.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "storage/lmgr.h"
#include "utils/guc.h"
#include "utils/syscache.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/lsyscache.h"
#include "utils/pg_lsn.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"

#include "catalog.h"
#include "window.h"

/* column numbers of streamext.view_def, as created by the extension script */
#define Anum_view_def_id 1
#define Anum_view_def_name 2
#define Anum_view_def_view_relid 3
#define Anum_view_def_stream 4
#define Anum_view_def_query 5
#define Anum_view_def_query_tree 6
#define Anum_view_def_window_spec 7
#define Anum_view_def_closed_relid 8
#define Anum_view_def_start_lsn 9
#define Anum_view_def_definition 11
#define Anum_view_def_lateness 12
#define Anum_view_def_retention 13
#define Natts_view_def 13

#define Anum_view_progress_view_id 1

#define Anum_stream_def_relid 1
#define Anum_stream_def_time_column 2

/*
 * catalog_table_oid finds one of streamext's catalog tables.
 */
static Oid
catalog_table_oid(const char *relname)
{
	Oid			nsp = get_namespace_oid("streamext", false);
	Oid			relid = get_relname_relid(relname, nsp);

	if (!OidIsValid(relid))
		elog(ERROR, "streamext catalog table \"%s\" is missing", relname);
	return relid;
}

/*
 * streamext_extension_exists says whether the current database has the
 * extension installed.
 */
bool
streamext_extension_exists(void)
{
	return OidIsValid(get_extension_oid("streamext", true));
}

/*
 * catalog_lock_extension holds off DROP EXTENSION streamext until the end of
 * the current transaction (the drop locks the extension exclusively first)
 * and says whether the extension is still installed.
 */
bool
catalog_lock_extension(void)
{
	Oid			extoid = get_extension_oid("streamext", true);

	if (!OidIsValid(extoid))
		return false;
	LockDatabaseObject(ExtensionRelationId, extoid, 0, AccessShareLock);
	/* taking the lock read the invalidations of a drop that committed */
	return get_extension_oid("streamext", true) == extoid;
}

/*
 * catalog_view_table_oid is the OID of streamext.view_def, whose changes the
 * worker watches for in the decoded WAL.
 */
Oid
catalog_view_table_oid(void)
{
	return catalog_table_oid("view_def");
}

/*
 * catalog_is_stream says whether relid is a stream, and which attribute is
 * its event time (InvalidAttrNumber: the commit time).
 */
bool
catalog_is_stream(Oid relid, AttrNumber *time_attno)
{
	Relation	rel = table_open(catalog_table_oid("stream_def"), AccessShareLock);
	TableScanDesc scan = table_beginscan(rel, GetCatalogSnapshot(InvalidOid), 0, NULL);
	HeapTuple	tup;
	bool		found = false;

	*time_attno = InvalidAttrNumber;
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_stream_def_relid,
									 RelationGetDescr(rel), &isnull);

		if (DatumGetObjectId(d) != relid)
			continue;
		found = true;
		d = heap_getattr(tup, Anum_stream_def_time_column, RelationGetDescr(rel), &isnull);
		if (!isnull)
			*time_attno = get_attnum(relid, NameStr(*DatumGetName(d)));
		break;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * catalog_load_views returns a ViewCatalogRow for each view (or only view
 * only_id when it is not zero), allocated in cxt.  Uses the latest snapshot:
 * the worker reloads right after a catalog change committed.
 */
static List *
load_views(MemoryContext cxt, int32 only_id, Snapshot snapshot)
{
	Relation	rel = table_open(catalog_view_table_oid(), AccessShareLock);
	TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
	HeapTuple	tup;
	List	   *result = NIL;
	TupleDesc	desc = RelationGetDescr(rel);
	Bitmapset  *persisted = NULL;
	ListCell   *lc;

	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Datum		values[Natts_view_def];
		bool		nulls[Natts_view_def];
		MemoryContext old;
		ViewCatalogRow *row;

		heap_deform_tuple(tup, desc, values, nulls);
		if (only_id != 0 && DatumGetInt32(values[Anum_view_def_id - 1]) != only_id)
			continue;
		old = MemoryContextSwitchTo(cxt);
		row = palloc0(sizeof(ViewCatalogRow));
		row->id = DatumGetInt32(values[Anum_view_def_id - 1]);
		row->name = TextDatumGetCString(values[Anum_view_def_name - 1]);
		row->view_relid = DatumGetObjectId(values[Anum_view_def_view_relid - 1]);
		row->stream_relid = DatumGetObjectId(values[Anum_view_def_stream - 1]);
		row->query = TextDatumGetCString(values[Anum_view_def_query - 1]);
		row->query_tree = TextDatumGetCString(values[Anum_view_def_query_tree - 1]);
		row->lateness_usec = interval_usecs(DatumGetIntervalP(values[Anum_view_def_lateness - 1]));
		row->retention_usec = nulls[Anum_view_def_retention - 1] ? 0 :
			interval_usecs(DatumGetIntervalP(values[Anum_view_def_retention - 1]));
		row->window_text = nulls[Anum_view_def_window_spec - 1] ? NULL :
			TextDatumGetCString(values[Anum_view_def_window_spec - 1]);
		row->closed_relid = nulls[Anum_view_def_closed_relid - 1] ? InvalidOid :
			DatumGetObjectId(values[Anum_view_def_closed_relid - 1]);
		row->start_lsn = DatumGetLSN(values[Anum_view_def_start_lsn - 1]);
		row->definition = nulls[Anum_view_def_definition - 1] ? NULL :
			TextDatumGetCString(values[Anum_view_def_definition - 1]);
		result = lappend(result, row);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);

	/*
	 * A view's state is written with its definition (create_view,
	 * rebuild_view, the worker's recomputation), and pg_dump dumps the
	 * definition only: a view without state was restored, and its analysed
	 * query still holds the OIDs of the dumped database until adopt_view.
	 */
	if (result == NIL)
		return result;
	rel = table_open(catalog_table_oid("view_progress"), AccessShareLock);
	scan = table_beginscan(rel, snapshot, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_view_progress_view_id,
									 RelationGetDescr(rel), &isnull);

		persisted = bms_add_member(persisted, DatumGetInt32(d));
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	foreach(lc, result)
	{
		ViewCatalogRow *row = lfirst(lc);

		row->restored = !bms_is_member(row->id, persisted);
	}
	bms_free(persisted);
	return result;
}

/*
 * catalog_load_views returns every view, as the latest snapshot sees it.
 */
List *
catalog_load_views(MemoryContext cxt)
{
	return load_views(cxt, 0, GetLatestSnapshot());
}

/*
 * catalog_load_views_filtered returns view only_id, if it exists.
 */
List *
catalog_load_views_filtered(MemoryContext cxt, int32 only_id)
{
	return load_views(cxt, only_id, GetLatestSnapshot());
}

/*
 * catalog_view_start_lsn is a view's start_lsn as snapshot sees it (it
 * changes with rebuild_view), or InvalidXLogRecPtr when it does not exist.
 */
XLogRecPtr
catalog_view_start_lsn(int32 view_id, Snapshot snapshot)
{
	List	   *rows = load_views(CurrentMemoryContext, view_id, snapshot);

	return rows == NIL ? InvalidXLogRecPtr : ((ViewCatalogRow *) linitial(rows))->start_lsn;
}

/*
 * catalog_load_views_snapshot returns the views snapshot sees: the worker
 * recomputes those that existed at its slot's consistent point.
 */
List *
catalog_load_views_snapshot(MemoryContext cxt, Snapshot snapshot)
{
	return load_views(cxt, 0, snapshot);
}

/*
 * catalog_subscription_table_oid is the OID of streamext.subscription_def,
 * whose changes the worker watches for like those of view_def.
 */
Oid
catalog_subscription_table_oid(void)
{
	return catalog_table_oid("subscription_def");
}

/*
 * catalog_load_subscriptions returns every subscription with its delivery
 * progress, as the latest snapshot sees them, allocated in cxt.
 */
List *
catalog_load_subscriptions(MemoryContext cxt)
{
	List	   *result = NIL;
	uint64		i;

	SPI_connect();
	if (SPI_execute("SELECT s.id, s.name, s.owner, s.source, coalesce(s.view_id, 0), "
					"s.filter_tree, s.channel, s.notify, s.emit, s.start_lsn, "
					"p.delivered_lsn, p.newest_position "
					"FROM streamext.subscription_def s "
					"JOIN streamext.subscription_progress p ON p.subscription_id = s.id "
					"ORDER BY s.id", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not read subscriptions");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext old = MemoryContextSwitchTo(cxt);
		SubscriptionCatalogRow *row = palloc0(sizeof(SubscriptionCatalogRow));
		bool		isnull;
		Datum		d;

		row->id = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
		row->name = SPI_getvalue(tup, desc, 2);
		row->owner = DatumGetObjectId(SPI_getbinval(tup, desc, 3, &isnull));
		row->source_relid = DatumGetObjectId(SPI_getbinval(tup, desc, 4, &isnull));
		row->view_id = DatumGetInt32(SPI_getbinval(tup, desc, 5, &isnull));
		d = SPI_getbinval(tup, desc, 6, &isnull);
		row->filter_tree = isnull ? NULL : TextDatumGetCString(d);
		row->channel = SPI_getvalue(tup, desc, 7);
		row->notify = SPI_getvalue(tup, desc, 8);
		row->emit = SPI_getvalue(tup, desc, 9);
		row->start_lsn = DatumGetLSN(SPI_getbinval(tup, desc, 10, &isnull));
		row->delivered_lsn = DatumGetLSN(SPI_getbinval(tup, desc, 11, &isnull));
		row->newest_position = DatumGetInt64(SPI_getbinval(tup, desc, 12, &isnull));
		result = lappend(result, row);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	return result;
}

/*
 * catalog_relation_owner is the owner of a relation.
 */
Oid
catalog_relation_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * catalog_owner_enter makes the current user the owner of streamext's
 * catalog tables, as foreign-key checks act as the referenced table's owner:
 * the caller has checked the rights of the role that called it, and the
 * tables stay closed to everybody else.  search_path is pinned meanwhile, so
 * that the caller's schemas cannot put functions under the SQL run with the
 * owner's rights.  catalog_owner_leave undoes both.
 */
void
catalog_owner_enter(CatalogAccess *ca)
{
	Oid			owner = catalog_relation_owner(catalog_table_oid("stream_def"));

	GetUserIdAndSecContext(&ca->saved_userid, &ca->saved_sec_context);
	ca->guc_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	SetUserIdAndSecContext(owner, ca->saved_sec_context | SECURITY_LOCAL_USERID_CHANGE);
}

void
catalog_owner_leave(CatalogAccess *ca)
{
	SetUserIdAndSecContext(ca->saved_userid, ca->saved_sec_context);
	AtEOXact_GUC(true, ca->guc_nestlevel);
}

/*
 * catalog_write_dead_letters records events a view or subscription
 * (owner_column names which, id which one) set aside, in the caller's
 * transaction and SPI connection: once, like the states.
 */
void
catalog_write_dead_letters(const char *owner_column, int32 id, List *letters,
						   List *replayed)
{
	ListCell   *lc;
	Oid			argtypes[6] = {INT4OID, PG_LSNOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID};
	char	   *sql = psprintf("INSERT INTO streamext.dead_letters (%s, commit_lsn, sqlstate, message, event, committed_at) "
							   "VALUES ($1, $2, $3, $4, $5::jsonb, $6)", owner_column);

	foreach(lc, letters)
	{
		DeadLetter *dl = lfirst(lc);
		Datum		args[6];
		char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

		args[0] = Int32GetDatum(id);
		args[1] = LSNGetDatum(dl->commit_lsn);
		args[2] = CStringGetTextDatum(unpack_sql_state(dl->sqlerrcode));
		args[3] = CStringGetTextDatum(dl->message);
		args[4] = CStringGetTextDatum(dl->event);
		args[5] = TimestampTzGetDatum(dl->committed_at);
		if (dl->committed_at == 0)
			nulls[5] = 'n';
		if (SPI_execute_with_args(sql, 6, argtypes, args, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "streamext: could not write dead letter");
	}
	/* dead letters a replay applied leave with the state that counts them */
	foreach(lc, replayed)
	{
		Oid			idtype[1] = {INT8OID};
		Datum		idarg[1];

		idarg[0] = Int64GetDatum(*(int64 *) lfirst(lc));
		if (SPI_execute_with_args("DELETE FROM streamext.dead_letters WHERE id = $1",
								  1, idtype, idarg, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "streamext: could not remove a replayed dead letter");
	}
}

/*
 * catalog_find_owned_view finds a continuous view by name, refusing callers
 * that do not own it; NULL when there is none and missing_ok.
 */
ViewCatalogRow *
catalog_find_owned_view(const char *name, bool missing_ok)
{
	ViewCatalogRow *found = NULL;
	ListCell   *lc;

	foreach(lc, catalog_load_views(CurrentMemoryContext))
	{
		ViewCatalogRow *row = lfirst(lc);

		if (strcmp(row->name, name) == 0)
			found = row;
	}
	if (found == NULL && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("continuous view \"%s\" does not exist", name),
				 errhint("streamext.views lists the continuous views.")));
	if (found != NULL && !pg_class_ownercheck(found->view_relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_VIEW, name);
	return found;
}
