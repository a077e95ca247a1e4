/*-------------------------------------------------------------------------
 *
 * view_read.h
 *	  Reading a continuous view's open windows (view_read.c), for
 *	  read_view() and for the lookup scan of view_scan.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_VIEW_READ_H
#define STREAMEXT_VIEW_READ_H

#include "access/tupdesc.h"
#include "utils/tuplestore.h"

#include "view_plan.h"

/*
 * What reading one group costs (copying it, its states deserialised and
 * finalised, its output computed), in cpu_operator_cost: read_view's cost
 * is this times the view's groups, a lookup's this times those it finds.
 */
#define VIEW_GROUP_READ_COST 10

extern ViewPlan *view_read_plan(int32 view_id);
extern void view_read_open_rows(int32 view_id, const uint32 *keyhashes, int nkeyhashes,
								Tuplestorestate *store, TupleDesc desc);

#endif							/* STREAMEXT_VIEW_READ_H */
