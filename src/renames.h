/*-------------------------------------------------------------------------
 *
 * renames.h
 *	  Renames that continuous views and subscriptions follow.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_RENAMES_H
#define STREAMEXT_RENAMES_H

#include "nodes/nodes.h"

extern void renames_follow(Node *parsetree, Oid relid);

#endif							/* STREAMEXT_RENAMES_H */
