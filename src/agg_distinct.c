/*-------------------------------------------------------------------------
 *
 * agg_distinct.c
 *	  The state of an aggregate over DISTINCT values in a continuous view
 *	  (count(DISTINCT user_id), sum(DISTINCT x), array_agg(DISTINCT x)):
 *	  the set of values seen, each once.  Two partial states combine by
 *	  union, whatever the aggregate, so any one-argument aggregate can take
 *	  DISTINCT; agg_state.c runs the aggregate itself over the set when the
 *	  row is made, in the order plain SQL feeds it (the DISTINCT's sort
 *	  operator), so that the result is the one plain SQL gives.
 *
 *	  The set is an array kept in that order: a value is looked up by
 *	  binary search and inserted in its place when new.  Every comparison
 *	  a value needs is made when it is added, so a comparison that fails
 *	  (a row type with a json field, when the fields before it tie) fails
 *	  on that value's event, which is set aside, and leaves the set as it
 *	  was; nothing compares values later, where a failure could not be
 *	  pinned on an event (publishing and checkpoints only copy the array).
 *	  A new value costs moving the values after it: sets of hundreds of
 *	  thousands of values belong to an estimate (hll).  The comparison is
 *	  the type's btree comparison function, run as the view's owner
 *	  through the user-code gate (a type of the user's own may have one).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/nbtree.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "agg_distinct.h"
#include "datum_bytes.h"
#include "usercode.h"

#define INITIAL_SIZE 8

static int	compare_values(DistinctSpec *spec, Datum a, Datum b);
static bool find_value(DistinctSpec *spec, DistinctSet *set, Datum value, int64 *at);

/*
 * distinct_spec_init finds how values of argtype are ordered and told apart
 * for the DISTINCT clause sgc.
 */
void
distinct_spec_init(DistinctSpec *spec, Oid owner, Oid argtype, Oid collation,
				   SortGroupClause *sgc)
{
	Oid			opfamily;
	Oid			opcintype;
	int16		strategy;
	Oid			cmp_proc;

	memset(spec, 0, sizeof(DistinctSpec));
	spec->owner = owner;
	get_typlenbyval(argtype, &spec->typlen, &spec->typbyval);
	if (!OidIsValid(sgc->sortop) ||
		!get_ordering_op_properties(sgc->sortop, &opfamily, &opcintype, &strategy))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("DISTINCT over type %s is not supported in a continuous view",
						format_type_be(argtype)),
				 errhint("Its values must have a btree ordering, as plain SQL's DISTINCT needs.")));
	cmp_proc = get_opfamily_proc(opfamily, opcintype, opcintype, BTORDER_PROC);
	if (!OidIsValid(cmp_proc))
		elog(ERROR, "missing support function %d(%u,%u) in opfamily %u",
			 BTORDER_PROC, opcintype, opcintype, opfamily);
	spec->reverse = (strategy == BTGreaterStrategyNumber);
	spec->nulls_first = sgc->nulls_first;
	fmgr_info(cmp_proc, &spec->cmp);
	spec->cmp_fcinfo = palloc0(SizeForFunctionCallInfo(2));
	InitFunctionCallInfoData(*spec->cmp_fcinfo, &spec->cmp, 2, collation, NULL, NULL);
}

/* distinct_set_new makes an empty set in cxt */
DistinctSet *
distinct_set_new(MemoryContext cxt)
{
	return MemoryContextAllocZero(cxt, sizeof(DistinctSet));
}

/* distinct_set_free frees a set and the values it copied */
void
distinct_set_free(DistinctSpec *spec, DistinctSet *set)
{
	int64		i;

	if (!spec->typbyval)
		for (i = 0; i < set->n; i++)
			pfree(DatumGetPointer(set->values[i]));
	if (set->values != NULL)
		pfree(set->values);
	pfree(set);
}

/*
 * distinct_set_add adds a value, copied into the set's context, in its
 * place, unless the set has it.  An error (a comparison, memory) leaves
 * the set as it was.
 */
void
distinct_set_add(DistinctSpec *spec, DistinctSet *set, Datum value, bool isnull)
{
	MemoryContext cxt = GetMemoryChunkContext(set);
	MemoryContext old;
	Datum		whole;
	int64		at;

	if (isnull)
	{
		set->has_null = true;
		return;
	}
	if (find_value(spec, set, value, &at))
		return;
	if (set->n == set->size)
	{
		int64		size = Max(set->size * 2, INITIAL_SIZE);

		set->values = set->values == NULL ?
			MemoryContextAllocExtended(cxt, sizeof(Datum) * size, MCXT_ALLOC_HUGE) :
			repalloc_huge(set->values, sizeof(Datum) * size);
		set->size = size;
	}
	old = MemoryContextSwitchTo(cxt);
	/* a value read from a table may point into its TOAST table: keep it whole */
	whole = value;
	if (spec->typlen == -1 && VARATT_IS_EXTENDED(DatumGetPointer(value)))
		whole = PointerGetDatum(PG_DETOAST_DATUM_PACKED(value));
	if (whole == value)
		whole = datumCopy(value, spec->typbyval, spec->typlen);
	MemoryContextSwitchTo(old);
	memmove(&set->values[at + 1], &set->values[at], sizeof(Datum) * (set->n - at));
	set->values[at] = whole;
	set->n++;
}

/* distinct_set_union adds every value of from to into */
void
distinct_set_union(DistinctSpec *spec, DistinctSet *into, const DistinctSet *from)
{
	int64		i;

	if (from == NULL || from == into)
		return;
	for (i = 0; i < from->n; i++)
		distinct_set_add(spec, into, from->values[i], false);
	if (from->has_null)
		into->has_null = true;
}

/*
 * distinct_set_serialize appends the set to buf: its count, whether it
 * holds NULL, and each value in datumSerialize() format, in order.
 */
void
distinct_set_serialize(DistinctSpec *spec, DistinctSet *set, StringInfo buf)
{
	int64		i;

	appendBinaryStringInfo(buf, (char *) &set->n, sizeof(set->n));
	appendStringInfoChar(buf, set->has_null ? 1 : 0);
	for (i = 0; i < set->n; i++)
		append_datum_bytes(buf, set->values[i], false, spec->typbyval, spec->typlen);
}

/*
 * distinct_set_restore reads a set written by distinct_set_serialize at *p,
 * into cxt, and moves *p past it.  The values come in order, unique.
 */
DistinctSet *
distinct_set_restore(DistinctSpec *spec, char **p, MemoryContext cxt)
{
	DistinctSet *set = distinct_set_new(cxt);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	int64		n;
	int64		i;

	memcpy(&n, *p, sizeof(n));
	*p += sizeof(n);
	set->has_null = (**p != 0);
	(*p)++;
	set->size = Max(n, INITIAL_SIZE);
	set->values = palloc_extended(sizeof(Datum) * set->size, MCXT_ALLOC_HUGE);
	for (i = 0; i < n; i++)
	{
		bool		isnull;

		set->values[i] = datumRestore(p, &isnull);
	}
	set->n = n;
	MemoryContextSwitchTo(old);
	return set;
}

/*
 * find_value says whether the set has value; if not, *at is where it goes.
 */
static bool
find_value(DistinctSpec *spec, DistinctSet *set, Datum value, int64 *at)
{
	int64		lo = 0;
	int64		hi = set->n;

	while (lo < hi)
	{
		int64		mid = lo + (hi - lo) / 2;
		int			c = compare_values(spec, set->values[mid], value);

		if (c == 0)
		{
			*at = mid;
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return false;
}

/* compare_values orders two values as the DISTINCT's sort operator does */
static int
compare_values(DistinctSpec *spec, Datum a, Datum b)
{
	FunctionCallInfo fcinfo = spec->cmp_fcinfo;
	int32		c;

	fcinfo->args[0].value = a;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = b;
	fcinfo->args[1].isnull = false;
	fcinfo->isnull = false;
	c = DatumGetInt32(usercode_call(spec->owner, fcinfo));
	if (fcinfo->isnull)
		elog(ERROR, "streamext: comparison function %u returned NULL", spec->cmp.fn_oid);
	c = (c > 0) - (c < 0);
	return spec->reverse ? -c : c;
}
