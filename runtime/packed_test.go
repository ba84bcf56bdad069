package runtime

import (
	"errors"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/bloomlang/bloom/compiler"
)

// packedNode is newTestNode with the word kernel on or off.
func packedNode(t *testing.T, src string, noKernel bool) *Node {
	t.Helper()
	return New(mustPlan(t, src), Options{Clock: NewVirtualClock(time.Unix(1000, 0)), Self: "n1:1", NoKernel: noKernel})
}

// An lmin<int> relation is stored packed and merged by the kernel; a
// bottom, which has no word, demotes it to boxed storage, after which the
// boxed evaluator runs its rules and the results are the same.
func TestPackedLatticeMergeAndDemotion(t *testing.T) {
	const src = `
		input add(x: int, y: int, w: int);
		input go(x: int);
		table edge(x: int, y: int, w: int);
		table dist(n: int, d: lmin<int>) key(n);
		table src(k: string, m: lmap<string, lmin<int>>) key(k);
		edge(1, 2, 5); edge(1, 3, 1); edge(3, 2, 1); edge(2, 4, 1);
		edge(x, y, w) <= add(x, y, w);
		dist(1, 0);
		dist(y, d + w) <= dist(x, d), edge(x, y, w);
		src("a", {"x": 3});
		dist(9, at(m, "missing")) <= src(_, m), go(_);
	`
	for _, noKernel := range []bool{false, true} {
		n := packedNode(t, src, noKernel)
		if err := n.Tick(); err != nil {
			t.Fatal(err)
		}
		if !n.rels[n.plan.ByName["dist"].ID].packed() {
			t.Fatal("dist(int, lmin<int>) is not packed")
		}
		if got, want := contents(t, n, "dist"), "dist(1, 0) dist(2, 2) dist(3, 1) dist(4, 3)"; got != want {
			t.Errorf("noKernel=%v: dist = %s, want %s", noKernel, got, want)
		}
		// Next tick: a bottom arrives and dist is demoted; a new edge
		// still derives through the boxed evaluator.
		if err := n.Enqueue("go", Tuple{int64(1)}); err != nil {
			t.Fatal(err)
		}
		if err := n.Tick(); err != nil {
			t.Fatal(err)
		}
		if err := n.Enqueue("add", Tuple{int64(4), int64(5), int64(1)}); err != nil {
			t.Fatal(err)
		}
		if err := n.Tick(); err != nil {
			t.Fatal(err)
		}
		if n.rels[n.plan.ByName["dist"].ID].packed() {
			t.Error("dist holds a bottom and is still packed")
		}
		if got, want := contents(t, n, "dist"), "dist(1, 0) dist(2, 2) dist(3, 1) dist(4, 3) dist(5, 4) dist(9, bottom)"; got != want {
			t.Errorf("noKernel=%v: after demotion dist = %s, want %s", noKernel, got, want)
		}
	}
}

// A tick that fails after a packed relation was cleared, demoted and
// refilled leaves it as it was before the tick, packed again.
func TestPackedDemotionRollsBack(t *testing.T) {
	n := packedNode(t, `
		input in(x: int);
		scratch s(n: int, v: lmin<int>) key(n);
		table m(k: int, mm: lmap<string, lmin<int>>) key(k);
		table bad(x: int);
		table seen(n: int, v: lmin<int>) key(n);
		m(1, {"a": 1});
		s(x, 7) <= in(x);
		s(x, at(mm, "zz")) <= in(x), m(_, mm), x > 10;
		bad(10 / (x - 20)) <= s(x, _);
		seen(n, v) <= s(n, v);
	`, false)
	n.Enqueue("in", Tuple{int64(1)})
	if err := n.Tick(); err != nil {
		t.Fatal(err)
	}
	s := n.rels[n.plan.ByName["s"].ID]
	if !s.packed() {
		t.Fatal("s is not packed")
	}
	before := contents(t, n, "seen")
	// x = 20: s is cleared, then a bottom demotes it, then the division
	// by zero fails the tick.
	n.Enqueue("in", Tuple{int64(20)})
	if err := n.Tick(); err == nil {
		t.Fatal("the tick did not fail")
	}
	if !s.packed() || contents(t, n, "s") != "s(1, 7)" || contents(t, n, "seen") != before {
		t.Fatalf("after the failed tick: packed %v, s = %s, seen = %s (want s(1, 7), %s)", s.packed(), contents(t, n, "s"), contents(t, n, "seen"), before)
	}
	n.Enqueue("in", Tuple{int64(30)})
	if err := n.Tick(); err != nil {
		t.Fatal(err)
	}
	if got, want := contents(t, n, "seen"), "seen(1, 7) seen(30, 7)"; got != want {
		t.Errorf("seen = %s, want %s", got, want)
	}
}

// A failed tick undoes the merges it made into a packed lattice column,
// including a row merged several times in the tick.
func TestPackedMergeRollsBack(t *testing.T) {
	for _, noKernel := range []bool{false, true} {
		n := packedNode(t, `
			input in(x: int);
			table best(k: int, v: lmin<int>) key(k);
			table bad(x: int);
			best(1, 100);
			best(1, x) <= in(x);
			best(1, x - 1) <= in(x);
			best(2, x) <= in(x);
			bad(10 / (x - 5)) <= in(x), best(1, _); // after best has merged
		`, noKernel)
		if err := n.Tick(); err != nil {
			t.Fatal(err)
		}
		n.Enqueue("in", Tuple{int64(50)})
		if err := n.Tick(); err != nil {
			t.Fatal(err)
		}
		want := "best(1, 49) best(2, 50)"
		if got := contents(t, n, "best"); got != want {
			t.Fatalf("noKernel=%v: best = %s, want %s", noKernel, got, want)
		}
		n.Enqueue("in", Tuple{int64(5)}) // merges 5 and 4 into best(1), then fails
		if err := n.Tick(); err == nil {
			t.Fatal("the tick did not fail")
		}
		if got := contents(t, n, "best"); got != want {
			t.Errorf("noKernel=%v: after the failed tick best = %s, want %s", noKernel, got, want)
		}
		n.Enqueue("in", Tuple{int64(7)})
		if err := n.Tick(); err != nil {
			t.Fatal(err)
		}
		if got, want := contents(t, n, "best"), "best(1, 6) best(2, 7)"; got != want {
			t.Errorf("noKernel=%v: best = %s, want %s", noKernel, got, want)
		}
	}
}

// Pipelined rounds (pipeline.go) derive what the node's goroutine alone
// derives, in the same number of firings; run with -race, this is also
// the check that the worker and the inserting goroutine share nothing
// they both write.
func TestPipelinedRoundsMatchSequential(t *testing.T) {
	if goruntime.GOMAXPROCS(0) < 2 {
		defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(2))
	}
	progs := map[string]string{"tc": tcSrc, "sg": sgSrc}
	for name, src := range progs {
		var results []string
		var firings []int64
		for _, opts := range []Options{{}, {NoPipeline: true}, {NoKernel: true}} {
			plan := mustPlan(t, src)
			edges := randomGraph(300, 900, 3)
			rel := "edge"
			if name == "sg" {
				edges, rel = randomTree(1500, 9), "parent"
			}
			id := plan.ByName[rel].ID
			for _, e := range edges {
				plan.Facts = append(plan.Facts, &compiler.Fact{Coll: id, Tuple: Tuple{e[0], e[1]}})
			}
			opts.Clock = NewVirtualClock(time.Unix(0, 0))
			n := New(plan, opts)
			if err := n.RunBatch(0); err != nil {
				t.Fatal(err)
			}
			head := "path"
			if name == "sg" {
				head = "sg"
			}
			results = append(results, contents(t, n, head))
			firings = append(firings, n.Stats().Firings)
		}
		if results[0] != results[1] || results[0] != results[2] {
			t.Errorf("%s: pipelined, sequential and boxed results differ (%d, %d, %d bytes)", name, len(results[0]), len(results[1]), len(results[2]))
		}
		if firings[0] != firings[1] {
			t.Errorf("%s: pipelined %d firings, sequential %d", name, firings[0], firings[1])
		}
		if len(results[0]) < 100_000 {
			t.Errorf("%s: %d bytes of results: too small to pipeline", name, len(results[0]))
		}
	}
}

// A packed relation's sorted contents are in Compare's order (negative
// ints first, false before true) for every width.
func TestPackedSortedOrder(t *testing.T) {
	n := packedNode(t, `
		table a(x: int);
		table b(x: int, y: int);
		table c(x: int, on: bool, at: time);
		a(3); a(-2); a(0); a(-9223372036854775808); a(9223372036854775807);
		b(1, -1); b(-1, 5); b(1, -7); b(0, 0); b(-1, -5);
		c(1, true, -3); c(1, false, 2); c(-4, true, 0); c(1, false, -8);
	`, false)
	if err := n.Tick(); err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]string{
		"a": "a(-9223372036854775808) a(-2) a(0) a(3) a(9223372036854775807)",
		"b": "b(-1, -5) b(-1, 5) b(0, 0) b(1, -7) b(1, -1)",
		"c": "c(-4, true, 0) c(1, false, -8) c(1, false, 2) c(1, true, -3)",
	} {
		if !n.rels[n.plan.ByName[rel].ID].packed() {
			t.Fatalf("%s is not packed", rel)
		}
		if got := contents(t, n, rel); got != want {
			t.Errorf("%s = %s, want %s", rel, got, want)
		}
	}
}

// A key violation found while inserting a pipelined round's batches fails
// the tick like any other: the worker is drained and the tick rolls back.
func TestPipelinedKeyViolationFailsTheTick(t *testing.T) {
	if goruntime.GOMAXPROCS(0) < 2 {
		defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(2))
	}
	plan := mustPlan(t, `
		input go(x: int);
		table e(x: int, y: int);
		table p(x: int, y: int) key(x);
		p(x, y) <= e(x, y), go(_);
		p(x, z) <= p(x, y), e(y, z);
	`)
	id := plan.ByName["e"].ID
	for i := range int64(6000) {
		plan.Facts = append(plan.Facts, &compiler.Fact{Coll: id, Tuple: Tuple{i, i + 1}})
	}
	n := New(plan, Options{Clock: NewVirtualClock(time.Unix(0, 0))})
	if err := n.Tick(); err != nil {
		t.Fatal(err)
	}
	n.Enqueue("go", Tuple{int64(1)})
	err := n.Tick()
	var kv *KeyViolationError
	if !errors.As(err, &kv) || kv.Coll != "p" {
		t.Fatalf("err = %v, want a key violation in p", err)
	}
	if c, _ := n.Count("p"); c != 0 {
		t.Errorf("p holds %d tuples after the failed tick, want 0", c)
	}
	if c, _ := n.Count("e"); c != 6000 {
		t.Errorf("e holds %d tuples, want 6000", c)
	}
}
