/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  streamext's own tables (catalog_tables.h).  Reads go straight to the
 *	  heap, through the tables' unique indexes where they look up a key,
 *	  without SQL and without privilege checks, so that the worker and
 *	  readers of a view need no access to the catalog tables themselves; SQL
 *	  functions that let ordinary roles change them act as the catalog's
 *	  owner after checking the caller's rights.  Writes are SQL through SPI,
 *	  prepared once per process (catalog_execute), so that constraints,
 *	  defaults and logical decoding see them as any other write.
 *
 *	  Tables and indexes are found by name once and then by OID, until a
 *	  relcache invalidation says they changed (catalog_invalidate).  A
 *	  view's closed table, made by create_view, is addressed by the OID its
 *	  definition records (catalog_qualified_name, catalog_relation_plan).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "catalog/namespace.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "storage/lmgr.h"
#include "utils/guc.h"
#include "utils/syscache.h"
#include "utils/builtins.h"
#include "utils/varlena.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/lsyscache.h"
#include "utils/pg_lsn.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"

#include "catalog.h"
#include "window.h"

/*
 * The columns of each table, in order, as the extension script makes them:
 * checked against the table when it is first opened.
 */
static const char *const stream_def_columns[] = {
	"relid", "time_column", "created_at", "retention"
};
static const char *const view_def_columns[] = {
	"id", "name", "view_relid", "stream", "query", "query_tree", "window_spec",
	"closed_relid", "start_lsn", "created_at", "definition", "lateness", "retention"
};
static const char *const open_state_columns[] = {
	"view_id", "window_start", "group_key", "state", "window_end"
};
static const char *const view_progress_columns[] = {
	"view_id", "closed_upto", "max_event_time", "events", "late_events"
};
static const char *const subscription_def_columns[] = {
	"id", "name", "owner", "source", "view_id", "filter", "filter_tree", "channel",
	"notify", "emit", "start_lsn", "created_at", "filter_definition"
};
static const char *const subscription_progress_columns[] = {
	"subscription_id", "delivered_lsn", "newest_position", "last_notify"
};
static const char *const subscription_ack_columns[] = {
	"subscription_id", "acked_position", "acked_at"
};
static const char *const subscription_queue_columns[] = {
	"subscription_id", "position", "kind", "event", "committed_at"
};
static const char *const dead_letters_columns[] = {
	"id", "view_id", "subscription_id", "commit_lsn", "sqlstate", "message",
	"event", "committed_at", "noted_at"
};

StaticAssertDecl(lengthof(stream_def_columns) == Natts_stream_def, "stream_def");
StaticAssertDecl(lengthof(view_def_columns) == Natts_view_def, "view_def");
StaticAssertDecl(lengthof(open_state_columns) == Natts_open_state, "open_state");
StaticAssertDecl(lengthof(view_progress_columns) == Natts_view_progress, "view_progress");
StaticAssertDecl(lengthof(subscription_def_columns) == Natts_subscription_def,
				 "subscription_def");
StaticAssertDecl(lengthof(subscription_progress_columns) == Natts_subscription_progress,
				 "subscription_progress");
StaticAssertDecl(lengthof(subscription_ack_columns) == Natts_subscription_ack,
				 "subscription_ack");
StaticAssertDecl(lengthof(subscription_queue_columns) == Natts_subscription_queue,
				 "subscription_queue");
StaticAssertDecl(lengthof(dead_letters_columns) == Natts_dead_letters, "dead_letters");

typedef struct CatalogTableInfo
{
	const char *relname;
	const char *const *columns;
	int			natts;
} CatalogTableInfo;

static const CatalogTableInfo catalog_tables[CATALOG_NTABLES] = {
	[CATALOG_STREAM_DEF] = {"stream_def", stream_def_columns, Natts_stream_def},
	[CATALOG_VIEW_DEF] = {"view_def", view_def_columns, Natts_view_def},
	[CATALOG_OPEN_STATE] = {"open_state", open_state_columns, Natts_open_state},
	[CATALOG_VIEW_PROGRESS] = {"view_progress", view_progress_columns, Natts_view_progress},
	[CATALOG_SUBSCRIPTION_DEF] = {"subscription_def", subscription_def_columns,
	Natts_subscription_def},
	[CATALOG_SUBSCRIPTION_PROGRESS] = {"subscription_progress", subscription_progress_columns,
	Natts_subscription_progress},
	[CATALOG_SUBSCRIPTION_ACK] = {"subscription_ack", subscription_ack_columns,
	Natts_subscription_ack},
	[CATALOG_SUBSCRIPTION_QUEUE] = {"subscription_queue", subscription_queue_columns,
	Natts_subscription_queue},
	[CATALOG_DEAD_LETTERS] = {"dead_letters", dead_letters_columns, Natts_dead_letters},
};

/* the unique indexes of the extension script, by the names PostgreSQL gave them */
static const char *const catalog_indexes[CATALOG_NINDEXES] = {
	[CATALOG_STREAM_DEF_PKEY] = "stream_def_pkey",
	[CATALOG_VIEW_DEF_PKEY] = "view_def_pkey",
	[CATALOG_VIEW_DEF_NAME_KEY] = "view_def_name_key",
	[CATALOG_OPEN_STATE_PKEY] = "open_state_pkey",
	[CATALOG_VIEW_PROGRESS_PKEY] = "view_progress_pkey",
	[CATALOG_SUBSCRIPTION_DEF_PKEY] = "subscription_def_pkey",
	[CATALOG_SUBSCRIPTION_DEF_NAME_KEY] = "subscription_def_name_key",
	[CATALOG_SUBSCRIPTION_PROGRESS_PKEY] = "subscription_progress_pkey",
};

/*
 * The OIDs of streamext's tables and indexes in this process, InvalidOid
 * until looked up.  A relcache invalidation of any of them, or of every
 * relation, forgets them all: DROP EXTENSION sends one for each table, so a
 * dropped and recreated extension is looked up again (catalog_open also
 * checks after locking, when a drop committed meanwhile is read).
 */
static Oid	table_oids[CATALOG_NTABLES];
static bool table_checked[CATALOG_NTABLES];
static Oid	index_oids[CATALOG_NINDEXES];
static bool index_known[CATALOG_NINDEXES];	/* looked up: InvalidOid, missing */
static bool callback_registered = false;

/* a kept plan of a statement on one relation (a view's closed table) */
typedef struct RelationPlanKey
{
	Oid			relid;
	int			kind;
} RelationPlanKey;

typedef struct RelationPlan
{
	RelationPlanKey key;
	SPIPlanPtr	plan;
	bool		stale;			/* the relation changed: prepare again */
} RelationPlan;

static HTAB *relation_plans = NULL;
static bool relation_plans_stale = false;

static void catalog_invalidate(Datum arg, Oid relid);
static void register_callback(void);
static Relation catalog_open(CatalogTable table, LOCKMODE lockmode);
static void check_columns(Relation rel, CatalogTable table);
static Oid	catalog_index(CatalogIndex index);
static SysScanDesc catalog_beginscan(Relation rel, CatalogIndex index, Snapshot snapshot,
									 int nkeys, ScanKey keys);
static void key_init(ScanKey key, Relation rel, AttrNumber attno, RegProcedure eqproc,
					 Datum value);
static SPIPlanPtr keep_plan(const char *sql, int nargs, Oid *argtypes);
static void deform_row(HeapTuple tup, TupleDesc desc, int natts, Datum *values,
					   bool *nulls);
static char *nullable_text(Datum *values, bool *nulls, AttrNumber attno);
static ViewCatalogRow *view_row(HeapTuple tup, TupleDesc desc, MemoryContext cxt, bool brief);
static bool has_later_column(TupleDesc desc, AttrNumber attno, const char *name);
static char *view_time_zone(HeapTuple tup, TupleDesc desc);
static ViewCatalogRow *view_by_relation_name(const char *name);
static int	view_id_cmp(const ListCell *a, const ListCell *b);
static void mark_restored(List *rows, Snapshot snapshot);
static List *load_views(MemoryContext cxt, Snapshot snapshot, CatalogIndex index,
						AttrNumber attno, RegProcedure eqproc, Datum value, bool brief);
static int	subscription_cmp(const ListCell *a, const ListCell *b);
static bool read_subscription_progress(Relation rel, SubscriptionCatalogRow *row,
									   Snapshot snapshot);
static SubscriptionCatalogRow *subscription_row(HeapTuple tup, TupleDesc desc,
												MemoryContext cxt);
static SubscriptionCatalogRow *find_subscription(CatalogIndex index, AttrNumber attno,
												 RegProcedure eqproc, Datum value);
static int32 next_id(CatalogStatement *stmt, const char *what);
static void run_statement(CatalogStatement *stmt, Datum *args, const char *nulls,
						  int expected, const char *what);
static Oid	resolve_signature(const char *signature);
static void run_for_key(CatalogStatement *stmt, Datum key, int expected, const char *what);
static void run_set_interval(CatalogStatement *stmt, Datum key, Interval *iv,
							 const char *what);

/*
 * catalog_invalidate is the relcache callback: it forgets the OIDs when one
 * of streamext's tables or indexes changed, and the plans on a relation
 * that changed (renamed, say: the plan names it).  Nothing is freed here;
 * catalog_relation_plan frees stale plans when it is next called.
 */
static void
catalog_invalidate(Datum arg, Oid relid)
{
	bool		ours = !OidIsValid(relid);
	int			i;

	for (i = 0; !ours && i < CATALOG_NTABLES; i++)
		ours = (table_oids[i] == relid);
	for (i = 0; !ours && i < CATALOG_NINDEXES; i++)
		ours = (index_oids[i] == relid);
	if (ours)
	{
		memset(table_oids, 0, sizeof(table_oids));
		memset(table_checked, 0, sizeof(table_checked));
		memset(index_oids, 0, sizeof(index_oids));
		memset(index_known, 0, sizeof(index_known));
	}
	if (relation_plans != NULL)
	{
		HASH_SEQ_STATUS status;
		RelationPlan *entry;

		hash_seq_init(&status, relation_plans);
		while ((entry = hash_seq_search(&status)) != NULL)
			if (!OidIsValid(relid) || entry->key.relid == relid)
			{
				entry->stale = true;
				relation_plans_stale = true;
			}
	}
}

/*
 * register_callback has catalog_invalidate called, once per process.
 */
static void
register_callback(void)
{
	if (callback_registered)
		return;
	CacheRegisterRelcacheCallback(catalog_invalidate, (Datum) 0);
	callback_registered = true;
}

/*
 * catalog_relid is the OID of one of streamext's tables, looked up once.
 */
Oid
catalog_relid(CatalogTable table)
{
	register_callback();
	if (!OidIsValid(table_oids[table]))
	{
		Oid			nsp = get_namespace_oid("streamext", false);
		Oid			relid = get_relname_relid(catalog_tables[table].relname, nsp);

		if (!OidIsValid(relid))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("streamext catalog table \"%s\" is missing",
							catalog_tables[table].relname),
					 errhint("Drop the extension and create it again.")));
		table_oids[table] = relid;
		table_checked[table] = false;
	}
	return table_oids[table];
}

/*
 * catalog_open opens one of streamext's tables.  The lock is taken on the
 * cached OID; taking it reads the invalidations of a DROP EXTENSION that
 * committed meanwhile, and then the OID is looked up again.  The first
 * open after a lookup checks the table's columns.
 */
static Relation
catalog_open(CatalogTable table, LOCKMODE lockmode)
{
	Relation	rel = table_open(catalog_locked_relid(table, lockmode), NoLock);

	if (!table_checked[table])
	{
		check_columns(rel, table);
		table_checked[table] = true;
	}
	return rel;
}

/*
 * catalog_locked_relid is the OID of one of streamext's tables, locked in
 * lockmode: the lock is taken on the cached OID, and taking it reads the
 * invalidations of a DROP EXTENSION that committed meanwhile, after which
 * the OID is looked up again.  Its columns are not checked: row_insert.c,
 * which opens the queue this way, sends a table of another shape through
 * an INSERT that names its columns.
 */
Oid
catalog_locked_relid(CatalogTable table, LOCKMODE lockmode)
{
	for (;;)
	{
		Oid			relid = catalog_relid(table);

		LockRelationOid(relid, lockmode);
		if (table_oids[table] == relid)
			return relid;
		UnlockRelationOid(relid, lockmode);
	}
}

/*
 * check_columns refuses a table whose first columns are not those this
 * library reads by number: a schema the library does not know would be
 * misread.  Columns after those (a later version's) are left alone.
 */
static void
check_columns(Relation rel, CatalogTable table)
{
	const CatalogTableInfo *info = &catalog_tables[table];
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < info->natts; i++)
	{
		Form_pg_attribute att = i < desc->natts ? TupleDescAttr(desc, i) : NULL;
		char	   *detail;

		if (att != NULL && !att->attisdropped &&
			strcmp(NameStr(att->attname), info->columns[i]) == 0)
			continue;
		if (att == NULL)
			detail = psprintf("It has no column %d \"%s\".", i + 1, info->columns[i]);
		else if (att->attisdropped)
			detail = psprintf("Its column %d was dropped; the library reads \"%s\" there.",
							  i + 1, info->columns[i]);
		else
			detail = psprintf("Its column %d is \"%s\"; the library reads \"%s\" there.",
							  i + 1, NameStr(att->attname), info->columns[i]);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("streamext catalog table \"%s\" does not have the columns this library reads",
						info->relname),
				 errdetail("%s", detail),
				 errhint("Install the library of the extension's version, or update the extension with ALTER EXTENSION streamext UPDATE.")));
	}
}

/*
 * catalog_index is the OID of one of the indexes key lookups scan, or
 * InvalidOid when the database has not got it.  Called with its table open.
 */
static Oid
catalog_index(CatalogIndex index)
{
	if (!index_known[index])
	{
		index_oids[index] = get_relname_relid(catalog_indexes[index],
											  get_namespace_oid("streamext", false));
		index_known[index] = true;
	}
	return index_oids[index];
}

/*
 * catalog_beginscan scans an open table for the rows matching keys
 * (attribute numbers of the table): through index if there are keys and
 * the index exists, else the whole table.  A NULL snapshot is a fresh
 * catalog snapshot.
 */
static SysScanDesc
catalog_beginscan(Relation rel, CatalogIndex index, Snapshot snapshot, int nkeys,
				  ScanKey keys)
{
	Oid			indexid = nkeys > 0 ? catalog_index(index) : InvalidOid;

	return systable_beginscan(rel, indexid, OidIsValid(indexid), snapshot, nkeys, keys);
}

/*
 * key_init makes the key "column attno equals value", in the column's
 * collation: a text column's index is ordered by it.
 */
static void
key_init(ScanKey key, Relation rel, AttrNumber attno, RegProcedure eqproc, Datum value)
{
	ScanKeyInit(key, attno, BTEqualStrategyNumber, eqproc, value);
	key->sk_collation = TupleDescAttr(RelationGetDescr(rel), attno - 1)->attcollation;
}

/*
 * catalog_qualified_name is the quoted, schema-qualified name of a relation
 * (a view's closed table, which statements address by its OID).
 */
char *
catalog_qualified_name(Oid relid)
{
	char	   *relname = get_rel_name(relid);

	if (relname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid),
				 errhint("Drop the continuous view it belonged to and create it again.")));
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), relname);
}

/*
 * keep_plan prepares a statement and keeps its plan for the process.
 */
static SPIPlanPtr
keep_plan(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "streamext: could not prepare \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "streamext: could not keep the plan of \"%s\"", sql);
	return plan;
}

/*
 * catalog_execute runs one of streamext's fixed statements in the caller's
 * SPI connection.  It is prepared the first time this process runs it and
 * kept: the plan cache revalidates a kept plan after DDL on what it reads
 * (a dropped and recreated extension too: the statement names its tables).
 */
int
catalog_execute(CatalogStatement *stmt, Datum *args, const char *nulls, bool read_only,
				long count)
{
	if (stmt->plan == NULL)
		stmt->plan = keep_plan(stmt->sql, stmt->nargs, stmt->argtypes);
	return SPI_execute_plan(stmt->plan, args, nulls, read_only, count);
}

/*
 * catalog_relation_plan returns the kept plan of the statement of kind (the
 * caller's numbering) on relation relid, or NULL when there is none: none
 * was kept yet, or the relation changed since (a plan names its relation,
 * which may have been renamed).  Plans that went stale are freed here, so
 * callers look a plan up each time they run it and never hold on to it.
 */
SPIPlanPtr
catalog_relation_plan(Oid relid, int kind)
{
	RelationPlanKey key;
	RelationPlan *entry;

	if (relation_plans == NULL)
		return NULL;
	if (relation_plans_stale)
	{
		HASH_SEQ_STATUS status;

		relation_plans_stale = false;
		hash_seq_init(&status, relation_plans);
		while ((entry = hash_seq_search(&status)) != NULL)
			if (entry->stale)
			{
				SPI_freeplan(entry->plan);
				hash_search(relation_plans, &entry->key, HASH_REMOVE, NULL);
			}
	}
	memset(&key, 0, sizeof(key));
	key.relid = relid;
	key.kind = kind;
	entry = hash_search(relation_plans, &key, HASH_FIND, NULL);
	return entry ? entry->plan : NULL;
}

/*
 * catalog_keep_relation_plan prepares sql, a statement of kind on relation
 * relid, and keeps it for catalog_relation_plan until the relation changes.
 */
SPIPlanPtr
catalog_keep_relation_plan(Oid relid, int kind, const char *sql, int nargs, Oid *argtypes)
{
	RelationPlanKey key;
	RelationPlan *entry;
	SPIPlanPtr	plan;
	bool		found;

	if (relation_plans == NULL)
	{
		HASHCTL		hctl;

		register_callback();
		hctl.keysize = sizeof(RelationPlanKey);
		hctl.entrysize = sizeof(RelationPlan);
		hctl.hcxt = CacheMemoryContext;
		relation_plans = hash_create("streamext relation plans", 16, &hctl,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	plan = keep_plan(sql, nargs, argtypes);
	memset(&key, 0, sizeof(key));
	key.relid = relid;
	key.kind = kind;
	entry = hash_search(relation_plans, &key, HASH_ENTER, &found);
	if (found)
		SPI_freeplan(entry->plan);
	entry->plan = plan;
	entry->stale = false;
	return plan;
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
 * and says whether the extension this process first locked is still
 * installed: one dropped and created again, even in one transaction, is
 * another, with new tables, views and slot, which the worker leaves to a
 * worker of its own.
 */
bool
catalog_lock_extension(void)
{
	static Oid	first_extension = InvalidOid;
	Oid			extoid = get_extension_oid("streamext", true);

	if (!OidIsValid(extoid))
		return false;
	LockDatabaseObject(ExtensionRelationId, extoid, 0, AccessShareLock);
	/* taking the lock read the invalidations of a drop that committed */
	if (get_extension_oid("streamext", true) != extoid)
		return false;
	if (OidIsValid(first_extension) && first_extension != extoid)
		return false;
	first_extension = extoid;
	return true;
}

/*
 * catalog_stream_table_oid is the OID of streamext.stream_def: a change of a
 * stream's idle_timeout makes the worker load its views' settings again.
 */
Oid
catalog_stream_table_oid(void)
{
	return catalog_relid(CATALOG_STREAM_DEF);
}

/*
 * catalog_view_table_oid is the OID of streamext.view_def, whose changes the
 * worker watches for in the decoded WAL.
 */
Oid
catalog_view_table_oid(void)
{
	return catalog_relid(CATALOG_VIEW_DEF);
}

/*
 * catalog_stream_idle_timeout is how long stream relid must be quiet before
 * the clock closes its windows, in microseconds; -1: never.  The column
 * comes with 0.2, after those the library checks (check_columns): a
 * database still at 0.1 has none, and its streams keep pure event time.
 */
int64
catalog_stream_idle_timeout(Oid relid)
{
	Relation	rel = catalog_open(CATALOG_STREAM_DEF, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	int64		result = -1;

	if (!has_later_column(desc, Anum_stream_def_idle_timeout, "idle_timeout"))
	{
		table_close(rel, AccessShareLock);
		return result;
	}
	key_init(&key, rel, Anum_stream_def_relid, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = catalog_beginscan(rel, CATALOG_STREAM_DEF_PKEY, NULL, 1, &key);
	if ((tup = systable_getnext(scan)) != NULL)
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_stream_def_idle_timeout, desc, &isnull);

		if (!isnull)
			result = interval_usecs(DatumGetIntervalP(d));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * catalog_is_stream says whether relid is a stream, and which attribute is
 * its event time (InvalidAttrNumber: the commit time).
 */
bool
catalog_is_stream(Oid relid, AttrNumber *time_attno)
{
	Relation	rel = catalog_open(CATALOG_STREAM_DEF, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	*time_attno = InvalidAttrNumber;
	key_init(&key, rel, Anum_stream_def_relid, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = catalog_beginscan(rel, CATALOG_STREAM_DEF_PKEY, NULL, 1, &key);
	if ((tup = systable_getnext(scan)) != NULL)
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_stream_def_time_column,
									 RelationGetDescr(rel), &isnull);

		found = true;
		if (!isnull)
			*time_attno = get_attnum(relid, NameStr(*DatumGetName(d)));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * deform_row reads the first natts columns of a tuple of one of streamext's
 * tables, those the library knows (check_columns).
 */
static void
deform_row(HeapTuple tup, TupleDesc desc, int natts, Datum *values, bool *nulls)
{
	int			i;

	for (i = 0; i < natts; i++)
		values[i] = heap_getattr(tup, i + 1, desc, &nulls[i]);
}

/*
 * nullable_text is column attno of a deformed row as a string, or NULL.
 */
static char *
nullable_text(Datum *values, bool *nulls, AttrNumber attno)
{
	return nulls[attno - 1] ? NULL : TextDatumGetCString(values[attno - 1]);
}

/*
 * view_row makes a ViewCatalogRow of a view_def tuple, in cxt; brief, it
 * leaves out the texts of the query (query, query_tree, definition, NULL
 * then), which are long and compressed: a read of the view needs them only
 * to compile it once.
 */
static ViewCatalogRow *
view_row(HeapTuple tup, TupleDesc desc, MemoryContext cxt, bool brief)
{
	Datum		values[Natts_view_def];
	bool		nulls[Natts_view_def];
	MemoryContext old = MemoryContextSwitchTo(cxt);
	ViewCatalogRow *row = palloc0(sizeof(ViewCatalogRow));

	deform_row(tup, desc, lengthof(values), values, nulls);
	row->id = DatumGetInt32(values[Anum_view_def_id - 1]);
	row->name = TextDatumGetCString(values[Anum_view_def_name - 1]);
	row->view_relid = DatumGetObjectId(values[Anum_view_def_view_relid - 1]);
	row->stream_relid = DatumGetObjectId(values[Anum_view_def_stream - 1]);
	if (!brief)
	{
		row->query = TextDatumGetCString(values[Anum_view_def_query - 1]);
		row->query_tree = TextDatumGetCString(values[Anum_view_def_query_tree - 1]);
		row->definition = nullable_text(values, nulls, Anum_view_def_definition);
	}
	row->lateness_usec = interval_usecs(DatumGetIntervalP(values[Anum_view_def_lateness - 1]));
	row->retention_usec = nulls[Anum_view_def_retention - 1] ? 0 :
		interval_usecs(DatumGetIntervalP(values[Anum_view_def_retention - 1]));
	row->window_text = nullable_text(values, nulls, Anum_view_def_window_spec);
	row->closed_relid = nulls[Anum_view_def_closed_relid - 1] ? InvalidOid :
		DatumGetObjectId(values[Anum_view_def_closed_relid - 1]);
	row->start_lsn = DatumGetLSN(values[Anum_view_def_start_lsn - 1]);
	row->time_zone = view_time_zone(tup, desc);
	MemoryContextSwitchTo(old);
	return row;
}

/*
 * has_later_column says whether a tuple descriptor has column attno named
 * name: one that a later version added after those of 0.1 (check_columns),
 * which a catalog not updated yet has not got.
 */
static bool
has_later_column(TupleDesc desc, AttrNumber attno, const char *name)
{
	Form_pg_attribute att;

	if (desc->natts < attno)
		return false;
	att = TupleDescAttr(desc, attno - 1);
	return !att->attisdropped && strcmp(NameStr(att->attname), name) == 0;
}

/*
 * view_time_zone is the time_zone of a view_def tuple, or NULL.  0.2 added
 * the column after those of 0.1: a catalog still at 0.1 has none.
 */
static char *
view_time_zone(HeapTuple tup, TupleDesc desc)
{
	bool		isnull;
	Datum		d;

	if (!has_later_column(desc, Anum_view_def_time_zone, "time_zone"))
		return NULL;
	d = heap_getattr(tup, Anum_view_def_time_zone, desc, &isnull);
	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * mark_restored marks the views of rows without a row in view_progress.
 *
 * A view's state is written with its definition (create_view,
 * rebuild_view, the worker's recomputation), and pg_dump dumps the
 * definition only: a view without state was restored, and its analysed
 * query still holds the OIDs of the dumped database until adopt_view.
 */
static void
mark_restored(List *rows, Snapshot snapshot)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Bitmapset  *persisted = NULL;
	ListCell   *lc;
	int			nkeys = 0;

	if (rows == NIL)
		return;
	rel = catalog_open(CATALOG_VIEW_PROGRESS, AccessShareLock);
	/* one view: looked up by key */
	if (list_length(rows) == 1)
	{
		key_init(&key, rel, Anum_view_progress_view_id, F_INT4EQ,
				 Int32GetDatum(((ViewCatalogRow *) linitial(rows))->id));
		nkeys = 1;
	}
	scan = catalog_beginscan(rel, CATALOG_VIEW_PROGRESS_PKEY, snapshot, nkeys, &key);
	while ((tup = systable_getnext(scan)) != NULL)
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_view_progress_view_id,
									 RelationGetDescr(rel), &isnull);

		persisted = bms_add_member(persisted, DatumGetInt32(d));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	foreach(lc, rows)
	{
		ViewCatalogRow *row = lfirst(lc);

		row->restored = !bms_is_member(row->id, persisted);
	}
	bms_free(persisted);
}

/*
 * load_views returns a ViewCatalogRow, allocated in cxt, for each view
 * snapshot sees: every view (attno InvalidAttrNumber), or those whose
 * column attno equals value, looked up through index.
 */
static List *
load_views(MemoryContext cxt, Snapshot snapshot, CatalogIndex index, AttrNumber attno,
		   RegProcedure eqproc, Datum value, bool brief)
{
	Relation	rel = catalog_open(CATALOG_VIEW_DEF, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *result = NIL;

	if (attno != InvalidAttrNumber)
		key_init(&key, rel, attno, eqproc, value);
	scan = catalog_beginscan(rel, index, snapshot, attno != InvalidAttrNumber ? 1 : 0, &key);
	while ((tup = systable_getnext(scan)) != NULL)
	{
		ViewCatalogRow *row = view_row(tup, RelationGetDescr(rel), cxt, brief);
		MemoryContext old = MemoryContextSwitchTo(cxt);

		result = lappend(result, row);
		MemoryContextSwitchTo(old);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	mark_restored(result, snapshot);
	return result;
}

/*
 * catalog_load_views returns every view, as the latest snapshot sees it:
 * the worker reloads right after a catalog change committed.
 */
List *
catalog_load_views(MemoryContext cxt)
{
	return load_views(cxt, GetLatestSnapshot(), CATALOG_VIEW_DEF_PKEY,
					  InvalidAttrNumber, InvalidOid, (Datum) 0, false);
}

/*
 * catalog_load_views_filtered returns view only_id, if it exists.
 */
List *
catalog_load_views_filtered(MemoryContext cxt, int32 only_id)
{
	return load_views(cxt, GetLatestSnapshot(), CATALOG_VIEW_DEF_PKEY,
					  Anum_view_def_id, F_INT4EQ, Int32GetDatum(only_id), false);
}

/*
 * catalog_view_as_of is view view_id as snapshot sees it (its definition
 * and start_lsn change with rebuild_view and replace_view), allocated in
 * the current memory context, or NULL when it does not exist.
 */
ViewCatalogRow *
catalog_view_as_of(int32 view_id, Snapshot snapshot)
{
	List	   *rows = load_views(CurrentMemoryContext, snapshot, CATALOG_VIEW_DEF_PKEY,
								  Anum_view_def_id, F_INT4EQ, Int32GetDatum(view_id), false);

	return rows == NIL ? NULL : linitial(rows);
}

/*
 * catalog_view_brief_as_of is catalog_view_as_of without the texts of the
 * query (see view_row).
 */
ViewCatalogRow *
catalog_view_brief_as_of(int32 view_id, Snapshot snapshot)
{
	List	   *rows = load_views(CurrentMemoryContext, snapshot, CATALOG_VIEW_DEF_PKEY,
								  Anum_view_def_id, F_INT4EQ, Int32GetDatum(view_id), true);

	return rows == NIL ? NULL : linitial(rows);
}

/*
 * catalog_view_start_lsn is a view's start_lsn as snapshot sees it, or
 * InvalidXLogRecPtr when it does not exist.
 */
XLogRecPtr
catalog_view_start_lsn(int32 view_id, Snapshot snapshot)
{
	ViewCatalogRow *row = catalog_view_brief_as_of(view_id, snapshot);

	return row == NULL ? InvalidXLogRecPtr : row->start_lsn;
}

/*
 * catalog_load_views_snapshot returns the views snapshot sees: the worker
 * recomputes those that existed at its slot's consistent point.
 */
List *
catalog_load_views_snapshot(MemoryContext cxt, Snapshot snapshot)
{
	return load_views(cxt, snapshot, CATALOG_VIEW_DEF_PKEY, InvalidAttrNumber,
					  InvalidOid, (Datum) 0, false);
}

/*
 * catalog_read_view_progress reads a view's progress as snapshot (NULL: a
 * new catalog snapshot) sees it; false when the view has none (no
 * checkpoint yet, or restored).
 */
bool
catalog_read_view_progress(int32 view_id, Snapshot snapshot, ViewProgressRow *progress)
{
	Relation	rel = catalog_open(CATALOG_VIEW_PROGRESS, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	key_init(&key, rel, Anum_view_progress_view_id, F_INT4EQ, Int32GetDatum(view_id));
	scan = catalog_beginscan(rel, CATALOG_VIEW_PROGRESS_PKEY, snapshot, 1, &key);
	if ((tup = systable_getnext(scan)) != NULL)
	{
		Datum		values[Natts_view_progress];
		bool		nulls[Natts_view_progress];

		deform_row(tup, RelationGetDescr(rel), lengthof(values), values, nulls);
		progress->closed_upto = DatumGetTimestampTz(values[Anum_view_progress_closed_upto - 1]);
		progress->max_event_time =
			DatumGetTimestampTz(values[Anum_view_progress_max_event_time - 1]);
		progress->events = DatumGetInt64(values[Anum_view_progress_events - 1]);
		progress->late_events = DatumGetInt64(values[Anum_view_progress_late_events - 1]);
		progress->closed_lsn = InvalidXLogRecPtr;
		progress->states_closed_upto = progress->closed_upto;
		progress->future_events = 0;
		if (catalog_view_progress_has_closing())
		{
			TupleDesc	desc = RelationGetDescr(rel);
			bool		isnull;
			Datum		d;

			d = heap_getattr(tup, Anum_view_progress_closed_lsn, desc, &isnull);
			if (!isnull)
				progress->closed_lsn = DatumGetLSN(d);
			d = heap_getattr(tup, Anum_view_progress_states_closed_upto, desc, &isnull);
			if (!isnull)
				progress->states_closed_upto = DatumGetTimestampTz(d);
			d = heap_getattr(tup, Anum_view_progress_future_events, desc, &isnull);
			if (!isnull)
				progress->future_events = DatumGetInt64(d);
		}
		found = true;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * catalog_view_progress_has_closing says whether view_progress has the
 * columns of closing apart from the checkpoint (0.2): until the extension
 * is updated, windows close only in checkpoints.
 */
bool
catalog_view_progress_has_closing(void)
{
	Relation	rel = catalog_open(CATALOG_VIEW_PROGRESS, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	bool		result;

	result = has_later_column(desc, Anum_view_progress_closed_lsn, "closed_lsn") &&
		has_later_column(desc, Anum_view_progress_states_closed_upto, "states_closed_upto");
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * catalog_scan_open_states calls callback for each group of an open window
 * of the view that its last checkpoint wrote, as snapshot sees them, in
 * the order of the primary key.
 */
void
catalog_scan_open_states(int32 view_id, Snapshot snapshot, OpenStateCallback callback,
						 void *arg)
{
	Relation	rel = catalog_open(CATALOG_OPEN_STATE, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	key_init(&key, rel, Anum_open_state_view_id, F_INT4EQ, Int32GetDatum(view_id));
	scan = catalog_beginscan(rel, CATALOG_OPEN_STATE_PKEY, snapshot, 1, &key);
	while ((tup = systable_getnext(scan)) != NULL)
	{
		Datum		values[Natts_open_state];
		bool		nulls[Natts_open_state];
		OpenStateRow row;

		deform_row(tup, desc, lengthof(values), values, nulls);
		row.window_start = DatumGetTimestampTz(values[Anum_open_state_window_start - 1]);
		row.window_end = nulls[Anum_open_state_window_end - 1] ? DT_NOEND :
			DatumGetTimestampTz(values[Anum_open_state_window_end - 1]);
		row.group_key = DatumGetByteaPP(values[Anum_open_state_group_key - 1]);
		row.state = DatumGetByteaPP(values[Anum_open_state_state - 1]);
		callback(&row, arg);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/*
 * catalog_subscription_table_oid is the OID of streamext.subscription_def,
 * whose changes the worker watches for like those of view_def.
 */
Oid
catalog_subscription_table_oid(void)
{
	return catalog_relid(CATALOG_SUBSCRIPTION_DEF);
}

/*
 * subscription_cmp orders subscriptions by id, for list_sort.
 */
static int
subscription_cmp(const ListCell *a, const ListCell *b)
{
	int32		ia = ((SubscriptionCatalogRow *) lfirst(a))->id;
	int32		ib = ((SubscriptionCatalogRow *) lfirst(b))->id;

	return (ia > ib) - (ia < ib);
}

/*
 * read_subscription_progress fills in a subscription's delivery progress as
 * snapshot sees it; false when it has none (it was restored).
 */
static bool
read_subscription_progress(Relation rel, SubscriptionCatalogRow *row, Snapshot snapshot)
{
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	key_init(&key, rel, Anum_subscription_progress_subscription_id, F_INT4EQ,
			 Int32GetDatum(row->id));
	scan = catalog_beginscan(rel, CATALOG_SUBSCRIPTION_PROGRESS_PKEY, snapshot, 1, &key);
	if ((tup = systable_getnext(scan)) != NULL)
	{
		Datum		values[Natts_subscription_progress];
		bool		nulls[Natts_subscription_progress];

		deform_row(tup, RelationGetDescr(rel), lengthof(values), values, nulls);
		row->delivered_lsn = DatumGetLSN(values[Anum_subscription_progress_delivered_lsn - 1]);
		row->newest_position =
			DatumGetInt64(values[Anum_subscription_progress_newest_position - 1]);
		found = true;
	}
	systable_endscan(scan);
	return found;
}

/*
 * catalog_load_subscriptions returns every subscription with its delivery
 * progress (restored ones, which have none yet, are left out) as the active
 * snapshot sees them, in the order of their ids, allocated in cxt.
 */
List *
catalog_load_subscriptions(MemoryContext cxt)
{
	Snapshot	snapshot = GetActiveSnapshot();
	Relation	rel = catalog_open(CATALOG_SUBSCRIPTION_DEF, AccessShareLock);
	Relation	progress = catalog_open(CATALOG_SUBSCRIPTION_PROGRESS, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *result = NIL;

	scan = catalog_beginscan(rel, CATALOG_SUBSCRIPTION_DEF_PKEY, snapshot, 0, NULL);
	while ((tup = systable_getnext(scan)) != NULL)
	{
		SubscriptionCatalogRow *row = subscription_row(tup, desc, cxt);
		MemoryContext old;

		if (!read_subscription_progress(progress, row, snapshot))
			continue;			/* restored, not adopted yet */
		old = MemoryContextSwitchTo(cxt);
		result = lappend(result, row);
		MemoryContextSwitchTo(old);
	}
	systable_endscan(scan);
	table_close(progress, AccessShareLock);
	table_close(rel, AccessShareLock);
	list_sort(result, subscription_cmp);
	return result;
}

/*
 * subscription_row makes a SubscriptionCatalogRow of a subscription_def
 * tuple, in cxt, without its progress.
 */
static SubscriptionCatalogRow *
subscription_row(HeapTuple tup, TupleDesc desc, MemoryContext cxt)
{
	Datum		values[Natts_subscription_def];
	bool		nulls[Natts_subscription_def];
	MemoryContext old = MemoryContextSwitchTo(cxt);
	SubscriptionCatalogRow *row = palloc0(sizeof(SubscriptionCatalogRow));

	deform_row(tup, desc, lengthof(values), values, nulls);
	row->id = DatumGetInt32(values[Anum_subscription_def_id - 1]);
	row->name = TextDatumGetCString(values[Anum_subscription_def_name - 1]);
	row->owner = DatumGetObjectId(values[Anum_subscription_def_owner - 1]);
	row->source_relid = DatumGetObjectId(values[Anum_subscription_def_source - 1]);
	row->view_id = nulls[Anum_subscription_def_view_id - 1] ? 0 :
		DatumGetInt32(values[Anum_subscription_def_view_id - 1]);
	row->filter = nullable_text(values, nulls, Anum_subscription_def_filter);
	row->filter_tree = nullable_text(values, nulls, Anum_subscription_def_filter_tree);
	row->channel = TextDatumGetCString(values[Anum_subscription_def_channel - 1]);
	row->notify = TextDatumGetCString(values[Anum_subscription_def_notify - 1]);
	row->emit = TextDatumGetCString(values[Anum_subscription_def_emit - 1]);
	row->start_lsn = DatumGetLSN(values[Anum_subscription_def_start_lsn - 1]);
	row->filter_definition = nullable_text(values, nulls,
										   Anum_subscription_def_filter_definition);
	MemoryContextSwitchTo(old);
	return row;
}

/*
 * find_subscription finds the subscription whose column attno equals value
 * through index, with its progress, as the transaction's snapshot sees it;
 * NULL when there is none.
 */
static SubscriptionCatalogRow *
find_subscription(CatalogIndex index, AttrNumber attno, RegProcedure eqproc, Datum value)
{
	Snapshot	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	Relation	rel = catalog_open(CATALOG_SUBSCRIPTION_DEF, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	SubscriptionCatalogRow *row = NULL;

	key_init(&key, rel, attno, eqproc, value);
	scan = catalog_beginscan(rel, index, snapshot, 1, &key);
	if ((tup = systable_getnext(scan)) != NULL)
		row = subscription_row(tup, RelationGetDescr(rel), CurrentMemoryContext);
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (row != NULL)
	{
		rel = catalog_open(CATALOG_SUBSCRIPTION_PROGRESS, AccessShareLock);
		row->restored = !read_subscription_progress(rel, row, snapshot);
		table_close(rel, AccessShareLock);
	}
	UnregisterSnapshot(snapshot);
	return row;
}

/*
 * catalog_find_subscription finds a subscription by name, or returns NULL.
 */
SubscriptionCatalogRow *
catalog_find_subscription(const char *name)
{
	return find_subscription(CATALOG_SUBSCRIPTION_DEF_NAME_KEY, Anum_subscription_def_name,
							 F_TEXTEQ, CStringGetTextDatum(name));
}

/*
 * catalog_find_subscription_id finds a subscription by id, or returns NULL.
 */
SubscriptionCatalogRow *
catalog_find_subscription_id(int32 id)
{
	return find_subscription(CATALOG_SUBSCRIPTION_DEF_PKEY, Anum_subscription_def_id,
							 F_INT4EQ, Int32GetDatum(id));
}

/*
 * catalog_subscription_on_source names the first subscription (by id)
 * reading relid, or returns NULL.
 */
char *
catalog_subscription_on_source(Oid relid)
{
	Snapshot	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	Relation	rel = catalog_open(CATALOG_SUBSCRIPTION_DEF, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	SubscriptionCatalogRow *first = NULL;

	key_init(&key, rel, Anum_subscription_def_source, F_OIDEQ, ObjectIdGetDatum(relid));
	/* no index on source: subscriptions are few, and this is for drops */
	scan = systable_beginscan(rel, InvalidOid, false, snapshot, 1, &key);
	while ((tup = systable_getnext(scan)) != NULL)
	{
		SubscriptionCatalogRow *row = subscription_row(tup, RelationGetDescr(rel),
													   CurrentMemoryContext);

		if (first == NULL || row->id < first->id)
			first = row;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	UnregisterSnapshot(snapshot);
	return first != NULL ? first->name : NULL;
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
	Oid			owner = catalog_relation_owner(catalog_relid(CATALOG_STREAM_DEF));

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
 * run_statement runs a catalog statement in an SPI connection of its own
 * and checks that it did what expected says.
 */
static void
run_statement(CatalogStatement *stmt, Datum *args, const char *nulls, int expected,
			  const char *what)
{
	SPI_connect();
	if (catalog_execute(stmt, args, nulls, false, 0) != expected)
		elog(ERROR, "streamext: could not %s", what);
	SPI_finish();
}

/*
 * run_for_key runs a catalog statement whose one parameter is a key.
 */
static void
run_for_key(CatalogStatement *stmt, Datum key, int expected, const char *what)
{
	run_statement(stmt, &key, NULL, expected, what);
}

/*
 * run_set_interval runs a catalog statement that sets an interval ($2,
 * NULL when iv is) of the row of key ($1).
 */
static void
run_set_interval(CatalogStatement *stmt, Datum key, Interval *iv, const char *what)
{
	Datum		args[2];
	char		nulls[2] = {' ', ' '};

	args[0] = key;
	args[1] = iv != NULL ? IntervalPGetDatum(iv) : (Datum) 0;
	nulls[1] = iv != NULL ? ' ' : 'n';
	run_statement(stmt, args, nulls, SPI_OK_UPDATE, what);
}

static CatalogStatement insert_stream = {
	"INSERT INTO streamext.stream_def (relid, time_column, retention) VALUES ($1, $2, $3)",
	3, {REGCLASSOID, NAMEOID, INTERVALOID}
};
static CatalogStatement delete_stream = {
	"DELETE FROM streamext.stream_def WHERE relid = $1", 1, {REGCLASSOID}
};
static CatalogStatement update_stream_retention = {
	"UPDATE streamext.stream_def SET retention = $2 WHERE relid = $1",
	2, {REGCLASSOID, INTERVALOID}
};
static CatalogStatement update_stream_time_column = {
	"UPDATE streamext.stream_def SET time_column = $2 WHERE relid = $1 AND time_column = $3",
	3, {REGCLASSOID, NAMEOID, NAMEOID}
};
static CatalogStatement update_subscription_filter_definition = {
	"UPDATE streamext.subscription_def SET filter_definition = $2 WHERE id = $1",
	2, {INT4OID, TEXTOID}
};
static CatalogStatement update_stream_idle_timeout = {
	"UPDATE streamext.stream_def SET idle_timeout = $2 WHERE relid = $1",
	2, {REGCLASSOID, INTERVALOID}
};
static CatalogStatement select_deterministic_functions = {
	"SELECT function FROM streamext.deterministic_functions", 0
};
static CatalogStatement insert_deterministic_function = {
	"INSERT INTO streamext.deterministic_functions (function, declared_by) VALUES ($1, $2) "
	"ON CONFLICT (function) DO NOTHING",
	2, {TEXTOID, NAMEOID}
};
static CatalogStatement delete_deterministic_function = {
	"DELETE FROM streamext.deterministic_functions "
	"WHERE function = $1 OR pg_catalog.to_regprocedure(function)::oid = $2",
	2, {TEXTOID, OIDOID}
};
static CatalogStatement select_stream_retentions = {
	"SELECT relid::oid, extract(epoch FROM retention)::float8 * 1000000 "
	"FROM streamext.stream_def WHERE retention IS NOT NULL", 0
};

/*
 * catalog_insert_stream registers a stream, timed by time_column (NULL: by
 * the commit) and kept for retention (NULL: for ever).
 */
void
catalog_insert_stream(Oid relid, const char *time_column, Interval *retention)
{
	NameData	timecol;
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};

	args[0] = ObjectIdGetDatum(relid);
	if (time_column != NULL)
	{
		namestrcpy(&timecol, time_column);
		args[1] = NameGetDatum(&timecol);
	}
	else
		nulls[1] = 'n';
	args[2] = retention != NULL ? IntervalPGetDatum(retention) : (Datum) 0;
	if (retention == NULL)
		nulls[2] = 'n';
	run_statement(&insert_stream, args, nulls, SPI_OK_INSERT, "register stream");
}

/*
 * catalog_delete_stream forgets a stream.
 */
void
catalog_delete_stream(Oid relid)
{
	run_for_key(&delete_stream, ObjectIdGetDatum(relid), SPI_OK_DELETE, "forget stream");
}

/*
 * catalog_set_stream_retention changes a stream's retention (NULL: for ever).
 */
void
catalog_set_stream_retention(Oid relid, Interval *retention)
{
	run_set_interval(&update_stream_retention, ObjectIdGetDatum(relid), retention,
					 "change the retention");
}

/*
 * catalog_deterministic_functions lists, by OID, the functions declared
 * deterministic (streamext.declare_deterministic) that exist: the table
 * names them by signature, which a dump and restore keeps.  A signature
 * that names nothing now (the function, or a type of its arguments, was
 * dropped) is passed over.  NIL in a database still at 0.1, which has no
 * such table.
 */
List *
catalog_deterministic_functions(void)
{
	MemoryContext caller = CurrentMemoryContext;
	List	   *signatures = NIL;
	List	   *result = NIL;
	ListCell   *lc;
	uint64		i;

	if (!OidIsValid(get_relname_relid("deterministic_functions",
									  get_namespace_oid("streamext", true))))
		return NIL;
	SPI_connect();
	if (catalog_execute(&select_deterministic_functions, NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not read the functions declared deterministic");
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *signature = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		MemoryContext old = MemoryContextSwitchTo(caller);

		signatures = lappend(signatures, pstrdup(signature));
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	foreach(lc, signatures)
	{
		Oid			funcid = resolve_signature(lfirst(lc));

		if (OidIsValid(funcid))
			result = lappend_oid(result, funcid);
	}
	list_free_deep(signatures);
	return result;
}

/*
 * resolve_signature is the function a declaration names, or InvalidOid.
 * PostgreSQL 15's to_regprocedure raises an error for a type that does not
 * exist: it is looked up in a subtransaction, whose failure means none.
 */
static Oid
resolve_signature(const char *signature)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	Oid			funcid = InvalidOid;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		Datum		d = DirectFunctionCall1(to_regprocedure, CStringGetTextDatum(signature));

		funcid = DatumGetObjectId(d);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		funcid = InvalidOid;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return funcid;
}

/*
 * catalog_set_deterministic records that function funcid, whose signature
 * is given, is declared deterministic by role declared_by, or forgets it
 * (by its signature or by what its recorded signature names now).
 */
void
catalog_set_deterministic(const char *signature, Oid funcid, bool deterministic,
						  Oid declared_by)
{
	Datum		args[2];

	args[0] = CStringGetTextDatum(signature);
	if (deterministic)
	{
		args[1] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(declared_by, false)));
		run_statement(&insert_deterministic_function, args, NULL, SPI_OK_INSERT,
					  "declare a function deterministic");
	}
	else
	{
		args[1] = ObjectIdGetDatum(funcid);
		run_statement(&delete_deterministic_function, args, NULL, SPI_OK_DELETE,
					  "take back a declaration of a deterministic function");
	}
}

/*
 * catalog_rename_time_column records the new name of a column of relid,
 * if it is a stream's time column (renames.c).
 */
void
catalog_rename_time_column(Oid relid, const char *old_name, const char *new_name)
{
	Datum		args[3];

	args[0] = ObjectIdGetDatum(relid);
	args[1] = DirectFunctionCall1(namein, CStringGetDatum(new_name));
	args[2] = DirectFunctionCall1(namein, CStringGetDatum(old_name));
	run_statement(&update_stream_time_column, args, NULL, SPI_OK_UPDATE,
				  "record a renamed time column");
}

/*
 * catalog_set_filter_definition records a subscription's schema-qualified
 * filter written again after a rename (renames.c).
 */
void
catalog_set_filter_definition(int32 sub_id, const char *definition)
{
	Datum		args[2];

	args[0] = Int32GetDatum(sub_id);
	args[1] = CStringGetTextDatum(definition);
	run_statement(&update_subscription_filter_definition, args, NULL, SPI_OK_UPDATE,
				  "record a subscription's filter");
}

/*
 * catalog_set_stream_idle_timeout changes how long a stream is quiet before
 * the clock closes its windows (NULL: never).
 */
void
catalog_set_stream_idle_timeout(Oid relid, Interval *idle_timeout)
{
	run_set_interval(&update_stream_idle_timeout, ObjectIdGetDatum(relid), idle_timeout,
					 "change the idle_timeout");
}

/*
 * catalog_load_stream_retentions returns a StreamRetentionRow, allocated in
 * cxt, for each stream with a retention.
 */
List *
catalog_load_stream_retentions(MemoryContext cxt)
{
	List	   *result = NIL;
	uint64		i;

	SPI_connect();
	if (catalog_execute(&select_stream_retentions, NULL, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not read the retentions of streams");
	for (i = 0; i < SPI_processed; i++)
	{
		/* the list outlives SPI_finish */
		MemoryContext spi_cxt = MemoryContextSwitchTo(cxt);
		StreamRetentionRow *rs = palloc(sizeof(StreamRetentionRow));
		bool		isnull;

		rs->relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
												   SPI_tuptable->tupdesc, 1, &isnull));
		rs->retention_usec = (int64) DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[i],
																  SPI_tuptable->tupdesc, 2,
																  &isnull));
		result = lappend(result, rs);
		MemoryContextSwitchTo(spi_cxt);
	}
	SPI_finish();
	return result;
}

static CatalogStatement next_view_id = {
	"SELECT nextval('streamext.view_def_id_seq')::int4", 0
};
static CatalogStatement insert_view = {
	"INSERT INTO streamext.view_def (id, name, view_relid, stream, query, query_tree, "
	"window_spec, closed_relid, start_lsn, definition, lateness, retention) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
	12, {INT4OID, TEXTOID, REGCLASSOID, REGCLASSOID, TEXTOID, TEXTOID, TEXTOID,
	REGCLASSOID, PG_LSNOID, TEXTOID, INTERVALOID, INTERVALOID}
};
/* a view with a time_zone, which only a catalog at 0.2 takes */
static CatalogStatement insert_view_zone = {
	"INSERT INTO streamext.view_def (id, name, view_relid, stream, query, query_tree, "
	"window_spec, closed_relid, start_lsn, definition, lateness, retention, time_zone) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
	13, {INT4OID, TEXTOID, REGCLASSOID, REGCLASSOID, TEXTOID, TEXTOID, TEXTOID,
	REGCLASSOID, PG_LSNOID, TEXTOID, INTERVALOID, INTERVALOID, TEXTOID}
};
static CatalogStatement update_view_retention = {
	"UPDATE streamext.view_def SET retention = $2 WHERE id = $1", 2, {INT4OID, INTERVALOID}
};
static CatalogStatement update_view_names = {
	"UPDATE streamext.view_def SET name = $2, definition = $3 WHERE id = $1",
	3, {INT4OID, TEXTOID, TEXTOID}
};
static CatalogStatement delete_view = {
	"DELETE FROM streamext.view_def WHERE id = $1", 1, {INT4OID}
};
static CatalogStatement lock_view_for_update = {
	"SELECT 1 FROM streamext.view_def WHERE id = $1 FOR UPDATE", 1, {INT4OID}
};
static CatalogStatement update_view_start = {
	"UPDATE streamext.view_def SET start_lsn = $2 WHERE id = $1", 2, {INT4OID, PG_LSNOID}
};
static CatalogStatement delete_view_progress = {
	"DELETE FROM streamext.view_progress WHERE view_id = $1", 1, {INT4OID}
};
/* replace_view: a catalog at 0.2, which has time_zone */
static CatalogStatement update_view_replaced = {
	"UPDATE streamext.view_def SET stream = $2, query = $3, query_tree = $4, "
	"window_spec = $5, closed_relid = $6, start_lsn = $7, definition = $8, "
	"lateness = $9, retention = $10, time_zone = $11 WHERE id = $1",
	11, {INT4OID, REGCLASSOID, TEXTOID, TEXTOID, TEXTOID, REGCLASSOID, PG_LSNOID,
	TEXTOID, INTERVALOID, INTERVALOID, TEXTOID}
};
static CatalogStatement update_view_adopted = {
	"UPDATE streamext.view_def SET query_tree = $2, start_lsn = $3 WHERE id = $1",
	3, {INT4OID, TEXTOID, PG_LSNOID}
};

/*
 * catalog_next_view_id takes the id of a new view.
 */
int32
catalog_next_view_id(void)
{
	return next_id(&next_view_id, "the view");
}

/* next_id runs a statement that takes the next value of a sequence */
static int32
next_id(CatalogStatement *stmt, const char *what)
{
	bool		isnull;
	int32		id;

	SPI_connect();
	if (catalog_execute(stmt, NULL, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not number %s", what);
	id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return id;
}

/*
 * catalog_insert_view registers a view: row (its query and definition as
 * well), with the intervals as given (the row has them in microseconds).
 */
void
catalog_insert_view(const ViewCatalogRow *row, Interval *lateness, Interval *retention)
{
	Datum		args[13];
	char		nulls[13] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

	args[0] = Int32GetDatum(row->id);
	args[1] = CStringGetTextDatum(row->name);
	args[2] = ObjectIdGetDatum(row->view_relid);
	args[3] = ObjectIdGetDatum(row->stream_relid);
	args[4] = CStringGetTextDatum(row->query);
	args[5] = CStringGetTextDatum(row->query_tree);
	args[6] = row->window_text ? CStringGetTextDatum(row->window_text) : (Datum) 0;
	nulls[6] = row->window_text ? ' ' : 'n';
	args[7] = ObjectIdGetDatum(row->closed_relid);
	nulls[7] = OidIsValid(row->closed_relid) ? ' ' : 'n';
	args[8] = LSNGetDatum(row->start_lsn);
	args[9] = CStringGetTextDatum(row->definition);
	args[10] = IntervalPGetDatum(lateness);
	args[11] = retention ? IntervalPGetDatum(retention) : (Datum) 0;
	nulls[11] = retention ? ' ' : 'n';
	args[12] = row->time_zone ? CStringGetTextDatum(row->time_zone) : (Datum) 0;
	run_statement(row->time_zone ? &insert_view_zone : &insert_view, args, nulls,
				  SPI_OK_INSERT, "register view");
}

/*
 * catalog_set_view_retention changes how long a view keeps its closed
 * windows (NULL: for ever).
 */
void
catalog_set_view_retention(int32 view_id, Interval *retention)
{
	run_set_interval(&update_view_retention, Int32GetDatum(view_id), retention,
					 "change retention");
}

/*
 * catalog_rename_view records a view's name and schema-qualified
 * definition (NULL: none) after a rename (renames.c).
 */
void
catalog_rename_view(int32 view_id, const char *name, const char *definition)
{
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};

	args[0] = Int32GetDatum(view_id);
	args[1] = CStringGetTextDatum(name);
	/* NULL: a definition that could not be written, older rows' */
	args[2] = definition != NULL ? CStringGetTextDatum(definition) : (Datum) 0;
	if (definition == NULL)
		nulls[2] = 'n';
	run_statement(&update_view_names, args, nulls, SPI_OK_UPDATE, "record a renamed view");
}

/*
 * catalog_delete_view forgets a view; its state goes with it (ON DELETE
 * CASCADE), its closed table is the caller's.
 */
void
catalog_delete_view(int32 view_id)
{
	run_for_key(&delete_view, Int32GetDatum(view_id), SPI_OK_DELETE, "forget view");
}

/*
 * catalog_restart_view gives a view a new start_lsn and forgets its
 * progress, for rebuild_view; the row stays locked until commit.
 */
void
catalog_restart_view(int32 view_id, XLogRecPtr start_lsn)
{
	Datum		args[2];

	args[0] = Int32GetDatum(view_id);
	args[1] = LSNGetDatum(start_lsn);
	run_statement(&lock_view_for_update, args, NULL, SPI_OK_SELECT, "lock view");
	run_statement(&update_view_start, args, NULL, SPI_OK_UPDATE, "restart view");
	run_statement(&delete_view_progress, args, NULL, SPI_OK_DELETE, "forget view progress");
}

/*
 * catalog_lock_view locks the row of view view_id (called name) until
 * commit, as rebuild_view and replace_view do before they change it, and
 * returns the row as committed now: a concurrent change was waited for.
 */
ViewCatalogRow *
catalog_lock_view(int32 view_id, const char *name)
{
	ViewCatalogRow *row;

	run_for_key(&lock_view_for_update, Int32GetDatum(view_id), SPI_OK_SELECT, "lock view");
	row = catalog_view_as_of(view_id, GetLatestSnapshot());
	if (row == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("continuous view \"%s\" was dropped meanwhile", name),
				 errhint("Create it again with streamext.create_view().")));
	return row;
}

/*
 * catalog_replace_view records a view's new definition (row: the query,
 * its analysed tree and schema-qualified definition, window, time zone,
 * stream, closed-window table and start_lsn; the intervals as given) and
 * forgets its progress, for replace_view.  The caller locked the row.
 */
void
catalog_replace_view(const ViewCatalogRow *row, Interval *lateness, Interval *retention)
{
	Datum		args[11];
	char		nulls[11] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

	args[0] = Int32GetDatum(row->id);
	args[1] = ObjectIdGetDatum(row->stream_relid);
	args[2] = CStringGetTextDatum(row->query);
	args[3] = CStringGetTextDatum(row->query_tree);
	args[4] = row->window_text ? CStringGetTextDatum(row->window_text) : (Datum) 0;
	nulls[4] = row->window_text ? ' ' : 'n';
	args[5] = ObjectIdGetDatum(row->closed_relid);
	nulls[5] = OidIsValid(row->closed_relid) ? ' ' : 'n';
	args[6] = LSNGetDatum(row->start_lsn);
	args[7] = CStringGetTextDatum(row->definition);
	args[8] = IntervalPGetDatum(lateness);
	args[9] = retention ? IntervalPGetDatum(retention) : (Datum) 0;
	nulls[9] = retention ? ' ' : 'n';
	args[10] = row->time_zone ? CStringGetTextDatum(row->time_zone) : (Datum) 0;
	nulls[10] = row->time_zone ? ' ' : 'n';
	run_statement(&update_view_replaced, args, nulls, SPI_OK_UPDATE, "replace view");
	run_for_key(&delete_view_progress, args[0], SPI_OK_DELETE, "forget view progress");
}

/*
 * catalog_adopt_view records a restored view's query analysed again and its
 * new start_lsn.
 */
void
catalog_adopt_view(int32 view_id, const char *query_tree, XLogRecPtr start_lsn)
{
	Datum		args[3];

	args[0] = Int32GetDatum(view_id);
	args[1] = CStringGetTextDatum(query_tree);
	args[2] = LSNGetDatum(start_lsn);
	run_statement(&update_view_adopted, args, NULL, SPI_OK_UPDATE, "adopt view");
}

static CatalogStatement insert_subscription = {
	"WITH s AS (INSERT INTO streamext.subscription_def "
	"(name, owner, source, view_id, filter, filter_tree, channel, notify, emit, start_lsn, "
	"filter_definition) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id), "
	"p AS (INSERT INTO streamext.subscription_progress (subscription_id, delivered_lsn) "
	"SELECT id, $10 FROM s) "
	"INSERT INTO streamext.subscription_ack (subscription_id) SELECT id FROM s",
	11, {TEXTOID, OIDOID, REGCLASSOID, INT4OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, PG_LSNOID, TEXTOID}
};
static CatalogStatement delete_subscription_queue = {
	"DELETE FROM streamext.subscription_queue WHERE subscription_id = $1", 1, {INT4OID}
};
static CatalogStatement delete_subscription = {
	"DELETE FROM streamext.subscription_def WHERE id = $1", 1, {INT4OID}
};
static CatalogStatement update_subscription_adopted = {
	"UPDATE streamext.subscription_def SET filter_tree = $2, start_lsn = $3 WHERE id = $1",
	3, {INT4OID, TEXTOID, PG_LSNOID}
};
static CatalogStatement insert_adopted_ack = {
	"INSERT INTO streamext.subscription_ack (subscription_id) VALUES ($1) "
	"ON CONFLICT DO NOTHING", 1, {INT4OID}
};
static CatalogStatement insert_adopted_progress = {
	"INSERT INTO streamext.subscription_progress "
	"(subscription_id, delivered_lsn, newest_position) "
	"SELECT $1, $2, greatest(a.acked_position, "
	"(SELECT coalesce(max(q.position), 0) FROM streamext.subscription_queue q "
	"WHERE q.subscription_id = $1)) "
	"FROM streamext.subscription_ack a WHERE a.subscription_id = $1",
	2, {INT4OID, PG_LSNOID}
};
static CatalogStatement select_queue = {
	"SELECT q.position, q.event, q.committed_at, q.kind "
	"FROM streamext.subscription_queue q "
	"JOIN streamext.subscription_ack a USING (subscription_id) "
	"WHERE q.subscription_id = $1 AND q.position > a.acked_position "
	"ORDER BY q.position LIMIT $2",
	2, {INT4OID, INT4OID}
};
static CatalogStatement lock_ack = {
	"SELECT p.newest_position, a.acked_position "
	"FROM streamext.subscription_progress p "
	"JOIN streamext.subscription_ack a USING (subscription_id) "
	"WHERE subscription_id = $1 FOR UPDATE OF a",
	1, {INT4OID}
};
static CatalogStatement update_ack = {
	"UPDATE streamext.subscription_ack SET acked_position = $2, acked_at = now() "
	"WHERE subscription_id = $1",
	2, {INT4OID, INT8OID}
};
static CatalogStatement trim_queue = {
	"DELETE FROM streamext.subscription_queue WHERE subscription_id = $1 AND position <= $2",
	2, {INT4OID, INT8OID}
};

/*
 * catalog_insert_subscription registers a subscription (row: its name,
 * owner, source, view_id, filter, filter_tree, filter_definition, channel,
 * notify, emit and start_lsn), delivered from start_lsn on and
 * acknowledged up to position 0.
 */
void
catalog_insert_subscription(const SubscriptionCatalogRow *row)
{
	Datum		args[11];
	char		nulls[11] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

	args[0] = CStringGetTextDatum(row->name);
	args[1] = ObjectIdGetDatum(row->owner);
	args[2] = ObjectIdGetDatum(row->source_relid);
	args[3] = Int32GetDatum(row->view_id);
	nulls[3] = row->view_id ? ' ' : 'n';
	args[4] = row->filter ? CStringGetTextDatum(row->filter) : (Datum) 0;
	nulls[4] = row->filter ? ' ' : 'n';
	args[5] = row->filter ? CStringGetTextDatum(row->filter_tree) : (Datum) 0;
	nulls[5] = row->filter ? ' ' : 'n';
	args[6] = CStringGetTextDatum(row->channel);
	args[7] = CStringGetTextDatum(row->notify);
	args[8] = CStringGetTextDatum(row->emit);
	args[9] = LSNGetDatum(row->start_lsn);
	args[10] = row->filter ? CStringGetTextDatum(row->filter_definition) : (Datum) 0;
	nulls[10] = row->filter ? ' ' : 'n';
	run_statement(&insert_subscription, args, nulls, SPI_OK_INSERT, "register subscription");
}

/*
 * catalog_delete_subscription forgets a subscription with everything queued
 * for it (its progress and acknowledgement go by ON DELETE CASCADE).  The
 * definition goes first: its delete waits for a worker transaction writing
 * the subscription's entries (which locks the row, subscription_lock), so
 * the queue's delete, with a snapshot of its own, sees what that queued.
 * (Under REPEATABLE READ the cascade to the progress that write moved
 * fails with a serialization failure instead.)
 */
void
catalog_delete_subscription(int32 id)
{
	run_for_key(&delete_subscription, Int32GetDatum(id), SPI_OK_DELETE, "drop subscription");
	run_for_key(&delete_subscription_queue, Int32GetDatum(id), SPI_OK_DELETE,
				"drop subscription");
}

static CatalogStatement delete_leftovers = {
	"WITH q AS (DELETE FROM streamext.subscription_queue q WHERE q.subscription_id = ANY ($2) "
	"AND NOT EXISTS (SELECT 1 FROM streamext.subscription_def s WHERE s.id = q.subscription_id)) "
	"DELETE FROM streamext.dead_letters d "
	"WHERE (d.view_id = ANY ($1) "
	"AND NOT EXISTS (SELECT 1 FROM streamext.view_def v WHERE v.id = d.view_id)) "
	"OR (d.subscription_id = ANY ($2) "
	"AND NOT EXISTS (SELECT 1 FROM streamext.subscription_def s WHERE s.id = d.subscription_id))",
	2, {INT4ARRAYOID, INT4ARRAYOID}
};

/*
 * catalog_delete_leftovers deletes the queue entries and dead letters that
 * the worker wrote for views (view_ids) and subscriptions (sub_ids) that
 * have left the catalog since.  Their drop deletes what it sees, but 0.1's
 * event trigger (a stream dropped with CASCADE) deletes a subscription's
 * queue before its definition, whose delete waits for the worker writing
 * entries the queue's delete did not see.
 */
void
catalog_delete_leftovers(List *view_ids, List *sub_ids)
{
	Datum		args[2];
	List	   *lists[2] = {view_ids, sub_ids};
	int			i;

	for (i = 0; i < 2; i++)
	{
		Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(lists[i]), 1));
		ListCell   *lc;
		int			n = 0;

		foreach(lc, lists[i])
			elems[n++] = Int32GetDatum(lfirst_int(lc));
		args[i] = PointerGetDatum(construct_array(elems, n, INT4OID, sizeof(int32), true,
												  TYPALIGN_INT));
	}
	run_statement(&delete_leftovers, args, NULL, SPI_OK_DELETE, "delete what dropped views and subscriptions left");
}

/*
 * catalog_adopt_subscription records a restored subscription's filter
 * analysed again (NULL: none) and its start_lsn, and gives it progress:
 * its entries are numbered after the newest restored or acknowledged one.
 */
void
catalog_adopt_subscription(int32 id, const char *filter_tree, XLogRecPtr start_lsn)
{
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};

	args[0] = Int32GetDatum(id);
	args[1] = filter_tree ? CStringGetTextDatum(filter_tree) : (Datum) 0;
	nulls[1] = filter_tree ? ' ' : 'n';
	args[2] = LSNGetDatum(start_lsn);
	run_statement(&update_subscription_adopted, args, nulls, SPI_OK_UPDATE,
				  "adopt subscription");
	run_statement(&insert_adopted_ack, args, NULL, SPI_OK_INSERT, "adopt subscription");
	args[1] = args[2];
	run_statement(&insert_adopted_progress, args, NULL, SPI_OK_INSERT, "adopt subscription");
}

/*
 * catalog_read_queue puts into store up to max_events entries of a
 * subscription after its acknowledged position, oldest first.
 */
void
catalog_read_queue(int32 id, int32 max_events, Tuplestorestate *store, TupleDesc desc)
{
	Datum		args[2];
	uint64		i;

	args[0] = Int32GetDatum(id);
	args[1] = Int32GetDatum(max_events);
	SPI_connect();
	if (catalog_execute(&select_queue, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not read subscription entries");
	for (i = 0; i < SPI_processed; i++)
	{
		Datum		values[4];
		bool		nulls[4];

		heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, values, nulls);
		tuplestore_putvalues(store, desc, values, nulls);
	}
	SPI_finish();
}

/*
 * catalog_lock_ack locks a subscription's acknowledged position until the
 * end of the transaction and reads it, with its newest position.
 */
void
catalog_lock_ack(int32 id, int64 *newest, int64 *acked)
{
	Datum		args[1];
	bool		isnull;

	args[0] = Int32GetDatum(id);
	SPI_connect();
	if (catalog_execute(&lock_ack, args, NULL, false, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "streamext: could not read subscription progress");
	*newest = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
										  &isnull));
	*acked = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2,
										 &isnull));
	SPI_finish();
}

/*
 * catalog_ack moves a subscription's acknowledged position to position and
 * trims the entries it covers.
 */
void
catalog_ack(int32 id, int64 position)
{
	Datum		args[2];

	args[0] = Int32GetDatum(id);
	args[1] = Int64GetDatum(position);
	run_statement(&update_ack, args, NULL, SPI_OK_UPDATE, "acknowledge");
	run_statement(&trim_queue, args, NULL, SPI_OK_DELETE, "acknowledge");
}

static CatalogStatement insert_view_dead_letter = {
	"INSERT INTO streamext.dead_letters (view_id, commit_lsn, sqlstate, message, event, committed_at) "
	"VALUES ($1, $2, $3, $4, $5::jsonb, $6)",
	6, {INT4OID, PG_LSNOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID}
};
static CatalogStatement insert_subscription_dead_letter = {
	"INSERT INTO streamext.dead_letters (subscription_id, commit_lsn, sqlstate, message, event, committed_at) "
	"VALUES ($1, $2, $3, $4, $5::jsonb, $6)",
	6, {INT4OID, PG_LSNOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID}
};
static CatalogStatement delete_dead_letter = {
	"DELETE FROM streamext.dead_letters WHERE id = $1", 1, {INT8OID}
};
static CatalogStatement delete_source_dead_letters = {
	"DELETE FROM streamext.dead_letters WHERE view_id = $1 "
	"AND NOT event ? 'streamext_window' "
	"AND (event->>'window_start')::timestamptz >= $2 "
	"AND (event->>'window_start')::timestamptz < $3",
	3, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID}
};

/*
 * catalog_delete_source_dead_letters forgets the events a view on a view
 * set aside that are lower rows starting in [from, to): that window of it
 * is computed again from the lower rows as they are now, which sets aside
 * again those that still fail.  Replaying the old ones would count their
 * rows twice, or count rows the lower view has corrected since.
 */
void
catalog_delete_source_dead_letters(int32 view_id, TimestampTz from, TimestampTz to)
{
	Datum		args[3];

	args[0] = Int32GetDatum(view_id);
	args[1] = TimestampTzGetDatum(from);
	args[2] = TimestampTzGetDatum(to);
	if (catalog_execute(&delete_source_dead_letters, args, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "streamext: could not remove the dead letters of a window computed again");
}

/*
 * catalog_write_dead_letters records events a view or subscription (owner
 * says which: CATALOG_VIEW_DEF or CATALOG_SUBSCRIPTION_DEF, id which one)
 * set aside, in the caller's transaction and SPI connection: once, like
 * the states.
 */
void
catalog_write_dead_letters(CatalogTable owner, int32 id, List *letters, List *replayed)
{
	CatalogStatement *insert = owner == CATALOG_VIEW_DEF ? &insert_view_dead_letter :
		&insert_subscription_dead_letter;
	ListCell   *lc;

	Assert(owner == CATALOG_VIEW_DEF || owner == CATALOG_SUBSCRIPTION_DEF);
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
		if (catalog_execute(insert, args, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "streamext: could not write dead letter");
	}
	/* dead letters a replay applied leave with the state that counts them */
	foreach(lc, replayed)
	{
		Datum		idarg[1];

		idarg[0] = Int64GetDatum(*(int64 *) lfirst(lc));
		if (catalog_execute(&delete_dead_letter, idarg, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "streamext: could not remove a replayed dead letter");
	}
}

static CatalogStatement select_view_dead_letters = {
	"SELECT id, event, coalesce(committed_at, noted_at), event ? 'streamext_window' "
	"FROM streamext.dead_letters WHERE view_id = $1 ORDER BY id", 1, {INT4OID}
};
static CatalogStatement select_subscription_dead_letters = {
	"SELECT id, event, coalesce(committed_at, noted_at), event ? 'streamext_window' "
	"FROM streamext.dead_letters WHERE subscription_id = $1 ORDER BY id", 1, {INT4OID}
};
static CatalogStatement count_subscription_dead_letters = {
	"SELECT count(*) FROM streamext.dead_letters WHERE subscription_id = $1", 1, {INT4OID}
};

/*
 * catalog_read_dead_letters returns the dead letters of a view or
 * subscription (owner, id: as for catalog_write_dead_letters), oldest
 * first, as DeadLetterRows copied out of SPI, in the caller's SPI
 * connection.
 */
List *
catalog_read_dead_letters(CatalogTable owner, int32 id)
{
	Datum		args[1];
	List	   *result = NIL;
	uint64		i;

	Assert(owner == CATALOG_VIEW_DEF || owner == CATALOG_SUBSCRIPTION_DEF);
	args[0] = Int32GetDatum(id);
	if (catalog_execute(owner == CATALOG_VIEW_DEF ? &select_view_dead_letters :
						&select_subscription_dead_letters, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not read dead letters");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		DeadLetterRow *row = palloc(sizeof(DeadLetterRow));
		bool		isnull;

		row->id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		row->event = DatumGetJsonbPCopy(SPI_getbinval(tup, desc, 2, &isnull));
		row->at = DatumGetTimestampTz(SPI_getbinval(tup, desc, 3, &isnull));
		row->is_group = DatumGetBool(SPI_getbinval(tup, desc, 4, &isnull));
		result = lappend(result, row);
	}
	return result;
}

/*
 * catalog_count_subscription_dead_letters counts the dead letters of a
 * subscription, in the caller's SPI connection.
 */
int64
catalog_count_subscription_dead_letters(int32 id)
{
	Datum		args[1];
	bool		isnull;

	args[0] = Int32GetDatum(id);
	if (catalog_execute(&count_subscription_dead_letters, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not read dead letters");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * view_by_relation_name finds a continuous view by a name of its relation,
 * qualified or as the caller's search_path resolves it: a view moved with
 * ALTER VIEW ... SET SCHEMA keeps in view_def the name it was created
 * with.  NULL when the name is no relation's, or not a view's.
 */
static ViewCatalogRow *
view_by_relation_name(const char *name)
{
	char	   *raw = pstrdup(name);
	List	   *parts;
	List	   *names = NIL;
	Oid			relid;
	ListCell   *lc;

	/* a name that is no identifier is no relation's either (no error) */
	if (!SplitIdentifierString(raw, '.', &parts) || list_length(parts) > 3)
		return NULL;
	foreach(lc, parts)
		names = lappend(names, makeString(pstrdup(lfirst(lc))));
	relid = RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, true);
	if (!OidIsValid(relid))
		return NULL;
	return catalog_view_on_relation(relid);
}

/*
 * catalog_view_on_relation finds the continuous view whose relation is
 * relid, as the latest snapshot sees it; NULL when relid is none's.
 */
ViewCatalogRow *
catalog_view_on_relation(Oid relid)
{
	ListCell   *lc;

	foreach(lc, catalog_load_views(CurrentMemoryContext))
		if (((ViewCatalogRow *) lfirst(lc))->view_relid == relid)
			return lfirst(lc);
	return NULL;
}

/* view_id_cmp orders views by id: the order they were created in */
static int
view_id_cmp(const ListCell *a, const ListCell *b)
{
	int32		x = ((ViewCatalogRow *) lfirst(a))->id;
	int32		y = ((ViewCatalogRow *) lfirst(b))->id;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * catalog_views_reading lists the continuous views that read the view
 * whose relation is relid (views on views), as the latest snapshot sees
 * them, oldest first.
 */
List *
catalog_views_reading(Oid relid)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, catalog_load_views(CurrentMemoryContext))
		if (((ViewCatalogRow *) lfirst(lc))->stream_relid == relid)
			result = lappend(result, lfirst(lc));
	list_sort(result, view_id_cmp);
	return result;
}

/*
 * catalog_find_owned_view finds a continuous view by name, refusing callers
 * that do not own it; NULL when there is none and missing_ok.
 */
ViewCatalogRow *
catalog_find_owned_view(const char *name, bool missing_ok)
{
	List	   *rows = load_views(CurrentMemoryContext, GetLatestSnapshot(),
								  CATALOG_VIEW_DEF_NAME_KEY, Anum_view_def_name, F_TEXTEQ,
								  CStringGetTextDatum(name), false);
	ViewCatalogRow *found = rows != NIL ? linitial(rows) : NULL;

	if (found == NULL)
		found = view_by_relation_name(name);

	if (found == NULL && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("continuous view \"%s\" does not exist", name),
				 errhint("streamext.views lists the continuous views.")));
	if (found != NULL && !pg_class_ownercheck(found->view_relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_VIEW, name);
	return found;
}

/*
 * Distributed views (distributed_view.c): a coordinator's definitions, in
 * streamext.distributed_view_def.
 */
static CatalogStatement next_distributed_id = {
	"SELECT nextval('streamext.distributed_view_def_id_seq')::int4", 0
};
static CatalogStatement insert_distributed = {
	"INSERT INTO streamext.distributed_view_def (id, name, view_relid, source, query, query_tree, "
	"definition, window_spec, time_zone, lateness, nodes, node_tables, progress_tables) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
	13, {INT4OID, TEXTOID, REGCLASSOID, REGCLASSOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	INTERVALOID, TEXTARRAYOID, OIDARRAYOID, OIDARRAYOID}
};
static CatalogStatement distributed_by_id = {
	"SELECT id, name, view_relid, source, query, query_tree, definition, window_spec, "
	"time_zone, lateness, nodes, node_tables::oid[], progress_tables::oid[] "
	"FROM streamext.distributed_view_def WHERE id = $1",
	1, {INT4OID}
};
static CatalogStatement delete_distributed = {
	"DELETE FROM streamext.distributed_view_def WHERE id = $1",
	1, {INT4OID}
};
static CatalogStatement forget_dropped_distributed = {
	"DELETE FROM streamext.distributed_view_def d "
	"WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = d.view_relid)",
	0
};

/* catalog_next_distributed_id takes the id of a new distributed view */
int32
catalog_next_distributed_id(void)
{
	return next_id(&next_distributed_id, "the distributed view");
}

/* oid_list_array makes an oid[] of a list of OIDs */
static ArrayType *
oid_list_array(List *oids)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(oids), 1));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, oids)
		elems[n++] = ObjectIdGetDatum(lfirst_oid(lc));
	return construct_array(elems, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT);
}

/*
 * catalog_insert_distributed_view registers distributed view d (its row's
 * id taken from catalog_next_distributed_id), with its lateness as given.
 */
void
catalog_insert_distributed_view(const DistributedViewRow *d, Interval *lateness)
{
	const ViewCatalogRow *row = &d->view;
	Datum		args[13];
	char		nulls[13];
	Datum	   *names = palloc(sizeof(Datum) * Max(list_length(d->nodes), 1));
	ListCell   *lc;
	int			n = 0;

	memset(nulls, ' ', sizeof(nulls));
	foreach(lc, d->nodes)
		names[n++] = CStringGetTextDatum(lfirst(lc));
	args[0] = Int32GetDatum(row->id);
	args[1] = CStringGetTextDatum(row->name);
	args[2] = ObjectIdGetDatum(row->view_relid);
	args[3] = ObjectIdGetDatum(row->stream_relid);
	args[4] = CStringGetTextDatum(row->query);
	args[5] = CStringGetTextDatum(row->query_tree);
	args[6] = CStringGetTextDatum(row->definition);
	args[7] = row->window_text ? CStringGetTextDatum(row->window_text) : (Datum) 0;
	nulls[7] = row->window_text ? ' ' : 'n';
	args[8] = row->time_zone ? CStringGetTextDatum(row->time_zone) : (Datum) 0;
	nulls[8] = row->time_zone ? ' ' : 'n';
	args[9] = IntervalPGetDatum(lateness);
	args[10] = PointerGetDatum(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[11] = PointerGetDatum(oid_list_array(d->node_tables));
	args[12] = PointerGetDatum(oid_list_array(d->progress_tables));
	run_statement(&insert_distributed, args, nulls, SPI_OK_INSERT,
				  "register the distributed view");
}

/*
 * catalog_distributed_view is distributed view id, in the caller's memory
 * context, or NULL.
 */
DistributedViewRow *
catalog_distributed_view(int32 id)
{
	MemoryContext cxt = CurrentMemoryContext;
	DistributedViewRow *d = NULL;
	Datum		key = Int32GetDatum(id);

	SPI_connect();
	if (catalog_execute(&distributed_by_id, &key, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not read a distributed view");
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Datum		values[13];
		bool		isnull[13];
		MemoryContext old;
		ViewCatalogRow *row;
		Datum	   *elems;
		bool	   *elemnulls;
		int			nelems;
		int			i;

		heap_deform_tuple(tup, desc, values, isnull);
		old = MemoryContextSwitchTo(cxt);
		d = palloc0(sizeof(DistributedViewRow));
		row = &d->view;
		row->distributed = true;
		row->id = DatumGetInt32(values[0]);
		row->name = TextDatumGetCString(values[1]);
		row->view_relid = DatumGetObjectId(values[2]);
		row->stream_relid = DatumGetObjectId(values[3]);
		row->query = TextDatumGetCString(values[4]);
		row->query_tree = TextDatumGetCString(values[5]);
		row->definition = TextDatumGetCString(values[6]);
		row->window_text = isnull[7] ? NULL : TextDatumGetCString(values[7]);
		row->time_zone = isnull[8] ? NULL : TextDatumGetCString(values[8]);
		row->lateness_usec = interval_usecs(DatumGetIntervalP(values[9]));
		deconstruct_array(DatumGetArrayTypeP(values[10]), TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &elemnulls, &nelems);
		for (i = 0; i < nelems; i++)
			d->nodes = lappend(d->nodes, TextDatumGetCString(elems[i]));
		deconstruct_array(DatumGetArrayTypeP(values[11]), OIDOID, sizeof(Oid), true,
						  TYPALIGN_INT, &elems, &elemnulls, &nelems);
		for (i = 0; i < nelems; i++)
			d->node_tables = lappend_oid(d->node_tables, DatumGetObjectId(elems[i]));
		deconstruct_array(DatumGetArrayTypeP(values[12]), OIDOID, sizeof(Oid), true,
						  TYPALIGN_INT, &elems, &elemnulls, &nelems);
		for (i = 0; i < nelems; i++)
			d->progress_tables = lappend_oid(d->progress_tables, DatumGetObjectId(elems[i]));
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	return d;
}

/* catalog_delete_distributed_view forgets distributed view id */
void
catalog_delete_distributed_view(int32 id)
{
	run_for_key(&delete_distributed, Int32GetDatum(id), SPI_OK_DELETE,
				"forget a distributed view");
}

/*
 * catalog_forget_dropped_distributed_views forgets the distributed views
 * whose relation DROP VIEW dropped
 */
void
catalog_forget_dropped_distributed_views(void)
{
	run_statement(&forget_dropped_distributed, NULL, NULL, SPI_OK_DELETE,
				  "forget dropped distributed views");
}

static CatalogStatement distributed_on_relation = {
	"SELECT id FROM streamext.distributed_view_def WHERE view_relid = $1",
	1, {OIDOID}
};
static CatalogStatement insert_delivery = {
	"INSERT INTO streamext.distributed_delivery (subscription_id, distributed_id, delivered_upto) "
	"SELECT id, $2, $3 FROM streamext.subscription_def WHERE name = $1",
	3, {TEXTOID, INT4OID, TIMESTAMPTZOID}
};

/*
 * catalog_distributed_view_on_relation is the id of the distributed view
 * whose relation is relid, or 0 (also in a catalog before 0.2, which has
 * none).
 */
int32
catalog_distributed_view_on_relation(Oid relid)
{
	Datum		key = ObjectIdGetDatum(relid);
	int32		id = 0;
	bool		isnull;

	if (!OidIsValid(get_relname_relid("distributed_view_def",
									  get_namespace_oid("streamext", false))))
		return 0;
	SPI_connect();
	if (catalog_execute(&distributed_on_relation, &key, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not read the distributed views");
	if (SPI_processed == 1)
		id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
										 &isnull));
	SPI_finish();
	return id;
}

/*
 * catalog_insert_distributed_delivery makes subscription name one of
 * distributed view id, delivering windows that end after delivered_upto.
 */
void
catalog_insert_distributed_delivery(const char *name, int32 id, TimestampTz delivered_upto)
{
	Datum		args[3] = {CStringGetTextDatum(name), Int32GetDatum(id),
	TimestampTzGetDatum(delivered_upto)};

	run_statement(&insert_delivery, args, NULL, SPI_OK_INSERT,
				  "register the subscription of a distributed view");
}
