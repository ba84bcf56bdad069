package sim

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bloomlang/bloom/stdlib"
)

// Tests of the standard library modules (stdlib/std/*.bloom) on several
// simulated nodes.

func TestStdModulesCheck(t *testing.T) {
	entries, err := stdlibEntries()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"delivery.bloom", "kvs.bloom", "membership.bloom", "quorum.bloom", "twopc.bloom"}
	if !slices.Equal(entries, want) {
		t.Errorf("std modules %v, want %v", entries, want)
	}
	for _, e := range entries {
		name := strings.TrimSuffix(e, ".bloom")
		loadSource(t, "import_"+name+".bloom", fmt.Sprintf("import %q as m;\n", "std/"+name))
	}
}

const deliveryApp = `
import "std/delivery" as dl;
input  out(to: addr, id: int, payload: string);
table  inbox(from: addr, id: int, payload: string);
dl.send(t, i, p) <= out(t, i, p);
inbox(f, i, p) <= dl.delivered(f, i, p);
`

// TestDelivery: over a network that loses, duplicates and reorders
// messages, every message reaches its receiver, is published once, and
// the sender's buffer empties.
func TestDelivery(t *testing.T) {
	plan := loadSource(t, "delivery_app.bloom", deliveryApp)
	for seed := uint64(1); seed <= 3; seed++ {
		fn := NewFaultNetwork(NewNetwork(NetConfig{Seed: seed, Jitter: time.Millisecond}), seed,
			Faults{Drop: 0.4, Duplicate: 0.4, Reorder: 0.3})
		c := cluster(t, plan, fn, Addrs(3)...)
		var want []string
		for i := 1; i <= 10; i++ {
			for _, to := range []stdlib.Addr{"n2:1", "n3:1"} {
				c.InputAfter(time.Duration(i)*time.Millisecond, "n1:1", fmt.Sprintf(`out(%q, %d, "m%d");`, to, i, i))
			}
			want = append(want, fmt.Sprintf(`dl.received("n1:1", %d, "m%d")`, i, i))
		}
		n1, n2, n3 := c.Node("n1:1"), c.Node("n2:1"), c.Node("n3:1")
		done := func() bool {
			return c.Now().After(DefaultStart.Add(20*time.Millisecond)) && len(n1.Strings("dl.unacked")) == 0
		}
		_, err := c.Run(done, 100000)
		must(t, err)
		if fn.Stats().Dropped == 0 || fn.Stats().Duplicated == 0 {
			t.Fatalf("seed %d: no faults: %+v", seed, fn.Stats())
		}
		for _, n := range []*Node{n2, n3} {
			if got := n.Strings("dl.received"); !slices.Equal(got, want) {
				t.Errorf("seed %d: %s received\n%s", seed, n.Addr, strings.Join(got, "\n"))
			}
			pub := n.Published("dl.delivered")
			if len(pub) != 10 {
				t.Errorf("seed %d: %s published %d deliveries, want 10 (once each): %v", seed, n.Addr, len(pub), pub)
			}
			if got := len(n.Strings("inbox")); got != 10 {
				t.Errorf("seed %d: %s inbox has %d", seed, n.Addr, got)
			}
		}
		t.Logf("seed %d: all delivered by %v, %+v", seed, c.Now().Sub(DefaultStart), fn.Stats())
	}
}

const membershipApp = `
import "std/membership" as mb;
mb.add("n1:1");
mb.add("n2:1");
mb.add("n3:1");
`

func TestMembership(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		testMembership(t, seed)
	}
}

func testMembership(t *testing.T, seed uint64) {
	plan := loadSource(t, "membership_app.bloom", membershipApp)
	// 10% loss: a member is suspected after 5 lost heartbeats in a row,
	// which is then unlikely (1e-5 per 500ms window and pair) but happens.
	fn := NewFaultNetwork(NewNetwork(NetConfig{Seed: seed, Jitter: 2 * time.Millisecond}), seed, Faults{Drop: 0.1})
	c := cluster(t, plan, fn, Addrs(3)...)
	all := []string{`mb.alive("n1:1")`, `mb.alive("n2:1")`, `mb.alive("n3:1")`}
	check := func(when string, alive map[stdlib.Addr][]string) {
		t.Helper()
		for _, n := range c.Nodes() {
			if got := n.Strings("mb.alive"); !slices.Equal(got, alive[n.Addr]) {
				t.Errorf("seed %d, %s: %s sees alive %v, want %v", seed, when, n.Addr, got, alive[n.Addr])
			}
		}
	}
	_, err := c.RunFor(time.Second, 0)
	must(t, err)
	check("connected", map[stdlib.Addr][]string{"n1:1": all, "n2:1": all, "n3:1": all})
	for _, n := range c.Nodes() {
		if d := n.Published("mb.down"); len(d) > 0 {
			t.Errorf("seed %d: %s suspected %v on a connected network with 10%% loss", seed, n.Addr, d)
		}
	}

	fn.Partition([]stdlib.Addr{"n3:1"})
	_, err = c.RunFor(time.Second, 0)
	must(t, err)
	check("partitioned", map[stdlib.Addr][]string{
		"n1:1": all[:2], "n2:1": all[:2], "n3:1": {`mb.alive("n3:1")`},
	})
	if got := c.Node("n1:1").Strings("mb.suspect"); !slices.Equal(got, []string{`mb.suspect("n3:1")`}) {
		t.Errorf("n1 suspects %v", got)
	}
	if d := c.Node("n3:1").Published("mb.down"); !slices.Contains(d, `mb.down("n1:1")`) {
		t.Errorf("n3 never reported n1 down: %v", d)
	}

	// A few heartbeats after the heal (some are lost).
	fn.Heal()
	_, err = c.RunFor(600*time.Millisecond, 0)
	must(t, err)
	check("healed", map[stdlib.Addr][]string{"n1:1": all, "n2:1": all, "n3:1": all})
}

const quorumApp = `
import "std/quorum" as q;
input  ballot_for(round: int, value: string);
table  counter(a: addr);
counter("n1:1");
counter("n2:1");
counter("n3:1");
q.need(2);
q.vote(c, r, v) <= ballot_for(r, v), counter(c);
`

func TestQuorum(t *testing.T) {
	plan := loadSource(t, "quorum_app.bloom", quorumApp)
	for seed := uint64(1); seed <= 3; seed++ {
		fn := NewFaultNetwork(NewNetwork(NetConfig{Seed: seed, Jitter: 2 * time.Millisecond}), seed,
			Faults{Drop: 0.5, Duplicate: 0.3, Reorder: 0.3})
		c := cluster(t, plan, fn, Addrs(3)...)
		reached := func() []string { return c.Node("n2:1").Strings("q.reached") }

		must(t, c.Input("n1:1", `ballot_for(1, "a");`))
		_, err := c.RunFor(time.Second, 0)
		must(t, err)
		if got := reached(); len(got) != 0 {
			t.Fatalf("seed %d: one vote reached %v", seed, got)
		}
		must(t, c.Input("n2:1", `ballot_for(1, "b");`))
		split := []string{`q.tally(1, "a", {"n1:1"})`, `q.tally(1, "b", {"n2:1"})`}
		_, err = c.Run(func() bool {
			for _, n := range c.Nodes() {
				if !slices.Equal(n.Strings("q.tally"), split) {
					return false
				}
			}
			return true
		}, 100000)
		must(t, err)
		_, err = c.RunFor(500*time.Millisecond, 0)
		must(t, err)
		if got := reached(); len(got) != 0 {
			t.Fatalf("seed %d: a split vote reached %v", seed, got)
		}
		must(t, c.Input("n3:1", `ballot_for(1, "a");`))
		_, err = c.Run(func() bool {
			for _, n := range c.Nodes() {
				if len(n.Strings("q.reached")) == 0 {
					return false
				}
			}
			return true
		}, 100000)
		must(t, err)
		for _, n := range c.Nodes() {
			if got := n.Strings("q.reached"); !slices.Equal(got, []string{`q.reached(1, "a")`}) {
				t.Errorf("seed %d: %s reached %v", seed, n.Addr, got)
			}
			if pub := n.Published("q.decided"); len(pub) == 0 || pub[0] != `q.decided(1, "a")` {
				t.Errorf("seed %d: %s published %v", seed, n.Addr, pub)
			}
		}
		// Resending goes on, but nothing changes: the quorum stays.
		_, err = c.RunFor(time.Second, 0)
		must(t, err)
		if !c.Converged("q.tally", "q.reached") {
			t.Errorf("seed %d: counters differ:\n%s", seed, c.Diff("q.tally", "q.reached"))
		}
	}
}

const kvsApp = `
import "std/kvs" as kv;
input  set(key: string, value: string);
kv.peer("n1:1");
kv.peer("n2:1");
kv.peer("n3:1");
kv.put(k, v) <= set(k, v);
`

func TestKVS(t *testing.T) {
	plan := loadSource(t, "kvs_app.bloom", kvsApp)
	c := cluster(t, plan, nil, Addrs(3)...)
	ts := func(d time.Duration) int64 { return DefaultStart.Add(d).UnixNano() }

	// A write is gossiped within one push period (50ms), long before the
	// anti-entropy round (500ms).
	c.InputAfter(10*time.Millisecond, "n1:1", `set("k", "one");`)
	_, err := c.RunFor(60*time.Millisecond, 0)
	must(t, err)
	want := fmt.Sprintf(`kv.kv("k", (%d, ("n1:1", "one")))`, ts(10*time.Millisecond))
	for _, n := range c.Nodes() {
		if got := n.Strings("kv.kv"); !slices.Equal(got, []string{want}) {
			t.Errorf("%s: %v, want %s", n.Addr, got, want)
		}
	}
	if got := c.Node("n1:1").Strings("kv.dirty"); len(got) != 0 {
		t.Errorf("dirty after the push: %v", got)
	}

	// Last writer wins; at one instant the greater address wins; one
	// writer writing twice at one instant keeps the greater value.
	c.InputAfter(10*time.Millisecond, "n2:1", `set("k", "two");`)
	c.InputAfter(20*time.Millisecond, "n1:1", `set("t", "from-n1");`)
	c.InputAfter(20*time.Millisecond, "n3:1", `set("t", "from-n3");`)
	c.InputAfter(20*time.Millisecond, "n2:1", `set("t", "from-n2");`)
	c.InputAfter(30*time.Millisecond, "n1:1", `set("same", "apple"); set("same", "pear");`)
	_, err = c.RunFor(100*time.Millisecond, 0)
	must(t, err)
	if !c.Converged("kv.kv") {
		t.Fatalf("replicas differ:\n%s", c.Diff("kv.kv"))
	}
	got := c.Node("n2:1").Dump("kv.kv")
	for _, w := range []string{
		fmt.Sprintf(`kv.kv("k", (%d, ("n2:1", "two")))`, ts(70*time.Millisecond)),
		fmt.Sprintf(`kv.kv("t", (%d, ("n3:1", "from-n3")))`, ts(80*time.Millisecond)),
		fmt.Sprintf(`kv.kv("same", (%d, ("n1:1", "pear")))`, ts(90*time.Millisecond)),
	} {
		if !strings.Contains(got, w+"\n") {
			t.Errorf("store lacks %s:\n%s", w, got)
		}
	}

	// An older write that arrives late changes nothing: n3, cut off, writes
	// "k" with a clock 1s behind; when it heals, everyone keeps "two".
	fn := NewFaultNetwork(NewNetwork(NetConfig{Seed: 7}), 7, Faults{})
	c2 := New(Options{Network: fn})
	for _, a := range Addrs(3) {
		skew := time.Duration(0)
		if a == "n3:1" {
			skew = -time.Second
		}
		_, err := c2.AddNode(NodeConfig{Addr: a, Plan: plan, Skew: skew})
		must(t, err)
	}
	fn.Partition([]stdlib.Addr{"n3:1"})
	c2.InputAfter(10*time.Millisecond, "n1:1", `set("k", "new");`)
	c2.InputAfter(20*time.Millisecond, "n3:1", `set("k", "stale");`)
	c2.After(100*time.Millisecond, func() error { fn.Heal(); return nil })
	_, err = c2.RunFor(700*time.Millisecond, 0)
	must(t, err)
	if !c2.Converged("kv.kv") {
		t.Fatalf("replicas differ:\n%s", c2.Diff("kv.kv"))
	}
	if got := c2.Node("n3:1").Dump("kv.kv"); !strings.Contains(got, `("n1:1", "new")`) {
		t.Errorf("the stale write won:\n%s", got)
	}
}

func stdlibEntries() ([]string, error) {
	des, err := fs.ReadDir(stdlib.Modules, ".")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, d := range des {
		names = append(names, d.Name())
	}
	return names, nil
}
