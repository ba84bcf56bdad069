// Package compiler turns a checked program into a stratified dataflow graph
// and an executable plan: per evaluation component, the rules as join
// pipelines (hash-indexed lookups on bound columns, anti-joins for negation,
// filters, assignments) with their semi-naive delta variants, aggregation
// specs and head projections. The runtime executes the plan; it never looks
// at the AST.
package compiler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bloomlang/bloom/lang"
)

// EdgeKind labels a dependency edge from a body collection to a head.
type EdgeKind int

// Edge kinds. A rule with op <= makes same-tick edges (positive, negated or
// aggregated); the other ops make temporal or async edges, which never
// constrain stratification.
const (
	Positive   EdgeKind = iota
	Negated             // not rel(...) in the body
	Aggregated          // head aggregates with a non-lattice aggregate
	Next                // <+
	Delete              // <-
	Upsert              // <+-
	Async               // <~
)

var edgeKindNames = [...]string{"positive", "negated", "aggregated", "next", "delete", "upsert", "async"}

func (k EdgeKind) String() string { return edgeKindNames[k] }

// Temporal reports whether the edge crosses a tick boundary.
func (k EdgeKind) Temporal() bool { return k >= Next }

// NonMonotone reports whether the edge is a stratification boundary.
func (k EdgeKind) NonMonotone() bool { return k == Negated || k == Aggregated }

// Edge is one body-atom-to-head dependency of one rule.
type Edge struct {
	From, To int // collection ids
	Kind     EdgeKind
	Rule     *lang.RuleInfo
	RuleIdx  int      // index into Plan.Rules
	AtomPos  lang.Pos // the body atom
	// Negated and Aggregates are set whatever the kind, so that a
	// temporal edge still tells that its atom is negated or its head
	// aggregates (non-lattice aggregates only).
	Negated    bool
	Aggregates bool
}

// Graph is the collection dependency graph.
type Graph struct {
	Edges []*Edge
	// Stratum of each collection (index = collection id): 0 for
	// collections that depend on nothing non-monotone in the same tick.
	Stratum []int
}

func opEdgeKind(op lang.Op) EdgeKind {
	switch op {
	case lang.OpNext:
		return Next
	case lang.OpDelete:
		return Delete
	case lang.OpUpsert:
		return Upsert
	case lang.OpAsync:
		return Async
	}
	return Positive
}

func (p *Plan) buildGraph() {
	g := &Graph{Stratum: make([]int, len(p.Colls))}
	ri := -1
	for _, r := range p.Prog.Rules {
		if r.Rule.IsFact() {
			continue
		}
		ri++ // rules are numbered as in Plan.Rules, facts skipped
		head := p.collID(r.Head.Collection)
		for _, b := range r.Body {
			if b.Atom == nil {
				continue
			}
			k := opEdgeKind(r.Rule.Op)
			if k == Positive {
				if b.Atom.Atom.Negated {
					k = Negated
				} else if nonLatticeAgg(r) {
					k = Aggregated
				}
			}
			g.Edges = append(g.Edges, &Edge{From: p.collID(b.Atom.Collection), To: head, Kind: k, Rule: r, RuleIdx: ri, AtomPos: b.Atom.Atom.At,
				Negated: b.Atom.Atom.Negated, Aggregates: nonLatticeAgg(r)})
		}
	}
	p.Graph = g
}

// nonLatticeAgg reports whether the rule's head uses an aggregate other
// than set (which builds a lattice and is monotone).
func nonLatticeAgg(r *lang.RuleInfo) bool {
	for _, i := range r.Head.AggCols {
		if c, ok := r.Head.Args[i].(*lang.Call); ok && c.Name != "set" {
			return true
		}
	}
	return false
}

// stratify computes the evaluation components (strongly connected
// components of the same-tick edges, in dependency order) and rejects a
// cycle through a negated or aggregated edge.
func (p *Plan) stratify() error {
	n := len(p.Colls)
	adj := make([][]*Edge, n)
	for _, e := range p.Graph.Edges {
		if !e.Kind.Temporal() {
			adj[e.From] = append(adj[e.From], e)
		}
	}
	// Tarjan's algorithm, iterative enough for our sizes via recursion on
	// collections (programs have at most thousands of collections).
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	var comps [][]int
	next := 0
	var visit func(v int)
	visit = func(v int) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, e := range adj[v] {
			w := e.To
			if index[w] < 0 {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var comp []int
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			sort.Ints(comp)
			comps = append(comps, comp)
		}
	}
	for v := 0; v < n; v++ {
		if index[v] < 0 {
			visit(v)
		}
	}
	// Tarjan emits components in reverse topological order.
	for i, j := 0, len(comps)-1; i < j; i, j = i+1, j-1 {
		comps[i], comps[j] = comps[j], comps[i]
	}
	compOf := make([]int, n)
	for ci, c := range comps {
		for _, v := range c {
			compOf[v] = ci
		}
	}
	var errs lang.ErrorList
	for _, e := range p.Graph.Edges {
		if e.Kind.NonMonotone() && compOf[e.From] == compOf[e.To] {
			errs = append(errs, p.cycleError(e, adj, compOf))
		}
	}
	if len(errs) > 0 {
		errs.Sort()
		return errs
	}
	// Strata: longest path counting non-monotone edges.
	for _, c := range comps {
		for _, v := range c {
			for _, e := range p.Graph.Edges {
				if e.To != v || e.Kind.Temporal() || compOf[e.From] == compOf[v] {
					continue
				}
				s := p.Graph.Stratum[e.From]
				if e.Kind.NonMonotone() {
					s++
				}
				p.Graph.Stratum[v] = max(p.Graph.Stratum[v], s)
			}
		}
		// Members of one component share a stratum.
		m := 0
		for _, v := range c {
			m = max(m, p.Graph.Stratum[v])
		}
		for _, v := range c {
			p.Graph.Stratum[v] = m
		}
	}
	p.compOrder = comps
	return nil
}

// cycleError reports the cycle that runs through a non-monotone edge, as
// `unstratifiable: p -> q -> not p (line 4, line 7)`.
func (p *Plan) cycleError(bad *Edge, adj [][]*Edge, compOf []int) *lang.Error {
	// Breadth-first search from the edge's head back to its tail, inside
	// the component, to close the cycle.
	prev := map[int]*Edge{}
	queue := []int{bad.To}
	seen := map[int]bool{bad.To: true}
	for len(queue) > 0 && !seen[bad.From] {
		v := queue[0]
		queue = queue[1:]
		for _, e := range adj[v] {
			if compOf[e.To] != compOf[bad.To] || seen[e.To] {
				continue
			}
			seen[e.To] = true
			prev[e.To] = e
			queue = append(queue, e.To)
		}
	}
	var path []*Edge
	for v := bad.From; v != bad.To; {
		e := prev[v]
		if e == nil {
			break
		}
		path = append([]*Edge{e}, path...)
		v = e.From
	}
	path = append(path, bad)
	var names []string
	var lines []string
	names = append(names, p.Colls[path[0].From].Name)
	for _, e := range path {
		names = append(names, edgeLabel(e, p.Colls[e.To].Name))
		lines = append(lines, fmt.Sprintf("line %d", e.Rule.Rule.At.Line))
	}
	pos := bad.AtomPos
	if bad.Kind == Aggregated {
		pos = bad.Rule.Rule.At
	}
	return &lang.Error{Pos: pos, Msg: fmt.Sprintf("unstratifiable: %s (%s): a collection cannot depend on %s of itself in the same tick; break the cycle with <+ or use a lattice",
		strings.Join(names, " -> "), strings.Join(lines, ", "), map[bool]string{true: "the negation", false: "an aggregate"}[bad.Kind == Negated])}
}

func edgeLabel(e *Edge, name string) string {
	switch e.Kind {
	case Negated:
		return "not " + name
	case Aggregated:
		return "aggregate " + name
	}
	return name
}
