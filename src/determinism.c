/*-------------------------------------------------------------------------
 *
 * determinism.c
 *	  What a continuous view's query or a subscription's filter may call.
 *	  A view computes the same rows live, in a backfill, in a rebuild and
 *	  after a restore; the worker evaluates a filter again after a crash and
 *	  when dead letters are replayed.  So both call only IMMUTABLE
 *	  functions, operators and casts, the support functions of their
 *	  aggregates included: a STABLE one may read the clock, the transaction,
 *	  the session's settings (TimeZone: the worker's are not the creating
 *	  session's) or other tables (which the decoder must never read), none
 *	  of which is the event.  The error names the first call that is not
 *	  immutable, found as contain_mutable_functions() finds one.
 *
 *	  A function its owner declared deterministic to streamext
 *	  (streamext.declare_deterministic: some extensions leave deterministic
 *	  functions VOLATILE, hll's aggregates among them) counts as immutable,
 *	  unless it reads the clock, the transaction or the session.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_proc.h"
#include "nodes/nodeFuncs.h"
#include "nodes/primnodes.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "determinism.h"

/* the first call that is not immutable, as the walker found it */
typedef struct MutableCall
{
	bool		when_or_who_only;	/* look for clock, transaction, session */
	List	   *declared;		/* OIDs of functions declared deterministic */
	Node	   *node;			/* the expression node that makes the call */
	Oid			funcid;			/* the function it calls, if it names one */
} MutableCall;

static bool find_mutable_walker(Node *node, MutableCall *call);
static bool mutable_function(Oid funcid, void *context);
static bool aggregate_support_mutable(Aggref *aggref, MutableCall *call);
static bool depends_on_when_or_who(Oid funcid);
static char *describe_call(const MutableCall *call);
static const char *sql_value_function_name(const SQLValueFunction *svf);

#define IMMUTABLE_HINT \
	"Spell it with immutable functions, e.g. date_bin('1 hour', ts, '2000-01-01') " \
	"or date_trunc('hour', ts AT TIME ZONE 'UTC') for date_trunc('hour', ts), " \
	"and (ts AT TIME ZONE 'UTC') + interval '1 day' for ts + interval '1 day'; " \
	"mark a function of your own IMMUTABLE only if it is."

#define VOLATILE_HINT \
	"Compute the value in the producer and store it in a column of the stream; " \
	"mark a function of your own IMMUTABLE only if it is.  If an extension declares " \
	"a deterministic function VOLATILE, its owner can say so with " \
	"streamext.declare_deterministic()."

/*
 * determinism_check refuses an expression (a view's target list, WHERE and
 * HAVING in one list; a filter) that calls anything not IMMUTABLE and not
 * in declared (catalog_deterministic_functions), naming the call: one that
 * reads the clock, the transaction or the session first, wherever it is,
 * since no immutable spelling replaces it.  query_text is the text the
 * expression was analysed from, for the error's position, or NULL.
 */
void
determinism_check(Node *expr, DeterminismUse use, const char *query_text, List *declared)
{
	MutableCall call = {true, declared, NULL, InvalidOid};
	bool		view = (use == DETERMINISM_VIEW);
	const char *where = view ? "a continuous view" : "a subscription filter";
	int			location;
	char		volatility;
	const char *why;

	/* now() - interval '1 hour': now() is what to take out, not the minus */
	if (find_mutable_walker(expr, &call))
	{
		location = exprLocation(call.node);
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s is not allowed in %s", describe_call(&call), where),
				 view ?
				 errdetail("It depends on when or by whom it is computed, and a view computes the same rows live, in a backfill, in a rebuild and after a restore.") :
				 errdetail("It depends on when or by whom it is evaluated, and the worker evaluates a filter again after a crash and when dead letters are replayed."),
				 view ?
				 errhint("Filter on time when you read the view instead, e.g. WHERE window_end > now() - interval '1 hour'.") :
				 errhint("Filter on the event's own time column, or on time in the client that polls."),
				 (query_text && location >= 0) ? internalerrposition(location + 1) : 0,
				 (query_text && location >= 0) ? internalerrquery(query_text) : 0));
	}
	call.when_or_who_only = false;
	if (!find_mutable_walker(expr, &call))
		return;
	location = exprLocation(call.node);
	why = view ? "a view computes the same rows live, in a backfill, in a rebuild and after a restore" :
		"the worker, whose settings are not your session's, evaluates a filter again after a crash and when dead letters are replayed";
	volatility = OidIsValid(call.funcid) ? func_volatile(call.funcid) : PROVOLATILE_VOLATILE;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s is not allowed in %s", describe_call(&call), where),
			 volatility == PROVOLATILE_STABLE ?
			 errdetail("Function %s is stable, not immutable: its result may depend on settings such as TimeZone, or on tables; %s.",
					   format_procedure(call.funcid), why) :
			 OidIsValid(call.funcid) ?
			 errdetail("Function %s is volatile: its result may change from one call to the next; %s.",
					   format_procedure(call.funcid), why) :
			 errdetail("It is volatile: its result may change from one call to the next; %s.", why),
			 volatility == PROVOLATILE_STABLE ? errhint(IMMUTABLE_HINT) :
			 errhint(VOLATILE_HINT),
			 (query_text && location >= 0) ? internalerrposition(location + 1) : 0,
			 (query_text && location >= 0) ? internalerrquery(query_text) : 0));
}

/*
 * find_mutable_walker finds the first call that is not immutable and keeps
 * it in call; it mirrors contain_mutable_functions_walker, and also looks
 * at the support functions of aggregates.
 */
static bool
find_mutable_walker(Node *node, MutableCall *call)
{
	if (node == NULL)
		return false;
	/* CURRENT_TIMESTAMP and the like are stable, nextval is volatile */
	if (IsA(node, SQLValueFunction) ||
		(IsA(node, NextValueExpr) && !call->when_or_who_only))
	{
		call->node = node;
		return true;
	}
	if (check_functions_in_node(node, mutable_function, call) ||
		(IsA(node, Aggref) && aggregate_support_mutable((Aggref *) node, call)))
	{
		call->node = node;
		return true;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, find_mutable_walker, (void *) call, 0);
	return expression_tree_walker(node, find_mutable_walker, (void *) call);
}

/*
 * mutable_function is the check_functions_in_node callback: true, and the
 * function kept in the MutableCall, if it is not immutable (or, on the
 * first pass, if it reads the clock, the transaction or the session).
 */
static bool
mutable_function(Oid funcid, void *context)
{
	MutableCall *call = (MutableCall *) context;

	if (call->when_or_who_only ? !depends_on_when_or_who(funcid) :
		(func_volatile(funcid) == PROVOLATILE_IMMUTABLE ||
		 list_member_oid(call->declared, funcid)))
		return false;
	call->funcid = funcid;
	return true;
}

/*
 * aggregate_support_mutable says whether a function of an aggregate
 * (transition, final, combine, serial, deserial) is not immutable, which
 * CREATE AGGREGATE does not check: an aggregate itself is always marked
 * immutable.
 */
static bool
aggregate_support_mutable(Aggref *aggref, MutableCall *call)
{
	HeapTuple	tup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggref->aggfnoid));
	Form_pg_aggregate agg;
	Oid			support[5];
	int			i;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for aggregate %u", aggref->aggfnoid);
	agg = (Form_pg_aggregate) GETSTRUCT(tup);
	support[0] = agg->aggtransfn;
	support[1] = agg->aggfinalfn;
	support[2] = agg->aggcombinefn;
	support[3] = agg->aggserialfn;
	support[4] = agg->aggdeserialfn;
	ReleaseSysCache(tup);
	for (i = 0; i < lengthof(support); i++)
		if (OidIsValid(support[i]) && mutable_function(support[i], call))
			return true;
	return false;
}

/*
 * depends_on_when_or_who says whether a function reads the clock, the
 * transaction or the session (as the SQLValueFunctions do): no spelling of
 * it is immutable, and the hint is to filter when reading instead.
 */
static bool
depends_on_when_or_who(Oid funcid)
{
	switch (funcid)
	{
		case F_NOW:
		case F_TRANSACTION_TIMESTAMP:
		case F_STATEMENT_TIMESTAMP:
		case F_CLOCK_TIMESTAMP:
		case F_TIMEOFDAY:
		case F_PG_POSTMASTER_START_TIME:
		case F_PG_CONF_LOAD_TIME:
		case F_TXID_CURRENT:
		case F_TXID_CURRENT_IF_ASSIGNED:
		case F_TXID_CURRENT_SNAPSHOT:
		case F_PG_CURRENT_XACT_ID:
		case F_PG_CURRENT_XACT_ID_IF_ASSIGNED:
		case F_PG_CURRENT_SNAPSHOT:
		case F_PG_BACKEND_PID:
			return true;
		default:
			return false;
	}
}

/*
 * describe_call names the call as the user wrote it: a function, an
 * operator, a cast, an aggregate, or an SQL keyword such as
 * CURRENT_TIMESTAMP.
 */
static char *
describe_call(const MutableCall *call)
{
	switch (nodeTag(call->node))
	{
		case T_SQLValueFunction:
			return pstrdup(sql_value_function_name((SQLValueFunction *) call->node));
		case T_NextValueExpr:
			return psprintf("the next value of sequence \"%s\"",
							get_rel_name(((NextValueExpr *) call->node)->seqid));
		case T_OpExpr:
		case T_DistinctExpr:
		case T_NullIfExpr:
			return psprintf("operator %s", format_operator(((OpExpr *) call->node)->opno));
		case T_ScalarArrayOpExpr:
			return psprintf("operator %s",
							format_operator(((ScalarArrayOpExpr *) call->node)->opno));
		case T_RowCompareExpr:
			{
				ListCell   *lc;

				foreach(lc, ((RowCompareExpr *) call->node)->opnos)
					if (get_opcode(lfirst_oid(lc)) == call->funcid)
						return psprintf("operator %s", format_operator(lfirst_oid(lc)));
				break;
			}
		case T_CoerceViaIO:
			{
				CoerceViaIO *coerce = (CoerceViaIO *) call->node;

				return psprintf("the cast from %s to %s",
								format_type_be(exprType((Node *) coerce->arg)),
								format_type_be(coerce->resulttype));
			}
		case T_Aggref:
			return psprintf("aggregate %s",
							format_procedure(((Aggref *) call->node)->aggfnoid));
		default:
			break;
	}
	return psprintf("function %s", format_procedure(call->funcid));
}

/*
 * sql_value_function_name is the keyword of an SQLValueFunction.
 */
static const char *
sql_value_function_name(const SQLValueFunction *svf)
{
	switch (svf->op)
	{
		case SVFOP_CURRENT_DATE:
			return "CURRENT_DATE";
		case SVFOP_CURRENT_TIME:
		case SVFOP_CURRENT_TIME_N:
			return "CURRENT_TIME";
		case SVFOP_CURRENT_TIMESTAMP:
		case SVFOP_CURRENT_TIMESTAMP_N:
			return "CURRENT_TIMESTAMP";
		case SVFOP_LOCALTIME:
		case SVFOP_LOCALTIME_N:
			return "LOCALTIME";
		case SVFOP_LOCALTIMESTAMP:
		case SVFOP_LOCALTIMESTAMP_N:
			return "LOCALTIMESTAMP";
		case SVFOP_CURRENT_ROLE:
			return "CURRENT_ROLE";
		case SVFOP_CURRENT_USER:
			return "CURRENT_USER";
		case SVFOP_USER:
			return "USER";
		case SVFOP_SESSION_USER:
			return "SESSION_USER";
		case SVFOP_CURRENT_CATALOG:
			return "CURRENT_CATALOG";
		case SVFOP_CURRENT_SCHEMA:
			return "CURRENT_SCHEMA";
	}
	return "an SQL value function";
}
