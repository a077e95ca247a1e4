/*-------------------------------------------------------------------------
 *
 * window.c
 *	  Window kinds of a continuous view: parsing the window argument of
 *	  create_view, and the arithmetic of windows and panes.  Windows are
 *	  aligned to 2000-01-01 00:00 UTC, PostgreSQL's timestamp epoch, as
 *	  date_bin(size, t, '2000-01-01 00:00+00') does.
 *
 *	  Tumbling, hopping, cumulating and sliding windows keep their states in
 *	  panes: tumbling windows of the slide (or step), combined into windows
 *	  when a window is read or closed, so that an event updates one state
 *	  however many windows it belongs to.  Session windows are per group and
 *	  have no panes.
 *
 *	  Calendar windows (sized in months, or given a time_zone whose offset
 *	  changes) have no fixed width: a day is 23 or 25 hours when the clocks
 *	  change, a month 28 to 31 days.  Their boundaries are counted on the
 *	  zone's calendar with PostgreSQL's own time zone code, as date_trunc
 *	  and timestamptz + interval count them, from Monday 2000-01-03 00:00
 *	  local time (months from January 2000), as TimescaleDB's time_bucket
 *	  does.  A fixed-offset zone (UTC, Etc/GMT-5) keeps fixed widths, only
 *	  shifted.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/int.h"
#include "pgtime.h"
#include "parser/scansup.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "window.h"

#define WINDOW_EXAMPLES "Examples: 'tumbling 1 minute', 'hopping 10 minutes every 1 minute', " \
	"'sliding 5 minutes step 5 seconds', 'session 30 seconds', 'cumulate 1 day every 1 hour'."

/* calendar boundaries are counted from Monday 2000-01-03 00:00 local time */
#define LOCAL_ORIGIN_USEC (2 * USECS_PER_DAY)
#define LOCAL_ORIGIN_YEAR 2000

/* the bounds of the last pane an event fell in (calendar windows) */
typedef struct WindowMemo
{
	bool		valid;
	TimestampTz pane;
	TimestampTz end;
	TimestampTz own_end;		/* of a hopping window starting at pane, or DT_NOBEGIN */
	bool		ends_known;		/* first_end and last_end are set */
	TimestampTz first_end;
	TimestampTz last_end;
} WindowMemo;

/* a list of windows being made */
typedef struct WindowList
{
	WindowBounds *w;
	int			n;
	int			allocated;
	TimestampTz after;			/* only windows ending in (after, upto] */
	TimestampTz upto;
} WindowList;

static void window_error(const char *text, const char *detail);
static Interval parse_span(const char *window_text, const char *span, const char *what);
static pg_tz *zone_lookup(const char *time_zone);
static WindowGrid span_grid(const char *window_text, const Interval *iv, bool varying);
static bool grids_tile(const WindowGrid *size, const WindowGrid *pane);
static int64 floor_div(int64 a, int64 b);
static TimestampTz floor_to(TimestampTz t, int64 unit);
static void out_of_range(void);
static TimestampTz pane_holding(const WindowSpec *spec, TimestampTz t);
static int64 time_margin(const WindowSpec *spec, int reaches);
static void set_event_time_range(WindowSpec *spec);
static int64 zone_offset(pg_tz *tz, TimestampTz t);
static TimestampTz zone_next_change(pg_tz *tz, TimestampTz t);
static void zone_tm(pg_tz *tz, TimestampTz t, struct pg_tm *tm, fsec_t *fsec);
static TimestampTz zone_instant(pg_tz *tz, struct pg_tm *tm, fsec_t fsec);
static TimestampTz zone_add(pg_tz *tz, TimestampTz t, const Interval *span);
static int64 local_phase(TimestampTz local, int64 unit);
static TimestampTz local_floor(pg_tz *tz, int64 unit, TimestampTz t);
static TimestampTz local_next(pg_tz *tz, int64 unit, TimestampTz p);
static int64 calendar_index(const WindowGrid *g, const struct pg_tm *tm);
static TimestampTz calendar_instant(pg_tz *tz, const WindowGrid *g, int64 index);
static TimestampTz grid_floor(const WindowSpec *spec, const WindowGrid *g, TimestampTz t);
static TimestampTz grid_next(const WindowSpec *spec, const WindowGrid *g, TimestampTz p);
static bool pane_cut_by_size(const WindowSpec *spec);
static TimestampTz pane_floor(const WindowSpec *spec, TimestampTz t);
static TimestampTz pane_next(const WindowSpec *spec, TimestampTz p);
static TimestampTz hop_end(const WindowSpec *spec, TimestampTz w);
static WindowMemo *memo_of(const WindowSpec *spec, TimestampTz pane);
static WindowMemo *memo_ends(const WindowSpec *spec, TimestampTz pane);
static void list_add(WindowList *list, TimestampTz start, TimestampTz end);
static TimestampTz pane_start_of(const WindowSpec *spec, TimestampTz t);
static TimestampTz pane_next_end(const WindowSpec *spec, TimestampTz pane, TimestampTz after);

/*
 * The longest size or slide: 100,000 years, a third of the range of
 * timestamps, whose microseconds (and a month's 31 days) fit in an int64.
 */
#define MAX_SPAN_DAYS INT64CONST(36600000)
#define MAX_SPAN_MONTHS (MAX_SPAN_DAYS / 366 * MONTHS_PER_YEAR)

/*
 * interval_usecs is an interval without months in microseconds.
 */
int64
interval_usecs(const Interval *iv)
{
	return iv->time + (int64) iv->day * USECS_PER_DAY;
}

/*
 * window_parse turns the window and time_zone arguments of create_view into
 * a WindowSpec, or raises an error that says what is accepted.
 */
void
window_parse(const char *text, const char *time_zone, WindowSpec *spec)
{
	static const struct
	{
		const char *word;
		WindowKind	kind;
		const char *second;		/* word before the slide or step, or NULL */
		bool		second_required;
	}			kinds[] = {
		{"tumbling", WINDOW_TUMBLING, NULL, false},
		{"hopping", WINDOW_HOPPING, "every", true},
		{"sliding", WINDOW_SLIDING, "step", false},
		{"session", WINDOW_SESSION, NULL, false},
		{"cumulate", WINDOW_CUMULATE, "every", true},
	};
	char	   *copy;
	char	   *word;
	char	   *rest;
	char	   *second = NULL;
	int			i;
	Interval	size;
	Interval	pane;
	long		gmtoff = 0;
	bool		varying;

	memset(spec, 0, sizeof(WindowSpec));
	if (text == NULL)
	{
		if (time_zone != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("time_zone applies to windowed views"),
					 errhint("Give a window, e.g. \"window\" => 'tumbling 1 day', or leave time_zone out.")));
		spec->kind = WINDOW_NONE;
		return;
	}

	copy = pstrdup(text);
	word = copy + strspn(copy, " \t\n");
	rest = word + strcspn(word, " \t\n");
	if (*rest != '\0')
		*rest++ = '\0';
	for (i = 0; i < lengthof(kinds); i++)
		if (pg_strcasecmp(word, kinds[i].word) == 0)
			break;
	if (i == lengthof(kinds))
		window_error(text, "A window starts with tumbling, hopping, sliding, session or cumulate.");
	spec->kind = kinds[i].kind;

	if (kinds[i].second != NULL)
	{
		/* "<size> every <slide>": the last occurrence of the word */
		char	   *p = rest;
		char	   *found = NULL;
		size_t		len = strlen(kinds[i].second);

		while ((p = strchr(p, ' ')) != NULL)
		{
			p++;
			if (pg_strncasecmp(p, kinds[i].second, len) == 0 &&
				(p[len] == ' ' || p[len] == '\t'))
				found = p;
		}
		if (found != NULL)
		{
			found[-1] = '\0';
			second = found + len;
		}
		else if (kinds[i].second_required)
			window_error(text, psprintf("A %s window is '%s <size> %s <interval>'.",
										kinds[i].word, kinds[i].word, kinds[i].second));
	}

	size = parse_span(text, rest, "size");
	if (second != NULL)
		pane = parse_span(text, second, spec->kind == WINDOW_SLIDING ? "step" : "slide");
	else
		pane = size;

	if (time_zone != NULL)
	{
		spec->tz = zone_lookup(time_zone);
		if (spec->kind == WINDOW_SLIDING || spec->kind == WINDOW_SESSION)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s windows take no time zone", kinds[i].word),
					 errdetail("A %s window is a length of time back from its events, aligned to no calendar.",
							   kinds[i].word),
					 errhint("Leave time_zone out.")));
	}
	if ((spec->kind == WINDOW_SLIDING || spec->kind == WINDOW_SESSION) &&
		(size.month != 0 || pane.month != 0))
		window_error(text, psprintf("A %s window cannot be sized in months or years, whose length varies.",
									kinds[i].word));

	/* a zone whose offset never changes keeps fixed widths, shifted */
	varying = (spec->tz != NULL && !pg_get_timezone_offset(spec->tz, &gmtoff));
	if (spec->tz != NULL && !varying)
		spec->origin_usec = LOCAL_ORIGIN_USEC - (int64) gmtoff * USECS_PER_SEC;

	if (varying || size.month != 0 || pane.month != 0)
	{
		spec->calendar = true;
		/* months without a zone: UTC's calendar */
		if (spec->tz == NULL)
			spec->tz = zone_lookup("UTC");
		spec->size = span_grid(text, &size, varying);
		spec->pane = span_grid(text, &pane, varying);
		spec->size_span = size;
		if (!grids_tile(&spec->size, &spec->pane))
			window_error(text, "The slide must divide the size of the window on the calendar: months into "
						 "months, 1 day or hours that divide a day; days into days or hours that divide a "
						 "day; hours into hours.");
		spec->memo = palloc0(sizeof(WindowMemo));
		set_event_time_range(spec);
		pfree(copy);
		return;
	}

	spec->size_usec = interval_usecs(&size);
	switch (spec->kind)
	{
		case WINDOW_TUMBLING:
			spec->pane_usec = spec->size_usec;
			break;
		case WINDOW_SESSION:
			spec->pane_usec = 0;
			break;
		case WINDOW_SLIDING:
			if (second == NULL)
			{
				if (spec->size_usec % 60 != 0)
					window_error(text, "The default step of a sliding window is 1/60 of its size, which is not a whole number of microseconds here; give one with 'step <interval>'.");
				spec->pane_usec = spec->size_usec / 60;
				break;
			}
			/* FALLTHROUGH */
		default:
			spec->pane_usec = interval_usecs(&pane);
			if (spec->size_usec % spec->pane_usec != 0)
				window_error(text, psprintf("The %s must divide the size of the window.",
											spec->kind == WINDOW_SLIDING ? "step" : "slide"));
			break;
	}
	set_event_time_range(spec);
	pfree(copy);
}

/*
 * parse_span reads one interval of a window argument: positive, and in
 * months only if in nothing else.
 */
static Interval
parse_span(const char *window_text, const char *span, const char *what)
{
	Datum		d;
	Interval   *iv;
	bool		ok = true;

	if (span == NULL || span[strspn(span, " \t\n")] == '\0')
		window_error(window_text, psprintf("The %s of the window is missing, e.g. '1 minute'.", what));
	PG_TRY();
	{
		d = DirectFunctionCall3(interval_in, CStringGetDatum(span),
								ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	}
	PG_CATCH();
	{
		FlushErrorState();
		ok = false;
	}
	PG_END_TRY();
	if (!ok)
		window_error(window_text, psprintf("The %s of a window must be an interval such as '1 minute', not \"%s\".",
										   what, span));
	iv = DatumGetIntervalP(d);
	if (iv->month != 0 && (iv->day != 0 || iv->time != 0))
		window_error(window_text, psprintf("The %s of a window is in months (or years) or in days and less, not both.",
										   what));
	/* each field first, either sign: interval_usecs of two billion days overflows */
	if (iv->month < -MAX_SPAN_MONTHS || iv->day < -MAX_SPAN_DAYS ||
		iv->time < -MAX_SPAN_DAYS * USECS_PER_DAY)
		window_error(window_text, psprintf("The %s of a window must be positive.", what));
	if (iv->month > MAX_SPAN_MONTHS || iv->day > MAX_SPAN_DAYS ||
		iv->time > MAX_SPAN_DAYS * USECS_PER_DAY ||
		interval_usecs(iv) > MAX_SPAN_DAYS * USECS_PER_DAY)
		window_error(window_text, psprintf("The %s of a window is at most 100000 years: its windows must fit in PostgreSQL's range of timestamps, with room around them.",
										   what));
	if (iv->month < 0 || (iv->month == 0 && interval_usecs(iv) <= 0))
		window_error(window_text, psprintf("The %s of a window must be positive.", what));
	return *iv;
}

/*
 * zone_lookup finds a time zone by name, as SET timezone does: a view's
 * zone as the catalog keeps it (window_zone_name).
 */
static pg_tz *
zone_lookup(const char *time_zone)
{
	pg_tz	   *tz = (time_zone[0] == '\0') ? NULL : pg_tzset(time_zone);

	if (tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" not recognized", time_zone),
				 errhint("Use a name from pg_timezone_names, e.g. 'Europe/Paris' or 'UTC'.")));
	if (!pg_tz_acceptable(tz))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" appears to use leap seconds", time_zone),
				 errhint("PostgreSQL does not support leap seconds; use another name of the zone.")));
	return tz;
}

/*
 * window_zone_name checks a time_zone argument and returns the zone's name
 * as PostgreSQL spells it: what the catalog keeps.  The argument is read as
 * AT TIME ZONE and date_trunc read it, so that a view's windows are those
 * of plain SQL: a time zone abbreviation first (of the creating session's
 * timezone_abbreviations), then a zone's name.  'CET' is an abbreviation of
 * a fixed +01 there, though tzdb's zone CET has summer time: the catalog
 * keeps '<+01>-01'.  A name whose zone has the abbreviation's offset for
 * good (UTC, GMT) keeps its name; a dynamic abbreviation (one whose offset
 * changed in history) keeps its zone's.
 */
char *
window_zone_name(const char *time_zone)
{
	pg_tz	   *tz = NULL;

	if (time_zone[0] != '\0' && strlen(time_zone) <= TZ_STRLEN_MAX)
	{
		char	   *lower = downcase_truncate_identifier(time_zone, strlen(time_zone), false);
		int			offset_east;
		pg_tz	   *abbrev_zone;
		pg_tz	   *named = pg_tzset(time_zone);
		long		fixed_east;
		int			type = DecodeTimezoneAbbrev(0, lower, &offset_east, &abbrev_zone);

		if ((type == TZ || type == DTZ) &&
			!(named != NULL && pg_get_timezone_offset(named, &fixed_east) &&
			  fixed_east == offset_east))
			tz = pg_tzset_offset(-offset_east);
		else if (type == DYNTZ)
			tz = abbrev_zone;
	}
	if (tz == NULL)
		tz = zone_lookup(time_zone);
	return pstrdup(pg_get_timezone_name(tz));
}

/*
 * span_grid is how the boundaries of a calendar window's size or slide are
 * counted: in a zone whose offset changes, days are the zone's days and
 * hours its wall clock's.
 */
static WindowGrid
span_grid(const char *window_text, const Interval *iv, bool varying)
{
	WindowGrid	g;

	if (iv->month != 0)
	{
		g.unit = WINDOW_UNIT_MONTH;
		g.count = iv->month;
	}
	else if (!varying)
	{
		g.unit = WINDOW_UNIT_USEC;
		g.count = interval_usecs(iv);
	}
	else if (iv->day != 0 && iv->time != 0)
		window_error(window_text, "In a time zone, a size or slide is in days (or weeks) or in hours and less, not both: a day is 23 to 25 hours there.");
	else if (iv->day != 0)
	{
		if (iv->day < 0)
			window_error(window_text, "The size and slide of a window must be positive.");
		g.unit = WINDOW_UNIT_DAY;
		g.count = iv->day;
	}
	else
	{
		g.unit = WINDOW_UNIT_LOCAL_USEC;
		g.count = iv->time;
	}
	return g;
}

/*
 * grids_tile says whether every boundary of a calendar window is a boundary
 * of its panes, whatever the calendar does: panes must tile windows.
 */
static bool
grids_tile(const WindowGrid *size, const WindowGrid *pane)
{
	if (size->unit == pane->unit)
		return size->count % pane->count == 0;
	if (size->unit != WINDOW_UNIT_MONTH && size->unit != WINDOW_UNIT_DAY)
		return false;
	/* a month is whole days; a local midnight is on every grid of hours dividing a day */
	if (pane->unit == WINDOW_UNIT_DAY)
		return size->unit == WINDOW_UNIT_MONTH && pane->count == 1;
	if (pane->unit == WINDOW_UNIT_USEC || pane->unit == WINDOW_UNIT_LOCAL_USEC)
		return USECS_PER_DAY % pane->count == 0;
	return false;
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
			 errhint("%s", WINDOW_EXAMPLES)));
}

/*
 * window_has_columns says whether the view's rows start with window_start
 * and window_end: every kind but none and sliding.
 */
bool
window_has_columns(const WindowSpec *spec)
{
	return spec->kind != WINDOW_NONE && spec->kind != WINDOW_SLIDING;
}

/*
 * window_closes says whether the view's windows close into its closed-window
 * table.  A sliding window is never final: it forgets old panes instead.
 */
bool
window_closes(const WindowSpec *spec)
{
	return window_has_columns(spec);
}

/* floor_div is a / b rounded down */
static int64
floor_div(int64 a, int64 b)
{
	int64		q = a / b;

	if (a % b != 0 && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* floor_to is t rounded down to a multiple of unit from the epoch */
static TimestampTz
floor_to(TimestampTz t, int64 unit)
{
	int64		r = t % unit;

	if (r < 0)
		r += unit;
	return t - r;
}

/* out_of_range reports a window boundary PostgreSQL cannot represent */
static void
out_of_range(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("timestamp out of range"),
			 errhint("Events of a calendar window need an event time whose window PostgreSQL can represent.")));
}

/*
 * zone_offset is how far ahead of UTC the zone's wall clock is at t, in
 * microseconds.
 */
static int64
zone_offset(pg_tz *tz, TimestampTz t)
{
	pg_time_t	s = (pg_time_t) floor_div(t, USECS_PER_SEC) +
		(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
	struct pg_tm *tx = pg_localtime(&s, tz);

	if (tx == NULL)
		out_of_range();
	return (int64) tx->tm_gmtoff * USECS_PER_SEC;
}

/*
 * zone_next_change is the zone's first change of rules after t, or DT_NOEND.
 */
static TimestampTz
zone_next_change(pg_tz *tz, TimestampTz t)
{
	pg_time_t	s = (pg_time_t) floor_div(t, USECS_PER_SEC) +
		(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
	pg_time_t	boundary;
	long		before_gmtoff;
	long		after_gmtoff;
	int			before_isdst;
	int			after_isdst;

	if (pg_next_dst_boundary(&s, &before_gmtoff, &before_isdst, &boundary,
							 &after_gmtoff, &after_isdst, tz) <= 0)
		return DT_NOEND;
	return (TimestampTz) (boundary - (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY) *
		USECS_PER_SEC;
}

/* zone_tm is t on the zone's calendar and wall clock */
static void
zone_tm(pg_tz *tz, TimestampTz t, struct pg_tm *tm, fsec_t *fsec)
{
	int			tzoff;

	if (timestamp2tm(t, &tzoff, tm, fsec, NULL, tz) != 0)
		out_of_range();
}

/*
 * zone_instant is the instant a local time of the zone names, resolved as
 * PostgreSQL resolves '... 02:30'::timestamp AT TIME ZONE zone when the
 * clocks skip or repeat it.
 */
static TimestampTz
zone_instant(pg_tz *tz, struct pg_tm *tm, fsec_t fsec)
{
	int			tzoff = DetermineTimeZoneOffset(tm, tz);
	TimestampTz result;

	if (tm2timestamp(tm, fsec, &tzoff, &result) != 0)
		out_of_range();
	return result;
}

/*
 * zone_add is t + span as timestamptz + interval computes it with the
 * session's TimeZone set to the zone: months, then days on the zone's
 * calendar, then time.
 */
static TimestampTz
zone_add(pg_tz *tz, TimestampTz t, const Interval *span)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (span->month != 0)
	{
		zone_tm(tz, t, &tm, &fsec);
		tm.tm_mon += span->month;
		if (tm.tm_mon > MONTHS_PER_YEAR)
		{
			tm.tm_year += (tm.tm_mon - 1) / MONTHS_PER_YEAR;
			tm.tm_mon = ((tm.tm_mon - 1) % MONTHS_PER_YEAR) + 1;
		}
		if (tm.tm_mday > day_tab[isleap(tm.tm_year)][tm.tm_mon - 1])
			tm.tm_mday = day_tab[isleap(tm.tm_year)][tm.tm_mon - 1];
		t = zone_instant(tz, &tm, fsec);
	}
	if (span->day != 0)
	{
		zone_tm(tz, t, &tm, &fsec);
		j2date(date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) + span->day,
			   &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
		t = zone_instant(tz, &tm, fsec);
	}
	return t + span->time;
}

/* local_phase is how far a wall clock time is past a multiple of unit */
static int64
local_phase(TimestampTz local, int64 unit)
{
	return local - LOCAL_ORIGIN_USEC - floor_div(local - LOCAL_ORIGIN_USEC, unit) * unit;
}

/*
 * local_floor is the last instant at or before t at which the zone's wall
 * clock shows a multiple of unit (from Monday 2000-01-03 00:00), in the
 * offset of that instant: date_trunc('hour', t, zone) for an hour.  When
 * the offset changed between that multiple and t (the multiple is not one
 * in the new offset), the boundary is the last one before the change.
 */
static TimestampTz
local_floor(pg_tz *tz, int64 unit, TimestampTz t)
{
	for (;;)
	{
		int64		off = zone_offset(tz, t);
		TimestampTz c = t - local_phase(t + off, unit);
		TimestampTz change = DT_NOBEGIN;
		TimestampTz b;

		for (b = zone_next_change(tz, c); b <= t; b = zone_next_change(tz, b))
			change = b;
		if (change == DT_NOBEGIN)
			return c;
		t = change - 1;
	}
}

/*
 * local_next is the first instant after boundary p at which the zone's
 * wall clock shows a multiple of unit, in the offset of that instant.
 */
static TimestampTz
local_next(pg_tz *tz, int64 unit, TimestampTz p)
{
	for (;;)
	{
		int64		off = zone_offset(tz, p);
		TimestampTz e = p + unit - local_phase(p + off, unit);
		TimestampTz b = zone_next_change(tz, p);

		if (e < b)
			return e;
		/* the offset changes first: look on from the change */
		if (local_phase(b + zone_offset(tz, b), unit) == 0)
			return b;
		p = b;
	}
}

/* calendar_index numbers the day or month of tm from the origin */
static int64
calendar_index(const WindowGrid *g, const struct pg_tm *tm)
{
	if (g->unit == WINDOW_UNIT_MONTH)
		return (int64) (tm->tm_year - LOCAL_ORIGIN_YEAR) * MONTHS_PER_YEAR + tm->tm_mon - 1;
	return date2j(tm->tm_year, tm->tm_mon, tm->tm_mday) - date2j(LOCAL_ORIGIN_YEAR, 1, 3);
}

/* calendar_instant is the local midnight that starts day or month index */
static TimestampTz
calendar_instant(pg_tz *tz, const WindowGrid *g, int64 index)
{
	struct pg_tm tm;

	memset(&tm, 0, sizeof(tm));
	if (g->unit == WINDOW_UNIT_MONTH)
	{
		tm.tm_year = LOCAL_ORIGIN_YEAR + floor_div(index, MONTHS_PER_YEAR);
		tm.tm_mon = index - floor_div(index, MONTHS_PER_YEAR) * MONTHS_PER_YEAR + 1;
		tm.tm_mday = 1;
	}
	else
	{
		int			origin = date2j(LOCAL_ORIGIN_YEAR, 1, 3);

		if (index < -origin || index > PG_INT32_MAX - origin)
			out_of_range();
		j2date(index + origin, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	}
	return zone_instant(tz, &tm, 0);
}

/*
 * grid_floor is the last boundary of grid g at or before t; grid_next the
 * first one after boundary p.
 */
static TimestampTz
grid_floor(const WindowSpec *spec, const WindowGrid *g, TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int64		index;
	TimestampTz start;

	switch (g->unit)
	{
		case WINDOW_UNIT_USEC:
			return floor_to(t - spec->origin_usec, g->count) + spec->origin_usec;
		case WINDOW_UNIT_LOCAL_USEC:
			return local_floor(spec->tz, g->count, t);
		default:
			zone_tm(spec->tz, t, &tm, &fsec);
			index = floor_div(calendar_index(g, &tm), g->count) * g->count;
			start = calendar_instant(spec->tz, g, index);
			/* a midnight the clocks skipped resolves after the change */
			if (start > t)
				start = calendar_instant(spec->tz, g, index - g->count);
			return start;
	}
}

static TimestampTz
grid_next(const WindowSpec *spec, const WindowGrid *g, TimestampTz p)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int64		index;
	TimestampTz end;

	switch (g->unit)
	{
		case WINDOW_UNIT_USEC:
			return grid_floor(spec, g, p) + g->count;
		case WINDOW_UNIT_LOCAL_USEC:
			return local_next(spec->tz, g->count, p);
		default:
			zone_tm(spec->tz, p, &tm, &fsec);
			index = floor_div(calendar_index(g, &tm), g->count) * g->count;
			end = calendar_instant(spec->tz, g, index + g->count);
			if (end <= p)
				end = calendar_instant(spec->tz, g, index + 2 * g->count);
			return end;
	}
}

/*
 * pane_cut_by_size says whether the panes of hours of a window of days or
 * months also end where a day does: where the clocks skip a local midnight
 * no hour of the wall clock may.
 */
static bool
pane_cut_by_size(const WindowSpec *spec)
{
	return spec->pane.unit == WINDOW_UNIT_LOCAL_USEC &&
		(spec->size.unit == WINDOW_UNIT_DAY || spec->size.unit == WINDOW_UNIT_MONTH);
}

/* pane_floor and pane_next are grid_floor and grid_next of calendar panes */
static TimestampTz
pane_floor(const WindowSpec *spec, TimestampTz t)
{
	TimestampTz p = grid_floor(spec, &spec->pane, t);

	if (pane_cut_by_size(spec))
		p = Max(p, grid_floor(spec, &spec->size, t));
	return p;
}

static TimestampTz
pane_next(const WindowSpec *spec, TimestampTz p)
{
	TimestampTz e = grid_next(spec, &spec->pane, p);

	if (pane_cut_by_size(spec))
		e = Min(e, grid_next(spec, &spec->size, p));
	return e;
}

/*
 * hop_end is the end of the calendar hopping window starting at pane w:
 * w + size as timestamptz + interval computes it in the zone, down to a
 * pane boundary.
 */
static TimestampTz
hop_end(const WindowSpec *spec, TimestampTz w)
{
	return Max(pane_floor(spec, zone_add(spec->tz, w, &spec->size_span)), pane_next(spec, w));
}

/*
 * memo_of remembers the bounds of a calendar pane: events come mostly in
 * time order, so most fall in the pane before them.
 */
static WindowMemo *
memo_of(const WindowSpec *spec, TimestampTz pane)
{
	WindowMemo *memo = spec->memo;

	if (!memo->valid || memo->pane != pane)
	{
		memo->pane = pane;
		memo->end = pane_next(spec, pane);
		memo->own_end = DT_NOBEGIN;
		memo->ends_known = false;
		memo->valid = true;
	}
	return memo;
}

/* pane_start_of is the start of the pane holding t, remembering nothing */
static TimestampTz
pane_start_of(const WindowSpec *spec, TimestampTz t)
{
	if (spec->calendar)
		return pane_floor(spec, t);
	return floor_to(t - spec->origin_usec, spec->pane_usec) + spec->origin_usec;
}

/*
 * time_margin is reaches window lengths and a day of zone offset either
 * way (saturated when the window is longer than the range of timestamps):
 * how far from an end of the range an event time must lie for every
 * boundary computed around it to be one.  Before it: the windows holding
 * it start up to window_reach earlier, and the panes before them.  After
 * it: they end up to window_reach later, then come the panes after them
 * and a calendar's look one grid step further, as much again.
 */
static int64
time_margin(const WindowSpec *spec, int reaches)
{
	int64		margin;

	if (pg_mul_s64_overflow(window_reach(spec), reaches, &margin) ||
		pg_add_s64_overflow(margin, 2 * USECS_PER_DAY, &margin))
		return PG_INT64_MAX;
	return margin;
}

#define time_margin_before(spec) time_margin(spec, 2)
#define time_margin_after(spec) time_margin(spec, 4)

/*
 * set_event_time_range works out, once per definition, the event times the
 * windows can hold: window_time_in_range runs per event.
 */
static void
set_event_time_range(WindowSpec *spec)
{
	/* MIN_TIMESTAMP < 0 < END_TIMESTAMP: neither bound overflows */
	spec->first_event_time = MIN_TIMESTAMP + time_margin_before(spec);
	spec->last_event_time = END_TIMESTAMP - time_margin_after(spec);
}

/*
 * window_check_new refuses to a new definition a window that lasts more
 * than 1,000 years: its events must lie two window lengths after the start
 * of the range of timestamps (window_time_in_range), so that a longer one
 * would refuse today's.  Definitions made before 0.2 load as they are.
 */
void
window_check_new(const char *text, const WindowSpec *spec)
{
	if (spec->kind != WINDOW_NONE &&
		window_reach(spec) > (INT64CONST(1000) * MONTHS_PER_YEAR * 31 + 1) * USECS_PER_DAY)
		window_error(text, "A window lasts at most 1000 years: its events must lie two window lengths after 4714 BC and four before 294276 AD.");
}

/*
 * window_time_in_range says whether a windowed view's windows can hold
 * event time t: not an infinite one (a session's end, t plus the gap, is
 * out of range), nor one so near an end of the range of timestamps that
 * its windows, or the panes after them, are not in it (a calendar window
 * of the year 294276 ends in 294277; a fixed width one overflows).
 */
bool
window_time_in_range(const WindowSpec *spec, TimestampTz t)
{
	if (spec->kind == WINDOW_NONE)
		return true;
	return !TIMESTAMP_NOT_FINITE(t) &&
		t >= spec->first_event_time && t <= spec->last_event_time;
}

/*
 * window_check_event_time refuses an event time the view's windows cannot
 * hold (window_time_in_range).  The caller's event becomes a dead letter,
 * before it changes anything.
 */
void
window_check_event_time(const WindowSpec *spec, TimestampTz t)
{
	if (window_time_in_range(spec, t))
		return;
	if (TIMESTAMP_NOT_FINITE(t))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("event time is infinite"),
				 errhint("Events of a windowed view need a finite event time.")));
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("event time %s is too near an end of the range of timestamps for the view's windows",
					timestamptz_to_str(t)),
			 errdetail("Its windows, and the panes next to them, must start and end within PostgreSQL's range of timestamps (4714 BC to 294276 AD): events of this window must lie at least %s after its start and %s before its end.",
					   psprintf(INT64_FORMAT " days", time_margin_before(spec) / USECS_PER_DAY + 1),
					   psprintf(INT64_FORMAT " days", time_margin_after(spec) / USECS_PER_DAY + 1)),
			 errhint("Correct the event's time; a view without a window takes it.")));
}

/*
 * window_session_span is the start of the span of a session view's gap
 * holding finite event time t (spans of the gap from the epoch): any two
 * times of one span are less than the gap apart.
 */
TimestampTz
window_session_span(const WindowSpec *spec, TimestampTz t)
{
	Assert(spec->kind == WINDOW_SESSION && !TIMESTAMP_NOT_FINITE(t));
	return floor_to(t, spec->size_usec);
}

/*
 * window_pane_for returns the start of the pane holding event time t,
 * which it refuses when the view's windows cannot hold it
 * (window_check_event_time).
 */
TimestampTz
window_pane_for(const WindowSpec *spec, TimestampTz t)
{
	if (spec->kind == WINDOW_NONE)
		return WINDOW_UNBOUNDED_START;
	window_check_event_time(spec, t);
	return pane_holding(spec, t);
}

/*
 * pane_holding is window_pane_for of a time the caller derived from the
 * view's own windows or watermark (a pane's start, closed_upto less a
 * window's length), which may lie nearer an end of the range than an
 * event may, but never out of it.
 */
static TimestampTz
pane_holding(const WindowSpec *spec, TimestampTz t)
{
	WindowMemo *memo = spec->memo;

	Assert(spec->kind != WINDOW_SESSION && spec->kind != WINDOW_NONE);
	if (!spec->calendar)
		return pane_start_of(spec, t);
	if (memo->valid && memo->pane <= t && t < memo->end)
		return memo->pane;
	return memo_of(spec, pane_floor(spec, t))->pane;
}

/*
 * window_pane_end is the end of the pane starting at pane: the start of the
 * next one.
 */
TimestampTz
window_pane_end(const WindowSpec *spec, TimestampTz pane)
{
	if (spec->kind == WINDOW_NONE)
		return DT_NOEND;
	if (!spec->calendar)
		return pane + spec->pane_usec;
	return memo_of(spec, pane)->end;
}

/*
 * window_first_open_start is a lower bound of the start of every window
 * that closed_upto has not closed: every window starting before it has
 * ended by closed_upto.  A view on a view takes the lower view's closed
 * windows up to it as complete, so the closer the sooner: exact for
 * tumbling and cumulating windows (a period's windows all start with it
 * and end by its end) and for hopping ones of fixed width; a pane early
 * at most for calendar hopping ones, whose windows last up to
 * window_reach.
 */
TimestampTz
window_first_open_start(const WindowSpec *spec, TimestampTz closed_upto)
{
	TimestampTz start;
	TimestampTz end;

	Assert(window_closes(spec) && spec->kind != WINDOW_SESSION);
	if (TIMESTAMP_NOT_FINITE(closed_upto))
		return closed_upto;
	switch (spec->kind)
	{
		case WINDOW_TUMBLING:
			return pane_holding(spec, closed_upto);
		case WINDOW_CUMULATE:
			window_period(spec, closed_upto, &start, &end);
			return start;
		case WINDOW_HOPPING:
			if (!spec->calendar)
				return pane_holding(spec, closed_upto - spec->size_usec) + spec->pane_usec;
			break;
		default:
			break;
	}
	return pane_holding(spec, closed_upto - window_reach(spec));
}

/*
 * window_period is the period of a cumulating window holding pane: its
 * windows start at start and end at each pane's end up to end.
 */
void
window_period(const WindowSpec *spec, TimestampTz pane,
			  TimestampTz *start, TimestampTz *end)
{
	if (!spec->calendar)
	{
		*start = floor_to(pane - spec->origin_usec, spec->size_usec) + spec->origin_usec;
		*end = *start + spec->size_usec;
		return;
	}
	*start = grid_floor(spec, &spec->size, pane);
	*end = grid_next(spec, &spec->size, *start);
}

/* window_bounds_cmp orders windows by end, then start */
int
window_bounds_cmp(const void *a, const void *b)
{
	const WindowBounds *x = a;
	const WindowBounds *y = b;

	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

/* list_add adds [start, end) to the list if it ends in the list's range */
static void
list_add(WindowList *list, TimestampTz start, TimestampTz end)
{
	if (end <= list->after || end > list->upto)
		return;
	if (list->n == list->allocated)
	{
		list->allocated *= 2;
		list->w = repalloc(list->w, sizeof(WindowBounds) * list->allocated);
	}
	list->w[list->n].start = start;
	list->w[list->n].end = end;
	list->n++;
}

/*
 * window_list_of_pane sets *windows to the windows the pane starting at pane
 * belongs to that end in (after, upto], oldest end first, and returns how
 * many there are.
 */
int
window_list_of_pane(const WindowSpec *spec, TimestampTz pane, TimestampTz after,
					TimestampTz upto, WindowBounds **windows)
{
	WindowList	list;
	int			i;

	list.allocated = 16;
	list.n = 0;
	list.w = palloc(sizeof(WindowBounds) * list.allocated);
	list.after = after;
	list.upto = upto;
	switch (spec->kind)
	{
		case WINDOW_HOPPING:
			if (!spec->calendar)
			{
				int			n = (int) (spec->size_usec / spec->pane_usec);

				for (i = 0; i < n; i++)
				{
					TimestampTz start = pane - spec->size_usec + spec->pane_usec * (i + 1);

					list_add(&list, start, start + spec->size_usec);
				}
			}
			else
			{
				/* ends need not grow with starts: look as far back as any could start */
				TimestampTz lowest = pane - window_reach(spec);
				TimestampTz start;

				for (start = pane; start >= lowest; start = pane_floor(spec, start - 1))
				{
					TimestampTz end = hop_end(spec, start);

					if (end > pane)
						list_add(&list, start, end);
				}
				qsort(list.w, list.n, sizeof(WindowBounds), window_bounds_cmp);
			}
			break;
		case WINDOW_CUMULATE:
			{
				TimestampTz start;
				TimestampTz period_end;
				TimestampTz end = window_pane_end(spec, pane);

				/* from the first end after both the pane and after */
				window_period(spec, pane, &start, &period_end);
				if (after >= period_end)
					break;
				if (after >= end)
					end = window_pane_end(spec, pane_start_of(spec, after));
				for (; end <= Min(period_end, upto); end = window_pane_end(spec, end))
					list_add(&list, start, end);
			}
			break;
		default:
			list_add(&list, pane, window_pane_end(spec, pane));
			break;
	}
	*windows = list.w;
	return list.n;
}

/*
 * window_reach is how long before a pane the windows holding it may start:
 * a window's longest length.  Calendar hopping windows start at every pane
 * and last their size as PostgreSQL adds it in the zone, so that their ends
 * need not grow with their starts (on the day the clocks go back, 02:30 +
 * 1 day is 25 hours later, 02:00 + 1 day 24; January 31 + 1 month is
 * February 28, as January 30 + 1 month is): a day more than the longest
 * month or day.
 */
int64
window_reach(const WindowSpec *spec)
{
	const Interval *s = &spec->size_span;

	if (!spec->calendar)
		return spec->size_usec;
	return ((int64) s->month * 31 + s->day + ((s->month != 0 || s->day != 0) ? 1 : 0)) *
		USECS_PER_DAY + s->time;
}

/*
 * window_holding_any sets *windows to the hopping windows that may hold one
 * of the panes (npanes starts, in order): those starting at most
 * window_reach before one of them, in order of start, and returns how many
 * there are: what readers and checkpoints go through, rather than each
 * pane's windows.  The windows between panes far apart hold none and are
 * not gone through: one event in the year 50000 is 400 million hourly
 * windows from today's.
 */
int
window_holding_any(const WindowSpec *spec, const TimestampTz *panes, int npanes,
				   WindowBounds **windows)
{
	WindowList	list;
	TimestampTz listed_upto = DT_NOBEGIN;	/* every start up to it is listed */
	int			i;

	Assert(spec->kind == WINDOW_HOPPING);
	list.allocated = 16;
	list.n = 0;
	list.w = palloc(sizeof(WindowBounds) * list.allocated);
	list.after = DT_NOBEGIN;
	list.upto = DT_NOEND;
	for (i = 0; i < npanes; i++)
	{
		TimestampTz from = Max(panes[i] - window_reach(spec), listed_upto + 1);
		TimestampTz start;
		int			first = list.n;
		int			j;

		if (panes[i] <= listed_upto)
			continue;
		/* the starts in [from, pane], found last first */
		if (!spec->calendar)
		{
			for (start = pane_holding(spec, panes[i]); start >= from; start -= spec->pane_usec)
				list_add(&list, start, start + spec->size_usec);
		}
		else
		{
			for (start = pane_floor(spec, panes[i]); start >= from;
				 start = pane_floor(spec, start - 1))
				list_add(&list, start, hop_end(spec, start));
		}
		for (j = 0; j < (list.n - first) / 2; j++)
		{
			WindowBounds tmp = list.w[first + j];

			list.w[first + j] = list.w[list.n - 1 - j];
			list.w[list.n - 1 - j] = tmp;
		}
		listed_upto = panes[i];
	}
	*windows = list.w;
	return list.n;
}

/*
 * memo_ends remembers the ends of the first and the last window holding a
 * calendar pane, for the late events of the pane.
 */
static WindowMemo *
memo_ends(const WindowSpec *spec, TimestampTz pane)
{
	WindowMemo *memo = spec->memo;
	WindowBounds *w;
	int			n;
	int			i;
	TimestampTz first_end = DT_NOEND;
	TimestampTz last_end = DT_NOBEGIN;

	if (memo->valid && memo->pane == pane && memo->ends_known)
		return memo;
	if (spec->kind == WINDOW_HOPPING)
	{
		n = window_list_of_pane(spec, pane, DT_NOBEGIN, DT_NOEND, &w);
		for (i = 0; i < n; i++)
		{
			first_end = Min(first_end, w[i].end);
			last_end = Max(last_end, w[i].end);
		}
		pfree(w);
	}
	memo = memo_of(spec, pane);
	if (spec->kind != WINDOW_HOPPING)
	{
		TimestampTz start;

		first_end = last_end = memo->end;
		if (spec->kind == WINDOW_CUMULATE)
			window_period(spec, pane, &start, &last_end);
	}
	memo->first_end = first_end;
	memo->last_end = last_end;
	memo->ends_known = true;
	return memo;
}

/*
 * window_pane_last_end is the end of the last window holding the pane:
 * once the watermark passes it, the pane's state is needed no more.
 */
TimestampTz
window_pane_last_end(const WindowSpec *spec, TimestampTz pane)
{
	TimestampTz start;
	TimestampTz end;

	switch (spec->kind)
	{
		case WINDOW_NONE:
			return DT_NOEND;
		case WINDOW_SLIDING:
			return pane + spec->size_usec;
		default:
			if (spec->calendar)
				return memo_ends(spec, pane)->last_end;
			if (spec->kind == WINDOW_HOPPING)
				return pane + spec->size_usec;
			if (spec->kind == WINDOW_CUMULATE)
			{
				window_period(spec, pane, &start, &end);
				return end;
			}
			return window_pane_end(spec, pane);
	}
}

/*
 * window_pane_first_end is the end of the first window holding the pane:
 * once the view has closed it, events of the pane correct a closed window.
 */
TimestampTz
window_pane_first_end(const WindowSpec *spec, TimestampTz pane)
{
	if (spec->kind == WINDOW_NONE || spec->kind == WINDOW_SLIDING)
		return DT_NOEND;
	if (spec->kind == WINDOW_HOPPING && spec->calendar)
		return memo_ends(spec, pane)->first_end;
	return window_pane_end(spec, pane);
}

/*
 * window_pane_reaches says whether a window holding the pane ends after t:
 * window_pane_last_end(pane) > t, at the cost of one window for an event
 * that is not late.
 */
bool
window_pane_reaches(const WindowSpec *spec, TimestampTz pane, TimestampTz t)
{
	if (spec->kind == WINDOW_HOPPING && spec->calendar)
	{
		WindowMemo *memo = memo_of(spec, pane);

		/* the window starting at the pane ends last, but for a few */
		if (memo->own_end == DT_NOBEGIN)
			memo->own_end = hop_end(spec, pane);
		if (memo->own_end > t)
			return true;
	}
	return window_pane_last_end(spec, pane) > t;
}

/*
 * window_pane_closed_by says whether a window holding the pane ends at or
 * before t: once the view has closed it, events of the pane correct a
 * closed window.
 */
bool
window_pane_closed_by(const WindowSpec *spec, TimestampTz pane, TimestampTz t)
{
	if (spec->kind == WINDOW_NONE || spec->kind == WINDOW_SLIDING)
		return false;
	/* the first window holding the pane ends with it, but for a few */
	if (window_pane_end(spec, pane) > t)
		return false;
	return window_pane_first_end(spec, pane) <= t;
}

/*
 * pane_next_end is the end of the first window holding the pane that ends
 * after after, or DT_NOEND; not for calendar hopping windows.
 */
static TimestampTz
pane_next_end(const WindowSpec *spec, TimestampTz pane, TimestampTz after)
{
	TimestampTz end = window_pane_end(spec, pane);
	TimestampTz start;
	TimestampTz period_end;

	switch (spec->kind)
	{
		case WINDOW_TUMBLING:
			return end > after ? end : DT_NOEND;
		case WINDOW_CUMULATE:
			window_period(spec, pane, &start, &period_end);
			if (after >= period_end)
				return DT_NOEND;
			if (end > after)
				return end;
			return window_pane_end(spec, pane_start_of(spec, after));
		case WINDOW_HOPPING:
			Assert(!spec->calendar);
			if (end > after)
				return end;
			end = pane + ((after - pane) / spec->pane_usec + 1) * spec->pane_usec;
			return end <= pane + spec->size_usec ? end : DT_NOEND;
		default:
			return DT_NOEND;
	}
}

/*
 * window_next_end is the earliest end after after of a window holding one
 * of the panes (npanes starts, in order), or DT_NOEND: when closing is due
 * again.
 */
TimestampTz
window_next_end(const WindowSpec *spec, const TimestampTz *panes, int npanes,
				TimestampTz after)
{
	TimestampTz next = DT_NOEND;
	int			i;

	if (npanes == 0)
		return DT_NOEND;
	if (spec->kind == WINDOW_HOPPING && spec->calendar)
	{
		WindowBounds *w;
		int			n = window_holding_any(spec, panes, npanes, &w);
		int			k = 0;

		for (i = 0; i < n; i++)
		{
			/* the first pane at or after the window's start: is it in the window? */
			while (k < npanes && panes[k] < w[i].start)
				k++;
			if (w[i].end > after && k < npanes && panes[k] < w[i].end)
				next = Min(next, w[i].end);
		}
		pfree(w);
		return next;
	}
	for (i = 0; i < npanes; i++)
		next = Min(next, pane_next_end(spec, panes[i], after));
	return next;
}

/* window_start_cmp orders the starts of panes or windows */
int
window_start_cmp(const void *a, const void *b)
{
	TimestampTz x = *(const TimestampTz *) a;
	TimestampTz y = *(const TimestampTz *) b;

	return (x > y) - (x < y);
}

/*
 * window_sliding_cutoff is the oldest pane of a sliding window as of the
 * watermark: the window is the size/step panes that end with the
 * watermark's pane (and any later one).
 */
TimestampTz
window_sliding_cutoff(const WindowSpec *spec, TimestampTz watermark)
{
	if (TIMESTAMP_NOT_FINITE(watermark))
		return DT_NOBEGIN;
	return floor_to(watermark, spec->pane_usec) - spec->size_usec + spec->pane_usec;
}
