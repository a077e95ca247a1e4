/*-------------------------------------------------------------------------
 *
 * usercode.h
 *	  The gate through which streamext runs code that a user can define:
 *	  aggregate support functions, view and filter expressions, and the
 *	  worker's DML on a user's table.  See usercode.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_USERCODE_H
#define STREAMEXT_USERCODE_H

#include "fmgr.h"
#include "nodes/execnodes.h"
#include "utils/elog.h"

/* the search_path user code runs with, the worker's own */
#define USERCODE_SEARCH_PATH "pg_catalog, pg_temp"

/* what the code behind the gate may do */
typedef enum UserCodeAccess
{
	USERCODE_READ_ONLY,			/* functions and expressions: no writes, no XID */
	USERCODE_MAY_WRITE			/* the worker's DML on the owner's own table */
} UserCodeAccess;

/* what usercode_enter changed, for usercode_leave to restore */
typedef struct UserCodeGate
{
	bool		entered;		/* false: already behind a gate for the owner */
	UserCodeAccess access;
	Oid			save_userid;
	int			save_sec_context;
	int			nestlevel;
	bool		save_read_only;
	bool		had_xid;		/* the transaction had an XID at entry */
} UserCodeGate;

/* why an isolated call failed */
typedef struct UserCodeFailure
{
	ErrorData  *error;			/* in the caller's memory context */
	bool		assigned_xid;	/* the code made the transaction take an XID */
} UserCodeFailure;

extern void usercode_enter(UserCodeGate *gate, Oid owner, UserCodeAccess access);
extern void usercode_leave(UserCodeGate *gate);
extern Datum usercode_call(Oid owner, FunctionCallInfo fcinfo);
extern bool usercode_qual(Oid owner, ExprState *qual, ExprContext *econtext);
extern Datum usercode_eval(Oid owner, ExprState *expr, ExprContext *econtext,
						   bool *isnull);
extern Datum usercode_eval_callers(ExprState *expr, ExprContext *econtext, bool *isnull);
extern bool usercode_isolated(Oid owner, UserCodeAccess access,
							  void (*work) (void *arg), void *arg,
							  UserCodeFailure *failure);
extern bool usercode_isolated_untimed(Oid owner, UserCodeAccess access,
									  void (*work) (void *arg), void *arg,
									  UserCodeFailure *failure);
extern void usercode_check_execute(Oid owner, Oid funcid, const char *what);
extern void usercode_compile_unchecked(void (*compile) (void *arg), void *arg);
extern void usercode_timeout_in_worker(void);
extern void usercode_timeout_restart(void);
extern char *usercode_row_json(Oid owner, Datum row);
extern char *usercode_row_json_gated(Datum row);

/*
 * The EXECUTE privileges a compiled view or filter depends on, checked
 * when it is compiled and again, for the events decoded after, whenever
 * pg_proc changes (a GRANT or REVOKE): see usercode_acl_ok.
 */
typedef struct UserCodeAcl
{
	MemoryContext cxt;			/* the plan's, where the checks live */
	List	   *checks;			/* UserCodeAclCheck */
	uint64		generation;		/* of pg_proc when last checked */
	int			denied_code;
	char	   *denied;			/* why the last check failed, or NULL */
} UserCodeAcl;

extern void usercode_acl_add(UserCodeAcl *acl, Oid funcid, Oid role, const char *what);
extern void usercode_acl_add_expr(UserCodeAcl *acl, Node *expr, Oid role);
extern bool usercode_acl_ok(UserCodeAcl *acl);
extern void usercode_acl_recheck(UserCodeAcl *acl);

#endif							/* STREAMEXT_USERCODE_H */
