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
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/typcache.h"
#include "access/htup_details.h"
#include "nodes/nodeFuncs.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/timeout.h"
#include "miscadmin.h"

#include "settings.h"
#include "usercode.h"

/* one privilege a view or filter needs */
typedef struct UserCodeAclCheck
{
	Oid			funcid;
	Oid			role;
	const char *what;
} UserCodeAclCheck;

/* counts changes of pg_proc seen by this process, as invalidations */
static uint64 proc_generation = 1;

/* usercode_check_execute is deferred to usercode_acl_ok: see below */
static bool execute_checks_deferred = false;
static bool proc_callback_registered = false;

/* a row to write as JSON, for usercode_row_json */
typedef struct RowJson
{
	Datum		row;
	char	   *json;
} RowJson;

/* does this process cancel user code that runs too long (the worker) */
static bool timeout_in_this_process = false;
static TimestampTz armed_at;	/* when the outermost call's clock started */
static int	timer_depth = 0;	/* 1 while an armed call runs */

static bool run_isolated(Oid owner, UserCodeAccess access, bool timeout,
						 void (*work) (void *arg), void *arg, UserCodeFailure *failure);
static bool arm_timeout(void);
static bool disarm_timeout(bool armed);
static void proc_changed(Datum arg, int cacheid, uint32 hashvalue);
static void row_json_work(void *arg);
static char *row_json_plain(Datum row);
static bool collect_functions_walker(Node *node, void *context);

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

	/*
	 * The caller's search_path must not choose the functions and operators
	 * the owner's code finds (a reader's schema first, say): the worker's
	 * own, which names no user's schema, as PostgreSQL 17's maintenance
	 * commands do.  The worker has it already: no GUC is touched per event.
	 */
	if (strcmp(namespace_search_path, USERCODE_SEARCH_PATH) != 0)
		(void) set_config_option("search_path", USERCODE_SEARCH_PATH, PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
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
 * usercode_eval_callers evaluates an expression of the caller's own query,
 * as the executor around it does: no gate, for it is no view owner's code,
 * and it must see the caller's rights and settings as the rest of the
 * query does (a lookup by key computes the keys its filter compares).
 */
Datum
usercode_eval_callers(ExprState *expr, ExprContext *econtext, bool *isnull)
{
	return ExecEvalExpr(expr, econtext, isnull);
}

/*
 * usercode_timeout_in_worker makes usercode_isolated cancel a call that
 * runs longer than streamext.usercode_timeout: in the worker, whose one
 * slow call would hold up every view of the database.  A backend's own
 * statement_timeout governs what it runs.
 */
void
usercode_timeout_in_worker(void)
{
	timeout_in_this_process = true;
}

/*
 * arm_timeout starts the clock of an outermost isolated call, with the
 * statement timeout the worker has no other use for.  Arming and disarming
 * it for every event costs no system call (timeout.c keeps one alarm for
 * many); true when armed.
 */
static bool
arm_timeout(void)
{
	if (!timeout_in_this_process || streamext_usercode_timeout_ms <= 0 ||
		get_timeout_active(STATEMENT_TIMEOUT))
		return false;
	enable_timeout_after(STATEMENT_TIMEOUT, streamext_usercode_timeout_ms);
	armed_at = get_timeout_start_time(STATEMENT_TIMEOUT);
	timer_depth++;
	return true;
}

/*
 * usercode_timeout_restart gives the next piece of an armed call a time of
 * its own: the views and subscriptions of one event share a subtransaction,
 * not a clock, so that one owner's slow code cannot use up another's.
 */
void
usercode_timeout_restart(void)
{
	if (timer_depth == 0 || !get_timeout_active(STATEMENT_TIMEOUT))
		return;
	enable_timeout_after(STATEMENT_TIMEOUT, streamext_usercode_timeout_ms);
	armed_at = get_timeout_start_time(STATEMENT_TIMEOUT);
}

/*
 * disarm_timeout stops what arm_timeout started, and says whether the call
 * ran out of its time.  A timeout that went off just after the work was
 * done must not cancel whatever the worker does next.
 */
static bool
disarm_timeout(bool armed)
{
	if (!armed)
		return false;
	timer_depth--;
	disable_timeout(STATEMENT_TIMEOUT, true);
	if (get_timeout_indicator(STATEMENT_TIMEOUT, true))
		QueryCancelPending = false;
	return TimestampDifferenceExceeds(armed_at, GetCurrentTimestamp(),
									  streamext_usercode_timeout_ms);
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
	return run_isolated(owner, access, true, work, arg, failure);
}

/*
 * usercode_isolated_untimed is usercode_isolated for work whose length is
 * the data's, not one event's (loading or recomputing a view, retention,
 * compiling): streamext.usercode_timeout does not apply to it as a whole,
 * only to the calls for one event it makes.
 */
bool
usercode_isolated_untimed(Oid owner, UserCodeAccess access, void (*work) (void *arg),
						  void *arg, UserCodeFailure *failure)
{
	return run_isolated(owner, access, false, work, arg, failure);
}

/* run_isolated does the work of usercode_isolated and its untimed sibling */
static bool
run_isolated(Oid owner, UserCodeAccess access, bool timeout, void (*work) (void *arg),
			 void *arg, UserCodeFailure *failure)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner resowner = CurrentResourceOwner;
	bool		had_xid = TransactionIdIsValid(GetTopTransactionIdIfAny());
	volatile bool ok = true;
	bool		timed;

	failure->error = NULL;
	failure->assigned_xid = false;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	timed = timeout && arm_timeout();
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
		(void) disarm_timeout(timed);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		bool		fired;

		MemoryContextSwitchTo(cxt);
		fired = disarm_timeout(timed);
		failure->error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		if (!timed && timer_depth > 0 && failure->error->sqlerrcode == ERRCODE_QUERY_CANCELED)
		{
			/* an outer call's time ran out: its cancel is not this call's to keep */
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = resowner;
			ReThrowError(failure->error);
		}
		if (fired && failure->error->sqlerrcode == ERRCODE_QUERY_CANCELED)
		{
			pfree(failure->error->message);
			failure->error->message =
				psprintf("a function of a continuous view or subscription ran longer than streamext.usercode_timeout (%d ms)",
						 streamext_usercode_timeout_ms);
		}
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = resowner;
	/* a write of the worker's own is no failure; an XID taken by read-only code is */
	failure->assigned_xid = (access == USERCODE_READ_ONLY && !had_xid &&
							 TransactionIdIsValid(GetTopTransactionIdIfAny()));
	if (ok && failure->assigned_xid)
	{
		/* taken by code that caught its own error: the failure is the work's */
		failure->error = palloc0(sizeof(ErrorData));
		failure->error->elevel = ERROR;
		failure->error->sqlerrcode = ERRCODE_READ_ONLY_SQL_TRANSACTION;
		failure->error->message = pstrdup("a function of a continuous view or subscription made the transaction take a transaction ID");
	}
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
	if (execute_checks_deferred)
		return;
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

/*
 * usercode_compile_unchecked runs compile (for usercode_isolated) as the
 * worker itself, security-restricted, with usercode_check_execute off: for
 * a view whose owner lost EXECUTE on a function it calls.  The worker must
 * still load such a view (after a rewind, say), or its events would be
 * neither counted nor set aside until some later reload.  Compiling runs no
 * user code; every call of the compiled code is gated by usercode_acl_ok,
 * which checks the same functions, as the owner, as of each event: while
 * EXECUTE is revoked the events are set aside, as they are for a view
 * loaded before the REVOKE.  The caller marks the plan's UserCodeAcl for a
 * fresh check (usercode_acl_recheck).
 */
void
usercode_compile_unchecked(void (*compile) (void *arg), void *arg)
{
	UserCodeGate gate;

	usercode_enter(&gate, GetUserId(), USERCODE_READ_ONLY);
	execute_checks_deferred = true;
	PG_TRY();
	{
		compile(arg);
	}
	PG_FINALLY();
	{
		execute_checks_deferred = false;
	}
	PG_END_TRY();
	usercode_leave(&gate);
}

/*
 * usercode_acl_recheck makes the next usercode_acl_ok check acl afresh.
 */
void
usercode_acl_recheck(UserCodeAcl *acl)
{
	acl->generation = 0;
}

/*
 * proc_changed notes that pg_proc changed.  While the worker decodes, the
 * invalidations of each decoded transaction are replayed at its place in
 * the WAL, so the change is seen by the events committed after it.
 */
static void
proc_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	proc_generation++;
}

/*
 * usercode_acl_add records that role must be able to execute funcid; what
 * names the role's part, for the message.
 */
void
usercode_acl_add(UserCodeAcl *acl, Oid funcid, Oid role, const char *what)
{
	MemoryContext old;
	UserCodeAclCheck *check;

	if (acl->cxt == NULL)
		acl->cxt = CurrentMemoryContext;
	old = MemoryContextSwitchTo(acl->cxt);
	check = palloc(sizeof(UserCodeAclCheck));
	if (!proc_callback_registered)
	{
		/* a privilege can change with the function or with a role's memberships */
		CacheRegisterSyscacheCallback(PROCOID, proc_changed, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, proc_changed, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHOID, proc_changed, (Datum) 0);
		proc_callback_registered = true;
	}
	check->funcid = funcid;
	check->role = role;
	check->what = what;
	acl->checks = lappend(acl->checks, check);
	acl->generation = proc_generation;
	MemoryContextSwitchTo(old);
}

/* what collect_functions_walker records into */
typedef struct CollectContext
{
	UserCodeAcl *acl;
	Oid			role;
} CollectContext;

/*
 * collect_functions_walker records the functions whose EXECUTE privilege
 * the executor checks when it initialises an expression (ExecInitFunc,
 * ExecInitAgg): functions, operators and aggregates.
 */
static bool
collect_functions_walker(Node *node, void *context)
{
	CollectContext *cc = context;
	Oid			funcid = InvalidOid;

	if (node == NULL)
		return false;
	switch (nodeTag(node))
	{
		case T_FuncExpr:
			funcid = ((FuncExpr *) node)->funcid;
			break;
		case T_OpExpr:
		case T_DistinctExpr:
		case T_NullIfExpr:
			set_opfuncid((OpExpr *) node);
			funcid = ((OpExpr *) node)->opfuncid;
			break;
		case T_ScalarArrayOpExpr:
			set_sa_opfuncid((ScalarArrayOpExpr *) node);
			funcid = ((ScalarArrayOpExpr *) node)->opfuncid;
			break;
		case T_Aggref:
			funcid = ((Aggref *) node)->aggfnoid;
			break;
		default:
			break;
	}
	if (OidIsValid(funcid))
		usercode_acl_add(cc->acl, funcid, cc->role, "the owner");
	return expression_tree_walker(node, collect_functions_walker, context);
}

/*
 * usercode_acl_add_expr records every function an expression (or a list
 * of them, or a target list) calls, to be executed by role.
 */
void
usercode_acl_add_expr(UserCodeAcl *acl, Node *expr, Oid role)
{
	CollectContext cc = {acl, role};

	(void) collect_functions_walker(expr, &cc);
}

/*
 * usercode_acl_ok says whether every privilege recorded still holds,
 * checking again only when pg_proc changed since the last check.  In the
 * worker the check reads the catalog as of the event being decoded, so a
 * REVOKE applies to the events committed after it; acl->denied says why
 * not.
 */
bool
usercode_acl_ok(UserCodeAcl *acl)
{
	ListCell   *lc;

	if (acl->generation == proc_generation)
		return acl->denied == NULL;
	acl->generation = proc_generation;
	acl->denied = NULL;
	foreach(lc, acl->checks)
	{
		UserCodeAclCheck *check = lfirst(lc);

		if (!SearchSysCacheExists1(PROCOID, ObjectIdGetDatum(check->funcid)))
		{
			acl->denied_code = ERRCODE_UNDEFINED_FUNCTION;
			acl->denied = MemoryContextStrdup(acl->cxt,
											  psprintf("function %u of the view or filter does not exist any more",
													   check->funcid));
			break;
		}
		if (pg_proc_aclcheck(check->funcid, check->role, ACL_EXECUTE) != ACLCHECK_OK)
		{
			acl->denied_code = ERRCODE_INSUFFICIENT_PRIVILEGE;
			acl->denied = MemoryContextStrdup(acl->cxt,
											  psprintf("permission denied for function %s",
													   format_procedure(check->funcid)));
			break;
		}
	}
	return acl->denied == NULL;
}

/*
 * usercode_row_json is a row as JSON text, by PostgreSQL's row_to_json,
 * behind the gate for owner: a column of a type with a cast to json calls
 * that cast, which the type's owner defined, and it must not run as the
 * worker.  When the cast fails the row is written without casts (every
 * column as its type's text), so that a dead letter still shows the event.
 * Allocated in the current memory context.
 */
char *
usercode_row_json(Oid owner, Datum row)
{
	RowJson		rj = {row, NULL};
	UserCodeFailure failure;

	/*
	 * Without an XID the transaction may be the worker's decoding, which
	 * must never take one: a cast that does could not be given back.  Dead
	 * letters are written without casts there.
	 */
	if (!TransactionIdIsValid(GetTopTransactionIdIfAny()))
		return row_json_plain(row);
	if (usercode_isolated(owner, USERCODE_READ_ONLY, row_json_work, &rj, &failure))
		return rj.json;
	if (failure.error != NULL)
		FreeErrorData(failure.error);
	return row_json_plain(row);
}

/* row_json_work does the work of usercode_row_json, for usercode_isolated */
static void
row_json_work(void *arg)
{
	RowJson    *rj = arg;

	rj->json = usercode_row_json_gated(rj->row);
}

/*
 * usercode_row_json_gated is row_to_json for a caller already behind the
 * gate of the row's owner, and in a subtransaction of its own (a
 * subscription's filter and the JSON of the row it passes, in one).
 */
char *
usercode_row_json_gated(Datum row)
{
	Assert(InSecurityRestrictedOperation());
	return TextDatumGetCString(DirectFunctionCall1(row_to_json, row));
}

/*
 * row_json_plain writes a row as a JSON object of its columns' text, by
 * their types' output functions only: no user-defined cast is looked up.
 */
static char *
row_json_plain(Datum row)
{
	HeapTupleHeader td = DatumGetHeapTupleHeader(row);
	TupleDesc	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(td),
											  HeapTupleHeaderGetTypMod(td));
	HeapTupleData tuple;
	StringInfoData buf;
	int			i;
	bool		first = true;

	tuple.t_len = HeapTupleHeaderGetDatumLength(td);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = td;
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		isnull;
		Datum		value;

		if (att->attisdropped)
			continue;
		if (!first)
			appendStringInfoString(&buf, ", ");
		first = false;
		escape_json(&buf, NameStr(att->attname));
		appendStringInfoString(&buf, ": ");
		value = heap_getattr(&tuple, i + 1, desc, &isnull);
		if (isnull)
			appendStringInfoString(&buf, "null");
		else
		{
			Oid			typoutput;
			bool		isvarlena;
			char	   *text;

			getTypeOutputInfo(att->atttypid, &typoutput, &isvarlena);
			text = OidOutputFunctionCall(typoutput, value);
			/* as row_to_json writes the built-in types it knows */
			switch (getBaseType(att->atttypid))
			{
				case BOOLOID:
					appendStringInfoString(&buf, DatumGetBool(value) ? "true" : "false");
					break;
				case INT2OID:
				case INT4OID:
				case INT8OID:
				case FLOAT4OID:
				case FLOAT8OID:
				case NUMERICOID:
					if (strpbrk(text, "NIni") == NULL)
						appendStringInfoString(&buf, text);
					else
						escape_json(&buf, text);	/* NaN, Infinity */
					break;
				case JSONOID:
				case JSONBOID:
					appendStringInfoString(&buf, text);
					break;
				default:
					escape_json(&buf, text);
					break;
			}
		}
	}
	appendStringInfoChar(&buf, '}');
	ReleaseTupleDesc(desc);
	return buf.data;
}
