package runtime_test

// A deliberately simple reference evaluator for the differential test. It
// reads the checked lang.Program directly and shares no code with the
// compiler or the runtime: it computes the strata itself, evaluates each
// stratum by naive iteration (every rule over the full relations until
// nothing changes), enumerates rule bodies by nested loops over the
// positive atoms followed by the other literals, and stores relations as
// maps from formatted keys to tuples. It only uses stdlib for values
// (operators, formatting, coercion and the less common lattices and
// aggregates). It is slow on purpose: obviously correct beats fast here.
//
// Semantics (spec sections 2–6 and docs/language.md): facts are inserted in
// tick 1 only; a tick first empties the transient collections, then applies
// the previous tick's changes, new = (old − deleted) ∪ inserted (an upsert
// deletes whatever its key held); aggregates count each distinct
// combination of matched body tuples; a `lattice NAME: L` holds one merged
// value and matches nothing before its first merge; there is work left
// (no quiescence) when the pending changes would alter a persistent
// collection or insert into a transient one.

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/stdlib"
)

type refTuple []stdlib.Value

// errTooBig stops the reference on a rule body with more than maxBindings
// matches: the generator avoids such programs, and the naive evaluator
// would take too long on them.
var errTooBig = errors.New("reference: too many bindings")

const maxBindings = 100_000

// refRel is one collection: tuples by their formatted key.
type refRel struct {
	coll   *lang.Collection
	types  []*lang.Type
	tuples map[string]refTuple
	// keyCols are the key columns: the declared key, every column for a
	// key-less declaration (set semantics), none for a `lattice NAME: L`,
	// which holds a single value.
	keyCols []int
	// merge is true for a keyed collection whose non-key columns are all
	// lattices: two tuples with one key merge.
	merge bool
}

func newRefRel(c *lang.Collection) *refRel {
	r := &refRel{coll: c, tuples: map[string]refTuple{}}
	for i, col := range c.Cols {
		r.types = append(r.types, col.Type)
		if c.Kind == lang.Lattice {
			continue
		}
		if !c.HasKey || slices.Contains(c.Key, i) {
			r.keyCols = append(r.keyCols, i)
		}
	}
	if c.HasKey || c.Kind == lang.Lattice {
		r.merge = true
		for i, col := range c.Cols {
			if !r.isKey(i) && !col.Type.IsLattice() {
				r.merge = false
			}
		}
	}
	return r
}

func (r *refRel) isKey(i int) bool { return slices.Contains(r.keyCols, i) }

// fmtVal formats a value; two values of one type are equal exactly when
// their formats are (the format is canonical).
func fmtVal(t *lang.Type, v stdlib.Value) string {
	if x, ok := v.(int64); ok && (t.Kind == lang.Int || t.Kind == lang.LMax || t.Kind == lang.LMin) {
		return fmt.Sprint(x)
	}
	return stdlib.Format(t, v)
}

func sameVal(t *lang.Type, a, b stdlib.Value) bool {
	if x, ok := a.(int64); ok {
		if y, ok := b.(int64); ok {
			return x == y
		}
	}
	return fmtVal(t, a) == fmtVal(t, b)
}

func (r *refRel) key(t refTuple) string {
	var parts []string
	for _, k := range r.keyCols {
		parts = append(parts, fmtVal(r.types[k], t[k]))
	}
	return strings.Join(parts, "\x00")
}

func (r *refRel) fullKey(t refTuple) string {
	var parts []string
	for i, typ := range r.types {
		parts = append(parts, fmtVal(typ, t[i]))
	}
	return strings.Join(parts, "\x00")
}

func (r *refRel) String(t refTuple) string { return stdlib.FormatTuple(r.coll.Name, r.types, t) }

// refJoin is the least upper bound of two lattice values.
func refJoin(t *lang.Type, a, b stdlib.Value) stdlib.Value {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	switch t.Kind {
	case lang.LMax:
		if x, ok := a.(int64); ok {
			return max(x, b.(int64))
		}
		if stdlib.Compare(t.Elem, b, a) > 0 {
			return b
		}
		return a
	case lang.LMin:
		if x, ok := a.(int64); ok {
			return min(x, b.(int64))
		}
		if stdlib.Compare(t.Elem, b, a) < 0 {
			return b
		}
		return a
	}
	return stdlib.Merge(t, a, b)
}

// insert adds t, merging lattices; it reports whether the relation changed.
func (r *refRel) insert(t refTuple) (bool, error) {
	k := r.key(t)
	old, ok := r.tuples[k]
	if !ok {
		r.tuples[k] = t
		return true, nil
	}
	if r.fullKey(old) == r.fullKey(t) {
		return false, nil
	}
	if !r.merge {
		return false, fmt.Errorf("key constraint violation in %s: %s and %s", r.coll.Name, r.String(old), r.String(t))
	}
	m := make(refTuple, len(t))
	for i, typ := range r.types {
		if r.isKey(i) {
			m[i] = old[i]
		} else {
			m[i] = refJoin(typ, old[i], t[i])
		}
	}
	if r.fullKey(m) == r.fullKey(old) {
		return false, nil
	}
	r.tuples[k] = m
	return true, nil
}

func (r *refRel) all() []refTuple {
	keys := make([]string, 0, len(r.tuples))
	for k := range r.tuples {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]refTuple, len(keys))
	for i, k := range keys {
		out[i] = r.tuples[k]
	}
	return out
}

// refEval holds a program's state across ticks.
type refEval struct {
	prog     *lang.Program
	rels     map[string]*refRel
	strata   [][]*lang.RuleInfo // same-tick rules by the stratum of their head
	temporal []*lang.RuleInfo
	facts    []*lang.RuleInfo
	pending  []refOp
	tick     int
}

type refOp struct {
	op  lang.Op
	rel *refRel
	t   refTuple
}

func newRefEval(prog *lang.Program) (*refEval, error) {
	ev := &refEval{prog: prog, rels: map[string]*refRel{}}
	for _, c := range prog.Collections {
		ev.rels[c.Name] = newRefRel(c)
	}
	var same []*lang.RuleInfo
	for _, r := range prog.Rules {
		switch {
		case r.Rule.IsFact():
			ev.facts = append(ev.facts, r)
		case r.Rule.Op.Temporal():
			ev.temporal = append(ev.temporal, r)
		default:
			same = append(same, r)
		}
	}
	// Strata: a head is at least as high as its positive body atoms and
	// strictly higher than its negated atoms and, when it aggregates with
	// a non-lattice aggregate, all of its body atoms. Raise until stable;
	// a stratum above the number of collections means a cycle through a
	// negation or an aggregate.
	stratum := map[string]int{}
	for changed := true; changed; {
		changed = false
		for _, r := range same {
			h := r.Head.Collection.Name
			for _, b := range r.Body {
				if b.Atom == nil {
					continue
				}
				need := stratum[b.Atom.Collection.Name]
				if b.Atom.Atom.Negated || nonSetAgg(r.Head) {
					need++
				}
				if stratum[h] < need {
					stratum[h] = need
					changed = true
					if need > len(prog.Collections) {
						return nil, fmt.Errorf("reference: unstratifiable at %s", h)
					}
				}
			}
		}
	}
	for _, r := range same {
		s := stratum[r.Head.Collection.Name]
		for len(ev.strata) <= s {
			ev.strata = append(ev.strata, nil)
		}
		ev.strata[s] = append(ev.strata[s], r)
	}
	return ev, nil
}

func nonSetAgg(h *lang.AtomInfo) bool {
	for _, i := range h.AggCols {
		if h.Args[i].(*lang.Call).Name != "set" {
			return true
		}
	}
	return false
}

// Tick runs one tick: the previous tick's changes, the facts in tick 1,
// the strata in order to their fixpoints, then the temporal rules.
func (ev *refEval) Tick() error {
	ev.tick++
	if ev.tick > 1 {
		for _, r := range ev.rels {
			if r.coll.Kind.Transient() {
				r.tuples = map[string]refTuple{}
			}
		}
		// new = (old − deleted) ∪ inserted; an upsert deletes whatever
		// the key held.
		for _, p := range ev.pending {
			k := p.rel.key(p.t)
			old, ok := p.rel.tuples[k]
			switch {
			case !ok:
			case p.op == lang.OpDelete && p.rel.fullKey(old) == p.rel.fullKey(p.t):
				delete(p.rel.tuples, k)
			case p.op == lang.OpUpsert:
				delete(p.rel.tuples, k)
			}
		}
		for _, p := range ev.pending {
			if p.op == lang.OpNext || p.op == lang.OpUpsert {
				if _, err := p.rel.insert(p.t); err != nil {
					return err
				}
			}
		}
	}
	ev.pending = nil
	if ev.tick == 1 {
		for _, f := range ev.facts {
			rel := ev.rels[f.Head.Collection.Name]
			t := make(refTuple, len(f.Head.Args))
			for i, a := range f.Head.Args {
				v, err := ev.eval(f, a, nil)
				if err != nil {
					return err
				}
				if t[i], err = stdlib.Coerce(rel.types[i], v); err != nil {
					return err
				}
			}
			if _, err := rel.insert(t); err != nil {
				return err
			}
		}
	}
	for _, rules := range ev.strata {
		for round := 0; ; round++ {
			if round > 100000 {
				return fmt.Errorf("reference: no fixpoint")
			}
			// Jacobi iteration: every rule over the same state, then
			// insert everything.
			var derived []refOp
			for _, r := range rules {
				ts, err := ev.heads(r)
				if err != nil {
					return err
				}
				for _, t := range ts {
					derived = append(derived, refOp{rel: ev.rels[r.Head.Collection.Name], t: t})
				}
			}
			changed := false
			for _, d := range derived {
				c, err := d.rel.insert(d.t)
				if err != nil {
					return err
				}
				changed = changed || c
			}
			if !changed {
				break
			}
		}
	}
	for _, r := range ev.temporal {
		ts, err := ev.heads(r)
		if err != nil {
			return err
		}
		for _, t := range ts {
			ev.pending = append(ev.pending, refOp{op: r.Rule.Op, rel: ev.rels[r.Head.Collection.Name], t: t})
		}
	}
	return nil
}

// HasWork reports whether the next tick would change anything: the pending
// changes alter some persistent collection, or insert into a transient one.
func (ev *refEval) HasWork() bool {
	if ev.tick == 0 {
		return true
	}
	// Apply the pending changes to a copy of the persistent collections.
	after := map[string]*refRel{}
	get := func(r *refRel) *refRel {
		c := after[r.coll.Name]
		if c == nil {
			c = &refRel{coll: r.coll, types: r.types, keyCols: r.keyCols, merge: r.merge, tuples: map[string]refTuple{}}
			for k, t := range r.tuples {
				c.tuples[k] = t
			}
			after[r.coll.Name] = c
		}
		return c
	}
	for _, p := range ev.pending {
		if p.rel.coll.Kind.Transient() {
			if p.op == lang.OpNext || p.op == lang.OpUpsert {
				return true
			}
			continue
		}
		r := get(p.rel)
		k := r.key(p.t)
		if old, ok := r.tuples[k]; ok && (p.op == lang.OpUpsert || p.op == lang.OpDelete && r.fullKey(old) == r.fullKey(p.t)) {
			delete(r.tuples, k)
		}
	}
	for _, p := range ev.pending {
		if !p.rel.coll.Kind.Transient() && (p.op == lang.OpNext || p.op == lang.OpUpsert) {
			if _, err := get(p.rel).insert(p.t); err != nil {
				return true // the next tick fails
			}
		}
	}
	for name, r := range after {
		old := ev.rels[name]
		if len(r.tuples) != len(old.tuples) {
			return true
		}
		for k, t := range r.tuples {
			o, ok := old.tuples[k]
			if !ok || r.fullKey(o) != r.fullKey(t) {
				return true
			}
		}
	}
	return false
}

// Contents returns every collection's tuples, formatted and sorted.
func (ev *refEval) Contents() map[string][]string {
	out := map[string][]string{}
	for name, r := range ev.rels {
		var ts []string
		for _, t := range r.tuples {
			ts = append(ts, r.String(t))
		}
		sort.Strings(ts)
		out[name] = ts
	}
	return out
}

// binding is one match of a rule body: the variables, and the matched
// tuples of the positive atoms (the combination that aggregates count).
type binding struct {
	env   refEnv
	combo string
}

// refEnv maps variables to values: a short list, copied when extended.
type refEnv []refVar

type refVar struct {
	name string
	v    stdlib.Value
}

func (e refEnv) get(name string) (stdlib.Value, bool) {
	for _, x := range e {
		if x.name == name {
			return x.v, true
		}
	}
	return nil, false
}

func (b binding) with(name string, v stdlib.Value) binding {
	// The full slice expression makes append copy: bindings never share
	// what they extend.
	return binding{env: append(b.env[:len(b.env):len(b.env)], refVar{name, v}), combo: b.combo}
}

// unify matches an atom against a tuple under b, returning the extended
// binding.
func (ev *refEval) unify(r *lang.RuleInfo, a *lang.AtomInfo, types []*lang.Type, t refTuple, b binding) (binding, bool, error) {
	for i, arg := range a.Args {
		switch x := arg.(type) {
		case *lang.Wildcard:
		case *lang.Ident:
			if v, ok := b.env.get(x.Name); ok {
				if !sameVal(types[i], v, t[i]) {
					return b, false, nil
				}
			} else {
				b = b.with(x.Name, t[i])
			}
		default:
			v, err := ev.eval(r, arg, b.env)
			if err != nil {
				return b, false, err
			}
			if v, err = stdlib.Coerce(types[i], v); err != nil {
				return b, false, err
			}
			if !sameVal(types[i], v, t[i]) {
				return b, false, nil
			}
		}
	}
	return b, true, nil
}

// matches enumerates the bindings of a rule body: nested loops over the
// positive atoms in source order, then the conditions, assignments and
// negations, each as soon as its variables are bound.
func (ev *refEval) matches(r *lang.RuleInfo) ([]binding, error) {
	bs := []binding{{}}
	bound := map[string]bool{}
	var rest []int
	for i, lit := range r.Body {
		if lit.Atom == nil || lit.Atom.Atom.Negated {
			rest = append(rest, i)
			continue
		}
		rel := ev.rels[lit.Atom.Collection.Name]
		var next []binding
		ts := rel.all()
		for _, b := range bs {
			for _, t := range ts {
				nb, ok, err := ev.unify(r, lit.Atom, rel.types, t, b)
				if err != nil {
					return nil, err
				}
				if ok {
					nb.combo += "|" + fmt.Sprint(i) + ":" + rel.fullKey(t)
					next = append(next, nb)
				}
			}
		}
		bs = next
		if len(bs) > maxBindings {
			return nil, errTooBig
		}
		for _, arg := range lit.Atom.Args {
			for _, v := range exprVars(arg) {
				bound[v] = true
			}
		}
	}
	ready := func(e lang.Expr) bool {
		for _, v := range exprVars(e) {
			if !bound[v] {
				return false
			}
		}
		return true
	}
	for len(rest) > 0 {
		progress := false
		for j := 0; j < len(rest); j++ {
			lit := r.Body[rest[j]]
			var next []binding
			switch {
			case lit.Cond != nil:
				if !ready(lit.Cond.X) {
					continue
				}
				for _, b := range bs {
					v, err := ev.eval(r, lit.Cond.X, b.env)
					if err != nil {
						return nil, err
					}
					if ok, _ := v.(bool); ok {
						next = append(next, b)
					}
				}
			case lit.Assign != nil:
				if !ready(lit.Assign.X) {
					continue
				}
				name := lit.Assign.Var.Name
				for _, b := range bs {
					v, err := ev.eval(r, lit.Assign.X, b.env)
					if err != nil {
						return nil, err
					}
					if v, err = stdlib.Coerce(r.Vars[name], v); err != nil {
						return nil, err
					}
					if old, ok := b.env.get(name); ok {
						if sameVal(r.Vars[name], old, v) {
							next = append(next, b)
						}
						continue
					}
					next = append(next, b.with(name, v))
				}
				bound[name] = true
			default: // negated atom
				ok := true
				for _, arg := range lit.Atom.Args {
					if !ready(arg) {
						ok = false
					}
				}
				if !ok {
					continue
				}
				rel := ev.rels[lit.Atom.Collection.Name]
				ts := rel.all()
				for _, b := range bs {
					found := false
					for _, t := range ts {
						_, m, err := ev.unify(r, lit.Atom, rel.types, t, b)
						if err != nil {
							return nil, err
						}
						found = found || m
					}
					if !found {
						next = append(next, b)
					}
				}
			}
			bs = next
			rest = append(rest[:j], rest[j+1:]...)
			j--
			progress = true
		}
		if !progress {
			return nil, fmt.Errorf("reference: rule at %s has body literals with unbound variables", r.Rule.At)
		}
	}
	return bs, nil
}

func exprVars(e lang.Expr) []string {
	var out []string
	lang.Walk(e, func(x lang.Expr) {
		if id, ok := x.(*lang.Ident); ok {
			out = append(out, id.Name)
		}
	})
	return out
}

// heads returns the head tuples a rule derives from the current state.
func (ev *refEval) heads(r *lang.RuleInfo) ([]refTuple, error) {
	bs, err := ev.matches(r)
	if err != nil {
		return nil, err
	}
	rel := ev.rels[r.Head.Collection.Name]
	isAgg := map[int]bool{}
	for _, i := range r.Head.AggCols {
		isAgg[i] = true
	}
	var out []refTuple
	if len(isAgg) == 0 {
		for _, b := range bs {
			t := make(refTuple, len(r.Head.Args))
			for i, a := range r.Head.Args {
				v, err := ev.eval(r, a, b.env)
				if err != nil {
					return nil, err
				}
				if t[i], err = stdlib.Coerce(rel.types[i], v); err != nil {
					return nil, err
				}
			}
			out = append(out, t)
		}
		return out, nil
	}
	// Aggregation: group by the other head columns; each distinct
	// combination of matched body tuples counts once.
	type group struct {
		key    refTuple
		combos map[string]bool
		inputs [][2][]stdlib.Value // per aggregate column: args and by-values
	}
	groups := map[string]*group{}
	var order []string
	for _, b := range bs {
		key := make(refTuple, len(r.Head.Args))
		var ks []string
		for i, a := range r.Head.Args {
			if isAgg[i] {
				continue
			}
			v, err := ev.eval(r, a, b.env)
			if err != nil {
				return nil, err
			}
			if key[i], err = stdlib.Coerce(rel.types[i], v); err != nil {
				return nil, err
			}
			ks = append(ks, fmtVal(rel.types[i], key[i]))
		}
		gk := strings.Join(ks, "\x00")
		g := groups[gk]
		if g == nil {
			g = &group{key: key, combos: map[string]bool{}, inputs: make([][2][]stdlib.Value, len(r.Head.AggCols))}
			groups[gk] = g
			order = append(order, gk)
		}
		if g.combos[b.combo] {
			continue
		}
		g.combos[b.combo] = true
		for j, col := range r.Head.AggCols {
			call := r.Head.Args[col].(*lang.Call)
			for k, a := range call.Args {
				if k > 1 {
					break
				}
				v, err := ev.eval(r, a, b.env)
				if err != nil {
					return nil, err
				}
				g.inputs[j][k] = append(g.inputs[j][k], v)
			}
		}
	}
	for _, gk := range order {
		g := groups[gk]
		rows := []refTuple{g.key}
		for j, col := range r.Head.AggCols {
			res, err := refAggregate(r, r.Head.Args[col].(*lang.Call), g.inputs[j])
			if err != nil {
				return nil, err
			}
			var next []refTuple
			for _, row := range rows {
				for _, v := range res {
					nr := append(refTuple(nil), row...)
					if nr[col], err = stdlib.Coerce(rel.types[col], v); err != nil {
						return nil, err
					}
					next = append(next, nr)
				}
			}
			rows = next
		}
		out = append(out, rows...)
	}
	return out, nil
}

// refAggregate computes an aggregate over the values of a group. count,
// sum, min and max of ints are written out here; the rest use stdlib.
func refAggregate(r *lang.RuleInfo, call *lang.Call, in [2][]stdlib.Value) ([]stdlib.Value, error) {
	xs := in[0]
	allInts := true
	for _, x := range xs {
		if _, ok := x.(int64); !ok {
			allInts = false
		}
	}
	switch {
	case call.Name == "count":
		return []stdlib.Value{int64(len(xs))}, nil
	case allInts && call.Name == "sum":
		var s int64
		for _, x := range xs {
			s += x.(int64)
		}
		return []stdlib.Value{s}, nil
	case allInts && (call.Name == "min" || call.Name == "max"):
		m := xs[0].(int64)
		for _, x := range xs[1:] {
			if call.Name == "min" {
				m = min(m, x.(int64))
			} else {
				m = max(m, x.(int64))
			}
		}
		return []stdlib.Value{m}, nil
	}
	var byType *lang.Type
	if len(call.Args) > 1 {
		byType = r.Types[call.Args[1]]
	}
	a, err := stdlib.NewAgg(call.Name, r.Types[call.Args[0]], byType)
	if err != nil {
		return nil, err
	}
	for i, x := range xs {
		var by stdlib.Value
		if in[1] != nil {
			by = in[1][i]
		}
		a.Add(x, by)
	}
	return a.Result(), nil
}

// eval evaluates an expression under env.
func (ev *refEval) eval(r *lang.RuleInfo, e lang.Expr, env refEnv) (stdlib.Value, error) {
	switch x := e.(type) {
	case *lang.Ident:
		v, ok := env.get(x.Name)
		if !ok {
			return nil, fmt.Errorf("reference: unbound variable %s", x.Name)
		}
		return v, nil
	case *lang.IntLit:
		return x.Val, nil
	case *lang.FloatLit:
		return x.Val, nil
	case *lang.StringLit:
		return x.Val, nil
	case *lang.BoolLit:
		return x.Val, nil
	case *lang.Unary:
		v, err := ev.eval(r, x.X, env)
		if err != nil {
			return nil, err
		}
		return stdlib.UnaryOp(x.Op, r.Types[x.X], v)
	case *lang.Binary:
		a, err := ev.eval(r, x.X, env)
		if err != nil {
			return nil, err
		}
		b, err := ev.eval(r, x.Y, env)
		if err != nil {
			return nil, err
		}
		tx, ty := r.Types[x.X], r.Types[x.Y]
		t := tx
		switch {
		case ty != nil && ty.IsLattice() && (tx == nil || !tx.IsLattice()):
			t = ty
		case tx != nil && ty != nil && tx.Kind == lang.Int && ty.Kind == lang.Float:
			t = ty
		}
		return stdlib.BinaryOp(x.Op, t, a, b)
	case *lang.Call:
		fn, ok := stdlib.LookupBuiltin(x.Name)
		if !ok {
			return nil, fmt.Errorf("reference: unknown function %s", x.Name)
		}
		var args []stdlib.Value
		var types []*lang.Type
		for _, a := range x.Args {
			v, err := ev.eval(r, a, env)
			if err != nil {
				return nil, err
			}
			args = append(args, v)
			types = append(types, r.Types[a])
		}
		return fn.Apply(&stdlib.CallContext{Self: "127.0.0.1:0"}, types, args)
	case *lang.SetLit, *lang.MapLit, *lang.PairLit:
		return nil, fmt.Errorf("reference: %T literals are not supported", e)
	}
	return nil, fmt.Errorf("reference: unsupported expression %T", e)
}
