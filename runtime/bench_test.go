package runtime

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
)

const tcSrc = `
table edge(x: int, y: int);
table path(x: int, y: int);
path(x, y) <= edge(x, y);
path(x, z) <= path(x, y), edge(y, z);
`

func mustPlan(tb testing.TB, src string) *compiler.Plan {
	tb.Helper()
	prog, err := (&lang.Loader{}).LoadSource("bench.bloom", []byte(src))
	if err != nil {
		tb.Fatal(err)
	}
	plan, err := compiler.Compile(prog)
	if err != nil {
		tb.Fatal(err)
	}
	return plan
}

func edgeFacts(plan *compiler.Plan, edges [][2]int64) {
	id := plan.ByName["edge"].ID
	for _, e := range edges {
		plan.Facts = append(plan.Facts, &compiler.Fact{Coll: id, Tuple: Tuple{e[0], e[1]}})
	}
}

func chain(n int) [][2]int64 {
	var es [][2]int64
	for i := 0; i < n-1; i++ {
		es = append(es, [2]int64{int64(i), int64(i + 1)})
	}
	return es
}

func randomGraph(nodes, edges int, seed uint64) [][2]int64 {
	r := rand.New(rand.NewPCG(seed, 1))
	seen := map[[2]int64]bool{}
	var es [][2]int64
	for len(es) < edges {
		e := [2]int64{r.Int64N(int64(nodes)), r.Int64N(int64(nodes))}
		if !seen[e] {
			seen[e] = true
			es = append(es, e)
		}
	}
	return es
}

func benchTC(b *testing.B, edges [][2]int64) {
	var tuples int
	for i := 0; i < b.N; i++ {
		plan := mustPlan(b, tcSrc)
		edgeFacts(plan, edges)
		n := New(plan, Options{Clock: NewVirtualClock(time.Unix(0, 0))})
		if err := n.RunBatch(0); err != nil {
			b.Fatal(err)
		}
		tuples, _ = n.Count("path")
	}
	b.ReportMetric(float64(tuples), "tuples")
	b.ReportMetric(float64(tuples)*float64(b.N)/b.Elapsed().Seconds(), "tuples/s")
}

func BenchmarkTCChain1000(b *testing.B)  { benchTC(b, chain(1000)) }
func BenchmarkTCChain2000(b *testing.B)  { benchTC(b, chain(2000)) }
func BenchmarkTCRandom2000(b *testing.B) { benchTC(b, randomGraph(2000, 4000, 7)) }

const incrSrc = `
input add(x: int, y: int);
input nop(x: int);
table edge(x: int, y: int);
table path(x: int, y: int);
edge(x, y) <= add(x, y);
path(x, y) <= edge(x, y);
path(x, z) <= path(x, y), edge(y, z);
`

// incrementalNode builds the closure of a chain of n nodes (n(n-1)/2
// paths) and returns the node ready for more ticks.
func incrementalNode(b *testing.B, n int) *Node {
	plan := mustPlan(b, incrSrc)
	edgeFacts(plan, chain(n))
	node := New(plan, Options{Clock: NewVirtualClock(time.Unix(0, 0))})
	if err := node.RunBatch(0); err != nil {
		b.Fatal(err)
	}
	return node
}

// BenchmarkIncrementalEdge: on a closure of ~1M tuples, each tick adds an
// edge from a new node into the chain, deriving one path per chain node.
func BenchmarkIncrementalEdge(b *testing.B) {
	const n = 1415 // 1,000,405 paths
	node := incrementalNode(b, n)
	before, _ := node.Count("path")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		node.Enqueue("add", Tuple{int64(-1 - i), int64(0)})
		if err := node.Tick(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	after, _ := node.Count("path")
	b.ReportMetric(float64(after-before)/float64(b.N), "derived/tick")
}

// BenchmarkIncrementalNothing: a tick whose input derives nothing, on the
// same ~1M-tuple state.
func BenchmarkIncrementalNothing(b *testing.B) {
	node := incrementalNode(b, 1415)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		node.Enqueue("nop", Tuple{int64(i)})
		if err := node.Tick(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTickOverhead: a 10-rule program fed one input tuple per tick
// (the tick-overhead row); ticks/s is 1e9 / ns/op.
func BenchmarkTickOverhead(b *testing.B) {
	src := "input in(x: int);\nscratch s0(x: int);\n"
	for i := 1; i <= 9; i++ {
		src += fmt.Sprintf("scratch s%d(x: int);\n", i)
	}
	src += "s0(x) <= in(x);\n"
	for i := 1; i <= 9; i++ {
		src += fmt.Sprintf("s%d(x + 1) <= s%d(x);\n", i, i-1)
	}
	node := New(mustPlan(b, src), Options{Clock: NewVirtualClock(time.Unix(0, 0))})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		node.Enqueue("in", Tuple{int64(i)})
		if err := node.Tick(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ticks/s")
}

const sgSrc = `
table parent(child: int, par: int);
table sg(a: int, b: int);
sg(x, y) <= parent(x, p), parent(y, p), x != y;
sg(x, y) <= parent(x, xp), sg(xp, yp), parent(y, yp);
`

// randomTree is a tree of n nodes in which node i's parent is a random
// earlier node (the same shape as make bench's same-generation input).
func randomTree(n int, seed uint64) [][2]int64 {
	r := rand.New(rand.NewPCG(seed, 1))
	var es [][2]int64
	for i := 1; i < n; i++ {
		es = append(es, [2]int64{int64(i), r.Int64N(int64(i))})
	}
	return es
}

func BenchmarkSameGeneration5000(b *testing.B) {
	var tuples int
	for i := 0; i < b.N; i++ {
		plan := mustPlan(b, sgSrc)
		id := plan.ByName["parent"].ID
		for _, e := range randomTree(5000, 5000) {
			plan.Facts = append(plan.Facts, &compiler.Fact{Coll: id, Tuple: Tuple{e[0], e[1]}})
		}
		n := New(plan, Options{Clock: NewVirtualClock(time.Unix(0, 0))})
		if err := n.RunBatch(0); err != nil {
			b.Fatal(err)
		}
		tuples, _ = n.Count("sg")
	}
	b.ReportMetric(float64(tuples), "tuples")
	b.ReportMetric(float64(tuples)*float64(b.N)/b.Elapsed().Seconds(), "tuples/s")
}

const ssspSrc = `
table source(n: int);
table edge(x: int, y: int, w: int);
table dist(n: int, d: lmin<int>) key(n);
dist(s, 0) <= source(s);
dist(y, d + w) <= dist(x, d), edge(x, y, w);
`

// BenchmarkSSSP is single-source shortest paths with an lmin lattice on
// a random graph of 10,000 nodes and 50,000 edges (make bench's shape).
func BenchmarkSSSP(b *testing.B) {
	r := rand.New(rand.NewPCG(10000, 50000))
	seen := map[[2]int64]bool{}
	var edges [][3]int64
	for len(edges) < 50000 {
		e := [2]int64{r.Int64N(10000), r.Int64N(10000)}
		if !seen[e] && e[0] != e[1] {
			seen[e] = true
			edges = append(edges, [3]int64{e[0], e[1], 1 + r.Int64N(100)})
		}
	}
	var tuples int
	for i := 0; i < b.N; i++ {
		plan := mustPlan(b, ssspSrc)
		id := plan.ByName["edge"].ID
		for _, e := range edges {
			plan.Facts = append(plan.Facts, &compiler.Fact{Coll: id, Tuple: Tuple{e[0], e[1], e[2]}})
		}
		plan.Facts = append(plan.Facts, &compiler.Fact{Coll: plan.ByName["source"].ID, Tuple: Tuple{int64(0)}})
		n := New(plan, Options{Clock: NewVirtualClock(time.Unix(0, 0))})
		if err := n.RunBatch(0); err != nil {
			b.Fatal(err)
		}
		tuples, _ = n.Count("dist")
	}
	b.ReportMetric(float64(tuples), "tuples")
}
