// Package runtime executes compiled Bloom plans in ticks (Dedalus
// semantics): each tick applies the previous tick's pending changes, adds
// the arrived messages, inputs and timer firings, evaluates the strata to a
// fixpoint with semi-naive evaluation, and then queues next-tick changes,
// publishes outputs and sends messages. A tick that fails changes no state.
package runtime

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/stdlib"
)

// Clock gives the start time of each tick; tests and batch runs use a
// virtual clock so that runs are repeatable.
type Clock interface {
	Now() time.Time
}

// VirtualClock is a manually advanced clock.
type VirtualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewVirtualClock starts a virtual clock at t.
func NewVirtualClock(t time.Time) *VirtualClock { return &VirtualClock{t: t} }

// Now returns the clock's time.
func (c *VirtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t (never backwards).
func (c *VirtualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.t) {
		c.t = t
	}
}

// Advance moves the clock forward by d.
func (c *VirtualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// WallClock is the real clock.
var WallClock Clock = wallClock{}

// Message is a tuple sent over a channel.
type Message struct {
	To    stdlib.Addr
	Coll  string
	Tuple Tuple
}

// Options configure a node.
type Options struct {
	// Self is the node's address, returned by self(); messages sent to it
	// are delivered locally.
	Self  stdlib.Addr
	Clock Clock
	// Send receives the messages of each successful tick that are not for
	// this node. Nil drops them (counted in Stats.Dropped).
	Send   func(msgs []Message)
	Logger *slog.Logger
	// NoKernel runs every rule on the boxed evaluator, even where the
	// word kernel (kernel.go) could: tests compare the two.
	NoKernel bool
	// NoPipeline keeps the kernel on the node's goroutine even on more
	// than one core (pipeline.go): tests compare the two.
	NoPipeline bool
}

// Stats are counters a node keeps.
type Stats struct {
	Ticks       int64
	FailedTicks int64
	Firings     int64 // rule bindings that reached a head
	Sent        int64
	Dropped     int64 // messages with no transport to carry them
}

type pendingOp struct {
	op   lang.Op
	coll int
	t    Tuple
	// pos is the rule that queued the change, so that a key violation
	// when it is applied points at that rule rather than at the
	// collection's declaration.
	pos lang.Pos
}

// Node is one Bloom node: the state of every collection and the tick loop.
// A Node is not safe for concurrent use except for Enqueue, Deliver and the
// observer registration, which may be called from other goroutines.
type Node struct {
	plan *compiler.Plan
	opts Options
	rels []*relation
	undo *undoLog
	tick int64

	pending []pendingOp

	mu     sync.Mutex // guards inbox and inputs
	inbox  []Message
	inputs []Message
	// spareInbox and spareInputs are the buffers of the last tick's
	// arrivals, emptied; only Tick touches them.
	spareInbox, spareInputs []Message
	// batches are channel tuples delivered in columnar form
	// (DeliverBatches), guarded by mu, their words and values copied
	// into batchWords and batchVals; the spares as spareInbox.
	batches, spareBatches       []Batch
	batchWords, spareBatchWords []uint64
	batchVals, spareBatchVals   []stdlib.Value
	// outboxHint is the size of the last tick's outbox.
	outboxHint int
	// headBuf is scratch for the head tuples of temporal rules.
	headBuf []Tuple

	timers    []*timer
	factsDone bool
	// incremental is set once a tick has succeeded: from then on the
	// derived tables hold everything earlier ticks derived, and
	// incremental components join only the tuples gained in a tick.
	incremental bool
	dur         *durableState // durable.go: the Store (--data), nil without one
	observers   []func(tick int64, coll string, tuples []Tuple)
	stats       Stats
	log         *slog.Logger
	chunk       []stdlib.Value // values not yet handed out as tuples (eval.go)
	// kernels has, per component of the plan, its word-kernel form
	// (kernel.go), or nil when it runs on the boxed evaluator.
	kernels []*kcomp
	kx      *kexec     // the kernel's reusable state (kernel.go)
	ev      *evaluator // the boxed evaluator, reused by every tick
}

type timer struct {
	coll  int
	every time.Duration
	next  time.Time
	n     int64
}

// New creates a node for a compiled plan.
func New(plan *compiler.Plan, opts Options) *Node {
	if opts.Clock == nil {
		opts.Clock = WallClock
	}
	if opts.Self == "" {
		opts.Self = "127.0.0.1:0"
	}
	n := &Node{plan: plan, opts: opts, undo: &undoLog{}, log: opts.Logger}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	start := opts.Clock.Now()
	addrs := newAddrTable()
	for _, c := range plan.Colls {
		n.rels = append(n.rels, newRelation(c, n.undo, addrs))
		if c.Info.Kind == lang.Periodic {
			n.timers = append(n.timers, &timer{coll: c.ID, every: c.Info.Decl.Every, next: start.Add(c.Info.Decl.Every)})
		}
	}
	for _, comp := range plan.Components {
		var kc *kcomp
		if !opts.NoKernel && len(comp.Rules) > 0 {
			kc = n.kernelFor(comp)
		}
		n.kernels = append(n.kernels, kc)
	}
	return n
}

// Plan returns the node's plan.
func (n *Node) Plan() *compiler.Plan { return n.plan }

// TickCount returns the number of ticks run so far.
func (n *Node) TickCount() int64 { return n.tick }

// Stats returns the node's counters.
func (n *Node) Stats() Stats { return n.stats }

// Observe registers f to receive the contents of every output collection
// at the end of each successful tick in which it is not empty.
func (n *Node) Observe(f func(tick int64, coll string, tuples []Tuple)) {
	n.observers = append(n.observers, f)
}

// Enqueue queues a tuple for an input collection; it is added at the start
// of the next tick.
func (n *Node) Enqueue(coll string, t Tuple) error {
	c := n.plan.ByName[coll]
	if c == nil {
		return fmt.Errorf("unknown collection %s", coll)
	}
	if c.Info.Kind != lang.Input {
		return fmt.Errorf("%s is a %s, not an input", coll, c.Info.Kind)
	}
	if len(t) != len(c.Types) {
		return fmt.Errorf("%s has %d columns, got %d values", coll, len(c.Types), len(t))
	}
	n.mu.Lock()
	n.inputs = append(n.inputs, Message{Coll: coll, Tuple: t})
	n.mu.Unlock()
	return nil
}

// Deliver hands the node a message that arrived on a channel; it is added
// at the start of the next tick.
func (n *Node) Deliver(m Message) error {
	c := n.plan.ByName[m.Coll]
	if c == nil || c.Info.Kind != lang.Channel {
		return fmt.Errorf("unknown channel %s", m.Coll)
	}
	if len(m.Tuple) != len(c.Types) {
		return fmt.Errorf("channel %s has %d columns, got %d values", m.Coll, len(c.Types), len(m.Tuple))
	}
	n.mu.Lock()
	n.inbox = append(n.inbox, m)
	n.mu.Unlock()
	return nil
}

// maxSpareWords bounds the words of delivered batches a node keeps for
// the next tick's arrivals (8 MiB).
const maxSpareWords = 1 << 20

// DeliverBatches is Deliver for channel tuples in columnar form (a
// transport's decoded frames), taking the node's lock once. The node
// copies the batches' words and values (into memory it reuses from tick
// to tick), so the caller may reuse bs and its batches once it returns;
// their rows are added at the start of the next tick. A batch for an
// unknown channel, of the wrong width or with a value index out of range
// is skipped, and the first such error is returned.
func (n *Node) DeliverBatches(bs []Batch) error {
	var first error
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, b := range bs {
		c := n.plan.ByName[b.Coll]
		var err error
		if c == nil || c.Info.Kind != lang.Channel {
			err = fmt.Errorf("unknown channel %s", b.Coll)
		} else {
			err = b.check(c.Types)
		}
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		if b.Len() == 0 {
			continue
		}
		w0, v0 := len(n.batchWords), len(n.batchVals)
		n.batchWords = append(n.batchWords, b.Words...)
		n.batchVals = append(n.batchVals, b.Vals...)
		// (An append that moved the arrays leaves the batches already
		// queued on the old ones, which they keep alive.)
		b.Words = n.batchWords[w0:len(n.batchWords):len(n.batchWords)]
		b.Vals = n.batchVals[v0:len(n.batchVals):len(n.batchVals)]
		n.batches = append(n.batches, b)
	}
	return first
}

// insertBatch adds a delivered batch's rows to its channel: as words
// when the channel is packed (its addresses numbered), else as boxed
// tuples sharing one backing array.
func (n *Node) insertBatch(b *Batch) error {
	c := n.plan.ByName[b.Coll]
	w := b.Width
	rows := b.Len()
	from := 0
	if r := n.rels[c.ID]; r.packed() {
		var err error
		if from, err = n.insertBatchRows(c, r, b); err != nil || from == rows {
			return err
		}
		// A value without a word (the address table is full): the rest
		// go boxed, and the first of them demotes the relation.
	}
	vals := make([]stdlib.Value, (rows-from)*w)
	for i := from; i < rows; i++ {
		k := i - from
		t := vals[k*w : (k+1)*w : (k+1)*w]
		b.box(c.Types, b.Words[i*w:(i+1)*w], t)
		if err := n.insert(c.ID, t, lang.Pos{}); err != nil {
			return err
		}
	}
	return nil
}

// insertBatchRows inserts b's rows into the packed relation r of
// channel c, from the first, until one has a value without a word; it
// returns how many it inserted.
func (n *Node) insertBatchRows(c *compiler.Coll, r *relation, b *Batch) (int, error) {
	w := b.Width
	row := make([]uint64, w)
	for i := range b.Len() {
		src := b.Words[i*w : (i+1)*w]
		for j, typ := range c.Types {
			if BatchWord(typ) {
				row[j] = src[j]
				continue
			}
			x, ok := r.packWord(typ, b.Vals[src[j]], true)
			if !ok {
				return i, nil
			}
			row[j] = x
		}
		if _, kv := r.insertRow(row); kv != nil {
			return i, n.keyError(c.ID, kv, lang.Pos{})
		}
	}
	return b.Len(), nil
}

// HasWork reports whether a tick would do anything besides firing timers:
// facts not yet inserted, pending changes, messages or inputs.
func (n *Node) HasWork() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return !n.factsDone || len(n.pending) > 0 || len(n.inbox) > 0 || len(n.inputs) > 0 || len(n.batches) > 0
}

// NextTimer returns the earliest time a periodic fires, if there is one.
func (n *Node) NextTimer() (time.Time, bool) {
	var best time.Time
	for i, t := range n.timers {
		if i == 0 || t.next.Before(best) {
			best = t.next
		}
	}
	return best, len(n.timers) > 0
}

// Contents returns the tuples of a collection in canonical (sorted) order.
func (n *Node) Contents(coll string) ([]Tuple, error) {
	c := n.plan.ByName[coll]
	if c == nil {
		return nil, fmt.Errorf("unknown collection %s", coll)
	}
	return n.rels[c.ID].sorted(), nil
}

// Count returns the number of tuples in a collection.
func (n *Node) Count(coll string) (int, error) {
	c := n.plan.ByName[coll]
	if c == nil {
		return 0, fmt.Errorf("unknown collection %s", coll)
	}
	return n.rels[c.ID].len(), nil
}

// KeyViolationError reports two tuples with one key in one tick.
type KeyViolationError struct {
	Pos      lang.Pos // the rule or fact that produced the second tuple
	Coll     string
	Key      string
	Old, New string
}

func (e *KeyViolationError) Error() string {
	return fmt.Sprintf("%s: key constraint violation in %s: key %s has both %s and %s", e.Pos, e.Coll, e.Key, e.Old, e.New)
}

// Tick runs one tick. On error the tick is rolled back: collections are as
// they were before it, nothing is published or sent, and the tick's inputs,
// messages and pending changes are discarded.
func (n *Node) Tick() error {
	if err := n.Halted(); err != nil {
		return err // a durable commit failed (durable.go): the node is stopped
	}
	n.tick++
	now := n.opts.Clock.Now()
	// The evaluator is the node's, reused tick after tick.
	ev := n.ev
	if ev == nil {
		ev = &evaluator{n: n, ctx: &stdlib.CallContext{}}
		n.ev = ev
	}
	*ev.ctx = stdlib.CallContext{Self: n.opts.Self, Now: stdlib.Time(now.UnixNano())}
	if len(ev.deltas) != len(n.rels) {
		ev.deltas = make([][]Tuple, len(n.rels))
	}
	clear(ev.deltas)
	ev.firings = 0
	n.undo.reset()
	n.undo.on = true
	defer func() { n.undo.on = false; n.undo.reset() }()

	n.mu.Lock()
	inbox, inputs, batches := n.inbox, n.inputs, n.batches
	bw, bv := n.batchWords, n.batchVals
	// The buffers the previous tick consumed take the new arrivals, so
	// a node receiving a steady stream does not regrow them every tick.
	n.inbox, n.inputs, n.batches = n.spareInbox, n.spareInputs, n.spareBatches
	n.spareInbox, n.spareInputs, n.spareBatches = nil, nil, nil
	n.batchWords, n.batchVals = n.spareBatchWords, n.spareBatchVals
	n.spareBatchWords, n.spareBatchVals = nil, nil
	n.mu.Unlock()
	pending := n.pending
	n.pending = nil
	savedTimers := make([]timer, len(n.timers))
	for i, t := range n.timers {
		savedTimers[i] = *t
	}

	newPending, outbox, err := n.runTick(ev, now, pending, inbox, inputs, batches)
	n.stats.Firings += ev.firings
	// Consumed either way (a failed tick discards them): keep the
	// buffers for the next tick's arrivals.
	clear(inbox)
	clear(inputs)
	clear(batches)
	clear(bv)
	n.spareInbox, n.spareInputs, n.spareBatches = inbox[:0], inputs[:0], batches[:0]
	if cap(bw) <= maxSpareWords { // a burst's memory is not kept
		n.spareBatchWords, n.spareBatchVals = bw[:0], bv[:0]
	}
	if err == nil {
		newPending = n.effective(newPending)
		if n.dur != nil {
			// Output commit (durable.go): write the tick's durable changes
			// before anything is published or sent; a failed write fails
			// the tick like any error and halts the node.
			err = n.commitDurable(newPending)
		}
	}
	if err != nil {
		n.undo.rollback()
		for i, t := range n.timers {
			*t = savedTimers[i]
		}
		n.stats.FailedTicks++
		n.log.Error("tick failed", "tick", n.tick, "err", err)
		return err
	}
	n.factsDone = true
	n.incremental = true
	n.pending = newPending
	n.stats.Ticks++

	// Publish outputs, then send.
	if len(n.observers) > 0 {
		for _, c := range n.plan.Colls {
			if c.Info.Kind == lang.Output && n.rels[c.ID].len() > 0 {
				ts := n.rels[c.ID].sorted()
				for _, f := range n.observers {
					f(n.tick, c.Name, ts)
				}
			}
		}
	}
	// The next tick's outbox starts at this one's size: a node that
	// sends steadily allocates it once a tick, not once per doubling.
	n.outboxHint = min(len(outbox), 1<<16)
	// Messages to this node go to its inbox; the others, compacted in
	// place, are handed to Send (which keeps the slice).
	remote := outbox[:0]
	for _, m := range outbox {
		if m.To == n.opts.Self {
			n.mu.Lock()
			n.inbox = append(n.inbox, m)
			n.mu.Unlock()
			continue
		}
		remote = append(remote, m)
	}
	clear(outbox[len(remote):])
	if len(remote) > 0 {
		if n.opts.Send != nil {
			n.opts.Send(remote)
			n.stats.Sent += int64(len(remote))
		} else {
			n.stats.Dropped += int64(len(remote))
		}
	}
	return nil
}

func (n *Node) runTick(ev *evaluator, now time.Time, pending []pendingOp, inbox, inputs []Message, batches []Batch) ([]pendingOp, []Message, error) {
	// 1. Empty the transient collections, then apply the previous tick's
	// changes: new = (old − deleted) ∪ inserted.
	for _, r := range n.rels {
		if r.coll.Transient {
			r.clear()
		}
	}
	for _, p := range pending {
		r := n.rels[p.coll]
		switch p.op {
		case lang.OpDelete:
			r.remove(p.t)
		case lang.OpUpsert:
			r.removeKey(p.t)
		}
	}
	for _, p := range pending {
		if p.op == lang.OpNext || p.op == lang.OpUpsert {
			if err := n.insert(p.coll, p.t, p.pos); err != nil {
				return nil, nil, err
			}
		}
	}
	// 2. Messages, inputs, timers, facts.
	for _, m := range inbox {
		if err := n.insert(n.plan.ByName[m.Coll].ID, m.Tuple, lang.Pos{}); err != nil {
			return nil, nil, err
		}
	}
	for i := range batches {
		if err := n.insertBatch(&batches[i]); err != nil {
			return nil, nil, err
		}
	}
	for _, m := range inputs {
		if err := n.insert(n.plan.ByName[m.Coll].ID, m.Tuple, lang.Pos{}); err != nil {
			return nil, nil, err
		}
	}
	for _, t := range n.timers {
		if !now.Before(t.next) {
			t.n++
			for !now.Before(t.next) {
				t.next = t.next.Add(t.every)
			}
			if err := n.insert(t.coll, Tuple{t.n}, lang.Pos{}); err != nil {
				return nil, nil, err
			}
		}
	}
	if !n.factsDone {
		for _, f := range n.plan.Facts {
			t := f.Tuple
			for i, typ := range n.plan.Colls[f.Coll].Types {
				// An int given for an lcounter is this node's count.
				if v, ok := localCounter(typ, t[i], n.opts.Self); ok {
					t = append(Tuple(nil), t...)
					t[i] = v
				}
			}
			if err := n.insert(f.Coll, t, f.Pos); err != nil {
				return nil, nil, err
			}
		}
		for _, b := range n.plan.FactRows {
			if err := n.insertFactRows(b); err != nil {
				return nil, nil, err
			}
		}
	}
	// 3. Strata to fixpoint.
	for ci, comp := range n.plan.Components {
		if len(comp.Rules) == 0 {
			continue
		}
		if kc := n.kernels[ci]; kc != nil && !kc.usable() {
			n.kernels[ci] = nil // a relation was demoted (packed.go)
		}
		if kc := n.kernels[ci]; kc != nil {
			if err := n.evalKernel(ev, comp, kc); err != nil {
				return nil, nil, err
			}
			continue
		}
		if err := n.evalComponent(ev, comp); err != nil {
			return nil, nil, err
		}
	}
	// 4. Temporal rules over the fixpoint.
	var newPending []pendingOp
	outbox := make([]Message, 0, n.outboxHint)
	for _, rp := range n.plan.Temporal {
		ts, err := ev.heads(rp, rp.Body, n.headBuf[:0])
		if err != nil {
			return nil, nil, err
		}
		head := n.plan.Colls[rp.Head]
		for _, t := range ts {
			if rp.Op == lang.OpAsync {
				addr, _ := t[0].(stdlib.Addr)
				outbox = append(outbox, Message{To: addr, Coll: head.Name, Tuple: t})
				continue
			}
			newPending = append(newPending, pendingOp{op: rp.Op, coll: rp.Head, t: t, pos: rp.Pos})
		}
		// The tuples went on to the outbox and pending; the slice is
		// kept for the next rule and tick (growing it anew was a sixth
		// of node-to-node's allocations), unless it got large.
		clear(ts)
		if cap(ts) <= maxHeadBuf {
			n.headBuf = ts[:0]
		}
	}
	return newPending, outbox, nil
}

// maxHeadBuf caps the scratch slice kept for temporal heads (1 MiB).
const maxHeadBuf = 1 << 16

// insertFactRows inserts a block of packed facts, straight into a packed
// relation (word types are never lcounters, so no fact needs localCounter).
func (n *Node) insertFactRows(b *compiler.FactRows) error {
	r := n.rels[b.Coll]
	w := len(n.plan.Colls[b.Coll].Types)
	for i := range b.Len() {
		if !r.packed() {
			if err := n.insert(b.Coll, b.Tuple(n.plan, i), b.Pos(i)); err != nil {
				return err
			}
			continue
		}
		if _, kv := r.insertRow(b.Words[i*w : i*w+w]); kv != nil {
			return n.keyError(b.Coll, kv, b.Pos(i))
		}
	}
	return nil
}

// insert adds a tuple, turning a key violation into an error at pos.
func (n *Node) insert(coll int, t Tuple, pos lang.Pos) error {
	_, kv := n.rels[coll].insert(t)
	if kv != nil {
		return n.keyError(coll, kv, pos)
	}
	return nil
}

func (n *Node) keyError(coll int, kv *KeyViolation, pos lang.Pos) error {
	c := n.plan.Colls[coll]
	if kv.Err != nil {
		return &RuntimeError{Pos: pos.String(), Err: kv.Err, Rule: c.Name}
	}
	var key []string
	for _, k := range c.Key {
		key = append(key, stdlib.Format(c.Types[k], kv.New[k]))
	}
	if !pos.IsValid() {
		pos = c.Info.Decl.At
	}
	return &KeyViolationError{
		Pos: pos, Coll: c.Name, Key: "(" + strings.Join(key, ", ") + ")",
		Old: stdlib.FormatTuple(c.Name, c.Types, kv.Old),
		New: stdlib.FormatTuple(c.Name, c.Types, kv.New),
	}
}

// evalComponent evaluates one component to its fixpoint: its rules once
// over the full collections, then, if it is recursive, semi-naive rounds
// in which each rule variant joins one atom's previous-round delta.
func (n *Node) evalComponent(ev *evaluator, comp *compiler.Component) error {
	// delta collects the tuples that changed the component's relations
	// in the current round (nil: not recursive, nothing to collect).
	var delta [][]Tuple
	if comp.Recursive {
		delta = make([][]Tuple, len(n.rels))
	}
	eval := func(rp *compiler.RulePlan, steps []*compiler.Step) error {
		if rp.Agg == nil {
			if delta == nil {
				return ev.derive(rp, steps, nil)
			}
			return ev.derive(rp, steps, func(t Tuple) {
				delta[rp.Head] = append(delta[rp.Head], t)
			})
		}
		ts, err := ev.heads(rp, steps, nil)
		if err != nil {
			return err
		}
		for _, t := range ts {
			nt, kv := n.rels[rp.Head].insert(t)
			if kv != nil {
				return n.keyError(rp.Head, kv, rp.Pos)
			}
			if nt != nil && delta != nil {
				delta[rp.Head] = append(delta[rp.Head], nt)
			}
		}
		return nil
	}
	if comp.Incremental && n.incremental {
		// Persistent, monotone derived state: what earlier ticks derived
		// is still there, so join only what the body collections gained
		// this tick, one atom at a time (semi-naive across ticks).
		// Only the collections read through a delta are asked for their
		// gains (a packed relation unpacks them), each once; the other
		// entries of ev.deltas are stale but never read.
		var done []int
		for _, rp := range comp.Rules {
			for _, c := range rp.AtomDeltaColl {
				if !slices.Contains(done, c) {
					done = append(done, c)
					ev.deltas[c] = n.rels[c].gained()
				}
			}
		}
		for _, rp := range comp.Rules {
			for j, steps := range rp.AtomDeltas {
				if len(ev.deltas[rp.AtomDeltaColl[j]]) == 0 {
					continue
				}
				if err := eval(rp, steps); err != nil {
					return err
				}
			}
		}
	} else {
		for _, rp := range firstRoundOrder(comp.Rules) {
			if err := eval(rp, rp.Body); err != nil {
				return err
			}
		}
	}
	if !comp.Recursive {
		return nil
	}
	// Semi-naive rounds: each reads the previous round's delta, and the
	// tuples it derives make the next one. Two buffers take turns.
	next := make([][]Tuple, len(n.rels))
	for {
		empty := true
		for _, c := range comp.Colls {
			if len(delta[c]) > 0 {
				empty = false
			}
		}
		if empty {
			return nil
		}
		ev.deltas = delta
		for _, c := range comp.Colls {
			next[c] = next[c][:0]
		}
		delta, next = next, delta
		for _, rp := range comp.Rules {
			if !rp.Recursive {
				continue
			}
			if rp.Agg != nil {
				// A lattice aggregate (set) in a recursive component:
				// recompute over the full collections and merge.
				if err := eval(rp, rp.Body); err != nil {
					return err
				}
				continue
			}
			for _, v := range rp.Deltas {
				if err := eval(rp, v); err != nil {
					return err
				}
			}
		}
	}
}

// firstRoundOrder orders a component's rules for its first, full round:
// the recursive rules first, then the others. Heads are inserted as they
// are derived, and the second round joins everything the first added, so
// a recursive rule that ran after the base rules would see their tuples
// twice: once now over the full relation and again as the delta (same
// generation derived every tuple twice that way).
func firstRoundOrder(rules []*compiler.RulePlan) []*compiler.RulePlan {
	out := make([]*compiler.RulePlan, 0, len(rules))
	for _, rp := range rules {
		if rp.Recursive {
			out = append(out, rp)
		}
	}
	for _, rp := range rules {
		if !rp.Recursive {
			out = append(out, rp)
		}
	}
	return out
}

// effective drops pending changes that would change nothing, so that a
// program whose rules keep re-asserting the same state is quiescent. The
// changes are grouped by collection and key, and a group is dropped when
// applying it, new = (old − deleted) ∪ inserted, leaves the stored tuple
// as it is.
func (n *Node) effective(ops []pendingOp) []pendingOp {
	type group struct {
		coll int
		key  string
		ops  []int
	}
	groups := map[string]*group{}
	var order []*group
	for i, p := range ops {
		r := n.rels[p.coll]
		if r.coll.Transient {
			continue
		}
		k := string(r.key(p.t))
		gk := strconv.Itoa(p.coll) + "/" + k
		g := groups[gk]
		if g == nil {
			g = &group{coll: p.coll, key: k}
			groups[gk] = g
			order = append(order, g)
		}
		g.ops = append(g.ops, i)
	}
	drop := make([]bool, len(ops))
	for i, p := range ops {
		if n.rels[p.coll].coll.Transient && p.op == lang.OpDelete {
			drop[i] = true // transients are emptied anyway
		}
	}
	for _, g := range order {
		r := n.rels[g.coll]
		old := r.get(ops[g.ops[0]].t)
		cur := old
		for _, i := range g.ops {
			switch p := ops[i]; p.op {
			case lang.OpDelete:
				if cur != nil && r.equal(cur, p.t) {
					cur = nil
				}
			case lang.OpUpsert:
				cur = nil
			}
		}
		conflict := false
		for _, i := range g.ops {
			p := ops[i]
			if p.op != lang.OpNext && p.op != lang.OpUpsert {
				continue
			}
			switch {
			case cur == nil:
				cur = p.t
			case r.coll.Merge:
				if m, changed := r.merge(cur, p.t); changed {
					cur = m
				}
			case !r.equal(cur, p.t):
				conflict = true // reported when the tick applies it
			}
		}
		same := !conflict && ((old == nil && cur == nil) || (old != nil && cur != nil && r.equal(old, cur)))
		if same {
			for _, i := range g.ops {
				drop[i] = true
			}
		}
	}
	out := ops[:0]
	for i, p := range ops {
		if !drop[i] {
			out = append(out, p)
		}
	}
	return out
}

// ErrTickLimit is returned by Run when the tick limit stopped a program
// that still had work.
var ErrTickLimit = errors.New("tick limit reached")

// RunBatch runs the node without a network: ticks run back to back while
// there is work (facts, pending changes, messages to itself, inputs). With
// maxTicks > 0 it runs at most that many ticks and, when otherwise idle,
// moves the virtual clock to the next periodic firing so that timers fire
// deterministically. The clock must be a *VirtualClock.
func (n *Node) RunBatch(maxTicks int64) error {
	vc, _ := n.opts.Clock.(*VirtualClock)
	for maxTicks <= 0 || n.tick < maxTicks {
		if !n.HasWork() {
			next, ok := n.NextTimer()
			if maxTicks <= 0 || !ok || vc == nil {
				return nil
			}
			vc.Set(next)
		} else if vc != nil && n.tick > 0 {
			vc.Advance(time.Microsecond)
		}
		if err := n.Tick(); err != nil {
			return err
		}
	}
	return nil
}
