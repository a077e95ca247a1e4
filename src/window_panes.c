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
 *	  grow one pane at a time.  A sliding window combines the partial
 *	  combinations the worker published with its panes (sliding_stacks.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/executor.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "agg_state.h"
#include "sliding_stacks.h"
#include "state_format.h"
#include "state_shmem.h"
#include "view_plan.h"
#include "view_state.h"
#include "window.h"
#include "window_panes.h"

static void combine_pane(ViewPlan *plan, WindowGroups *result, TimestampTz pane);

/* combine_pane combines the groups of the open pane starting at pane into result */
static void
combine_pane(ViewPlan *plan, WindowGroups *result, TimestampTz pane)
{
	WindowGroups *wg = hash_search(plan->state->windows, &pane, HASH_FIND, NULL);
	TupleHashIterator it;
	TupleHashEntry entry;

	if (wg == NULL)
		return;
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

/*
 * window_combine_panes returns a standalone window holding, for every
 * group, the combined states of the open panes in [start, end).  Given the
 * starts of the open panes in order (npanes of them), it takes those in
 * the window rather than working out each pane of the calendar.  The caller
 * deletes its cxt.
 */
WindowGroups *
window_combine_panes(ViewPlan *plan, TimestampTz start, TimestampTz end,
					 const TimestampTz *panes, int npanes)
{
	WindowGroups *result = palloc0(sizeof(WindowGroups));
	TimestampTz pane;
	int			lo = 0;
	int			hi = npanes;

	window_groups_init(plan, result, false);
	result->start = start;
	if (panes == NULL)
	{
		for (pane = start; pane < end; pane = window_pane_end(&plan->window, pane))
			combine_pane(plan, result, pane);
		return result;
	}
	/* the first open pane in the window */
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (panes[mid] < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < npanes && panes[lo] < end; lo++)
		combine_pane(plan, result, panes[lo]);
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
	const char *extra;			/* sliding: see sliding_stacks.c */
	uint32		extralen;
	AggValue   *values;			/* deserialised when first needed */
	int64		group;			/* its key's, by the view's equality */
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
	bool		partial;		/* rows of partial states (view_plan_partial_output) */
	WindowBounds *windows;		/* calendar hopping: the open windows by start */
	int			nwindows;
	int			from_stacks;	/* sliding rows made from the worker's stacks */
	int			from_panes;		/* and from every pane */
} PaneReader;

/*
 * pane_ref_cmp orders panes by group (keys equal as the view's GROUP BY
 * says, not only byte for byte: 1.0 and 1.00, 0 and -0 are one key, whose
 * panes the worker combines together), then time
 */
static int
pane_ref_cmp(const void *a, const void *b)
{
	const PaneRef *x = a;
	const PaneRef *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

/*
 * number_groups gives each pane the number of its key, keys told apart by
 * the view's equality functions as the worker tells them apart
 */
static void
number_groups(ViewPlan *plan, PaneRef *panes, int n)
{
	WindowGroups keys;
	int64		next = 1;
	int			i;

	if (plan->nkeys == 0)
	{
		for (i = 0; i < n; i++)
			panes[i].group = 0;
		return;
	}
	window_groups_init(plan, &keys, false);
	for (i = 0; i < n; i++)
	{
		TupleHashEntry entry;
		bool		isnew;

		group_key_deserialize(plan, panes[i].key, panes[i].keylen, plan->keyslot);
		entry = LookupTupleHashEntry(keys.groups, plan->keyslot, &isnew, NULL);
		if (isnew)
			entry->additional = (void *) (intptr_t) next++;
		panes[i].group = (int64) (intptr_t) entry->additional;
	}
	MemoryContextDelete(keys.cxt);
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

	if (r->partial)
	{
		view_plan_partial_output(plan, start, end, r->keys, r->keynulls, states, r->out,
								 r->outnulls);
		tuplestore_putvalues(r->store, r->desc, r->out, r->outnulls);
	}
	else if (view_plan_output(plan, start, end, r->keys, r->keynulls, states, r->out,
							  r->outnulls))
		tuplestore_putvalues(r->store, r->desc, r->out, r->outnulls);
	r->any_row = true;
}

/*
 * The panes of one group in a hopping window, [head, tail), as a "two
 * stacks" queue: front[k] combines panes k .. front_end - 1 for the panes
 * leaving first, back the panes [front_end, tail) as they arrive.
 */
typedef struct PaneQueue
{
	AggValue  **front;
	int			front_top;		/* oldest pane still in the queue */
	int			front_end;
	AggValue   *back;
	int			head;
	int			tail;
} PaneQueue;

/* queue_init makes an empty queue for n panes */
static void
queue_init(PaneReader *r, PaneQueue *q, int n)
{
	q->front = palloc(sizeof(AggValue *) * n);
	q->front_top = q->front_end = 0;
	q->back = fresh_values(r->plan, r->cxt);
	q->head = q->tail = 0;
}

/* queue_move makes the queue hold the panes starting in [start, end) */
static void
queue_move(PaneReader *r, PaneQueue *q, PaneRef *panes, int n, TimestampTz start, TimestampTz end)
{
	ViewPlan   *plan = r->plan;

	/* panes entering the window, and leaving it */
	while (q->tail < n && panes[q->tail].start < end)
	{
		agg_combine_values(&plan->aggs, q->back, pane_values(r, &panes[q->tail]), r->cxt);
		q->tail++;
	}
	while (q->head < q->tail && panes[q->head].start < start)
	{
		if (q->front_top == q->front_end)
		{
			int			k;

			/* the queue's front is empty: flip the back over */
			q->front_top = q->head;
			q->front_end = q->tail;
			for (k = q->tail - 1; k >= q->head; k--)
			{
				q->front[k] = fresh_values(plan, r->cxt);
				agg_combine_values(&plan->aggs, q->front[k], pane_values(r, &panes[k]), r->cxt);
				if (k + 1 < q->tail)
					agg_combine_values(&plan->aggs, q->front[k], q->front[k + 1], r->cxt);
			}
			q->back = fresh_values(plan, r->cxt);
		}
		q->front_top++;
		q->head++;
	}
}

/* queue_combined is the combination of the panes in the queue */
static AggValue *
queue_combined(PaneReader *r, PaneQueue *q)
{
	ViewPlan   *plan = r->plan;
	AggValue   *result = fresh_values(plan, r->cxt);

	if (q->front_top < q->front_end)
		agg_combine_values(&plan->aggs, result, q->front[q->front_top], r->cxt);
	agg_combine_values(&plan->aggs, result, q->back, r->cxt);
	return result;
}

/*
 * emit_calendar_hopping outputs the open windows of one group's panes
 * (sorted by time) for calendar windows: r->windows, in order of start.
 * Their ends need not grow with their starts; a window ending before the
 * one before it is combined from its panes.
 */
static void
emit_calendar_hopping(PaneReader *r, PaneRef *panes, int n)
{
	ViewPlan   *plan = r->plan;
	PaneQueue	q;
	TimestampTz last_end = DT_NOBEGIN;
	TimestampTz first = panes[0].start - window_reach(&plan->window);
	int			lo = 0;
	int			hi = r->nwindows;
	int			i;

	/* the first window that may hold the group's first pane */
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (r->windows[mid].start < first)
			lo = mid + 1;
		else
			hi = mid;
	}
	queue_init(r, &q, n);
	for (i = lo; i < r->nwindows && r->windows[i].start <= panes[n - 1].start; i++)
	{
		WindowBounds *w = &r->windows[i];

		if (w->end < last_end)
		{
			AggValue   *result = fresh_values(plan, r->cxt);
			int			k = q.head;

			while (k < n && panes[k].start < w->start)
				k++;
			if (k == n || panes[k].start >= w->end)
				continue;
			for (; k < n && panes[k].start < w->end; k++)
				agg_combine_values(&plan->aggs, result, pane_values(r, &panes[k]), r->cxt);
			emit_window(r, w->start, w->end, result);
			continue;
		}
		queue_move(r, &q, panes, n, w->start, w->end);
		last_end = w->end;
		if (q.head < q.tail)
			emit_window(r, w->start, w->end, queue_combined(r, &q));
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
	PaneQueue	q;
	TimestampTz w;

	if (plan->window.calendar)
	{
		emit_calendar_hopping(r, panes, n);
		return;
	}
	queue_init(r, &q, n);
	w = panes[0].start - size + slide;

	/* only the windows the reader sees open: those ending after closed_upto */
	if (w + size <= closed_upto)
		w = closed_upto - size + slide - (closed_upto - size + slide - w) % slide;
	while (q.head < n)
	{
		queue_move(r, &q, panes, n, w, w + size);
		if (q.head == q.tail)
		{
			/* no pane in this window: go to the next one that has some */
			if (q.tail == n)
				break;
			w = Max(w + slide, panes[q.tail].start - size + slide);
			continue;
		}
		emit_window(r, w, w + size, queue_combined(r, &q));
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
 * extra_values deserialises the combination a pane carries for readers of
 * a sliding view, or is NULL if it carries none of that kind.
 */
static AggValue *
extra_values(PaneReader *r, PaneRef *pane, char kind)
{
	AggValue   *values;

	if (pane->extralen < 1 || pane->extra[0] != kind)
		return NULL;
	values = MemoryContextAllocZero(r->cxt, sizeof(AggValue) * Max(r->plan->aggs.naggs, 1));
	states_read(r->plan, pane->extra + 1, pane->extralen - 1, values, r->cxt);
	return values;
}

/*
 * combine_stacks combines into acc one group's panes at or after the
 * cutoff (sorted by time) from the combinations the worker published with
 * them (sliding_stacks.c): the suffix of its first pane in the front, the
 * combination its latest pane in the back carries, and its live panes.
 * False if a pane lacks what it should carry (published apart).
 */
static bool
combine_stacks(PaneReader *r, PaneRef *panes, int n, TimestampTz front_end,
			   TimestampTz back_end, AggValue *acc)
{
	ViewPlan   *plan = r->plan;
	AggValue   *part;
	int			last_back = -1;
	int			k = 0;

	if (n > 0 && panes[0].start < front_end)
	{
		if ((part = extra_values(r, &panes[0], SLIDING_EXTRA_SUFFIX)) == NULL)
			return false;
		agg_combine_values(&plan->aggs, acc, part, r->cxt);
	}
	while (k < n && panes[k].start < front_end)
		k++;
	while (k < n && panes[k].start < back_end)
		last_back = k++;
	if (last_back >= 0)
	{
		if ((part = extra_values(r, &panes[last_back], SLIDING_EXTRA_BACK)) == NULL)
			return false;
		agg_combine_values(&plan->aggs, acc, part, r->cxt);
	}
	for (; k < n; k++)
		agg_combine_values(&plan->aggs, acc, pane_values(r, &panes[k]), r->cxt);
	return true;
}

/*
 * emit_sliding outputs the sliding window of one group's panes at or after
 * the cutoff (sorted by time): from the worker's stacks when the cutoff is
 * within their front, so a row costs a few combines; else (a reader ahead
 * of the worker, or panes read from a checkpoint) from every pane.
 */
static void
emit_sliding(PaneReader *r, PaneRef *panes, int n, TimestampTz cutoff,
			 TimestampTz front_end, TimestampTz back_end)
{
	ViewPlan   *plan = r->plan;
	AggValue   *acc = fresh_values(plan, r->cxt);
	int			k;

	if (cutoff <= front_end && front_end <= back_end &&
		combine_stacks(r, panes, n, front_end, back_end, acc))
	{
		r->from_stacks++;
		emit_window(r, DT_NOBEGIN, DT_NOEND, acc);
		return;
	}
	r->from_panes++;
	acc = fresh_values(plan, r->cxt);
	for (k = 0; k < n; k++)
		agg_combine_values(&plan->aggs, acc, pane_values(r, &panes[k]), r->cxt);
	emit_window(r, DT_NOBEGIN, DT_NOEND, acc);
}

/*
 * window_panes_emit puts in store the rows that published panes (groups, as
 * SharedGroupCopy) give a reader: of hopping and cumulating windows, those
 * ending after closed_upto (the others are in the closed-window table as
 * the reader's snapshot sees it); of a sliding window, one per group from
 * the panes at or after cutoff, with the stacks published as marks says.
 * The rows are the view's, or with partial its windows' partial states.
 * Returns whether any row came from panes.
 */
bool
window_panes_emit(ViewPlan *plan, Tuplestorestate *store, TupleDesc desc,
				  const SharedGroupCopy *groups, int64 ngroups,
				  TimestampTz closed_upto, TimestampTz cutoff,
				  const ViewMarks *marks, bool partial)
{
	PaneReader	r;
	MemoryContext readcxt = AllocSetContextCreate(CurrentMemoryContext, "streamext panes",
												  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(readcxt);
	int			n = 0;
	PaneRef    *panes = palloc_extended(sizeof(PaneRef) * Max(ngroups, 1), MCXT_ALLOC_HUGE);
	int64		g;
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
	r.partial = partial;
	r.from_stacks = r.from_panes = 0;

	for (g = 0; g < ngroups; g++)
	{
		BlobParts	parts;

		state_blob_parts(groups[g].blob, groups[g].len, &parts);
		if (plan->window.kind == WINDOW_SLIDING && parts.start < cutoff)
			continue;
		panes[n].key = parts.key;
		panes[n].keylen = parts.keylen;
		panes[n].start = parts.start;
		panes[n].states = parts.states;
		panes[n].stateslen = parts.stateslen;
		panes[n].extra = parts.extra;
		panes[n].extralen = parts.extralen;
		panes[n].values = NULL;
		n++;
	}
	number_groups(plan, panes, n);
	qsort(panes, n, sizeof(PaneRef), pane_ref_cmp);

	/* calendar hopping windows are worked out once for every group */
	r.windows = NULL;
	r.nwindows = 0;
	if (plan->window.kind == WINDOW_HOPPING && plan->window.calendar && n > 0)
	{
		TimestampTz *starts = palloc(sizeof(TimestampTz) * n);
		int			m;

		for (i = 0; i < n; i++)
			starts[i] = panes[i].start;
		qsort(starts, n, sizeof(TimestampTz), window_start_cmp);
		m = window_holding_any(&plan->window, starts, n, &r.windows);
		pfree(starts);
		for (i = 0; i < m; i++)
			if (r.windows[i].end > closed_upto)
				r.windows[r.nwindows++] = r.windows[i];
	}

	for (i = 0; i < n; i = j)
	{
		int			k;

		for (j = i + 1; j < n && panes[j].group == panes[i].group; j++)
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
				emit_sliding(&r, &panes[i], j - i, cutoff, marks->slide_front_end,
							 marks->slide_back_end);
				break;
		}
		MemoryContextSwitchTo(readcxt);
	}
	if (plan->window.kind == WINDOW_SLIDING)
		elog(DEBUG1, "streamext: sliding view \"%s\": %d rows from the worker's combinations, %d from every pane",
			 plan->name, r.from_stacks, r.from_panes);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(readcxt);
	return r.any_row;
}
