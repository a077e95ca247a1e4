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

typedef struct WindowSpec
{
	WindowKind	kind;
	int64		size_usec;		/* width of a window; a session's gap */
	int64		pane_usec;		/* states are kept per pane this wide */
} WindowSpec;

#define WINDOW_UNBOUNDED_START DT_NOBEGIN

extern void window_parse(const char *text, WindowSpec *spec);
extern bool window_has_columns(const WindowSpec *spec);
extern bool window_closes(const WindowSpec *spec);
extern TimestampTz window_pane_for(const WindowSpec *spec, TimestampTz t);
extern int	window_count_of_pane(const WindowSpec *spec, TimestampTz pane);
extern void window_of_pane(const WindowSpec *spec, TimestampTz pane, int i,
						   TimestampTz *start, TimestampTz *end);
extern TimestampTz window_pane_last_end(const WindowSpec *spec, TimestampTz pane);
extern TimestampTz window_pane_first_end(const WindowSpec *spec, TimestampTz pane);
extern TimestampTz window_sliding_cutoff(const WindowSpec *spec, TimestampTz watermark);
extern int64 interval_usecs(const Interval *iv);

#endif							/* STREAMEXT_WINDOW_H */
