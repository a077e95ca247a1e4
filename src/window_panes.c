/*-------------------------------------------------------------------------
 *
 * window_panes.c
 *	  Combining panes into windows.  Hopping and cumulating windows keep one
 *	  state per group and pane (a tumbling window of the slide); a window is
 *	  the combination of its panes, made by the checkpoint that closes it
 *	  from the worker's states, and by readers from the published ones.
 *	  This is why an event costs one transition however many windows hold
 *	  it, and why memory grows with panes, not with size/slide.
 *
 *	  Readers go group by group through the group's panes in time order.  A
 *	  hopping window slides over them as a queue: the "two stacks" queue
 *	  keeps, for panes leaving first, their suffix combinations, and for
 *	  panes arriving, one running combination, so each window costs a
 *	  couple of combines however many panes it spans.  Cumulating windows
 *	  grow one pane at a time; a sliding window is one combination.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/executor.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "agg_state.h"
#include "state_format.h"
#include "state_shmem.h"
#include "view_plan.h"
#include "view_state.h"
#include "window.h"
#include "window_panes.h"

/*
 * window_combine_panes returns a standalone window holding, for every
 * group, the combined states of the open panes in [start, end).  The caller
 * deletes its cxt.
 */
WindowGroups *
window_combine_panes(ViewPlan *plan, TimestampTz start, TimestampTz end)
{
	WindowGroups *result = palloc0(sizeof(WindowGroups));
	TimestampTz pane;

	window_groups_init(plan, result, false);
	result->start = start;
	for (pane = start; pane < end; pane = window_pane_end(&plan->window, pane))
	{
		WindowGroups *wg = hash_search(plan->state->windows, &pane, HASH_FIND, NULL);
		TupleHashIterator it;
		TupleHashEntry entry;

		if (wg == NULL)
			continue;
		InitTupleHashIterator(wg->groups, &it);
		while ((entry = ScanTupleHashTable(wg->groups, &it)) != NULL)
		{
			ViewGroup  *from = entry->additional;
			ViewGroup  *into;
			bool		isnew;

			ExecStoreMinimalTuple(entry->firstTuple, plan->keyslot, false);
			into = view_plan_group(plan, result, plan->keyslot, &isnew);
			agg_combine_values(&plan->aggs, into->values, from->values, result->cxt);
		}
	}
	return result;
}

/* one published pane of one group, for readers */
typedef struct PaneRef
{
	const char *key;
	uint32		keylen;
	TimestampTz start;
	const char *states;
	Size		stateslen;
	AggValue   *values;			/* deserialised when first needed */
} PaneRef;

/* what a reader carries through one group's panes */
typedef struct PaneReader
{
	ViewPlan   *plan;
	Tuplestorestate *store;
	TupleDesc	desc;
	MemoryContext cxt;			/* reset for each group */
	Datum	   *keys;
	bool	   *keynulls;
	Datum	   *out;
	bool	   *outnulls;
	bool		any_row;
} PaneReader;

/* pane_ref_cmp orders panes by group key, then time */
static int
pane_ref_cmp(const void *a, const void *b)
{
	const PaneRef *x = a;
	const PaneRef *y = b;

	if (x->keylen != y->keylen)
		return x->keylen < y->keylen ? -1 : 1;
	if (x->keylen > 0)
	{
		int			c = memcmp(x->key, y->key, x->keylen);

		if (c != 0)
			return c;
	}
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

/* fresh_values is an empty state of every aggregate */
static AggValue *
fresh_values(ViewPlan *plan, MemoryContext cxt)
{
	AggValue   *v = MemoryContextAllocZero(cxt, sizeof(AggValue) * Max(plan->aggs.naggs, 1));

	agg_init_values(&plan->aggs, v, cxt);
	return v;
}

/* pane_values deserialises a pane's states once */
static AggValue *
pane_values(PaneReader *r, PaneRef *pane)
{
	if (pane->values == NULL)
	{
		pane->values = MemoryContextAllocZero(r->cxt,
											  sizeof(AggValue) * Max(r->plan->aggs.naggs, 1));
		states_read(r->plan, pane->states, pane->stateslen, pane->values, r->cxt);
	}
	return pane->values;
}

/*
 * emit_window outputs the row of one window of the group whose keys are in
 * r->keys; finalising consumes the states.
 */
static void
emit_window(PaneReader *r, TimestampTz start, TimestampTz end, AggValue *states)
{
	ViewPlan   *plan = r->plan;

	if (view_plan_output(plan, start, end, r->keys, r->keynulls, states, r->out, r->outnulls))
		tuplestore_putvalues(r->store, r->desc, r->out, r->outnulls);
	r->any_row = true;
}

/*
 * emit_calendar_hopping outputs the open windows of one group's panes
 * (sorted by time) for calendar windows, whose ends need not grow with
 * their starts: each window the panes belong to, combined from its panes.
 */
static void
emit_calendar_hopping(PaneReader *r, PaneRef *panes, int n, TimestampTz closed_upto)
{
	ViewPlan   *plan = r->plan;
	WindowBounds *windows = NULL;
	int			nwindows = 0;
	int			allocated = 0;
	int			i;
	int			k;

	for (k = 0; k < n; k++)
	{
		WindowBounds *w;
		int			m = window_list_of_pane(&plan->window, panes[k].start, closed_upto, DT_NOEND, &w);

		for (i = 0; i < m; i++)
		{
			if (nwindows == allocated)
			{
				allocated = Max(16, allocated * 2);
				windows = windows ? repalloc(windows, sizeof(WindowBounds) * allocated) :
					palloc(sizeof(WindowBounds) * allocated);
			}
			windows[nwindows++] = w[i];
		}
		pfree(w);
	}
	if (nwindows == 0)
		return;
	qsort(windows, nwindows, sizeof(WindowBounds), window_bounds_cmp);
	for (i = 0; i < nwindows; i++)
	{
		AggValue   *result;
		int			lo = 0;
		int			hi = n;

		if (i > 0 && window_bounds_cmp(&windows[i - 1], &windows[i]) == 0)
			continue;
		/* the first pane in the window */
		while (lo < hi)
		{
			int			mid = (lo + hi) / 2;

			if (panes[mid].start < windows[i].start)
				lo = mid + 1;
			else
				hi = mid;
		}
		result = fresh_values(plan, r->cxt);
		for (k = lo; k < n && panes[k].start < windows[i].end; k++)
			agg_combine_values(&plan->aggs, result, pane_values(r, &panes[k]), r->cxt);
		emit_window(r, windows[i].start, windows[i].end, result);
	}
}

/*
 * emit_hopping outputs the open windows of one group's panes (sorted by
 * time), sliding a two-stacks queue over them.
 */
static void
emit_hopping(PaneReader *r, PaneRef *panes, int n, TimestampTz closed_upto)
{
	ViewPlan   *plan = r->plan;
	int64		size = plan->window.size_usec;
	int64		slide = plan->window.pane_usec;
	AggValue  **front = palloc(sizeof(AggValue *) * n);	/* suffix combinations */
	int			front_top = 0;	/* oldest pane still in the queue */
	int			front_end = 0;
	AggValue   *back = fresh_values(plan, r->cxt);	/* panes [front_end, tail) */
	int			head = 0;
	int			tail = 0;
	TimestampTz w;

	if (plan->window.calendar)
	{
		emit_calendar_hopping(r, panes, n, closed_upto);
		return;
	}
	w = panes[0].start - size + slide;

	/* only the windows the reader sees open: those ending after closed_upto */
	if (w + size <= closed_upto)
		w = closed_upto - size + slide - (closed_upto - size + slide - w) % slide;
	while (head < n)
	{
		AggValue   *result;

		/* panes entering the window, and leaving it */
		while (tail < n && panes[tail].start < w + size)
		{
			agg_combine_values(&plan->aggs, back, pane_values(r, &panes[tail]), r->cxt);
			tail++;
		}
		while (head < tail && panes[head].start < w)
		{
			if (front_top == front_end)
			{
				int			k;

				/* the queue's front is empty: flip the back over */
				front_top = head;
				front_end = tail;
				for (k = tail - 1; k >= head; k--)
				{
					front[k] = fresh_values(plan, r->cxt);
					agg_combine_values(&plan->aggs, front[k], pane_values(r, &panes[k]), r->cxt);
					if (k + 1 < tail)
						agg_combine_values(&plan->aggs, front[k], front[k + 1], r->cxt);
				}
				back = fresh_values(plan, r->cxt);
			}
			front_top++;
			head++;
		}
		if (head == tail)
		{
			/* no pane in this window: go to the next one that has some */
			if (tail == n)
				break;
			w = Max(w + slide, panes[tail].start - size + slide);
			continue;
		}
		result = fresh_values(plan, r->cxt);
		if (front_top < front_end)
			agg_combine_values(&plan->aggs, result, front[front_top], r->cxt);
		agg_combine_values(&plan->aggs, result, back, r->cxt);
		emit_window(r, w, w + size, result);
		w += slide;
	}
}

/*
 * emit_cumulating outputs the open windows of one group's panes (sorted by
 * time): each period's combination, grown pane by pane.
 */
static void
emit_cumulating(PaneReader *r, PaneRef *panes, int n, TimestampTz closed_upto)
{
	ViewPlan   *plan = r->plan;
	const WindowSpec *spec = &plan->window;
	int			i = 0;

	while (i < n)
	{
		TimestampTz period;
		TimestampTz period_end;
		AggValue   *acc = fresh_values(plan, r->cxt);
		TimestampTz end;

		window_period(spec, panes[i].start, &period, &period_end);
		/* windows [period, end) from the first one holding a pane */
		for (end = window_pane_end(spec, panes[i].start); end <= period_end;
			 end = window_pane_end(spec, end))
		{
			while (i < n && panes[i].start < end)
				agg_combine_values(&plan->aggs, acc, pane_values(r, &panes[i++]), r->cxt);
			if (end > closed_upto)
			{
				AggValue   *copy = fresh_values(plan, r->cxt);

				agg_combine_values(&plan->aggs, copy, acc, r->cxt);
				emit_window(r, period, end, copy);
			}
		}
	}
}

/*
 * window_panes_emit puts in store the rows that published panes (groups, as
 * SharedGroupCopy) give a reader: of hopping and cumulating windows, those
 * ending after closed_upto (the others are in the closed-window table as
 * the reader's snapshot sees it); of a sliding window, one per group from
 * the panes at or after cutoff.  Returns whether any row came from panes.
 */
bool
window_panes_emit(ViewPlan *plan, Tuplestorestate *store, TupleDesc desc,
				  List *groups, TimestampTz closed_upto, TimestampTz cutoff)
{
	PaneReader	r;
	MemoryContext readcxt = AllocSetContextCreate(CurrentMemoryContext, "streamext panes",
												  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(readcxt);
	int			n = 0;
	PaneRef    *panes = palloc(sizeof(PaneRef) * Max(list_length(groups), 1));
	ListCell   *lc;
	int			i;
	int			j;

	r.plan = plan;
	r.store = store;
	r.desc = desc;
	r.cxt = AllocSetContextCreate(readcxt, "streamext group panes", ALLOCSET_DEFAULT_SIZES);
	r.keys = palloc(sizeof(Datum) * Max(plan->nkeys, 1));
	r.keynulls = palloc(sizeof(bool) * Max(plan->nkeys, 1));
	r.out = palloc(sizeof(Datum) * desc->natts);
	r.outnulls = palloc(sizeof(bool) * desc->natts);
	r.any_row = false;

	foreach(lc, groups)
	{
		SharedGroupCopy *copy = lfirst(lc);
		BlobParts	parts;

		state_blob_parts(copy->blob, copy->len, &parts);
		if (plan->window.kind == WINDOW_SLIDING && parts.start < cutoff)
			continue;
		panes[n].key = parts.key;
		panes[n].keylen = parts.keylen;
		panes[n].start = parts.start;
		panes[n].states = parts.states;
		panes[n].stateslen = parts.stateslen;
		panes[n].values = NULL;
		n++;
	}
	qsort(panes, n, sizeof(PaneRef), pane_ref_cmp);

	for (i = 0; i < n; i = j)
	{
		int			k;

		for (j = i + 1; j < n && panes[j].keylen == panes[i].keylen &&
			 (panes[i].keylen == 0 || memcmp(panes[j].key, panes[i].key, panes[i].keylen) == 0);
			 j++)
			;
		MemoryContextReset(r.cxt);
		MemoryContextSwitchTo(r.cxt);
		group_key_deserialize(plan, panes[i].key, panes[i].keylen, plan->keyslot);
		for (k = 0; k < plan->nkeys; k++)
		{
			r.keys[k] = plan->keyslot->tts_values[k];
			r.keynulls[k] = plan->keyslot->tts_isnull[k];
		}
		switch (plan->window.kind)
		{
			case WINDOW_HOPPING:
				emit_hopping(&r, &panes[i], j - i, closed_upto);
				break;
			case WINDOW_CUMULATE:
				emit_cumulating(&r, &panes[i], j - i, closed_upto);
				break;
			default:
				{
					AggValue   *acc = fresh_values(plan, r.cxt);

					for (k = i; k < j; k++)
						agg_combine_values(&plan->aggs, acc, pane_values(&r, &panes[k]), r.cxt);
					emit_window(&r, DT_NOBEGIN, DT_NOEND, acc);
				}
				break;
		}
		MemoryContextSwitchTo(readcxt);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(readcxt);
	return r.any_row;
}
