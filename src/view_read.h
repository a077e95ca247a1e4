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
#include "nodes/execnodes.h"
#include "utils/tuplestore.h"

#include "catalog.h"
#include "shmem.h"
#include "state_shmem.h"
#include "view_plan.h"

/*
 * What reading one group costs (copying it, its states deserialised and
 * finalised, its output computed), in cpu_operator_cost: read_view's cost
 * is this times the view's groups, a lookup's this times those it finds.
 */
#define VIEW_GROUP_READ_COST 10

/* a read of a view's open windows, checked once, done once or more */
typedef struct ViewReader
{
	int32		view_id;
	StreamextDbSlot *slot;
	ViewCatalogRow *row;
	ViewPlan   *plan;
	TimestampTz closed_upto;	/* as the caller's snapshot sees them */
	TimestampTz max_event_time;
	bool		partial;		/* rows of partial states (a shard view's) */
	ReadPin    *pin;			/* its statement's, or NULL */
} ViewReader;

extern ViewPlan *view_read_plan(int32 view_id);
extern bool view_read_wait_applied(int64 timeout_ms);
extern bool view_read_first_open_start(const ViewCatalogRow *row, TimestampTz closed_upto,
									   TimestampTz *first);
extern uint64 view_read_planning_begins(void);
extern void view_read_planning_ends(uint64 outer);
extern void view_read_pin_statement(EState *estate, const int32 *view_ids, int nviews);
extern void view_reader_open(ViewReader *reader, int32 view_id, TupleDesc desc,
							 EState *estate);
extern void view_reader_open_partial(ViewReader *reader, int32 view_id, TupleDesc desc,
									 EState *estate);
extern bytea *view_reader_wire_states(ViewReader *reader, bytea *states);
extern void view_reader_read(ViewReader *reader, const uint32 *keyhashes, int nkeyhashes,
							 Tuplestorestate *store, TupleDesc desc);
extern SharedGroupCopy *view_reader_groups(ViewReader *reader, const uint32 *keyhashes,
										   int nkeyhashes, int64 *ngroups);
extern bool view_reader_group_values(ViewReader *reader, const SharedGroupCopy *group,
									 TupleDesc desc, Datum *out, bool *outnulls,
									 MemoryContext rowcxt);

#endif							/* STREAMEXT_VIEW_READ_H */
