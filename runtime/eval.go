package runtime

import (
	"fmt"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/stdlib"
)

// evaluator runs rule pipelines against the node's relations.
type evaluator struct {
	n      *Node
	ctx    *stdlib.CallContext
	deltas [][]Tuple // per collection: the previous semi-naive round's new tuples
	buf    []byte
	// Firings counts rule bindings that reached the head: the work the
	// engine did, which tests use to check semi-naive evaluation.
	firings int64
}

// RuntimeError is an error raised while evaluating a rule (a division by
// zero, a bad conversion), with the rule's position.
type RuntimeError struct {
	Pos  string
	Err  error
	Rule string
}

func (e *RuntimeError) Error() string {
	return fmt.Sprintf("%s: %v (in rule %s)", e.Pos, e.Err, e.Rule)
}
func (e *RuntimeError) Unwrap() error { return e.Err }

// run enumerates the bindings of steps[i:] and calls emit for each.
func (ev *evaluator) run(steps []*compiler.Step, i int, env []stdlib.Value, emit func([]stdlib.Value) error) error {
	if i == len(steps) {
		return emit(env)
	}
	st := steps[i]
	switch st.Kind {
	case compiler.Filter:
		v, err := st.Expr.Eval(env, ev.ctx)
		if err != nil {
			return err
		}
		if b, _ := v.(bool); b {
			return ev.run(steps, i+1, env, emit)
		}
		return nil
	case compiler.Assign:
		v, err := st.Expr.Eval(env, ev.ctx)
		if err != nil {
			return err
		}
		env[st.Slot] = v
		return ev.run(steps, i+1, env, emit)
	case compiler.AntiJoin:
		rel := ev.n.rels[st.Coll]
		found := false
		ev.scan(rel, st, env, false, func(Tuple) bool {
			found = true
			return false
		})
		if found {
			return nil
		}
		return ev.run(steps, i+1, env, emit)
	}
	// Scan.
	rel := ev.n.rels[st.Coll]
	var err error
	each := func(t Tuple) bool {
		for _, b := range st.Binds {
			env[b.Slot] = t[b.Col]
		}
		for _, s := range st.Same {
			if !stdlib.Equal(rel.coll.Types[s.Col], env[s.Slot], t[s.Col]) {
				return true
			}
		}
		if err = ev.run(steps, i+1, env, emit); err != nil {
			return false
		}
		return true
	}
	if st.Source == compiler.Delta {
		for _, t := range ev.deltas[st.Coll] {
			if ev.matches(rel, st, env, t) && !each(t) {
				break
			}
		}
		return err
	}
	ev.scan(rel, st, env, true, each)
	return err
}

// matches tests a tuple against a step's bound columns.
func (ev *evaluator) matches(rel *relation, st *compiler.Step, env []stdlib.Value, t Tuple) bool {
	for j, c := range st.Lookup {
		op := st.LookupOp[j]
		v := op.Const
		if op.Slot >= 0 {
			v = env[op.Slot]
		}
		if !stdlib.Equal(rel.coll.Types[c], v, t[c]) {
			return false
		}
	}
	return true
}

// scan calls f for each tuple of rel matching the step's bound columns,
// through a hash index when there are any, until f returns false.
func (ev *evaluator) scan(rel *relation, st *compiler.Step, env []stdlib.Value, _ bool, f func(Tuple) bool) {
	if rel.packed() {
		ev.scanPacked(rel, st, env, f)
		return
	}
	if len(st.Lookup) == 0 {
		// Iterate over a snapshot of the length: the relation is not
		// modified during a rule's evaluation (heads are buffered).
		ts := rel.tuples
		for _, t := range ts {
			if !f(t) {
				return
			}
		}
		return
	}
	// Hash the probe values as the relation hashes its columns.
	var h uint64
	for j, c := range st.Lookup {
		op := st.LookupOp[j]
		v := op.Const
		if op.Slot >= 0 {
			v = env[op.Slot]
		}
		h = combine(h, hashValue(rel.coll.Types[c], v, &ev.buf))
	}
	probe := func(p int32) bool { return ev.matches(rel, st, env, rel.tuples[p]) }
	if sameCols(st.Lookup, rel.coll.Key) {
		// A lookup on the whole key is a point lookup.
		if slot, ok := rel.pos.find(uint32(h), probe); ok {
			f(rel.tuples[rel.pos.slots[slot].pos-1])
		}
		return
	}
	ix := rel.index(st.Lookup)
	slot, ok := ix.heads.find(uint32(h), probe)
	if !ok {
		return
	}
	for p := ix.heads.slots[slot].pos - 1; p >= 0; p = ix.next[p] {
		if !f(rel.tuples[p]) {
			return
		}
	}
}

func sameCols(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// newTuple carves a tuple out of a chunk of values: one allocation per
// thousand-odd values instead of one per tuple, which is most of what the
// garbage collector has to track in a large fixpoint.
func (ev *evaluator) newTuple(n int) Tuple {
	c := ev.n.chunk // kept by the node: a tick rarely fills a chunk
	if len(c) < n {
		c = make([]stdlib.Value, max(n, 4096))
	}
	t := c[:n:n]
	ev.n.chunk = c[n:]
	return t
}

// derive evaluates a non-aggregating rule over steps and inserts what it
// derives straight into the head relation, calling gained (unless nil)
// for each tuple that changed it. A binding's head is built in a scratch tuple and only
// copied when the relation does not already hold it: in a recursive
// closure most firings re-derive known tuples, and allocating them all
// (then dropping them) was most of the memory of transitive closure on a
// random graph. Inserting while the rule still runs is safe: scans read a
// snapshot of the tuple slice, index chains only ever grow at their heads,
// and the tuples a rule sees early are ones it would see in the next
// semi-naive round anyway.
func (ev *evaluator) derive(rp *compiler.RulePlan, steps []*compiler.Step, gained func(Tuple)) error {
	env := make([]stdlib.Value, rp.NVars)
	rel := ev.n.rels[rp.Head]
	scratch := make(Tuple, len(rp.HeadCols))
	err := ev.run(steps, 0, env, func(env []stdlib.Value) error {
		ev.firings++
		for i, e := range rp.HeadCols {
			v, err := e.Eval(env, ev.ctx)
			if err != nil {
				return err
			}
			scratch[i] = v
		}
		if gained == nil && rel.packed() {
			// Nothing keeps the tuple: a packed relation copies the
			// words, and no boxed copy is needed.
			if _, kv := rel.insertPacked(scratch); kv != nil {
				return ev.n.keyError(rp.Head, kv, rp.Pos)
			}
			return nil
		}
		nt, kv := rel.insertCopy(scratch, ev.newTuple)
		if kv != nil {
			return ev.n.keyError(rp.Head, kv, rp.Pos)
		}
		if nt != nil && gained != nil {
			gained(nt)
		}
		return nil
	})
	if err == nil {
		return nil
	}
	if _, ok := err.(*RuntimeError); ok {
		return err
	}
	if _, ok := err.(*KeyViolationError); ok {
		return err
	}
	return &RuntimeError{Pos: rp.Pos.String(), Err: err, Rule: rp.Info.Rule.Head.QualName()}
}

// heads evaluates a rule over steps and appends the head tuples it
// derives (aggregated when the head aggregates) to out.
func (ev *evaluator) heads(rp *compiler.RulePlan, steps []*compiler.Step, out []Tuple) ([]Tuple, error) {
	env := make([]stdlib.Value, rp.NVars)
	wrap := func(err error) error {
		if err == nil {
			return nil
		}
		if _, ok := err.(*RuntimeError); ok {
			return err
		}
		return &RuntimeError{Pos: rp.Pos.String(), Err: err, Rule: rp.Info.Rule.Head.QualName()}
	}
	if rp.Agg == nil {
		err := ev.run(steps, 0, env, func(env []stdlib.Value) error {
			ev.firings++
			t := ev.newTuple(len(rp.HeadCols))
			for i, e := range rp.HeadCols {
				v, err := e.Eval(env, ev.ctx)
				if err != nil {
					return err
				}
				t[i] = v
			}
			out = append(out, t)
			return nil
		})
		return out, wrap(err)
	}
	type group struct {
		key  Tuple
		aggs []stdlib.Agg
	}
	groups := map[string]*group{}
	var order []*group
	head := ev.n.plan.Colls[rp.Head]
	spec := rp.Agg
	err := ev.run(steps, 0, env, func(env []stdlib.Value) error {
		ev.firings++
		key := make(Tuple, len(rp.HeadCols))
		buf := ev.buf[:0]
		for i, e := range rp.HeadCols {
			if e == nil {
				continue
			}
			v, err := e.Eval(env, ev.ctx)
			if err != nil {
				return err
			}
			key[i] = v
			buf = stdlib.AppendKey(buf, head.Types[i], v)
		}
		ev.buf = buf
		g := groups[string(buf)]
		if g == nil {
			g = &group{key: key}
			for j, name := range spec.Names {
				a, err := stdlib.NewAgg(name, spec.Types[j][0], spec.Types[j][1])
				if err != nil {
					return err
				}
				g.aggs = append(g.aggs, a)
			}
			groups[string(buf)] = g
			order = append(order, g)
		}
		for j, a := range g.aggs {
			var x, by stdlib.Value
			var err error
			if spec.Args[j] != nil {
				if x, err = spec.Args[j].Eval(env, ev.ctx); err != nil {
					return err
				}
			}
			if spec.By[j] != nil {
				if by, err = spec.By[j].Eval(env, ev.ctx); err != nil {
					return err
				}
			}
			a.Add(x, by)
		}
		return nil
	})
	if err != nil {
		return nil, wrap(err)
	}
	for _, g := range order {
		// One row per combination of results (argmin/argmax yield one
		// row per tied winner).
		rows := []Tuple{g.key}
		for j, a := range g.aggs {
			col := spec.Cols[j]
			res := a.Result()
			var next []Tuple
			for _, row := range rows {
				for _, v := range res {
					cv, err := stdlib.Coerce(head.Types[col], v)
					if err != nil {
						return nil, wrap(err)
					}
					if lc, ok := localCounter(head.Types[col], cv, ev.ctx.Self); ok {
						cv = lc
					}
					nr := append(Tuple(nil), row...)
					nr[col] = cv
					next = append(next, nr)
				}
			}
			rows = next
		}
		out = append(out, rows...)
	}
	return out, nil
}

// localCounter makes an lcounter built from an int without a node address
// (stdlib.Coerce, used for facts and aggregate results, has no node to name
// and records the count under the address "") this node's count, as an int
// written into an lcounter column by a rule head is. Otherwise
// `c(p, count(x))` and `c(p, 1)` would merge as two nodes' counts and sum.
func localCounter(t *lang.Type, v stdlib.Value, self stdlib.Addr) (stdlib.Value, bool) {
	c, ok := v.(*stdlib.Counter)
	if !ok || t.Kind != lang.LCounter || c.Len() != 1 {
		return nil, false
	}
	if addr, n := c.Entry(0); addr == "" {
		return stdlib.CounterOf(self, n), true
	}
	return nil, false
}
