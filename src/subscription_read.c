/*-------------------------------------------------------------------------
 *
 * subscription_read.c
 *	  The consumer's side of a subscription: poll returns the entries after
 *	  the acknowledged position, as often as asked, until ack moves that
 *	  position on and trims what it covers.
 *
 *	  Both act as the catalog's owner once the caller has been found to
 *	  have the privileges of the subscription's owner, and the owner still
 *	  to have SELECT on the source.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "funcapi.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

#include "catalog.h"
#include "sqlfunc.h"
#include "subscription_def.h"

PG_FUNCTION_INFO_V1(streamext_poll);
PG_FUNCTION_INFO_V1(streamext_ack);

static int32 open_subscription(const char *name, CatalogAccess *ca);

/*
 * open_subscription checks the caller's right to consume a subscription
 * and becomes the catalog's owner; returns the subscription's id.
 */
static int32
open_subscription(const char *name, CatalogAccess *ca)
{
	Oid			caller = GetUserId();
	int32		id;
	Oid			owner;
	Oid			source_relid;

	sqlfunc_check_setup();
	catalog_owner_enter(ca);
	subscription_lookup(name, caller, &id, &owner, &source_relid);
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(source_relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the source of subscription \"%s\" was dropped", name),
				 errhint("Drop the subscription with streamext.drop_subscription('%s').", name)));
	if (pg_class_aclcheck(source_relid, owner, ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("the owner of subscription \"%s\" may no longer read \"%s\"",
						name, get_rel_name(source_relid)),
				 errhint("GRANT SELECT ON %s TO %s; or drop the subscription.",
						 get_rel_name(source_relid),
						 quote_identifier(GetUserNameFromId(owner, false)))));
	return id;
}

/*
 * streamext_poll returns up to max_events entries after the acknowledged
 * position, oldest first.  It changes nothing: the same entries come again
 * until they are acknowledged.
 */
Datum
streamext_poll(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int32		max_events = PG_GETARG_INT32(1);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CatalogAccess ca;
	Oid			argtypes[2] = {INT4OID, INT4OID};
	Datum		args[2];
	uint64		i;

	if (max_events <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_events must be positive"),
				 errhint("Ask for the number of entries to handle before the next ack.")));
	InitMaterializedSRF(fcinfo, 0);
	args[0] = Int32GetDatum(open_subscription(name, &ca));
	args[1] = Int32GetDatum(max_events);
	SPI_connect();
	if (SPI_execute_with_args("SELECT q.position, q.event, q.committed_at, q.kind "
							  "FROM streamext.subscription_queue q "
							  "JOIN streamext.subscription_ack a USING (subscription_id) "
							  "WHERE q.subscription_id = $1 AND q.position > a.acked_position "
							  "ORDER BY q.position LIMIT $2",
							  2, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "streamext: could not read subscription entries");
	for (i = 0; i < SPI_processed; i++)
	{
		Datum		values[4];
		bool		nulls[4];

		heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	catalog_owner_leave(&ca);
	return (Datum) 0;
}

/*
 * streamext_ack acknowledges every entry up to position, which must have
 * been delivered, and trims them.  Returns how many entries it newly
 * acknowledged: acknowledging again is harmless.
 */
Datum
streamext_ack(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int64		position = PG_GETARG_INT64(1);
	CatalogAccess ca;
	Oid			argtypes[2] = {INT4OID, INT8OID};
	Datum		args[2];
	bool		isnull;
	int64		newest;
	int64		acked;

	args[0] = Int32GetDatum(open_subscription(name, &ca));
	args[1] = Int64GetDatum(position);
	SPI_connect();
	if (SPI_execute_with_args("SELECT p.newest_position, a.acked_position "
							  "FROM streamext.subscription_progress p "
							  "JOIN streamext.subscription_ack a USING (subscription_id) "
							  "WHERE subscription_id = $1 FOR UPDATE OF a",
							  1, argtypes, args, NULL, false, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "streamext: could not read subscription progress");
	newest = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	acked = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	if (position > newest || position < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot acknowledge position " INT64_FORMAT " of subscription \"%s\"",
						position, name),
				 errdetail("Its newest position is " INT64_FORMAT ".", newest),
				 errhint("Acknowledge a position that streamext.poll() returned.")));
	if (position > acked)
	{
		if (SPI_execute_with_args("UPDATE streamext.subscription_ack "
								  "SET acked_position = $2, acked_at = now() "
								  "WHERE subscription_id = $1",
								  2, argtypes, args, NULL, false, 0) != SPI_OK_UPDATE ||
			SPI_execute_with_args("DELETE FROM streamext.subscription_queue "
								  "WHERE subscription_id = $1 AND position <= $2",
								  2, argtypes, args, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "streamext: could not acknowledge");
	}
	SPI_finish();
	catalog_owner_leave(&ca);
	PG_RETURN_INT64(position > acked ? position - acked : 0);
}
