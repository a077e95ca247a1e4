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
 *	  New values are appended and sorted in with the others, duplicates
 *	  dropped, once as many have come as were there (at least
 *	  SORT_BATCH): each value costs O(log n) comparisons over time, and
 *	  the set at most twice its size.  The comparison is the type's btree
 *	  comparison function, run as the view's owner through the user-code
 *	  gate (a type of the user's own may have one).
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
#include "usercode.h"

#define SORT_BATCH 64
#define INITIAL_SIZE 8

static int	compare_values(const void *a, const void *b, void *arg);
static int	unique_sorted(DistinctSpec *spec, Datum *values, int n);
static void free_value(DistinctSpec *spec, Datum value);

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

/*
 * distinct_set_add adds a value (copied into the set's context), sorting
 * in what came since the last time once there is enough of it.
 */
void
distinct_set_add(DistinctSpec *spec, DistinctSet *set, Datum value, bool isnull)
{
	MemoryContext cxt = GetMemoryChunkContext(set);
	MemoryContext old;
	Datum		whole;

	if (isnull)
	{
		set->has_null = true;
		return;
	}
	if (set->n == set->size)
	{
		set->size = Max(set->size * 2, INITIAL_SIZE);
		set->values = set->values == NULL ?
			MemoryContextAlloc(cxt, sizeof(Datum) * set->size) :
			repalloc_huge(set->values, sizeof(Datum) * set->size);
	}
	old = MemoryContextSwitchTo(cxt);
	/* a value read from a table may point into its TOAST table: keep it whole */
	whole = value;
	if (spec->typlen == -1 && VARATT_IS_EXTENDED(DatumGetPointer(value)))
		whole = PointerGetDatum(PG_DETOAST_DATUM_PACKED(value));
	set->values[set->n++] = (whole != value) ? whole :
		datumCopy(value, spec->typbyval, spec->typlen);
	MemoryContextSwitchTo(old);
	if (set->n - set->nsorted >= Max(SORT_BATCH, set->nsorted))
		distinct_set_sort(spec, set);
}

/* distinct_set_union adds every value of from to into */
void
distinct_set_union(DistinctSpec *spec, DistinctSet *into, const DistinctSet *from)
{
	int			i;

	if (from == NULL)
		return;
	for (i = 0; i < from->n; i++)
		distinct_set_add(spec, into, from->values[i], false);
	if (from->has_null)
		into->has_null = true;
}

/*
 * distinct_set_sort sorts the values that came since the last time in with
 * the others and drops the duplicates: then every value is in order, once.
 */
void
distinct_set_sort(DistinctSpec *spec, DistinctSet *set)
{
	Datum	   *merged;
	Datum	   *a = set->values;
	Datum	   *b = set->values + set->nsorted;
	int			na = set->nsorted;
	int			nb;
	int			i = 0;
	int			j = 0;
	int			n = 0;

	if (set->n == set->nsorted)
		return;
	qsort_arg(b, set->n - na, sizeof(Datum), compare_values, spec);
	nb = unique_sorted(spec, b, set->n - na);
	merged = MemoryContextAllocExtended(GetMemoryChunkContext(set), sizeof(Datum) * Max(set->size, 1),
										MCXT_ALLOC_HUGE);
	while (i < na || j < nb)
	{
		int			c = (i == na) ? 1 : (j == nb) ? -1 :
			compare_values(&a[i], &b[j], spec);

		if (c <= 0)
			merged[n++] = a[i++];
		else
			merged[n++] = b[j++];
		if (c == 0)
			free_value(spec, b[j++]);
	}
	pfree(set->values);
	set->values = merged;
	set->nsorted = set->n = n;
}

/*
 * distinct_set_serialize appends the set to buf: its count, whether it
 * holds NULL, and each value in datumSerialize() format, in order.
 */
void
distinct_set_serialize(DistinctSpec *spec, DistinctSet *set, StringInfo buf)
{
	int32		n;
	int			i;

	distinct_set_sort(spec, set);
	n = set->n;
	appendBinaryStringInfo(buf, (char *) &n, sizeof(n));
	appendStringInfoChar(buf, set->has_null ? 1 : 0);
	for (i = 0; i < set->n; i++)
	{
		Size		sz = datumEstimateSpace(set->values[i], false, spec->typbyval, spec->typlen);
		char	   *p;

		enlargeStringInfo(buf, sz);
		p = buf->data + buf->len;
		datumSerialize(set->values[i], false, spec->typbyval, spec->typlen, &p);
		buf->len += sz;
		buf->data[buf->len] = '\0';
	}
}

/*
 * distinct_set_restore reads a set written by distinct_set_serialize at *p,
 * into cxt, and moves *p past it.
 */
DistinctSet *
distinct_set_restore(DistinctSpec *spec, char **p, MemoryContext cxt)
{
	DistinctSet *set = distinct_set_new(cxt);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	int32		n;
	int			i;

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
	set->nsorted = set->n = n;
	MemoryContextSwitchTo(old);
	return set;
}

/* compare_values orders two values as the DISTINCT's sort operator does */
static int
compare_values(const void *a, const void *b, void *arg)
{
	DistinctSpec *spec = arg;
	FunctionCallInfo fcinfo = spec->cmp_fcinfo;
	int32		c;

	fcinfo->args[0].value = *(const Datum *) a;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = *(const Datum *) b;
	fcinfo->args[1].isnull = false;
	fcinfo->isnull = false;
	c = DatumGetInt32(usercode_call(spec->owner, fcinfo));
	if (fcinfo->isnull)
		elog(ERROR, "streamext: comparison function %u returned NULL", spec->cmp.fn_oid);
	return spec->reverse ? -((c > 0) - (c < 0)) : c;
}

/* unique_sorted keeps the first of each run of equal values; returns how many */
static int
unique_sorted(DistinctSpec *spec, Datum *values, int n)
{
	int			kept = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (kept > 0 && compare_values(&values[kept - 1], &values[i], spec) == 0)
			free_value(spec, values[i]);
		else
			values[kept++] = values[i];
	}
	return kept;
}

/* free_value frees a copy of a value dropped as a duplicate */
static void
free_value(DistinctSpec *spec, Datum value)
{
	if (!spec->typbyval)
		pfree(DatumGetPointer(value));
}
