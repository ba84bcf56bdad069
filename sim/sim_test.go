package sim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
)

// plans caches compiled programs by path: plans are read-only at run time
// and may be shared by the nodes of many clusters.
var plans = map[string]*compiler.Plan{}

func load(t testing.TB, path string) *compiler.Plan {
	t.Helper()
	if p := plans[path]; p != nil {
		return p
	}
	p, err := Load(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	plans[path] = p
	return p
}

func loadSource(t testing.TB, name, src string) *compiler.Plan {
	t.Helper()
	if p := plans[name+"\x00"+src]; p != nil {
		return p
	}
	p, err := LoadSource(name, []byte(src))
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	plans[name+"\x00"+src] = p
	return p
}

func cluster(t testing.TB, plan *compiler.Plan, net Network, addrs ...stdlib.Addr) *Cluster {
	t.Helper()
	c := New(Options{Network: net})
	if err := c.AddNodes(plan, addrs...); err != nil {
		t.Fatal(err)
	}
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

const pingPong = `
channel ping(@to: addr, from: addr, n: int);
table   peer(a: addr);
table   got(n: int);
input   start(to: addr);
ping(@p, self(), 0) <~ start(p);
ping(@f, self(), n + 1) <~ ping(_, f, n), n < 9;
got(n) <= ping(_, _, n);
`

func TestPingPongQuiescence(t *testing.T) {
	plan := loadSource(t, "ping.bloom", pingPong)
	c := cluster(t, plan, nil, Addrs(2)...)
	must(t, c.Input("n1:1", `start("n2:1");`))
	steps, err := c.Run(nil, 1000)
	must(t, err)
	// Tick 1 (facts, input) sends ping 0; each hop takes one 1ms step.
	if got := c.Node("n2:1").Strings("got"); !slices.Equal(got, []string{"got(0)", "got(2)", "got(4)", "got(6)", "got(8)"}) {
		t.Errorf("n2 got %v", got)
	}
	if got := len(c.Node("n1:1").Strings("got")); got != 5 {
		t.Errorf("n1 got %d pings, want 5", got)
	}
	if steps != 11 {
		t.Errorf("ran %d steps, want 11 (1 + 10 hops)", steps)
	}
	if want := DefaultStart.Add(10 * time.Millisecond); !c.Now().Equal(want) {
		t.Errorf("now %v, want %v", c.Now(), want)
	}
	if !c.Quiescent() {
		t.Error("not quiescent")
	}
	if ok, err := c.Step(); ok || err != nil {
		t.Errorf("Step on an idle cluster: %v, %v", ok, err)
	}
}

func TestLatencyAndJitter(t *testing.T) {
	plan := loadSource(t, "ping.bloom", pingPong)
	c := cluster(t, plan, NewNetwork(NetConfig{Latency: 10 * time.Millisecond}), Addrs(2)...)
	must(t, c.Input("n1:1", `start("n2:1");`))
	_, err := c.Run(nil, 0)
	must(t, err)
	if want := DefaultStart.Add(100 * time.Millisecond); !c.Now().Equal(want) {
		t.Errorf("now %v, want %v (10 hops of 10ms)", c.Now(), want)
	}

	// With jitter, messages overtake each other: deliveries are not in
	// send order for some seed.
	reordered := false
	for seed := uint64(1); seed <= 5 && !reordered; seed++ {
		n := NewNetwork(NetConfig{Seed: seed, Jitter: 5 * time.Millisecond})
		for i := 0; i < 20; i++ {
			n.Send(Envelope{Seq: uint64(i + 1), From: "a:1", Msg: msgTo("b:1"), Sent: DefaultStart})
		}
		envs := n.Due(DefaultStart.Add(time.Hour))
		if len(envs) != 20 {
			t.Fatalf("%d messages due, want 20", len(envs))
		}
		for i, e := range envs {
			if e.Seq != uint64(i+1) {
				reordered = true
			}
		}
	}
	if !reordered {
		t.Error("jitter never reordered")
	}
}

func msgTo(a stdlib.Addr) runtime.Message { return runtime.Message{To: a, Coll: "ping"} }

const ticker = `
periodic every_100ms every 100ms;
table fired(n: int);
fired(n) <= every_100ms(n);
`

func TestTimersAndSchedule(t *testing.T) {
	plan := loadSource(t, "ticker.bloom", ticker)
	c := New(Options{})
	_, err := c.AddNode(NodeConfig{Addr: "a:1", Plan: plan})
	must(t, err)
	_, err = c.AddNode(NodeConfig{Addr: "b:1", Plan: plan, Skew: 50 * time.Millisecond})
	must(t, err)
	var at []time.Duration
	c.After(250*time.Millisecond, func() error { at = append(at, c.Now().Sub(DefaultStart)); return nil })
	// Without a condition the run stops when quiescent: timers alone do
	// not keep it going, but they fire while the callback is pending (at
	// 100ms and 200ms; b's skew shifts its clock, not its timer's phase,
	// which counts from the clock it started with).
	steps, err := c.Run(nil, 100)
	must(t, err)
	if steps != 4 || c.Node("a:1").Runtime.TickCount() != 3 || c.Node("b:1").Runtime.TickCount() != 3 {
		t.Errorf("Run(nil): %d steps, %d ticks; want 4 steps (0, 100ms, 200ms, the callback at 250ms), 3 ticks", steps, c.Node("a:1").Runtime.TickCount())
	}
	if got := c.Node("b:1").Clock.Now().Sub(DefaultStart); got != 250*time.Millisecond {
		t.Errorf("b's clock reads start+%v, want start+250ms (its last tick at 200ms, skewed 50ms)", got)
	}
	if len(at) != 1 || at[0] != 250*time.Millisecond {
		t.Errorf("callback ran at %v", at)
	}
	_, err = c.RunFor(750*time.Millisecond, 0)
	must(t, err)
	if !c.Now().Equal(DefaultStart.Add(time.Second)) {
		t.Errorf("now %v after RunFor", c.Now())
	}
	// Both fire at 100, 200, ..., 1000ms of cluster time.
	if got := len(c.Node("a:1").Strings("fired")); got != 10 {
		t.Errorf("a fired %d times, want 10", got)
	}
	if got := len(c.Node("b:1").Strings("fired")); got != 10 {
		t.Errorf("b fired %d times, want 10", got)
	}
	// Run with a condition goes through timers.
	_, err = c.Run(func() bool { return len(c.Node("a:1").Strings("fired")) >= 15 }, 100)
	must(t, err)
	if !c.Now().Equal(DefaultStart.Add(1500 * time.Millisecond)) {
		t.Errorf("now %v after 15 firings", c.Now())
	}
	// A condition that can never hold on a timer-less cluster is stuck.
	c2 := cluster(t, loadSource(t, "ping.bloom", pingPong), nil, Addrs(1)...)
	if _, err := c2.Run(func() bool { return false }, 100); !errors.Is(err, ErrStuck) {
		t.Errorf("got %v, want ErrStuck", err)
	}
	// And the step limit.
	if _, err := c.Run(func() bool { return false }, 5); !errors.Is(err, ErrStepLimit) {
		t.Errorf("got %v, want ErrStepLimit", err)
	}
}

func TestFaultNetwork(t *testing.T) {
	plan := loadSource(t, "ping.bloom", pingPong)
	// Everything dropped: only tick 1 runs, n2 never hears.
	fn := NewFaultNetwork(nil, 1, Faults{Drop: 1})
	c := cluster(t, plan, fn, Addrs(2)...)
	must(t, c.Input("n1:1", `start("n2:1");`))
	_, err := c.Run(nil, 100)
	must(t, err)
	if got := c.Node("n2:1").Strings("got"); len(got) != 0 {
		t.Errorf("n2 got %v through a network that drops everything", got)
	}
	if s := fn.Stats(); s.Sent != 1 || s.Dropped != 1 {
		t.Errorf("stats %+v", s)
	}

	// Duplication: every message twice; the program is a set, so the
	// result is the same as without.
	fn = NewFaultNetwork(nil, 1, Faults{Duplicate: 1})
	c = cluster(t, plan, fn, Addrs(2)...)
	must(t, c.Input("n1:1", `start("n2:1");`))
	_, err = c.Run(nil, 1000)
	must(t, err)
	if got := c.Node("n2:1").Strings("got"); len(got) != 5 {
		t.Errorf("n2 got %v", got)
	}
	if s := fn.Stats(); s.Duplicated != s.Sent || s.Sent < 10 {
		t.Errorf("stats %+v", s)
	}

	// A partition cuts messages at send time and in flight; Heal ends it.
	fn = NewFaultNetwork(NewNetwork(NetConfig{Latency: 10 * time.Millisecond}), 1, Faults{})
	c = cluster(t, plan, fn, Addrs(3)...)
	must(t, c.Input("n1:1", `start("n2:1");`))
	c.After(5*time.Millisecond, func() error { fn.Partition([]stdlib.Addr{"n1:1"}); return nil })
	_, err = c.Run(nil, 100)
	must(t, err)
	if got := c.Node("n2:1").Strings("got"); len(got) != 0 || fn.Stats().Cut != 1 {
		t.Errorf("n2 got %v, stats %+v: the ping in flight should be cut", got, fn.Stats())
	}
	if fn.Connected("n1:1", "n2:1") || !fn.Connected("n2:1", "n3:1") {
		t.Error("Connected disagrees with the partition")
	}
	must(t, c.Input("n1:1", `start("n2:1");`))
	_, err = c.Run(nil, 100)
	must(t, err)
	if fn.Stats().Cut != 2 {
		t.Errorf("stats %+v: the ping at send time should be cut", fn.Stats())
	}
	fn.Heal()
	must(t, c.Input("n1:1", `start("n2:1");`))
	_, err = c.Run(nil, 1000)
	must(t, err)
	if got := c.Node("n2:1").Strings("got"); len(got) != 5 {
		t.Errorf("after heal n2 got %v", got)
	}

	// Filter: drop what a predicate rejects.
	fn = NewFaultNetwork(nil, 1, Faults{})
	fn.SetFilter(func(e Envelope) bool { return e.Msg.Tuple[2].(int64) < 4 })
	c = cluster(t, plan, fn, Addrs(2)...)
	must(t, c.Input("n1:1", `start("n2:1");`))
	_, err = c.Run(nil, 1000)
	must(t, err)
	if got := c.Node("n1:1").Strings("got"); !slices.Equal(got, []string{"got(1)", "got(3)"}) {
		t.Errorf("n1 got %v", got)
	}
}

// TestDeterminism runs one faulty scenario twice per seed: the traces are
// identical, and different seeds give different traces.
func TestDeterminism(t *testing.T) {
	plan := load(t, "testdata/cart_destructive.bloom")
	run := func(seed uint64) (string, uint64) {
		var trace strings.Builder
		fn := NewFaultNetwork(NewNetwork(NetConfig{Seed: seed, Jitter: 3 * time.Millisecond}), seed,
			Faults{Drop: 0.1, Duplicate: 0.2, Reorder: 0.3, Delay: 4 * time.Millisecond})
		c := New(Options{Network: fn, Trace: func(e Event) { fmt.Fprintln(&trace, e) }})
		must(t, c.AddNodes(plan, Addrs(3)...))
		cartWorkload(c)
		_, err := c.Run(nil, 10000)
		must(t, err)
		return trace.String(), c.Fingerprint()
	}
	traces := map[string]bool{}
	for seed := uint64(1); seed <= 3; seed++ {
		t1, f1 := run(seed)
		t2, f2 := run(seed)
		if t1 != t2 || f1 != f2 {
			t.Fatalf("seed %d: two runs differ", seed)
		}
		if !strings.Contains(t1, "deliver") || !strings.Contains(t1, "tick") {
			t.Fatalf("trace lacks events:\n%s", t1)
		}
		traces[t1] = true
	}
	if len(traces) < 2 {
		t.Error("three seeds gave one trace")
	}
}

func TestAddNodeErrors(t *testing.T) {
	plan := loadSource(t, "ping.bloom", pingPong)
	c := New(Options{})
	if _, err := c.AddNode(NodeConfig{Addr: "a:1"}); err == nil {
		t.Error("no plan: no error")
	}
	_, err := c.AddNode(NodeConfig{Addr: "a:1", Plan: plan, Facts: `peer("b:1");`})
	must(t, err)
	if _, err := c.AddNode(NodeConfig{Addr: "a:1", Plan: plan}); err == nil {
		t.Error("duplicate address: no error")
	}
	if _, err := c.AddNode(NodeConfig{Addr: "b:1", Plan: plan, Facts: `nosuch(1);`}); err == nil {
		t.Error("bad facts: no error")
	}
	if err := c.Input("a:1", `got(1);`); err == nil {
		t.Error("input into a table: no error")
	}
	if err := c.Input("z:1", `start("a:1");`); err == nil {
		t.Error("input to an unknown node: no error")
	}
	_, err = c.Run(nil, 10)
	must(t, err)
	// The node's own facts went to its own plan only.
	if got := c.Node("a:1").Strings("peer"); !slices.Equal(got, []string{`peer("b:1")`}) {
		t.Errorf("peer = %v", got)
	}
	if len(plan.Facts) != 0 {
		t.Error("per-node facts leaked into the shared plan")
	}
}
