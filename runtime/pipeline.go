package runtime

import (
	"fmt"
	goruntime "runtime"
	"slices"

	"github.com/bloomlang/bloom/compiler"
)

// Pipelined evaluation puts the second core to work. A large semi-naive
// round of a kernel rule splits between two goroutines: a worker runs the
// joins and sorts what they derive into batches, while the node's
// goroutine inserts the batches into the head relation. The profiles of
// the closure benchmarks show the two halves of about equal cost.
//
// It is safe because the worker only reads, and reads nothing the inserts
// write: it is used only when no step but the first (the delta scan)
// reads the head relation and the head does not merge in place; the
// delta rows are read through a snapshot of the head's chunk list (rows
// are appended beyond them, never moved); and every index the worker
// probes is brought up to date before it starts.

// pipelineMin is the smallest delta, in rows, worth a second goroutine.
const pipelineMin = 4096

// kbatch is a sorted batch of derived rows and their key hashes.
type kbatch struct {
	rows   []uint64
	hashes []uint32
}

// pipe connects a worker to the node's goroutine: full carries batches
// to insert, free returns them for reuse.
type pipe struct {
	full, free chan *kbatch
	cur        *kbatch // the batch the worker fills
}

// pipelined returns the worker's copy of steps when this evaluation of kr
// should be pipelined, or nil.
func (k *kexec) pipelined(kr *krule, steps []*kstep) []*kstep {
	if k.pipe != nil || k.noPipeline || len(steps) < 2 || goruntime.GOMAXPROCS(0) < 2 {
		return nil
	}
	first := steps[0]
	if first.kind != compiler.Scan || !first.delta || kr.head.coll.Merge {
		return nil
	}
	if d := k.deltas[first.coll]; d.to-d.from+len(d.extra) < pipelineMin {
		return nil
	}
	for _, st := range steps[1:] {
		if st.rel == kr.head {
			return nil
		}
	}
	if kr.worker == nil {
		kr.worker = map[*kstep][]*kstep{}
	}
	ws := kr.worker[first]
	if ws == nil {
		for _, st := range steps {
			c := *st
			c.probe = make([]uint64, len(st.probe))
			c.ix = ixCache{}
			ws = append(ws, &c)
		}
		kr.worker[first] = ws
	}
	return ws
}

// evalPipelined is eval with the joins on a worker goroutine.
func (k *kexec) evalPipelined(kr *krule, ws []*kstep) error {
	// Bring every index the worker will probe up to date now: from here
	// on, until the worker is done, only the head changes.
	for _, st := range ws[1:] {
		if (st.kind == compiler.Scan || st.kind == compiler.AntiJoin) && len(st.cols) > 0 && !st.point {
			st.ix = ixCache{ix: st.rel.indexRows(st.cols), gen: st.rel.ixGen}
		}
	}
	kw := k.worker
	if kw == nil {
		kw = &kexec{ev: k.ev}
		k.worker = kw
	}
	kw.rule, kw.sortRows = kr, k.sortRows
	kw.env = slices.Grow(kw.env[:0], kr.rp.NVars)[:kr.rp.NVars]
	kw.deltas = append(kw.deltas[:0], k.deltas...)
	first := ws[0]
	rel := first.rel
	kw.deltas[first.coll].view = &rowStore{width: rel.width, chunks: slices.Clone(rel.store.chunks), n: rel.store.n}
	kw.firings = 0
	p := &pipe{full: make(chan *kbatch, 1), free: make(chan *kbatch, 2)}
	p.free <- &k.batches[0]
	p.free <- &k.batches[1]
	kw.pipe = p

	var workerErr error
	go func() {
		defer close(p.full)
		defer func() {
			if r := recover(); r != nil {
				workerErr = fmt.Errorf("internal error in a kernel worker: %v", r)
			}
		}()
		p.cur = <-p.free
		kw.pend, kw.pendHash = p.cur.rows[:0], p.cur.hashes[:0]
		if err := kw.run(ws, 0); err != nil {
			workerErr = err
		}
		if len(kw.pendHash) > 0 {
			kw.handOff()
		}
	}()
	var err error
	for b := range p.full {
		if err == nil {
			err = k.insertBatch(kr, b.rows, b.hashes)
		}
		p.free <- b
	}
	// The worker has finished (it closed full).
	kw.pipe = nil
	kw.pend, kw.pendHash = nil, nil
	k.ev.firings += kw.firings
	if workerErr != nil && err == nil {
		err = &RuntimeError{Pos: kr.rp.Pos.String(), Err: workerErr, Rule: kr.rp.Info.Rule.Head.QualName()}
	}
	return err
}

// handOff sends the worker's buffered rows, sorted, to be inserted and
// continues with a free batch.
func (k *kexec) handOff() {
	k.sortPend()
	p := k.pipe
	p.cur.rows, p.cur.hashes = k.pend, k.pendHash
	p.full <- p.cur
	p.cur = <-p.free
	k.pend, k.pendHash = p.cur.rows[:0], p.cur.hashes[:0]
}
