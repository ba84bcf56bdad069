package runtime

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bloomlang/bloom/stdlib"
)

func newTestNode(t *testing.T, src string) (*Node, *VirtualClock) {
	t.Helper()
	clock := NewVirtualClock(time.Unix(1000, 0))
	return New(mustPlan(t, src), Options{Clock: clock, Self: "n1:1"}), clock
}

func contents(t *testing.T, n *Node, rel string) string {
	t.Helper()
	ts, err := n.Contents(rel)
	if err != nil {
		t.Fatal(err)
	}
	c := n.Plan().ByName[rel]
	var lines []string
	for _, tu := range ts {
		lines = append(lines, stdlib.FormatTuple(rel, c.Types, tu))
	}
	return strings.Join(lines, " ")
}

// A key violation fails the tick, which then changes no state: tables keep
// their contents, pending changes and transients are as before.
func TestFailedTickChangesNothing(t *testing.T) {
	n, _ := newTestNode(t, `
		table kv(k: string, v: int) key(k);
		table log(k: string, v: int);
		input put(k: string, v: int);
		kv("a", 1);
		log(k, v) <= put(k, v);
		kv(k, v) <= put(k, v);
	`)
	if err := n.Tick(); err != nil {
		t.Fatal(err)
	}
	if err := n.Enqueue("put", Tuple{"b", int64(2)}); err != nil {
		t.Fatal(err)
	}
	if err := n.Tick(); err != nil {
		t.Fatal(err)
	}
	before := contents(t, n, "kv") + "|" + contents(t, n, "log")
	// "a" is already 1: inserting ("a", 5) violates the key, and the
	// log tuple derived in the same tick must be rolled back too.
	n.Enqueue("put", Tuple{"a", int64(5)})
	err := n.Tick()
	var kv *KeyViolationError
	if !errors.As(err, &kv) {
		t.Fatalf("err = %v, want a key violation", err)
	}
	if !strings.Contains(err.Error(), `key ("a") has both kv("a", 1) and kv("a", 5)`) {
		t.Errorf("message %q does not name the key and both tuples", err)
	}
	if after := contents(t, n, "kv") + "|" + contents(t, n, "log"); after != before {
		t.Errorf("failed tick changed state:\nbefore %s\nafter  %s", before, after)
	}
	if n.Stats().FailedTicks != 1 {
		t.Errorf("FailedTicks = %d", n.Stats().FailedTicks)
	}
	// The node keeps working.
	n.Enqueue("put", Tuple{"c", int64(3)})
	if err := n.Tick(); err != nil {
		t.Fatal(err)
	}
	if got := contents(t, n, "kv"); got != `kv("a", 1) kv("b", 2) kv("c", 3)` {
		t.Errorf("kv = %s", got)
	}
}

func TestPendingInsertDeleteSameTick(t *testing.T) {
	// new = (old − deleted) ∪ inserted: deleting and inserting the same
	// tuple in one tick leaves it present.
	n, _ := newTestNode(t, `
		table p(x: int);
		table go(x: int);
		p(1); p(2); go(1);
		p(x) <- go(x);
		p(x) <+ go(x);
		p(x) <- p(x), x == 2;
	`)
	if err := n.RunBatch(0); err != nil {
		t.Fatal(err)
	}
	if got := contents(t, n, "p"); got != "p(1)" {
		t.Errorf("p = %s, want p(1)", got)
	}
	if n.TickCount() != 2 {
		t.Errorf("ran %d ticks, want 2 (quiescent after the deletion)", n.TickCount())
	}
}

func TestUpsertCounterAndQuiescence(t *testing.T) {
	n, _ := newTestNode(t, `
		table c(id: int, n: int) key(id);
		table d(x: int);
		c(1, 0);
		d(7);
		c(i, n + 1) <+- c(i, n), n < 4;
		d(x) <+ d(x);         // re-asserting present tuples is not work
		d(x) <- d(x), x > 7;  // nor is deleting absent ones
	`)
	if err := n.RunBatch(0); err != nil {
		t.Fatal(err)
	}
	if got := contents(t, n, "c"); got != "c(1, 4)" {
		t.Errorf("c = %s", got)
	}
	if n.TickCount() != 5 {
		t.Errorf("ticks = %d, want 5", n.TickCount())
	}
}

func TestPeriodicOnVirtualClock(t *testing.T) {
	n, _ := newTestNode(t, `
		periodic beat every 1s;
		table seen(n: int);
		seen(n) <= beat(n);
	`)
	if err := n.RunBatch(4); err != nil {
		t.Fatal(err)
	}
	// Tick 1 runs the facts at t0; ticks 2-4 jump to each firing.
	if got := contents(t, n, "seen"); got != "seen(1) seen(2) seen(3)" {
		t.Errorf("seen = %s", got)
	}
	// Without a tick limit, timers alone do not keep a batch run going.
	n2, _ := newTestNode(t, `periodic beat every 1s; table seen(n: int); seen(n) <= beat(n);`)
	if err := n2.RunBatch(0); err != nil {
		t.Fatal(err)
	}
	if n2.TickCount() != 1 {
		t.Errorf("ticks = %d, want 1", n2.TickCount())
	}
}

func TestChannelToSelfArrivesNextTick(t *testing.T) {
	n, _ := newTestNode(t, `
		channel msg(@to: addr, n: int);
		scratch t(n: int);
		table seen(n: int);
		t(1);
		seen(n) <= t(n);
		msg(@self(), n) <~ t(n), n < 3;
		t(n + 1) <= msg(_, n);
	`)
	var sent []Message
	n.opts.Send = func(ms []Message) { sent = append(sent, ms...) }
	if err := n.RunBatch(0); err != nil {
		t.Fatal(err)
	}
	if got := contents(t, n, "seen"); got != "seen(1) seen(2) seen(3)" {
		t.Errorf("seen = %s", got)
	}
	if n.TickCount() != 3 {
		t.Errorf("ticks = %d, want 3", n.TickCount())
	}
	if len(sent) != 0 {
		t.Errorf("messages to self went to the network: %v", sent)
	}
}

func TestOutputsObserved(t *testing.T) {
	n, _ := newTestNode(t, `
		input in(x: int);
		output out(x: int);
		out(x * 10) <= in(x);
	`)
	var got []string
	n.Observe(func(tick int64, coll string, ts []Tuple) {
		for _, tu := range ts {
			got = append(got, coll+stdlib.Format(n.Plan().ByName[coll].Types[0], tu[0]))
		}
	})
	n.Enqueue("in", Tuple{int64(2)})
	n.Enqueue("in", Tuple{int64(1)})
	if err := n.RunBatch(0); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "out10,out20" {
		t.Errorf("observed %v", got)
	}
	if err := n.Enqueue("out", Tuple{int64(1)}); err == nil {
		t.Error("Enqueue into an output succeeded")
	}
}

func TestRuntimeErrorNamesRule(t *testing.T) {
	n, _ := newTestNode(t, `
		table p(x: int);
		table q(x: int);
		p(0);
		q(10 / x) <= p(x);
	`)
	err := n.RunBatch(0)
	if err == nil || !strings.Contains(err.Error(), "bench.bloom:5:3") {
		t.Fatalf("err = %v, want a positioned division error", err)
	}
}
