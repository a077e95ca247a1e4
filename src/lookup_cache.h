/*-------------------------------------------------------------------------
 *
 * lookup_cache.h
 *	  The rows of the tables a view joins (lookup_join.h), as the worker
 *	  holds them at the commit it has decoded up to: each event is joined
 *	  with them, each decoded change of a table changes them, and each
 *	  checkpoint persists them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_LOOKUP_CACHE_H
#define STREAMEXT_LOOKUP_CACHE_H

#include "access/htup.h"
#include "executor/tuptable.h"
#include "utils/snapshot.h"

#include "lookup_join.h"

struct ViewPlan;

/* per event: false when an inner join finds no row */
extern bool lookup_cache_join_event(struct ViewPlan *plan, TupleTableSlot *event);

/* the tables' rows */
extern void lookup_cache_load_tables(struct ViewPlan *plan, Snapshot snapshot);
extern void lookup_cache_apply_change(struct ViewPlan *plan, int which, HeapTuple oldtuple,
									  HeapTuple newtuple, TupleDesc desc, bool old_is_full,
									  bool update);
extern void lookup_cache_truncate(struct ViewPlan *plan, int which);
extern void lookup_cache_failed(struct ViewPlan *plan, const char *message);
extern int64 lookup_cache_memory(struct ViewPlan *plan);

/* persisted with the view's checkpoints (streamext.lookup_rows) */
extern void lookup_cache_write(struct ViewPlan *plan, bool all);
extern void lookup_cache_load_persisted(struct ViewPlan *plan);
extern void lookup_cache_clear_persisted(int32 view_id);

#endif							/* STREAMEXT_LOOKUP_CACHE_H */
