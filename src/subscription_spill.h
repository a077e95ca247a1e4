/*-------------------------------------------------------------------------
 *
 * subscription_spill.h
 *	  The events a streamed transaction brings its stream's subscriptions,
 *	  kept in temporary files until its commit queues them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_SUBSCRIPTION_SPILL_H
#define STREAMEXT_SUBSCRIPTION_SPILL_H

#include "access/htup.h"
#include "access/xlogdefs.h"
#include "executor/tuptable.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "subscription.h"

typedef struct SubscriptionSpill SubscriptionSpill;

extern SubscriptionSpill *subscription_spill_create(MemoryContext cxt);
extern void subscription_spill_events(SubscriptionSpill *spill, SubscriptionPlan *sub,
									  Oid relid, TransactionId part, TupleTableSlot *slot,
									  HeapTuple *tuples, int ntuples);
extern void subscription_spill_abort_part(SubscriptionSpill *spill, TransactionId part);
extern void subscription_spill_place(SubscriptionSpill *spill, List *loaded,
									 XLogRecPtr final_lsn, XLogRecPtr end_lsn,
									 TimestampTz commit_time);
extern void subscription_spill_drop(SubscriptionSpill *spill);

#endif							/* STREAMEXT_SUBSCRIPTION_SPILL_H */
