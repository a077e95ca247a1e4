/*-------------------------------------------------------------------------
 *
 * sqlfunc.c
 *	  What every SQL function of streamext checks first: that the server is
 *	  set up for it (preloaded, wal_level = logical), and its arguments.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "miscadmin.h"
#include "access/xlog.h"
#include "utils/builtins.h"

#include "shmem.h"
#include "sqlfunc.h"

/*
 * sqlfunc_check_setup refuses to work without the settings streamext needs,
 * and names the one to change.
 */
void
sqlfunc_check_setup(void)
{
	if (StreamextState == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("streamext is not loaded through shared_preload_libraries"),
				 errhint("Add streamext to shared_preload_libraries in postgresql.conf and restart the server.")));
	if (wal_level < WAL_LEVEL_LOGICAL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("streamext needs wal_level = logical"),
				 errhint("Set wal_level = logical in postgresql.conf and restart the server.")));
	(void) streamext_find_db_slot(MyDatabaseId, true);
}

/*
 * sqlfunc_spi_exec runs SQL of streamext's own that must succeed with the
 * expected result code.
 */
void
sqlfunc_spi_exec(const char *sql, int expected)
{
	int			rc = SPI_execute(sql, false, 0);

	if (rc != expected)
		elog(ERROR, "streamext: SPI_execute failed (%d): %s", rc, sql);
}

/*
 * sqlfunc_check_arg_not_null refuses a NULL in argument argno, one that NULL
 * means nothing for.  Since 0.2 the functions whose every argument is such
 * are STRICT and never get here with a NULL; the check serves the functions
 * that take NULL in other arguments (create_view's "window"), and a
 * database still at 0.1, where those functions are not STRICT: a NULL must
 * end in an error that names the argument, never in a crash.
 */
void
sqlfunc_check_arg_not_null(FunctionCallInfo fcinfo, int argno, const char *what,
						   const char *hint)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", what),
				 errhint("%s", hint)));
}
