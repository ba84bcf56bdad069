package compiler

import (
	"fmt"

	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/stdlib"
)

// Plan is the executable form of a program.
type Plan struct {
	Prog   *lang.Program
	Colls  []*Coll
	ByName map[string]*Coll
	// Rules holds one RulePlan per rule of Prog.Rules that is not a fact,
	// in program order.
	Rules []*RulePlan
	// Components are the same-tick evaluation units in dependency order.
	Components []*Component
	// Temporal holds the <+ <- <+- <~ rules, evaluated once the tick's
	// fixpoint is reached.
	Temporal []*RulePlan
	Facts    []*Fact
	// FactRows are facts loaded packed (see FactRows), inserted with
	// Facts at the start of tick 1.
	FactRows []*FactRows
	Graph    *Graph

	compOrder [][]int
}

// Coll is a collection as the runtime stores it.
type Coll struct {
	ID    int
	Name  string
	Info  *lang.Collection
	Types []*lang.Type
	// Key columns (all columns when the declaration has no key clause).
	Key []int
	// Merge is true when every non-key column is a lattice: two tuples
	// with the same key merge instead of violating the key.
	Merge bool
	// Lattice columns outside the key.
	LatticeCols []int
	Transient   bool
}

// Component is a strongly connected set of collections evaluated together.
type Component struct {
	Colls     []int
	Recursive bool
	Stratum   int
	Rules     []*RulePlan
	// Incremental is true when every head is persistent (a table or a
	// lattice) and no rule negates or aggregates: the tuples derived in
	// earlier ticks are still there and still hold, so a tick only needs
	// the consequences of the tuples its body collections gained.
	Incremental bool
}

// Fact is a constant tuple inserted at the start of tick 1.
type Fact struct {
	Coll  int
	Tuple []stdlib.Value
	Pos   lang.Pos
}

// RulePlan is one compiled rule.
type RulePlan struct {
	Info  *lang.RuleInfo
	Index int // in Plan.Rules
	Op    lang.Op
	Head  int
	Pos   lang.Pos
	NVars int
	// Body evaluates the rule over the full collections.
	Body []*Step
	// Deltas are the semi-naive variants of a rule in a recursive
	// component: variant i reads the previous round's new tuples of one
	// recursive body atom and the full collections elsewhere.
	Deltas [][]*Step
	// HeadCols computes each head column from the variables.
	HeadCols []*Expr
	// Agg is set when the head aggregates.
	Agg *AggSpec
	// Recursive is true when the rule's head is in a recursive component
	// and its body reads that component.
	Recursive bool
	// AtomDeltas has, for a `<=` rule, one variant per positive body
	// atom, reading only the tuples that atom's collection gained in the
	// current tick: the incremental evaluation of persistent derived state
	// (see Component.Incremental). AtomDeltaColl names each one's
	// collection.
	AtomDeltas    [][]*Step
	AtomDeltaColl []int
	// NonMonotone is true when the rule negates or aggregates.
	NonMonotone bool
}

// AggSpec describes an aggregating head: the group-by columns are the
// head columns not listed in Cols.
type AggSpec struct {
	Cols  []int    // head columns holding aggregates
	Names []string // aggregate name per Cols entry
	Args  []*Expr  // aggregated expression per Cols entry
	By    []*Expr  // argmin/argmax's second argument, else nil
	Types [][2]*lang.Type
}

// StepKind says what a pipeline step does.
type StepKind int

// Step kinds.
const (
	Scan     StepKind = iota // join with a collection (index lookup on bound columns)
	AntiJoin                 // not rel(...): keep the binding when no tuple matches
	Filter                   // a condition
	Assign                   // bind a new variable
)

// Source says which tuples of a collection a scan reads.
type Source int

// Sources.
const (
	Full  Source = iota
	Delta        // the previous semi-naive round's new tuples
)

// Step is one operator of a rule's join pipeline.
type Step struct {
	Kind   StepKind
	Coll   int
	Source Source
	// Lookup lists the columns that are bound when the step runs (by an
	// earlier variable or a constant) with the operand for each; a Full
	// scan probes a hash index on these columns.
	Lookup   []int
	LookupOp []Operand
	// Binds lists the columns that bind a new variable (first occurrence),
	// Same the columns that repeat a variable bound by this same atom.
	Binds []ColSlot
	Same  []ColSlot
	// Filter / Assign.
	Expr *Expr
	Slot int
	Pos  lang.Pos
}

// ColSlot pairs a column with a variable slot.
type ColSlot struct{ Col, Slot int }

// Operand is a variable slot or a constant.
type Operand struct {
	Slot  int // -1 for a constant
	Const stdlib.Value
}

func (p *Plan) collID(c *lang.Collection) int { return p.ByName[c.Name].ID }

// Compile builds the plan of a checked program. Errors (an unstratifiable
// cycle, a constant that does not evaluate) are a lang.ErrorList.
func Compile(prog *lang.Program) (*Plan, error) {
	p := &Plan{Prog: prog, ByName: map[string]*Coll{}}
	for i, c := range prog.Collections {
		coll := &Coll{ID: i, Name: c.Name, Info: c, Key: c.Key, Transient: c.Kind.Transient()}
		for _, col := range c.Cols {
			coll.Types = append(coll.Types, col.Type)
		}
		coll.Merge = len(c.Key) < len(c.Cols)
		for j, col := range c.Cols {
			if !c.IsKey(j) {
				if col.Type.IsLattice() {
					coll.LatticeCols = append(coll.LatticeCols, j)
				} else {
					coll.Merge = false
				}
			}
		}
		if !c.HasKey && c.Kind != lang.Lattice {
			coll.Merge = false
		}
		if c.Kind == lang.Lattice {
			// `lattice NAME: L` holds a single value (spec section 2):
			// its one column is not a key (the checker lists it in Key,
			// as for any key-less declaration) and every write merges
			// into the one stored tuple.
			coll.Key, coll.Merge, coll.LatticeCols = nil, true, []int{0}
		}
		p.Colls = append(p.Colls, coll)
		p.ByName[c.Name] = coll
	}
	p.buildGraph()
	if err := p.stratify(); err != nil {
		return nil, err
	}
	var errs lang.ErrorList
	compOf := make([]int, len(p.Colls))
	for ci, members := range p.compOrder {
		comp := &Component{Colls: members, Stratum: p.Graph.Stratum[members[0]]}
		for _, m := range members {
			compOf[m] = ci
		}
		p.Components = append(p.Components, comp)
	}
	for _, r := range prog.Rules {
		if r.Rule.IsFact() {
			f, err := p.compileFact(r)
			if err != nil {
				errs.Add(r.Rule.At, "%v", err)
				continue
			}
			p.Facts = append(p.Facts, f)
			continue
		}
		rp, err := p.compileRule(r, compOf)
		if err != nil {
			errs.Add(r.Rule.At, "%v", err)
			continue
		}
		rp.Index = len(p.Rules)
		p.Rules = append(p.Rules, rp)
		if r.Rule.Op.Temporal() {
			p.Temporal = append(p.Temporal, rp)
		} else {
			comp := p.Components[compOf[rp.Head]]
			comp.Rules = append(comp.Rules, rp)
			if rp.Recursive {
				comp.Recursive = true
			}
		}
	}
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	// A collection that can lose tuples (the head of a <- or <+- rule)
	// breaks "what earlier ticks derived is still there".
	shrinks := map[int]bool{}
	for _, rp := range p.Temporal {
		if rp.Op == lang.OpDelete || rp.Op == lang.OpUpsert {
			shrinks[rp.Head] = true
		}
	}
	for _, comp := range p.Components {
		comp.Incremental = len(comp.Rules) > 0
		for _, c := range comp.Colls {
			if p.Colls[c].Transient || shrinks[c] {
				comp.Incremental = false
			}
		}
		for _, rp := range comp.Rules {
			if rp.NonMonotone || len(rp.AtomDeltas) == 0 {
				comp.Incremental = false
			}
		}
	}
	return p, nil
}

func (p *Plan) compileFact(r *lang.RuleInfo) (*Fact, error) {
	coll := p.ByName[r.Head.Collection.Name]
	f := &Fact{Coll: coll.ID, Pos: r.Rule.At}
	ctx := &stdlib.CallContext{}
	for i, a := range r.Head.Args {
		e, err := compileExpr(a, r.Types, nil)
		if err != nil {
			return nil, err
		}
		v, err := e.Eval(nil, ctx)
		if err != nil {
			return nil, fmt.Errorf("fact %s: %v", r.Head.Collection.Name, err)
		}
		v, err = stdlib.Coerce(coll.Types[i], v)
		if err != nil {
			return nil, fmt.Errorf("fact %s, column %s: %v", r.Head.Collection.Name, coll.Info.Cols[i].Name, err)
		}
		f.Tuple = append(f.Tuple, v)
	}
	return f, nil
}

// compileRule builds the pipelines of one rule.
func (p *Plan) compileRule(r *lang.RuleInfo, compOf []int) (*RulePlan, error) {
	head := p.ByName[r.Head.Collection.Name]
	rp := &RulePlan{Info: r, Op: r.Rule.Op, Head: head.ID, Pos: r.Rule.At}
	slots := map[string]int{}
	for name := range r.Vars {
		slots[name] = -1
	}
	// Assign slots in order of first appearance for readable plans.
	nslots := 0
	slotOf := func(name string) int {
		if s, ok := slots[name]; ok && s >= 0 {
			return s
		}
		slots[name] = nslots
		nslots++
		return slots[name]
	}
	var visitVars func(e lang.Expr)
	visitVars = func(e lang.Expr) {
		lang.Walk(e, func(x lang.Expr) {
			if id, ok := x.(*lang.Ident); ok {
				slotOf(id.Name)
			}
		})
	}
	for _, b := range r.Body {
		switch {
		case b.Atom != nil:
			for _, a := range b.Atom.Args {
				visitVars(a)
			}
		case b.Assign != nil:
			slotOf(b.Assign.Var.Name)
			visitVars(b.Assign.X)
		case b.Cond != nil:
			visitVars(b.Cond.X)
		}
	}
	for _, a := range r.Head.Args {
		visitVars(a)
	}

	// Recursive atoms: positive, same-tick, in the head's component.
	var recAtoms []int
	if !r.Rule.Op.Temporal() {
		for i, b := range r.Body {
			if b.Atom != nil && !b.Atom.Atom.Negated && compOf[p.collID(b.Atom.Collection)] == compOf[head.ID] {
				recAtoms = append(recAtoms, i)
			}
		}
	}
	rp.Recursive = len(recAtoms) > 0
	for _, b := range r.Body {
		if b.Atom != nil && b.Atom.Atom.Negated {
			rp.NonMonotone = true
		}
	}
	if len(r.Head.AggCols) > 0 {
		rp.NonMonotone = true
	}
	body, tmp, err := p.pipeline(r, slots, nslots, -1)
	if err != nil {
		return nil, err
	}
	rp.Body = body
	maxSlots := tmp
	if rp.Recursive {
		for _, i := range recAtoms {
			steps, n, err := p.pipeline(r, slots, nslots, i)
			if err != nil {
				return nil, err
			}
			rp.Deltas = append(rp.Deltas, steps)
			maxSlots = max(maxSlots, n)
		}
	}
	if r.Rule.Op == lang.OpSame && !rp.NonMonotone {
		for i, b := range r.Body {
			if b.Atom == nil || b.Atom.Atom.Negated {
				continue
			}
			steps, n, err := p.pipeline(r, slots, nslots, i)
			if err != nil {
				return nil, err
			}
			rp.AtomDeltas = append(rp.AtomDeltas, steps)
			rp.AtomDeltaColl = append(rp.AtomDeltaColl, p.collID(b.Atom.Collection))
			maxSlots = max(maxSlots, n)
		}
	}

	aggCol := map[int]bool{}
	if len(r.Head.AggCols) > 0 {
		rp.Agg = &AggSpec{}
		for _, i := range r.Head.AggCols {
			aggCol[i] = true
			call := r.Head.Args[i].(*lang.Call)
			rp.Agg.Cols = append(rp.Agg.Cols, i)
			rp.Agg.Names = append(rp.Agg.Names, call.Name)
			var arg, by *Expr
			var types [2]*lang.Type
			if len(call.Args) > 0 {
				if arg, err = compileExpr(call.Args[0], r.Types, slots); err != nil {
					return nil, err
				}
				types[0] = r.Types[call.Args[0]]
			}
			if len(call.Args) > 1 {
				if by, err = compileExpr(call.Args[1], r.Types, slots); err != nil {
					return nil, err
				}
				types[1] = r.Types[call.Args[1]]
			}
			rp.Agg.Args = append(rp.Agg.Args, arg)
			rp.Agg.By = append(rp.Agg.By, by)
			rp.Agg.Types = append(rp.Agg.Types, types)
		}
	}
	for i, a := range r.Head.Args {
		if aggCol[i] {
			rp.HeadCols = append(rp.HeadCols, nil)
			continue
		}
		e, err := compileExpr(a, r.Types, slots)
		if err != nil {
			return nil, err
		}
		e = coerceTo(e, head.Types[i])
		rp.HeadCols = append(rp.HeadCols, e)
	}
	rp.NVars = maxSlots
	return rp, nil
}

// pipeline orders the body of r into steps. With delta >= 0, that body
// atom reads the previous round's delta and goes first. Conditions,
// assignments and negations run as soon as their variables are bound.
func (p *Plan) pipeline(r *lang.RuleInfo, slots map[string]int, nslots, delta int) ([]*Step, int, error) {
	bound := map[string]bool{}
	var steps []*Step
	order := make([]int, 0, len(r.Body))
	if delta >= 0 {
		order = append(order, delta)
	}
	for i := range r.Body {
		if i != delta && r.Body[i].Atom != nil && !r.Body[i].Atom.Atom.Negated {
			order = append(order, i)
		}
	}
	done := make([]bool, len(r.Body))
	next := nslots
	varsBound := func(e lang.Expr) bool {
		ok := true
		lang.Walk(e, func(x lang.Expr) {
			if id, isID := x.(*lang.Ident); isID && !bound[id.Name] {
				ok = false
			}
		})
		return ok
	}
	// placeReady emits every pending non-positive literal whose inputs are
	// bound, in source order, repeating since an assignment can enable
	// another.
	var placeReady func() error
	placeReady = func() error {
		for changed := true; changed; {
			changed = false
			for i, b := range r.Body {
				if done[i] {
					continue
				}
				switch {
				case b.Cond != nil:
					if !varsBound(b.Cond.X) {
						continue
					}
					e, err := compileExpr(b.Cond.X, r.Types, slots)
					if err != nil {
						return err
					}
					steps = append(steps, &Step{Kind: Filter, Expr: e, Pos: b.Cond.Pos()})
				case b.Assign != nil:
					if !varsBound(b.Assign.X) {
						continue
					}
					e, err := compileExpr(b.Assign.X, r.Types, slots)
					if err != nil {
						return err
					}
					name := b.Assign.Var.Name
					if bound[name] {
						// Already bound by an atom placed earlier (the
						// delta atom moved first): test equality instead.
						eq := equalsSlot(slots[name], e, r.Vars[name])
						steps = append(steps, &Step{Kind: Filter, Expr: eq, Pos: b.Assign.Pos()})
					} else {
						steps = append(steps, &Step{Kind: Assign, Expr: coerceTo(e, r.Vars[name]), Slot: slots[name], Pos: b.Assign.Pos()})
						bound[name] = true
					}
				case b.Atom != nil && b.Atom.Atom.Negated:
					ready := true
					for _, a := range b.Atom.Args {
						if _, w := a.(*lang.Wildcard); !w && !varsBound(a) {
							ready = false
						}
					}
					if !ready {
						continue
					}
					st, err := p.atomStep(b.Atom, AntiJoin, Full, bound, slots, r.Types, &next, &steps)
					if err != nil {
						return err
					}
					steps = append(steps, st)
				default:
					continue
				}
				done[i] = true
				changed = true
			}
		}
		return nil
	}
	if err := placeReady(); err != nil {
		return nil, 0, err
	}
	for _, i := range order {
		src := Full
		if i == delta {
			src = Delta
		}
		st, err := p.atomStep(r.Body[i].Atom, Scan, src, bound, slots, r.Types, &next, &steps)
		if err != nil {
			return nil, 0, err
		}
		steps = append(steps, st)
		done[i] = true
		if err := placeReady(); err != nil {
			return nil, 0, err
		}
	}
	for i, d := range done {
		if !d {
			return nil, 0, fmt.Errorf("internal error: body literal %d of the rule at %s has unbound inputs", i+1, r.Rule.At)
		}
	}
	return steps, next, nil
}

// atomStep compiles a body atom. Arguments that are expressions over bound
// variables are computed into temporary slots first (steps appended to
// pre), so a step's lookup operands are always slots or constants.
func (p *Plan) atomStep(a *lang.AtomInfo, kind StepKind, src Source, bound map[string]bool, slots map[string]int, types map[lang.Expr]*lang.Type, next *int, pre *[]*Step) (*Step, error) {
	coll := p.collID(a.Collection)
	st := &Step{Kind: kind, Coll: coll, Source: src, Pos: a.Atom.At}
	local := map[string]int{} // variables first bound by this atom
	for col, arg := range a.Args {
		switch x := arg.(type) {
		case *lang.Wildcard:
		case *lang.Ident:
			if bound[x.Name] {
				st.Lookup = append(st.Lookup, col)
				st.LookupOp = append(st.LookupOp, Operand{Slot: slots[x.Name]})
			} else if c, ok := local[x.Name]; ok {
				_ = c
				st.Same = append(st.Same, ColSlot{Col: col, Slot: slots[x.Name]})
			} else {
				local[x.Name] = col
				st.Binds = append(st.Binds, ColSlot{Col: col, Slot: slots[x.Name]})
			}
		default:
			e, err := compileExpr(arg, types, slots)
			if err != nil {
				return nil, err
			}
			e = coerceTo(e, p.Colls[coll].Types[col])
			if e.IsConst {
				st.Lookup = append(st.Lookup, col)
				st.LookupOp = append(st.LookupOp, Operand{Slot: -1, Const: e.Const})
				continue
			}
			slot := *next
			*next++
			*pre = append(*pre, &Step{Kind: Assign, Expr: e, Slot: slot, Pos: arg.Pos()})
			st.Lookup = append(st.Lookup, col)
			st.LookupOp = append(st.LookupOp, Operand{Slot: slot})
		}
	}
	if kind == Scan {
		for name := range local {
			bound[name] = true
		}
	}
	return st, nil
}
