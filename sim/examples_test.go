package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bloomlang/bloom/stdlib"
)

// The monotone multi-node examples converge to identical state on every
// replica under every kind of fault, and to the state of a fault-free run:
// the CALM verdict "coordination-free" observed in practice.

// exampleAddrs are the node addresses the examples' facts name.
var exampleAddrs = []stdlib.Addr{"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"}

type timedInput struct {
	at   time.Duration
	node int // index in exampleAddrs
	src  string
}

type exampleCase struct {
	path     string
	colls    []string // the replicated state compared across nodes
	workload []timedInput
	want     []string // lines the converged state must contain
	settle   time.Duration
}

var exampleCases = []exampleCase{
	{
		path:  "../examples/kvs.bloom",
		colls: []string{"kv.kv"},
		workload: []timedInput{
			{0, 0, `set("a", "1");`},
			{3 * time.Millisecond, 1, `set("a", "2");`},
			{5 * time.Millisecond, 2, `set("b", "x");`},
			{40 * time.Millisecond, 2, `set("a", "3");`},
			// Concurrent writes at the same instant: the writer breaks the tie.
			{100 * time.Millisecond, 0, `set("c", "from-1");`},
			{100 * time.Millisecond, 1, `set("c", "from-2");`},
			// During the partition (when there is one), on both sides.
			{1000 * time.Millisecond, 0, `set("d", "left");`},
			{1001 * time.Millisecond, 2, `set("d", "right");`},
			{1200 * time.Millisecond, 2, `set("e", "isolated");`},
		},
		want: []string{
			`kv.kv("a", (1735689600040000000, ("127.0.0.1:7003", "3")))`,
			`kv.kv("b", (1735689600005000000, ("127.0.0.1:7003", "x")))`,
			`kv.kv("c", (1735689600100000000, ("127.0.0.1:7002", "from-2")))`,
			`kv.kv("d", (1735689601001000000, ("127.0.0.1:7003", "right")))`,
			`kv.kv("e", (1735689601200000000, ("127.0.0.1:7003", "isolated")))`,
		},
		settle: 5 * time.Second,
	},
	{
		path:  "../examples/chat.bloom",
		colls: []string{"history"},
		workload: []timedInput{
			{0, 0, `say("hi all");`},
			{2 * time.Millisecond, 1, `say("hello");`},
			{2 * time.Millisecond, 2, `say("hey");`},
			{30 * time.Millisecond, 0, `say("how are you?");`},
			{1000 * time.Millisecond, 2, `say("anyone there?");`},
			{1100 * time.Millisecond, 1, `say("it is quiet");`},
		},
		want: []string{
			`history("127.0.0.1:7001", 1735689600000000000, "hi all")`,
			`history("127.0.0.1:7003", 1735689601000000000, "anyone there?")`,
		},
		settle: 6 * time.Second,
	},
	{
		path:  "../examples/quorum.bloom",
		colls: []string{"q.tally", "q.reached"},
		workload: []timedInput{
			{0, 0, `propose(1, "blue");`},
			{1 * time.Millisecond, 1, `propose(1, "blue");`},
			{2 * time.Millisecond, 2, `propose(1, "red");`},
			{10 * time.Millisecond, 0, `propose(2, "x");`},
			{10 * time.Millisecond, 2, `propose(2, "y");`},
			{1000 * time.Millisecond, 0, `propose(3, "z");`},
			{1000 * time.Millisecond, 1, `propose(3, "z");`},
			{1000 * time.Millisecond, 2, `propose(3, "z");`},
		},
		want: []string{
			`q.reached(1, "blue")`,
			`q.reached(3, "z")`,
			`q.tally(1, "red", {"127.0.0.1:7003"})`,
		},
		settle: 4 * time.Second,
	},
}

type faultCase struct {
	name      string
	faults    Faults
	partition bool // node 3 is cut off from the others for the first 1.5s
}

var faultCases = []faultCase{
	{name: "drop", faults: Faults{Drop: 0.3}},
	{name: "duplicate", faults: Faults{Duplicate: 0.5}},
	{name: "reorder", faults: Faults{Reorder: 0.5, ReorderWindow: 50 * time.Millisecond}},
	{name: "delay", faults: Faults{Delay: 80 * time.Millisecond}},
	{name: "partition", partition: true},
	{name: "all", faults: Faults{Drop: 0.2, Duplicate: 0.2, Reorder: 0.3, Delay: 20 * time.Millisecond}, partition: true},
}

const convergenceSeeds = 3

// runExample runs an example's workload on the three example addresses
// over net and returns the cluster after the settle time.
func runExample(t *testing.T, ec exampleCase, net Network, fn *FaultNetwork, partition bool) *Cluster {
	t.Helper()
	plan := load(t, ec.path)
	c := cluster(t, plan, net, exampleAddrs...)
	if partition {
		fn.Partition([]stdlib.Addr{exampleAddrs[2]})
		c.After(1500*time.Millisecond, func() error { fn.Heal(); return nil })
	}
	for _, in := range ec.workload {
		c.InputAfter(in.at, exampleAddrs[in.node], in.src)
	}
	if _, err := c.RunFor(ec.settle, 200000); err != nil {
		t.Fatal(err)
	}
	return c
}

func dumpOf(c *Cluster, colls []string) string { return c.Nodes()[0].Dump(colls...) }

func TestExamplesConverge(t *testing.T) {
	for _, ec := range exampleCases {
		name := strings.TrimSuffix(ec.path[strings.LastIndex(ec.path, "/")+1:], ".bloom")
		t.Run(name, func(t *testing.T) {
			ref := runExample(t, ec, nil, nil, false)
			if !ref.Converged(ec.colls...) {
				t.Fatalf("fault-free run did not converge:\n%s", ref.Diff(ec.colls...))
			}
			want := dumpOf(ref, ec.colls)
			for _, line := range ec.want {
				if !strings.Contains(want, line+"\n") {
					t.Errorf("fault-free state lacks %s; it is:\n%s", line, want)
				}
			}
			for _, fc := range faultCases {
				for seed := uint64(1); seed <= convergenceSeeds; seed++ {
					fn := NewFaultNetwork(NewNetwork(NetConfig{Seed: seed, Jitter: 2 * time.Millisecond}), seed, fc.faults)
					c := runExample(t, ec, fn, fn, fc.partition)
					label := fmt.Sprintf("%s seed %d (%+v)", fc.name, seed, fn.Stats())
					if !c.Converged(ec.colls...) {
						t.Errorf("%s: replicas differ:\n%s", label, c.Diff(ec.colls...))
						continue
					}
					if got := dumpOf(c, ec.colls); got != want {
						t.Errorf("%s: converged to\n%s\nnot to the fault-free\n%s", label, got, want)
					}
					if fc.faults != (Faults{}) && fn.Stats() == (FaultStats{Sent: fn.Stats().Sent}) {
						t.Errorf("%s: no fault was injected", label)
					}
				}
			}
		})
	}
}

// TestPartitionDivergesThenHeals shows the partition at work on the KVS:
// while node 3 is cut off its store differs from the others', and after
// the heal the anti-entropy brings it back.
func TestPartitionDivergesThenHeals(t *testing.T) {
	ec := exampleCases[0]
	fn := NewFaultNetwork(NewNetwork(NetConfig{Seed: 1}), 1, Faults{})
	plan := load(t, ec.path)
	c := cluster(t, plan, fn, exampleAddrs...)
	fn.Partition([]stdlib.Addr{exampleAddrs[2]})
	for _, in := range ec.workload {
		c.InputAfter(in.at, exampleAddrs[in.node], in.src)
	}
	_, err := c.RunFor(1400*time.Millisecond, 0)
	must(t, err)
	if c.Converged(ec.colls...) {
		t.Fatal("converged across a partition")
	}
	left, right := c.Node(exampleAddrs[0]), c.Node(exampleAddrs[2])
	if left.Dump("kv.kv") != c.Node(exampleAddrs[1]).Dump("kv.kv") {
		t.Errorf("the two connected replicas differ:\n%s", c.Diff("kv.kv"))
	}
	if !strings.Contains(right.Dump("kv.kv"), `"isolated"`) || strings.Contains(left.Dump("kv.kv"), `"isolated"`) {
		t.Errorf("isolated write leaked:\n%s", c.Diff("kv.kv"))
	}
	fn.Heal()
	healed := c.Now()
	_, err = c.Run(func() bool { return c.Converged(ec.colls...) }, 10000)
	must(t, err)
	if d := c.Now().Sub(healed); d > 600*time.Millisecond {
		t.Errorf("took %v after the heal, more than one anti-entropy period", d)
	}
}
