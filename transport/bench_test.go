package transport

import (
	"context"
	"crypto/tls"
	"io"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
)

// Benchmarks (numbers in docs/wire.md):
//
//	go test ./transport -run XXX -bench . -benchtime 2000000x
//
// BenchmarkTransportTuples: small tuples msg(@to: addr, i: int) from one
// Transport to another on loopback, batches of benchBatch per "tick",
// decoded and delivered. BenchmarkBareQUIC: the same frame bytes over one
// bare quic-go stream, read and discarded (the ceiling). BenchmarkNodeTuples:
// the same through two served nodes (inject, tick, send, receive, tick,
// publish). BenchmarkPingPong: round trips of the ping-pong program.

const benchProgram = `
input burst(to: addr, i: int);
channel msg(@to: addr, i: int);
output seen(i: int);
msg(@t, i) <~ burst(t, i);
seen(i) <= msg(_, i);
`

const benchBatch = 1000

func benchTuples(_ testing.TB, to stdlib.Addr, n int) []runtime.Message {
	msgs := make([]runtime.Message, n)
	for i := range msgs {
		msgs[i] = runtime.Message{To: to, Coll: "msg", Tuple: runtime.Tuple{to, int64(i)}}
	}
	return msgs
}

func BenchmarkTransportTuples(b *testing.B) {
	dir := certs(b, "a", "b")
	plan := mustPlan(b, benchProgram)
	var got atomic.Int64
	done := make(chan struct{})
	total := int64(b.N)
	rb, err := Listen(Config{Creds: creds(b, dir, "b"), Plan: plan})
	if err != nil {
		b.Fatal(err)
	}
	rb.SetSelf(stdlib.Addr(rb.Addr().String()))
	rb.Start(Handlers{Deliver: func(bs []runtime.Batch) {
		n := 0
		for i := range bs {
			n += bs[i].Len()
		}
		if got.Add(int64(n)) >= total {
			select {
			case <-done:
			default:
				close(done)
			}
		}
		rb.Release()
	}})
	defer rb.Close(time.Second)
	ta, err := Listen(Config{Creds: creds(b, dir, "a"), Plan: plan, QueueLimit: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	ta.SetSelf(stdlib.Addr(ta.Addr().String()))
	ta.Start(Handlers{Deliver: func([]runtime.Batch) {}})
	defer ta.Close(time.Second)
	to := stdlib.Addr(rb.Addr().String())
	batch := benchTuples(b, to, benchBatch)
	// Warm up the connection.
	ta.Send(batch[:1])
	for got.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	got.Store(0)
	b.ResetTimer()
	start := time.Now()
	for sent := 0; sent < b.N; sent += benchBatch {
		n := min(benchBatch, b.N-sent)
		ta.Send(batch[:n])
		// Pace the sender so that the bounded queue does not drop.
		for ta.queuedTo(string(to)) > 1<<18 {
			time.Sleep(20 * time.Microsecond)
		}
	}
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		b.Fatalf("received %d of %d (stats %+v)", got.Load(), b.N, ta.Stats())
	}
	el := time.Since(start)
	b.ReportMetric(float64(b.N)/el.Seconds(), "tuples/s")
	if d := ta.Stats().Dropped; d != 0 {
		b.Fatalf("%d dropped", d)
	}
}

func (t *Transport) queuedTo(addr string) int {
	t.mu.Lock()
	p := t.peers[addr]
	t.mu.Unlock()
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queued
}

// BenchmarkBareQUIC writes the frames BenchmarkTransportTuples would send
// (b.N tuples in frames of benchBatch) over one quic-go stream with the
// same TLS and reads them on the other side: the transport's ceiling.
func BenchmarkBareQUIC(b *testing.B) {
	dir := certs(b, "a", "b")
	plan := mustPlan(b, benchProgram)
	ca, cb := creds(b, dir, "a"), creds(b, dir, "b")
	ln, err := quic.ListenAddr("127.0.0.1:0", cb.ServerConfig(), &quic.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	sch := NewSchema(plan, lang.Channel)
	frame, err := sch.AppendFrame(nil, benchTuples(b, stdlib.Addr(addr), benchBatch))
	if err != nil {
		b.Fatal(err)
	}
	frames := (b.N + benchBatch - 1) / benchBatch
	want := int64(frames) * int64(len(frame))
	done := make(chan int64, 1)
	go func() {
		conn, err := ln.Accept(context.Background())
		if err != nil {
			done <- -1
			return
		}
		s, err := conn.AcceptStream(context.Background())
		if err != nil {
			done <- -1
			return
		}
		n, _ := io.Copy(io.Discard, s)
		done <- n
	}()
	var cfg *tls.Config = ca.ClientConfig(addr)
	conn, err := quic.DialAddr(context.Background(), addr, cfg, &quic.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.CloseWithError(0, "")
	s, err := conn.OpenStreamSync(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for range frames {
		if _, err := s.Write(frame); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	n := <-done
	el := time.Since(start)
	if n != want {
		b.Fatalf("read %d bytes, want %d", n, want)
	}
	b.ReportMetric(float64(frames*benchBatch)/el.Seconds(), "tuples/s")
	b.ReportMetric(float64(want)/el.Seconds()/1e6, "MB/s")
}

// BenchmarkNodeTuples sends tuples between two served nodes: inputs are
// injected into node a in batches of benchBatch per tick, each becomes a
// channel tuple to b, and b publishes what it received.
func BenchmarkNodeTuples(b *testing.B) {
	dir := certs(b, "a", "b")
	var got atomic.Int64
	done := make(chan struct{})
	total := int64(b.N)
	hb := startHost(b, benchProgram, creds(b, dir, "b"), "127.0.0.1:0", func(c *HostConfig) {
		c.Observe = func(_ int64, _ string, ts []runtime.Tuple) {
			if got.Add(int64(len(ts))) >= total {
				select {
				case <-done:
				default:
					close(done)
				}
			}
		}
	})
	ha := startHost(b, benchProgram, creds(b, dir, "a"), "127.0.0.1:0", func(c *HostConfig) { c.QueueLimit = 1 << 20 })
	ctx := context.Background()
	// Boxed once: converting the address to a Value in the loop
	// allocated 16 bytes a tuple on the benchmark's side.
	var to stdlib.Value = hb.Self
	// injectInputs returns once the tick that took the inputs is done,
	// and the node copies the messages, so the array is reused (the
	// tuples are not: the tick may keep them).
	msgs := make([]runtime.Message, benchBatch)
	b.ResetTimer()
	start := time.Now()
	for sent := 0; sent < b.N; sent += benchBatch {
		n := min(benchBatch, b.N-sent)
		// Distinct values: b's seen is a set, and batches may arrive in
		// one tick.
		batch := msgs[:n]
		for i := range batch {
			batch[i] = runtime.Message{Coll: "burst", Tuple: runtime.Tuple{to, int64(sent + i)}}
		}
		if _, err := ha.injectInputs(ctx, batch); err != nil {
			b.Fatal(err)
		}
		for ha.T.queuedTo(string(hb.Self)) > 1<<18 {
			time.Sleep(20 * time.Microsecond)
		}
	}
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		b.Fatalf("b saw %d of %d (a: %+v, b: %+v)", got.Load(), b.N, ha.T.Stats(), hb.T.Stats())
	}
	el := time.Since(start)
	b.ReportMetric(float64(b.N)/el.Seconds(), "tuples/s")
}

// BenchmarkPingPong measures the round trip of the ping-pong program: an
// input on a makes a ping to b, whose pong comes back and is published
// by a (three ticks, two network hops).
func BenchmarkPingPong(b *testing.B) {
	dir := certs(b, "a", "b")
	pong := make(chan int64, 1)
	hb := startHost(b, pingProgram, creds(b, dir, "b"), "127.0.0.1:0", nil)
	ha := startHost(b, pingProgram, creds(b, dir, "a"), "127.0.0.1:0", func(c *HostConfig) {
		c.Observe = func(_ int64, coll string, ts []runtime.Tuple) {
			if coll == "ponged" {
				for _, t := range ts {
					pong <- t[0].(int64)
				}
			}
		}
	})
	ctx := context.Background()
	rtts := make([]time.Duration, 0, b.N)
	// Warm-up: connection set-up is not part of the round trip.
	ha.injectInputs(ctx, []runtime.Message{goMsg(hb.Self, -1)})
	<-pong
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		if _, err := ha.injectInputs(ctx, []runtime.Message{goMsg(hb.Self, int64(i))}); err != nil {
			b.Fatal(err)
		}
		select {
		case s := <-pong:
			if s != int64(i) {
				b.Fatalf("pong %d for ping %d", s, i)
			}
		case <-time.After(10 * time.Second):
			b.Fatal("pong lost")
		}
		rtts = append(rtts, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(rtts)
	b.ReportMetric(float64(rtts[len(rtts)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(rtts[len(rtts)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkClientSend measures a client insert's round trip (bloomc send
// without process start): request, tick, ack.
func BenchmarkClientSend(b *testing.B) {
	dir := certs(b, "a", "client")
	ha := startHost(b, pingProgram, creds(b, dir, "a"), "127.0.0.1:0", nil)
	ctx := context.Background()
	cl, err := Dial(ctx, string(ha.Self), creds(b, dir, "client"))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	msgs := []runtime.Message{goMsg(ha.Self, 1)}
	if _, err := cl.Send(ctx, msgs); err != nil {
		b.Fatal(err)
	}
	rtts := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if _, err := cl.Send(ctx, msgs); err != nil {
			b.Fatal(err)
		}
		rtts = append(rtts, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(rtts)
	b.ReportMetric(float64(rtts[len(rtts)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(rtts[len(rtts)*99/100].Microseconds()), "p99-µs")
}
