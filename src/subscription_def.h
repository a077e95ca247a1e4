/*-------------------------------------------------------------------------
 *
 * subscription_def.h
 *	  Defining subscriptions: create_subscription and its filters, shared by
 *	  the SQL functions and the worker.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_SUBSCRIPTION_DEF_H
#define STREAMEXT_SUBSCRIPTION_DEF_H

#include "nodes/execnodes.h"

#include "window.h"

extern ExprState *subscription_filter_compile(const char *filter_tree, Oid owner);
extern void subscription_check_view_windows(int32 view_id, const char *view_name,
											const WindowSpec *spec, Oid source_relid);
extern void subscription_lookup(const char *name, Oid caller, int32 *id, Oid *owner,
								Oid *source_relid);

#endif							/* STREAMEXT_SUBSCRIPTION_DEF_H */
