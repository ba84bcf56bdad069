package runtime

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/stdlib"
)

// memStore is a Store in memory: it applies commits to maps, so that a
// test can compare what would be on disk with the node's collections.
type memStore struct {
	plan    *compiler.Plan
	colls   map[string]map[string]Tuple // coll -> key encoding -> tuple
	pending []PendingChange
	tick    int64
	facts   bool
	commits int
	fail    error // returned by the next Commit
	closed  bool
}

func newMemStore() *memStore { return &memStore{colls: map[string]map[string]Tuple{}} }

func (m *memStore) Load(plan *compiler.Plan) (*Snapshot, error) {
	m.plan = plan
	s := &Snapshot{Tick: m.tick, FactsDone: m.facts, Colls: map[string][]Tuple{}, Pending: slices.Clone(m.pending)}
	for name, ts := range m.colls {
		for _, t := range ts {
			s.Colls[name] = append(s.Colls[name], t)
		}
	}
	return s, nil
}

func keyOf(c *compiler.Coll, t Tuple) string {
	var b []byte
	for _, k := range c.Key {
		b = stdlib.AppendKey(b, c.Types[k], t[k])
	}
	return string(b)
}

func (m *memStore) Commit(c *TickCommit) error {
	if m.fail != nil {
		err := m.fail
		m.fail = nil
		return err
	}
	m.commits++
	seen := map[string]bool{}
	for _, ch := range c.Changes {
		k := keyOf(ch.Coll, ch.Tuple)
		if seen[ch.Coll.Name+"/"+k] {
			return fmt.Errorf("two changes of one key of %s", ch.Coll.Name)
		}
		seen[ch.Coll.Name+"/"+k] = true
		if m.colls[ch.Coll.Name] == nil {
			m.colls[ch.Coll.Name] = map[string]Tuple{}
		}
		if ch.Delete {
			delete(m.colls[ch.Coll.Name], k)
		} else {
			m.colls[ch.Coll.Name][k] = ch.Tuple
		}
	}
	if c.PendingChanged {
		m.pending = slices.Clone(c.Pending)
	}
	m.tick, m.facts = c.Tick, c.FactsDone
	return nil
}

func (m *memStore) Close() error { m.closed = true; return nil }

// stored renders a collection as the store holds it, sorted.
func (m *memStore) stored(name string) string {
	c := m.plan.ByName[name]
	var lines []string
	for _, t := range m.colls[name] {
		lines = append(lines, stdlib.FormatTuple(name, c.Types, t))
	}
	slices.Sort(lines)
	return strings.Join(lines, " ")
}

func sortedContents(t *testing.T, n *Node, rel string) string {
	t.Helper()
	ts, _ := n.Contents(rel)
	c := n.Plan().ByName[rel]
	var lines []string
	for _, tu := range ts {
		lines = append(lines, stdlib.FormatTuple(rel, c.Types, tu))
	}
	slices.Sort(lines)
	return strings.Join(lines, " ")
}

const durableShadowProgram = `
durable table kv(k: int, v: int) key(k);
durable table set(a: int, b: int);
durable table tags(k: int, s: lset<int>, m: lmax<int>) key(k);
durable lattice total: lmax<int>;
table mem(k: int);
input put(k: int, v: int);
input del(k: int);
input add(a: int, b: int);
input rm(a: int, b: int);
input tag(k: int, x: int);
kv(k, v) <+- put(k, v);
kv(k, v) <- del(k), kv(k, v);
set(a, b) <= add(a, b);
set(a, b) <- rm(a, b), set(a, b);
set(b, a) <+ add(a, b), a < 3;
tags(k, {x}, x) <= tag(k, x);
total(v) <= put(_, v);
mem(k) <= put(k, _);
kv(0, 0);
`

// After every tick of a random workload, the store holds exactly the
// durable collections (and the durable pending changes): the changes
// derived from the undo log miss nothing and invent nothing. Restarting
// from the store gives the same state.
func TestDurableChangesMatchState(t *testing.T) {
	plan := mustPlan(t, durableShadowProgram)
	st := newMemStore()
	n := New(plan, Options{Clock: NewVirtualClock(time.Unix(1000, 0)), Self: "n1:1"})
	if _, err := n.UseStore(st); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	durable := []string{"kv", "set", "tags", "total"}
	fails := 0
	for tick := 0; tick < 400; tick++ {
		for range rng.IntN(6) {
			a, b := int64(rng.IntN(8)), int64(rng.IntN(8))
			var err error
			switch rng.IntN(5) {
			case 0:
				err = n.Enqueue("put", Tuple{a, b})
			case 1:
				err = n.Enqueue("del", Tuple{a})
			case 2:
				err = n.Enqueue("add", Tuple{a, b})
			case 3:
				err = n.Enqueue("rm", Tuple{a, b})
			case 4:
				err = n.Enqueue("tag", Tuple{a, b})
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		failed := false
		if err := n.Tick(); err != nil {
			// Two puts of one key in one tick violate kv's key when
			// applied: a failed tick must leave the store alone too.
			var kv *KeyViolationError
			if !errors.As(err, &kv) {
				t.Fatal(err)
			}
			failed = true
			fails++
		}
		for _, rel := range durable {
			if got, want := st.stored(rel), sortedContents(t, n, rel); got != want {
				t.Fatalf("tick %d: %s stored as\n  %s\nbut holds\n  %s", n.TickCount(), rel, got, want)
			}
		}
		var want []string
		for _, p := range n.pending {
			if c := plan.Colls[p.coll]; c.Info.Durable {
				want = append(want, p.op.String()+stdlib.FormatTuple(c.Name, c.Types, p.t))
			}
		}
		var got []string
		for _, p := range st.pending {
			c := plan.ByName[p.Coll]
			got = append(got, p.Op.String()+stdlib.FormatTuple(c.Name, c.Types, p.Tuple))
		}
		// A failed tick discards the pending changes it consumed but
		// commits nothing: until the next successful tick commits, the
		// store holds the state from before the failed tick.
		if !failed && !slices.Equal(got, want) {
			t.Fatalf("tick %d: pending stored %v, node has %v", n.TickCount(), got, want)
		}
	}
	t.Logf("%d ticks, %d failed, %d commits; kv %q", n.TickCount(), fails, st.commits, st.stored("kv"))
	if st.tick == 0 || !st.facts {
		t.Fatalf("store tick %d facts %v", st.tick, st.facts)
	}

	// Restart: durable state, pending changes and the tick counter come
	// back; the non-durable table starts empty; the fact is not
	// inserted again.
	n2 := New(plan, Options{Clock: NewVirtualClock(time.Unix(1000, 0)), Self: "n1:1"})
	info, err := n2.UseStore(st)
	if err != nil {
		t.Fatal(err)
	}
	if n2.TickCount() != st.tick || info.Tick != st.tick {
		t.Fatalf("restored tick %d, store has %d", n2.TickCount(), st.tick)
	}
	for _, rel := range durable {
		if got, want := sortedContents(t, n2, rel), sortedContents(t, n, rel); got != want {
			t.Fatalf("restored %s:\n  %s\nwant\n  %s", rel, got, want)
		}
	}
	if got := sortedContents(t, n2, "mem"); got != "" {
		t.Fatalf("non-durable mem restored: %s", got)
	}
	if len(n2.pending) != len(st.pending) {
		t.Fatalf("restored %d pending changes, store has %d", len(n2.pending), len(st.pending))
	}
}

// A tick that changes no durable state commits nothing; the first tick
// always commits (the facts marker), and CloseStore records the counter.
func TestNoDurableChangeNoCommit(t *testing.T) {
	plan := mustPlan(t, `
durable table kv(k: int, v: int) key(k);
input get(k: int);
output got(k: int, v: int);
scratch seen(k: int);
got(k, v) <= get(k), kv(k, v);
seen(k) <= get(k);
`)
	st := newMemStore()
	n := New(plan, Options{Clock: NewVirtualClock(time.Unix(1000, 0))})
	if _, err := n.UseStore(st); err != nil {
		t.Fatal(err)
	}
	if err := n.Tick(); err != nil {
		t.Fatal(err)
	}
	if st.commits != 1 || !st.facts || st.tick != 1 {
		t.Fatalf("first tick: %d commits, facts %v, tick %d", st.commits, st.facts, st.tick)
	}
	for i := range 50 {
		n.Enqueue("get", Tuple{int64(i)})
		if err := n.Tick(); err != nil {
			t.Fatal(err)
		}
	}
	if st.commits != 1 {
		t.Fatalf("%d commits for ticks without durable changes", st.commits)
	}
	if err := n.CloseStore(); err != nil {
		t.Fatal(err)
	}
	if st.commits != 2 || st.tick != 51 || !st.closed {
		t.Fatalf("close: %d commits, tick %d, closed %v", st.commits, st.tick, st.closed)
	}
	if err := n.Tick(); err == nil {
		t.Fatal("tick after CloseStore succeeded")
	}
}

// A failed commit fails the tick: memory is rolled back, nothing is
// published, and the node is halted (later ticks return the error, and
// Serve stops).
func TestCommitFailureHaltsNode(t *testing.T) {
	plan := mustPlan(t, `
durable table kv(k: int, v: int) key(k);
input put(k: int, v: int);
output echo(k: int, v: int);
kv(k, v) <= put(k, v);
echo(k, v) <= put(k, v);
`)
	st := newMemStore()
	n := New(plan, Options{Clock: NewVirtualClock(time.Unix(1000, 0))})
	var published []string
	n.Observe(func(tick int64, coll string, ts []Tuple) {
		published = append(published, fmt.Sprint(tick, coll, len(ts)))
	})
	if _, err := n.UseStore(st); err != nil {
		t.Fatal(err)
	}
	n.Enqueue("put", Tuple{int64(1), int64(1)})
	if err := n.Tick(); err != nil {
		t.Fatal(err)
	}
	diskFull := errors.New("no space left on device")
	st.fail = diskFull
	n.Enqueue("put", Tuple{int64(2), int64(2)})
	err := n.Tick()
	var se *StorageError
	if !errors.As(err, &se) || !errors.Is(err, diskFull) || se.Tick != 2 {
		t.Fatalf("tick error %v", err)
	}
	if got := sortedContents(t, n, "kv"); got != "kv(1, 1)" {
		t.Fatalf("kv after failed commit: %s", got)
	}
	if len(published) != 1 {
		t.Fatalf("published %v", published)
	}
	if n.Halted() == nil {
		t.Fatal("node not halted")
	}
	n.Enqueue("put", Tuple{int64(3), int64(3)})
	if err := n.Tick(); !errors.Is(err, diskFull) {
		t.Fatalf("tick after halt: %v", err)
	}
	if st.stored("kv") != "kv(1, 1)" || st.tick != 1 {
		t.Fatalf("store: %s tick %d", st.stored("kv"), st.tick)
	}
	// Serve returns the error instead of spinning.
	done := make(chan error, 1)
	go func() { done <- Serve(t.Context(), n, ServeOptions{}) }()
	select {
	case err := <-done:
		if !errors.Is(err, diskFull) {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not stop on a halted node")
	}
}
