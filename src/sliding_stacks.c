/*-------------------------------------------------------------------------
 *
 * sliding_stacks.c
 *	  A sliding view shows one window per key: the combination of the key's
 *	  panes from the watermark's cutoff on.  Combining them all at every
 *	  read costs as many combines per row as the window has panes, and
 *	  PostgreSQL has no inverse of a combine function to take the oldest
 *	  pane back out.  So the worker keeps each key's panes as a "two
 *	  stacks" queue and publishes its partial combinations with the panes:
 *
 *	  - the front: panes before front_end each carry the combination of
 *		their key's panes from there up to front_end (a suffix), made when
 *		the front is refilled ("flip");
 *	  - the back: per key, one running combination of the panes in
 *		[front_end, back_end), carried by the key's latest pane there and
 *		grown as the watermark passes panes (each pane is folded in once);
 *	  - panes from back_end (the watermark's pane) on are combined by the
 *		reader itself: the events of the live panes change them, and
 *		keeping them apart spares the worker a combine per event.
 *
 *	  A reader whose cutoff is at or before front_end takes the suffix of
 *	  the key's first pane at or after the cutoff, the back combination and
 *	  the live panes: a few combines per row however many panes the window
 *	  spans (window_panes.c).  When the cutoff passes front_end, the worker
 *	  flips: every pane before the watermark's moves to the front.  Each
 *	  pane is combined into a suffix once per flip and into the back once,
 *	  and a flip comes once per window length of watermark progress: a
 *	  constant number of combines per pane, amortised.
 *
 *	  Events are not late before the watermark's pane only by exception:
 *	  a late event in the front makes its key's suffixes again, one in the
 *	  back its key's back combination.  All of this is derived, never
 *	  checkpointed: a worker that loads a view starts with a flip.
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
#include "view_plan.h"
#include "view_state.h"
#include "window.h"

/* a pane's extra bytes made for this publish */
typedef struct SlidingExtra
{
	uint32		len;
	char		bytes[FLEXIBLE_ARRAY_MEMBER];
} SlidingExtra;

/*
 * The extras of one publish, each found from its group by index
 * (ViewGroup.extra_index, valid when extra_publish is this publish's), and
 * a buffer to serialise each one in.
 */
struct SlidingExtras
{
	uint8		publish;
	SlidingExtra **items;
	uint32		n;
	uint32		size;
	StringInfoData buf;
};

/* the pane that carries a key's back combination */
typedef struct BackHolder
{
	ViewGroup  *back;			/* hash key: the key's group in slide_back */
	WindowGroups *wg;
	ViewGroup  *gs;
} BackHolder;

/* pane_cmp orders windows by start */
static int
pane_cmp(const void *a, const void *b)
{
	TimestampTz x = (*(WindowGroups *const *) a)->start;
	TimestampTz y = (*(WindowGroups *const *) b)->start;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * panes_between lists the view's panes starting in [from, to), oldest
 * first; *n is how many.
 */
static WindowGroups **
panes_between(ViewPlan *plan, TimestampTz from, TimestampTz to, int *n)
{
	HASH_SEQ_STATUS status;
	WindowGroups *wg;
	WindowGroups **panes = palloc(sizeof(WindowGroups *) *
								  Max(hash_get_num_entries(plan->state->windows), 1));

	*n = 0;
	hash_seq_init(&status, plan->state->windows);
	while ((wg = hash_seq_search(&status)) != NULL)
		if (wg->start >= from && wg->start < to)
			panes[(*n)++] = wg;
	qsort(panes, *n, sizeof(WindowGroups *), pane_cmp);
	return panes;
}

/*
 * put_extra gives gs (of pane wg) the extra kind + values for this
 * publish, and has it published again.  cxt is for the serial functions.
 */
static SlidingExtra *
put_extra(ViewPlan *plan, SlidingExtras *extras, WindowGroups *wg, ViewGroup *gs, char kind,
		  AggValue *values, MemoryContext cxt)
{
	SlidingExtra *extra;

	resetStringInfo(&extras->buf);
	appendStringInfoChar(&extras->buf, kind);
	states_write(plan, values, &extras->buf, cxt);
	extra = palloc(offsetof(SlidingExtra, bytes) + extras->buf.len);
	extra->len = extras->buf.len;
	memcpy(extra->bytes, extras->buf.data, extras->buf.len);
	if (gs->extra_publish == extras->publish && gs->extra_index < extras->n)
		extras->items[gs->extra_index] = extra; /* made again */
	else
	{
		if (extras->n == extras->size)
		{
			extras->size *= 2;
			extras->items = repalloc_huge(extras->items, sizeof(SlidingExtra *) * extras->size);
		}
		gs->extra_publish = extras->publish;
		gs->extra_index = extras->n;
		extras->items[extras->n++] = extra;
	}
	view_group_changed(wg, gs);
	return extra;
}

/* new_groups makes an empty table of groups by key, apart from the view's */
static WindowGroups *
new_groups(ViewPlan *plan)
{
	WindowGroups *wg = MemoryContextAllocZero(plan->cxt, sizeof(WindowGroups));

	window_groups_init(plan, wg, false);
	return wg;
}

static void
free_groups(WindowGroups *wg)
{
	if (wg != NULL)
	{
		MemoryContextDelete(wg->cxt);
		pfree(wg);
	}
}

/* group_of is the group of the key of entry in wg, made if create */
static ViewGroup *
group_of(ViewPlan *plan, WindowGroups *wg, MinimalTuple key, bool create)
{
	TupleHashEntry entry;
	bool		isnew;

	ExecStoreMinimalTuple(key, plan->keyslot, false);
	if (!create)
	{
		entry = LookupTupleHashEntry(wg->groups, plan->keyslot, NULL, NULL);
		return entry ? (ViewGroup *) entry->additional : NULL;
	}
	return view_plan_group(plan, wg, plan->keyslot, &isnew);
}

/*
 * make_suffixes gives every pane before front_end, for the keys of only
 * (all keys if NULL), the combination of its key's panes from there to
 * front_end: its own states, then the suffix of the key's next pane, in
 * time order (a combine function may keep order, as array_agg's does).
 * Only the latest suffix of each key is kept, serialised: a flip of a big
 * view holds one state per key, not one per pane.
 */
static void
make_suffixes(ViewPlan *plan, SlidingExtras *extras, WindowGroups *only)
{
	int			n;
	WindowGroups **panes = panes_between(plan, DT_NOBEGIN, plan->state->slide_front_end, &n);
	WindowGroups *newer = new_groups(plan); /* key -> SlidingExtra of its
											 * next pane */
	MemoryContext scratch = AllocSetContextCreate(CurrentMemoryContext, "streamext suffix",
												  ALLOCSET_DEFAULT_SIZES);
	AggValue   *acc = palloc(sizeof(AggValue) * Max(plan->aggs.naggs, 1));
	AggValue   *next = palloc(sizeof(AggValue) * Max(plan->aggs.naggs, 1));
	int			i;

	for (i = n - 1; i >= 0; i--)
	{
		TupleHashIterator it;
		TupleHashEntry entry;

		InitTupleHashIterator(panes[i]->groups, &it);
		while ((entry = ScanTupleHashTable(panes[i]->groups, &it)) != NULL)
		{
			ViewGroup  *gs = entry->additional;
			TupleHashEntry later;
			bool		isnew;
			MemoryContext old;

			if (only != NULL && group_of(plan, only, entry->firstTuple, false) == NULL)
				continue;
			ExecStoreMinimalTuple(entry->firstTuple, plan->keyslot, false);
			later = LookupTupleHashEntry(newer->groups, plan->keyslot, &isnew, NULL);
			old = MemoryContextSwitchTo(scratch);
			agg_init_values(&plan->aggs, acc, scratch);
			agg_combine_values(&plan->aggs, acc, gs->values, scratch);
			if (!isnew)
			{
				SlidingExtra *e = later->additional;

				memset(next, 0, sizeof(AggValue) * Max(plan->aggs.naggs, 1));
				states_read(plan, e->bytes + 1, e->len - 1, next, scratch);
				agg_combine_values(&plan->aggs, acc, next, scratch);
			}
			MemoryContextSwitchTo(old);
			later->additional = put_extra(plan, extras, panes[i], gs, SLIDING_EXTRA_SUFFIX,
										  acc, scratch);
			MemoryContextReset(scratch);
		}
	}
	MemoryContextDelete(scratch);
	free_groups(newer);
	pfree(panes);
}

/* note_holder makes gs (of pane wg) the pane carrying back, its key's back */
static void
note_holder(HTAB *holders, ViewGroup *back, WindowGroups *wg, ViewGroup *gs)
{
	BackHolder *h = hash_search(holders, &back, HASH_ENTER, NULL);

	h->wg = wg;
	h->gs = gs;
}

/*
 * fold_back combines the panes in [from, to) into their keys' back
 * combinations, for the keys of only (all if NULL), noting who holds them.
 */
static void
fold_back(ViewPlan *plan, HTAB *holders, TimestampTz from, TimestampTz to, WindowGroups *only)
{
	int			n;
	WindowGroups **panes = panes_between(plan, from, to, &n);
	WindowGroups *back = plan->state->slide_back;
	int			i;

	for (i = 0; i < n; i++)
	{
		TupleHashIterator it;
		TupleHashEntry entry;

		InitTupleHashIterator(panes[i]->groups, &it);
		while ((entry = ScanTupleHashTable(panes[i]->groups, &it)) != NULL)
		{
			ViewGroup  *acc;

			if (only != NULL && group_of(plan, only, entry->firstTuple, false) == NULL)
				continue;
			acc = group_of(plan, back, entry->firstTuple, true);
			agg_combine_values(&plan->aggs, acc->values,
							   ((ViewGroup *) entry->additional)->values, back->cxt);
			note_holder(holders, acc, panes[i], entry->additional);
		}
	}
	pfree(panes);
}

/*
 * late_keys notes the keys of groups changed since the last publish in
 * panes before back_end: in the front (suffixes to make again) or in the
 * back (back combinations to make again).  Tables made only when needed.
 */
static void
late_keys(ViewPlan *plan, WindowGroups **front, WindowGroups **back)
{
	HASH_SEQ_STATUS status;
	WindowGroups *wg;

	hash_seq_init(&status, plan->state->windows);
	while ((wg = hash_seq_search(&status)) != NULL)
	{
		WindowGroups **into;
		ListCell   *lc;

		if (!wg->any_dirty || wg->start >= plan->state->slide_back_end)
			continue;
		into = wg->start < plan->state->slide_front_end ? front : back;
		foreach(lc, wg->changed)
		{
			ViewGroup  *gs = lfirst(lc);

			if (*into == NULL)
				*into = new_groups(plan);
			(void) group_of(plan, *into, gs->key, true);
		}
	}
}

/*
 * sliding_stacks_prepare brings a sliding view's stacks to its watermark
 * before a publish (all_groups: the whole view is published, made whole
 * again), and returns the extras of the panes whose extra changed, which
 * it marks to publish (NULL for other views).  Runs the aggregates'
 * combine and serial functions: behind the owner's gate, in a memory
 * context the caller resets.
 */
SlidingExtras *
sliding_stacks_prepare(ViewPlan *plan, bool all_groups)
{
	ViewState  *state = plan->state;
	const WindowSpec *spec = &plan->window;
	TimestampTz watermark = view_plan_watermark(plan);
	TimestampTz back_end;
	HASHCTL		ctl;
	SlidingExtras *extras;
	HTAB	   *holders;
	WindowGroups *late_front = NULL;
	WindowGroups *late_back = NULL;
	HASH_SEQ_STATUS status;
	BackHolder *h;

	if (spec->kind != WINDOW_SLIDING)
		return NULL;
	if (TIMESTAMP_NOT_FINITE(watermark))
	{
		/* no cutoff yet: readers combine every pane */
		sliding_stacks_forget(plan);
		return NULL;
	}
	/* the watermark's pane: the first one events still reach in order */
	back_end = window_sliding_cutoff(spec, watermark) + spec->size_usec - spec->pane_usec;

	extras = palloc(sizeof(SlidingExtras));
	/*
	 * Publishes are told apart modulo 255: a group's extra is cleared when
	 * build_view takes it, or by sliding_stacks_abandon, never left over.
	 */
	state->slide_publish = state->slide_publish % 255 + 1;
	extras->publish = state->slide_publish;
	extras->n = 0;
	extras->size = 1024;
	extras->items = palloc(sizeof(SlidingExtra *) * extras->size);
	initStringInfo(&extras->buf);
	ctl.hcxt = CurrentMemoryContext;
	ctl.keysize = sizeof(ViewGroup *);
	ctl.entrysize = sizeof(BackHolder);
	holders = hash_create("streamext sliding holders", 256, &ctl,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	if (state->slide_back == NULL || all_groups ||
		window_sliding_cutoff(spec, watermark) > state->slide_front_end ||
		back_end < state->slide_back_end)
	{
		/* flip: every pane before the watermark's to the front */
		free_groups(state->slide_back);
		state->slide_back = new_groups(plan);
		state->slide_front_end = state->slide_back_end = back_end;
		make_suffixes(plan, extras, NULL);
		return extras;
	}

	late_keys(plan, &late_front, &late_back);
	/* panes the watermark passed go to the back */
	fold_back(plan, holders, state->slide_back_end, back_end, NULL);
	state->slide_back_end = back_end;
	if (late_back != NULL)
	{
		TupleHashIterator it;
		TupleHashEntry entry;

		/* their back combinations made again from their panes */
		InitTupleHashIterator(late_back->groups, &it);
		while ((entry = ScanTupleHashTable(late_back->groups, &it)) != NULL)
		{
			ViewGroup  *acc = group_of(plan, state->slide_back, entry->firstTuple, true);

			agg_init_values(&plan->aggs, acc->values, state->slide_back->cxt);
		}
		fold_back(plan, holders, state->slide_front_end, back_end, late_back);
		free_groups(late_back);
	}
	if (late_front != NULL)
	{
		make_suffixes(plan, extras, late_front);
		free_groups(late_front);
	}
	hash_seq_init(&status, holders);
	while ((h = hash_seq_search(&status)) != NULL)
		(void) put_extra(plan, extras, h->wg, h->gs, SLIDING_EXTRA_BACK, h->back->values,
						 CurrentMemoryContext);
	return extras;
}

/*
 * sliding_stacks_extra is the extra of gs made by sliding_stacks_prepare
 * for this publish, or none.
 */
void
sliding_stacks_extra(SlidingExtras *extras, ViewGroup *gs, const char **extra,
					 uint32 *extralen)
{
	SlidingExtra *e = NULL;

	if (extras != NULL && gs->extra_publish == extras->publish && gs->extra_index < extras->n)
		e = extras->items[gs->extra_index];
	gs->extra_publish = 0;
	*extra = e ? e->bytes : NULL;
	*extralen = e ? e->len : 0;
}

/*
 * sliding_stacks_bounds says where the view's front and back end, as
 * published: DT_NOBEGIN when it has none (readers combine every pane).
 */
void
sliding_stacks_bounds(ViewPlan *plan, TimestampTz *front_end, TimestampTz *back_end)
{
	bool		valid = plan->state->slide_back != NULL;

	*front_end = valid ? plan->state->slide_front_end : DT_NOBEGIN;
	*back_end = valid ? plan->state->slide_back_end : DT_NOBEGIN;
}

/* sliding_stacks_forget drops the stacks: the next publish flips */
void
sliding_stacks_forget(ViewPlan *plan)
{
	free_groups(plan->state->slide_back);
	plan->state->slide_back = NULL;
}

/*
 * sliding_stacks_abandon forgets the stacks of a publish that failed
 * half-way, and the extras its groups were to take.
 */
void
sliding_stacks_abandon(ViewPlan *plan)
{
	HASH_SEQ_STATUS status;
	WindowGroups *wg;

	if (plan->window.kind != WINDOW_SLIDING)
		return;
	sliding_stacks_forget(plan);
	hash_seq_init(&status, plan->state->windows);
	while ((wg = hash_seq_search(&status)) != NULL)
	{
		TupleHashIterator it;
		TupleHashEntry entry;

		InitTupleHashIterator(wg->groups, &it);
		while ((entry = ScanTupleHashTable(wg->groups, &it)) != NULL)
			((ViewGroup *) entry->additional)->extra_publish = 0;
	}
}
