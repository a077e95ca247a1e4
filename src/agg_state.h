/*-------------------------------------------------------------------------
 *
 * agg_state.h
 *	  The aggregates of a view, run outside of an Agg plan node: their
 *	  transition states, combined, finalised and serialised.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_AGG_STATE_H
#define STREAMEXT_AGG_STATE_H

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/execnodes.h"
#include "agg_distinct.h"
#include "usercode.h"

/* one aggregate of a view, ready to run */
typedef struct AggRunner
{
	Oid			aggfnoid;
	int			numargs;
	ExprState **args;			/* argument expressions over the event */
	ExprState  *filter;			/* FILTER (WHERE ...), or NULL */
	Oid			transtype;
	int16		transtyplen;
	bool		transtypbyval;
	Datum		initval;
	bool		initvalisnull;
	bool		transfn_strict;
	bool		combinefn_strict;
	bool		has_finalfn;
	int			numfinalargs;
	FmgrInfo	transfn;
	FmgrInfo	combinefn;
	FmgrInfo	serialfn;		/* valid when transtype is internal */
	FmgrInfo	deserialfn;
	FmgrInfo	finalfn;
	Oid			resulttype;
	bool		distinct;		/* aggregate(DISTINCT x): the state is the set */
	DistinctSpec distinct_spec;
	FunctionCallInfo trans_fcinfo;
	FunctionCallInfo combine_fcinfo;
	FunctionCallInfo final_fcinfo;
	FunctionCallInfo serial_fcinfo;
	FunctionCallInfo deserial_fcinfo;
	/* states sent to another server (agg_wire_write), looked up when first used */
	bool		wire_ready;
	FmgrInfo	wire_send;
	FmgrInfo	wire_recv;
	Oid			wire_recv_ioparam;
} AggRunner;

/* the aggregates of one view */
typedef struct AggSet
{
	Oid			owner;			/* they run with this role's rights */
	UserCodeAcl *acl;			/* where their functions are noted */
	int			naggs;
	AggRunner  *runners;
	bool		has_distinct;	/* one of them is aggregate(DISTINCT x) */
	AggState   *aggcontext_node;	/* fake Agg node for AggCheckCallContext */
	ExprContext *aggcontext_expr;
} AggSet;

typedef struct AggValue
{
	Datum		value;
	bool		isnull;
	bool		noValue;		/* strict transfn with NULL initval, no input yet */
} AggValue;

extern void agg_runner_init(AggSet *set, AggRunner *agg, Aggref *aggref);
extern void agg_advance(AggSet *set, AggRunner *agg, AggValue *v, MemoryContext cxt);
extern void agg_init_values(AggSet *set, AggValue *values, MemoryContext cxt);
extern void agg_free_values(AggSet *set, AggValue *values);
extern void agg_combine_values(AggSet *set, AggValue *into, const AggValue *from,
							   MemoryContext cxt);
extern Datum agg_finalize(AggSet *set, AggRunner *agg, AggValue *v,
						  bool *isnull, MemoryContext cxt);
extern void agg_serialize_states(AggSet *set, AggValue *values,
								 StringInfo buf, MemoryContext cxt);
extern void agg_deserialize_states(AggSet *set, const char *data, Size len,
								   AggValue *values, MemoryContext cxt);

extern void agg_wire_check(AggSet *set);
extern char *agg_wire_untrusted(AggSet *set);
extern void agg_wire_write(AggSet *set, AggValue *values, StringInfo buf, MemoryContext cxt,
						   uint32 signature);
extern bytea *agg_wire_bytea(AggSet *set, AggValue *values, uint32 signature);
extern void agg_wire_read(AggSet *set, const char *data, Size len, AggValue *values,
						  MemoryContext cxt, uint32 signature);
#endif							/* STREAMEXT_AGG_STATE_H */
