/*-------------------------------------------------------------------------
 *
 * state_format.h
 *	  The bytes of a group: its key and its states, as open_state persists
 *	  them and as shared memory publishes them for readers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_STATE_FORMAT_H
#define STREAMEXT_STATE_FORMAT_H

#include "lib/stringinfo.h"
#include "view_state.h"

/* a serialised group, as state_blob_build writes it */
typedef struct BlobParts
{
	TimestampTz start;
	TimestampTz end;
	const char *key;
	uint32		keylen;
	const char *extra;
	uint32		extralen;
	const char *states;
	Size		stateslen;
} BlobParts;

extern void group_key_serialize(ViewPlan *plan, TupleTableSlot *keyslot,
								StringInfo buf);
extern void group_key_deserialize(ViewPlan *plan, const char *data, Size len,
								  TupleTableSlot *keyslot);
extern void state_blob_build(ViewPlan *plan, TimestampTz wstart, TimestampTz wend,
							 ViewGroup *gs, const char *extra, uint32 extralen,
							 StringInfo buf);
extern void state_blob_assemble(TimestampTz wstart, TimestampTz wend, const char *key,
								uint32 keylen, const char *states, Size stateslen,
								StringInfo buf);
extern void state_blob_parts(const char *blob, Size len, BlobParts *parts);
extern void states_write(ViewPlan *plan, AggValue *values, StringInfo buf,
						 MemoryContext cxt);
extern void states_read(ViewPlan *plan, const char *data, Size len, AggValue *values,
						MemoryContext cxt);
extern bytea *bytes_to_bytea(const char *data, Size len);

#endif							/* STREAMEXT_STATE_FORMAT_H */
