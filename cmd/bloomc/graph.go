package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bloomlang/bloom/analysis"
	"github.com/bloomlang/bloom/compiler"
)

func cmdGraph(env *cliEnv, args []string) int {
	fs := newFlags(env, "graph", "FILE [--format dot|mermaid|json] [-o OUT]",
		`Prints the program's stratified dataflow graph. Nodes are collections
(labelled with their kind); an edge runs from a collection read in a rule's
body to the rule's head:

  solid          positive, same tick
  dashed         non-monotone: "not" (negation) or an aggregate (count, sum, ...)
  dotted         next tick: <+ (insert), <- (delete), <+- (upsert)
  bold           <~ (asynchronous send over a channel)

Strata are drawn as clusters ("stratum N"), recursive components as nested
clusters. Formats:

  dot       Graphviz (the default): bloomc graph p.bloom | dot -Tsvg > p.svg
  mermaid   a Mermaid flowchart, for Markdown
  json      the graph as data; the schema is in docs/graph.md

Without --format, an -o file named *.json, *.mmd or *.mermaid, *.dot or *.gv
picks the format. Exits 1 when the program has errors, 2 on usage errors.`)
	format := fs.String("format", "", "output `FORMAT`: "+strings.Join(compiler.GraphFormats, ", ")+" (default dot)")
	out := fs.String("o", "", "write the graph to `OUT` instead of standard output")
	files, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(files) != 1 {
		return usageError(env, fs, "want exactly one program file, got %d", len(files))
	}
	f := *format
	if f == "" {
		f = formatFromExt(*out)
	}
	if f == "mmd" {
		f = "mermaid"
	}
	if !slices.Contains(compiler.GraphFormats, f) {
		return usageError(env, fs, "unknown --format %q (want %s)", *format, strings.Join(compiler.GraphFormats, ", "))
	}
	if _, err := os.Stat(files[0]); err != nil {
		fmt.Fprintf(env.stderr, "%s: cannot read: %v\n", files[0], errors.Unwrap(err))
		return exitErrors
	}
	plan, ok := loadPlan(env, files[0])
	if !ok {
		return exitErrors
	}
	// The CALM analysis marks non-monotone edges, points of order and
	// races, so the picture shows where coordination is needed.
	var marks compiler.Marks
	if rep, err := analysis.Analyze(plan); err == nil {
		marks = rep.Marks()
	}
	var buf bytes.Buffer
	if err := plan.Render(&buf, f, marks); err != nil {
		fmt.Fprintf(env.stderr, "bloomc graph: %v\n", err)
		return exitErrors
	}
	if *out == "" || *out == "-" {
		env.stdout.Write(buf.Bytes())
		return exitOK
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintf(env.stderr, "bloomc graph: %v\n", err)
		return exitErrors
	}
	return exitOK
}

// formatFromExt picks the graph format from an output file name.
func formatFromExt(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return "json"
	case ".mmd", ".mermaid":
		return "mermaid"
	}
	return "dot"
}
