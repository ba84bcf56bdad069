package main

import (
	"fmt"
	goruntime "runtime"
	"time"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
)

// The in-process rows of the table: incremental maintenance, tick overhead
// and memory per stored tuple, measured on the engine directly.

const incrProgram = `
input add(x: int, y: int);
input nop(x: int);
table edge(x: int, y: int);
table path(x: int, y: int);
edge(x, y) <= add(x, y);
path(x, y) <= edge(x, y);
path(x, z) <= path(x, y), edge(y, z);
`

func plan(src string) *compiler.Plan {
	prog, err := (&lang.Loader{}).LoadSource("bench.bloom", []byte(src))
	if err != nil {
		fail(err)
	}
	p, err := compiler.Compile(prog)
	if err != nil {
		fail(err)
	}
	return p
}

func heapInUse() uint64 {
	goruntime.GC()
	goruntime.GC()
	var m goruntime.MemStats
	goruntime.ReadMemStats(&m)
	return m.HeapAlloc
}

func engineRows() {
	// A chain of 1,415 nodes: 1,000,405 paths.
	const n = 1415
	before := heapInUse()
	p := plan(incrProgram)
	edge := p.ByName["edge"].ID
	for i := 0; i < n-1; i++ {
		p.Facts = append(p.Facts, &compiler.Fact{Coll: edge, Tuple: runtime.Tuple{int64(i), int64(i + 1)}})
	}
	node := runtime.New(p, runtime.Options{Clock: runtime.NewVirtualClock(time.Unix(0, 0))})
	if err := node.RunBatch(0); err != nil {
		fail(err)
	}
	paths, _ := node.Count("path")
	perTuple := float64(heapInUse()-before) / float64(paths)

	const ticks = 200
	start := time.Now()
	for i := 0; i < ticks; i++ {
		node.Enqueue("add", runtime.Tuple{int64(-1 - i), int64(0)})
		if err := node.Tick(); err != nil {
			fail(err)
		}
	}
	perEdge := time.Since(start) / ticks
	after, _ := node.Count("path")
	start = time.Now()
	for i := 0; i < ticks*10; i++ {
		node.Enqueue("nop", runtime.Tuple{int64(i)})
		if err := node.Tick(); err != nil {
			fail(err)
		}
	}
	perNothing := time.Since(start) / (ticks * 10)

	src := "input in(x: int);\n"
	for i := 0; i < 10; i++ {
		src += fmt.Sprintf("scratch s%d(x: int);\n", i)
	}
	src += "s0(x) <= in(x);\n"
	for i := 1; i < 10; i++ {
		src += fmt.Sprintf("s%d(x + 1) <= s%d(x);\n", i, i-1)
	}
	small := runtime.New(plan(src), runtime.Options{Clock: runtime.NewVirtualClock(time.Unix(0, 0))})
	const k = 100000
	start = time.Now()
	for i := 0; i < k; i++ {
		small.Enqueue("in", runtime.Tuple{int64(i)})
		if err := small.Tick(); err != nil {
			fail(err)
		}
	}
	tps := float64(k) / time.Since(start).Seconds()

	fmt.Printf("\n%-52s %s\n", "engine (in process)", "measured (target)")
	fmt.Printf("%-52s %s\n", fmt.Sprintf("incremental: +1 edge on a %d-tuple closure", paths),
		fmt.Sprintf("%v/tick, %.0f tuples derived/tick", perEdge.Round(time.Microsecond), float64(after-paths)/ticks))
	fmt.Printf("%-52s %v (< 100µs)\n", "incremental: a tick deriving nothing, same state", perNothing.Round(100*time.Nanosecond))
	fmt.Printf("%-52s %.0f ticks/s (>= 200,000)\n", "tick overhead: 10 rules, 1 input tuple per tick", tps)
	fmt.Printf("%-52s %.0f B\n", "heap per stored tuple (path(int, int) closure)", perTuple)
}
