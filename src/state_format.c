/*-------------------------------------------------------------------------
 *
 * state_format.c
 *	  The bytes of a group.  A key is its columns' values in the key type's
 *	  binary form.  States are a version byte, then each aggregate's state as
 *	  agg_state.c serialises it.  A blob (what shared memory publishes for
 *	  readers) is: window start and end, key length, key, extra length,
 *	  extra (what readers of a sliding view combine instead of panes, see
 *	  sliding_stacks.c; empty elsewhere), states.
 *	  open_state stores key and states in their own columns, closed_N the
 *	  states of each row.
 *
 *	  0.1 wrote states without the version byte; their first byte is an
 *	  aggregate's flag (0, 1 or 2), never STATES_FORMAT_1, so both read.  A
 *	  key has no version byte: its bytes are the group's identity in
 *	  open_state and closed_N, compared as they are.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/executor.h"
#include "libpq/pqformat.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"

#include "agg_state.h"
#include "datum_bytes.h"
#include "state_format.h"

/* the first byte of states written since 0.2 */
#define STATES_FORMAT_1 ((char) 0xF1)
/* the greatest first byte of states written by 0.1: an aggregate's flag */
#define STATES_FORMAT_0_MAX 2
#include "view_plan.h"
#include "view_state.h"

/*
 * group_key_serialize writes the group key in keyslot in datumSerialize()
 * format: the identity of a group on disk and in shared memory.
 */
void
group_key_serialize(ViewPlan *plan, TupleTableSlot *keyslot, StringInfo buf)
{
	int			n = Max(plan->nkeys, 1);
	int			i;

	slot_getallattrs(keyslot);
	for (i = 0; i < n; i++)
	{
		Form_pg_attribute att = TupleDescAttr(plan->keydesc, i);

		append_datum_bytes(buf, keyslot->tts_values[i], keyslot->tts_isnull[i],
						   att->attbyval, att->attlen);
	}
}

/*
 * group_key_deserialize restores a key written by group_key_serialize into
 * keyslot, as a virtual tuple allocated in the current memory context.
 */
void
group_key_deserialize(ViewPlan *plan, const char *data, Size len,
					  TupleTableSlot *keyslot)
{
	int			n = Max(plan->nkeys, 1);
	char	   *p = (char *) data;
	int			i;

	ExecClearTuple(keyslot);
	for (i = 0; i < n; i++)
		keyslot->tts_values[i] = datumRestore(&p, &keyslot->tts_isnull[i]);
	if (p != data + len)
		elog(ERROR, "streamext: malformed group key");
	ExecStoreVirtualTuple(keyslot);
}

/*
 * state_blob_assemble makes a blob of a group's parts as open_state keeps
 * them (a key and states serialised before), for readers of a checkpoint.
 */
void
state_blob_assemble(TimestampTz wstart, TimestampTz wend, const char *key, uint32 keylen,
					const char *states, Size stateslen, StringInfo buf)
{
	uint32		extralen = 0;

	appendBinaryStringInfo(buf, (char *) &wstart, sizeof(TimestampTz));
	appendBinaryStringInfo(buf, (char *) &wend, sizeof(TimestampTz));
	appendBinaryStringInfo(buf, (char *) &keylen, sizeof(uint32));
	appendBinaryStringInfo(buf, key, keylen);
	appendBinaryStringInfo(buf, (char *) &extralen, sizeof(uint32));
	appendBinaryStringInfo(buf, states, stateslen);
}

/*
 * state_blob_build serialises one group: window start and end, key length,
 * key, extra length, extra (extralen bytes, may be 0), states.  The same
 * bytes go to shared memory; open_state stores the key and states parts in
 * their own columns.
 */
void
state_blob_build(ViewPlan *plan, TimestampTz wstart, TimestampTz wend,
				 ViewGroup *gs, const char *extra, uint32 extralen, StringInfo buf)
{
	uint32		keylen;
	int			keypos;

	appendBinaryStringInfo(buf, (char *) &wstart, sizeof(TimestampTz));
	appendBinaryStringInfo(buf, (char *) &wend, sizeof(TimestampTz));
	keypos = buf->len;
	appendBinaryStringInfo(buf, (char *) &keypos, sizeof(uint32));
	ExecStoreMinimalTuple(gs->key, plan->keyslot, false);
	group_key_serialize(plan, plan->keyslot, buf);
	keylen = buf->len - keypos - sizeof(uint32);
	memcpy(buf->data + keypos, &keylen, sizeof(uint32));
	appendBinaryStringInfo(buf, (char *) &extralen, sizeof(uint32));
	if (extralen > 0)
		appendBinaryStringInfo(buf, extra, extralen);
	states_write(plan, gs->values, buf, CurrentMemoryContext);
}

/*
 * state_blob_parts splits what state_blob_build wrote.
 */
void
state_blob_parts(const char *blob, Size len, BlobParts *parts)
{
	const char *p = blob;

	memcpy(&parts->start, p, sizeof(TimestampTz));
	p += sizeof(TimestampTz);
	memcpy(&parts->end, p, sizeof(TimestampTz));
	p += sizeof(TimestampTz);
	memcpy(&parts->keylen, p, sizeof(uint32));
	p += sizeof(uint32);
	parts->key = p;
	p += parts->keylen;
	memcpy(&parts->extralen, p, sizeof(uint32));
	p += sizeof(uint32);
	parts->extra = p;
	p += parts->extralen;
	parts->states = p;
	parts->stateslen = len - (p - blob);
}

/*
 * bytes_to_bytea wraps serialised bytes as a bytea datum.
 */
bytea *
bytes_to_bytea(const char *data, Size len)
{
	bytea	   *result = palloc(VARHDRSZ + len);

	SET_VARSIZE(result, VARHDRSZ + len);
	memcpy(VARDATA(result), data, len);
	return result;
}

/*
 * states_write appends the states of a group's aggregates to buf.  The
 * view's serial functions may run: behind its owner's gate (agg_state.c).
 */
void
states_write(ViewPlan *plan, AggValue *values, StringInfo buf, MemoryContext cxt)
{
	appendStringInfoChar(buf, STATES_FORMAT_1);
	agg_serialize_states(&plan->aggs, values, buf, cxt);
}

/*
 * states_read restores the states states_write wrote (or 0.1 did) into
 * values, allocated in cxt.
 */
void
states_read(ViewPlan *plan, const char *data, Size len, AggValue *values,
			MemoryContext cxt)
{
	if (len > 0 && data[0] == STATES_FORMAT_1)
	{
		data++;
		len--;
	}
	else if (len > 0 && (unsigned char) data[0] > STATES_FORMAT_0_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("streamext: states of continuous view \"%s\" are in an unknown format %d",
						plan->name, (unsigned char) data[0]),
				 errhint("Rebuild the view with streamext.rebuild_view('%s').", plan->name)));
	agg_deserialize_states(&plan->aggs, data, len, values, cxt);
}
