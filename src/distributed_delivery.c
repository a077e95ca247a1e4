/*-------------------------------------------------------------------------
 *
 * distributed_delivery.c
 *	  Subscriptions of distributed views (distributed_view.c), delivered by
 *	  the coordinator's worker: each window once, when every node has
 *	  closed it.
 *
 *	  The worker's decoding never sees a distributed view's windows close:
 *	  they close on the nodes.  So at each round of its loop (at most every
 *	  streamext.checkpoint_interval) the worker asks, as the subscription's
 *	  owner (whose user mappings postgres_fdw uses), how far every node has
 *	  closed the view (distributed_progress); windows ending after what it
 *	  delivered before and by the least node's horizon are read from the
 *	  distributed view (window_end pushed down to the nodes) and queued in
 *	  window order, with the new horizon (distributed_delivery) and the
 *	  subscription's positions (subscription_progress), in one transaction
 *	  whose commit sends the NOTIFYs: after a crash the same windows are
 *	  queued again or not at all, never twice.  A node that cannot be
 *	  reached holds the subscription back (logged), not the others.
 *
 *	  Corrections are not delivered: a late event that corrects a node's
 *	  closed window after every node closed it shows in reads of the view,
 *	  not as a subscription entry.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "replication/origin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "distributed_delivery.h"
#include "subscription.h"
#include "usercode.h"

/* a subscription of a distributed view, as one round delivers it */
typedef struct Delivery
{
	int32		id;
	char	   *name;
	Oid			owner;
	char	   *channel;
	char	   *notify;
	char	   *view_name;		/* the distributed view's, as registered */
	Oid			view_relid;
	TimestampTz delivered_upto;
	int64		newest_position;
	/* found by read_due */
	TimestampTz final_upto;
	List	   *events;			/* JSON texts, in window order */
	MemoryContext cxt;
} Delivery;

static void read_due(void *arg);
static void queue_due(Delivery *d);

static CatalogStatement deliveries = {
	"SELECT s.id, s.name, s.owner, s.channel, s.notify, v.name, v.view_relid, "
	"d.delivered_upto, p.newest_position "
	"FROM streamext.distributed_delivery d "
	"JOIN streamext.subscription_def s ON s.id = d.subscription_id "
	"JOIN streamext.distributed_view_def v ON v.id = d.distributed_id "
	"JOIN streamext.subscription_progress p ON p.subscription_id = s.id "
	"ORDER BY s.id", 0
};
static CatalogStatement queue_entries = {
	"INSERT INTO streamext.subscription_queue (subscription_id, position, kind, event, committed_at) "
	"SELECT $1, $2 + o - 1, 'window', e::jsonb, now() FROM unnest($3::text[]) WITH ORDINALITY t(e, o)",
	3, {INT4OID, INT8OID, TEXTARRAYOID}
};
static CatalogStatement set_progress = {
	"WITH d AS (UPDATE streamext.distributed_delivery SET delivered_upto = $3 "
	"WHERE subscription_id = $1) "
	"UPDATE streamext.subscription_progress SET newest_position = $2, "
	"last_notify = CASE WHEN $4 THEN now() ELSE last_notify END WHERE subscription_id = $1",
	4, {INT4OID, INT8OID, TIMESTAMPTZOID, BOOLOID}
};

/*
 * read_due finds, as the subscription's owner, the least horizon every
 * node has closed the view to, and the rows of the windows that ends
 * since the last delivery; for usercode_isolated_untimed.
 */
static void
read_due(void *arg)
{
	Delivery   *d = arg;
	Datum		args[2];
	Oid			argtypes[2] = {TEXTOID, TIMESTAMPTZOID};
	bool		isnull;
	MemoryContext old;
	uint64		i;

	d->final_upto = DT_NOBEGIN;
	SPI_connect();
	/* by the relation, renamed or not */
	argtypes[0] = OIDOID;
	args[0] = ObjectIdGetDatum(d->view_relid);
	if (SPI_execute_with_args("SELECT streamext.distributed_final_upto($1::regclass::text)",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not read the progress of \"%s\"", d->view_name);
	{
		Datum		upto = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			d->final_upto = DatumGetTimestampTz(upto);
	}
	if (d->final_upto > d->delivered_upto)
	{
		argtypes[0] = TIMESTAMPTZOID;
		args[0] = TimestampTzGetDatum(d->delivered_upto);
		args[1] = TimestampTzGetDatum(d->final_upto);
		if (SPI_execute_with_args(psprintf("SELECT to_jsonb(v)::text FROM %s v "
										   "WHERE window_end > $1 AND window_end <= $2 "
										   "ORDER BY window_end, window_start",
										   quote_qualified_identifier(get_namespace_name(get_rel_namespace(d->view_relid)),
																	  get_rel_name(d->view_relid))),
								  2, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "streamext: could not read distributed view \"%s\"", d->view_name);
		old = MemoryContextSwitchTo(d->cxt);
		for (i = 0; i < SPI_processed; i++)
			d->events = lappend(d->events,
								SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
}

/*
 * queue_due queues the rows read_due found, moves the subscription's
 * horizon and positions, and NOTIFYs as the subscription asks, in the
 * caller's transaction.
 */
static void
queue_due(Delivery *d)
{
	int			n = list_length(d->events);
	Datum	   *texts = palloc(sizeof(Datum) * Max(n, 1));
	Datum		args[4];
	ListCell   *lc;
	int			i = 0;

	foreach(lc, d->events)
		texts[i++] = CStringGetTextDatum(lfirst(lc));
	SPI_connect();
	if (!subscription_lock(d->id))
	{
		SPI_finish();
		return;					/* dropped meanwhile */
	}
	if (n > 0)
	{
		args[0] = Int32GetDatum(d->id);
		args[1] = Int64GetDatum(d->newest_position + 1);
		args[2] = PointerGetDatum(construct_array(texts, n, TEXTOID, -1, false, TYPALIGN_INT));
		if (catalog_execute(&queue_entries, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "streamext: could not queue the windows of subscription \"%s\"", d->name);
	}
	args[0] = Int32GetDatum(d->id);
	args[1] = Int64GetDatum(d->newest_position + n);
	args[2] = TimestampTzGetDatum(d->final_upto);
	args[3] = BoolGetDatum(n > 0 && strcmp(d->notify, "none") != 0);
	if (catalog_execute(&set_progress, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "streamext: could not record the progress of subscription \"%s\"", d->name);
	SPI_finish();

	if (n > 0 && strcmp(d->notify, "event") == 0)
	{
		StringInfoData payload;

		initStringInfo(&payload);
		i = 0;
		foreach(lc, d->events)
			subscription_notify_entry(d->channel, d->name, &payload,
									  d->newest_position + 1 + i++, "window", lfirst(lc));
	}
	else if (n > 0 && strcmp(d->notify, "batch") == 0)
		subscription_notify_batch(d->channel, d->name, d->newest_position + 1, n);
}

/*
 * distributed_deliver_due delivers what is due of every subscription of a
 * distributed view, in a transaction of its own.  Does nothing in a
 * database whose catalog has no distributed views (before 0.2).
 */
void
distributed_deliver_due(void)
{
	MemoryContext cxt;
	List	   *due = NIL;
	ListCell   *lc;
	uint64		i;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (!catalog_lock_extension() ||
		!OidIsValid(get_relname_relid("distributed_delivery",
									  get_namespace_oid("streamext", false))))
	{
		CommitTransactionCommand();
		return;
	}
	PushActiveSnapshot(GetTransactionSnapshot());
	cxt = AllocSetContextCreate(CurrentMemoryContext, "streamext distributed deliveries",
								ALLOCSET_DEFAULT_SIZES);
	SPI_connect();
	if (catalog_execute(&deliveries, NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not read the subscriptions of distributed views");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext old = MemoryContextSwitchTo(cxt);
		Delivery   *d = palloc0(sizeof(Delivery));
		bool		isnull;

		d->cxt = cxt;
		d->id = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
		d->name = SPI_getvalue(tup, desc, 2);
		d->owner = DatumGetObjectId(SPI_getbinval(tup, desc, 3, &isnull));
		d->channel = SPI_getvalue(tup, desc, 4);
		d->notify = SPI_getvalue(tup, desc, 5);
		d->view_name = SPI_getvalue(tup, desc, 6);
		d->view_relid = DatumGetObjectId(SPI_getbinval(tup, desc, 7, &isnull));
		d->delivered_upto = DatumGetTimestampTz(SPI_getbinval(tup, desc, 8, &isnull));
		d->newest_position = DatumGetInt64(SPI_getbinval(tup, desc, 9, &isnull));
		due = lappend(due, d);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();

	foreach(lc, due)
	{
		Delivery   *d = lfirst(lc);
		UserCodeFailure failure;

		if (get_rel_name(d->view_relid) == NULL)
			continue;			/* dropped: drop_subscription forgets it */
		if (!usercode_isolated_untimed(d->owner, USERCODE_READ_ONLY, read_due, d, &failure))
		{
			ereport(LOG,
					(errmsg("streamext could not deliver subscription \"%s\" of distributed view \"%s\", tries again: %s",
							d->name, d->view_name, failure.error->message)));
			FreeErrorData(failure.error);
			continue;
		}
		if (d->final_upto > d->delivered_upto)
			queue_due(d);
	}
	PopActiveSnapshot();
	replorigin_session_origin_lsn = InvalidXLogRecPtr;
	CommitTransactionCommand();
}
