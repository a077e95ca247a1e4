/*-------------------------------------------------------------------------
 *
 * lookup_cache.c
 *	  The rows of the tables a view joins (lookup_join.c), as the worker
 *	  holds them at the commit it has decoded up to: per view and joined
 *	  table, the columns the view reads, keyed by the join key.
 *
 *	  Where they come from: create_view (and rebuild_view, replace_view,
 *	  adopt_view) reads each table with the snapshot of the view's backfill
 *	  while it holds it in SHARE mode, so that its rows are those committed
 *	  before the view's start_lsn; the worker applies every change of the
 *	  table committed after it, in commit order with the events
 *	  (decoder.c).  The rows are persisted with each checkpoint, those
 *	  changed since the last one (streamext.lookup_rows), so that after a
 *	  crash the worker reloads them as of the checkpoint it decodes from.
 *
 *	  The rows live in the worker's local memory, not in shared memory:
 *	  only the worker reads them.  Their size is in streamext.views'
 *	  memory_bytes; the view fails (it cannot be read, with the reason)
 *	  when they need more than streamext.max_memory.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"

#include "access/detoast.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "port/pg_bitutils.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "catalog.h"
#include "datum_bytes.h"
#include "lookup_cache.h"
#include "lookup_join.h"
#include "settings.h"
#include "usercode.h"
#include "view_plan.h"
#include "view_state.h"

/* a row of a joined table: its key, then the columns the view reads */
typedef struct LookupRow
{
	struct LookupRow *next;		/* of the same hash */
	uint32		hash;
	bool		dirty;			/* changed since the last checkpoint */
	bool		deleted;		/* gone; forgotten once the checkpoint has it */
	bool		on_disk;		/* in streamext.lookup_rows */
	MinimalTuple tuple;
} LookupRow;

/*
 * The rows of one hash, in an open-addressing table (simplehash): a probe
 * per event touches the bucket, then its row, which dynahash's chains of
 * separate elements made several cache misses apart.
 */
typedef struct LookupBucket
{
	uint32		hash;			/* hash key */
	char		status;			/* simplehash's */
	LookupRow  *rows;
} LookupBucket;

#define SH_PREFIX lookuptab
#define SH_ELEMENT_TYPE LookupBucket
#define SH_KEY_TYPE uint32
#define SH_KEY hash
#define SH_HASH_KEY(tb, key) (key)
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

typedef struct LookupCache
{
	MemoryContext cxt;
	lookuptab_hash *buckets;	/* by key hash, already mixed (key_hash) */
	List	   *dirty;			/* LookupRow, in cxt */
	List	   *gone_keys;		/* bytea: keys on disk replaced by equal keys
								 * of other bytes */
	int64		nrows;
} LookupCache;

#define LOOKUP_WRITE_BATCH 5000
/* the lookup_no of the row that records why a view failed */
#define LOOKUP_FAILURE (-1)

static CatalogStatement upsert_lookup_rows = {
	"INSERT INTO streamext.lookup_rows (view_id, lookup_no, join_key, row_data) "
	"SELECT $1, $2, k, r FROM unnest($3, $4) AS u(k, r) "
	"ON CONFLICT (view_id, lookup_no, join_key) DO UPDATE SET row_data = excluded.row_data",
	4, {INT4OID, INT2OID, BYTEAARRAYOID, BYTEAARRAYOID}
};
static CatalogStatement delete_lookup_rows = {
	"DELETE FROM streamext.lookup_rows WHERE view_id = $1 AND lookup_no = $2 "
	"AND join_key = ANY ($3)",
	3, {INT4OID, INT2OID, BYTEAARRAYOID}
};
static CatalogStatement clear_lookup_rows = {
	"DELETE FROM streamext.lookup_rows WHERE view_id = $1", 1, {INT4OID}
};
static CatalogStatement select_lookup_rows = {
	"SELECT lookup_no, join_key, row_data FROM streamext.lookup_rows WHERE view_id = $1 "
	"ORDER BY lookup_no",
	1, {INT4OID}
};

static LookupCache *cache_of(ViewPlan *plan, LookupJoin *lk);
static MinimalTuple lookup_cache_find(LookupJoin *lk, Oid owner, Datum *probe);
static uint32 key_hash(Oid owner, FmgrInfo *fns, Oid *collations, int n, Datum *values);
static bool call_eq(Oid owner, FmgrInfo *fn, Oid collation, Datum a, Datum b);
static LookupRow *find_row(LookupJoin *lk, Oid owner, uint32 hash, Datum *keys);
static void mark_dirty(LookupCache *cache, LookupRow *row);
static void each_row(LookupCache *cache, void (*fn) (LookupCache *cache, LookupRow *row));
static void forget_row(LookupCache *cache, LookupRow *row);
static void rewrite_row(LookupCache *cache, LookupRow *row);
static void forget_rows(ViewPlan *plan);
static void put_row(ViewPlan *plan, LookupJoin *lk, Datum *values, bool *isnull, bool must_be_new);
static void delete_row(ViewPlan *plan, LookupJoin *lk, Datum *keys);
static void row_from_tuple(LookupJoin *lk, HeapTuple tuple, TupleDesc desc, Datum *values,
						   bool *isnull, bool *unchanged);
static bool key_has_null(LookupJoin *lk, bool *isnull);
static bytea *columns_bytes(LookupJoin *lk, Datum *values, bool *isnull, int from, int to);
static bytea *key_bytes(LookupJoin *lk, Datum *values, bool *isnull);
static void check_memory(ViewPlan *plan, LookupJoin *lk);
static void flush_batch(int32 view_id, int16 lookup_no, CatalogStatement *stmt,
						List **keys, List **rows);

/*
 * cache_of gives the rows of a joined table, made empty the first time.
 */
static LookupCache *
cache_of(ViewPlan *plan, LookupJoin *lk)
{
	if (lk->cache == NULL)
	{
		MemoryContext cxt = AllocSetContextCreate(plan->cxt, "streamext lookup rows",
												  ALLOCSET_DEFAULT_SIZES);
		LookupCache *cache = MemoryContextAllocZero(cxt, sizeof(LookupCache));

		cache->cxt = cxt;
		cache->buckets = lookuptab_create(cxt, 1024, NULL);
		lk->cache = cache;
	}
	return lk->cache;
}

/*
 * key_hash hashes a join key with fns, the hash functions of one hash
 * operator family for its types: a probe and a row's key hash alike when
 * they are equal.  Type hash functions may be user code: run as owner.
 */
static uint32
key_hash(Oid owner, FmgrInfo *fns, Oid *collations, int n, Datum *values)
{
	LOCAL_FCINFO(fcinfo, 1);
	uint32		hash = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		hash = pg_rotate_left32(hash, 1);
		InitFunctionCallInfoData(*fcinfo, &fns[i], 1, collations[i], NULL, NULL);
		fcinfo->args[0].value = values[i];
		fcinfo->args[0].isnull = false;
		hash ^= DatumGetUInt32(usercode_call(owner, fcinfo));
	}
	return murmurhash32(hash);
}

/*
 * call_eq calls an equality operator's function on two values, as owner.
 */
static bool
call_eq(Oid owner, FmgrInfo *fn, Oid collation, Datum a, Datum b)
{
	LOCAL_FCINFO(fcinfo, 2);
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, fn, 2, collation, NULL, NULL);
	fcinfo->args[0].value = a;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = b;
	fcinfo->args[1].isnull = false;
	result = usercode_call(owner, fcinfo);
	return !fcinfo->isnull && DatumGetBool(result);
}

/*
 * lookup_cache_find finds the row of a joined table whose key equals probe
 * (by the join's operators), or NULL.  The tuple stays valid until the
 * next change of the table is applied.
 */
static MinimalTuple
lookup_cache_find(LookupJoin *lk, Oid owner, Datum *probe)
{
	LookupBucket *bucket;
	LookupRow  *row;
	uint32		hash;

	if (lk->cache == NULL || lk->cache->nrows == 0)
		return NULL;
	hash = key_hash(owner, lk->probe_hash, lk->collations, lk->nkeys, probe);
	bucket = lookuptab_lookup(lk->cache->buckets, hash);
	if (bucket == NULL)
		return NULL;
	for (row = bucket->rows; row != NULL; row = row->next)
	{
		int			i;
		bool		match = !row->deleted;

		if (!match)
			continue;
		ExecStoreMinimalTuple(row->tuple, lk->rowslot, false);
		slot_getsomeattrs(lk->rowslot, lk->nkeys);
		for (i = 0; i < lk->nkeys && match; i++)
			match = lk->probe_first[i] ?
				call_eq(owner, &lk->probe_eq[i], lk->collations[i], probe[i],
						lk->rowslot->tts_values[i]) :
				call_eq(owner, &lk->probe_eq[i], lk->collations[i],
						lk->rowslot->tts_values[i], probe[i]);
		if (match)
			return row->tuple;
	}
	return NULL;
}

/*
 * find_row finds the row (deleted or not) whose key equals keys, a key of
 * the table's own types.
 */
static LookupRow *
find_row(LookupJoin *lk, Oid owner, uint32 hash, Datum *keys)
{
	LookupBucket *bucket = lookuptab_lookup(lk->cache->buckets, hash);
	LookupRow  *row;

	if (bucket == NULL)
		return NULL;
	for (row = bucket->rows; row != NULL; row = row->next)
	{
		int			i;
		bool		match = true;

		ExecStoreMinimalTuple(row->tuple, lk->rowslot, false);
		slot_getsomeattrs(lk->rowslot, lk->nkeys);
		for (i = 0; i < lk->nkeys && match; i++)
			match = call_eq(owner, &lk->dim_eq[i], lk->collations[i],
							lk->rowslot->tts_values[i], keys[i]);
		if (match)
			return row;
	}
	return NULL;
}

static void
mark_dirty(LookupCache *cache, LookupRow *row)
{
	MemoryContext old;

	if (row->dirty)
		return;
	row->dirty = true;
	old = MemoryContextSwitchTo(cache->cxt);
	cache->dirty = lappend(cache->dirty, row);
	MemoryContextSwitchTo(old);
}

/*
 * columns_bytes is columns [from, to) of a cached row in datumSerialize()
 * form, as streamext.lookup_rows keeps them: the key (key_bytes) and the
 * rest of the row.
 */
static bytea *
columns_bytes(LookupJoin *lk, Datum *values, bool *isnull, int from, int to)
{
	StringInfoData buf;
	bytea	   *result;
	int			i;

	initStringInfo(&buf);
	for (i = from; i < to; i++)
	{
		Form_pg_attribute att = TupleDescAttr(lk->rowdesc, i);

		append_datum_bytes(&buf, values[i], isnull[i], att->attbyval, att->attlen);
	}
	result = palloc(VARHDRSZ + buf.len);
	SET_VARSIZE(result, VARHDRSZ + buf.len);
	memcpy(VARDATA(result), buf.data, buf.len);
	pfree(buf.data);
	return result;
}

/*
 * key_bytes is a key as streamext.lookup_rows keys it.
 */
static bytea *
key_bytes(LookupJoin *lk, Datum *values, bool *isnull)
{
	return columns_bytes(lk, values, isnull, 0, lk->nkeys);
}

/*
 * put_row makes values (key, then columns; no NULL in the key) the row of
 * its key, in place of the one it had.  A row that must_be_new (inserted,
 * or moved to another key) finding one there means the table holds two
 * rows of one key: its unique index is gone, and the join can no longer
 * count each event once.
 */
static void
put_row(ViewPlan *plan, LookupJoin *lk, Datum *values, bool *isnull, bool must_be_new)
{
	LookupCache *cache = cache_of(plan, lk);
	uint32		hash = key_hash(plan->owner, lk->dim_hash, lk->collations, lk->nkeys, values);
	LookupRow  *row = find_row(lk, plan->owner, hash, values);
	MemoryContext old;
	MinimalTuple tuple;

	if (must_be_new && row != NULL && !row->deleted)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("\"%s\" holds two rows of one key of the join", lk->relname),
				 errdetail("A continuous view joins it on a unique key; each event must find one row at most."),
				 errhint("Make the join columns of \"%s\" unique again, then call streamext.rebuild_view('%s').",
						 lk->relname, plan->name)));
	old = MemoryContextSwitchTo(cache->cxt);
	tuple = heap_form_minimal_tuple(lk->rowdesc, values, isnull);

	if (row == NULL)
	{
		LookupBucket *bucket;
		bool		found;

		row = palloc0(sizeof(LookupRow));
		row->hash = hash;
		bucket = lookuptab_insert(cache->buckets, hash, &found);
		if (!found)
			bucket->rows = NULL;
		row->next = bucket->rows;
		bucket->rows = row;
		cache->nrows++;
	}
	else
	{
		if (row->on_disk)
		{
			/* an equal key of other bytes (1.0 and 1.00): the old ones go */
			bool	   *nulls = palloc0(sizeof(bool) * lk->nkeys);
			bytea	   *was;
			bytea	   *now;

			ExecStoreMinimalTuple(row->tuple, lk->rowslot, false);
			slot_getsomeattrs(lk->rowslot, lk->nkeys);
			was = key_bytes(lk, lk->rowslot->tts_values, nulls);
			now = key_bytes(lk, values, nulls);
			if (VARSIZE(was) != VARSIZE(now) || memcmp(was, now, VARSIZE(was)) != 0)
			{
				cache->gone_keys = lappend(cache->gone_keys, was);
				row->on_disk = false;
			}
			else
				pfree(was);
			pfree(now);
			pfree(nulls);
		}
		if (row->deleted)
			cache->nrows++;
		row->deleted = false;
		ExecClearTuple(lk->rowslot);
		pfree(row->tuple);
	}
	row->tuple = tuple;
	MemoryContextSwitchTo(old);
	mark_dirty(cache, row);
}

/*
 * delete_row forgets the row of a key; a row on disk stays, marked, until
 * the next checkpoint deletes it there.
 */
static void
delete_row(ViewPlan *plan, LookupJoin *lk, Datum *keys)
{
	LookupCache *cache = cache_of(plan, lk);
	uint32		hash = key_hash(plan->owner, lk->dim_hash, lk->collations, lk->nkeys, keys);
	LookupRow  *row = find_row(lk, plan->owner, hash, keys);

	if (row == NULL || row->deleted)
		return;
	row->deleted = true;
	cache->nrows--;
	mark_dirty(cache, row);
}

/*
 * row_from_tuple takes a cached row's values out of a row of the joined
 * table: its key, then the columns the view reads, detoasted.  A decoded
 * tuple may carry, for a value stored out of line that its change left
 * alone, only a pointer the worker cannot follow: such values are flagged
 * in unchanged (NULL for a table's own rows, read by a scan, where every
 * pointer can be followed).
 */
static void
row_from_tuple(LookupJoin *lk, HeapTuple tuple, TupleDesc desc, Datum *values, bool *isnull,
			   bool *unchanged)
{
	Datum	   *all = palloc(sizeof(Datum) * desc->natts);
	bool	   *allnull = palloc(sizeof(bool) * desc->natts);
	int			n = lk->nkeys + lk->ncols;
	int			i;

	heap_deform_tuple(tuple, desc, all, allnull);
	for (i = 0; i < n; i++)
	{
		AttrNumber	attno = i < lk->nkeys ? lk->dim_keys[i] : lk->dim_cols[i - lk->nkeys];
		Form_pg_attribute att = TupleDescAttr(desc, attno - 1);
		Datum		d = all[attno - 1];

		if (unchanged)
			unchanged[i] = false;
		isnull[i] = allnull[attno - 1];
		values[i] = (Datum) 0;
		if (isnull[i] || att->attlen != -1)
		{
			values[i] = d;
			continue;
		}
		if (unchanged && VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(d)))
		{
			unchanged[i] = true;
			isnull[i] = true;
			continue;
		}
		if (VARATT_IS_EXTENDED(DatumGetPointer(d)))
			d = PointerGetDatum(detoast_attr((struct varlena *) DatumGetPointer(d)));
		values[i] = d;
	}
}

/*
 * key_has_null: = finds no row by a NULL.
 */
static bool
key_has_null(LookupJoin *lk, bool *isnull)
{
	int			i;

	for (i = 0; i < lk->nkeys; i++)
		if (isnull[i])
			return true;
	return false;
}

/*
 * check_memory fails the view when the rows of its joined tables outgrow
 * streamext.max_memory.
 */
static void
check_memory(ViewPlan *plan, LookupJoin *lk)
{
	int64		bytes = lookup_cache_memory(plan);

	if (bytes > (int64) streamext_max_memory_mb * 1024 * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the rows continuous view \"%s\" joins from \"%s\" do not fit in streamext.max_memory",
						plan->name, lk->relname),
				 errdetail("They take %lld bytes.", (long long) bytes),
				 errhint("Raise streamext.max_memory (now %dMB) and call streamext.rebuild_view('%s'), or join fewer columns.",
						 streamext_max_memory_mb, plan->name)));
}

/*
 * lookup_cache_load_tables reads the rows of every table the view joins as
 * snapshot sees them: create_view's backfill and the computations like it,
 * which hold each table in SHARE mode.
 */
void
lookup_cache_load_tables(ViewPlan *plan, Snapshot snapshot)
{
	int			d;

	for (d = 0; d < plan->joined.nlookups; d++)
	{
		LookupJoin *lk = &plan->joined.lookups[d];
		Relation	rel = table_open(lk->relid, AccessShareLock);
		TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
		TupleDesc	desc = RelationGetDescr(rel);
		int			n = lk->nkeys + lk->ncols;
		Datum	   *values = palloc(sizeof(Datum) * n);
		bool	   *isnull = palloc(sizeof(bool) * n);
		MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext, "streamext lookup load",
												  ALLOCSET_DEFAULT_SIZES);
		HeapTuple	tuple;
		uint64		count = 0;

		(void) cache_of(plan, lk);
		while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(tmp);

			CHECK_FOR_INTERRUPTS();
			row_from_tuple(lk, tuple, desc, values, isnull, NULL);
			if (!key_has_null(lk, isnull))
				put_row(plan, lk, values, isnull, true);
			MemoryContextSwitchTo(old);
			MemoryContextReset(tmp);
			if (++count % 10000 == 0)
				check_memory(plan, lk);
		}
		check_memory(plan, lk);
		table_endscan(scan);
		table_close(rel, AccessShareLock);
		MemoryContextDelete(tmp);
	}
}

/*
 * lookup_cache_apply_change applies a decoded change of the table a view's
 * lookup which joins: an insert (newtuple), an update (newtuple, and
 * oldtuple when the key changed, a key value is stored out of line, or
 * the table logs whole old rows: old_is_full) or a delete (oldtuple, the
 * replica identity's columns at least).  A value the update left out of
 * line as it was comes from the old tuple when it is whole, or else from
 * the row kept for the old key.  The caller has a per-change memory
 * context.
 */
void
lookup_cache_apply_change(ViewPlan *plan, int which, HeapTuple oldtuple, HeapTuple newtuple,
						  TupleDesc desc, bool old_is_full, bool update)
{
	LookupJoin *lk = &plan->joined.lookups[which];
	int			n = lk->nkeys + lk->ncols;
	Datum	   *values = palloc(sizeof(Datum) * n);
	bool	   *isnull = palloc(sizeof(bool) * n);
	bool	   *unchanged = palloc(sizeof(bool) * n);
	Datum	   *oldvals = palloc(sizeof(Datum) * n);
	bool	   *oldnulls = palloc(sizeof(bool) * n);
	bool	   *oldunchanged = palloc(sizeof(bool) * n);
	MinimalTuple before = NULL;
	int			i;

	if (oldtuple == NULL && newtuple == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("a delete from \"%s\" does not carry its key", lk->relname),
				 errhint("Keep the replica identity of \"%s\" on the join columns, then streamext.rebuild_view().",
						 lk->relname)));
	if (oldtuple != NULL)
	{
		row_from_tuple(lk, oldtuple, desc, oldvals, oldnulls, oldunchanged);
		for (i = 0; i < lk->nkeys; i++)
			if (oldunchanged[i])
				elog(ERROR, "streamext: the old key of a change of \"%s\" is not inline",
					 lk->relname);
	}
	if (newtuple != NULL)
	{
		row_from_tuple(lk, newtuple, desc, values, isnull, unchanged);
		for (i = 0; i < n; i++)
		{
			/* the old tuple has the key, and every column when it is whole */
			if (!unchanged[i] || oldtuple == NULL || (i >= lk->nkeys && !old_is_full) ||
				oldunchanged[i])
				continue;
			values[i] = oldvals[i];
			isnull[i] = oldnulls[i];
			unchanged[i] = false;
		}
		for (i = 0; i < lk->nkeys; i++)
			if (unchanged[i])
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("an update of \"%s\" does not carry its key", lk->relname),
						 errhint("Keep the replica identity of \"%s\" on the join columns, then streamext.rebuild_view().",
								 lk->relname)));
	}

	/* the row of the old key: what the update left unchanged comes from it */
	if (lk->cache != NULL && !key_has_null(lk, oldtuple ? oldnulls : isnull))
	{
		Datum	   *key = oldtuple ? oldvals : values;
		uint32		hash = key_hash(plan->owner, lk->dim_hash, lk->collations, lk->nkeys, key);
		LookupRow  *row = find_row(lk, plan->owner, hash, key);

		if (row != NULL && !row->deleted)
			before = heap_copy_minimal_tuple(row->tuple);
	}
	if (oldtuple != NULL && !key_has_null(lk, oldnulls))
		delete_row(plan, lk, oldvals);
	if (newtuple == NULL || key_has_null(lk, isnull))
		return;
	if (memchr(unchanged, true, n) != NULL)
	{
		if (before == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("an update of \"%s\" left a value out of line for a row the view did not have",
							lk->relname),
					 errhint("ALTER TABLE %s REPLICA IDENTITY FULL, then streamext.rebuild_view().",
							 lk->relname)));
		ExecStoreMinimalTuple(before, lk->rowslot, false);
		slot_getallattrs(lk->rowslot);
		for (i = 0; i < n; i++)
			if (unchanged[i])
			{
				values[i] = lk->rowslot->tts_values[i];
				isnull[i] = lk->rowslot->tts_isnull[i];
			}
	}
	/* an insert, or an update that moved the row to another key */
	put_row(plan, lk, values, isnull, !update || oldtuple != NULL);
	ExecClearTuple(lk->rowslot);
	check_memory(plan, lk);
}

/*
 * each_row calls fn for every row kept, deleted ones too.
 */
static void
each_row(LookupCache *cache, void (*fn) (LookupCache *cache, LookupRow *row))
{
	lookuptab_iterator it;
	LookupBucket *bucket;

	lookuptab_start_iterate(cache->buckets, &it);
	while ((bucket = lookuptab_iterate(cache->buckets, &it)) != NULL)
	{
		LookupRow  *row;

		for (row = bucket->rows; row != NULL; row = row->next)
			fn(cache, row);
	}
}

/* forget_row deletes a row (TRUNCATE) */
static void
forget_row(LookupCache *cache, LookupRow *row)
{
	if (row->deleted)
		return;
	row->deleted = true;
	cache->nrows--;
	mark_dirty(cache, row);
}

/* rewrite_row makes a row be written again (its table was cleared) */
static void
rewrite_row(LookupCache *cache, LookupRow *row)
{
	row->on_disk = false;
	mark_dirty(cache, row);
}

/*
 * lookup_cache_truncate forgets every row of the table a lookup joins.
 */
void
lookup_cache_truncate(ViewPlan *plan, int which)
{
	LookupJoin *lk = &plan->joined.lookups[which];
	LookupCache *cache = cache_of(plan, lk);

	each_row(cache, forget_row);
}

/*
 * forget_rows frees every row a view keeps of the tables it joins.
 */
static void
forget_rows(ViewPlan *plan)
{
	int			d;

	for (d = 0; d < plan->joined.nlookups; d++)
		if (plan->joined.lookups[d].cache != NULL)
		{
			MemoryContextDelete(plan->joined.lookups[d].cache->cxt);
			plan->joined.lookups[d].cache = NULL;
		}
}

/*
 * lookup_cache_failed marks a view that missed a change of a table it joins
 * (lookup_cache_apply_change failed): it cannot be read, with the reason,
 * until it is computed again.
 */
void
lookup_cache_failed(ViewPlan *plan, const char *message)
{
	/* not needed until the view is computed again, which reads them anew */
	forget_rows(plan);
	plan->state->lookup_failure =
		MemoryContextStrdup(plan->cxt,
							psprintf("it cannot follow the tables it joins: %s", message));
	ereport(WARNING,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("continuous view \"%s\" cannot follow the tables it joins: %s",
					plan->name, message),
			 errdetail("Readers of the view get an error until it is computed again."),
			 errhint("Fix the cause, then call streamext.rebuild_view('%s').", plan->name)));
}

/*
 * lookup_cache_memory is the memory the rows of a view's joined tables take.
 */
int64
lookup_cache_memory(ViewPlan *plan)
{
	int64		bytes = 0;
	int			d;

	for (d = 0; d < plan->joined.nlookups; d++)
		if (plan->joined.lookups[d].cache != NULL)
			bytes += MemoryContextMemAllocated(plan->joined.lookups[d].cache->cxt, true);
	return bytes;
}

/*
 * flush_batch runs stmt (upsert or delete) on the keys (and rows) batched.
 */
static void
flush_batch(int32 view_id, int16 lookup_no, CatalogStatement *stmt, List **keys, List **rows)
{
	Datum		args[4];
	Datum	   *kd;
	int			n = list_length(*keys);
	int			i;
	ListCell   *lc;
	int			rc;

	if (n == 0)
		return;
	kd = palloc(sizeof(Datum) * n);
	i = 0;
	foreach(lc, *keys)
		kd[i++] = PointerGetDatum(lfirst(lc));
	args[0] = Int32GetDatum(view_id);
	args[1] = Int16GetDatum(lookup_no);
	args[2] = PointerGetDatum(construct_array(kd, n, BYTEAOID, -1, false, TYPALIGN_INT));
	if (rows != NULL)
	{
		Datum	   *rd = palloc(sizeof(Datum) * n);

		i = 0;
		foreach(lc, *rows)
			rd[i++] = PointerGetDatum(lfirst(lc));
		args[3] = PointerGetDatum(construct_array(rd, n, BYTEAOID, -1, false, TYPALIGN_INT));
	}
	rc = catalog_execute(stmt, args, NULL, false, 0);
	if (rc != SPI_OK_INSERT && rc != SPI_OK_DELETE)
		elog(ERROR, "streamext: could not write the rows of a joined table");
	list_free_deep(*keys);
	*keys = NIL;
	if (rows != NULL)
	{
		list_free_deep(*rows);
		*rows = NIL;
	}
}

/*
 * lookup_cache_write persists the rows of the view's joined tables changed
 * since the last checkpoint, in the checkpoint's transaction (connected to
 * SPI), and forgets the deleted ones.  With all, every row (after a
 * computation that cleared them).
 */
void
lookup_cache_write(ViewPlan *plan, bool all)
{
	int			d;

	/* rows of the view's definition before (replace_view) go */
	if (all && lookup_join_catalog_exists())
		lookup_cache_clear_persisted(plan->id);
	/* a view that failed stays failed after a restart, until it is computed again */
	if (plan->state->lookup_failure != NULL)
	{
		List	   *keys = list_make1(columns_bytes(NULL, NULL, NULL, 0, 0));
		List	   *why = list_make1(cstring_to_text(plan->state->lookup_failure));

		flush_batch(plan->id, LOOKUP_FAILURE, &upsert_lookup_rows, &keys, &why);
	}
	for (d = 0; d < plan->joined.nlookups; d++)
	{
		LookupJoin *lk = &plan->joined.lookups[d];
		LookupCache *cache = lk->cache;
		List	   *keys = NIL;
		List	   *rows = NIL;
		List	   *gone = NIL;
		ListCell   *lc;
		int			n = lk->nkeys + lk->ncols;

		if (cache == NULL)
			continue;
		if (all)
		{
			each_row(cache, rewrite_row);
			list_free_deep(cache->gone_keys);
			cache->gone_keys = NIL;
		}
		foreach(lc, cache->gone_keys)
		{
			gone = lappend(gone, lfirst(lc));
			if (list_length(gone) >= LOOKUP_WRITE_BATCH)
				flush_batch(plan->id, d, &delete_lookup_rows, &gone, NULL);
		}
		list_free(cache->gone_keys);
		cache->gone_keys = NIL;

		foreach(lc, cache->dirty)
		{
			LookupRow  *row = lfirst(lc);
			Datum	   *values;
			bool	   *isnull;

			ExecStoreMinimalTuple(row->tuple, lk->rowslot, false);
			slot_getallattrs(lk->rowslot);
			values = lk->rowslot->tts_values;
			isnull = lk->rowslot->tts_isnull;
			if (row->deleted)
			{
				if (row->on_disk)
					gone = lappend(gone, key_bytes(lk, values, isnull));
			}
			else
			{
				keys = lappend(keys, key_bytes(lk, values, isnull));
				rows = lappend(rows, columns_bytes(lk, values, isnull, lk->nkeys, n));
				row->on_disk = true;
			}
			ExecClearTuple(lk->rowslot);
			if (list_length(gone) >= LOOKUP_WRITE_BATCH)
				flush_batch(plan->id, d, &delete_lookup_rows, &gone, NULL);
			if (list_length(keys) >= LOOKUP_WRITE_BATCH)
				flush_batch(plan->id, d, &upsert_lookup_rows, &keys, &rows);
		}
		flush_batch(plan->id, d, &delete_lookup_rows, &gone, NULL);
		flush_batch(plan->id, d, &upsert_lookup_rows, &keys, &rows);

		/* the deleted rows are gone on disk too: forget them */
		foreach(lc, cache->dirty)
		{
			LookupRow  *row = lfirst(lc);

			row->dirty = false;
			if (row->deleted)
			{
				LookupBucket *bucket = lookuptab_lookup(cache->buckets, row->hash);
				LookupRow **link = &bucket->rows;

				while (*link != row)
					link = &(*link)->next;
				*link = row->next;
				if (bucket->rows == NULL)
					lookuptab_delete(cache->buckets, row->hash);
				pfree(row->tuple);
				pfree(row);
			}
		}
		list_free(cache->dirty);
		cache->dirty = NIL;
	}
}

/*
 * lookup_cache_load_persisted restores the rows of the view's joined
 * tables as its last checkpoint (or computation) wrote them.
 */
void
lookup_cache_load_persisted(ViewPlan *plan)
{
	Datum		args[1];
	uint64		i;
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext tmp;

	if (plan->joined.nlookups == 0)
		return;
	args[0] = Int32GetDatum(plan->id);
	SPI_connect();
	if (catalog_execute(&select_lookup_rows, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not read the rows of the tables a view joins");
	tmp = AllocSetContextCreate(caller, "streamext lookup rows load", ALLOCSET_DEFAULT_SIZES);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		bool		isnull;
		int			d = DatumGetInt16(SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull));
		bytea	   *key = DatumGetByteaPP(SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull));
		bytea	   *rowb = DatumGetByteaPP(SPI_getbinval(tup, SPI_tuptable->tupdesc, 3, &isnull));
		LookupJoin *lk;
		int			n;
		Datum	   *values;
		bool	   *nulls;
		char	   *p;
		int			c;
		MemoryContext old;
		LookupRow  *row;

		/* it failed before (its row comes first): the rows need not load */
		if (d == LOOKUP_FAILURE)
		{
			plan->state->lookup_failure =
				MemoryContextStrdup(plan->cxt, text_to_cstring((text *) rowb));
			break;
		}
		if (d < 0 || d >= plan->joined.nlookups)
			elog(ERROR, "streamext: rows of join %d of view \"%s\", which has %d", d,
				 plan->name, plan->joined.nlookups);
		lk = &plan->joined.lookups[d];
		n = lk->nkeys + lk->ncols;
		old = MemoryContextSwitchTo(tmp);
		values = palloc(sizeof(Datum) * n);
		nulls = palloc(sizeof(bool) * n);
		p = VARDATA_ANY(key);
		for (c = 0; c < lk->nkeys; c++)
			values[c] = datumRestore(&p, &nulls[c]);
		if (p != VARDATA_ANY(key) + VARSIZE_ANY_EXHDR(key))
			elog(ERROR, "streamext: malformed key of a joined row");
		p = VARDATA_ANY(rowb);
		for (; c < n; c++)
			values[c] = datumRestore(&p, &nulls[c]);
		if (p != VARDATA_ANY(rowb) + VARSIZE_ANY_EXHDR(rowb))
			elog(ERROR, "streamext: malformed joined row");
		put_row(plan, lk, values, nulls, false);
		MemoryContextSwitchTo(old);
		MemoryContextReset(tmp);
		/* as it is on disk */
		row = (LookupRow *) llast(lk->cache->dirty);
		row->dirty = false;
		row->on_disk = true;
		lk->cache->dirty = list_delete_last(lk->cache->dirty);

		/*
		 * Past streamext.max_memory (lowered since they were written): the
		 * view fails with the reason, rather than not be loaded at all, which
		 * would let events go by unseen.
		 */
		if (i % 10000 == 9999 || i == SPI_processed - 1)
		{
			int64		bytes = lookup_cache_memory(plan);

			if (bytes > (int64) streamext_max_memory_mb * 1024 * 1024)
			{
				forget_rows(plan);
				lookup_cache_failed(plan,
									psprintf("its rows of \"%s\" and the other tables it joins need more than streamext.max_memory (%dMB)",
											 lk->relname, streamext_max_memory_mb));
				break;
			}
		}
	}
	MemoryContextDelete(tmp);
	SPI_finish();
}

/*
 * lookup_cache_clear_persisted forgets the persisted rows of a view, before
 * it is computed again.
 */
void
lookup_cache_clear_persisted(int32 view_id)
{
	Datum		args[1];

	if (!lookup_join_catalog_exists())
		return;
	args[0] = Int32GetDatum(view_id);
	SPI_connect();
	if (catalog_execute(&clear_lookup_rows, args, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "streamext: could not clear the rows of the tables a view joins");
	SPI_finish();
}

/*
 * lookup_cache_join_event makes the joined row of an event, which it leaves as
 * the scan tuple of the plan's expression context: the stream's columns,
 * then those of each dimension's row its keys find (NULL under a LEFT
 * JOIN that finds none).  Returns false when an inner join finds no row:
 * the event is not in the view, as a WHERE would reject it.  Runs behind
 * the owner's gate, in the per-event memory.
 */
bool
lookup_cache_join_event(ViewPlan *plan, TupleTableSlot *event)
{
	TupleTableSlot *joined = plan->joined.slot;
	ExprContext *econtext = plan->econtext;
	int			nstream = event->tts_tupleDescriptor->natts;
	MemoryContext old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	bool		found = true;
	int			d;

	slot_getallattrs(event);
	ExecClearTuple(joined);
	memcpy(joined->tts_values, event->tts_values, sizeof(Datum) * nstream);
	memcpy(joined->tts_isnull, event->tts_isnull, sizeof(bool) * nstream);
	memset(joined->tts_isnull + nstream, true, joined->tts_tupleDescriptor->natts - nstream);
	ExecStoreVirtualTuple(joined);
	econtext->ecxt_scantuple = joined;

	for (d = 0; d < plan->joined.nlookups; d++)
	{
		LookupJoin *lk = &plan->joined.lookups[d];
		Datum	   *probe = lk->probe_values;
		MinimalTuple row = NULL;
		bool		null_key = false;
		int			i;

		for (i = 0; i < lk->nkeys; i++)
		{
			bool		isnull;

			probe[i] = usercode_eval(plan->owner, lk->probes[i], econtext, &isnull);
			/* = never holds for NULL */
			if (isnull)
				null_key = true;
		}
		if (!null_key)
			row = lookup_cache_find(lk, plan->owner, probe);
		if (row != NULL)
		{
			ExecStoreMinimalTuple(row, lk->rowslot, false);
			slot_getallattrs(lk->rowslot);
			memcpy(joined->tts_values + lk->first_col, lk->rowslot->tts_values + lk->nkeys,
				   sizeof(Datum) * lk->ncols);
			memcpy(joined->tts_isnull + lk->first_col, lk->rowslot->tts_isnull + lk->nkeys,
				   sizeof(bool) * lk->ncols);
			if (lk->residual != NULL && !usercode_qual(plan->owner, lk->residual, econtext))
			{
				memset(joined->tts_isnull + lk->first_col, true, lk->ncols);
				row = NULL;
			}
		}
		if (row == NULL && !lk->left)
		{
			found = false;
			break;
		}
	}
	MemoryContextSwitchTo(old);
	return found;
}
