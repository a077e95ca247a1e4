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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "window.h"

#define WINDOW_EXAMPLES "Examples: 'tumbling 1 minute', 'hopping 10 minutes every 1 minute', " \
	"'sliding 5 minutes step 5 seconds', 'session 30 seconds', 'cumulate 1 day every 1 hour'."

static void window_error(const char *text, const char *detail);
static int64 parse_span(const char *window_text, const char *span, const char *what);
static TimestampTz floor_to(TimestampTz t, int64 unit);

/*
 * interval_usecs is an interval without months in microseconds.
 */
int64
interval_usecs(const Interval *iv)
{
	return iv->time + (int64) iv->day * USECS_PER_DAY;
}

/*
 * window_parse turns the window argument of create_view into a WindowSpec,
 * or raises an error that says what is accepted.
 */
void
window_parse(const char *text, WindowSpec *spec)
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

	memset(spec, 0, sizeof(WindowSpec));
	if (text == NULL)
	{
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

	spec->size_usec = parse_span(text, rest, "size");
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
			spec->pane_usec = parse_span(text, second,
										 spec->kind == WINDOW_SLIDING ? "step" : "slide");
			if (spec->size_usec % spec->pane_usec != 0)
				window_error(text, psprintf("The %s must divide the size of the window.",
											spec->kind == WINDOW_SLIDING ? "step" : "slide"));
			break;
	}
	pfree(copy);
}

/*
 * parse_span reads one interval of a window argument: positive, without
 * months (whose length varies).
 */
static int64
parse_span(const char *window_text, const char *span, const char *what)
{
	Datum		d;
	Interval   *iv;
	int64		usecs;
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
	if (iv->month != 0)
		window_error(window_text, "Windows cannot be sized in months or years, whose length varies.");
	usecs = interval_usecs(iv);
	if (usecs <= 0)
		window_error(window_text, psprintf("The %s of a window must be positive.", what));
	return usecs;
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

/* floor_to is t rounded down to a multiple of unit from the epoch */
static TimestampTz
floor_to(TimestampTz t, int64 unit)
{
	int64		r = t % unit;

	if (r < 0)
		r += unit;
	return t - r;
}

/*
 * window_pane_for returns the start of the pane holding event time t.
 */
TimestampTz
window_pane_for(const WindowSpec *spec, TimestampTz t)
{
	if (spec->kind == WINDOW_NONE)
		return WINDOW_UNBOUNDED_START;
	if (TIMESTAMP_NOT_FINITE(t))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("event time is infinite"),
				 errhint("Events of a windowed view need a finite event time.")));
	Assert(spec->kind != WINDOW_SESSION);
	return floor_to(t, spec->pane_usec);
}

/*
 * window_count_of_pane is how many windows the pane starting at pane belongs
 * to; window_of_pane gives the i-th, oldest end first.
 */
int
window_count_of_pane(const WindowSpec *spec, TimestampTz pane)
{
	switch (spec->kind)
	{
		case WINDOW_HOPPING:
			return (int) (spec->size_usec / spec->pane_usec);
		case WINDOW_CUMULATE:
			return (int) ((floor_to(pane, spec->size_usec) + spec->size_usec - pane) /
						  spec->pane_usec);
		default:
			return 1;
	}
}

void
window_of_pane(const WindowSpec *spec, TimestampTz pane, int i,
			   TimestampTz *start, TimestampTz *end)
{
	switch (spec->kind)
	{
		case WINDOW_HOPPING:
			*start = pane - spec->size_usec + spec->pane_usec * (i + 1);
			*end = *start + spec->size_usec;
			break;
		case WINDOW_CUMULATE:
			*start = floor_to(pane, spec->size_usec);
			*end = pane + spec->pane_usec * (i + 1);
			break;
		default:
			*start = pane;
			*end = (spec->kind == WINDOW_NONE) ? DT_NOEND : pane + spec->size_usec;
			break;
	}
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

	if (spec->kind == WINDOW_NONE)
		return DT_NOEND;
	if (spec->kind == WINDOW_SLIDING)
		return pane + spec->size_usec;
	window_of_pane(spec, pane, window_count_of_pane(spec, pane) - 1, &start, &end);
	return end;
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
	return pane + spec->pane_usec;
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
