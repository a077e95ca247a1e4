/*-------------------------------------------------------------------------
 *
 * window.h
 *	  Window kinds and their arithmetic: which pane an event time falls in,
 *	  which windows a pane belongs to, when they close.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_WINDOW_H
#define STREAMEXT_WINDOW_H

#include "datatype/timestamp.h"

typedef enum WindowKind
{
	WINDOW_NONE,				/* one running aggregate over the whole stream */
	WINDOW_TUMBLING,
	WINDOW_HOPPING,
	WINDOW_SLIDING,
	WINDOW_SESSION,
	WINDOW_CUMULATE
} WindowKind;

/* how the boundaries of calendar windows or panes are counted */
typedef enum WindowUnit
{
	WINDOW_UNIT_USEC,			/* a fixed length, from origin_usec */
	WINDOW_UNIT_LOCAL_USEC,		/* hours and less on the zone's wall clock */
	WINDOW_UNIT_DAY,			/* days of the zone's calendar */
	WINDOW_UNIT_MONTH			/* months of the zone's calendar */
} WindowUnit;

/* the boundaries of calendar windows, or of their panes */
typedef struct WindowGrid
{
	WindowUnit	unit;
	int64		count;			/* microseconds, days or months */
} WindowGrid;

/* one window: [start, end) */
typedef struct WindowBounds
{
	TimestampTz start;
	TimestampTz end;
} WindowBounds;

typedef struct WindowSpec
{
	WindowKind	kind;
	int64		size_usec;		/* width of a window; a session's gap */
	int64		pane_usec;		/* states are kept per pane this wide */
	int64		origin_usec;	/* fixed widths are aligned to this instant */

	/*
	 * Calendar windows: sized in months, or in a time zone whose offset
	 * changes, so that a day or a month has no fixed width.  Widths are then
	 * the grids below, counted in tz.
	 */
	bool		calendar;
	struct pg_tz *tz;			/* the time_zone argument; NULL: none */
	WindowGrid	size;
	WindowGrid	pane;
	Interval	size_span;		/* a hopping window's length */
	TimestampTz first_event_time;	/* the event times its windows can */
	TimestampTz last_event_time;	/* hold: window_time_in_range */
	struct WindowMemo *memo;	/* the last pane's bounds, per event */
} WindowSpec;

#define WINDOW_UNBOUNDED_START DT_NOBEGIN

extern void window_parse(const char *text, const char *time_zone, WindowSpec *spec);
extern char *window_zone_name(const char *time_zone);
extern bool window_has_columns(const WindowSpec *spec);
extern bool window_closes(const WindowSpec *spec);
extern void window_check_new(const char *text, const WindowSpec *spec);
extern bool window_time_in_range(const WindowSpec *spec, TimestampTz t);
extern void window_check_event_time(const WindowSpec *spec, TimestampTz t);
extern TimestampTz window_session_span(const WindowSpec *spec, TimestampTz t);
extern TimestampTz window_pane_for(const WindowSpec *spec, TimestampTz t);
extern TimestampTz window_pane_end(const WindowSpec *spec, TimestampTz pane);
extern TimestampTz window_first_open_start(const WindowSpec *spec, TimestampTz closed_upto);
extern int	window_list_of_pane(const WindowSpec *spec, TimestampTz pane,
								TimestampTz after, TimestampTz upto,
								WindowBounds **windows);
extern int64 window_reach(const WindowSpec *spec);
extern int	window_holding_any(const WindowSpec *spec, const TimestampTz *panes,
							   int npanes, WindowBounds **windows);
extern int	window_bounds_cmp(const void *a, const void *b);
extern void window_period(const WindowSpec *spec, TimestampTz pane,
						  TimestampTz *start, TimestampTz *end);
extern TimestampTz window_pane_last_end(const WindowSpec *spec, TimestampTz pane);
extern TimestampTz window_pane_first_end(const WindowSpec *spec, TimestampTz pane);
extern TimestampTz window_next_end(const WindowSpec *spec, const TimestampTz *panes,
								   int npanes, TimestampTz after);
extern int	window_start_cmp(const void *a, const void *b);
extern bool window_pane_reaches(const WindowSpec *spec, TimestampTz pane, TimestampTz t);
extern bool window_pane_closed_by(const WindowSpec *spec, TimestampTz pane, TimestampTz t);
extern TimestampTz window_sliding_cutoff(const WindowSpec *spec, TimestampTz watermark);
extern int64 interval_usecs(const Interval *iv);

#endif							/* STREAMEXT_WINDOW_H */
