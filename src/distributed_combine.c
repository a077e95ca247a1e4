/*-------------------------------------------------------------------------
 *
 * distributed_combine.c
 *	  What a distributed view's query (distributed_view.c) calls to combine
 *	  its nodes' partial states, at read time: the aggregates
 *	  combine_partials and merge_sessions, and distributed_row.
 *
 *	  combine_partials deserialises each node's states of a group and
 *	  combines them with the aggregates' own combine functions, in C behind
 *	  the view owner's gate (those functions refuse to run outside an
 *	  aggregate, and internal states cannot pass through SQL).  A session
 *	  view groups by key only: merge_sessions takes every node's sessions of
 *	  a key and merges those that overlap (a session ends the gap after its
 *	  last event, so two nodes' sessions overlap exactly when some events of
 *	  theirs are less than the gap apart, as one server would have merged
 *	  them), whatever key the stream is sharded by.  distributed_row
 *	  finalises a group's states (a row per merged session) and computes the
 *	  view's outputs and HAVING.
 *
 *	  They take bytes, and the aggregates' deserial functions may trust
 *	  theirs (hll's does): the aggregates accept only states that come
 *	  straight from the view's nodes' foreign tables (the executor's plan is
 *	  walked to see it), and distributed_row only what they sealed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hmac.h"
#include "common/sha2.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "catalog.h"
#include "usercode.h"
#include "view_plan.h"
#include "window.h"

PG_FUNCTION_INFO_V1(streamext_combine_partials_step);
PG_FUNCTION_INFO_V1(streamext_combine_partials_final);
PG_FUNCTION_INFO_V1(streamext_distributed_row);
PG_FUNCTION_INFO_V1(streamext_merge_sessions_step);
PG_FUNCTION_INFO_V1(streamext_merge_sessions_final);

/* the bytes of the seal on combined states (seal_states) */
#define STATES_MAC_LEN 16

/* a distributed view compiled for this transaction and user */
typedef struct DistributedPlan
{
	int32		id;
	Oid			userid;
	ViewPlan   *plan;
	List	   *node_tables;	/* OIDs of its nodes' partial states */
} DistributedPlan;

/*
 * the aggregate state of combine_partials: one group's states from each
 * node, combined by the final function behind one gate for the group (a
 * gate per node's row cost a fifth of a read)
 */
typedef struct CombinedStates
{
	ViewPlan   *plan;
	List	   *parts;			/* bytea, in the aggregate's memory */
} CombinedStates;

/* one node's session of a key, as merge_sessions collects them */
typedef struct NodeSession
{
	TimestampTz start;
	TimestampTz end;
	bytea	   *states;
} NodeSession;

/* the aggregate state of merge_sessions: a key's sessions from every node */
typedef struct KeySessions
{
	ViewPlan   *plan;
	List	   *sessions;		/* NodeSession */
} KeySessions;

static DistributedPlan *distributed_plan(int32 id);
static void check_states_come_from_nodes(FunctionCallInfo fcinfo, DistributedPlan *dp,
										 int argno);
static bool states_from_node_tables(PlanState *ps, AttrNumber attno, DistributedPlan *dp);
static void states_mac(int32 id, const char *data, Size len, uint8 *mac);
static bytea *seal_states(int32 id, bytea *states);
static void unseal_states(int32 id, bytea *sealed, const char **data, Size *len);
static int	session_cmp(const ListCell *a, const ListCell *b);
static bytea *combine_wire(ViewPlan *plan, List *states);

static List *cached_plans = NIL;	/* DistributedPlan, of cached_lxid */
static LocalTransactionId cached_lxid = InvalidLocalTransactionId;

/*
 * distributed_plan is distributed view id compiled for this transaction,
 * once the caller is found to be allowed to read it: combine_partials and
 * distributed_row take raw states, so they serve only readers of the view.
 */
static DistributedPlan *
distributed_plan(int32 id)
{
	ListCell   *lc;
	DistributedPlan *entry;
	DistributedViewRow *d;
	ViewCatalogRow *row;
	MemoryContext old;
	AclResult	aclresult;

	if (cached_lxid != MyProc->lxid)
	{
		/* the plans of an earlier transaction went with its memory */
		cached_plans = NIL;
		cached_lxid = MyProc->lxid;
	}
	foreach(lc, cached_plans)
	{
		entry = lfirst(lc);
		if (entry->id == id && entry->userid == GetUserId())
			return entry;
	}
	old = MemoryContextSwitchTo(TopTransactionContext);
	d = catalog_distributed_view(id);
	row = d ? &d->view : NULL;
	if (row == NULL || get_rel_name(row->view_relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("distributed view %d does not exist", id),
				 errhint("streamext.distributed_view_def lists the distributed views.")));
	aclresult = pg_class_aclcheck(row->view_relid, GetUserId(), ACL_SELECT);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_VIEW, get_rel_name(row->view_relid));
	entry = palloc0(sizeof(DistributedPlan));
	entry->id = id;
	entry->userid = GetUserId();
	entry->plan = view_plan_build(row, TopTransactionContext);
	entry->plan->wire_signature = view_plan_wire_signature(entry->plan, row);
	/* by OID: a table of the same name made since is not one of them */
	entry->node_tables = d->node_tables;
	cached_plans = lappend(cached_plans, entry);
	MemoryContextSwitchTo(old);
	return entry;
}

/*
 * states_from_node_tables says whether column attno of what ps returns is,
 * whatever plan nodes pass it up (sorts, appends, subquery scans), the
 * _state column of one of dp's nodes' foreign tables, as the node sent it.
 */
static bool
states_from_node_tables(PlanState *ps, AttrNumber attno, DistributedPlan *dp)
{
	Plan	   *plan = ps->plan;
	TargetEntry *tle;
	Var		   *var;
	int			i;

	if (attno < 1 || attno > list_length(plan->targetlist))
		return false;
	tle = list_nth_node(TargetEntry, plan->targetlist, attno - 1);
	if (!IsA(tle->expr, Var))
		return false;
	var = (Var *) tle->expr;
	switch (nodeTag(ps))
	{
		case T_SortState:
		case T_IncrementalSortState:
		case T_MaterialState:
		case T_MemoizeState:
		case T_ResultState:
			return var->varno == OUTER_VAR && outerPlanState(ps) != NULL &&
				states_from_node_tables(outerPlanState(ps), var->varattno, dp);
		case T_AppendState:
			{
				AppendState *as = (AppendState *) ps;

				for (i = 0; i < as->as_nplans; i++)
					if (!states_from_node_tables(as->appendplans[i], var->varattno, dp))
						return false;
				return var->varno == OUTER_VAR;
			}
		case T_MergeAppendState:
			{
				MergeAppendState *ms = (MergeAppendState *) ps;

				for (i = 0; i < ms->ms_nplans; i++)
					if (!states_from_node_tables(ms->mergeplans[i], var->varattno, dp))
						return false;
				return var->varno == OUTER_VAR;
			}
		case T_SubqueryScanState:
			return var->varno == ((Scan *) plan)->scanrelid &&
				states_from_node_tables(((SubqueryScanState *) ps)->subplan, var->varattno, dp);
		case T_ForeignScanState:
			{
				Index		scanrelid = ((Scan *) plan)->scanrelid;
				Oid			relid;

				/* a join or aggregate done by the node has no base relation */
				if (scanrelid == 0 || var->varno != scanrelid)
					return false;
				relid = exec_rt_fetch(scanrelid, ps->state)->relid;
				return list_member_oid(dp->node_tables, relid) &&
					var->varattno == get_attnum(relid, "_state");
			}
		default:
			return false;
	}
}

/*
 * check_states_come_from_nodes refuses states (argument argno of an
 * aggregate) that do not come straight from the nodes' partial states of
 * the view: the aggregates' deserial functions (hll's, say) trust their
 * input, which only the nodes' serial functions made.  Checked once per
 * aggregate in a query (fn_extra remembers).
 */
static void
check_states_come_from_nodes(FunctionCallInfo fcinfo, DistributedPlan *dp, int argno)
{
	Aggref	   *aggref = AggGetAggref(fcinfo);
	TargetEntry *arg;
	Var		   *var;

	if (fcinfo->flinfo->fn_extra == dp)
		return;
	if (aggref == NULL || !IsA(fcinfo->context, AggState) ||
		list_length(aggref->args) <= argno)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("streamext.combine_partials and streamext.merge_sessions serve only the query of a distributed view"),
				 errhint("Read the distributed view itself.")));
	arg = list_nth_node(TargetEntry, aggref->args, argno);
	var = (Var *) arg->expr;
	if (!IsA(var, Var) || var->varno != OUTER_VAR ||
		outerPlanState((AggState *) fcinfo->context) == NULL ||
		!states_from_node_tables(outerPlanState((AggState *) fcinfo->context), var->varattno, dp))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("streamext.%s combines only the states the nodes of distributed view \"%s\" send",
						get_func_name(aggref->aggfnoid), dp->plan->name),
				 errhint("Read the distributed view itself; its states come from its nodes' foreign tables.")));
	fcinfo->flinfo->fn_extra = dp;
}

/* the key of this backend's seals on combined states (seal_states) */
static uint8 seal_key[32];
static bool seal_key_made = false;

/* states_mac is the HMAC of distributed view id's states data */
static void
states_mac(int32 id, const char *data, Size len, uint8 *mac)
{
	pg_hmac_ctx *ctx;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	int32		netid = pg_hton32(id);

	if (!seal_key_made)
	{
		if (!pg_strong_random(seal_key, sizeof(seal_key)))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate a random key")));
		seal_key_made = true;
	}
	ctx = pg_hmac_create(PG_SHA256);
	if (ctx == NULL ||
		pg_hmac_init(ctx, seal_key, sizeof(seal_key)) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) &netid, sizeof(netid)) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) data, len) < 0 ||
		pg_hmac_final(ctx, digest, sizeof(digest)) < 0)
	{
		const char *why = ctx ? pg_hmac_error(ctx) : "out of memory";

		pg_hmac_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute an HMAC: %s", why)));
	}
	pg_hmac_free(ctx);
	memcpy(mac, digest, STATES_MAC_LEN);
}

/*
 * seal_states appends to a group's combined states (what combine_partials
 * and merge_sessions return) a MAC keyed by a secret of this backend, so
 * that distributed_row, which any reader can call, takes only what those
 * aggregates made from the nodes' states (check_states_come_from_nodes),
 * never bytes a caller wrote.
 */
static bytea *
seal_states(int32 id, bytea *states)
{
	Size		len = VARSIZE_ANY_EXHDR(states);
	bytea	   *sealed = palloc(VARHDRSZ + len + STATES_MAC_LEN);

	SET_VARSIZE(sealed, VARHDRSZ + len + STATES_MAC_LEN);
	memcpy(VARDATA(sealed), VARDATA_ANY(states), len);
	states_mac(id, VARDATA_ANY(states), len, (uint8 *) VARDATA(sealed) + len);
	return sealed;
}

/* unseal_states checks a seal_states seal and gives the states under it */
static void
unseal_states(int32 id, bytea *sealed, const char **data, Size *len)
{
	uint8		mac[STATES_MAC_LEN];
	Size		total = VARSIZE_ANY_EXHDR(sealed);

	if (total < STATES_MAC_LEN)
		*len = 0;
	else
	{
		*len = total - STATES_MAC_LEN;
		*data = VARDATA_ANY(sealed);
		states_mac(id, *data, *len, mac);
	}
	if (total < STATES_MAC_LEN || timingsafe_bcmp(mac, *data + *len, STATES_MAC_LEN) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("streamext.distributed_row takes only states that combine_partials or merge_sessions made in this session"),
				 errhint("Read the distributed view itself.")));
}

/*
 * streamext_combine_partials_step is the transition function of
 * combine_partials(view_id, states): it keeps one node's states of a group
 * for the final function.
 */
Datum
streamext_combine_partials_step(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	CombinedStates *combined = PG_ARGISNULL(0) ? NULL : (CombinedStates *) PG_GETARG_POINTER(0);
	MemoryContext old;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("streamext.combine_partials_step can only be called as an aggregate")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the view id of streamext.combine_partials cannot be NULL")));
	if (PG_ARGISNULL(2))
	{
		/* a NULL state as long as no node gave one */
		if (combined == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(combined);
	}
	if (combined == NULL)
	{
		DistributedPlan *dp = distributed_plan(PG_GETARG_INT32(1));

		check_states_come_from_nodes(fcinfo, dp, 1);
		combined = MemoryContextAllocZero(aggcxt, sizeof(CombinedStates));
		combined->plan = dp->plan;
	}
	old = MemoryContextSwitchTo(aggcxt);
	combined->parts = lappend(combined->parts, PG_GETARG_BYTEA_P_COPY(2));
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(combined);
}

/*
 * streamext_combine_partials_final is the final function of
 * combine_partials: the group's states combined, as servers exchange them.
 */
Datum
streamext_combine_partials_final(PG_FUNCTION_ARGS)
{
	CombinedStates *combined;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	combined = (CombinedStates *) PG_GETARG_POINTER(0);
	PG_RETURN_BYTEA_P(seal_states(combined->plan->id,
								  combine_wire(combined->plan, combined->parts)));
}

/*
 * streamext_distributed_row returns the row of one group of distributed
 * view view_id from its combined states, window and keys (the fifth
 * argument on), or no row when HAVING rejects it.
 */
Datum
streamext_distributed_row(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ViewPlan   *plan;
	TupleDesc	desc;
	AggValue   *values;
	Datum	   *keys;
	bool	   *keynulls;
	Datum	   *out;
	bool	   *outnulls;
	const char *data = NULL;
	Size		len;
	UserCodeGate gate;
	int			i;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the view id of streamext.distributed_row cannot be NULL")));
	if (PG_ARGISNULL(1))
		return (Datum) 0;
	plan = distributed_plan(PG_GETARG_INT32(0))->plan;
	desc = rsinfo->setDesc;
	if (desc->natts != plan->outdesc->natts || PG_NARGS() - 4 != plan->nkeys)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("streamext.distributed_row(%d) was not called as the view calls it",
						plan->id)));
	for (i = 0; i < desc->natts; i++)
		if (TupleDescAttr(desc, i)->atttypid != TupleDescAttr(plan->outdesc, i)->atttypid)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column %d of streamext.distributed_row(%d) is of type %s, the view's is %s",
							i + 1, plan->id, format_type_be(TupleDescAttr(desc, i)->atttypid),
							format_type_be(TupleDescAttr(plan->outdesc, i)->atttypid))));

	keys = palloc(sizeof(Datum) * Max(plan->nkeys, 1));
	keynulls = palloc(sizeof(bool) * Max(plan->nkeys, 1));
	for (i = 0; i < plan->nkeys; i++)
	{
		if (get_fn_expr_argtype(fcinfo->flinfo, 4 + i) !=
			TupleDescAttr(plan->keydesc, i)->atttypid)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("key %d of streamext.distributed_row(%d) is not of the view's key type %s",
							i + 1, plan->id,
							format_type_be(TupleDescAttr(plan->keydesc, i)->atttypid))));
		keys[i] = PG_GETARG_DATUM(4 + i);
		keynulls[i] = PG_ARGISNULL(4 + i);
	}
	unseal_states(plan->id, PG_GETARG_BYTEA_PP(1), &data, &len);
	values = palloc0(sizeof(AggValue) * Max(plan->aggs.naggs, 1));
	out = palloc(sizeof(Datum) * desc->natts);
	outnulls = palloc(sizeof(bool) * desc->natts);
	/* one gate for the group: view_plan_output's own is then free */
	usercode_enter(&gate, plan->owner, USERCODE_READ_ONLY);
	if (plan->window.kind != WINDOW_SESSION)
	{
		agg_wire_read(&plan->aggs, data, len, values, CurrentMemoryContext,
					  plan->wire_signature);
		if (view_plan_output(plan,
							 PG_ARGISNULL(2) ? DT_NOBEGIN : PG_GETARG_TIMESTAMPTZ(2),
							 PG_ARGISNULL(3) ? DT_NOEND : PG_GETARG_TIMESTAMPTZ(3),
							 keys, keynulls, values, out, outnulls))
			tuplestore_putvalues(rsinfo->setResult, desc, out, outnulls);
	}
	else
	{
		/* a key's merged sessions (merge_sessions_final): a row each */
		StringInfoData msg;
		int			n;

		msg.data = (char *) data;
		msg.len = msg.maxlen = len;
		msg.cursor = 0;
		n = pq_getmsgint(&msg, 4);
		for (i = 0; i < n; i++)
		{
			TimestampTz start = pq_getmsgint64(&msg);
			TimestampTz end = pq_getmsgint64(&msg);
			int			stateslen = pq_getmsgint(&msg, 4);
			const char *bytes = pq_getmsgbytes(&msg, stateslen);

			agg_wire_read(&plan->aggs, bytes, stateslen, values, CurrentMemoryContext,
						  plan->wire_signature);
			if (view_plan_output(plan, start, end, keys, keynulls, values, out, outnulls))
				tuplestore_putvalues(rsinfo->setResult, desc, out, outnulls);
		}
		pq_getmsgend(&msg);
	}
	usercode_leave(&gate);
	return (Datum) 0;
}

/* session_cmp orders NodeSessions by start */
static int
session_cmp(const ListCell *a, const ListCell *b)
{
	NodeSession *sa = lfirst(a);
	NodeSession *sb = lfirst(b);

	return sa->start < sb->start ? -1 : (sa->start > sb->start ? 1 : 0);
}

/*
 * combine_wire combines a list of states (bytea, as servers exchange them)
 * into one, behind the view owner's gate.
 */
static bytea *
combine_wire(ViewPlan *plan, List *states)
{
	AggValue   *into = palloc0(sizeof(AggValue) * Max(plan->aggs.naggs, 1));
	AggValue   *values = palloc0(sizeof(AggValue) * Max(plan->aggs.naggs, 1));
	UserCodeGate gate;
	bytea	   *result;
	ListCell   *lc;

	if (list_length(states) == 1)
		return linitial(states);
	usercode_enter(&gate, plan->owner, USERCODE_READ_ONLY);
	agg_init_values(&plan->aggs, into, CurrentMemoryContext);
	foreach(lc, states)
	{
		bytea	   *s = lfirst(lc);

		agg_wire_read(&plan->aggs, VARDATA_ANY(s), VARSIZE_ANY_EXHDR(s), values,
					  CurrentMemoryContext, plan->wire_signature);
		agg_combine_values(&plan->aggs, into, values, CurrentMemoryContext);
	}
	result = agg_wire_bytea(&plan->aggs, into, plan->wire_signature);
	usercode_leave(&gate);
	return result;
}

/*
 * streamext_merge_sessions_step is the transition function of
 * merge_sessions(view_id, window_start, window_end, states): it keeps one
 * node's session of the group's key.
 */
Datum
streamext_merge_sessions_step(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	KeySessions *key = PG_ARGISNULL(0) ? NULL : (KeySessions *) PG_GETARG_POINTER(0);
	MemoryContext old;
	NodeSession *session;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("streamext.merge_sessions_step can only be called as an aggregate")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the view id of streamext.merge_sessions cannot be NULL")));
	if (PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
	{
		if (key == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(key);
	}
	if (key == NULL)
	{
		DistributedPlan *dp = distributed_plan(PG_GETARG_INT32(1));

		check_states_come_from_nodes(fcinfo, dp, 3);
		key = MemoryContextAllocZero(aggcxt, sizeof(KeySessions));
		key->plan = dp->plan;
		if (key->plan->window.kind != WINDOW_SESSION)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("distributed view %d has no session window", key->plan->id)));
	}
	old = MemoryContextSwitchTo(aggcxt);
	session = palloc(sizeof(NodeSession));
	session->start = PG_GETARG_TIMESTAMPTZ(2);
	session->end = PG_GETARG_TIMESTAMPTZ(3);
	session->states = PG_GETARG_BYTEA_P_COPY(4);
	key->sessions = lappend(key->sessions, session);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(key);
}

/*
 * streamext_merge_sessions_final merges the sessions of a key that overlap,
 * combining their states, and returns them for distributed_row: their
 * number, then each one's start, end and states.
 */
Datum
streamext_merge_sessions_final(PG_FUNCTION_ARGS)
{
	KeySessions *key;
	StringInfoData buf;
	StringInfoData merged;
	int			n = 0;
	int			i;
	TimestampTz start = 0;
	TimestampTz end = 0;
	List	   *run = NIL;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	key = (KeySessions *) PG_GETARG_POINTER(0);
	list_sort(key->sessions, session_cmp);
	initStringInfo(&merged);
	for (i = 0; i <= list_length(key->sessions); i++)
	{
		NodeSession *s = i < list_length(key->sessions) ? list_nth(key->sessions, i) : NULL;

		/* one server merges sessions less than the gap apart: overlapping ones */
		if (s != NULL && run != NIL && s->start < end)
		{
			end = Max(end, s->end);
			run = lappend(run, s->states);
			continue;
		}
		if (run != NIL)
		{
			bytea	   *states = combine_wire(key->plan, run);

			pq_sendint64(&merged, start);
			pq_sendint64(&merged, end);
			pq_sendint32(&merged, VARSIZE_ANY_EXHDR(states));
			appendBinaryStringInfo(&merged, VARDATA_ANY(states), VARSIZE_ANY_EXHDR(states));
			n++;
		}
		if (s != NULL)
		{
			start = s->start;
			end = s->end;
			run = list_make1(s->states);
		}
	}
	initStringInfo(&buf);
	appendStringInfoSpaces(&buf, VARHDRSZ);
	pq_sendint32(&buf, n);
	appendBinaryStringInfo(&buf, merged.data, merged.len);
	SET_VARSIZE(buf.data, buf.len);
	PG_RETURN_BYTEA_P(seal_states(key->plan->id, (bytea *) buf.data));
}
