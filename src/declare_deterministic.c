/*-------------------------------------------------------------------------
 *
 * declare_deterministic.c
 *	  streamext.declare_deterministic(): a function's owner tells streamext
 *	  that a function not marked IMMUTABLE is deterministic all the same,
 *	  so that continuous views and subscription filters may call it
 *	  (determinism.c).  Some extensions leave such functions VOLATILE:
 *	  hll's aggregate support functions are.  A declaration names the
 *	  function by its schema-qualified signature in
 *	  streamext.deterministic_functions, which pg_dump dumps; it is checked
 *	  when a view or filter is defined, not by views that exist.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "catalog/pg_proc.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "catalog.h"
#include "sqlfunc.h"

PG_FUNCTION_INFO_V1(streamext_declare_deterministic);

/*
 * streamext_declare_deterministic(func regprocedure, deterministic bool)
 * declares func deterministic, or takes the declaration back.  Only the
 * function's owner may: it is a statement about what the function does.
 * A function that reads the clock, the transaction or the session stays
 * refused whatever is declared.
 */
Datum
streamext_declare_deterministic(PG_FUNCTION_ARGS)
{
	Oid			funcid;
	bool		deterministic;
	Oid			declared_by = GetUserId();
	CatalogAccess ca;

	sqlfunc_check_setup();
	sqlfunc_check_arg_not_null(fcinfo, 0, "func",
							   "Pass the function with its argument types, e.g. 'hll_add_trans0(internal, hll_hashval)'.");
	sqlfunc_check_arg_not_null(fcinfo, 1, "deterministic",
							   "Pass true to declare the function deterministic, false to take the declaration back.");
	funcid = PG_GETARG_OID(0);
	deterministic = PG_GETARG_BOOL(1);
	if (!SearchSysCacheExists1(PROCOID, ObjectIdGetDatum(funcid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("function with OID %u does not exist", funcid)));
	if (!pg_proc_ownercheck(funcid, declared_by))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_FUNCTION, get_func_name(funcid));
	if (deterministic && func_volatile(funcid) == PROVOLATILE_IMMUTABLE)
	{
		ereport(NOTICE,
				(errmsg("function %s is IMMUTABLE already: nothing to declare",
						format_procedure(funcid))));
		PG_RETURN_VOID();
	}

	SPI_connect();
	catalog_owner_enter(&ca);
	catalog_set_deterministic(format_procedure_qualified(funcid), funcid, deterministic,
							  declared_by);
	catalog_owner_leave(&ca);
	SPI_finish();
	PG_RETURN_VOID();
}
