/*-------------------------------------------------------------------------
 *
 * sqlfunc.h
 *	  What every SQL function of streamext checks first: that the server is
 *	  set up for it, and its arguments; and how it runs its own SQL.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_SQLFUNC_H
#define STREAMEXT_SQLFUNC_H

#include "fmgr.h"

extern void sqlfunc_check_setup(void);
extern void sqlfunc_spi_exec(const char *sql, int expected);
extern void sqlfunc_check_arg_not_null(FunctionCallInfo fcinfo, int argno,
									   const char *what, const char *hint);

#endif							/* STREAMEXT_SQLFUNC_H */
