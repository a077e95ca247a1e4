/*-------------------------------------------------------------------------
 *
 * window_sink.h
 *	  WindowSink: where the window layer writes what closing windows and
 *	  sessions produce.  The checkpoint implements it in its transaction;
 *	  the window layer only decides.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_WINDOW_SINK_H
#define STREAMEXT_WINDOW_SINK_H

#include "view_state.h"

typedef struct WindowSink WindowSink;

/* a closed row taken back out, because late events join it (sessions) */
typedef struct TakenRow
{
	TimestampTz start;
	TimestampTz end;
	bytea	   *states;
} TakenRow;

struct WindowSink
{
	TransactionId xid;			/* what is written commits with this */
	MemoryContext cxt;			/* per row, reset by the window layer */

	/*
	 * The row of one group of a closed window.  With combine, late events are
	 * added to the row written before.  values may be finalised in place.
	 * Resets cxt when done.
	 */
	void		(*closed_row) (WindowSink *sink, ViewPlan *plan, TimestampTz start,
							   TimestampTz end, MinimalTuple key, AggValue *values,
							   bool combine, bool as_correction);
	/* the closed rows of key's group that overlap (from, to), taken out */
	List	   *(*take_closed_rows) (WindowSink *sink, ViewPlan *plan, MinimalTuple key,
									 TimestampTz from, TimestampTz to);
	/*
	 * Late events of [start, end) of key's group could not be merged with
	 * what they join: the rows taken out go back, the events are set aside.
	 */
	void		(*late_failed) (WindowSink *sink, ViewPlan *plan, TimestampTz start,
								TimestampTz end, MinimalTuple key, ErrorData *error);
	/* the persisted open states of a pane, or of one group (key not NULL) */
	void		(*open_rows_gone) (WindowSink *sink, ViewPlan *plan, TimestampTz start,
								   bytea *key);
	/* published groups that left memory: readers see them until commit */
	void		(*window_retired) (WindowSink *sink, ViewPlan *plan, WindowGroups *wg);
	void		(*group_retired) (WindowSink *sink, ViewPlan *plan, int64 gid);
	/* every closed row of the window [start, end), deleted */
	void		(*closed_window_dropped) (WindowSink *sink, ViewPlan *plan, TimestampTz start,
										  TimestampTz end);
};

#endif							/* STREAMEXT_WINDOW_SINK_H */
