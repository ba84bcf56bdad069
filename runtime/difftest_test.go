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

// errInvalid marks a program that does not load or compile.
var errInvalid = errors.New("invalid program")

// diffProgram runs src for up to ticks ticks on the engine and on the
// reference and describes their first disagreement ("" when they agree).
// The engine runs twice: tick by tick with Tick (comparing every tick and
// whether there is work left), and with RunBatch(ticks) (comparing the
// number of ticks run and the final state). The error wraps errInvalid
// when the program does not load or compile.
func diffProgram(src string, ticks int) (string, error) {
	prog, err := (&lang.Loader{}).LoadSource("gen.bloom", []byte(src))
	if err != nil {
		return "", fmt.Errorf("%w: %v", errInvalid, err)
	}
	plan, err := compiler.Compile(prog)
	if err != nil {
		return "", fmt.Errorf("%w: compile: %v", errInvalid, err)
	}
	ref, err := newRefEval(prog)
	if err != nil {
		return fmt.Sprintf("the engine compiled the program, the reference did not: %v", err), nil
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

	start := time.Unix(1_700_000_000, 0)
	node := runtime.New(plan, runtime.Options{Clock: runtime.NewVirtualClock(start)})
	workDiff := ""
	for i := range ticks {
		engErr := node.Tick()
		if i == len(states) { // the reference failed in this tick
			if engErr == nil {
				return fmt.Sprintf("tick %d: the reference failed (%v), the engine did not; engine state:\n%s", i+1, refErr, dumpState(engineState(node, prog))), nil
			}
			return "", nil
		}
		if engErr != nil {
			return fmt.Sprintf("tick %d: the engine failed (%v), the reference did not; reference state:\n%s", i+1, engErr, dumpState(states[i])), nil
		}
		if d := compareStates(states[i], engineState(node, prog)); d != "" {
			return fmt.Sprintf("tick %d: contents differ:\n%s", i+1, d), nil
		}
		if node.HasWork() != work[i] && workDiff == "" {
			workDiff = fmt.Sprintf("after tick %d: the engine says there is work: %v, the reference: %v", i+1, node.HasWork(), work[i])
		}
	}
	if workDiff != "" {
		return workDiff, nil
	}

	// RunBatch stops at quiescence.
	want := ticks
	for i, w := range work {
		if !w {
			want = i + 1
			break
		}
	}
	node = runtime.New(plan, runtime.Options{Clock: runtime.NewVirtualClock(start)})
	limit := int64(ticks)
	batchErr := node.RunBatch(limit)
	if want > len(states) {
		if batchErr == nil {
			return fmt.Sprintf("RunBatch: the reference failed in tick %d (%v), the engine did not", len(states)+1, refErr), nil
		}
		return "", nil
	}
	if batchErr != nil {
		return fmt.Sprintf("RunBatch failed: %v", batchErr), nil
	}
	if int(node.TickCount()) != want {
		return fmt.Sprintf("RunBatch(%d) ran %d ticks, the reference quiesces after %d", limit, node.TickCount(), want), nil
	}
	if d := compareStates(states[want-1], engineState(node, prog)); d != "" {
		return fmt.Sprintf("RunBatch, tick %d: contents differ:\n%s", want, d), nil
	}
	return "", nil
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
	var derived, nonEmpty int
	for i := range n {
		seed := *diffSeed + uint64(i)
		p := genProgram(seed, temporal)
		src := p.String()
		d, err := diffProgram(src, p.ticks)
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
			// Coverage statistics: tuples derived by rules.
			n, ne := countDerived(src, p.ticks)
			derived += n
			if ne {
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
	t.Logf("%s: %d programs agree (%d derive tuples beyond their facts, %d derived tuples in all) in %v",
		name, n, nonEmpty, derived, time.Since(began).Round(time.Millisecond))
}

// countDerived counts the tuples of the final state that are not facts,
// to report how much the corpus exercises the rules.
func countDerived(src string, ticks int) (int, bool) {
	prog, err := (&lang.Loader{}).LoadSource("gen.bloom", []byte(src))
	if err != nil {
		return 0, false
	}
	ref, err := newRefEval(prog)
	if err != nil {
		return 0, false
	}
	factsOnly, _ := newRefEval(prog)
	factsOnly.strata, factsOnly.temporal = nil, nil
	if factsOnly.Tick() != nil {
		return 0, false
	}
	facts := map[string]bool{}
	for _, ts := range factsOnly.Contents() {
		for _, t := range ts {
			facts[t] = true
		}
	}
	for range ticks {
		if ref.Tick() != nil {
			return 0, false
		}
	}
	n := 0
	for _, ts := range ref.Contents() {
		for _, t := range ts {
			if !facts[t] {
				n++
			}
		}
	}
	return n, n > 0
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
	n := 300
	if testing.Short() {
		n = 60
	}
	runCorpus(t, "temporal", n, true)
}

// TestDifferentialRegressions reruns the programs saved in testdata/diff
// (shrunk failures and hand-written seeds). A first line `// ticks: N`
// runs N ticks; the default is one.
func TestDifferentialRegressions(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "diff", "*.bloom"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			ticks := 1
			if rest, ok := strings.CutPrefix(string(src), "// ticks:"); ok {
				line, _, _ := strings.Cut(rest, "\n")
				if ticks, err = strconv.Atoi(strings.TrimSpace(line)); err != nil {
					t.Fatalf("bad ticks line: %v", err)
				}
			}
			d, err := diffProgram(string(src), ticks)
			if err != nil {
				t.Fatal(err)
			}
			if d != "" {
				t.Errorf("the engine and the reference disagree:\n%s", d)
			}
		})
	}
}
