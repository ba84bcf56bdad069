package runtime_test

// Differential testing: random stratified programs (gen_test.go) run on the
// engine (lang → compiler → runtime) and on the naive reference evaluator
// (refeval_test.go) must agree on every collection. A disagreement is
// shrunk to a small program, saved under testdata/diff/ and reported; the
// saved programs are rerun by TestDifferentialRegressions.

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
)

var (
	diffN    = flag.Int("diff.n", 0, "number of random programs per differential corpus (0: default)")
	diffSeed = flag.Uint64("diff.seed", 0, "first seed of the differential corpora")
	diffDump = flag.Bool("diff.dump", false, "log every generated program and its final state")
)

// errInvalid marks a program that does not load or compile, errSkip one
// that is too big for the reference evaluator.
var (
	errInvalid = errors.New("invalid program")
	errSkip    = errors.New("too big for the reference")
)

// diffProgram runs src for up to ticks ticks on the engine and on the
// reference and describes their first disagreement ("" when they agree).
// The engine runs twice: tick by tick with Tick (comparing every tick and
// whether there is work left), and with RunBatch(ticks) (comparing the
// number of ticks run and the final state). The error wraps errInvalid
// when the program does not load or compile.
func diffProgram(src string, ticks int) (string, error) {
	res, err := diffRun(src, ticks)
	return res.diff, err
}

// diffResult is the outcome of diffRun.
type diffResult struct {
	diff string // the first disagreement, "" if none
	// When they agree: final is the reference's state at the end of the
	// run (at quiescence or after ticks ticks), derived the number of its
	// tuples that are not facts; failed is set when both failed a tick.
	final   map[string][]string
	derived int
	failed  bool
}

// diffRun is diffProgram with the details of the run.
func diffRun(src string, ticks int) (diffResult, error) {
	prog, err := (&lang.Loader{}).LoadSource("gen.bloom", []byte(src))
	if err != nil {
		return diffResult{}, fmt.Errorf("%w: %v", errInvalid, err)
	}
	plan, err := compiler.Compile(prog)
	if err != nil {
		return diffResult{}, fmt.Errorf("%w: compile: %v", errInvalid, err)
	}
	ref, err := newRefEval(prog)
	if err != nil {
		return diffResult{diff: fmt.Sprintf("the engine compiled the program, the reference did not: %v", err)}, nil
	}
	// The reference run: the state and whether there is work after each
	// tick, until an error.
	var states []map[string][]string
	var work []bool
	var refErr error
	for range ticks {
		if refErr = ref.Tick(); refErr != nil {
			break
		}
		states = append(states, ref.Contents())
		work = append(work, ref.HasWork())
	}

	if errors.Is(refErr, errTooBig) {
		return diffResult{}, errSkip
	}

	start := time.Unix(1_700_000_000, 0)
	node := runtime.New(plan, runtime.Options{Clock: runtime.NewVirtualClock(start)})
	workDiff := ""
	for i := range ticks {
		engErr := node.Tick()
		if i == len(states) { // the reference failed in this tick
			if engErr == nil {
				return diffResult{diff: fmt.Sprintf("tick %d: the reference failed (%v), the engine did not; engine state:\n%s", i+1, refErr, dumpState(engineState(node, prog)))}, nil
			}
			return diffResult{failed: true}, nil
		}
		if engErr != nil {
			return diffResult{diff: fmt.Sprintf("tick %d: the engine failed (%v), the reference did not; reference state:\n%s", i+1, engErr, dumpState(states[i]))}, nil
		}
		if d := compareStates(states[i], engineState(node, prog)); d != "" {
			return diffResult{diff: fmt.Sprintf("tick %d: contents differ:\n%s", i+1, d)}, nil
		}
		if node.HasWork() != work[i] && workDiff == "" {
			workDiff = fmt.Sprintf("after tick %d: the engine says there is work: %v, the reference: %v", i+1, node.HasWork(), work[i])
		}
	}
	if workDiff != "" {
		return diffResult{diff: workDiff}, nil
	}

	// RunBatch stops at quiescence.
	want := ticks
	for i, w := range work {
		if !w {
			want = i + 1
			break
		}
	}
	// This second run keeps every rule on the boxed evaluator, so that
	// both it and the word kernel (which the first run uses wherever it
	// can) are held to the reference.
	node = runtime.New(plan, runtime.Options{Clock: runtime.NewVirtualClock(start), NoKernel: true})
	limit := int64(ticks)
	batchErr := node.RunBatch(limit)
	if want > len(states) {
		if batchErr == nil {
			return diffResult{diff: fmt.Sprintf("RunBatch: the reference failed in tick %d (%v), the engine did not", len(states)+1, refErr)}, nil
		}
		return diffResult{failed: true}, nil
	}
	if batchErr != nil {
		return diffResult{diff: fmt.Sprintf("RunBatch failed: %v", batchErr)}, nil
	}
	if int(node.TickCount()) != want {
		return diffResult{diff: fmt.Sprintf("RunBatch(%d) ran %d ticks, the reference quiesces after %d", limit, node.TickCount(), want)}, nil
	}
	if d := compareStates(states[want-1], engineState(node, prog)); d != "" {
		return diffResult{diff: fmt.Sprintf("RunBatch, tick %d: contents differ:\n%s", want, d)}, nil
	}
	final := states[want-1]
	return diffResult{final: final, derived: derivedCount(prog, final)}, nil
}

func engineState(node *runtime.Node, prog *lang.Program) map[string][]string {
	out := map[string][]string{}
	for _, c := range prog.Collections {
		ts, err := node.Contents(c.Name)
		if err != nil {
			out[c.Name] = []string{"ERROR " + err.Error()}
			continue
		}
		var types []*lang.Type
		for _, col := range c.Cols {
			types = append(types, col.Type)
		}
		var strs []string
		for _, t := range ts {
			strs = append(strs, stdlib.FormatTuple(c.Name, types, t))
		}
		sort.Strings(strs)
		out[c.Name] = strs
	}
	return out
}

func compareStates(ref, eng map[string][]string) string {
	var names []string
	for name := range ref {
		names = append(names, name)
	}
	for name := range eng {
		if _, ok := ref[name]; !ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		if !slices.Equal(ref[name], eng[name]) {
			fmt.Fprintf(&b, "  %s:\n    reference: %s\n    engine:    %s\n", name, strings.Join(ref[name], " "), strings.Join(eng[name], " "))
		}
	}
	return b.String()
}

func dumpState(s map[string][]string) string {
	var names []string
	for name := range s {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		fmt.Fprintf(&b, "  %s: %s\n", name, strings.Join(s[name], " "))
	}
	return b.String()
}

// shrink removes rules, facts, body literals and declarations from p while
// the engine and the reference still disagree on it.
func shrink(p *genProg) *genProg {
	for steps := 0; steps < 1000; steps++ {
		progress := false
		for _, q := range p.shrinkCandidates() {
			if d, err := diffProgram(q.String(), q.ticks); err == nil && d != "" {
				p, progress = q, true
				break
			}
		}
		if !progress {
			break
		}
	}
	return p
}

func runCorpus(t *testing.T, name string, n int, temporal bool) {
	if *diffN > 0 {
		n = *diffN
	}
	began := time.Now()
	failures := 0
	var derived, nonEmpty, skipped, failedTick int
	agreed := 0
	for i := 0; agreed < n && i < 2*n; i++ {
		seed := *diffSeed + uint64(i)
		p := genProgram(seed, temporal)
		src := p.String()
		// A program that makes the engine (or the reference) loop
		// cannot be shrunk or reported by the test: crash with it.
		watchdog := time.AfterFunc(time.Minute, func() {
			panic(fmt.Sprintf("%s seed %d: no result after a minute:\n%s", name, seed, src))
		})
		res, err := diffRun(src, p.ticks)
		d := res.diff
		watchdog.Stop()
		if *diffDump {
			t.Logf("seed %d:\n%s", seed, src)
			if prog, err := (&lang.Loader{}).LoadSource("gen.bloom", []byte(src)); err == nil {
				if ref, err := newRefEval(prog); err == nil {
					for range p.ticks {
						if err := ref.Tick(); err != nil {
							t.Logf("reference error: %v", err)
							break
						}
					}
					t.Logf("final state:\n%s", dumpState(ref.Contents()))
				}
			}
		}
		if errors.Is(err, errSkip) {
			skipped++
			continue
		}
		if err != nil {
			t.Errorf("%s seed %d: the generator made an invalid program: %v\n%s", name, seed, err, src)
		} else if d != "" {
			small := shrink(p)
			sd, _ := diffProgram(small.String(), small.ticks)
			file := filepath.Join("testdata", "diff", fmt.Sprintf("%s-%d.bloom", name, seed))
			if werr := os.WriteFile(file, []byte(small.String()), 0o644); werr != nil {
				t.Logf("cannot save %s: %v", file, werr)
			}
			t.Errorf("%s seed %d: the engine and the reference disagree.\nShrunk program (saved as %s):\n%s\n%s\nOriginal program:\n%s\n%s",
				name, seed, file, small, sd, src, d)
		} else {
			agreed++
			switch {
			case res.failed:
				failedTick++
			case res.derived > 0:
				derived += res.derived
				nonEmpty++
			}
		}
		if err != nil || d != "" {
			failures++
			if failures >= 3 {
				t.Fatalf("stopping after %d failing programs", failures)
			}
		}
	}
	t.Logf("%s: %d programs agree (%d derive tuples beyond their facts, %d derived tuples in all; %d fail a tick on both), %d skipped as too big, in %v",
		name, agreed, nonEmpty, derived, failedTick, skipped, time.Since(began).Round(time.Millisecond))
	if agreed < n {
		t.Errorf("only %d of %d programs agree (%d were too big for the reference evaluator)", agreed, n, skipped)
	}
}

// derivedCount counts the tuples of final that are not facts.
func derivedCount(prog *lang.Program, final map[string][]string) int {
	factsOnly, err := newRefEval(prog)
	if err != nil {
		return 0
	}
	factsOnly.strata, factsOnly.temporal = nil, nil
	if factsOnly.Tick() != nil {
		return 0
	}
	facts := map[string]bool{}
	for _, ts := range factsOnly.Contents() {
		for _, t := range ts {
			facts[t] = true
		}
	}
	n := 0
	for _, ts := range final {
		for _, t := range ts {
			if !facts[t] {
				n++
			}
		}
	}
	return n
}

// TestDifferential runs at least 1000 random single-tick (<=) programs on
// the engine and the reference evaluator (200 with -short).
func TestDifferential(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	runCorpus(t, "single", n, false)
}

// TestDifferentialTemporal runs random multi-tick programs with <+, <- and
// <+- rules, comparing every tick.
func TestDifferentialTemporal(t *testing.T) {
	n := 500
	if testing.Short() {
		n = 100
	}
	runCorpus(t, "temporal", n, true)
}

// TestDifferentialRegressions reruns the programs saved in testdata/diff
// (shrunk failures and hand-written seeds). A first line `// ticks: N`
// runs N ticks (the default is one). Lines `// want: rel(1, 2)` list the
// expected final contents of each collection they name (`// want: rel()`
// for an empty one), which checks the reference evaluator itself; `// want:
// fails` expects a failed tick.
func TestDifferentialRegressions(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "diff", "*.bloom"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			src := string(data)
			ticks := 1
			if rest, ok := strings.CutPrefix(src, "// ticks:"); ok {
				line, _, _ := strings.Cut(rest, "\n")
				if ticks, err = strconv.Atoi(strings.TrimSpace(line)); err != nil {
					t.Fatalf("bad ticks line: %v", err)
				}
			}
			res, err := diffRun(src, ticks)
			if err != nil {
				t.Fatal(err)
			}
			if res.diff != "" {
				t.Fatalf("the engine and the reference disagree:\n%s", res.diff)
			}
			want := map[string][]string{}
			wantFail := false
			for _, line := range strings.Split(src, "\n") {
				w, ok := strings.CutPrefix(line, "// want:")
				if !ok {
					continue
				}
				w = strings.TrimSpace(w)
				if w == "fails" {
					wantFail = true
					continue
				}
				name, args, _ := strings.Cut(w, "(")
				if strings.TrimSpace(args) == ")" {
					want[name] = []string{}
					continue
				}
				want[name] = append(want[name], w)
			}
			if res.failed != wantFail {
				t.Fatalf("failed tick: %v, want %v", res.failed, wantFail)
			}
			for name, ts := range want {
				sort.Strings(ts)
				if got := res.final[name]; !slices.Equal(got, ts) {
					t.Errorf("%s = %s, want %s", name, strings.Join(got, " "), strings.Join(ts, " "))
				}
			}
		})
	}
}
