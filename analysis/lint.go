package analysis

import (
	"errors"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
)

// Result is the lint of one program file: its report, or the errors that
// kept it from compiling.
type Result struct {
	File   string
	Report *Report       // nil when the program has errors
	Errors []*lang.Error // load, check and compile errors, sorted
}

// Lint loads, checks, compiles and analyses the program whose root file is
// path.
func Lint(loader *lang.Loader, path string) *Result {
	res := &Result{File: path}
	prog, err := loader.Load(path)
	if err == nil {
		var plan *compiler.Plan
		if plan, err = compiler.Compile(prog); err == nil {
			res.Report, err = Analyze(plan)
		}
	}
	if err != nil {
		res.Report = nil
		var list lang.ErrorList
		if errors.As(err, &list) {
			res.Errors = list
		} else {
			res.Errors = []*lang.Error{{Pos: lang.Pos{File: path}, Msg: err.Error()}}
		}
	}
	return res
}

// Status is the lint outcome of a set of results, in the order of the CLI's
// exit codes: StatusOK (0, coordination-free), StatusErrors (1, a program
// did not compile), StatusPoints (3, unacknowledged points of order or
// races).
type Status int

// Statuses, valued as `bloomc lint` exit codes (spec section 9).
const (
	StatusOK     Status = 0
	StatusErrors Status = 1
	StatusPoints Status = 3
)

// StatusOf returns StatusErrors when any program has errors, else
// StatusPoints when any is not coordination-free, else StatusOK.
func StatusOf(results []*Result) Status {
	st := StatusOK
	for _, r := range results {
		switch {
		case len(r.Errors) > 0 || r.Report == nil:
			return StatusErrors
		case !r.Report.CoordinationFree():
			st = StatusPoints
		}
	}
	return st
}
