package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/bloomlang/bloom/stdlib"
)

// Faults are the probabilistic faults a FaultNetwork injects into every
// message it carries. The zero value injects none.
type Faults struct {
	// Drop is the probability that a message is lost.
	Drop float64
	// Duplicate is the probability that a message is delivered twice
	// (each copy is delayed independently).
	Duplicate float64
	// Reorder is the probability that a message is held back by a random
	// extra delay in (0, ReorderWindow], so that later messages overtake it.
	Reorder       float64
	ReorderWindow time.Duration // default 20ms
	// Delay holds every message back by a random extra delay in
	// [Delay/2, Delay] (a slow network; moderate reordering as a side
	// effect).
	Delay time.Duration
}

func (f Faults) String() string {
	return fmt.Sprintf("drop=%g dup=%g reorder=%g/%v delay=%v", f.Drop, f.Duplicate, f.Reorder, f.ReorderWindow, f.Delay)
}

// FaultStats count what a FaultNetwork did.
type FaultStats struct {
	Sent       int // messages offered
	Dropped    int // lost to Drop or the Filter
	Cut        int // lost to a partition (at send or at arrival)
	Duplicated int
	Reordered  int
	Delayed    int
}

// FaultNetwork wraps a Network and injects seeded, deterministic faults:
// random loss, duplication, reordering and delay (Faults), partitions
// (Partition, Heal) and an arbitrary Filter. A partition drops the messages
// that cross it, both when they are sent and when they would arrive (a
// message in flight when the partition starts is lost).
type FaultNetwork struct {
	inner  Network
	rng    *rand.Rand
	faults Faults
	group  map[stdlib.Addr]int // nil: no partition
	filter func(Envelope) bool
	stats  FaultStats
	trace  func(Event)
}

// NewFaultNetwork wraps inner (a new Net when nil).
func NewFaultNetwork(inner Network, seed uint64, f Faults) *FaultNetwork {
	if inner == nil {
		inner = NewNetwork(NetConfig{Seed: seed})
	}
	return &FaultNetwork{inner: inner, rng: newRand(seed, 0x6661756c74), faults: f}
}

// Inner is the wrapped network.
func (f *FaultNetwork) Inner() Network { return f.inner }

// SetFaults replaces the probabilistic faults (Faults{} turns them off).
func (f *FaultNetwork) SetFaults(fs Faults) { f.faults = fs }

// Faults returns the current probabilistic faults.
func (f *FaultNetwork) Faults() Faults { return f.faults }

// Partition splits the nodes into groups that cannot talk to each other.
// Nodes in no group form one more group together. Partition replaces any
// earlier partition.
func (f *FaultNetwork) Partition(groups ...[]stdlib.Addr) {
	f.group = map[stdlib.Addr]int{}
	for i, g := range groups {
		for _, a := range g {
			f.group[a] = i + 1
		}
	}
}

// Heal ends the partition.
func (f *FaultNetwork) Heal() { f.group = nil }

// Partitioned reports whether a partition is in force.
func (f *FaultNetwork) Partitioned() bool { return f.group != nil }

// Connected reports whether a and b can talk under the current partition.
func (f *FaultNetwork) Connected(a, b stdlib.Addr) bool {
	return f.group == nil || f.group[a] == f.group[b]
}

// SetFilter installs a predicate that every message must pass (nil: none);
// a rejected message is dropped. It is applied when the message is sent.
func (f *FaultNetwork) SetFilter(keep func(Envelope) bool) { f.filter = keep }

// Stats returns the fault counters.
func (f *FaultNetwork) Stats() FaultStats { return f.stats }

// SetTrace implements Tracer.
func (f *FaultNetwork) SetTrace(t func(Event)) {
	f.trace = t
	if tr, ok := f.inner.(Tracer); ok {
		tr.SetTrace(t)
	}
}

func (f *FaultNetwork) emit(k EventKind, e Envelope, note string) {
	if f.trace != nil {
		f.trace(Event{Kind: k, Node: e.From, Env: e, Note: note})
	}
}

// Send applies the faults to e and passes the surviving copies on.
func (f *FaultNetwork) Send(e Envelope) {
	f.stats.Sent++
	if !f.Connected(e.From, e.To()) {
		f.stats.Cut++
		f.emit(EvDrop, e, "partition")
		return
	}
	if f.filter != nil && !f.filter(e) {
		f.stats.Dropped++
		f.emit(EvDrop, e, "filter")
		return
	}
	fs := f.faults
	// Draw every random number for every message, whatever the faults,
	// so that changing one probability does not shift the others' draws.
	drop := f.rng.Float64()
	dup := f.rng.Float64()
	if drop < fs.Drop {
		f.stats.Dropped++
		f.emit(EvDrop, e, "drop")
		return
	}
	copies := 1
	if dup < fs.Duplicate {
		copies = 2
		f.stats.Duplicated++
		f.emit(EvDuplicate, e, "")
	}
	for i := 0; i < copies; i++ {
		c := e
		c.Copy = e.Copy + i
		reorder := f.rng.Float64()
		hold := f.rng.Float64()
		if fs.Delay > 0 {
			c.Hold += fs.Delay/2 + time.Duration(hold*float64(fs.Delay/2))
			f.stats.Delayed++
		}
		if reorder < fs.Reorder {
			w := fs.ReorderWindow
			if w <= 0 {
				w = 20 * time.Millisecond
			}
			extra := time.Duration(f.rng.Int64N(int64(w))) + 1
			c.Hold += extra
			f.stats.Reordered++
			f.emit(EvHold, c, "reorder +"+extra.String())
		}
		f.inner.Send(c)
	}
}

// Due returns the inner network's due messages, less those that now cross
// a partition.
func (f *FaultNetwork) Due(now time.Time) []Envelope {
	envs := f.inner.Due(now)
	if f.group == nil {
		return envs
	}
	out := envs[:0]
	for _, e := range envs {
		if f.Connected(e.From, e.To()) {
			out = append(out, e)
			continue
		}
		f.stats.Cut++
		f.emit(EvDrop, e, "partition (in flight)")
	}
	return out
}

// NextDue implements Network.
func (f *FaultNetwork) NextDue() (time.Time, bool) { return f.inner.NextDue() }

// Pending implements Network.
func (f *FaultNetwork) Pending() int { return f.inner.Pending() }
