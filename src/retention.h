/*-------------------------------------------------------------------------
 *
 * retention.h
 *	  Retention of streams: partitions by event time, created ahead and
 *	  dropped once expired, as the stream's owner.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_RETENTION_H
#define STREAMEXT_RETENTION_H

#include "access/attnum.h"
#include "datatype/timestamp.h"

extern int64 retention_usecs(Interval *retention);
extern void retention_check_partitioning(Oid relid, AttrNumber time_attno);
extern void retention_ensure_partitions(Oid root, AttrNumber time_attno,
										int64 retention_usec, TimestampTz now,
										bool may_move);
extern void retention_maintain(void);

#endif							/* STREAMEXT_RETENTION_H */
