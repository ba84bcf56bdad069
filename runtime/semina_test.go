package runtime_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
)

// TestSemiNaiveWork checks that recursion is evaluated semi-naively: the
// transitive closure of an n-node chain has n(n-1)/2 tuples, and the rule
// firings must grow with the result (quadratically in n: doubling n about
// quadruples them), not with result × iterations (cubically: ×8), which is
// what re-joining the whole of path in each of the n rounds would cost.
func TestSemiNaiveWork(t *testing.T) {
	rules := map[string]string{
		"right-linear": "path(x, z) <= path(x, y), edge(y, z);",
		"left-linear":  "path(x, z) <= edge(x, y), path(y, z);",
	}
	for name, rec := range rules {
		t.Run(name, func(t *testing.T) {
			sizes := []int{50, 100, 200, 400}
			firings := make([]int64, len(sizes))
			for i, n := range sizes {
				firings[i] = chainClosure(t, n, rec)
				result := int64(n * (n - 1) / 2)
				perTuple := float64(firings[i]) / float64(result)
				t.Logf("n=%d: %d path tuples, %d firings (%.2f per tuple)", n, result, firings[i], perTuple)
				if perTuple > 3 {
					t.Errorf("n=%d: %d firings for %d tuples: more than 3 per tuple, so not semi-naive", n, firings[i], result)
				}
				if i > 0 {
					ratio := float64(firings[i]) / float64(firings[i-1])
					if ratio < 3 || ratio > 5 {
						t.Errorf("firings(%d)/firings(%d) = %.2f, want about 4 (O(result)); 8 would be O(result × iterations)", n, sizes[i-1], ratio)
					}
				}
			}
		})
	}
}

// chainClosure runs the transitive closure of the chain 0 → 1 → … → n-1,
// checks the result and returns the rule firings.
func chainClosure(t *testing.T, n int, recursive string) int64 {
	t.Helper()
	var src strings.Builder
	src.WriteString("table edge(a: int, b: int);\ntable path(a: int, b: int);\n")
	for i := 0; i+1 < n; i++ {
		fmt.Fprintf(&src, "edge(%d, %d);\n", i, i+1)
	}
	src.WriteString("path(x, y) <= edge(x, y);\n")
	src.WriteString(recursive + "\n")
	prog, err := (&lang.Loader{}).LoadSource("chain.bloom", []byte(src.String()))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := compiler.Compile(prog)
	if err != nil {
		t.Fatal(err)
	}
	node := runtime.New(plan, runtime.Options{Clock: runtime.NewVirtualClock(time.Unix(0, 0))})
	if err := node.RunBatch(0); err != nil {
		t.Fatal(err)
	}
	if node.TickCount() != 1 {
		t.Errorf("n=%d: ran %d ticks, want 1", n, node.TickCount())
	}
	ts, err := node.Contents("path")
	if err != nil {
		t.Fatal(err)
	}
	if want := n * (n - 1) / 2; len(ts) != want {
		t.Fatalf("n=%d: %d path tuples, want %d", n, len(ts), want)
	}
	// Sorted, so the tuples are exactly (i, j) for i < j in order.
	k := 0
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if ts[k][0] != int64(i) || ts[k][1] != int64(j) {
				t.Fatalf("n=%d: path tuple %d is %v, want (%d, %d)", n, k, ts[k], i, j)
			}
			k++
		}
	}
	return node.Stats().Firings
}
