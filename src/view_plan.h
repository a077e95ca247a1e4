/*-------------------------------------------------------------------------
 *
 * view_plan.h
 *	  A continuous view compiled for evaluation (ViewPlan): what to compute
 *	  for an event and how to turn a group's states into a row.  Immutable
 *	  once built; the worker's windows and groups are in its ViewState.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_VIEW_PLAN_H
#define STREAMEXT_VIEW_PLAN_H

#include "access/attnum.h"
#include "access/xlogdefs.h"
#include "executor/tuptable.h"
#include "nodes/execnodes.h"
#include "agg_state.h"
#include "catalog.h"
#include "lookup_join.h"
#include "usercode.h"
#include "window.h"

struct ViewState;

typedef struct ViewPlan
{
	int32		id;
	char	   *name;
	Oid			view_relid;
	Oid			owner;			/* its expressions run with this role's rights */
	UserCodeAcl acl;			/* the functions it may execute */
	Oid			stream_relid;
	Oid			closed_relid;
	AttrNumber	time_attno;		/* InvalidAttrNumber: commit time */
	WindowSpec	window;
	int64		lateness_usec;	/* the watermark trails the greatest event time */
	int64		retention_usec; /* closed windows kept this long; 0: for ever */
	int64		idle_timeout_usec;	/* the stream quiet this long closes its
									 * windows by the clock; -1: never */
	XLogRecPtr	start_lsn;		/* commits at or before this are in its backfill */

	/*
	 * A view on a view reads the closed rows of the view source_id (its
	 * stream_relid is that view's relation) as events, timed by their
	 * window_start; depth is 1 over a view on a stream, and so on.
	 */
	int32		source_id;
	Oid			source_closed_relid;
	WindowSpec	source_window;
	int			depth;
	MemoryContext cxt;

	/* per event: the joined row, when the query joins tables (lookup_join.c) */
	JoinedRow	joined;
	ExprState  *where;
	int			nkeys;
	ExprState **keys;
	AggSet		aggs;
	bool	   *agg_skip;		/* per event: FILTER rejected it */
	ExprContext *econtext;
	TupleTableSlot *keyslot;	/* group keys */
	TupleTableSlot *event_slot;	/* an event of the stream */
	TupleDesc	keydesc;
	Oid		   *key_eqfuncs;
	FmgrInfo   *key_hashfns;
	AttrNumber *key_cols;
	Oid		   *key_collations;
	Oid		   *key_eqops;		/* GROUP BY's equality operators */

	/* per output row */
	TupleDesc	interdesc;		/* keys..., aggregate results... */
	TupleTableSlot *interslot;
	int			nout;
	ExprState **outputs;
	int		   *output_key;		/* per output: the key it shows, or -1 */
	ExprState  *having;
	TupleDesc	outdesc;		/* [window_start, window_end,] outputs */

	/* hash of view_plan_signature, which partial states carry; 0: not made yet */
	uint32		wire_signature;
	/* the worker's windows and groups; NULL in a plan built to read */
	struct ViewState *state;
} ViewPlan;

extern ViewPlan *view_plan_build(const ViewCatalogRow *row, MemoryContext parent);
extern ViewPlan *view_plan_build_unchecked(const ViewCatalogRow *row, MemoryContext parent);
extern void view_plan_free(ViewPlan *plan);
extern TupleTableSlot *view_plan_event_slot(ViewPlan *plan);
extern bool view_plan_output(ViewPlan *plan, TimestampTz wstart, TimestampTz wend,
							 Datum *keys, bool *keynulls, AggValue *values,
							 Datum *out, bool *outnulls);
extern char *view_plan_signature(ViewPlan *plan, const ViewCatalogRow *row);
extern uint32 view_plan_wire_signature(ViewPlan *plan, const ViewCatalogRow *row);
extern TupleDesc view_plan_partial_desc(ViewPlan *plan);
extern void view_plan_partial_output(ViewPlan *plan, TimestampTz wstart, TimestampTz wend,
									 Datum *keys, bool *keynulls, AggValue *values,
									 Datum *out, bool *outnulls);
extern uint32 view_plan_key_hash(ViewPlan *plan, FmgrInfo *fns, const Datum *values,
								 const bool *isnull);
extern char *view_plan_group_json(ViewPlan *plan, TimestampTz start, TimestampTz end,
								  MinimalTuple key, bool late);

#endif							/* STREAMEXT_VIEW_PLAN_H */
