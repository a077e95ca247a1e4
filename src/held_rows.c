/*-------------------------------------------------------------------------
 *
 * held_rows.c
 *	  Closed rows a checkpoint holds back from subscribers until it has
 *	  written every row of a view.
 *
 *	  A checkpoint may write a closed row and take it out again before it
 *	  commits: the late events of two panes of one hopping or cumulating
 *	  window each combine into its row, two late events of one key join one
 *	  closed session.  Subscribers must get the row once, as it is at the
 *	  commit, not each state on the way (which no reader ever saw).  So the
 *	  rows a view's closing writes are held here, in order, a row taken out
 *	  again is forgotten, and the rest go to the subscriptions at the end.
 *	  Rows that fail HAVING are held too, not to be delivered: a row that
 *	  replaces one of them is still new to subscribers.
 *
 *	  A closed window of a view on a view that is computed again whole
 *	  (view_source.c) has its rows replaced, most of them by the same
 *	  states: the rows it had are noted first, and a row equal to its
 *	  prior one is not held, so subscribers get only the groups that
 *	  changed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "common/hashfn.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "held_rows.h"

/* a row held back, by its window and group */
typedef struct HeldRow
{
	TimestampTz start;
	TimestampTz end;
	bytea	   *group;
	HeapTuple	tuple;			/* the view's output columns */
	bool		deliver;		/* it passed HAVING */
	bool		correction;		/* it replaces a row subscribers had */
	bool		late;			/* late events made it */
	bool		forgotten;		/* taken out again */
} HeldRow;

/* a row of a window computed again, as it was (held_rows_note_prior) */
typedef struct PriorRow
{
	bytea	   *group;
	bytea	   *state;			/* its transition states, serialised */
	bool		having;
} PriorRow;

/* the rows of one window and group hash (several on a hash collision) */
typedef struct HeldKey
{
	TimestampTz start;
	TimestampTz end;
	uint32		group_hash;
} HeldKey;

typedef struct HeldEntry
{
	HeldKey		key;
	List	   *rows;			/* HeldRow, or PriorRow in prior */
} HeldEntry;

struct HeldRows
{
	ViewPlan   *plan;
	MemoryContext cxt;
	List	   *order;			/* HeldRow, as written */
	HTAB	   *by_key;
	HTAB	   *prior;			/* rows of windows computed again, or NULL */
};

static void held_key(HeldKey *key, TimestampTz start, TimestampTz end, bytea *group);
static bool same_bytes(bytea *a, bytea *b);
static HTAB *held_hash(MemoryContext cxt);
static void entry_append(HTAB *table, TimestampTz start, TimestampTz end, bytea *group,
						 void *row);

/*
 * held_rows_create makes an empty hold for plan's rows in a memory
 * context under parent, which held_rows_release deletes.
 */
HeldRows *
held_rows_create(ViewPlan *plan, MemoryContext parent)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "streamext held rows",
											  ALLOCSET_DEFAULT_SIZES);
	HeldRows   *held = MemoryContextAllocZero(cxt, sizeof(HeldRows));

	held->plan = plan;
	held->cxt = cxt;
	held->by_key = held_hash(cxt);
	return held;
}

/* held_hash makes a table of HeldEntry by HeldKey in cxt */
static HTAB *
held_hash(MemoryContext cxt)
{
	HASHCTL		hctl;

	hctl.keysize = sizeof(HeldKey);
	hctl.entrysize = sizeof(HeldEntry);
	hctl.hcxt = cxt;
	return hash_create("streamext held rows", 64, &hctl,
					   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* held_key is the hash table's key of a window and group */
static void
held_key(HeldKey *key, TimestampTz start, TimestampTz end, bytea *group)
{
	memset(key, 0, sizeof(HeldKey));
	key->start = start;
	key->end = end;
	key->group_hash = hash_bytes((const unsigned char *) VARDATA_ANY(group),
								 VARSIZE_ANY_EXHDR(group));
}

/* same_bytes says whether two byteas (group keys, states) are equal */
static bool
same_bytes(bytea *a, bytea *b)
{
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/* entry_append adds row to the entry of a window and group in table */
static void
entry_append(HTAB *table, TimestampTz start, TimestampTz end, bytea *group, void *row)
{
	HeldKey		key;
	HeldEntry  *entry;
	bool		found;

	held_key(&key, start, end, group);
	entry = hash_search(table, &key, HASH_ENTER, &found);
	if (!found)
		entry->rows = NIL;
	entry->rows = lappend(entry->rows, row);
}

/*
 * held_rows_add holds the row of group in the window [start, end): values
 * and nulls of the view's output columns, copied; deliver says whether it
 * passed HAVING.
 */
void
held_rows_add(HeldRows *held, TimestampTz start, TimestampTz end, bytea *group,
			  Datum *values, bool *nulls, bool deliver, bool correction, bool late)
{
	MemoryContext old = MemoryContextSwitchTo(held->cxt);
	HeldRow    *row = palloc(sizeof(HeldRow));

	row->start = start;
	row->end = end;
	row->group = DatumGetByteaPCopy(PointerGetDatum(group));
	row->tuple = heap_form_tuple(held->plan->outdesc, values, nulls);
	row->deliver = deliver;
	row->correction = correction;
	row->late = late;
	row->forgotten = false;
	held->order = lappend(held->order, row);
	entry_append(held->by_key, start, end, group, row);
	MemoryContextSwitchTo(old);
}

/*
 * held_rows_forget forgets the row held for group in [start, end), taken
 * out of the closed table again.  It says whether subscribers had never
 * had that window and group (the row would have reached them as a window,
 * or not at all): then the row that replaces it is new to them too.
 */
bool
held_rows_forget(HeldRows *held, TimestampTz start, TimestampTz end, bytea *group)
{
	HeldKey		key;
	HeldEntry  *entry;
	ListCell   *lc;

	held_key(&key, start, end, group);
	entry = hash_search(held->by_key, &key, HASH_FIND, NULL);
	if (entry == NULL)
		return false;
	foreach(lc, entry->rows)
	{
		HeldRow    *row = lfirst(lc);

		if (!row->forgotten && same_bytes(row->group, group))
		{
			row->forgotten = true;
			return !row->correction;
		}
	}
	return false;
}

/*
 * held_rows_note_prior notes the row group had in the window [start, end)
 * before the window is computed again: its serialised states and whether
 * it passed HAVING.
 */
void
held_rows_note_prior(HeldRows *held, TimestampTz start, TimestampTz end, bytea *group,
					 bytea *state, bool having)
{
	MemoryContext old = MemoryContextSwitchTo(held->cxt);
	PriorRow   *row = palloc(sizeof(PriorRow));

	if (held->prior == NULL)
		held->prior = held_hash(held->cxt);
	row->group = DatumGetByteaPCopy(PointerGetDatum(group));
	row->state = DatumGetByteaPCopy(PointerGetDatum(state));
	row->having = having;
	entry_append(held->prior, start, end, group, row);
	MemoryContextSwitchTo(old);
}

/*
 * held_rows_same_as_prior says whether group's row in [start, end), computed
 * again, has the states and HAVING its prior row had: subscribers have it.
 */
bool
held_rows_same_as_prior(HeldRows *held, TimestampTz start, TimestampTz end, bytea *group,
						bytea *state, bool having)
{
	HeldKey		key;
	HeldEntry  *entry;
	ListCell   *lc;

	if (held->prior == NULL)
		return false;
	held_key(&key, start, end, group);
	entry = hash_search(held->prior, &key, HASH_FIND, NULL);
	if (entry == NULL)
		return false;
	foreach(lc, entry->rows)
	{
		PriorRow   *row = lfirst(lc);

		if (same_bytes(row->group, group))
			return row->having == having && same_bytes(row->state, state);
	}
	return false;
}

/*
 * held_rows_release hands the rows not taken out again to listener, in the
 * order they were written, and frees the hold.
 */
void
held_rows_release(HeldRows *held, ClosedRowListener listener)
{
	int			natts = held->plan->outdesc->natts;
	Datum	   *values = palloc(sizeof(Datum) * Max(natts, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(natts, 1));
	ListCell   *lc;

	foreach(lc, held->order)
	{
		HeldRow    *row = lfirst(lc);

		if (row->forgotten || !row->deliver)
			continue;
		heap_deform_tuple(row->tuple, held->plan->outdesc, values, nulls);
		listener(held->plan, values, nulls, row->correction, row->late);
	}
	pfree(values);
	pfree(nulls);
	MemoryContextDelete(held->cxt);
}
