/*-------------------------------------------------------------------------
 *
 * window_close.h
 *	  Closing windows: the windows the watermark has passed become rows, late
 *	  events correct the rows of windows closed before, and what leaves
 *	  memory is let go.  Everything is written to a WindowSink.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_WINDOW_CLOSE_H
#define STREAMEXT_WINDOW_CLOSE_H

#include "window_sink.h"

extern void window_close_due(ViewPlan *plan, TimestampTz watermark, WindowSink *sink);
extern void window_forget_pane(ViewPlan *plan, WindowSink *sink, TimestampTz pane);
extern void window_write_corrected_rows(ViewPlan *plan, WindowSink *sink, WindowGroups *wg,
										TimestampTz start, TimestampTz end);
extern void window_write_rows(ViewPlan *plan, WindowSink *sink, WindowGroups *wg,
							  TimestampTz start, TimestampTz end, bool combine);

#endif							/* STREAMEXT_WINDOW_CLOSE_H */
