/*-------------------------------------------------------------------------
 *
 * window_session.c
 *	  Session windows: per group, a window that stays open while its events
 *	  arrive less than the gap apart, from the first event's time to the
 *	  last one's plus the gap.
 *
 *	  The open sessions of a view live in one window keyed by group; each
 *	  group chains its sessions through next_session (usually one, more when
 *	  events are out of order).  An event joins every session it is less than
 *	  the gap from, merging them.  A session closes when the watermark passes
 *	  its end.  An event older than the watermark may bridge sessions that
 *	  are closed already: it waits for the next closing, which merges it
 *	  with them (and with open ones) in the closed-window table, together
 *	  with the group's other late events of its span of the gap
 *	  (session_note_late).  A streamed
 *	  transaction's runs of events join the open sessions at its commit as
 *	  a whole (session_place_interval, from view_partial_session.c).
 *
 *	  Sessions that close or merge leave their states in the window's memory
 *	  until enough have left to make compacting it worthwhile.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/executor.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "agg_state.h"
#include "state_format.h"
#include "usercode.h"
#include "view_plan.h"
#include "view_state.h"
#include "window.h"
#include "window_session.h"
#include "window_sink.h"

/* compact once this many sessions left memory, and more than remain */
#define SESSION_COMPACT_MIN 1024

static bool session_joins(ViewPlan *plan, ViewGroup *gs, TimestampTz start,
						  TimestampTz last);
static ViewGroup *session_join(ViewPlan *plan, WindowGroups *wg, TimestampTz start,
							   TimestampTz last);
static void session_absorb(ViewPlan *plan, WindowGroups *wg, ViewGroup *into,
						   AggValue *values, TimestampTz start, TimestampTz last);
static void note_stale(ViewPlan *plan, TimestampTz start, MinimalTuple key);
static void note_dropped(ViewPlan *plan, int64 gid);
static void resolve_late(ViewPlan *plan, WindowSink *sink, TupleHashEntry late,
						 TimestampTz watermark);
static void close_sessions(ViewPlan *plan, WindowSink *sink,
						   TimestampTz watermark);
static void compact_sessions(ViewPlan *plan);

/*
 * session_joins: is some time of [start, last] less than the gap from the
 * session?  Both are runs of events less than the gap apart, so this
 * holds exactly when some event of one is less than the gap from one of
 * the other.
 */
static bool
session_joins(ViewPlan *plan, ViewGroup *gs, TimestampTz start, TimestampTz last)
{
	int64		gap = plan->window.size_usec;

	return gs->session_start - gap < last && start < gs->session_last + gap;
}

/*
 * session_new chains a new empty session to a group: to entry, or when it
 * is NULL to the group in plan->keyslot (made if new).
 */
ViewGroup *
session_new(ViewPlan *plan, WindowGroups *wg, TupleHashEntry entry,
			TimestampTz start, TimestampTz last)
{
	ViewGroup  *gs;

	if (entry == NULL)
	{
		bool		isnew;

		entry = LookupTupleHashEntry(wg->groups, plan->keyslot, &isnew, NULL);
		if (isnew)
			entry->additional = NULL;
	}
	gs = view_group_new(plan, wg, entry);
	gs->session_start = start;
	gs->session_last = last;
	view_state_note_end(plan, last + plan->window.size_usec);
	gs->next_session = entry->additional;
	entry->additional = gs;
	return gs;
}

/*
 * session_absorb combines states into a session, and widens it.
 */
static void
session_absorb(ViewPlan *plan, WindowGroups *wg, ViewGroup *into, AggValue *values,
			   TimestampTz start, TimestampTz last)
{
	agg_combine_values(&plan->aggs, into->values, values, wg->cxt);
	into->session_start = Min(into->session_start, start);
	into->session_last = Max(into->session_last, last);
	into->dirty_disk = true;
	view_group_changed(wg, into);
}

/*
 * session_unlinked: a session that left its group's chain (closed, or merged
 * into another) must not be published from the window's changed list.
 */
static void
session_unlinked(ViewPlan *plan, WindowGroups *wg, ViewGroup *gs)
{
	gs->dirty_shmem = false;
	wg->ngroups--;
	plan->state->sessions_freed++;
}

/*
 * note_stale remembers an open_state row that no session has any more,
 * for the next checkpoint to delete.
 */
static void
note_stale(ViewPlan *plan, TimestampTz start, MinimalTuple key)
{
	MemoryContext old = MemoryContextSwitchTo(plan->cxt);
	StaleOpenRow *row = palloc(sizeof(StaleOpenRow));
	StringInfoData buf;

	initStringInfo(&buf);
	if (key != NULL)
		ExecStoreMinimalTuple(key, plan->keyslot, false);
	group_key_serialize(plan, plan->keyslot, &buf);
	row->start = start;
	row->key = bytes_to_bytea(buf.data, buf.len);
	pfree(buf.data);
	plan->state->stale_open_rows = lappend(plan->state->stale_open_rows, row);
	MemoryContextSwitchTo(old);
}

/*
 * note_dropped remembers a session merged into another, to leave shared
 * memory when the other's new state is published.  Events are applied in
 * short-lived memory: the list lives in the plan's.
 */
static void
note_dropped(ViewPlan *plan, int64 gid)
{
	MemoryContext old = MemoryContextSwitchTo(plan->cxt);
	int64	   *copy = palloc(sizeof(int64));

	*copy = gid;
	plan->state->dropped_gids = lappend(plan->state->dropped_gids, copy);
	MemoryContextSwitchTo(old);
}

/*
 * session_join finds the open sessions of the group in plan->keyslot that
 * [start, last] (not older than the watermark) is less than the gap from,
 * merges them into one widened to take it in and returns that one; or
 * chains a new session [start, last] to the group when none is.
 */
static ViewGroup *
session_join(ViewPlan *plan, WindowGroups *wg, TimestampTz start, TimestampTz last)
{
	TupleHashEntry entry;
	bool		isnew;
	ViewGroup  *into = NULL;
	ViewGroup  *gs;
	ViewGroup **link;
	TimestampTz into_start = 0;

	entry = LookupTupleHashEntry(wg->groups, plan->keyslot, &isnew, NULL);
	if (isnew)
		entry->additional = NULL;
	link = (ViewGroup **) &entry->additional;
	while ((gs = *link) != NULL)
	{
		if (session_joins(plan, gs, start, last))
		{
			if (into == NULL)
			{
				into = gs;
				into_start = gs->session_start;
			}
			else
			{
				/* the events bridge two sessions: one takes the other in */
				session_absorb(plan, wg, into, gs->values, gs->session_start,
							   gs->session_last);
				note_stale(plan, gs->session_start, NULL);
				note_dropped(plan, gs->gid);
				*link = gs->next_session;
				session_unlinked(plan, wg, gs);
				continue;
			}
		}
		link = &gs->next_session;
	}
	if (into == NULL)
		return session_new(plan, wg, entry, start, last);
	into->session_start = Min(into->session_start, start);
	into->session_last = Max(into->session_last, last);
	if (into->session_start != into_start)
		note_stale(plan, into_start, NULL);
	return into;
}

/*
 * session_apply_event applies the event whose keys and arguments are
 * evaluated (keys in plan->keyslot) at event time t, not older than the
 * watermark.
 */
void
session_apply_event(ViewPlan *plan, TimestampTz t)
{
	WindowGroups *wg = view_plan_window(plan, WINDOW_UNBOUNDED_START, true);

	advance_group(plan, wg, session_join(plan, wg, t, t));
}

/*
 * session_note_late keeps an event older than the watermark, at finite
 * event time t (keys and arguments evaluated, keys in plan->keyslot), for
 * the next closing to merge with the sessions it joins (resolve_late).  A
 * group's late events are kept by spans of the gap, with their first and
 * last time: any two of a span are less than the gap apart, so they end
 * up in one session whatever else comes, and the span joins the closed and
 * open sessions as a whole.  Kept one by one, each event took its sessions
 * out of the closed table and wrote them back, and kept a window of its
 * own: 100,000 late events of seven groups took minutes and gigabytes.
 */
void
session_note_late(ViewPlan *plan, TimestampTz t)
{
	WindowGroups *wg = view_plan_correction(plan, window_session_span(&plan->window, t));
	bool		isnew;
	ViewGroup  *lg = view_plan_group(plan, wg, plan->keyslot, &isnew);

	if (isnew)
		lg->session_start = lg->session_last = t;
	else
	{
		lg->session_start = Min(lg->session_start, t);
		lg->session_last = Max(lg->session_last, t);
	}
	advance_group(plan, wg, lg);
}

/*
 * session_place_interval combines into the open sessions of the group in
 * plan->keyslot the states of a run of its events, less than the gap apart,
 * from start to last (not older than the watermark), all of one
 * transaction ending at end_lsn: at its commit, with the same sessions as
 * its events would have made one by one.
 */
void
session_place_interval(ViewPlan *plan, TimestampTz start, TimestampTz last,
					   AggValue *values, XLogRecPtr end_lsn)
{
	WindowGroups *wg = view_plan_window(plan, WINDOW_UNBOUNDED_START, true);
	ViewGroup  *into = session_join(plan, wg, start, last);

	session_absorb(plan, wg, into, values, start, last);
	into->changed_lsn = end_lsn;
	wg->changed_lsn = Max(wg->changed_lsn, end_lsn);
}

/* a span's late events and what they join, for merge_late */
typedef struct LateMerge
{
	ViewPlan   *plan;
	ViewGroup  *late;			/* its states take those of the closed rows */
	List	   *taken;			/* TakenRow: the closed sessions it joins */
	ViewGroup  *into;			/* the open session that takes it all, or NULL */
	List	   *joined;			/* ViewGroup: the other open sessions it joins */
	MemoryContext cxt;			/* the open sessions' window's */
	MemoryContext scratch;		/* the sink's, per row */
} LateMerge;

/*
 * merge_late combines, for usercode_isolated, the states of the closed
 * sessions a span of late events joins into the span's, and when the
 * result stays open, the other open sessions' and the span's into the
 * session that keeps them.  Only states change: the caller links and
 * unlinks sessions once this succeeded.
 */
static void
merge_late(void *arg)
{
	LateMerge  *m = arg;
	AggSet	   *aggs = &m->plan->aggs;
	AggValue   *prior = MemoryContextAllocZero(m->scratch,
											   sizeof(AggValue) * Max(aggs->naggs, 1));
	ListCell   *lc;

	foreach(lc, m->taken)
	{
		TakenRow   *row = lfirst(lc);

		states_read(m->plan, VARDATA_ANY(row->states), VARSIZE_ANY_EXHDR(row->states),
					prior, m->scratch);
		agg_combine_values(aggs, m->late->values, prior, m->scratch);
	}
	if (m->into == NULL)
		return;
	foreach(lc, m->joined)
		agg_combine_values(aggs, m->into->values, ((ViewGroup *) lfirst(lc))->values, m->cxt);
	agg_combine_values(aggs, m->into->values, m->late->values, m->cxt);
}

/*
 * resolve_late merges the late events of one group in one span of the gap
 * (the group late of a window of plan->state->corrections, from
 * session_note_late) with the closed sessions and the open ones they are
 * less than the gap from.  The result is a closed row again if the
 * watermark has passed its end, else an open session.  Readers see the
 * change when the closing commits: the sessions it replaces are retired
 * with its transaction and the one it makes is born with it.
 *
 * The states are combined first, in a subtransaction (merge_late), into
 * the first open session joined (its states saved before) or a new one:
 * when the view's combine function fails on them, that session gets its
 * states back (or leaves), the closed rows go back, the span is set aside
 * as a dead letter of the group, and the other groups close as usual.
 */
static void
resolve_late(ViewPlan *plan, WindowSink *sink, TupleHashEntry late, TimestampTz watermark)
{
	int64		gap = plan->window.size_usec;
	ViewGroup  *lg = late->additional;
	WindowGroups *wg = view_plan_window(plan, WINDOW_UNBOUNDED_START, true);
	TimestampTz start = lg->session_start;
	TimestampTz last = lg->session_last;
	LateMerge	m = {plan, lg, NIL, NULL, NIL, wg->cxt, sink->cxt};
	UserCodeFailure failure;
	StringInfoData saved;
	bool		made = false;
	ListCell   *lc;
	TupleHashEntry entry;
	ViewGroup  *gs;
	ViewGroup **link;
	MemoryContext old;

	/* the closed sessions it joins leave the table */
	m.taken = sink->take_closed_rows(sink, plan, late->firstTuple, last + gap, start);
	foreach(lc, m.taken)
	{
		TakenRow   *row = lfirst(lc);

		start = Min(start, row->start);
		last = Max(last, row->end - gap);
	}

	/* the open sessions it joins: the first takes the others */
	ExecStoreMinimalTuple(late->firstTuple, plan->keyslot, false);
	entry = LookupTupleHashEntry(wg->groups, plan->keyslot, NULL, NULL);
	old = MemoryContextSwitchTo(sink->cxt);
	for (gs = entry ? entry->additional : NULL; gs != NULL; gs = gs->next_session)
	{
		if (!session_joins(plan, gs, lg->session_start, lg->session_last))
			continue;
		if (m.into == NULL)
			m.into = gs;
		else
			m.joined = lappend(m.joined, gs);
		start = Min(start, gs->session_start);
		last = Max(last, gs->session_last);
	}
	if (m.into != NULL)
	{
		initStringInfo(&saved);
		states_write(plan, m.into->values, &saved, sink->cxt);
	}
	MemoryContextSwitchTo(old);
	if (m.into == NULL && last + gap > watermark)
	{
		ExecStoreMinimalTuple(late->firstTuple, plan->keyslot, false);
		m.into = session_new(plan, wg, entry, start, last);
		m.into->born_xid = sink->xid;
		made = true;
	}

	if (!usercode_isolated(InvalidOid, USERCODE_READ_ONLY, merge_late, &m, &failure))
	{
		if (made)
		{
			/* the new session leaves its group's chain (it heads it) */
			ExecStoreMinimalTuple(late->firstTuple, plan->keyslot, false);
			entry = LookupTupleHashEntry(wg->groups, plan->keyslot, NULL, NULL);
			entry->additional = m.into->next_session;
			session_unlinked(plan, wg, m.into);
		}
		else if (m.into != NULL)
		{
			/* its states as they were (internal ones' parts stay behind) */
			agg_free_values(&plan->aggs, m.into->values);
			states_read(plan, saved.data, saved.len, m.into->values, wg->cxt);
			plan->state->sessions_freed++;
		}
		sink->late_failed(sink, plan, lg->session_start, lg->session_last + gap,
						  late->firstTuple, failure.error);
		FreeErrorData(failure.error);
		MemoryContextReset(sink->cxt);
		return;
	}

	if (m.into == NULL)
	{
		ExecStoreMinimalTuple(late->firstTuple, plan->keyslot, false);
		sink->closed_row(sink, plan, start, last + gap, late->firstTuple, lg->values,
						 false, m.taken != NIL);
		MemoryContextReset(sink->cxt);
		return;
	}

	/* the sessions it joined are replaced by the one that took them */
	if (!made)
	{
		note_stale(plan, m.into->session_start, late->firstTuple);
		sink->group_retired(sink, plan, m.into->gid);
		/* a new identity: snapshots before the checkpoint see the old */
		m.into->gid = plan->state->next_gid++;
		m.into->born_xid = sink->xid;
	}
	for (link = m.joined ? (ViewGroup **) &entry->additional : NULL;
		 link != NULL && (gs = *link) != NULL;)
	{
		if (!list_member_ptr(m.joined, gs))
		{
			link = &gs->next_session;
			continue;
		}
		note_stale(plan, gs->session_start, late->firstTuple);
		sink->group_retired(sink, plan, gs->gid);
		*link = gs->next_session;
		session_unlinked(plan, wg, gs);
	}
	m.into->session_start = start;
	m.into->session_last = last;
	m.into->dirty_disk = true;
	view_group_changed(wg, m.into);
	m.into->changed_lsn = plan->state->txn_end;
	MemoryContextReset(sink->cxt);
}

/*
 * close_sessions writes the sessions whose end the watermark has passed.
 */
static void
close_sessions(ViewPlan *plan, WindowSink *sink, TimestampTz watermark)
{
	WindowGroups *wg = view_plan_window(plan, WINDOW_UNBOUNDED_START, false);
	TupleHashIterator it;
	TupleHashEntry entry;
	int64		gap = plan->window.size_usec;

	if (wg == NULL)
		return;
	InitTupleHashIterator(wg->groups, &it);
	while ((entry = ScanTupleHashTable(wg->groups, &it)) != NULL)
	{
		/* a group's sessions close in order of time, as windows do */
		for (;;)
		{
			ViewGroup **link;
			ViewGroup **first = NULL;
			ViewGroup  *gs;

			for (link = (ViewGroup **) &entry->additional; *link != NULL;
				 link = &(*link)->next_session)
				if ((*link)->session_last + gap <= watermark &&
					(first == NULL || (*link)->session_start < (*first)->session_start))
					first = link;
			if (first == NULL)
				break;
			gs = *first;
			note_stale(plan, gs->session_start, entry->firstTuple);
			sink->group_retired(sink, plan, gs->gid);
			*first = gs->next_session;
			sink->closed_row(sink, plan, gs->session_start, gs->session_last + gap,
							 entry->firstTuple, gs->values, false, false);
			session_unlinked(plan, wg, gs);
		}
	}
}

/* the copy compact_sessions builds, for copy_sessions */
typedef struct SessionCopy
{
	ViewPlan   *plan;
	WindowGroups *from;
	WindowGroups fresh;
} SessionCopy;

/*
 * copy_sessions copies, for usercode_isolated, the open sessions of a
 * window into fresh memory, combining each one's states into new ones.
 */
static void
copy_sessions(void *arg)
{
	SessionCopy *c = arg;
	ViewPlan   *plan = c->plan;
	TupleHashIterator it;
	TupleHashEntry entry;

	InitTupleHashIterator(c->from->groups, &it);
	while ((entry = ScanTupleHashTable(c->from->groups, &it)) != NULL)
	{
		ViewGroup  *gs;

		for (gs = entry->additional; gs != NULL; gs = gs->next_session)
		{
			ViewGroup  *copy;

			ExecStoreMinimalTuple(entry->firstTuple, plan->keyslot, false);
			copy = session_new(plan, &c->fresh, NULL, gs->session_start, gs->session_last);
			copy->gid = gs->gid;
			copy->born_xid = gs->born_xid;
			copy->changed_lsn = gs->changed_lsn;
			session_absorb(plan, &c->fresh, copy, gs->values, gs->session_start,
						   gs->session_last);
			copy->dirty_disk = gs->dirty_disk;
			copy->dirty_shmem = gs->dirty_shmem;	/* stays listed, skipped if clean */
		}
	}
}

/*
 * compact_sessions copies the open sessions into fresh memory, leaving
 * behind the states of those that closed or merged.  The copy runs the
 * view's combine functions, as long as the sessions take (it is not one
 * call): if one fails, the sessions stay where they are, and compacting
 * waits until as many more have left.
 */
static void
compact_sessions(ViewPlan *plan)
{
	WindowGroups *wg = view_plan_window(plan, WINDOW_UNBOUNDED_START, false);
	SessionCopy c;
	UserCodeFailure failure;

	if (wg == NULL)
		return;
	memset(&c, 0, sizeof(c));
	c.plan = plan;
	c.from = wg;
	window_groups_init(plan, &c.fresh, false);
	if (!usercode_isolated_untimed(InvalidOid, USERCODE_READ_ONLY, copy_sessions, &c, &failure))
	{
		elog(LOG, "streamext: view \"%s\" could not compact its open sessions: %s",
			 plan->name, failure.error->message);
		FreeErrorData(failure.error);
		ExecClearTuple(plan->keyslot);	/* it may point into the copy */
		MemoryContextDelete(c.fresh.cxt);
		plan->state->sessions_freed = 0;
		return;
	}
	elog(DEBUG1, "streamext: view \"%s\" compacted %lld open sessions after %lld left",
		 plan->name, (long long) c.fresh.ngroups, (long long) plan->state->sessions_freed);
	ExecClearTuple(plan->keyslot);	/* it may point into the old memory */
	MemoryContextDelete(wg->cxt);
	wg->cxt = c.fresh.cxt;
	wg->groups = c.fresh.groups;
	wg->ngroups = c.fresh.ngroups;
	wg->changed = c.fresh.changed;
	plan->state->sessions_freed = 0;
}

/*
 * session_close_due merges late events, closes the sessions the watermark
 * has passed and deletes the open_state rows of sessions that moved.
 */
void
session_close_due(ViewPlan *plan, TimestampTz watermark, WindowSink *sink)
{
	HASH_SEQ_STATUS status;
	WindowGroups *late;
	List	   *done = NIL;
	ListCell   *lc;
	WindowGroups *wg;

	hash_seq_init(&status, plan->state->corrections);
	while ((late = hash_seq_search(&status)) != NULL)
	{
		TupleHashIterator it;
		TupleHashEntry entry;

		InitTupleHashIterator(late->groups, &it);
		while ((entry = ScanTupleHashTable(late->groups, &it)) != NULL)
			resolve_late(plan, sink, entry, watermark);
		done = lappend(done, late);
	}
	foreach(lc, done)
		view_plan_drop_window(plan, lfirst(lc));
	list_free(done);

	close_sessions(plan, sink, watermark);

	foreach(lc, plan->state->stale_open_rows)
	{
		StaleOpenRow *row = lfirst(lc);

		sink->open_rows_gone(sink, plan, row->start, row->key);
		pfree(row->key);
	}
	list_free_deep(plan->state->stale_open_rows);
	plan->state->stale_open_rows = NIL;

	wg = view_plan_window(plan, WINDOW_UNBOUNDED_START, false);
	if (wg != NULL && plan->state->sessions_freed > SESSION_COMPACT_MIN &&
		plan->state->sessions_freed > wg->ngroups)
		compact_sessions(plan);
}
