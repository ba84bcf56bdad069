package runtime

import (
	"slices"

	"github.com/bloomlang/bloom/compiler"
)

// The word kernel evaluates a component whose rules read and write only
// packed relations and whose expressions all have word forms
// (compiler.Expr.Word): variables live in a []uint64, joins compare words
// and derived rows are copied into the head's flat storage, so a closure
// runs without boxing a value or allocating a tuple. Its results are the
// boxed evaluator's exactly; the conformance and differential tests run
// both, because which one runs is decided per component by kernelFor.

// kstep is a compiler.Step bound to the node's relations, with constants
// packed.
type kstep struct {
	kind  compiler.StepKind
	rel   *relation
	coll  int
	delta bool
	cols  []int    // the lookup columns
	slots []int    // per lookup column: the variable slot, or -1
	konst []uint64 // per lookup column: the constant when slots[j] < 0
	probe []uint64 // scratch: the lookup values of the current binding
	binds []compiler.ColSlot
	same  []compiler.ColSlot
	word  func([]uint64) uint64
	slot  int
	point bool // the lookup columns are the key: at most one row
	ix    ixCache
}

// krule is a rule compiled for the kernel.
type krule struct {
	rp       *compiler.RulePlan
	head     *relation
	headCols []func([]uint64) uint64
	// headVars has each head column's variable slot when every head
	// column is a plain variable, else nil.
	headVars []int
	// worker has the pipeline worker's copies of a variant's steps, by
	// the variant's first step (pipeline.go).
	worker     map[*kstep][]*kstep
	body       []*kstep
	deltas     [][]*kstep
	atomDeltas [][]*kstep
}

// kcomp is a component compiled for the kernel.
type kcomp struct {
	// rels are the relations the rules read and write: the kernel runs
	// only while all of them are packed (relation.demote).
	rels  []*relation
	rules []*krule
	first []*krule // the rules in firstRoundOrder
}

// kernelFor compiles comp for the kernel, or returns nil when some rule
// needs the boxed evaluator.
func (n *Node) kernelFor(comp *compiler.Component) *kcomp {
	kc := &kcomp{}
	for _, rp := range comp.Rules {
		if rp.Agg != nil || !n.rels[rp.Head].packed() {
			return nil
		}
		kr := &krule{rp: rp, head: n.rels[rp.Head]}
		for _, e := range rp.HeadCols {
			if e == nil || e.Word == nil {
				return nil
			}
			kr.headCols = append(kr.headCols, e.Word)
			kr.headVars = append(kr.headVars, e.VarSlot-1)
		}
		if slices.Contains(kr.headVars, -1) {
			kr.headVars = nil
		}
		var ok bool
		if kr.body, ok = n.ksteps(rp.Body); !ok {
			return nil
		}
		for _, v := range rp.Deltas {
			ks, ok := n.ksteps(v)
			if !ok {
				return nil
			}
			kr.deltas = append(kr.deltas, ks)
		}
		for _, v := range rp.AtomDeltas {
			ks, ok := n.ksteps(v)
			if !ok {
				return nil
			}
			kr.atomDeltas = append(kr.atomDeltas, ks)
		}
		kc.rules = append(kc.rules, kr)
		kc.rels = append(kc.rels, kr.head)
		for _, steps := range append(append([][]*kstep{kr.body}, kr.deltas...), kr.atomDeltas...) {
			for _, st := range steps {
				if st.rel != nil {
					kc.rels = append(kc.rels, st.rel)
				}
			}
		}
	}
	for _, rp := range firstRoundOrder(comp.Rules) {
		kc.first = append(kc.first, kc.rules[slices.Index(comp.Rules, rp)])
	}
	return kc
}

func (n *Node) ksteps(steps []*compiler.Step) ([]*kstep, bool) {
	var out []*kstep
	for _, st := range steps {
		k := &kstep{kind: st.Kind, coll: st.Coll, slot: st.Slot}
		switch st.Kind {
		case compiler.Filter, compiler.Assign:
			if st.Expr == nil || st.Expr.Word == nil {
				return nil, false
			}
			k.word = st.Expr.Word
		case compiler.Scan, compiler.AntiJoin:
			rel := n.rels[st.Coll]
			if !rel.packed() {
				return nil, false
			}
			k.rel, k.delta = rel, st.Source == compiler.Delta
			k.cols, k.binds, k.same = st.Lookup, st.Binds, st.Same
			for j, c := range st.Lookup {
				op := st.LookupOp[j]
				k.slots = append(k.slots, op.Slot)
				var w uint64
				if op.Slot < 0 {
					var ok bool
					if w, ok = rel.packWord(rel.coll.Types[c], op.Const, true); !ok {
						return nil, false
					}
				}
				k.konst = append(k.konst, w)
			}
			k.probe = make([]uint64, len(st.Lookup))
			k.point = sameCols(st.Lookup, rel.coll.Key)
		default:
			return nil, false
		}
		out = append(out, k)
	}
	return out, true
}

// kexec runs kernel rules; one serves a whole component evaluation.
type kexec struct {
	ev   *evaluator
	env  []uint64
	rule *krule
	// deltas holds the rows each delta scan reads, by collection: a
	// relation's rows are only appended while a component is evaluated,
	// so what a round added is a range of them, plus the rows before the
	// range that a lattice merge grew.
	deltas []rowDelta
	// start and grown are evalKernel's per-collection round marks.
	start, grown []int
	// The rows the current rule derived and has not inserted yet, their
	// key hashes, and scratch for sorting them (see flush).
	pend, sorted []uint64
	pendHash     []uint32
	sortedHash   []uint32
	// firings counts emitted bindings (added to the evaluator's count
	// by the goroutine that owns it).
	firings int64
	// sortRows is set when the current rule's head is large enough for
	// sorted inserts to pay (sortTableMin), as of the evaluation's start:
	// a pipeline's worker must not read the head while it grows.
	sortRows bool
	// pipe is set in the worker of a pipelined evaluation (pipeline.go).
	pipe *pipe
	// worker is the node goroutine's pipeline worker, and batches the
	// two buffers they pass between them; noPipeline turns pipelining
	// off (Options.NoPipeline).
	worker     *kexec
	batches    [2]kbatch
	noPipeline bool
}

// flushAt is how many derived rows are buffered before they are inserted.
// A batch is inserted in hash order, which is slot order (hashtab.go), so
// the inserts sweep the table instead of missing the cache at random. The
// bigger the batch, the denser the sweep: 128K rows (2 MB of a two-column
// relation, twice that with the sort's copy) measured 10-15% faster than
// 32K on the closure benchmarks.
const flushAt = 1 << 17

// sortTableMin is the head size, in rows, from which derived rows are
// sorted before they are inserted. A smaller table (64K rows: 1 MiB of
// slots at most) stays in the cache, so inserting in hash order buys
// nothing and the sort's copy of the batch is memory for nothing: it was
// a tenth of shortest paths' peak.
const sortTableMin = 1 << 16

func (k *kexec) eval(kr *krule, steps []*kstep) error {
	k.rule = kr
	k.sortRows = kr.head.pos.n >= sortTableMin
	if cap(k.env) < kr.rp.NVars {
		k.env = make([]uint64, kr.rp.NVars)
	}
	k.env = k.env[:kr.rp.NVars]
	if ws := k.pipelined(kr, steps); ws != nil {
		return k.evalPipelined(kr, ws)
	}
	k.firings = 0
	err := k.run(steps, 0)
	k.ev.firings += k.firings
	if err != nil {
		k.pend, k.pendHash = k.pend[:0], k.pendHash[:0]
		return err
	}
	return k.flush()
}

// flush inserts the buffered rows of the current rule in the order of
// the top 16 bits of their hashes (two counting-sort passes of 8 bits).
func (k *kexec) flush() error {
	if len(k.pendHash) == 0 {
		return nil
	}
	k.sortPend()
	err := k.insertBatch(k.rule, k.pend, k.pendHash)
	k.pend, k.pendHash = k.pend[:0], k.pendHash[:0]
	return err
}

// sortPend orders the buffered rows by the top 16 bits of their hashes.
func (k *kexec) sortPend() {
	n := len(k.pendHash)
	if n < 1024 || !k.sortRows {
		return
	}
	w := len(k.rule.headCols)
	rows, hashes := k.pend, k.pendHash
	k.sorted = slices.Grow(k.sorted[:0], len(rows))[:len(rows)]
	k.sortedHash = slices.Grow(k.sortedHash[:0], n)[:n]
	// LSD: by bits 16-23 into sorted, then by bits 24-31 back.
	radixPass(rows, hashes, k.sorted, k.sortedHash, w, 16)
	radixPass(k.sorted, k.sortedHash, rows, hashes, w, 24)
}

// insertBatch inserts rows (with their key hashes) into kr's head.
func (k *kexec) insertBatch(kr *krule, rows []uint64, hashes []uint32) error {
	w := len(kr.headCols)
	head := kr.head
	head.pos.reserve(head.pos.n + len(hashes))
	for i, h := range hashes {
		if _, kv := head.insertRowHash(rows[i*w:i*w+w], h); kv != nil {
			return k.ev.n.keyError(kr.rp.Head, kv, kr.rp.Pos)
		}
	}
	return nil
}

// radixPass moves rows of width w and their hashes from src to dst,
// stably ordered by the byte of the hash at shift.
func radixPass(src []uint64, srcHash []uint32, dst []uint64, dstHash []uint32, w int, shift uint) {
	var count [257]int
	for _, h := range srcHash {
		count[(h>>shift)&0xff+1]++
	}
	for i := 1; i < len(count); i++ {
		count[i] += count[i-1]
	}
	// Rows of one or two words move as words: a copy would call memmove
	// for each.
	switch w {
	case 1:
		for i, h := range srcHash {
			b := (h >> shift) & 0xff
			j := count[b]
			count[b]++
			dstHash[j] = h
			dst[j] = src[i]
		}
	case 2:
		for i, h := range srcHash {
			b := (h >> shift) & 0xff
			j := count[b]
			count[b]++
			dstHash[j] = h
			dst[2*j], dst[2*j+1] = src[2*i], src[2*i+1]
		}
	default:
		for i, h := range srcHash {
			b := (h >> shift) & 0xff
			j := count[b]
			count[b]++
			dstHash[j] = h
			copy(dst[j*w:j*w+w], src[i*w:i*w+w])
		}
	}
}

func (k *kexec) emit() error {
	kr := k.rule
	k.firings++
	start := len(k.pend)
	if kr.headVars != nil {
		for _, s := range kr.headVars {
			k.pend = append(k.pend, k.env[s])
		}
	} else {
		for _, f := range kr.headCols {
			k.pend = append(k.pend, f(k.env))
		}
	}
	k.pendHash = append(k.pendHash, rowHash(k.pend[start:], kr.head.coll.Key))
	if k.pipe != nil {
		// A pipeline's worker hands batches of the same size over: a
		// smaller batch overlapped more but swept the table so sparsely
		// that its inserts cost a third more (CPU profile of the random
		// graph's closure), which a busy second core cannot hide.
		if len(k.pendHash) >= flushAt {
			k.handOff()
		}
		return nil
	}
	if len(k.pendHash) >= flushAt {
		return k.flush()
	}
	return nil
}

// bind checks a row against the step's repeated variables and binds its
// new ones, reporting whether the row matches.
func (st *kstep) bind(row, env []uint64) bool {
	for _, b := range st.binds {
		env[b.Slot] = row[b.Col]
	}
	for _, s := range st.same {
		if env[s.Slot] != row[s.Col] {
			return false
		}
	}
	return true
}

func (st *kstep) setProbe(env []uint64) {
	for j, s := range st.slots {
		if s >= 0 {
			st.probe[j] = env[s]
		} else {
			st.probe[j] = st.konst[j]
		}
	}
}

func (k *kexec) run(steps []*kstep, i int) error {
	if i == len(steps) {
		return k.emit()
	}
	st := steps[i]
	env := k.env
	switch st.kind {
	case compiler.Filter:
		if st.word(env) != 0 {
			return k.run(steps, i+1)
		}
		return nil
	case compiler.Assign:
		env[st.slot] = st.word(env)
		return k.run(steps, i+1)
	case compiler.AntiJoin:
		st.setProbe(env)
		found := false
		// As in the boxed evaluator, a negated atom matches on its
		// bound columns alone.
		st.rel.eachMatchCached(st.cols, st.probe, func([]uint64) bool {
			found = true
			return false
		}, &st.ix)
		if found {
			return nil
		}
		return k.run(steps, i+1)
	}
	var err error
	if st.delta {
		d := k.deltas[st.coll]
		store := &st.rel.store
		if d.view != nil {
			store = d.view
		}
		st.setProbe(env)
		each := func(row []uint64) bool {
			if !matchesProbe(row, st.cols, st.probe) {
				return true
			}
			if st.bind(row, env) {
				err = k.run(steps, i+1)
			}
			return err == nil
		}
		store.each(d.from, d.to, each)
		for _, r := range d.extra {
			if err != nil || !each(store.row(r)) {
				break
			}
		}
		return err
	}
	if ix := st.denseIndex(); ix != nil {
		// The usual join on node numbers, without a callback per row:
		// the chain is read from its head as eachMatchCached reads it.
		v := st.konst[0]
		if s := st.slots[0]; s >= 0 {
			v = env[s]
		}
		if d := v - ix.lo; d < uint64(len(ix.dense)) {
			for p := ix.dense[d] - 1; p >= 0; p = ix.next[p] {
				if st.bind(st.rel.row(p), env) {
					if err := k.run(steps, i+1); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	st.setProbe(env)
	st.rel.eachMatchCached(st.cols, st.probe, func(row []uint64) bool {
		if !st.bind(row, env) {
			return true
		}
		err = k.run(steps, i+1)
		return err == nil
	}, &st.ix)
	return err
}

// denseIndex returns the dense index the step probes when its lookup is
// on one column through such an index, cached and up to date; else nil
// (eachMatchCached then builds, extends or hashes).
func (st *kstep) denseIndex() *index {
	ix := st.ix.ix
	if ix == nil || ix.sparse || len(st.cols) != 1 || st.point || st.ix.gen != st.rel.ixGen || ix.built != st.rel.rows() {
		return nil
	}
	return ix
}

// rowDelta is the rows [from, to) of a packed relation and the rows in
// extra.
type rowDelta struct {
	from, to int
	extra    []int32
	// view, when set, is a snapshot of the relation's chunk list to
	// read the rows through: a pipeline's worker reads while the main
	// goroutine appends (pipeline.go).
	view *rowStore
}

// usable reports whether every relation of kc is still packed.
func (kc *kcomp) usable() bool {
	for _, r := range kc.rels {
		if !r.packed() {
			return false
		}
	}
	return true
}

// evalKernel is evalComponent for a component compiled for the kernel.
func (n *Node) evalKernel(ev *evaluator, comp *compiler.Component, kc *kcomp) error {
	// One kexec serves every component and tick, so that a tick with
	// little to do allocates nothing (tick overhead is a benchmark).
	k := n.kx
	if k == nil {
		k = &kexec{deltas: make([]rowDelta, len(n.rels)), start: make([]int, len(n.rels)), grown: make([]int, len(n.rels)), noPipeline: n.opts.NoPipeline}
		n.kx = k
	}
	k.ev = ev
	// Every delta a step reads is set below before it is read; the
	// entries are reset when the component is done (not cleared whole:
	// that cost each component a pass over every collection).
	defer func() {
		for _, c := range comp.Colls {
			k.deltas[c] = rowDelta{}
		}
		for _, kr := range kc.rules {
			for _, c := range kr.rp.AtomDeltaColl {
				k.deltas[c] = rowDelta{}
			}
		}
	}()
	start, grown := k.start, k.grown
	for _, c := range comp.Colls {
		start[c], grown[c] = n.rels[c].rows(), n.rels[c].grownMark()
	}
	if comp.Incremental && n.incremental {
		for _, kr := range kc.rules {
			for _, c := range kr.rp.AtomDeltaColl {
				r := n.rels[c]
				from := r.gainedFrom()
				k.deltas[c] = rowDelta{from: from, to: r.rows(), extra: r.grownSince(0, from)}
			}
		}
		for _, kr := range kc.rules {
			for j, steps := range kr.atomDeltas {
				if d := k.deltas[kr.rp.AtomDeltaColl[j]]; d.from == d.to && len(d.extra) == 0 {
					continue
				}
				if err := k.eval(kr, steps); err != nil {
					return err
				}
			}
		}
	} else {
		for _, kr := range kc.first {
			if err := k.eval(kr, kr.body); err != nil {
				return err
			}
		}
	}
	if !comp.Recursive {
		return nil
	}
	// Semi-naive rounds: each joins what the previous one added.
	for {
		empty := true
		for _, c := range comp.Colls {
			r := n.rels[c]
			now, g := r.rows(), r.grownMark()
			k.deltas[c] = rowDelta{from: start[c], to: now, extra: r.grownSince(grown[c], start[c])}
			if now > start[c] || len(k.deltas[c].extra) > 0 {
				empty = false
			}
			start[c], grown[c] = now, g
		}
		if empty {
			return nil
		}
		for _, kr := range kc.rules {
			if !kr.rp.Recursive {
				continue
			}
			for _, v := range kr.deltas {
				if err := k.eval(kr, v); err != nil {
					return err
				}
			}
		}
	}
}
