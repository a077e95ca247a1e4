/*-------------------------------------------------------------------------
 *
 * closed_insert.h
 *	  Rows of a view's closed-window table inserted without a statement
 *	  per row.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_CLOSED_INSERT_H
#define STREAMEXT_CLOSED_INSERT_H

#include "postgres.h"

typedef struct ClosedInserter ClosedInserter;

extern ClosedInserter *closed_insert_begin(Oid closed_relid, int ncolumns, const Oid *types,
										   const int32 *typmods);
extern void closed_insert_row(ClosedInserter *ci, Datum *values, const char *nulls);
extern void closed_insert_end(ClosedInserter *ci);

#endif							/* STREAMEXT_CLOSED_INSERT_H */
