/*-------------------------------------------------------------------------
 *
 * stream_ddl.h
 *	  What DDL may do to a stream: the checks the utility hook runs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_STREAM_DDL_H
#define STREAMEXT_STREAM_DDL_H

#include "nodes/nodes.h"
#include "storage/lockdefs.h"

extern void stream_ddl_check(Node *parsetree);
extern void stream_ddl_allow_maintenance(bool allow);
extern void stream_ddl_allow_view_replace(bool allow);
extern void stream_check_decodable(Oid relid, Oid stream, LOCKMODE lockmode,
								   bool creating);

#endif							/* STREAMEXT_STREAM_DDL_H */
