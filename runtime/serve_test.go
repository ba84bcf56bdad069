package runtime

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/stdlib"
)

func servePlan(t *testing.T, src string) *compiler.Plan {
	t.Helper()
	prog, err := (&lang.Loader{}).LoadSource("serve.bloom", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := compiler.Compile(prog)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func TestServeInjectDeliverTimerCancel(t *testing.T) {
	plan := servePlan(t, `
input put(k: string, v: int);
channel note(@to: addr, k: string);
periodic beat every 20ms;
table kv(k: string, v: int) key(k);
table notes(k: string);
lattice beats: lmax<int>;
kv(k, v) <+- put(k, v);
notes(k) <= note(_, k);
beats(n) <= beat(n);
`)
	n := New(plan, Options{Self: "127.0.0.1:1"})
	wake := NewWaker()
	inject := make(chan *Injection)
	var ticks atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, n, ServeOptions{Wake: wake, Inject: inject, AfterTick: func(int64, time.Duration, error) { ticks.Add(1) }})
	}()
	res := make(chan InjectResult, 1)
	inject <- &Injection{Inputs: []Message{{Coll: "put", Tuple: Tuple{"a", int64(1)}}}, Done: res}
	select {
	case r := <-res:
		if r.Err != nil || r.Tick < 1 {
			t.Fatalf("inject: %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no ack")
	}
	bad := make(chan InjectResult, 1)
	inject <- &Injection{Inputs: []Message{{Coll: "kv", Tuple: Tuple{"a", int64(1)}}}, Done: bad}
	if r := <-bad; r.Err == nil {
		t.Fatal("insert into a table accepted")
	}
	if err := n.Deliver(Message{Coll: "note", Tuple: Tuple{stdlib.Addr("127.0.0.1:1"), "hi"}}); err != nil {
		t.Fatal(err)
	}
	wake.Wake()
	// Wait until the periodic has fired a few times, then stop.
	deadline := time.Now().Add(5 * time.Second)
	for ticks.Load() < 5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	for rel, want := range map[string]int{"kv": 1, "notes": 1, "beats": 1} {
		if c, _ := n.Count(rel); c != want {
			t.Errorf("%s has %d tuples, want %d", rel, c, want)
		}
	}
	if ticks.Load() < 5 {
		t.Errorf("only %d ticks", ticks.Load())
	}
}
