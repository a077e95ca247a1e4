/*-------------------------------------------------------------------------
 *
 * subscription.h
 *	  Subscriptions as the worker runs them: their filters over events or a
 *	  view's rows, the entries they queue and the NOTIFY they send.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_SUBSCRIPTION_H
#define STREAMEXT_SUBSCRIPTION_H

#include "access/xlogdefs.h"
#include "executor/tuptable.h"
#include "nodes/execnodes.h"
#include "catalog.h"
#include "usercode.h"
#include "view_plan.h"

typedef enum SubNotify
{
	SUB_NOTIFY_EVENT,			/* one NOTIFY per entry */
	SUB_NOTIFY_BATCH,			/* one NOTIFY per written batch */
	SUB_NOTIFY_NONE				/* poll only */
} SubNotify;

typedef struct SubscriptionPlan
{
	int32		id;
	char	   *name;
	Oid			owner;			/* filters run with its rights */
	UserCodeAcl acl;			/* the functions its filter may execute */
	uint64		read_generation;	/* of the relations, when last checked */
	int			read_denied_code;
	char	   *read_denied;	/* why its owner may not read the source now */
	Oid			source_relid;	/* a stream, or a continuous view's relation */
	int32		view_id;		/* 0: the source is a stream */
	bool		emit_changes;	/* view sources: every update, not final rows */
	char	   *channel;
	SubNotify	notify;
	XLogRecPtr	start_lsn;		/* commits at or before this are not its */
	XLogRecPtr	delivered_lsn;	/* commits ending at or before this are queued */
	XLogRecPtr	persisted_lsn;	/* delivered_lsn as last written */
	int64		newest_position;
	ViewPlan   *view;			/* view sources: the view's plan */
	MemoryContext cxt;
	MemoryContext pending_cxt;	/* entries and dead letters not written yet */
	ExprState  *filter;			/* NULL: every event */
	char	   *broken;			/* why the filter cannot run, or NULL */
	int			broken_code;
	ExprContext *econtext;
	TupleDesc	rowdesc;		/* view sources: the view's row, blessed */
	TupleTableSlot *rowslot;
	List	   *pending;		/* SubEntry, in position order */
	List	   *new_dead_letters;	/* DeadLetter */
	List	   *replayed;		/* ids of dead letters replay delivered (int64 *) */
} SubscriptionPlan;

/*
 * A streamed transaction's entries read back in their order: fills json
 * with up to max of them (JSON texts, in the caller's memory context) and
 * returns how many, 0 at the end.
 */
typedef int (*SubscriptionEntryReader) (void *arg, char **json, int max);

extern List *subscriptions_load(List *plans, MemoryContext cxt);
extern void subscriptions_free(List *subs);
extern TupleTableSlot *subscription_event_slot(SubscriptionPlan *sub);
extern void subscription_deliver(SubscriptionPlan *sub, TupleTableSlot *event,
								 TimestampTz commit_time, XLogRecPtr final_lsn);
extern const char *subscription_refusal(SubscriptionPlan *sub, int *sqlerrcode);
extern char *subscription_event_json(SubscriptionPlan *sub, TupleTableSlot *event);
extern void subscription_set_aside(SubscriptionPlan *sub, TupleTableSlot *event,
								   TimestampTz commit_time, XLogRecPtr final_lsn,
								   int sqlerrcode, const char *message);
extern bool subscription_replay_event(SubscriptionPlan *sub, TupleTableSlot *event,
									  TimestampTz commit_time);
extern void subscriptions_emit_row(ViewPlan *plan, Datum *values, bool *nulls,
								   bool correction, bool late);
extern void subscriptions_collect(List *subs, XLogRecPtr upto);
extern bool subscriptions_have_pending(List *subs);
extern void subscriptions_write(List *subs);
extern void subscription_notify_entry(const char *channel, const char *name,
									  StringInfo payload, int64 position, const char *kind,
									  const char *json);
extern bool subscription_lock(int32 id);
extern void subscription_notify_batch(const char *channel, const char *name, int64 first,
									  int64 count);
extern void subscription_write_streamed(SubscriptionPlan *sub, XLogRecPtr end_lsn,
										TimestampTz commit_time,
										SubscriptionEntryReader next, void *arg);

#endif							/* STREAMEXT_SUBSCRIPTION_H */
