package runtime

import (
	"errors"
	"fmt"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/stdlib"
)

// Store keeps a node's durable collections (`durable table`, `durable
// lattice`) across process restarts. The runtime knows nothing of how;
// package storage implements it on badger.
//
// A node with a Store (see UseStore) commits, at the end of every
// successful tick and before it publishes outputs, sends messages or
// lets a client's send be acknowledged, the tick's changes to durable
// collections and the durable part of its pending next-tick changes, in
// one atomic Commit (output commit). A tick that changes nothing durable
// commits nothing.
type Store interface {
	// Load checks the stored schema against plan (an incompatible
	// change is an error naming the collection and the change; new
	// durable collections are accepted and recorded) and returns the
	// stored state.
	Load(plan *compiler.Plan) (*Snapshot, error)
	// Commit writes one tick's durable changes atomically: all of them
	// or, on error, none.
	Commit(c *TickCommit) error
	// Close releases the store.
	Close() error
}

// Snapshot is the state a Store holds: what a restarted node resumes from.
type Snapshot struct {
	// Tick is the tick counter as of the last commit (see TickCommit).
	Tick int64
	// FactsDone is set once the tick that inserted the program's facts
	// has committed: facts are never inserted a second time.
	FactsDone bool
	// Colls holds the tuples of each durable collection, by name.
	Colls map[string][]Tuple
	// Pending are the next-tick changes to durable collections queued by
	// the last committed tick, in the order the rules queued them.
	Pending []PendingChange
}

// PendingChange is a next-tick change (<+, <- or <+-) to a durable
// collection.
type PendingChange struct {
	Op    lang.Op // lang.OpNext, lang.OpDelete or lang.OpUpsert
	Coll  string
	Tuple Tuple
}

// TickCommit is what one tick changed in durable state.
type TickCommit struct {
	Tick      int64
	FactsDone bool
	// Changes has at most one entry per collection and key: the tuple
	// now stored under the key, or (Delete) a tuple carrying a key that
	// no longer has one.
	Changes []Change
	// When PendingChanged, Pending replaces the stored pending changes
	// (an empty Pending clears them); otherwise they stay as they are.
	PendingChanged bool
	Pending        []PendingChange
}

// Change is the new state of one key of a durable collection.
type Change struct {
	Coll   *compiler.Coll
	Tuple  Tuple
	Delete bool
}

// StorageError is a failure to write durable state. The tick that hit it
// failed (and changed nothing, in memory or on disk) and the node is
// halted: every later Tick returns the same error.
type StorageError struct {
	Tick int64
	Err  error
}

func (e *StorageError) Error() string {
	return fmt.Sprintf("tick %d: durable state could not be committed, node stopped: %v", e.Tick, e.Err)
}

func (e *StorageError) Unwrap() error { return e.Err }

// errStoreClosed halts a node whose store was closed.
var errStoreClosed = errors.New("the node's durable store is closed")

// durableState is a node's link to its Store.
type durableState struct {
	store Store
	// halt is set by a failed commit (or CloseStore): the node stops.
	halt error
	// What the store holds: whether it has pending changes, whether the
	// facts tick committed, and the tick counter of the last commit.
	storedPending bool
	storedFacts   bool
	storedTick    int64
}

// RestoreInfo describes what UseStore restored.
type RestoreInfo struct {
	Tick      int64
	FactsDone bool
	Tuples    map[string]int // durable collection -> tuples restored
	Pending   int
	// SkippedFacts lists the non-durable collections that have facts in
	// the program: a restarted node does not insert facts again, so
	// these start empty (their tick-1 contents were not persisted).
	SkippedFacts []string
}

// UseStore makes s the node's durable store: it loads the stored state
// (durable collections, pending changes, the tick counter and whether the
// facts were inserted) into the node, and from then on every tick commits
// its durable changes to s before publishing anything. Call it once,
// before the first tick. Scratch-like and non-durable collections start
// empty, as after any start.
func (n *Node) UseStore(s Store) (*RestoreInfo, error) {
	if n.dur != nil || n.tick > 0 {
		return nil, errors.New("UseStore: the node already has a store or has run ticks")
	}
	snap, err := s.Load(n.plan)
	if err != nil {
		return nil, err
	}
	info := &RestoreInfo{Tick: snap.Tick, FactsDone: snap.FactsDone, Tuples: map[string]int{}, Pending: len(snap.Pending)}
	for name, ts := range snap.Colls {
		c := n.plan.ByName[name]
		if c == nil || !c.Info.Durable {
			return nil, fmt.Errorf("store returned tuples of %s, which is not a durable collection of the program", name)
		}
		for _, t := range ts {
			if len(t) != len(c.Types) {
				return nil, fmt.Errorf("restoring %s: stored tuple has %d columns, want %d", name, len(t), len(c.Types))
			}
			if err := n.insert(c.ID, t, lang.Pos{}); err != nil {
				return nil, fmt.Errorf("restoring %s: %w", name, err)
			}
		}
		info.Tuples[name] = n.rels[c.ID].len()
	}
	var pending []pendingOp
	for _, p := range snap.Pending {
		c := n.plan.ByName[p.Coll]
		if c == nil || !c.Info.Durable || len(p.Tuple) != len(c.Types) {
			return nil, fmt.Errorf("store returned a pending change to %s that does not fit the program", p.Coll)
		}
		pending = append(pending, pendingOp{op: p.Op, coll: c.ID, t: p.Tuple})
	}
	n.pending = append(pending, n.pending...)
	n.tick = snap.Tick
	n.factsDone = snap.FactsDone
	if snap.FactsDone {
		seen := map[int]bool{}
		colls := make([]int, 0, len(n.plan.Facts)+len(n.plan.FactRows))
		for _, f := range n.plan.Facts {
			colls = append(colls, f.Coll)
		}
		for _, b := range n.plan.FactRows {
			colls = append(colls, b.Coll)
		}
		for _, id := range colls {
			if c := n.plan.Colls[id]; !c.Info.Durable && !seen[id] {
				seen[id] = true
				info.SkippedFacts = append(info.SkippedFacts, c.Name)
			}
		}
	}
	n.dur = &durableState{store: s, storedPending: len(snap.Pending) > 0, storedFacts: snap.FactsDone, storedTick: snap.Tick}
	return info, nil
}

// CloseStore records the tick counter if ticks ran since the last commit
// (ticks with no durable change commit nothing, so after a crash the
// counter resumes from the last tick that changed durable state) and
// closes the store. Later ticks fail. Without a store it does nothing.
func (n *Node) CloseStore() error {
	d := n.dur
	if d == nil {
		return nil
	}
	var err error
	if d.halt == nil && n.tick > d.storedTick {
		// Ticks after the last commit changed nothing durable, so the
		// stored pending changes and facts flag are still right.
		err = d.store.Commit(&TickCommit{Tick: n.tick, FactsDone: d.storedFacts})
	}
	if cerr := d.store.Close(); err == nil {
		err = cerr
	}
	if d.halt == nil {
		d.halt = errStoreClosed
	}
	return err
}

// Halted returns the error that stopped the node (a failed commit, or a
// closed store), or nil while it can run.
func (n *Node) Halted() error {
	if n.dur == nil {
		return nil
	}
	return n.dur.halt
}

// commitDurable is called by Tick after a successful evaluation, with the
// next tick's (effective) pending changes, while the undo log still holds
// the tick's changes. It commits the changes to durable collections and
// the durable pending changes in one Store.Commit. A tick with no durable
// change (and no stored pending change to clear) costs one pass over the
// undo log and no transaction. On failure the node halts.
func (n *Node) commitDurable(next []pendingOp) error {
	d := n.dur
	if d.halt != nil {
		return d.halt
	}
	changes := n.durableChanges()
	var pend []PendingChange
	for _, p := range next {
		if c := n.plan.Colls[p.coll]; c.Info.Durable {
			pend = append(pend, PendingChange{Op: p.op, Coll: c.Name, Tuple: p.t})
		}
	}
	pendingChanged := len(pend) > 0 || d.storedPending
	if len(changes) == 0 && !pendingChanged && d.storedFacts {
		return nil
	}
	c := &TickCommit{Tick: n.tick, FactsDone: true, Changes: changes, PendingChanged: pendingChanged, Pending: pend}
	if err := d.store.Commit(c); err != nil {
		d.halt = &StorageError{Tick: n.tick, Err: err}
		return d.halt
	}
	d.storedPending = len(pend) > 0
	d.storedFacts = true
	d.storedTick = n.tick
	return nil
}

// touchedRel collects the keys of one durable relation that the tick
// changed.
type touchedRel struct {
	keys     map[string]Tuple // key encoding -> a tuple with that key
	order    []string
	appendAt int32 // first position appended this tick, -1 if none
	rescan   bool  // positions moved after appends: rescan every tuple
}

func (tr *touchedRel) touch(c *compiler.Coll, t Tuple, buf *[]byte) {
	b := (*buf)[:0]
	for _, k := range c.Key {
		b = stdlib.AppendKey(b, c.Types[k], t[k])
	}
	*buf = b
	if _, ok := tr.keys[string(b)]; ok {
		return
	}
	k := string(b)
	tr.keys[k] = t
	tr.order = append(tr.order, k)
}

// durableChanges derives from the undo log the keys of durable
// collections that the tick touched, and returns the final state of each
// (the stored tuple, or a delete). It relies only on what the log
// records: appends as a truncation mark, and the old tuple of each
// replace and remove (and of a clear).
func (n *Node) durableChanges() []Change {
	var touched []*touchedRel // by collection ID, allocated on first use
	var buf []byte
	get := func(r *relation) *touchedRel {
		if touched == nil {
			touched = make([]*touchedRel, len(n.rels))
		}
		tr := touched[r.coll.ID]
		if tr == nil {
			tr = &touchedRel{keys: map[string]Tuple{}, appendAt: -1}
			touched[r.coll.ID] = tr
		}
		return tr
	}
	for _, e := range n.undo.entries {
		r := e.rel
		if !r.coll.Info.Durable {
			continue
		}
		tr := get(r)
		switch e.kind {
		case undoAppends:
			if tr.appendAt < 0 || e.at < tr.appendAt {
				tr.appendAt = e.at
			}
		case undoReplace:
			tr.touch(r.coll, e.old, &buf)
		case undoRemove:
			tr.touch(r.coll, e.old, &buf)
			if tr.appendAt >= 0 {
				// A remove after appends may move an appended tuple
				// below the mark (the engine removes before it
				// inserts, so this is a safety net).
				tr.rescan = true
			}
		case undoClear:
			for _, t := range n.undo.cleared[e.clr].tuples {
				tr.touch(r.coll, t, &buf)
			}
			tr.rescan = true
		default:
			// An entry kind this code does not know: be safe.
			tr.rescan = true
		}
	}
	var out []Change
	for id, tr := range touched {
		if tr == nil {
			continue
		}
		r := n.rels[id]
		ts := r.tuples
		switch {
		case tr.rescan:
			for _, t := range ts {
				tr.touch(r.coll, t, &buf)
			}
		case tr.appendAt >= 0 && int(tr.appendAt) <= len(ts):
			for _, t := range ts[tr.appendAt:] {
				tr.touch(r.coll, t, &buf)
			}
		}
		for _, k := range tr.order {
			t := tr.keys[k]
			if cur := r.get(t); cur != nil {
				out = append(out, Change{Coll: r.coll, Tuple: cur})
			} else {
				out = append(out, Change{Coll: r.coll, Tuple: t, Delete: true})
			}
		}
	}
	return out
}
