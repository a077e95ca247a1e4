/*-------------------------------------------------------------------------
 *
 * view_query.h
 *	  A continuous view's query as create_view is given it: parsed, analysed,
 *	  checked for what a continuous view can maintain, and deparsed with
 *	  every name qualified.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_VIEW_QUERY_H
#define STREAMEXT_VIEW_QUERY_H

#include "nodes/parsenodes.h"

extern void report_in_query(const char *query_text);
extern Query *view_def_analyze(const char *query_text, Oid *stream_relid, bool restored);
extern Query *view_def_analyze_distributed(const char *query_text, Oid *relid);
extern char *deparse_qualified_query(Query *query);
extern char *deparse_qualified_expr(Node *expr, Oid relid);
extern int	pin_empty_search_path(void);

#endif							/* STREAMEXT_VIEW_QUERY_H */
