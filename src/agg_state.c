/*-------------------------------------------------------------------------
 *
 * agg_state.c
 *	  Aggregate transition states outside of an Agg plan node: set-up from
 *	  pg_aggregate, advance, combine, serialise, deserialise and finalise,
 *	  with the semantics of nodeAgg.c (strictness, NULL initial values,
 *	  pass-by-reference states living in the window's memory context).
 *
 *	  Transition functions of aggregates whose state is internal check
 *	  AggCheckCallContext() and allocate their state in the memory context
 *	  it returns, so every call passes a stand-in AggState whose current
 *	  aggregate context is the context of the window being advanced.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "libpq/pqformat.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_agg.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/expandeddatum.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "agg_state.h"
#include "datum_bytes.h"
#include "usercode.h"

#define STATE_VALUE 0
#define STATE_NULL 1
#define STATE_NOVALUE 2

static void agg_set_context(AggSet *set, MemoryContext cxt);
static void agg_init_value(AggSet *set, AggRunner *agg, AggValue *v,
						   MemoryContext cxt);
static void init_transition_value(AggRunner *agg, AggValue *v, MemoryContext cxt);
static void advance_transition(AggSet *set, AggRunner *agg, AggValue *v, MemoryContext cxt);
static DistinctSet *distinct_set_of(AggValue *v, MemoryContext cxt);
static void transition_over_set(AggSet *set, AggRunner *agg, AggValue *v, AggValue *tv,
								MemoryContext cxt);
static void advance_with(AggSet *set, AggRunner *agg, AggValue *tv, Datum value, bool isnull,
						 MemoryContext cxt);
static void agg_combine(AggSet *set, AggRunner *agg, AggValue *v,
						Datum other, bool otherisnull, MemoryContext cxt);
static Datum get_init_value(Oid transtype, Datum textInitVal);
static void check_aggregate_privileges(UserCodeAcl *acl, Oid view_owner, Oid aggfnoid,
									   Oid transfn, Oid combinefn, Oid serialfn,
									   Oid deserialfn, Oid finalfn);
static void init_fcinfo(FmgrInfo *flinfo, Oid fnoid, Expr *expr,
						FunctionCallInfo *fcinfo, int nargs, Oid collation,
						AggSet *set);

/*
 * agg_runner_init prepares one Aggref of a view.  Aggregates that cannot
 * be combined are refused by name: open windows are combined when they are
 * restored, corrected and read.
 */
void
agg_runner_init(AggSet *set, AggRunner *agg, Aggref *aggref)
{
	HeapTuple	tup;
	Form_pg_aggregate aggform;
	Oid			inputTypes[FUNC_MAX_ARGS];
	int			numArguments;
	Datum		textInitVal;
	Expr	   *transfnexpr;
	Expr	   *combinefnexpr;
	Expr	   *expr;
	Oid			collation = aggref->inputcollid;
	ListCell   *lc;
	int			i;
	Oid			transfn_oid,
				combinefn_oid,
				serialfn_oid,
				deserialfn_oid,
				finalfn_oid;
	bool		finalextra;

	memset(agg, 0, sizeof(AggRunner));
	agg->aggfnoid = aggref->aggfnoid;

	if (aggref->aggorder != NIL || aggref->aggkind != AGGKIND_NORMAL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aggregate %s with ORDER BY or WITHIN GROUP is not supported in a continuous view",
						format_procedure(aggref->aggfnoid)),
				 errhint("Open windows are combined from partial states, which these forms cannot be.")));
	if (aggref->aggdistinct != NIL)
	{
		/* its state is the set of values, combined by union (agg_distinct.c) */
		if (list_length(aggref->args) != 1)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("aggregate %s with DISTINCT over several arguments is not supported in a continuous view",
							format_procedure(aggref->aggfnoid)),
					 errhint("Take DISTINCT over one expression, e.g. count(DISTINCT user_id).")));
		agg->distinct = true;
		set->has_distinct = true;
	}

	tup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggref->aggfnoid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for aggregate %u", aggref->aggfnoid);
	aggform = (Form_pg_aggregate) GETSTRUCT(tup);

	transfn_oid = aggform->aggtransfn;
	combinefn_oid = aggform->aggcombinefn;
	serialfn_oid = aggform->aggserialfn;
	deserialfn_oid = aggform->aggdeserialfn;
	finalfn_oid = aggform->aggfinalfn;
	finalextra = aggform->aggfinalextra;

	check_aggregate_privileges(set->acl, set->owner, aggref->aggfnoid, transfn_oid,
							   combinefn_oid, serialfn_oid, deserialfn_oid,
							   finalfn_oid);

	numArguments = get_aggregate_argtypes(aggref, inputTypes);
	agg->numargs = numArguments;
	agg->transtype = resolve_aggregate_transtype(aggref->aggfnoid,
												 aggform->aggtranstype,
												 inputTypes, numArguments);
	textInitVal = SysCacheGetAttr(AGGFNOID, tup, Anum_pg_aggregate_agginitval,
								  &agg->initvalisnull);
	if (!agg->initvalisnull)
		agg->initval = get_init_value(agg->transtype, textInitVal);
	ReleaseSysCache(tup);

	if (!OidIsValid(combinefn_oid) && !agg->distinct)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aggregate %s cannot be used in a continuous view",
						format_procedure(aggref->aggfnoid)),
				 errdetail("It has no combine function."),
				 errhint("Use an aggregate that PostgreSQL can run in parallel, such as count, sum, avg, min, max or stddev.")));
	if (agg->transtype == INTERNALOID && !agg->distinct &&
		(!OidIsValid(serialfn_oid) || !OidIsValid(deserialfn_oid)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aggregate %s cannot be used in a continuous view",
						format_procedure(aggref->aggfnoid)),
				 errdetail("Its state is internal and it has no serialization functions."),
				 errhint("Use an aggregate that PostgreSQL can run in parallel, such as count, sum, avg, min, max or stddev.")));

	get_typlenbyval(agg->transtype, &agg->transtyplen, &agg->transtypbyval);
	agg->resulttype = aggref->aggtype;

	/* transition function: (state, args...) */
	build_aggregate_transfn_expr(inputTypes, numArguments, 0,
								 aggref->aggvariadic, agg->transtype,
								 collation, transfn_oid, InvalidOid,
								 &transfnexpr, NULL);
	init_fcinfo(&agg->transfn, transfn_oid, transfnexpr, &agg->trans_fcinfo,
				numArguments + 1, collation, set);
	agg->transfn_strict = agg->transfn.fn_strict;

	if (agg->distinct)
		distinct_spec_init(&agg->distinct_spec, set->owner, inputTypes[0], collation,
						   linitial_node(SortGroupClause, aggref->aggdistinct));
	else
	{
		/* combine function: (state, state) */
		build_aggregate_transfn_expr(&agg->transtype, 1, 0, false, agg->transtype,
									 collation, combinefn_oid, InvalidOid,
									 &combinefnexpr, NULL);
		init_fcinfo(&agg->combinefn, combinefn_oid, combinefnexpr,
					&agg->combine_fcinfo, 2, collation, set);
		agg->combinefn_strict = agg->combinefn.fn_strict;
	}

	if (agg->transtype == INTERNALOID && !agg->distinct)
	{
		build_aggregate_serialfn_expr(serialfn_oid, &expr);
		init_fcinfo(&agg->serialfn, serialfn_oid, expr, &agg->serial_fcinfo,
					1, InvalidOid, set);
		build_aggregate_deserialfn_expr(deserialfn_oid, &expr);
		init_fcinfo(&agg->deserialfn, deserialfn_oid, expr,
					&agg->deserial_fcinfo, 2, InvalidOid, set);
	}

	if (OidIsValid(finalfn_oid))
	{
		agg->has_finalfn = true;
		agg->numfinalargs = finalextra ? numArguments + 1 : 1;
		build_aggregate_finalfn_expr(inputTypes, agg->numfinalargs,
									 agg->transtype, aggref->aggtype,
									 collation, finalfn_oid, &expr);
		init_fcinfo(&agg->finalfn, finalfn_oid, expr, &agg->final_fcinfo,
					agg->numfinalargs, collation, set);
	}

	/* argument expressions, evaluated against the event */
	agg->args = palloc0(sizeof(ExprState *) * Max(numArguments, 1));
	i = 0;
	foreach(lc, aggref->args)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		agg->args[i++] = ExecInitExpr(tle->expr, NULL);
	}
	if (aggref->aggfilter)
		agg->filter = ExecInitQual(list_make1(aggref->aggfilter), NULL);
}

/*
 * check_aggregate_privileges checks what ExecInitAgg checks: the view's
 * owner may execute the aggregate, and the aggregate's owner each of its
 * support functions.  They run as the view's owner; the check keeps an
 * aggregate from lending its owner's rights to functions nobody granted.
 * The support functions are recorded in acl, to be checked again when a
 * GRANT or REVOKE changes them.
 */
static void
check_aggregate_privileges(UserCodeAcl *acl, Oid view_owner, Oid aggfnoid, Oid transfn,
						   Oid combinefn, Oid serialfn, Oid deserialfn, Oid finalfn)
{
	Oid			support[] = {transfn, combinefn, serialfn, deserialfn, finalfn};
	HeapTuple	proctup = SearchSysCache1(PROCOID, ObjectIdGetDatum(aggfnoid));
	Oid			agg_owner;
	int			i;

	if (!HeapTupleIsValid(proctup))
		elog(ERROR, "cache lookup failed for function %u", aggfnoid);
	agg_owner = ((Form_pg_proc) GETSTRUCT(proctup))->proowner;
	ReleaseSysCache(proctup);

	usercode_check_execute(view_owner, aggfnoid, "the owner of the continuous view");
	for (i = 0; i < lengthof(support); i++)
		if (OidIsValid(support[i]))
		{
			usercode_check_execute(agg_owner, support[i], "the owner of aggregate");
			usercode_acl_add(acl, support[i], agg_owner, "the owner of aggregate");
		}
}

/*
 * init_fcinfo looks up a support function and prepares its call, with the
 * stand-in AggState as context.
 */
static void
init_fcinfo(FmgrInfo *flinfo, Oid fnoid, Expr *expr, FunctionCallInfo *fcinfo,
			int nargs, Oid collation, AggSet *set)
{
	fmgr_info(fnoid, flinfo);
	fmgr_info_set_expr((Node *) expr, flinfo);
	*fcinfo = palloc0(SizeForFunctionCallInfo(nargs));
	InitFunctionCallInfoData(**fcinfo, flinfo, nargs, collation,
							 (Node *) set->aggcontext_node, NULL);
}

/* get_init_value turns pg_aggregate.agginitval's text into a datum */
static Datum
get_init_value(Oid transtype, Datum textInitVal)
{
	Oid			typinput,
				typioparam;
	char	   *strInitVal;

	getTypeInputInfo(transtype, &typinput, &typioparam);
	strInitVal = TextDatumGetCString(textInitVal);
	return OidInputFunctionCall(typinput, strInitVal, typioparam, -1);
}

/*
 * agg_set_context makes cxt the aggregate context that transition functions
 * see through AggCheckCallContext().
 */
static void
agg_set_context(AggSet *set, MemoryContext cxt)
{
	set->aggcontext_expr->ecxt_per_tuple_memory = cxt;
}

/* agg_init_value gives a new group its initial state */
static void
agg_init_value(AggSet *set, AggRunner *agg, AggValue *v, MemoryContext cxt)
{
	if (agg->distinct)
	{
		v->value = PointerGetDatum(distinct_set_new(cxt));
		v->isnull = v->noValue = false;
		return;
	}
	init_transition_value(agg, v, cxt);
}

/* init_transition_value gives v the aggregate's initial transition value */
static void
init_transition_value(AggRunner *agg, AggValue *v, MemoryContext cxt)
{
	if (agg->initvalisnull)
		v->value = (Datum) 0;
	else
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		v->value = datumCopy(agg->initval, agg->transtypbyval, agg->transtyplen);
		MemoryContextSwitchTo(old);
	}
	v->isnull = agg->initvalisnull;
	v->noValue = agg->initvalisnull;
}

/*
 * keep_new_state stores a pass-by-reference result of a transition or
 * combine function in the window's context and frees the old one, as
 * ExecAggTransReparent does.
 */
static void
keep_new_state(AggRunner *agg, AggValue *v, Datum newVal, bool newIsNull,
			   MemoryContext cxt)
{
	if (!agg->transtypbyval &&
		DatumGetPointer(newVal) != DatumGetPointer(v->value))
	{
		if (!newIsNull)
		{
			if (DatumIsReadWriteExpandedObject(newVal, false, agg->transtyplen) &&
				MemoryContextGetParent(DatumGetEOHP(newVal)->eoh_context) == cxt)
				 /* already ours */ ;
			else
			{
				MemoryContext old = MemoryContextSwitchTo(cxt);

				newVal = datumCopy(newVal, agg->transtypbyval, agg->transtyplen);
				MemoryContextSwitchTo(old);
			}
		}
		if (!v->isnull && !v->noValue)
		{
			if (DatumIsReadWriteExpandedObject(v->value, false, agg->transtyplen))
				DeleteExpandedObject(v->value);
			else
				pfree(DatumGetPointer(v->value));
		}
	}
	v->value = newVal;
	v->isnull = newIsNull;
	v->noValue = false;
}

/*
 * adopt_as_state makes a first non-NULL input the state of a strict
 * function with a NULL initial value, as nodeAgg.c does.
 */
static void
adopt_as_state(AggRunner *agg, AggValue *v, Datum value, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);

	v->value = datumCopy(value, agg->transtypbyval, agg->transtyplen);
	MemoryContextSwitchTo(old);
	v->isnull = false;
	v->noValue = false;
}

/*
 * call_and_keep calls a transition or combine function whose other
 * arguments are set, with v as its state, and keeps the result.
 */
static void
call_and_keep(AggSet *set, AggRunner *agg, AggValue *v,
			  FunctionCallInfo fcinfo, MemoryContext cxt)
{
	Datum		newVal;

	agg_set_context(set, cxt);
	fcinfo->args[0].value = v->value;
	fcinfo->args[0].isnull = v->isnull;
	fcinfo->isnull = false;
	newVal = usercode_call(set->owner, fcinfo);
	keep_new_state(agg, v, newVal, fcinfo->isnull, cxt);
}

/*
 * agg_advance feeds the arguments already stored in trans_fcinfo->args[1..]
 * to the transition function, or, for aggregate(DISTINCT x), adds the
 * value to the set (a NULL only if the transition function would take it:
 * plain SQL drops NULLs before a strict one).
 */
void
agg_advance(AggSet *set, AggRunner *agg, AggValue *v, MemoryContext cxt)
{
	if (agg->distinct)
	{
		FunctionCallInfo fcinfo = agg->trans_fcinfo;

		if (!(fcinfo->args[1].isnull && agg->transfn_strict))
			distinct_set_add(&agg->distinct_spec, distinct_set_of(v, cxt),
							 fcinfo->args[1].value, fcinfo->args[1].isnull);
		return;
	}
	advance_transition(set, agg, v, cxt);
}

/* advance_transition calls the transition function, as nodeAgg.c does */
static void
advance_transition(AggSet *set, AggRunner *agg, AggValue *v, MemoryContext cxt)
{
	FunctionCallInfo fcinfo = agg->trans_fcinfo;
	int			i;

	if (agg->transfn_strict)
	{
		for (i = 1; i <= agg->numargs; i++)
			if (fcinfo->args[i].isnull)
				return;
		if (v->noValue)
		{
			adopt_as_state(agg, v, fcinfo->args[1].value, cxt);
			return;
		}
		if (v->isnull)
			return;
	}
	call_and_keep(set, agg, v, fcinfo, cxt);
}

/*
 * agg_combine merges another partial state of the same aggregate into v,
 * as nodeAgg.c does for partial aggregation.
 */
static void
agg_combine(AggSet *set, AggRunner *agg, AggValue *v,
			Datum other, bool otherisnull, MemoryContext cxt)
{
	FunctionCallInfo fcinfo = agg->combine_fcinfo;

	if (agg->distinct)
	{
		if (!otherisnull)
			distinct_set_union(&agg->distinct_spec, distinct_set_of(v, cxt),
							   (DistinctSet *) DatumGetPointer(other));
		return;
	}
	if (agg->combinefn_strict)
	{
		if (otherisnull)
			return;

		/*
		 * A NULL state (sum's after only NULL inputs) contributes nothing to
		 * a strict combine, as in nodeAgg.c's combining, which starts from no
		 * value and skips NULL partial states.
		 */
		if (v->noValue || v->isnull)
		{
			adopt_as_state(agg, v, other, cxt);
			return;
		}
	}
	fcinfo->args[1].value = other;
	fcinfo->args[1].isnull = otherisnull;
	call_and_keep(set, agg, v, fcinfo, cxt);
}

/*
 * agg_init_values sets every aggregate's state of a group to its initial
 * value.
 */
void
agg_init_values(AggSet *set, AggValue *values, MemoryContext cxt)
{
	int			i;

	for (i = 0; i < set->naggs; i++)
		agg_init_value(set, &set->runners[i], &values[i], cxt);
}

/*
 * agg_free_values frees the states of a group that is done with them (a
 * failed merge's, before the states saved are read back), and leaves them
 * empty.  An internal state's parts are its functions' to know: those stay
 * behind in the context until it goes.
 */
void
agg_free_values(AggSet *set, AggValue *values)
{
	int			i;

	for (i = 0; i < set->naggs; i++)
	{
		AggRunner  *agg = &set->runners[i];
		AggValue   *v = &values[i];

		if (agg->distinct)
		{
			if (DatumGetPointer(v->value) != NULL)
				distinct_set_free(&agg->distinct_spec, (DistinctSet *) DatumGetPointer(v->value));
		}
		else if (!agg->transtypbyval && !v->isnull && !v->noValue)
		{
			if (DatumIsReadWriteExpandedObject(v->value, false, agg->transtyplen))
				DeleteExpandedObject(v->value);
			else
				pfree(DatumGetPointer(v->value));
		}
		v->value = (Datum) 0;
		v->isnull = v->noValue = true;
	}
}

/*
 * agg_combine_values merges every state of from into into: a group's
 * states from another pane, session or partial result.
 */
void
agg_combine_values(AggSet *set, AggValue *into, const AggValue *from,
				   MemoryContext cxt)
{
	int			i;

	for (i = 0; i < set->naggs; i++)
		agg_combine(set, &set->runners[i], &into[i], from[i].value,
					from[i].isnull || from[i].noValue, cxt);
}

/*
 * agg_finalize computes the aggregate's result from a state.  The final
 * function may scribble on the state, so callers finalise only states they
 * are about to discard or copies.
 */
Datum
agg_finalize(AggSet *set, AggRunner *agg, AggValue *v, bool *isnull,
			 MemoryContext cxt)
{
	FunctionCallInfo fcinfo;
	int			i;
	Datum		result;
	AggValue	over_set;

	if (agg->distinct)
	{
		transition_over_set(set, agg, v, &over_set, cxt);
		v = &over_set;
	}
	if (!agg->has_finalfn)
	{
		*isnull = v->isnull || v->noValue;
		return v->value;
	}

	fcinfo = agg->final_fcinfo;
	agg_set_context(set, cxt);
	fcinfo->args[0].value = v->noValue ? (Datum) 0 : v->value;
	fcinfo->args[0].isnull = v->isnull || v->noValue;
	for (i = 1; i < agg->numfinalargs; i++)
	{
		fcinfo->args[i].value = (Datum) 0;
		fcinfo->args[i].isnull = true;
	}
	if (agg->finalfn.fn_strict)
	{
		for (i = 0; i < agg->numfinalargs; i++)
			if (fcinfo->args[i].isnull)
			{
				*isnull = true;
				return (Datum) 0;
			}
	}
	fcinfo->isnull = false;
	result = usercode_call(set->owner, fcinfo);
	*isnull = fcinfo->isnull;
	return result;
}

/*
 * agg_serialize_states appends the transition states of one group to buf:
 * per aggregate a flag byte, then the value in datumSerialize() format,
 * internal states first passed through their serial function.
 */
void
agg_serialize_states(AggSet *set, AggValue *values, StringInfo buf,
					 MemoryContext cxt)
{
	int			i;

	for (i = 0; i < set->naggs; i++)
	{
		AggRunner  *agg = &set->runners[i];
		AggValue   *v = &values[i];
		Datum		d = v->value;
		bool		byval = agg->transtypbyval;
		int16		typlen = agg->transtyplen;

		if (v->noValue)
		{
			appendStringInfoChar(buf, STATE_NOVALUE);
			continue;
		}
		if (v->isnull)
		{
			appendStringInfoChar(buf, STATE_NULL);
			continue;
		}
		appendStringInfoChar(buf, STATE_VALUE);
		if (agg->distinct)
		{
			distinct_set_serialize(&agg->distinct_spec, distinct_set_of(v, cxt), buf);
			continue;
		}
		if (agg->transtype == INTERNALOID)
		{
			FunctionCallInfo fcinfo = agg->serial_fcinfo;

			agg_set_context(set, cxt);
			fcinfo->args[0].value = d;
			fcinfo->args[0].isnull = false;
			fcinfo->isnull = false;
			d = usercode_call(set->owner, fcinfo);
			byval = false;
			typlen = -1;
		}
		append_datum_bytes(buf, d, false, byval, typlen);
	}
}

/*
 * agg_deserialize_states restores the states written by
 * agg_serialize_states into values, allocated in cxt.
 */
void
agg_deserialize_states(AggSet *set, const char *data, Size len,
					   AggValue *values, MemoryContext cxt)
{
	char	   *p = (char *) data;
	int			i;
	MemoryContext old = MemoryContextSwitchTo(cxt);

	for (i = 0; i < set->naggs; i++)
	{
		AggRunner  *agg = &set->runners[i];
		AggValue   *v = &values[i];
		char		flag;
		bool		isnull;
		Datum		d;

		if (p >= data + len)
			elog(ERROR, "streamext: truncated aggregate state");
		flag = *p++;
		v->noValue = (flag == STATE_NOVALUE);
		v->isnull = (flag != STATE_VALUE);
		v->value = (Datum) 0;
		if (flag != STATE_VALUE)
			continue;
		if (agg->distinct)
		{
			v->value = PointerGetDatum(distinct_set_restore(&agg->distinct_spec, &p, cxt));
			continue;
		}
		d = datumRestore(&p, &isnull);
		if (agg->transtype == INTERNALOID)
		{
			FunctionCallInfo fcinfo = agg->deserial_fcinfo;

			agg_set_context(set, cxt);
			fcinfo->args[0].value = d;
			fcinfo->args[0].isnull = false;
			fcinfo->args[1].value = (Datum) 0;
			fcinfo->args[1].isnull = false;
			fcinfo->isnull = false;
			d = usercode_call(set->owner, fcinfo);
		}
		v->value = d;
	}
	MemoryContextSwitchTo(old);
}

/*
 * distinct_set_of is the set of an aggregate(DISTINCT x)'s state, made
 * (empty, in cxt) if the state was only zeroed.
 */
static DistinctSet *
distinct_set_of(AggValue *v, MemoryContext cxt)
{
	if (DatumGetPointer(v->value) == NULL)
	{
		v->value = PointerGetDatum(distinct_set_new(cxt));
		v->isnull = v->noValue = false;
	}
	return (DistinctSet *) DatumGetPointer(v->value);
}

/*
 * transition_over_set computes into tv the transition state of an
 * aggregate(DISTINCT x) over its set v, each value once, in the order of
 * the DISTINCT's sort operator, as plain SQL feeds them.
 */
static void
transition_over_set(AggSet *set, AggRunner *agg, AggValue *v, AggValue *tv,
					MemoryContext cxt)
{
	DistinctSet *ds = distinct_set_of(v, cxt);
	bool		null_first = ds->has_null && agg->distinct_spec.nulls_first;
	bool		null_last = ds->has_null && !agg->distinct_spec.nulls_first;
	int64		i;

	init_transition_value(agg, tv, cxt);
	if (null_first)
		advance_with(set, agg, tv, (Datum) 0, true, cxt);
	for (i = 0; i < ds->n; i++)
		advance_with(set, agg, tv, ds->values[i], false, cxt);
	if (null_last)
		advance_with(set, agg, tv, (Datum) 0, true, cxt);
}

/* advance_with feeds one value to the transition function */
static void
advance_with(AggSet *set, AggRunner *agg, AggValue *tv, Datum value, bool isnull,
			 MemoryContext cxt)
{
	agg->trans_fcinfo->args[1].value = value;
	agg->trans_fcinfo->args[1].isnull = isnull;
	advance_transition(set, agg, tv, cxt);
}

/*
 * The states of a group as one server sends them to another (a shard view's
 * partial states, read by a coordinator; distributed_view.c): a version
 * byte, the signature of the definition they were computed for (a hash of
 * view_plan_signature: states of another definition are refused, not
 * misread), then per aggregate a flag and, for a value, its length and
 * bytes.
 * A state is what its type's binary send function writes (the serial
 * function's bytes for an internal state), never the datum's memory image:
 * the image of an array names its element type's OID, which differs from
 * server to server, and the receiving side checks what it is given through
 * the type's receive function rather than trusting bytes off the network.
 */
#define WIRE_STATES_VERSION 1

/*
 * wire_io_prepare looks up agg's (one of set's) transition type's binary send and receive
 * functions once, in the memory of the runner (its plan's).
 */
static void
wire_io_prepare(AggSet *set, AggRunner *agg)
{
	/* the runners are one allocation, in their plan's memory */
	MemoryContext cxt = GetMemoryChunkContext(set->runners);
	Oid			sendfn;
	Oid			recvfn;
	bool		isvarlena;

	if (agg->wire_ready)
		return;
	if (agg->distinct)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aggregate %s(DISTINCT ...) cannot be combined across servers",
						format_procedure(agg->aggfnoid)),
				 errhint("Count distinct values across servers with hll (hll_add_agg), whose states combine.")));
	if (agg->transtype != INTERNALOID)
	{
		getTypeBinaryOutputInfo(agg->transtype, &sendfn, &isvarlena);
		getTypeBinaryInputInfo(agg->transtype, &recvfn, &agg->wire_recv_ioparam);
		fmgr_info_cxt(sendfn, &agg->wire_send, cxt);
		fmgr_info_cxt(recvfn, &agg->wire_recv, cxt);
	}
	agg->wire_ready = true;
}

/*
 * agg_wire_check says, as an error, whether the states of set can be sent
 * to another server: every transition type has binary send and receive
 * functions (or the state is internal, with its serial functions).
 */
void
agg_wire_check(AggSet *set)
{
	int			i;

	for (i = 0; i < set->naggs; i++)
		wire_io_prepare(set, &set->runners[i]);
}

/*
 * agg_wire_write appends the states values of set's aggregates to buf in
 * the form servers exchange (see above).  Runs user code (send and serial
 * functions) as the set's owner; the caller holds the gate.
 */
void
agg_wire_write(AggSet *set, AggValue *values, StringInfo buf, MemoryContext cxt,
			   uint32 signature)
{
	int			i;

	appendStringInfoChar(buf, WIRE_STATES_VERSION);
	pq_sendint32(buf, signature);
	for (i = 0; i < set->naggs; i++)
	{
		AggRunner  *agg = &set->runners[i];
		AggValue   *v = &values[i];
		bytea	   *bytes;
		LOCAL_FCINFO(fcinfo, 1);

		wire_io_prepare(set, agg);
		if (v->noValue || v->isnull)
		{
			appendStringInfoChar(buf, v->noValue ? STATE_NOVALUE : STATE_NULL);
			continue;
		}
		appendStringInfoChar(buf, STATE_VALUE);
		if (agg->transtype == INTERNALOID)
		{
			fcinfo = agg->serial_fcinfo;
			agg_set_context(set, cxt);
		}
		else
			InitFunctionCallInfoData(*fcinfo, &agg->wire_send, 1, InvalidOid, NULL, NULL);
		fcinfo->args[0].value = v->value;
		fcinfo->args[0].isnull = false;
		fcinfo->isnull = false;
		bytes = DatumGetByteaPP(usercode_call(set->owner, fcinfo));
		pq_sendint32(buf, VARSIZE_ANY_EXHDR(bytes));
		appendBinaryStringInfo(buf, VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes));
	}
}

/*
 * agg_wire_bytea is agg_wire_write's bytes as a bytea, in the current
 * memory context.
 */
bytea *
agg_wire_bytea(AggSet *set, AggValue *values, uint32 signature)
{
	StringInfoData buf;

	/* room for the header, set once the length is known */
	initStringInfo(&buf);
	appendStringInfoSpaces(&buf, VARHDRSZ);
	agg_wire_write(set, values, &buf, CurrentMemoryContext, signature);
	SET_VARSIZE(buf.data, buf.len);
	return (bytea *) buf.data;
}

/*
 * agg_wire_read restores into values (allocated in cxt) the states another
 * server wrote with agg_wire_write for the definition of signature.  The bytes are checked as they are
 * read: a wrong version, a short or long message, or a value its type's
 * receive function refuses is an error, never a misread.
 */
void
agg_wire_read(AggSet *set, const char *data, Size len, AggValue *values, MemoryContext cxt,
			  uint32 signature)
{
	StringInfoData msg;
	MemoryContext old = MemoryContextSwitchTo(cxt);
	int			i;

	/* pq_getmsg* check every length against the message's */
	msg.data = (char *) data;
	msg.len = msg.maxlen = len;
	msg.cursor = 0;
	if (len < 1 || pq_getmsgbyte(&msg) != WIRE_STATES_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("partial states of an unknown format version"),
				 errhint("Every server of a distributed view runs the same version of streamext.")));
	if ((uint32) pq_getmsgint(&msg, 4) != signature)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("partial states of another definition"),
				 errdetail("A node's shard view no longer computes what the distributed view computes."),
				 errhint("Compare streamext.shard_signatures on the nodes, then drop and create the distributed view again.")));
	for (i = 0; i < set->naggs; i++)
	{
		AggRunner  *agg = &set->runners[i];
		AggValue   *v = &values[i];
		int			flag = pq_getmsgbyte(&msg);
		int			n;
		StringInfoData value;

		wire_io_prepare(set, agg);
		v->noValue = (flag == STATE_NOVALUE);
		v->isnull = (flag != STATE_VALUE);
		v->value = (Datum) 0;
		if (flag == STATE_NOVALUE || flag == STATE_NULL)
			continue;
		if (flag != STATE_VALUE)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("malformed partial state of aggregate %s",
							format_procedure(agg->aggfnoid))));
		n = pq_getmsgint(&msg, 4);
		if (n < 0 || n > msg.len - msg.cursor)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("malformed partial state of aggregate %s",
							format_procedure(agg->aggfnoid))));
		if (agg->transtype == INTERNALOID)
		{
			FunctionCallInfo fcinfo = agg->deserial_fcinfo;
			bytea	   *bytes = palloc(VARHDRSZ + n);

			SET_VARSIZE(bytes, VARHDRSZ + n);
			memcpy(VARDATA(bytes), msg.data + msg.cursor, n);
			agg_set_context(set, cxt);
			fcinfo->args[0].value = PointerGetDatum(bytes);
			fcinfo->args[0].isnull = false;
			fcinfo->args[1].value = (Datum) 0;
			fcinfo->args[1].isnull = false;
			fcinfo->isnull = false;
			v->value = usercode_call(set->owner, fcinfo);
		}
		else
		{
			LOCAL_FCINFO(fcinfo, 3);

			/* a receive function reads a StringInfo it may scribble on */
			initStringInfo(&value);
			appendBinaryStringInfo(&value, msg.data + msg.cursor, n);
			InitFunctionCallInfoData(*fcinfo, &agg->wire_recv, 3, InvalidOid, NULL, NULL);
			fcinfo->args[0].value = PointerGetDatum(&value);
			fcinfo->args[0].isnull = false;
			fcinfo->args[1].value = ObjectIdGetDatum(agg->wire_recv_ioparam);
			fcinfo->args[1].isnull = false;
			fcinfo->args[2].value = Int32GetDatum(-1);
			fcinfo->args[2].isnull = false;
			v->value = usercode_call(set->owner, fcinfo);
			if (value.cursor != value.len)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						 errmsg("malformed partial state of aggregate %s",
								format_procedure(agg->aggfnoid))));
		}
		msg.cursor += n;
	}
	if (msg.cursor != msg.len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("partial states of more aggregates than the view has"),
				 errhint("Every server of a distributed view computes the same query.")));
	MemoryContextSwitchTo(old);
}

/*
 * agg_wire_untrusted names the first aggregate of set whose states another
 * server sends are read by a function that is not PostgreSQL's own (an
 * extension's deserial or receive function, hll's say), or NULL.  Those
 * trust their input, which only the sending side's serial or send function
 * made: a coordinator may run them only on what servers it trusts send.
 */
char *
agg_wire_untrusted(AggSet *set)
{
	int			i;

	for (i = 0; i < set->naggs; i++)
	{
		AggRunner  *agg = &set->runners[i];
		Oid			reader;

		wire_io_prepare(set, agg);
		reader = agg->transtype == INTERNALOID ? agg->deserialfn.fn_oid : agg->wire_recv.fn_oid;
		if (reader >= FirstNormalObjectId)
			return psprintf("aggregate %s reads its states with %s",
							format_procedure(agg->aggfnoid), format_procedure(reader));
	}
	return NULL;
}
