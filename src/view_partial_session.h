/*-------------------------------------------------------------------------
 *
 * view_partial_session.h
 *	  Partial states of a session view for a streamed transaction: runs of
 *	  its events per group, placed among the view's sessions at the commit.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_VIEW_PARTIAL_SESSION_H
#define STREAMEXT_VIEW_PARTIAL_SESSION_H

#include "view_partial.h"

extern void view_partial_session_fold(ViewPartial *vp, TupleTableSlot *event);
extern void view_partial_session_place(ViewPartial *vp, TimestampTz commit_time,
									   XLogRecPtr end_lsn);

#endif							/* STREAMEXT_VIEW_PARTIAL_SESSION_H */
