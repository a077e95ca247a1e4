/*-------------------------------------------------------------------------
 *
 * retention.c
 *	  Stream retention: a stream with a retention is a table partitioned by
 *	  range on its time column, and its old events leave by whole
 *	  partitions, never by UPDATE or DELETE on the hot path.  This file owns
 *	  the checks of a retention and of the partitioning, the width of the
 *	  partitions, creating them ahead of time (and the default partition
 *	  that catches events outside them), dropping those older than the
 *	  retention, streamext.set_stream_retention(), and the worker's
 *	  maintenance round that does all that.
 *
 *	  The clock is the wall clock: a partition is dropped once its whole
 *	  range is older than now() - retention, as Kafka and TimescaleDB do.
 *	  Dropping a partition writes no row changes, so nothing is decoded and
 *	  no view or subscription changes; inserts into a partition committed
 *	  before its drop but not decoded yet are still decoded, from the WAL
 *	  and the historic catalog the slot keeps.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "nodes/parsenodes.h"
#include "replication/origin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "hooks.h"
#include "retention.h"
#include "sqlfunc.h"
#include "stream_ddl.h"
#include "usercode.h"
#include "window.h"

PG_FUNCTION_INFO_V1(streamext_set_stream_retention);

/* how far ahead of the wall clock partitions exist, at least */
#define AHEAD_MIN_USEC	(60 * USECS_PER_SEC)
/* a maintenance round waits this long for a lock, then tries next round */
#define MAINTENANCE_LOCK_TIMEOUT "500ms"

/* one partition of a stream; MINVALUE/MAXVALUE bounds are -/+infinity */
typedef struct PartRange
{
	Oid			relid;
	bool		is_default;
	TimestampTz lower;
	TimestampTz upper;
} PartRange;

/* a stream the maintenance round works on */
static int64 retention_partition_width(int64 retention_usec);
static int	retention_drop_expired(Oid root, AttrNumber time_attno,
								   int64 retention_usec, TimestampTz now);
static List *stream_partitions(Oid root);
static TimestampTz bound_value(List *datums, TimestampTz unbounded);
static char *ts_literal(TimestampTz t);
static char *qualified_name(Oid relid);
static char *partition_name(Oid root, TimestampTz lower, bool is_default);
static bool default_has_rows(Oid root, Oid def, const char *timecol, TimestampTz lo,
							 TimestampTz hi);
static bool create_partition(Oid root, const char *timecol, TimestampTz lo, TimestampTz hi,
							 bool may_move);
static void run_as_owner(Oid root, const char *sql, int expected);
static void maintain_one(void *arg);

/*
 * retention_usecs checks a retention and returns it in microseconds: at
 * least a second, and without months, whose length varies.
 */
int64
retention_usecs(Interval *retention)
{
	int64		usec;
	const char *hint = "A retention is how long a stream keeps its events, e.g. '7 days'; NULL keeps them forever.";

	usec = interval_usecs(retention);
	if (retention->month != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid retention \"%s\"",
						DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(retention)))),
				 errdetail("A retention cannot be given in months or years, whose length varies."),
				 errhint("Give it in days, e.g. '30 days'.")));
	if (usec < USECS_PER_SEC)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid retention \"%s\"",
						DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(retention)))),
				 errdetail("A retention must be at least 1 second."),
				 errhint("%s", hint)));
	return usec;
}

/*
 * retention_partition_width is the width of a stream's partitions: the
 * widest of a few round intervals that is at most a quarter of the
 * retention (so events stay at most 25% longer than the retention, and a
 * stream has four to five partitions behind the clock), at least a second.
 * Partitions are aligned to 2000-01-01 00:00 UTC, as windows are.
 */
static int64
retention_partition_width(int64 retention_usec)
{
	static const int64 ladder[] = {
		1, 2, 5, 10, 30, 60, 5 * 60, 15 * 60, 30 * 60, 3600, 2 * 3600,
		6 * 3600, 12 * 3600, 86400, 7 * 86400
	};
	int64		width = USECS_PER_SEC;
	int			i;

	for (i = 0; i < lengthof(ladder); i++)
		if (ladder[i] * USECS_PER_SEC <= retention_usec / 4)
			width = ladder[i] * USECS_PER_SEC;
	return width;
}

/*
 * retention_check_partitioning refuses, for a stream with a retention, a
 * table that is not partitioned by range on its time column; the hint
 * shows the statement that makes one.
 */
void
retention_check_partitioning(Oid relid, AttrNumber time_attno)
{
	Relation	rel;
	PartitionKey key;
	bool		ok;
	char	   *relname = get_rel_name(relid);
	char	   *timecol;

	if (time_attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("stream \"%s\" has no time column, so it cannot have a retention", relname),
				 errdetail("Its events are timed by their commit; retention drops partitions of the time column."),
				 errhint("Make the stream again with a time_column: streamext.create_stream('%s', time_column => ..., retention => ...).",
						 relname)));
	timecol = get_attname(relid, time_attno, false);
	if (get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("a stream with a retention must be partitioned by range on its time column, and \"%s\" is not partitioned",
						relname),
				 errdetail("Old events leave by whole partitions; streamext creates and drops them.  A populated table is not converted in place."),
				 errhint("CREATE TABLE %s_new (LIKE %s INCLUDING DEFAULTS) PARTITION BY RANGE (%s); then SELECT streamext.create_stream('%s_new', '%s', retention => ...); and INSERT INTO %s_new SELECT * FROM %s;",
						 relname, relname, quote_identifier(timecol), relname, timecol,
						 relname, relname)));
	rel = table_open(relid, AccessShareLock);
	key = RelationGetPartitionKey(rel);
	ok = (key->strategy == PARTITION_STRATEGY_RANGE && key->partnatts == 1 &&
		  key->partattrs[0] == time_attno);
	table_close(rel, AccessShareLock);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("a stream with a retention must be partitioned by range on its time column \"%s\", and \"%s\" is not",
						timecol, relname),
				 errhint("Create the table with PARTITION BY RANGE (%s).", quote_identifier(timecol))));
}

/*
 * bound_value reads one side of a range partition's bound.
 */
static TimestampTz
bound_value(List *datums, TimestampTz unbounded)
{
	PartitionRangeDatum *d = linitial_node(PartitionRangeDatum, datums);

	if (d->kind != PARTITION_RANGE_DATUM_VALUE)
		return unbounded;
	return DatumGetTimestampTz(castNode(Const, d->value)->constvalue);
}

/*
 * stream_partitions lists the partitions of a stream with their ranges.
 */
static List *
stream_partitions(Oid root)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, find_inheritance_children(root, NoLock))
	{
		Oid			child = lfirst_oid(lc);
		HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(child));
		Datum		d;
		bool		isnull;
		PartitionBoundSpec *spec;
		PartRange  *pr;

		if (!HeapTupleIsValid(tup))
			continue;			/* dropped meanwhile */
		d = SysCacheGetAttr(RELOID, tup, Anum_pg_class_relpartbound, &isnull);
		if (isnull)
		{
			ReleaseSysCache(tup);
			continue;
		}
		spec = (PartitionBoundSpec *) stringToNode(TextDatumGetCString(d));
		ReleaseSysCache(tup);
		pr = palloc0(sizeof(PartRange));
		pr->relid = child;
		pr->is_default = spec->is_default;
		if (!spec->is_default)
		{
			pr->lower = bound_value(spec->lowerdatums, DT_NOBEGIN);
			pr->upper = bound_value(spec->upperdatums, DT_NOEND);
		}
		result = lappend(result, pr);
	}
	return result;
}

/*
 * ts_literal writes a timestamptz as an SQL literal in UTC, independent of
 * the session's DateStyle and TimeZone.
 */
static char *
ts_literal(TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(t, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return psprintf("'%04d-%02d-%02d %02d:%02d:%02d.%06d+00'::timestamptz",
					tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min,
					tm.tm_sec, (int) fsec);
}

/*
 * qualified_name is a relation's schema-qualified, quoted name.
 */
static char *
qualified_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/*
 * partition_name chooses a free name for a partition streamext creates:
 * <stream>_p<YYYYMMDD>t<HHMMSS> (its lower bound, UTC) or <stream>_default,
 * in the stream's schema.
 */
static char *
partition_name(Oid root, TimestampTz lower, bool is_default)
{
	char		base[NAMEDATALEN];
	char	   *name;
	char	   *first;
	Oid			nsp = get_rel_namespace(root);
	int			n = 1;

	snprintf(base, sizeof(base), "%.40s", get_rel_name(root));
	if (is_default)
		name = psprintf("%s_default", base);
	else
	{
		struct pg_tm tm;
		fsec_t		fsec;

		if (timestamp2tm(lower, NULL, &tm, &fsec, NULL, NULL) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("timestamp out of range")));
		name = psprintf("%s_p%04d%02d%02dt%02d%02d%02d", base, tm.tm_year, tm.tm_mon,
						tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	}
	first = name;
	while (OidIsValid(get_relname_relid(name, nsp)))
		name = psprintf("%s_%d", first, ++n);
	return quote_qualified_identifier(get_namespace_name(nsp), name);
}

/*
 * default_has_rows says whether the default partition holds events of
 * [lo, hi), which keep a partition for that range from being created.
 */
static bool
default_has_rows(Oid root, Oid def, const char *timecol, TimestampTz lo, TimestampTz hi)
{
	run_as_owner(root, psprintf("SELECT 1 FROM %s WHERE %s >= %s AND %s < %s LIMIT 1",
					 qualified_name(def), quote_identifier(timecol), ts_literal(lo),
					 quote_identifier(timecol), ts_literal(hi)),
			SPI_OK_SELECT);
	return SPI_processed > 0;
}

/*
 * run_as_owner runs SQL on a stream's tables as the stream's owner, behind
 * the gate (usercode.c): what it fires (triggers, defaults, CHECK
 * constraints, index expressions) runs with the owner's rights, restricted,
 * and the partitions it creates belong to the owner from the moment they
 * exist.  The worker is a superuser; the stream's owner may not be.
 */
static void
run_as_owner(Oid root, const char *sql, int expected)
{
	UserCodeGate gate;

	usercode_enter(&gate, catalog_relation_owner(root), USERCODE_MAY_WRITE);
	sqlfunc_spi_exec(sql, expected);
	usercode_leave(&gate);
}

/*
 * create_partition creates the partition [lo, hi) of a stream.  When the
 * default partition holds events of that range (they came before their
 * partition existed), they are moved into the new one before it is
 * attached: only the worker may do that (may_move), since its writes carry
 * its replication origin and are not decoded, so the moved events are not
 * counted again.  Returns false when it left the range to the worker.
 */
static bool
create_partition(Oid root, const char *timecol, TimestampTz lo, TimestampTz hi,
				 bool may_move)
{
	Oid			def = get_default_partition_oid(root);
	char	   *qualroot = qualified_name(root);
	char	   *part = partition_name(root, lo, false);

	if (OidIsValid(def) && default_has_rows(root, def, timecol, lo, hi))
	{
		StringInfoData cols;
		Relation	rel;
		TupleDesc	desc;
		int			i;

		if (!may_move)
			return false;
		rel = table_open(root, AccessShareLock);
		desc = RelationGetDescr(rel);
		initStringInfo(&cols);
		for (i = 0; i < desc->natts; i++)
			if (!TupleDescAttr(desc, i)->attisdropped)
				appendStringInfo(&cols, "%s%s", cols.len ? ", " : "",
								 quote_identifier(NameStr(TupleDescAttr(desc, i)->attname)));
		table_close(rel, AccessShareLock);

		run_as_owner(root, psprintf("CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
									"INCLUDING STORAGE INCLUDING COMPRESSION)", part, qualroot),
					 SPI_OK_UTILITY);

		/*
		 * The append-only guard is for producers; these events are not new.
		 * Only a superuser may set the role, so the worker does, outside the
		 * owner's gate: the owner's ENABLE ALWAYS triggers still fire, as
		 * the owner.
		 */
		sqlfunc_spi_exec("SELECT set_config('session_replication_role', 'replica', true)", SPI_OK_SELECT);
		run_as_owner(root, psprintf("WITH moved AS (DELETE FROM %s WHERE %s >= %s AND %s < %s RETURNING %s) "
						 "INSERT INTO %s (%s) SELECT %s FROM moved",
						 qualified_name(def), quote_identifier(timecol), ts_literal(lo),
						 quote_identifier(timecol), ts_literal(hi), cols.data,
						 part, cols.data, cols.data),
				SPI_OK_INSERT);
		sqlfunc_spi_exec("SELECT set_config('session_replication_role', 'origin', true)", SPI_OK_SELECT);
		stream_ddl_allow_maintenance(true);
		PG_TRY();
		{
			run_as_owner(root, psprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)",
										qualroot, part, ts_literal(lo), ts_literal(hi)),
						 SPI_OK_UTILITY);
		}
		PG_FINALLY();
		{
			stream_ddl_allow_maintenance(false);
		}
		PG_END_TRY();
	}
	else
		run_as_owner(root, psprintf("CREATE TABLE %s PARTITION OF %s FOR VALUES FROM (%s) TO (%s)",
									part, qualroot, ts_literal(lo), ts_literal(hi)),
					 SPI_OK_UTILITY);
	return true;
}

/*
 * retention_ensure_partitions makes sure a stream with a retention has a
 * default partition and partitions from the one holding now - retention to
 * at least now + max(4 widths, 1 minute), filling the gaps between
 * partitions that exist (the user's too) without overlapping them.
 * Called in SPI.
 */
void
retention_ensure_partitions(Oid root, AttrNumber time_attno, int64 retention_usec,
							TimestampTz now, bool may_move)
{
	int64		width = retention_partition_width(retention_usec);
	char	   *timecol = get_attname(root, time_attno, false);
	TimestampTz from;
	TimestampTz to = now + Max(4 * width, AHEAD_MIN_USEC);
	TimestampTz cur;
	List	   *parts;

	if (!OidIsValid(get_default_partition_oid(root)))
	{
		char	   *def = partition_name(root, 0, true);

		run_as_owner(root, psprintf("CREATE TABLE %s PARTITION OF %s DEFAULT", def,
									qualified_name(root)),
					 SPI_OK_UTILITY);
	}

	from = now - retention_usec;
	from -= ((from % width) + width) % width;
	parts = stream_partitions(root);
	cur = from;
	while (cur < to)
	{
		TimestampTz next = cur - ((cur % width) + width) % width + width;
		bool		covered = false;
		ListCell   *lc;

		foreach(lc, parts)
		{
			PartRange  *pr = lfirst(lc);

			if (pr->is_default)
				continue;
			if (pr->lower <= cur && cur < pr->upper)
			{
				cur = pr->upper;
				covered = true;
				break;
			}
			if (pr->lower > cur && pr->lower < next)
				next = pr->lower;
		}
		if (covered)
			continue;
		if (create_partition(root, timecol, cur, next, may_move))
		{
			PartRange  *pr = palloc0(sizeof(PartRange));

			pr->lower = cur;
			pr->upper = next;
			parts = lappend(parts, pr);
		}
		cur = next;
	}
}

/*
 * retention_drop_expired drops the partitions of a stream whose whole range
 * is older than now - retention, and deletes such events from the default
 * partition (where only events outside every partition's range go).
 * Called in SPI, by the worker only: its writes are not decoded.
 * Returns the number of partitions dropped.
 */
static int
retention_drop_expired(Oid root, AttrNumber time_attno, int64 retention_usec,
					   TimestampTz now)
{
	int64		width = retention_partition_width(retention_usec);
	TimestampTz cutoff = now - retention_usec;
	TimestampTz kept_from = cutoff - ((cutoff % width) + width) % width;
	ListCell   *lc;
	int			dropped = 0;

	foreach(lc, stream_partitions(root))
	{
		PartRange  *pr = lfirst(lc);

		if (pr->is_default)
		{
			sqlfunc_spi_exec("SELECT set_config('session_replication_role', 'replica', true)",
							 SPI_OK_SELECT);
			run_as_owner(root, psprintf("DELETE FROM %s WHERE %s < %s", qualified_name(pr->relid),
										quote_identifier(get_attname(root, time_attno, false)),
										ts_literal(kept_from)),
						 SPI_OK_DELETE);
			sqlfunc_spi_exec("SELECT set_config('session_replication_role', 'origin', true)", SPI_OK_SELECT);
			continue;
		}
		if (pr->upper == DT_NOEND || pr->upper > cutoff)
			continue;
		elog(DEBUG1, "streamext retention drops partition \"%s\"", get_rel_name(pr->relid));
		stream_ddl_allow_maintenance(true);
		PG_TRY();
		{
			run_as_owner(root, psprintf("DROP TABLE %s", qualified_name(pr->relid)),
						 SPI_OK_UTILITY);
		}
		PG_FINALLY();
		{
			stream_ddl_allow_maintenance(false);
		}
		PG_END_TRY();
		dropped++;
	}
	return dropped;
}

/*
 * maintain_one is the maintenance of one stream, for usercode_isolated: drop
 * what expired, then create what is missing.
 */
static void
maintain_one(void *arg)
{
	StreamRetentionRow *rs = arg;
	AttrNumber	time_attno;
	TimestampTz now = GetCurrentTimestamp();

	/* dropped meanwhile, or no longer partitioned as retention needs */
	if (!OidIsValid(get_rel_namespace(rs->relid)) ||
		!catalog_is_stream(rs->relid, &time_attno))
		return;
	retention_check_partitioning(rs->relid, time_attno);
	SPI_connect();
	/* producers and readers wait for these locks: never for long */
	sqlfunc_spi_exec("SELECT set_config('lock_timeout', '" MAINTENANCE_LOCK_TIMEOUT "', true)",
					SPI_OK_SELECT);

	/*
	 * A deferred constraint trigger of the owner's would fire at the commit,
	 * outside the owner's gate: PostgreSQL refuses to queue one inside a
	 * security-restricted operation, so every constraint is checked at once.
	 */
	sqlfunc_spi_exec("SET CONSTRAINTS ALL IMMEDIATE", SPI_OK_UTILITY);
	(void) retention_drop_expired(rs->relid, time_attno, rs->retention_usec, now);
	retention_ensure_partitions(rs->relid, time_attno, rs->retention_usec, now, true);
	SPI_finish();
}

/*
 * retention_maintain is the worker's maintenance round, in a transaction of
 * its own: for each stream with a retention, drop the partitions that
 * expired and create those missing ahead.  A stream whose maintenance fails
 * (a lock not granted in time) is reported and tried again next round.
 * The transaction carries the worker's replication origin, like all its
 * writes, so the events it moves are not decoded; it does not move the
 * origin's progress.
 */
void
retention_maintain(void)
{
	List	   *streams;
	ListCell   *lc;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (!catalog_lock_extension())
	{
		/* dropped: the worker leaves at its next look */
		CommitTransactionCommand();
		return;
	}
	PushActiveSnapshot(GetTransactionSnapshot());
	streams = catalog_load_stream_retentions(CurrentMemoryContext);

	foreach(lc, streams)
	{
		StreamRetentionRow *rs = lfirst(lc);
		UserCodeFailure failure;

		if (!usercode_isolated_untimed(InvalidOid, USERCODE_MAY_WRITE, maintain_one, rs, &failure))
		{
			ereport(LOG,
					(errmsg("streamext could not maintain the partitions of stream %u, tries again: %s",
							rs->relid, failure.error->message)));
			FreeErrorData(failure.error);
		}
	}
	PopActiveSnapshot();
	replorigin_session_origin_lsn = InvalidXLogRecPtr;
	CommitTransactionCommand();
}

/*
 * streamext_set_stream_retention changes how long a stream keeps its
 * events; NULL keeps them forever (streamext then neither creates nor
 * drops its partitions).  The partitions the new retention needs are
 * created at once; the worker drops the expired ones at its next round.
 */
Datum
streamext_set_stream_retention(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Interval   *retention = PG_ARGISNULL(1) ? NULL : PG_GETARG_INTERVAL_P(1);
	AttrNumber	time_attno;
	int64		usec = 0;
	CatalogAccess ca;

	sqlfunc_check_setup();
	sqlfunc_check_arg_not_null(fcinfo, 0, "stream",
							   "Pass the stream whose retention to change; a NULL retention keeps its events forever.");
	relid = PG_GETARG_OID(0);
	if (!catalog_is_stream(relid, &time_attno))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("\"%s\" is not a stream", get_rel_name(relid)),
				 errhint("streamext.streams lists the streams.")));
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
	if (retention != NULL)
	{
		usec = retention_usecs(retention);
		retention_check_partitioning(relid, time_attno);
	}

	SPI_connect();
	catalog_owner_enter(&ca);
	catalog_set_stream_retention(relid, retention);
	catalog_owner_leave(&ca);
	if (retention != NULL)
		retention_ensure_partitions(relid, time_attno, usec, GetCurrentTimestamp(), false);
	SPI_finish();

	streamext_note_catalog_change();
	PG_RETURN_VOID();
}
