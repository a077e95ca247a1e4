/*-------------------------------------------------------------------------
 *
 * view_source.h
 *	  Views on views: the rows of a lower view's closed windows as the
 *	  events of an upper view, and the upper windows computed again when
 *	  the lower view corrects a row.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_VIEW_SOURCE_H
#define STREAMEXT_VIEW_SOURCE_H

#include "view_plan.h"
#include "window_sink.h"

extern bool view_source_behind(ViewPlan *plan, List *plans);
extern TimestampTz view_source_idle_closed_upto(ViewPlan *plan);
extern void view_source_catch_up(ViewPlan *plan, List *plans);
extern TimestampTz view_source_taken_from(ViewPlan *lower, List *plans);
extern void view_source_recompute(ViewPlan *plan, List *plans, WindowSink *sink);
extern void view_source_note_correction(ViewPlan *plan, TimestampTz start);
extern void view_source_forget_corrections(ViewPlan *plan);

#endif							/* STREAMEXT_VIEW_SOURCE_H */
