package sim

import (
	"fmt"
	"testing"
	"time"
)

// The CALM verdicts observed in practice: programs the lint reports as
// having points of order diverge when messages are reordered, and their
// monotone rewrites do not.

// cartWorkload has the client n1:1 add and remove items a few
// milliseconds apart; every request goes to the three replicas.
func cartWorkload(c *Cluster) {
	steps := []string{
		`client_add("s1", "apple");`,
		`client_remove("s1", "apple");`,
		`client_add("s1", "pear");`,
		`client_add("s1", "fig");`,
		`client_remove("s1", "fig");`,
		`client_add("s1", "plum");`,
		`client_remove("s1", "pear");`,
	}
	for i, src := range steps {
		c.InputAfter(time.Duration(2*i)*time.Millisecond, "n1:1", src)
	}
}

// reorderNet reorders half of the messages by up to 20ms.
func reorderNet(seed uint64) *FaultNetwork {
	return NewFaultNetwork(NewNetwork(NetConfig{Seed: seed}), seed, Faults{Reorder: 0.5, ReorderWindow: 20 * time.Millisecond})
}

// trial runs a program on n1..n3 over a reordering network with a
// workload until quiescent, and returns "converged" or the differences.
func trial(t *testing.T, path string, seed uint64, workload func(*Cluster), colls ...string) (string, error) {
	plan := load(t, path)
	c := New(Options{Network: reorderNet(seed), KeepGoing: true})
	if err := c.AddNodes(plan, Addrs(3)...); err != nil {
		return "", err
	}
	workload(c)
	if _, err := c.Run(nil, 10000); err != nil {
		return "", err
	}
	if c.Converged(colls...) {
		return "converged", nil
	}
	return c.Diff(colls...), nil
}

func findDivergence(t *testing.T, path string, workload func(*Cluster), colls ...string) {
	const n = 20
	out, err := Explore(Seeds(1, n), func(seed uint64) (string, error) {
		return trial(t, path, seed, workload, colls...)
	})
	if err != nil {
		t.Fatal(err)
	}
	var divergent []uint64
	for _, g := range out.Groups {
		if g.Outcome != "converged" {
			divergent = append(divergent, g.Seeds...)
		}
	}
	if len(divergent) == 0 {
		t.Fatalf("%s: no divergent seed among the first %d under reordering", path, n)
	}
	first := divergent[0]
	for _, s := range divergent {
		first = min(first, s)
	}
	t.Logf("%s: %d of %d seeds diverge (%d distinct outcomes); seed %d:\n%s", path, len(divergent), n, len(out.Groups), first, out.BySeed[first])
}

func TestDestructiveCartDiverges(t *testing.T) {
	// Without faults the replicas agree (delivery is in send order).
	plan := load(t, "testdata/cart_destructive.bloom")
	c := cluster(t, plan, nil, Addrs(3)...)
	cartWorkload(c)
	_, err := c.Run(nil, 10000)
	must(t, err)
	if !c.Converged("cart") {
		t.Fatalf("diverged without faults:\n%s", c.Diff("cart"))
	}
	if got := c.Node("n2:1").Dump("cart"); got != "cart(\"s1\", \"plum\")\n" {
		t.Errorf("in-order cart:\n%s", got)
	}
	findDivergence(t, "testdata/cart_destructive.bloom", cartWorkload, "cart")
}

func TestOverwriteKVSDiverges(t *testing.T) {
	workload := func(c *Cluster) {
		for i := 1; i <= 4; i++ {
			c.InputAfter(time.Duration(3*(i-1))*time.Millisecond, "n1:1", fmt.Sprintf(`client_put("k", "v%d");`, i))
		}
	}
	findDivergence(t, "testdata/kvs_overwrite.bloom", workload, "kv")
}

// TestMonotoneCartConverges runs the 2P-set cart under the same seeds and
// workload as the destructive one: every seed converges, to the same sets.
func TestMonotoneCartConverges(t *testing.T) {
	out, err := Explore(Seeds(1, 20), func(seed uint64) (string, error) {
		plan := load(t, "testdata/cart_monotone.bloom")
		c := New(Options{Network: reorderNet(seed)})
		if err := c.AddNodes(plan, Addrs(3)...); err != nil {
			return "", err
		}
		cartWorkload(c)
		if _, err := c.Run(nil, 10000); err != nil {
			return "", err
		}
		if !c.Converged() {
			return "diverged:\n" + c.Diff(), nil
		}
		return c.Node("n1:1").Dump(), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Groups) != 1 {
		for _, g := range out.Groups {
			t.Errorf("seeds %v:\n%s", g.Seeds, g.Outcome)
		}
	}
}
