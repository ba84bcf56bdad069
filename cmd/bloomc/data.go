package main

import (
	"bufio"
	"flag"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
	"github.com/bloomlang/bloom/storage"
)

// dataFlags are run's flags for durable state (docs/storage.md).
type dataFlags struct {
	dir         string
	memtableMiB int64
}

func (d *dataFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.dir, "data", "", "keep durable collections in data directory `DIR` (created if needed) and restore them at start")
	fs.Int64Var(&d.memtableMiB, "data-memtable", 64, "with --data: badger memtable size in `MiB`; one tick's durable changes must fit in 15% of it")
}

// durableNames lists the program's durable collections.
func durableNames(plan *compiler.Plan) []string {
	var names []string
	for _, c := range plan.Colls {
		if c.Info.Durable {
			names = append(names, c.Name)
		}
	}
	return names
}

// check validates the flags and, without --data, warns (once) that the
// program's durable collections will not be persisted.
func (d *dataFlags) check(env *cliEnv, fs *flag.FlagSet, plan *compiler.Plan) int {
	if d.dir == "" {
		if names := durableNames(plan); len(names) > 0 {
			fmt.Fprintf(env.stderr, "bloomc run: warning: durable collections (%s) are not persisted without --data DIR\n", strings.Join(names, ", "))
		}
		return 0
	}
	if d.memtableMiB < 1 || d.memtableMiB > 1024 {
		return usageError(env, fs, "--data-memtable: want 1 to 1024 (MiB)")
	}
	return 0
}

// attach opens the data directory and restores the node's durable state
// from it; the node then commits every tick there. It returns the
// function that closes the store at exit (recording the tick counter),
// or nil and an exit code. Without --data it does nothing. log, if set,
// receives what was restored (the --listen path).
func (d *dataFlags) attach(env *cliEnv, node *runtime.Node, facts []string, log *slog.Logger) (func(), int) {
	if d.dir == "" {
		return func() {}, 0
	}
	st, err := storage.Open(d.dir, storage.Options{MemTableSize: d.memtableMiB << 20, Logger: log})
	if err != nil {
		fmt.Fprintf(env.stderr, "bloomc run: --data: %v\n", err)
		return nil, exitErrors
	}
	info, err := node.UseStore(st)
	if err != nil {
		st.Close()
		fmt.Fprintf(env.stderr, "bloomc run: --data: %v\n", err)
		return nil, exitErrors
	}
	if info.FactsDone && len(facts) > 0 {
		fmt.Fprintf(env.stderr, "bloomc run: warning: --facts not inserted: the node of %s inserted its facts in an earlier run (facts are inserted once, in tick 1)\n", d.dir)
	}
	if len(info.SkippedFacts) > 0 {
		fmt.Fprintf(env.stderr, "bloomc run: warning: restarted from %s: facts are not inserted again, so these non-durable collections with facts start empty: %s\n", d.dir, strings.Join(info.SkippedFacts, ", "))
	}
	if log != nil {
		total := 0
		for _, n := range info.Tuples {
			total += n
		}
		log.Info("durable state", "dir", d.dir, "tick", info.Tick, "tuples", total, "pending", info.Pending, "restored", info.FactsDone)
	}
	return func() {
		if err := node.CloseStore(); err != nil {
			fmt.Fprintf(env.stderr, "bloomc run: --data: %v\n", err)
		}
	}, 0
}

func cmdData(env *cliEnv, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := env.stdout
		if len(args) == 0 {
			w = env.stderr
		}
		fmt.Fprint(w, `Usage: bloomc data dump [-v] DIR [REL]

Inspects a data directory written by 'bloomc run --data DIR' (docs/storage.md).

  dump   prints the stored durable collections (or only REL) in fact
         syntax, sorted, one tuple a line, as --print does; -v adds the
         tick counter, the declarations and the pending changes as
         // comments. The node must not be running (badger locks DIR).
`)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	switch args[0] {
	case "dump":
		return cmdDataDump(env, args[1:])
	}
	fmt.Fprintf(env.stderr, "bloomc data: unknown subcommand %q (want dump)\n", args[0])
	return exitUsage
}

func cmdDataDump(env *cliEnv, args []string) int {
	fs := newFlags(env, "data dump", "[-v] DIR [REL]",
		`Prints the durable collections stored in DIR (or only REL) in fact syntax,
sorted, one tuple a line, as 'bloomc run --print' does. The store is opened
read-only; the node using it must be stopped.`)
	verbose := fs.Bool("v", false, "also print the tick counter, declarations and pending changes as // comments")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usageError(env, fs, "want DIR and at most one REL")
	}
	st, err := storage.Open(pos[0], storage.Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintf(env.stderr, "bloomc data dump: %v\n", err)
		return exitErrors
	}
	defer st.Close()
	c, err := st.Contents()
	if err != nil {
		fmt.Fprintf(env.stderr, "bloomc data dump: %v\n", err)
		return exitErrors
	}
	colls := c.Colls
	if len(pos) == 2 {
		colls = nil
		var names []string
		for _, col := range c.Colls {
			names = append(names, col.Name)
			if col.Name == pos[1] {
				colls = append(colls, col)
			}
		}
		if colls == nil {
			fmt.Fprintf(env.stderr, "bloomc data dump: %s holds no durable collection %s (it holds %s)\n", pos[0], pos[1], orNone(names))
			return exitErrors
		}
	}
	w := bufio.NewWriter(env.stdout)
	defer w.Flush()
	if *verbose {
		fmt.Fprintf(w, "// %s: tick %d, facts inserted: %v\n", pos[0], c.Tick, c.FactsDone)
	}
	var buf []byte
	for _, col := range colls {
		if *verbose {
			fmt.Fprintf(w, "// %s\n", declaration(col))
		}
		for _, t := range col.Tuples {
			buf = stdlib.AppendFormatTuple(buf[:0], col.Name, col.Types, t)
			buf = append(buf, '\n')
			w.Write(buf)
		}
	}
	if *verbose && len(c.Pending) > 0 {
		types := map[string][]*lang.Type{}
		for _, col := range c.Colls {
			types[col.Name] = col.Types
		}
		fmt.Fprintf(w, "// pending changes, applied at the start of tick %d:\n", c.Tick+1)
		for _, p := range c.Pending {
			if len(pos) == 2 && p.Coll != pos[1] {
				continue
			}
			fmt.Fprintf(w, "//   %s %s\n", p.Op, stdlib.FormatTuple(p.Coll, types[p.Coll], p.Tuple))
		}
	}
	return exitOK
}

// declaration renders a stored collection as it was declared.
func declaration(c *storage.Collection) string {
	if c.Kind == "lattice" {
		return fmt.Sprintf("durable lattice %s: %s; // %d tuple(s)", c.Name, c.Types[0], len(c.Tuples))
	}
	var cols, key []string
	for i, name := range c.Columns {
		cols = append(cols, name+": "+c.Types[i].String())
	}
	for _, k := range c.Key {
		key = append(key, c.Columns[k])
	}
	return fmt.Sprintf("durable table %s(%s) key(%s); // %d tuple(s)", c.Name, strings.Join(cols, ", "), strings.Join(key, ", "), len(c.Tuples))
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
