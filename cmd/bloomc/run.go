package main

import (
	"bufio"
	"fmt"
	"strconv"
	"time"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
)

func cmdRun(env *cliEnv, args []string) int {
	fs := newFlags(env, "run", "FILE [--facts F]... [--print REL]... [--count REL]... [--ticks N]\n       bloomc run FILE --listen HOST:PORT [--ca F --cert F --key F | --insecure-dev] [--metrics ADDR] [--facts F]... [--print REL]...",
		`Runs a program on one node until it is quiescent (no pending changes, no
messages to itself, no input), or for N ticks with --ticks. Then, for each
--print REL, prints the collection's contents at the end of the last tick,
sorted, one tuple a line in fact syntax; --count REL prints "REL: N".

--facts takes a .bloom file of facts or REL=path.csv (header-less CSV, columns
in declaration order); facts are inserted at the start of tick 1.

Without a network, self() is 127.0.0.1:0, messages a node sends to itself
arrive in the next tick and others are dropped. Time is virtual: tick 1 runs
at the start time, before any periodic has fired; a tick with work pending
runs 1µs after the previous one; with --ticks, an otherwise idle node jumps
to the next periodic firing (so with nothing else to do, a periodic fires
once in each of ticks 2..N). Without --ticks, timers alone do not keep the
run going.

With --listen the node is long-lived and networked (docs/deploy.md): it
ticks when it has work, sends and receives channel tuples over QUIC with
mutual TLS, and accepts 'bloomc send' and 'bloomc watch' clients. self() is
the listen address (or --advertise). On SIGINT or SIGTERM it finishes the
current tick, flushes, prints --print/--count as above and exits 0.

With --data DIR, durable tables and lattices are kept in DIR (badger;
docs/storage.md): each tick's durable changes, with the pending next-tick
changes to them and the tick counter, are written in one transaction before
the tick publishes, sends or acknowledges anything, and a later run with the
same DIR resumes from them (facts are not inserted again; --ticks N then
runs N more ticks). Without --data, durable collections live in memory only.`)
	var facts, prints, counts multiFlag
	fs.Var(&facts, "facts", "facts `FILE`.bloom or REL=path.csv (repeatable)")
	fs.Var(&prints, "print", "print collection `REL` at the end (repeatable)")
	fs.Var(&counts, "count", "print the number of tuples of `REL` (repeatable)")
	ticks := fs.Int64("ticks", 0, "run at most `N` ticks (0: until quiescent)")
	var serve serveFlags
	serve.register(fs)
	var data dataFlags // --data DIR (data.go)
	data.register(fs)
	files, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(files) != 1 {
		return usageError(env, fs, "want exactly one program file, got %d", len(files))
	}
	if *ticks < 0 {
		return usageError(env, fs, "--ticks must be positive")
	}
	if serve.listen == "" && (serve.metrics != "" || serve.advertise != "") {
		return usageError(env, fs, "--metrics and --advertise need --listen")
	}
	if serve.listen != "" && *ticks != 0 {
		return usageError(env, fs, "--ticks is for batch runs, not with --listen")
	}
	plan, ok := loadProgramPlan(env, files[0])
	if !ok {
		return exitErrors
	}
	for _, rel := range append(append([]string{}, prints...), counts...) {
		if plan.ByName[rel] == nil {
			return usageError(env, fs, "--print/--count: %s has no collection %s (it has %s)", files[0], rel, collNames(plan.ByName))
		}
	}
	for _, f := range facts {
		if err := plan.AddFactsFromFlag(f); err != nil {
			printErrors(env, err)
			return exitErrors
		}
	}
	if code := data.check(env, fs, plan); code != 0 {
		return code
	}
	if serve.listen != "" {
		return serveNode(env, fs, plan, &serve, &data, facts, prints, counts)
	}
	node := runtime.New(plan, runtime.Options{Clock: runtime.NewVirtualClock(time.Now())})
	closeData, code := data.attach(env, node, facts, nil)
	if closeData == nil {
		return code
	}
	defer closeData()
	maxTicks := *ticks
	if maxTicks > 0 {
		maxTicks += node.TickCount() // a restored node runs N more ticks
	}
	if err := node.RunBatch(maxTicks); err != nil {
		if node.Halted() != nil {
			err = fmt.Errorf("bloomc run: --data: %w", err) // a failed commit (data.go)
		}
		printErrors(env, err)
		return exitErrors
	}
	if d := node.Stats().Dropped; d > 0 {
		fmt.Fprintf(env.stderr, "bloomc run: warning: %d message(s) to other nodes dropped (no network without --listen)\n", d)
	}
	printResults(env, node, plan, prints, counts)
	return exitOK
}

// printResults prints --print and --count in the canonical format; the
// batch and the --listen paths share it.
func printResults(env *cliEnv, node *runtime.Node, plan *compiler.Plan, prints, counts []string) {
	w := bufio.NewWriter(env.stdout)
	defer w.Flush()
	for _, rel := range prints {
		ts, _ := node.Contents(rel)
		c := plan.ByName[rel]
		var buf []byte
		for _, t := range ts {
			buf = stdlib.AppendFormatTuple(buf[:0], rel, c.Types, t)
			buf = append(buf, '\n')
			w.Write(buf)
		}
	}
	for _, rel := range counts {
		n, _ := node.Count(rel)
		fmt.Fprintf(w, "%s: %s\n", rel, strconv.Itoa(n))
	}
}

func collNames[V any](m map[string]V) string {
	keys := sortedKeys(m)
	if len(keys) > 8 {
		keys = append(keys[:8], "...")
	}
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += k
	}
	return s
}
