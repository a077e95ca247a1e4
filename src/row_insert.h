/*-------------------------------------------------------------------------
 *
 * row_insert.h
 *	  Rows of streamext's own tables inserted without a statement per row.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_ROW_INSERT_H
#define STREAMEXT_ROW_INSERT_H

#include "postgres.h"

typedef struct RowInserter RowInserter;

extern RowInserter *row_insert_begin(Oid relid, int ncolumns, const Oid *types,
									 const int32 *typmods);
extern void row_insert(RowInserter *ri, Datum *values, const char *nulls);
extern void row_insert_end(RowInserter *ri);

#endif							/* STREAMEXT_ROW_INSERT_H */
