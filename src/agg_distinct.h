/*-------------------------------------------------------------------------
 *
 * agg_distinct.h
 *	  The state of an aggregate over DISTINCT values in a continuous view:
 *	  the set of values seen, each once.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_AGG_DISTINCT_H
#define STREAMEXT_AGG_DISTINCT_H

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/primnodes.h"

/* how the values of one aggregate(DISTINCT x) are told apart and ordered */
typedef struct DistinctSpec
{
	Oid			owner;			/* the comparison runs as the view's owner */
	int16		typlen;
	bool		typbyval;
	bool		reverse;		/* the DISTINCT's sort operator is a ">" */
	bool		nulls_first;
	FmgrInfo	cmp;			/* btree comparison function of the type */
	FunctionCallInfo cmp_fcinfo;
} DistinctSpec;

/*
 * The values seen, each once, in the DISTINCT's order; a NULL is one flag.
 * Everything is allocated in the set's own memory context.
 */
typedef struct DistinctSet
{
	int64		n;
	int64		size;
	bool		has_null;
	Datum	   *values;
} DistinctSet;

extern void distinct_spec_init(DistinctSpec *spec, Oid owner, Oid argtype,
							   Oid collation, SortGroupClause *sgc);
extern DistinctSet *distinct_set_new(MemoryContext cxt);
extern void distinct_set_free(DistinctSpec *spec, DistinctSet *set);
extern void distinct_set_add(DistinctSpec *spec, DistinctSet *set, Datum value, bool isnull);
extern void distinct_set_union(DistinctSpec *spec, DistinctSet *into, const DistinctSet *from);
extern void distinct_set_serialize(DistinctSpec *spec, DistinctSet *set, StringInfo buf);
extern DistinctSet *distinct_set_restore(DistinctSpec *spec, char **p, MemoryContext cxt);

#endif							/* STREAMEXT_AGG_DISTINCT_H */
