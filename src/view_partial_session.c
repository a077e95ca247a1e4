/*-------------------------------------------------------------------------
 *
 * view_partial_session.c
 *	  Partial states of a session view for a transaction decoded while it
 *	  is written (view_partial.c does the other windows).  Per group, the
 *	  transaction's events are folded into runs less than the gap apart, as
 *	  the view would make sessions of them alone: an event joins every run
 *	  it is less than the gap from, merging them, or starts one.  At the
 *	  commit each run joins the view's open sessions of its group that it is
 *	  less than the gap from (session_place_interval), which gives the same
 *	  sessions as its events one by one: sessions are the runs of a group's
 *	  events less than the gap apart, whatever their order.
 *
 *	  That holds while no event of the transaction is older than the view's
 *	  closed horizon (closed_upto), which moves only between transactions:
 *	  an older one may join sessions closed already, event by event at a
 *	  checkpoint.  A run that starts before it at the commit makes the whole
 *	  transaction be decoded again without streaming (an error here, which
 *	  decoder.c's fall_back turns into that).
 *
 *	  An event without a time takes its commit's, unknown until the commit:
 *	  such events of a group wait in a run of their own, which is placed at
 *	  the commit time like the others (all have that one time).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/executor.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "agg_state.h"
#include "view_apply.h"
#include "view_partial_session.h"
#include "view_plan.h"
#include "view_state.h"
#include "window.h"
#include "window_session.h"

/* a run of a group's events less than the gap apart */
typedef struct PartialSession
{
	TimestampTz start;			/* its first event time ... */
	TimestampTz last;			/* ... and last one */
	uint64		events;			/* passed WHERE */
	struct PartialSession *next;	/* the group's other runs */
	AggValue	values[FLEXIBLE_ARRAY_MEMBER];
} PartialSession;

/* the runs of one group, the hash entry's additional */
typedef struct PartialSessionGroup
{
	PartialSession *runs;		/* none less than the gap from another */
	PartialSession *at_commit;	/* events whose time is their commit's */
} PartialSessionGroup;

static PartialSession *partial_run_new(PartialSessions *pss);
static PartialSession *partial_run_join(PartialSessions *pss, PartialSessionGroup *psg,
										TimestampTz t);
static void partial_run_check(ViewPlan *plan, TimestampTz start);

/*
 * view_partial_session_fold folds one event at t (or at its commit's time,
 * at_commit) into the runs of its group, behind the view owner's gate (the
 * caller's): the same expressions and transitions the view runs for it at
 * its commit.  The caller has reset the expression context, stored the
 * event as its scan tuple and noted its time.
 */
void
view_partial_session_fold(PartialSessions *pss, TimestampTz t, bool at_commit)
{
	ViewPlan   *plan = pss->plan;
	TupleHashEntry entry;
	PartialSessionGroup *psg;
	PartialSession *into;
	bool		isnew;
	int			i;
	MemoryContext old;

	if (!view_plan_eval_event(plan))
		return;
	/* decoded again, and set aside then */
	if (!at_commit)
		window_check_event_time(&plan->window, t);

	/*
	 * An event older than the closed horizon now is late at the commit too,
	 * but is not refused here: after a restart, transactions the checkpoint
	 * has applied already are streamed again and dropped at their commit.
	 */

	old = MemoryContextSwitchTo(plan->econtext->ecxt_per_tuple_memory);
	if (pss->groups == NULL)
		pss->groups = BuildTupleHashTableExt(NULL, plan->keydesc, Max(plan->nkeys, 1),
											 plan->key_cols, plan->key_eqfuncs,
											 plan->key_hashfns, plan->key_collations,
											 64, 0, pss->cxt, pss->cxt,
											 plan->econtext->ecxt_per_tuple_memory,
											 false);
	entry = LookupTupleHashEntry(pss->groups, plan->keyslot, &isnew, NULL);
	if (isnew)
		entry->additional = MemoryContextAllocZero(pss->cxt, sizeof(PartialSessionGroup));
	psg = entry->additional;
	if (!at_commit)
		into = partial_run_join(pss, psg, t);
	else
	{
		if (psg->at_commit == NULL)
			psg->at_commit = partial_run_new(pss);
		into = psg->at_commit;
	}
	for (i = 0; i < plan->aggs.naggs; i++)
		if (!plan->agg_skip[i])
			agg_advance(&plan->aggs, &plan->aggs.runners[i], &into->values[i], pss->cxt);
	into->events++;
	MemoryContextSwitchTo(old);
}

/*
 * partial_run_new makes an empty run in the partial states' memory.
 */
static PartialSession *
partial_run_new(PartialSessions *pss)
{
	ViewPlan   *plan = pss->plan;
	PartialSession *ps;

	ps = MemoryContextAllocZero(pss->cxt, offsetof(PartialSession, values) +
								sizeof(AggValue) * Max(plan->aggs.naggs, 1));
	agg_init_values(&plan->aggs, ps->values, pss->cxt);
	return ps;
}

/*
 * partial_run_join finds the run of a group an event at t belongs to: the
 * runs it is less than the gap from merged into one and widened, or a new
 * one.  A run merged away stays in the partial states' memory until the
 * transaction is placed or dropped.
 */
static PartialSession *
partial_run_join(PartialSessions *pss, PartialSessionGroup *psg, TimestampTz t)
{
	ViewPlan   *plan = pss->plan;
	int64		gap = plan->window.size_usec;
	PartialSession *into = NULL;
	PartialSession *ps;
	PartialSession **link = &psg->runs;

	while ((ps = *link) != NULL)
	{
		if (ps->start - gap < t && t < ps->last + gap)
		{
			if (into == NULL)
				into = ps;
			else
			{
				/* the event bridges two runs: one takes the other in */
				agg_combine_values(&plan->aggs, into->values, ps->values, pss->cxt);
				into->start = Min(into->start, ps->start);
				into->last = Max(into->last, ps->last);
				into->events += ps->events;
				*link = ps->next;
				continue;
			}
		}
		link = &ps->next;
	}
	if (into == NULL)
	{
		into = partial_run_new(pss);
		into->start = into->last = t;
		into->next = psg->runs;
		psg->runs = into;
	}
	into->start = Min(into->start, t);
	into->last = Max(into->last, t);
	return into;
}

/*
 * partial_run_check makes the transaction fall back when a run starting at
 * start is older than the view's closed horizon: its events are late, and
 * a late event joins closed sessions one by one, which runs cannot.
 */
static void
partial_run_check(ViewPlan *plan, TimestampTz start)
{
	if (start < plan->state->closed_upto)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("an event of session view \"%s\" is older than its watermark",
						plan->name),
				 errdetail("A late event may join closed sessions: the transaction is applied event by event at its commit.")));
}

/*
 * view_partial_session_place places the runs at the commit of their
 * transaction, after view_partial_place has moved the watermark and within
 * its gate and plan->state->mutating: each run joins the view's open
 * sessions of its group.  Any run older than the closed horizon raises
 * an error before the view changes (partial_run_check).
 */
void
view_partial_session_place(PartialSessions *pss, TimestampTz commit_time, XLogRecPtr end_lsn)
{
	ViewPlan   *plan = pss->plan;
	TupleHashIterator iter;
	TupleHashEntry entry;
	PartialSessionGroup *psg;
	PartialSession *ps;
	uint64		events = 0;

	if (pss->groups == NULL)
		return;
	InitTupleHashIterator(pss->groups, &iter);
	while ((entry = ScanTupleHashTable(pss->groups, &iter)) != NULL)
	{
		psg = entry->additional;
		for (ps = psg->runs; ps != NULL; ps = ps->next)
			partial_run_check(plan, ps->start);
		if (psg->at_commit != NULL)
			partial_run_check(plan, commit_time);
	}
	TermTupleHashIterator(&iter);

	InitTupleHashIterator(pss->groups, &iter);
	while ((entry = ScanTupleHashTable(pss->groups, &iter)) != NULL)
	{
		psg = entry->additional;
		/* session_place_interval takes the group's key where an event's is */
		ExecStoreMinimalTuple(entry->firstTuple, plan->keyslot, false);
		for (ps = psg->runs; ps != NULL; ps = ps->next)
		{
			session_place_interval(plan, ps->start, ps->last, ps->values, end_lsn);
			events += ps->events;
		}
		if ((ps = psg->at_commit) != NULL)
		{
			session_place_interval(plan, commit_time, commit_time, ps->values, end_lsn);
			events += ps->events;
		}
		ExecClearTuple(plan->keyslot);
	}
	TermTupleHashIterator(&iter);
	plan->state->events += events;
}
