/*-------------------------------------------------------------------------
 *
 * commands.h
 *	  What the SQL functions that define continuous views (commands.c) share
 *	  with replace_view (view_replace.c): the definition they are given,
 *	  checked, the closed-window table and the query of the user's view, and
 *	  the computation of a view from its stream.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_COMMANDS_H
#define STREAMEXT_COMMANDS_H

#include "fmgr.h"
#include "datatype/timestamp.h"
#include "nodes/parsenodes.h"

#include "catalog.h"
#include "window.h"

/* a continuous view's definition as create_view and replace_view take it */
typedef struct ViewDefinition
{
	char	   *query_text;		/* as the user wrote it */
	Query	   *query;			/* analysed */
	Oid			stream_relid;
	char	   *window_text;	/* NULL: no window */
	char	   *time_zone;		/* the zone's name, or NULL */
	WindowSpec	spec;
	bool		closes;			/* windows close into a closed-window table */
	char	   *cols;			/* the typed columns of the view's rows */
	Interval   *lateness;
	Interval   *retention;		/* NULL: closed windows kept for ever */
} ViewDefinition;

extern void view_definition_read(FunctionCallInfo fcinfo, ViewDefinition *def);
extern void view_definition_to_row(const ViewDefinition *def, ViewCatalogRow *row);
extern Oid	create_closed_table(const char *name, const ViewDefinition *def, Oid reader);
extern char *view_relation_query(const ViewDefinition *def, Oid closed_relid, int32 id);
extern void compute_and_persist(const ViewCatalogRow *row, TimestampTz closed_upto,
								TimestampTz floor);
/*
 * How long rebuild_view and replace_view wait for the worker to apply the
 * events committed before them (view_read_wait_applied)
 */
#define APPLIED_WAIT_MS 30000

extern TimestampTz closed_horizon(const ViewCatalogRow *row, const WindowSpec *next);
extern void lock_events(Oid stream_relid, Query *query);
extern void check_retention_under_views(const char *name, List *uppers);
extern void rebuild_views_reading(Oid view_relid);

#endif							/* STREAMEXT_COMMANDS_H */
