/*-------------------------------------------------------------------------
 *
 * held_rows.h
 *	  Closed rows a checkpoint holds back from subscribers until it has
 *	  written every row of a view, defined in held_rows.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_HELD_ROWS_H
#define STREAMEXT_HELD_ROWS_H

#include "view_plan.h"

typedef struct HeldRows HeldRows;

/*
 * told of each closed window's row written, in the checkpoint's transaction:
 * correction if it replaces a row told before, late if late events made it
 */
typedef void (*ClosedRowListener) (ViewPlan *plan, Datum *values, bool *nulls,
								   bool correction, bool late);

extern HeldRows *held_rows_create(ViewPlan *plan, MemoryContext parent);
extern void held_rows_add(HeldRows *held, TimestampTz start, TimestampTz end,
						  bytea *group, Datum *values, bool *nulls, bool deliver,
						  bool correction, bool late);
extern bool held_rows_forget(HeldRows *held, TimestampTz start, TimestampTz end,
							 bytea *group);
extern void held_rows_note_prior(HeldRows *held, TimestampTz start, TimestampTz end,
								 bytea *group, bytea *state, bool having);
extern bool held_rows_same_as_prior(HeldRows *held, TimestampTz start, TimestampTz end,
									bytea *group, bytea *state, bool having);
extern void held_rows_release(HeldRows *held, ClosedRowListener listener);

#endif							/* STREAMEXT_HELD_ROWS_H */
