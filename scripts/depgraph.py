#!/usr/bin/env python3
"""scripts/depgraph.py: the module graph of src/, from the object files.

A module is a .c file.  Module A depends on module B when A's object refers
to a symbol B's object defines (read with `nm`, so calls through headers,
macros and inlined helpers all count), or when A includes B's header.

  python3 scripts/depgraph.py            the graph, one line per module
  python3 scripts/depgraph.py --check    also exit 1 if modules form a cycle
                                         or a module calls a layer above
  python3 scripts/depgraph.py --dot      the graph for Graphviz
  python3 scripts/depgraph.py --exports  exit 1 if streamext.so exports a
                                         symbol without a streamext prefix

Run `make` first: it reads src/*.o and streamext.so.
"""
import os
import re
import subprocess
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
# The layers of src/, lowest first.  A module may call its own layer and
# the layers below it, never one above (--check fails on such an edge).
LAYERS = [
    ("foundations", ["settings", "usercode", "determinism", "window", "shmem", "memory_reserve"]),
    ("catalog", ["catalog", "sqlfunc", "stream_ddl", "hooks"]),
    ("plan", ["agg_state", "agg_distinct", "lookup_join", "view_query", "view_plan"]),
    ("state", ["view_state", "lookup_cache", "state_format", "sliding_stacks", "state_shmem"]),
    ("windows", ["view_apply", "view_partial", "view_partial_session", "window_panes", "window_session", "window_close", "view_source"]),
    ("persistence and delivery", ["held_rows", "checkpoint", "row_insert", "subscription_def", "subscription", "subscription_spill"]),
    ("worker", ["decoder", "replay", "retention", "distributed_delivery", "worker", "launcher"]),
    ("SQL", ["commands", "declare_deterministic", "view_replace", "renames", "view_read", "view_scan", "shard_view", "distributed_view", "distributed_combine", "subscription_read", "streamext"]),
]

# what PostgreSQL itself looks up by name in the library
ALLOWED_EXPORTS = {"_PG_init", "Pg_magic_func", "_PG_output_plugin_init"}


def nm(obj):
    """The global symbols an object defines, and those it uses."""
    out = subprocess.run(["nm", obj], capture_output=True, text=True,
                         check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRCVW":
            defined.add(parts[2])
    return defined, undefined


def modules():
    mods = {}
    for f in sorted(os.listdir(SRC)):
        if f.endswith(".c"):
            name = f[:-2]
            obj = os.path.join(SRC, name + ".o")
            if not os.path.exists(obj):
                sys.exit("scripts/depgraph.py: %s missing: run make first" % obj)
            mods[name] = obj
    return mods


def include_edges(mods):
    edges = {m: set() for m in mods}
    inc = re.compile(r'^\s*#\s*include\s+"([^"]+)\.h"', re.M)
    for m in mods:
        with open(os.path.join(SRC, m + ".c")) as fh:
            for h in inc.findall(fh.read()):
                h = os.path.basename(h)
                if h in mods and h != m:
                    edges[m].add(h)
    return edges


def graph():
    mods = modules()
    syms = {m: nm(o) for m, o in mods.items()}
    owner = {}
    for m, (defined, _) in syms.items():
        for s in defined:
            owner[s] = m
    edges = include_edges(mods)
    for m, (_, undefined) in syms.items():
        for s in undefined:
            o = owner.get(s)
            if o and o != m:
                edges[m].add(o)
    return edges, syms


def sccs(edges):
    """Tarjan's strongly connected components, iteratively."""
    index, low, onstack, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(root):
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        onstack.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    onstack.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    advanced = True
                    break
                elif w in onstack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    onstack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    args = set(sys.argv[1:])
    edges, syms = graph()
    if "--dot" in args:
        print("digraph streamext {")
        for m in sorted(edges):
            for d in sorted(edges[m]):
                print('  "%s" -> "%s";' % (m, d))
        print("}")
        return 0
    status = 0
    if "--exports" in args:
        lib = os.path.join(SRC, "..", "streamext.so")
        out = subprocess.run(["nm", "-D", "--defined-only", lib],
                             capture_output=True, text=True, check=True).stdout
        bad = [line.split()[-1] for line in out.splitlines()
               if not re.match(r"(pg_finfo_)?streamext", line.split()[-1])
               and line.split()[-1] not in ALLOWED_EXPORTS]
        for sym in bad:
            print("exported without a streamext prefix: %s" % sym)
        return 1 if bad else 0
    for m in sorted(edges):
        print("%-20s -> %s" % (m, " ".join(sorted(edges[m])) or "-"))
    cycles = [c for c in sccs(edges) if len(c) > 1]
    for c in cycles:
        print("cycle: %s" % " ".join(c))
    layer = {m: i for i, (_, ms) in enumerate(LAYERS) for m in ms}
    upward = []
    for m in sorted(edges):
        if m not in layer:
            upward.append("%s is in no layer: add it to LAYERS" % m)
            continue
        for d in sorted(edges[m]):
            if layer.get(d, -1) > layer[m]:
                upward.append("%s (%s) calls %s (%s), a layer above" %
                              (m, LAYERS[layer[m]][0], d, LAYERS[layer[d]][0]))
    for u in upward:
        print(u)
    if "--check" in args and (cycles or upward):
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
