package runtime

import (
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
