/*-------------------------------------------------------------------------
 *
 * lookup_join.h
 *	  Lookup joins: a continuous view whose query joins its stream to
 *	  ordinary tables (dimensions) on equality, each event joined with the
 *	  rows those tables held when its transaction committed.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_LOOKUP_JOIN_H
#define STREAMEXT_LOOKUP_JOIN_H

#include "access/attnum.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "nodes/execnodes.h"
#include "nodes/parsenodes.h"
#include "utils/snapshot.h"

struct LookupCache;
struct UserCodeAcl;

/* one dimension a view joins, in the order of its FROM */
typedef struct LookupJoin
{
	Oid			relid;			/* the dimension table */
	char	   *relname;		/* for messages */
	bool		left;			/* LEFT JOIN: no row gives NULL columns */
	int			nkeys;			/* the equalities of its ON */
	AttrNumber *dim_keys;		/* their columns in the dimension */
	ExprState **probes;			/* their other sides, over the joined row */
	Datum	   *probe_values;	/* an event's values of them */
	FmgrInfo   *probe_hash;		/* hash functions of the probes' types ... */
	FmgrInfo   *dim_hash;		/* ... and of the dimension's, of one family */
	FmgrInfo   *probe_eq;		/* the ON operators, probe and dimension ... */
	bool	   *probe_first;	/* ... in this order */
	FmgrInfo   *dim_eq;			/* equality of two dimension keys */
	Oid		   *collations;
	int			ncols;			/* the dimension's columns the view reads */
	AttrNumber *dim_cols;
	int			first_col;		/* where they start in the joined row, 0-based */
	ExprState  *residual;		/* the rest of ON, or NULL */
	TupleDesc	rowdesc;		/* a cached row: keys..., columns... */
	TupleTableSlot *rowslot;
	struct LookupCache *cache;	/* the worker's (or a backfill's) rows */
} LookupJoin;

/* the joined row of a view's events: the stream's columns, then the tables' */
typedef struct JoinedRow
{
	int			nlookups;		/* 0: the query joins nothing */
	LookupJoin *lookups;
	TupleDesc	desc;
	TupleTableSlot *slot;
} JoinedRow;

extern const char *lookup_join_denied(const JoinedRow *joined, Oid owner);

/* create_view */
extern void lookup_join_check(Query *query);
extern List *lookup_join_relations(Query *query);
extern void lookup_join_lock_tables(Query *query);
extern void lookup_join_record_dependencies(Oid view_relid, Query *query);
extern bool lookup_join_catalog_exists(void);

/* compiling a view (view_plan.c) */
extern void lookup_join_plan(JoinedRow *jr, Query *query, TupleDesc streamdesc, Oid owner,
							 struct UserCodeAcl *acl, MemoryContext cxt);

#endif							/* STREAMEXT_LOOKUP_JOIN_H */
