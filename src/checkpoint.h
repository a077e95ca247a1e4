/*-------------------------------------------------------------------------
 *
 * checkpoint.h
 *	  Persisting the worker's state in one transaction with the replication
 *	  origin's position: open states, closed windows' rows, dead letters and
 *	  progress; and restoring them when a worker starts.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_CHECKPOINT_H
#define STREAMEXT_CHECKPOINT_H

#include "access/xlogdefs.h"
#include "held_rows.h"
#include "shmem.h"
#include "view_state.h"

extern void checkpoint_write(StreamextDbSlot *slot, List *plans, XLogRecPtr lsn,
							 TimestampTz commit_time, ClosedRowListener listener);
extern bool checkpoint_close_windows(StreamextDbSlot *slot, List *plans, XLogRecPtr lsn,
									 ClosedRowListener listener, int64 budget,
									 bool *more);
extern void checkpoint_load_view(ViewPlan *plan, XLogRecPtr lsn);
extern void checkpoint_write_backfill(ViewPlan *plan);
extern void checkpoint_write_computed(ViewPlan *plan, XLogRecPtr lsn, TimestampTz closed_upto);
extern void checkpoint_clear_view(int32 view_id, Oid closed_relid);

#endif							/* STREAMEXT_CHECKPOINT_H */
