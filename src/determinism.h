/*-------------------------------------------------------------------------
 *
 * determinism.h
 *	  What a continuous view's query or a subscription's filter may call.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_DETERMINISM_H
#define STREAMEXT_DETERMINISM_H

#include "nodes/pg_list.h"

/* where the expression is used: it decides the wording of the error */
typedef enum DeterminismUse
{
	DETERMINISM_VIEW,			/* a continuous view's query */
	DETERMINISM_FILTER			/* a subscription's filter */
} DeterminismUse;

extern void determinism_check(Node *expr, DeterminismUse use, const char *query_text,
							  List *declared);

#endif							/* STREAMEXT_DETERMINISM_H */
