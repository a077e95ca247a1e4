/*-------------------------------------------------------------------------
 *
 * datum_bytes.h
 *	  A datum appended to a StringInfo in datumSerialize() format: how a
 *	  group's key, its aggregate states and a DISTINCT set are written.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_DATUM_BYTES_H
#define STREAMEXT_DATUM_BYTES_H

#include "lib/stringinfo.h"
#include "utils/datum.h"

static inline void
append_datum_bytes(StringInfo buf, Datum value, bool isnull, bool typbyval, int typlen)
{
	Size		sz = datumEstimateSpace(value, isnull, typbyval, typlen);
	char	   *p;

	enlargeStringInfo(buf, sz);
	p = buf->data + buf->len;
	datumSerialize(value, isnull, typbyval, typlen, &p);
	buf->len += sz;
	buf->data[buf->len] = '\0';
}

#endif							/* STREAMEXT_DATUM_BYTES_H */
