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
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

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
	int32		id;

	if (max_events <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_events must be positive"),
				 errhint("Ask for the number of entries to handle before the next ack.")));
	InitMaterializedSRF(fcinfo, 0);
	id = open_subscription(name, &ca);
	catalog_read_queue(id, max_events, rsinfo->setResult, rsinfo->setDesc);
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
	int32		id;
	int64		newest;
	int64		acked;

	id = open_subscription(name, &ca);
	catalog_lock_ack(id, &newest, &acked);
	if (position > newest || position < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot acknowledge position " INT64_FORMAT " of subscription \"%s\"",
						position, name),
				 errdetail("Its newest position is " INT64_FORMAT ".", newest),
				 errhint("Acknowledge a position that streamext.poll() returned.")));
	if (position > acked)
		catalog_ack(id, position);
	catalog_owner_leave(&ca);
	PG_RETURN_INT64(position > acked ? position - acked : 0);
}
