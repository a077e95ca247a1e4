/*-------------------------------------------------------------------------
 *
 * window_session.h
 *	  Session windows: an event extends, starts or merges its group's
 *	  sessions; a session closes when the watermark passes its last event
 *	  plus the gap.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_WINDOW_SESSION_H
#define STREAMEXT_WINDOW_SESSION_H

#include "window_sink.h"

extern void session_apply_event(ViewPlan *plan, TimestampTz t);
extern void session_note_late(ViewPlan *plan, TimestampTz t);
extern void session_place_interval(ViewPlan *plan, TimestampTz start, TimestampTz last,
								   AggValue *values, XLogRecPtr end_lsn);
extern ViewGroup *session_new(ViewPlan *plan, WindowGroups *wg, TupleHashEntry entry,
							  TimestampTz start, TimestampTz last);
extern void session_close_due(ViewPlan *plan, TimestampTz watermark, WindowSink *sink);

#endif							/* STREAMEXT_WINDOW_SESSION_H */
