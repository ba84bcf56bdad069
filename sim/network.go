package sim

import (
	"container/heap"
	"math/rand/v2"
	"time"

	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
)

// Envelope is one message in the simulated network.
type Envelope struct {
	// Seq numbers the messages in the order they were sent (unique per
	// cluster); a duplicate made by a FaultNetwork keeps its original's
	// Seq and has Copy > 0.
	Seq  uint64
	Copy int
	From stdlib.Addr
	Msg  runtime.Message // Msg.To is the destination
	Sent time.Time
	// Hold is extra delay requested by a wrapping network (faults); the
	// network that schedules the message adds it to its own latency.
	Hold time.Duration
	// Due is when the message is delivered, set by the scheduling network.
	Due time.Time
}

// To is the destination address.
func (e Envelope) To() stdlib.Addr { return e.Msg.To }

// Network carries messages between the nodes of a Cluster. The cluster is
// single-threaded: a Network is never called concurrently.
type Network interface {
	// Send takes a message that a node sent at e.Sent.
	Send(e Envelope)
	// Due removes and returns the messages to deliver at time now (those
	// due at or before it), in delivery order.
	Due(now time.Time) []Envelope
	// NextDue is the earliest time a held message becomes due.
	NextDue() (time.Time, bool)
	// Pending is the number of messages in flight.
	Pending() int
}

// Tracer is implemented by networks that report their own events (faults);
// the cluster installs its trace function when Options.Trace is set.
type Tracer interface {
	SetTrace(func(Event))
}

// NetConfig configures the in-process network.
type NetConfig struct {
	// Seed seeds the jitter.
	Seed uint64
	// Latency is the time every message takes (default 1ms, one step at
	// the default Quantum). It must be positive.
	Latency time.Duration
	// Jitter adds a uniformly random extra latency in [0, Jitter] to each
	// message; with Jitter > 0 messages overtake one another.
	Jitter time.Duration
}

// Net is the in-process network: a priority queue of envelopes ordered by
// due time, then send order.
type Net struct {
	cfg NetConfig
	rng *rand.Rand
	q   envHeap
}

// NewNetwork returns an in-process network.
func NewNetwork(cfg NetConfig) *Net {
	if cfg.Latency <= 0 {
		cfg.Latency = time.Millisecond
	}
	return &Net{cfg: cfg, rng: newRand(cfg.Seed, 0x6e6574)}
}

// Send schedules e at e.Sent + Latency + jitter + e.Hold.
func (n *Net) Send(e Envelope) {
	d := n.cfg.Latency + e.Hold
	if n.cfg.Jitter > 0 {
		d += time.Duration(n.rng.Int64N(int64(n.cfg.Jitter) + 1))
	}
	e.Due = e.Sent.Add(d)
	heap.Push(&n.q, e)
}

// Due returns the messages due at or before now, earliest first (ties in
// send order).
func (n *Net) Due(now time.Time) []Envelope {
	var out []Envelope
	for len(n.q) > 0 && !n.q[0].Due.After(now) {
		out = append(out, heap.Pop(&n.q).(Envelope))
	}
	return out
}

// NextDue is the due time of the earliest message.
func (n *Net) NextDue() (time.Time, bool) {
	if len(n.q) == 0 {
		return time.Time{}, false
	}
	return n.q[0].Due, true
}

// Pending is the number of messages in flight.
func (n *Net) Pending() int { return len(n.q) }

// InFlight returns a copy of the messages in flight, in delivery order.
func (n *Net) InFlight() []Envelope {
	c := make(envHeap, len(n.q))
	copy(c, n.q)
	out := make([]Envelope, 0, len(c))
	for len(c) > 0 {
		out = append(out, heap.Pop(&c).(Envelope))
	}
	return out
}

type envHeap []Envelope

func (h envHeap) Len() int { return len(h) }
func (h envHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if !a.Due.Equal(b.Due) {
		return a.Due.Before(b.Due)
	}
	if a.Seq != b.Seq {
		return a.Seq < b.Seq
	}
	return a.Copy < b.Copy
}
func (h envHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *envHeap) Push(x any)   { *h = append(*h, x.(Envelope)) }
func (h *envHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// newRand returns a PCG generator for a seed; salt separates the streams
// of different components given the same seed.
func newRand(seed, salt uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^salt^0x9e3779b97f4a7c15))
}
