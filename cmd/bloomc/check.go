package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
)

func newLoader() *lang.Loader { return &lang.Loader{Std: stdModules()} }

// loadPlan loads, checks and compiles a program, printing its errors.
func loadPlan(env *cliEnv, path string) (*compiler.Plan, bool) {
	prog, err := newLoader().Load(path)
	if err != nil {
		printErrors(env, err)
		return nil, false
	}
	plan, err := compiler.Compile(prog)
	if err != nil {
		printErrors(env, err)
		return nil, false
	}
	return plan, true
}

// printErrors writes FILE:LINE:COL: message lines (capped) to stderr.
func printErrors(env *cliEnv, err error) {
	var list lang.ErrorList
	if errors.As(err, &list) {
		fmt.Fprintln(env.stderr, list.Error())
		return
	}
	fmt.Fprintln(env.stderr, err)
}

func cmdCheck(env *cliEnv, args []string) int {
	fs := newFlags(env, "check", "[-v] FILE...", "Parses and checks each program (with the modules it imports). Prints errors as\nFILE:LINE:COL: message on stderr and exits 1 if there are any; says nothing on\nsuccess unless -v.")
	verbose := fs.Bool("v", false, "print a line for each valid file")
	files, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(files) == 0 {
		return usageError(env, fs, "no files given")
	}
	status := exitOK
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			fmt.Fprintf(env.stderr, "%s: cannot read: %v\n", f, errors.Unwrap(err))
			status = exitErrors
			continue
		}
		if _, ok := loadPlan(env, f); !ok {
			status = exitErrors
			continue
		}
		if *verbose {
			fmt.Fprintf(env.stdout, "%s: ok\n", f)
		}
	}
	return status
}
