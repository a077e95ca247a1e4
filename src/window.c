/*-------------------------------------------------------------------------
 *
 * window.c
 *	  Window kinds of a continuous view: parsing the window argument of
 *	  create_view and assigning an event time to its window.  Windows are
 *	  aligned to 2000-01-01 00:00 UTC, PostgreSQL's timestamp epoch, as
 *	  date_bin(size, t, '2000-01-01 00:00+00') does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "streamext.h"

static void window_error(const char *text, const char *detail);

/*
 * interval_usecs is an interval without months in microseconds.
 */
int64
interval_usecs(const Interval *iv)
{
	return iv->time + (int64) iv->day * USECS_PER_DAY;
}

/*
 * window_parse turns NULL, 'tumbling <interval>' into a WindowSpec, or
 * raises an error that says what is accepted.
 */
void
window_parse(const char *text, WindowSpec *spec)
{
	const char *p;
	Interval   *iv;
	Datum		d;

	memset(spec, 0, sizeof(WindowSpec));
	if (text == NULL)
	{
		spec->kind = WINDOW_NONE;
		return;
	}

	p = text;
	while (*p == ' ')
		p++;
	if (pg_strncasecmp(p, "tumbling", 8) != 0 || (p[8] != ' ' && p[8] != '\t'))
		window_error(text, "The window must be NULL or 'tumbling <interval>'.");
	p += 8;

	PG_TRY();
	{
		d = DirectFunctionCall3(interval_in, CStringGetDatum(p),
								ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	}
	PG_CATCH();
	{
		FlushErrorState();
		window_error(text, "The size of a tumbling window must be an interval such as '1 minute'.");
	}
	PG_END_TRY();
	iv = DatumGetIntervalP(d);
	if (iv->month != 0)
		window_error(text, "Windows cannot be sized in months or years, whose length varies.");
	spec->size_usec = interval_usecs(iv);
	if (spec->size_usec <= 0)
		window_error(text, "The size of a window must be positive.");
	spec->kind = WINDOW_TUMBLING;
}

/*
 * window_error reports a window argument that cannot be parsed.
 */
static void
window_error(const char *text, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid window \"%s\"", text),
			 errdetail("%s", detail),
			 errhint("Examples: NULL, 'tumbling 1 minute', 'tumbling 10 seconds'.")));
}

/*
 * window_start_for returns the start of the window holding event time t.
 * Timestamps count microseconds from 2000-01-01 UTC, so the alignment is a
 * floor division.
 */
TimestampTz
window_start_for(const WindowSpec *spec, TimestampTz t)
{
	int64		r;

	if (spec->kind == WINDOW_NONE)
		return WINDOW_UNBOUNDED_START;
	if (TIMESTAMP_NOT_FINITE(t))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("event time is infinite"),
				 errhint("Events of a windowed view need a finite event time.")));
	r = t % spec->size_usec;
	if (r < 0)
		r += spec->size_usec;
	return t - r;
}

/*
 * window_end_for returns the end of the window starting at start.
 */
TimestampTz
window_end_for(const WindowSpec *spec, TimestampTz start)
{
	if (spec->kind == WINDOW_NONE)
		return DT_NOEND;
	return start + spec->size_usec;
}
