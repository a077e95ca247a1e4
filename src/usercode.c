/*-------------------------------------------------------------------------
 *
 * usercode.c
 *	  The one gate through which streamext runs code that a user can
 *	  define: aggregate transition, combine, final, serial and deserial
 *	  functions, view and filter expressions, and the worker's DML on a
 *	  user's table (which fires that table's triggers, defaults, CHECK and
 *	  index expressions).
 *
 *	  The worker is a superuser process.  Behind the gate, code runs as the
 *	  owner of the object it serves, under SECURITY_RESTRICTED_OPERATION
 *	  and inside a GUC nesting level that is unwound when it leaves, as
 *	  REFRESH MATERIALIZED VIEW and VACUUM do since CVE-2022-1552: a
 *	  set_config() of one owner's function cannot reach the next owner's.
 *	  Functions and expressions run read-only (XactReadOnly), so that one
 *	  that tries to write fails inside its own call; one that makes the
 *	  transaction take an XID without writing (txid_current()) is caught
 *	  when it leaves, because an XID taken while decoding cannot be given
 *	  back (PostgreSQL raises "output plugin used XID" after the commit
 *	  callback, where nothing can catch it).
 *
 *	  usercode_isolated adds a subtransaction, so that a failure costs the
 *	  one event, group or row being worked on and is handed back to the
 *	  caller, which sets it aside as a dead letter.
 *
 *	  Every call of a user's function or expression in streamext goes
 *	  through usercode_call, usercode_qual or usercode_eval; scripts/
 *	  check_usercode_gate.sh fails the test suite when a file other than
 *	  this one calls the executor or fmgr on user code directly.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_proc.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/resowner.h"

#include "usercode.h"

/*
 * usercode_enter puts the current process behind the gate for owner: the
 * owner's rights, restricted, in a GUC nesting level of its own, read-only
 * unless the caller is the worker writing the owner's own table.  Entering
 * again for the owner already behind the gate costs nothing: a view's
 * expressions and aggregates run behind one gate per event.
 */
void
usercode_enter(UserCodeGate *gate, Oid owner, UserCodeAccess access)
{
	gate->access = access;
	gate->entered = !(GetUserId() == owner && InSecurityRestrictedOperation() &&
					  (access == USERCODE_MAY_WRITE || XactReadOnly));
	if (!gate->entered)
		return;
	GetUserIdAndSecContext(&gate->save_userid, &gate->save_sec_context);
	gate->nestlevel = NewGUCNestLevel();
	gate->save_read_only = XactReadOnly;
	gate->had_xid = TransactionIdIsValid(GetTopTransactionIdIfAny());
	SetUserIdAndSecContext(owner, gate->save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	if (access == USERCODE_READ_ONLY)
		XactReadOnly = true;
}

/*
 * usercode_leave undoes usercode_enter.  A read-only call that left the
 * transaction with an XID it did not have is an error here, where the
 * caller's subtransaction can still catch it.  On an error inside the gate
 * usercode_leave is not reached: aborting the (sub)transaction restores the
 * user, the security context, the GUCs and XactReadOnly.
 */
void
usercode_leave(UserCodeGate *gate)
{
	bool		took_xid;

	if (!gate->entered)
		return;
	took_xid = (gate->access == USERCODE_READ_ONLY && !gate->had_xid &&
				TransactionIdIsValid(GetTopTransactionIdIfAny()));
	AtEOXact_GUC(false, gate->nestlevel);
	SetUserIdAndSecContext(gate->save_userid, gate->save_sec_context);
	XactReadOnly = gate->save_read_only;
	gate->entered = false;
	if (took_xid)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("a function of a continuous view or subscription made the transaction take a transaction ID"),
				 errdetail("streamext computes views while it decodes the write-ahead log, where nothing may be written."),
				 errhint("Remove calls of txid_current(), pg_current_xact_id() and the like from the view or filter.")));
}

/*
 * usercode_call calls a user's function, set up in fcinfo, as owner.
 */
Datum
usercode_call(Oid owner, FunctionCallInfo fcinfo)
{
	UserCodeGate gate;
	Datum		result;

	usercode_enter(&gate, owner, USERCODE_READ_ONLY);
	result = FunctionCallInvoke(fcinfo);
	usercode_leave(&gate);
	return result;
}

/*
 * usercode_qual evaluates a user's condition as owner.
 */
bool
usercode_qual(Oid owner, ExprState *qual, ExprContext *econtext)
{
	UserCodeGate gate;
	bool		result;

	usercode_enter(&gate, owner, USERCODE_READ_ONLY);
	result = ExecQual(qual, econtext);
	usercode_leave(&gate);
	return result;
}

/*
 * usercode_eval evaluates a user's expression as owner.
 */
Datum
usercode_eval(Oid owner, ExprState *expr, ExprContext *econtext, bool *isnull)
{
	UserCodeGate gate;
	Datum		result;

	usercode_enter(&gate, owner, USERCODE_READ_ONLY);
	result = ExecEvalExpr(expr, econtext, isnull);
	usercode_leave(&gate);
	return result;
}

/*
 * usercode_isolated runs work(arg) behind the gate for owner, in a
 * subtransaction and in the caller's memory context, so that what it builds
 * outlives the subtransaction.  Returns true when it succeeded; otherwise
 * the subtransaction is rolled back and failure says why, its error
 * allocated in the caller's context.  owner InvalidOid runs the work as
 * the current user: the worker's own machinery, isolated all the same.
 */
bool
usercode_isolated(Oid owner, UserCodeAccess access, void (*work) (void *arg),
				  void *arg, UserCodeFailure *failure)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner resowner = CurrentResourceOwner;
	bool		had_xid = TransactionIdIsValid(GetTopTransactionIdIfAny());
	volatile bool ok = true;

	failure->error = NULL;
	failure->assigned_xid = false;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		if (OidIsValid(owner))
		{
			UserCodeGate gate;

			usercode_enter(&gate, owner, access);
			work(arg);
			usercode_leave(&gate);
		}
		else
			work(arg);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		failure->error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = resowner;
	/* a write of the worker's own is no failure; an XID taken by read-only code is */
	failure->assigned_xid = (access == USERCODE_READ_ONLY && !had_xid &&
							 TransactionIdIsValid(GetTopTransactionIdIfAny()));
	return ok && !failure->assigned_xid;
}

/*
 * usercode_check_execute refuses a function that owner may not execute, as
 * the executor does when it initialises a call (ExecInitFunc, ExecInitAgg).
 * what names the function's role, for the message.
 */
void
usercode_check_execute(Oid owner, Oid funcid, const char *what)
{
	if (pg_proc_aclcheck(funcid, owner, ACL_EXECUTE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for function %s", format_procedure(funcid)),
				 errdetail("Role %s needs EXECUTE on it as %s.",
						   GetUserNameFromId(owner, false), what),
				 errhint("GRANT EXECUTE ON FUNCTION %s TO %s;",
						 format_procedure_qualified(funcid),
						 quote_identifier(GetUserNameFromId(owner, false)))));
}
