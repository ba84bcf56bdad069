package sim

import (
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
)

// DefaultStart is the virtual time at which clusters start by default.
var DefaultStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Options configure a Cluster.
type Options struct {
	// Start is the virtual time of the first step (default DefaultStart).
	Start time.Time
	// Quantum is the virtual time between two busy steps (default 1ms).
	Quantum time.Duration
	// Network carries the messages; nil means NewNetwork(NetConfig{}):
	// every message takes 1ms, in send order.
	Network Network
	// KeepGoing records a failed tick in Node.Errors and goes on; by
	// default Step and Run stop and return the *TickError.
	KeepGoing bool
	// Trace receives every event: sends, deliveries, faults, ticks.
	Trace func(Event)
}

// EventKind says what happened.
type EventKind int

// Event kinds.
const (
	EvSend      EventKind = iota // a node sent a message
	EvDeliver                    // a message reached its node
	EvDrop                       // a message was lost (Note: why)
	EvDuplicate                  // a message was duplicated
	EvHold                       // a message was held back (reordering)
	EvTick                       // a node ran a tick
	EvError                      // a tick or a delivery failed
)

var eventNames = [...]string{"send", "deliver", "drop", "duplicate", "hold", "tick", "error"}

func (k EventKind) String() string { return eventNames[k] }

// Event is one thing that happened in a run, for Options.Trace.
type Event struct {
	Kind EventKind
	Step int64
	Time time.Time
	Node stdlib.Addr // the ticking node, the sender, or the receiver
	Env  Envelope    // for message events
	Msg  string      // the message in fact syntax, for message events
	Note string
	Err  error
}

func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s %-9s %s", e.Step, e.Time.Format("15:04:05.000000"), e.Kind, e.Node)
	if e.Msg != "" {
		fmt.Fprintf(&b, " %s -> %s %s", e.Env.From, e.Env.To(), e.Msg)
		if e.Env.Copy > 0 {
			fmt.Fprintf(&b, " (copy %d)", e.Env.Copy)
		}
	}
	if e.Note != "" {
		b.WriteString(" " + e.Note)
	}
	if e.Err != nil {
		b.WriteString(" " + e.Err.Error())
	}
	return b.String()
}

// TickError is a failed tick of one node.
type TickError struct {
	Node stdlib.Addr
	Step int64
	Err  error
}

func (e *TickError) Error() string { return fmt.Sprintf("node %s, step %d: %v", e.Node, e.Step, e.Err) }
func (e *TickError) Unwrap() error { return e.Err }

// Errors returned by Run.
var (
	// ErrStepLimit: maxSteps steps ran before the stop condition held.
	ErrStepLimit = errors.New("sim: step limit reached")
	// ErrStuck: until() does not hold and nothing can happen any more (no
	// work, no message in flight, no timer, no scheduled callback).
	ErrStuck = errors.New("sim: nothing left to do and the condition does not hold")
)

// NodeConfig describes one node.
type NodeConfig struct {
	// Addr is the node's address and self().
	Addr stdlib.Addr
	// Plan is the compiled program; nodes may share one.
	Plan *compiler.Plan
	// Facts are extra facts for this node only, in fact syntax
	// (`kv.peer("n2:1"); edge(1, 2);`), inserted at the start of its
	// first tick with the program's own facts.
	Facts string
	// Skew is added to the cluster's time on this node's clock.
	Skew time.Duration
}

// Node is one simulated node.
type Node struct {
	Addr    stdlib.Addr
	Runtime *runtime.Node
	Clock   *runtime.VirtualClock
	Skew    time.Duration
	// Errors holds the node's failed ticks and rejected deliveries (with
	// Options.KeepGoing).
	Errors []error

	plan      *compiler.Plan
	published map[string][]string
}

type scheduled struct {
	at  time.Time
	seq int
	f   func() error
}

// Cluster is a set of nodes run by a deterministic scheduler over a
// Network. It is not safe for concurrent use.
type Cluster struct {
	opts   Options
	net    Network
	nodes  []*Node
	byAddr map[stdlib.Addr]*Node

	now     time.Time // time of the last step (Start before the first)
	next    time.Time // earliest time of the next step
	step    int64
	seq     uint64
	events  []scheduled
	evSeq   int
	undeliv int
}

// New returns an empty cluster.
func New(opts Options) *Cluster {
	if opts.Start.IsZero() {
		opts.Start = DefaultStart
	}
	if opts.Quantum <= 0 {
		opts.Quantum = time.Millisecond
	}
	if opts.Network == nil {
		opts.Network = NewNetwork(NetConfig{})
	}
	c := &Cluster{opts: opts, net: opts.Network, byAddr: map[stdlib.Addr]*Node{}, now: opts.Start, next: opts.Start}
	if opts.Trace != nil {
		if tr, ok := c.net.(Tracer); ok {
			tr.SetTrace(c.emit)
		}
	}
	return c
}

// Addrs returns n node addresses "n1:1", "n2:1", ...
func Addrs(n int) []stdlib.Addr {
	out := make([]stdlib.Addr, n)
	for i := range out {
		out[i] = stdlib.Addr(fmt.Sprintf("n%d:1", i+1))
	}
	return out
}

// AddNode adds a node. Its clock starts at the cluster's current time (so
// its periodic timers count from there).
func (c *Cluster) AddNode(cfg NodeConfig) (*Node, error) {
	if cfg.Addr == "" || cfg.Plan == nil {
		return nil, errors.New("sim: a node needs an address and a plan")
	}
	if c.byAddr[cfg.Addr] != nil {
		return nil, fmt.Errorf("sim: duplicate node %s", cfg.Addr)
	}
	plan := cfg.Plan
	if strings.TrimSpace(cfg.Facts) != "" {
		facts, err := plan.FactsFromSource(string(cfg.Addr)+" facts", []byte(cfg.Facts))
		if err != nil {
			return nil, err
		}
		cp := *plan
		cp.Facts = append(slices.Clip(plan.Facts), facts...)
		plan = &cp
	}
	n := &Node{Addr: cfg.Addr, Skew: cfg.Skew, plan: plan, published: map[string][]string{}}
	n.Clock = runtime.NewVirtualClock(c.now.Add(cfg.Skew))
	n.Runtime = runtime.New(plan, runtime.Options{
		Self:  cfg.Addr,
		Clock: n.Clock,
		Send:  func(msgs []runtime.Message) { c.send(n, msgs) },
	})
	n.Runtime.Observe(func(_ int64, coll string, ts []runtime.Tuple) {
		types := plan.ByName[coll].Types
		for _, t := range ts {
			n.published[coll] = append(n.published[coll], stdlib.FormatTuple(coll, types, t))
		}
	})
	i := sort.Search(len(c.nodes), func(i int) bool { return c.nodes[i].Addr >= cfg.Addr })
	c.nodes = slices.Insert(c.nodes, i, n)
	c.byAddr[cfg.Addr] = n
	return n, nil
}

// AddNodes adds one node per address, all running plan.
func (c *Cluster) AddNodes(plan *compiler.Plan, addrs ...stdlib.Addr) error {
	for _, a := range addrs {
		if _, err := c.AddNode(NodeConfig{Addr: a, Plan: plan}); err != nil {
			return err
		}
	}
	return nil
}

// Nodes returns the nodes in address order.
func (c *Cluster) Nodes() []*Node { return slices.Clone(c.nodes) }

// Node returns the node with the address, or nil.
func (c *Cluster) Node(addr stdlib.Addr) *Node { return c.byAddr[addr] }

// Network returns the cluster's network.
func (c *Cluster) Network() Network { return c.net }

// Now is the virtual time of the last step (the start time before any).
func (c *Cluster) Now() time.Time { return c.now }

// Steps is the number of steps run.
func (c *Cluster) Steps() int64 { return c.step }

// Undeliverable counts messages addressed to no node of the cluster.
func (c *Cluster) Undeliverable() int { return c.undeliv }

// At schedules f to run at the start of the first step at or after t.
// An error from f stops Step and Run.
func (c *Cluster) At(t time.Time, f func() error) {
	c.evSeq++
	c.events = append(c.events, scheduled{at: t, seq: c.evSeq, f: f})
	sort.SliceStable(c.events, func(i, j int) bool {
		if !c.events[i].at.Equal(c.events[j].at) {
			return c.events[i].at.Before(c.events[j].at)
		}
		return c.events[i].seq < c.events[j].seq
	})
}

// After schedules f to run d after Now().
func (c *Cluster) After(d time.Duration, f func() error) { c.At(c.now.Add(d), f) }

// Input queues tuples for input collections of the node, written as facts
// (`put("k", "v"); kv.peer("n2:1");`); they are added at its next tick.
func (c *Cluster) Input(addr stdlib.Addr, src string) error {
	n := c.byAddr[addr]
	if n == nil {
		return fmt.Errorf("sim: no node %s", addr)
	}
	return n.Input(src)
}

// InputAfter is Input d after Now().
func (c *Cluster) InputAfter(d time.Duration, addr stdlib.Addr, src string) {
	c.After(d, func() error { return c.Input(addr, src) })
}

func (c *Cluster) emit(ev Event) {
	if c.opts.Trace == nil {
		return
	}
	ev.Step, ev.Time = c.step, c.now
	if ev.Env.Msg.Coll != "" && ev.Msg == "" {
		ev.Msg = c.formatMsg(ev.Env.Msg)
	}
	c.opts.Trace(ev)
}

func (c *Cluster) formatMsg(m runtime.Message) string {
	for _, n := range c.nodes {
		if coll := n.plan.ByName[m.Coll]; coll != nil {
			return stdlib.FormatTuple(m.Coll, coll.Types, m.Tuple)
		}
	}
	return fmt.Sprintf("%s%v", m.Coll, m.Tuple)
}

// send hands a tick's messages to the network in a canonical order.
func (c *Cluster) send(from *Node, msgs []runtime.Message) {
	type keyed struct {
		k string
		m runtime.Message
	}
	ks := make([]keyed, len(msgs))
	for i, m := range msgs {
		k := string(m.To) + "\x00" + m.Coll + "\x00"
		if coll := from.plan.ByName[m.Coll]; coll != nil {
			k += stdlib.TupleKey(coll.Types, m.Tuple)
		}
		ks[i] = keyed{k, m}
	}
	sort.SliceStable(ks, func(i, j int) bool { return ks[i].k < ks[j].k })
	for _, km := range ks {
		c.seq++
		e := Envelope{Seq: c.seq, From: from.Addr, Msg: km.m, Sent: c.now}
		c.emit(Event{Kind: EvSend, Node: from.Addr, Env: e})
		c.net.Send(e)
	}
}

func (n *Node) timerDue(t time.Time) bool {
	next, ok := n.Runtime.NextTimer()
	return ok && !next.After(t.Add(n.Skew))
}

// nextEvent is the earliest time something is scheduled to happen
// (messages, timers, callbacks), ignoring node work.
func (c *Cluster) nextEvent() (time.Time, bool) {
	var best time.Time
	found := false
	consider := func(t time.Time) {
		if !found || t.Before(best) {
			best, found = t, true
		}
	}
	if len(c.events) > 0 {
		consider(c.events[0].at)
	}
	if d, ok := c.net.NextDue(); ok {
		consider(d)
	}
	for _, n := range c.nodes {
		if t, ok := n.Runtime.NextTimer(); ok {
			consider(t.Add(-n.Skew))
		}
	}
	return best, found
}

// nextStepTime is when the next step runs, false when nothing can happen
// any more: the earliest event (a message due, a timer, a callback), or one
// Quantum after the last step when a node has work, whichever comes first.
func (c *Cluster) nextStepTime() (time.Time, bool) {
	t, ok := c.nextEvent()
	if ok && c.step > 0 && !t.After(c.now) {
		t = c.next // a callback scheduled in the past
	}
	for _, n := range c.nodes {
		if n.Runtime.HasWork() {
			if !ok || c.next.Before(t) {
				t, ok = c.next, true
			}
			break
		}
	}
	return t, ok
}

// Step runs one step (see the package documentation). It returns false
// when nothing can happen any more: no node has work, no message is in
// flight, and there is no timer and no scheduled callback.
func (c *Cluster) Step() (bool, error) {
	t, ok := c.nextStepTime()
	if !ok {
		return false, nil
	}
	c.now = t
	c.next = t.Add(c.opts.Quantum)
	c.step++
	// 1. Scheduled callbacks.
	for len(c.events) > 0 && !c.events[0].at.After(t) {
		ev := c.events[0]
		c.events = c.events[1:]
		if err := ev.f(); err != nil {
			return true, err
		}
	}
	// 2. Deliveries.
	for _, e := range c.net.Due(t) {
		n := c.byAddr[e.To()]
		if n == nil {
			c.undeliv++
			c.emit(Event{Kind: EvDrop, Node: e.To(), Env: e, Note: "no such node"})
			continue
		}
		if err := n.Runtime.Deliver(e.Msg); err != nil {
			n.Errors = append(n.Errors, err)
			c.emit(Event{Kind: EvError, Node: n.Addr, Env: e, Err: err})
			if !c.opts.KeepGoing {
				return true, &TickError{Node: n.Addr, Step: c.step, Err: err}
			}
			continue
		}
		c.emit(Event{Kind: EvDeliver, Node: n.Addr, Env: e})
	}
	// 3. Ticks.
	for _, n := range c.nodes {
		if !n.Runtime.HasWork() && !n.timerDue(t) {
			continue
		}
		n.Clock.Set(t.Add(n.Skew))
		err := n.Runtime.Tick()
		if err != nil {
			n.Errors = append(n.Errors, err)
			c.emit(Event{Kind: EvError, Node: n.Addr, Err: err})
			if !c.opts.KeepGoing {
				return true, &TickError{Node: n.Addr, Step: c.step, Err: err}
			}
			continue
		}
		c.emit(Event{Kind: EvTick, Node: n.Addr, Note: fmt.Sprintf("tick %d", n.Runtime.TickCount())})
	}
	return true, nil
}

// Quiescent reports whether no node has work, no message is in flight and
// no callback is scheduled. Periodic timers are not counted.
func (c *Cluster) Quiescent() bool {
	if len(c.events) > 0 || c.net.Pending() > 0 {
		return false
	}
	for _, n := range c.nodes {
		if n.Runtime.HasWork() {
			return false
		}
	}
	return true
}

// Run steps the cluster until until() holds (checked before every step),
// or, when until is nil, until it is quiescent. It returns the number of
// steps run, and ErrStepLimit when maxSteps (> 0) steps ran first,
// ErrStuck when until() can no longer become true, or a step's error.
func (c *Cluster) Run(until func() bool, maxSteps int) (int, error) {
	steps := 0
	for {
		if until != nil && until() || until == nil && c.Quiescent() {
			return steps, nil
		}
		if maxSteps > 0 && steps >= maxSteps {
			return steps, ErrStepLimit
		}
		ok, err := c.Step()
		if err != nil {
			return steps + 1, err
		}
		if !ok {
			if until == nil {
				return steps, nil
			}
			return steps, ErrStuck
		}
		steps++
	}
}

// RunFor runs every step due within d of virtual time from Now(), timers
// included, and leaves Now() at the end of the interval. maxSteps (> 0)
// bounds the steps (ErrStepLimit).
func (c *Cluster) RunFor(d time.Duration, maxSteps int) (int, error) {
	return c.RunUntil(c.now.Add(d), maxSteps)
}

// RunUntil is RunFor up to the virtual time end.
func (c *Cluster) RunUntil(end time.Time, maxSteps int) (int, error) {
	steps := 0
	for {
		t, ok := c.nextStepTime()
		if !ok || t.After(end) {
			if end.After(c.now) {
				c.now = end
				if c.next.Before(end) {
					c.next = end
				}
			}
			return steps, nil
		}
		if maxSteps > 0 && steps >= maxSteps {
			return steps, ErrStepLimit
		}
		if _, err := c.Step(); err != nil {
			return steps + 1, err
		}
		steps++
	}
}

// Input queues tuples for the node's input collections, written as facts.
func (n *Node) Input(src string) error {
	facts, err := n.plan.FactsFromSource(string(n.Addr)+" input", []byte(src))
	if err != nil {
		return err
	}
	for _, f := range facts {
		if err := n.Runtime.Enqueue(n.plan.Colls[f.Coll].Name, runtime.Tuple(f.Tuple)); err != nil {
			return fmt.Errorf("node %s: %v", n.Addr, err)
		}
	}
	return nil
}

// Plan is the node's plan (with its own facts).
func (n *Node) Plan() *compiler.Plan { return n.plan }

// Strings returns a collection's tuples in fact syntax, sorted; nil for an
// unknown collection.
func (n *Node) Strings(coll string) []string {
	c := n.plan.ByName[coll]
	if c == nil {
		return nil
	}
	ts, _ := n.Runtime.Contents(coll)
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = stdlib.FormatTuple(coll, c.Types, t)
	}
	return out
}

// Dump returns the listed collections (every non-transient collection
// when none is given) in fact syntax, one tuple a line, sorted, in the
// order given.
func (n *Node) Dump(colls ...string) string {
	if len(colls) == 0 {
		for _, c := range n.plan.Colls {
			if !c.Transient {
				colls = append(colls, c.Name)
			}
		}
	}
	var b strings.Builder
	for _, coll := range colls {
		if n.plan.ByName[coll] == nil {
			fmt.Fprintf(&b, "%s: no such collection\n", coll)
			continue
		}
		for _, s := range n.Strings(coll) {
			b.WriteString(s)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Published returns every tuple published so far in an output collection
// of the node, in fact syntax, tick after tick (sorted within a tick).
func (n *Node) Published(coll string) []string { return slices.Clone(n.published[coll]) }

// Converged reports whether every node holds the same tuples in each of
// the collections (every non-transient collection when none is given).
func (c *Cluster) Converged(colls ...string) bool {
	if len(c.nodes) == 0 {
		return true
	}
	first := c.nodes[0].Dump(colls...)
	for _, n := range c.nodes[1:] {
		if n.Dump(colls...) != first {
			return false
		}
	}
	return true
}

// Diff describes how the nodes' collections differ: for every tuple not
// held by all nodes, which nodes hold it. It is "" when they converged.
func (c *Cluster) Diff(colls ...string) string {
	holders := map[string][]stdlib.Addr{}
	var order []string
	for _, n := range c.nodes {
		for _, line := range strings.Split(strings.TrimSuffix(n.Dump(colls...), "\n"), "\n") {
			if line == "" {
				continue
			}
			if _, ok := holders[line]; !ok {
				order = append(order, line)
			}
			holders[line] = append(holders[line], n.Addr)
		}
	}
	sort.Strings(order)
	var b strings.Builder
	for _, line := range order {
		if len(holders[line]) == len(c.nodes) {
			continue
		}
		fmt.Fprintf(&b, "%s only at %v\n", line, holders[line])
	}
	return b.String()
}

// Fingerprint hashes the non-transient state of every node (with its
// address), for comparing the outcomes of runs.
func (c *Cluster) Fingerprint() uint64 {
	h := fnv.New64a()
	for _, n := range c.nodes {
		fmt.Fprintf(h, "%s\n%s", n.Addr, n.Dump())
	}
	return h.Sum64()
}

// Outcomes groups the seeds of an exploration by outcome.
type Outcomes struct {
	// BySeed is the outcome of each seed.
	BySeed map[uint64]string
	// Groups lists each distinct outcome with its seeds, outcomes in the
	// order first seen.
	Groups []OutcomeGroup
}

// OutcomeGroup is one distinct outcome and the seeds that produced it.
type OutcomeGroup struct {
	Outcome string
	Seeds   []uint64
}

// Explore runs trial once per seed and groups the seeds by the outcome it
// returns (any string: a dump, a verdict). An error stops the exploration.
func Explore(seeds []uint64, trial func(seed uint64) (string, error)) (*Outcomes, error) {
	o := &Outcomes{BySeed: map[uint64]string{}}
	idx := map[string]int{}
	for _, s := range seeds {
		out, err := trial(s)
		if err != nil {
			return o, fmt.Errorf("seed %d: %w", s, err)
		}
		o.BySeed[s] = out
		i, ok := idx[out]
		if !ok {
			i = len(o.Groups)
			idx[out] = i
			o.Groups = append(o.Groups, OutcomeGroup{Outcome: out})
		}
		o.Groups[i].Seeds = append(o.Groups[i].Seeds, s)
	}
	return o, nil
}

// Seeds returns the seeds from, from+1, ..., from+n-1.
func Seeds(from uint64, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = from + uint64(i)
	}
	return out
}
