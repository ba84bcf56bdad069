package main

import (
	"fmt"
	"os"

	"github.com/bloomlang/bloom/analysis"
	"github.com/bloomlang/bloom/lang"
)

func cmdLint(env *cliEnv, args []string) int {
	fs := newFlags(env, "lint", "FILE... [--format text|json|sarif] [-v]",
		`Runs the CALM analysis: finds every point of order (a non-monotone construct
whose input depends on a channel: negation, a non-lattice aggregate, <-, <+-,
value(), now(), a key constraint that can reject, a non-threshold comparison of
a lattice) and every race (a same-tick join of transient channel data with
other channel-dependent data), and proves the rest coordination-free.

Text output is compiler style: FILE:LINE:COL: point of order: ... with the
path from the channel and a remedy, then a one-line verdict per program.
--format json prints the document described in docs/lint-schema.md;
--format sarif prints a SARIF 2.1.0 log for GitHub code scanning.
A rule marked @coordinated("reason") acknowledges its points of order.

Exit status: 0 coordination-free, 3 unacknowledged points of order or races,
1 a program has errors (printed on stderr), 2 usage.`)
	format := fs.String("format", "text", "output `FORMAT`: text, json or sarif")
	verbose := fs.Bool("v", false, "text: also list the channels, the channel-dependent collections and every edge's label")
	files, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(files) == 0 {
		return usageError(env, fs, "no files given")
	}
	switch *format {
	case "text", "json", "sarif":
	default:
		return usageError(env, fs, "unknown --format %q: want text, json or sarif", *format)
	}
	loader := newLoader()
	var results []*analysis.Result
	for _, f := range files {
		r := analysis.Lint(loader, f)
		if len(r.Errors) > 0 {
			fmt.Fprintln(env.stderr, lang.ErrorList(r.Errors).Error())
		}
		results = append(results, r)
	}
	var err error
	switch *format {
	case "text":
		for _, r := range results {
			if r.Report != nil {
				if err = analysis.WriteText(env.stdout, r.Report, analysis.TextOptions{Verbose: *verbose}); err != nil {
					break
				}
			}
		}
	case "json":
		err = analysis.WriteJSON(env.stdout, results, analysis.Tool{Name: toolName, Version: version})
	case "sarif":
		base, _ := os.Getwd()
		err = analysis.WriteSARIF(env.stdout, results, analysis.SARIFOptions{Tool: analysis.Tool{Name: toolName, Version: version}, BaseDir: base})
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "bloomc lint: %v\n", err)
		return exitErrors
	}
	return int(analysis.StatusOf(results))
}
