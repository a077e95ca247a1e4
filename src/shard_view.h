/*-------------------------------------------------------------------------
 *
 * shard_view.h
 *	  Shard views: a continuous view whose partial states a coordinator
 *	  combines with other servers' (see shard_view.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_SHARD_VIEW_H
#define STREAMEXT_SHARD_VIEW_H

#include "catalog.h"
#include "view_plan.h"

extern char **shard_view_key_names(ViewPlan *plan, const char *what);

#endif							/* STREAMEXT_SHARD_VIEW_H */
