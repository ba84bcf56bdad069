package runtime

import (
	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/stdlib"
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
}

// krule is a rule compiled for the kernel.
type krule struct {
	rp         *compiler.RulePlan
	head       *relation
	headCols   []func([]uint64) uint64
	body       []*kstep
	deltas     [][]*kstep
	atomDeltas [][]*kstep
}

// kcomp is a component compiled for the kernel.
type kcomp struct {
	rules []*krule
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
					if w, ok = packConst(rel, c, op); !ok {
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

func packConst(rel *relation, col int, op compiler.Operand) (uint64, bool) {
	return stdlib.PackWord(rel.coll.Types[col], op.Const)
}

// kexec runs kernel rules; one serves a whole component evaluation.
type kexec struct {
	ev      *evaluator
	env     []uint64
	headRow []uint64
	rule    *krule
	// deltas holds the rows each delta scan reads, by collection.
	deltas [][]uint64
	// gained collects the rows that changed a relation (nil: do not).
	gained [][]uint64
}

func (k *kexec) eval(kr *krule, steps []*kstep) error {
	k.rule = kr
	if cap(k.env) < kr.rp.NVars {
		k.env = make([]uint64, kr.rp.NVars)
	}
	k.env = k.env[:kr.rp.NVars]
	if cap(k.headRow) < len(kr.headCols) {
		k.headRow = make([]uint64, len(kr.headCols))
	}
	k.headRow = k.headRow[:len(kr.headCols)]
	return k.run(steps, 0)
}

func (k *kexec) emit() error {
	kr := k.rule
	k.ev.firings++
	for i, f := range kr.headCols {
		k.headRow[i] = f(k.env)
	}
	added, kv := kr.head.insertRow(k.headRow)
	if kv != nil {
		return k.ev.n.keyError(kr.rp.Head, kv, kr.rp.Pos)
	}
	if added && k.gained != nil {
		k.gained[kr.rp.Head] = append(k.gained[kr.rp.Head], k.headRow...)
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
		st.rel.eachMatch(st.cols, st.probe, func([]uint64) bool {
			found = true
			return false
		})
		if found {
			return nil
		}
		return k.run(steps, i+1)
	}
	var err error
	if st.delta {
		w := st.rel.width
		rows := k.deltas[st.coll]
		st.setProbe(env)
	next:
		for o := 0; o+w <= len(rows); o += w {
			row := rows[o : o+w : o+w]
			for j, c := range st.cols {
				if row[c] != st.probe[j] {
					continue next
				}
			}
			if st.bind(row, env) {
				if err = k.run(steps, i+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	st.setProbe(env)
	st.rel.eachMatch(st.cols, st.probe, func(row []uint64) bool {
		if !st.bind(row, env) {
			return true
		}
		err = k.run(steps, i+1)
		return err == nil
	})
	return err
}

// evalKernel is evalComponent for a component compiled for the kernel.
func (n *Node) evalKernel(ev *evaluator, comp *compiler.Component, kc *kcomp) error {
	k := &kexec{ev: ev}
	if comp.Recursive {
		k.gained = make([][]uint64, len(n.rels))
	}
	if comp.Incremental && n.incremental {
		k.deltas = make([][]uint64, len(n.rels))
		for _, kr := range kc.rules {
			for j, steps := range kr.atomDeltas {
				c := kr.rp.AtomDeltaColl[j]
				if k.deltas[c] == nil {
					k.deltas[c] = n.rels[c].gainedRows()
				}
				if len(k.deltas[c]) == 0 {
					continue
				}
				if err := k.eval(kr, steps); err != nil {
					return err
				}
			}
		}
	} else {
		for _, kr := range kc.rules {
			if err := k.eval(kr, kr.body); err != nil {
				return err
			}
		}
	}
	if !comp.Recursive {
		return nil
	}
	next := make([][]uint64, len(n.rels))
	for {
		empty := true
		for _, c := range comp.Colls {
			if len(k.gained[c]) > 0 {
				empty = false
			}
		}
		if empty {
			return nil
		}
		for _, c := range comp.Colls {
			next[c] = next[c][:0]
		}
		k.deltas, k.gained, next = k.gained, next, k.gained
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
