package analysis

import (
	"errors"
	"sort"
	"strings"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
)

// Verdict classifies a non-monotone point.
type Verdict int

// Verdicts.
const (
	// Local: no channel data reaches the construct's non-monotone input;
	// it is deterministic and needs no coordination.
	Local Verdict = iota
	// PointOfOrder: the non-monotone input depends on a channel; the
	// outcome depends on message order and timing unless coordinated.
	PointOfOrder
	// Acknowledged: a point of order (or race) in a rule marked
	// @coordinated("reason").
	Acknowledged
)

var verdictNames = [...]string{"local", "point-of-order", "acknowledged"}

func (v Verdict) String() string { return verdictNames[v] }

// Construct names a non-monotone construct.
type Construct int

// Non-monotone constructs (see the package documentation).
const (
	Negation Construct = iota
	Aggregate
	Deletion
	Upsert
	Value
	Now
	KeyConstraint
	LatticeComparison
)

var constructNames = [...]string{"negation", "aggregate", "deletion", "upsert", "value", "now", "key-constraint", "lattice-comparison"}

func (c Construct) String() string { return constructNames[c] }

// Step is one hop of a dependency path from a channel: Collection is
// derived by Rule (nil for the first step, the channel itself) with the
// rule's operator Op.
type Step struct {
	Collection string
	Rule       *lang.RuleInfo
	Op         string
}

// Point is one occurrence of a non-monotone construct.
type Point struct {
	Construct Construct
	Verdict   Verdict
	Pos       lang.Pos
	Rule      *lang.RuleInfo
	// Detail is the construct as written: "not done(x)", "count(p)", "<-",
	// "value(c)", "size(s) < 3", "key(k) of kvs".
	Detail string
	// What describes the construct in a message, e.g. "negation `not done(x)`".
	What string
	// Inputs are the collections that feed the non-monotone input, in body
	// order (the head collection last, for <- and <+-).
	Inputs []string
	// Input is the channel-dependent input the path leads to, Channel the
	// channel the path starts from, Channels every channel that reaches an
	// input. All empty for a Local point.
	Input    string
	Channel  string
	Channels []string
	Path     []Step
	// Reason is the @coordinated reason of an Acknowledged point.
	Reason string
	Remedy string
	// verb joins What to the inputs in messages.
	verb string
	// Edges holds the indexes (in Report.Edges) of the edges the point
	// labels non-monotone.
	Edges []int
}

// RaceSide is one channel-dependent atom of a racing join.
type RaceSide struct {
	Collection string
	Pos        lang.Pos
	Atom       string // the atom as written, e.g. "checkout(_, c, s, n)"
	// Transient is true for a side that carries message data in this tick
	// (a channel, or a transient collection filled from one); false for a
	// table or lattice that accumulates channel data.
	Transient bool
	Channel   string
	Path      []Step
}

// Race is a same-tick join of transient channel data with other
// channel-dependent data (unguarded asynchrony).
type Race struct {
	Pos  lang.Pos // the first transient side
	Rule *lang.RuleInfo
	// Sides lists every channel-dependent positive atom of the join, in
	// body order.
	Sides []RaceSide
	// Acknowledged is true when the rule is marked @coordinated(Reason).
	Acknowledged bool
	Reason       string
	Remedy       string
}

// EdgeLabel labels one edge of Plan.Graph.Edges (same index).
type EdgeLabel struct {
	Edge     *compiler.Edge
	From, To string
	// Monotone is false when some construct of the rule makes this edge
	// non-monotone; Constructs lists them (sorted, without duplicates).
	Monotone   bool
	Constructs []Construct
	// Points are the non-monotone points that label this edge.
	Points []*Point
	// Race is true when the edge's body atom is a side of a race.
	Race bool
}

// Verdict summarises an edge: "monotone", "local", "acknowledged" or
// "point-of-order" (the most severe of its points).
func (l *EdgeLabel) Verdict() string {
	if l.Monotone {
		return "monotone"
	}
	best := Local
	for _, p := range l.Points {
		if p.Verdict == PointOfOrder || (p.Verdict == Acknowledged && best == Local) {
			best = p.Verdict
		}
	}
	return best.String()
}

// Report is the analysis of one program.
type Report struct {
	Plan   *compiler.Plan
	File   string // the root file
	Module string // the root module's name, "" without one
	// Channels are the program's channels, in declaration order.
	Channels []string
	// DependsOn maps every channel-dependent collection to the channels
	// that reach it, sorted; collections fed only by local data are absent.
	DependsOn map[string][]string
	// Edges labels Plan.Graph.Edges, index for index.
	Edges []*EdgeLabel
	// Points holds every non-monotone point, sorted by position.
	Points []*Point
	// Races holds every race, sorted by position.
	Races []*Race
}

// Summary counts a report's findings.
type Summary struct {
	PointsOfOrder int // unacknowledged
	Races         int // unacknowledged
	Acknowledged  int // points of order and races
	Local         int
}

// Summary counts the findings.
func (r *Report) Summary() Summary {
	var s Summary
	for _, p := range r.Points {
		switch p.Verdict {
		case Local:
			s.Local++
		case PointOfOrder:
			s.PointsOfOrder++
		case Acknowledged:
			s.Acknowledged++
		}
	}
	for _, rc := range r.Races {
		if rc.Acknowledged {
			s.Acknowledged++
		} else {
			s.Races++
		}
	}
	return s
}

// CoordinationFree reports whether the program has no unacknowledged point
// of order and no unacknowledged race.
func (r *Report) CoordinationFree() bool {
	s := r.Summary()
	return s.PointsOfOrder == 0 && s.Races == 0
}

// Analyze labels the plan's edges and finds its points of order and races.
func Analyze(plan *compiler.Plan) (*Report, error) {
	if plan == nil || plan.Prog == nil || plan.Graph == nil {
		return nil, errors.New("analysis: no compiled plan")
	}
	a := &analyzer{plan: plan, edgesOf: map[*lang.RuleInfo]map[int]int{}}
	rep := &Report{Plan: plan, Module: plan.Prog.Name, DependsOn: map[string][]string{}}
	if plan.Prog.Root != nil {
		rep.File = plan.Prog.Root.Name
	}
	a.rep = rep
	for _, c := range plan.Colls {
		if c.Info.Kind == lang.Channel {
			rep.Channels = append(rep.Channels, c.Name)
		}
	}
	a.indexEdges()
	a.channelDeps()
	a.writers()
	for _, r := range plan.Prog.Rules {
		if r.Rule.IsFact() {
			continue
		}
		a.rule(r)
		a.race(r)
	}
	for _, l := range rep.Edges {
		l.Monotone = len(l.Constructs) == 0
		sort.Slice(l.Constructs, func(i, j int) bool { return l.Constructs[i] < l.Constructs[j] })
		l.Constructs = dedupConstructs(l.Constructs)
	}
	sort.SliceStable(rep.Points, func(i, j int) bool {
		p, q := rep.Points[i], rep.Points[j]
		if p.Pos != q.Pos {
			return p.Pos.Before(q.Pos)
		}
		return p.Construct < q.Construct
	})
	sort.SliceStable(rep.Races, func(i, j int) bool { return rep.Races[i].Pos.Before(rep.Races[j].Pos) })
	return rep, nil
}

func dedupConstructs(cs []Construct) []Construct {
	out := cs[:0]
	for i, c := range cs {
		if i == 0 || c != cs[i-1] {
			out = append(out, c)
		}
	}
	return out
}

type analyzer struct {
	plan *compiler.Plan
	rep  *Report
	// edgesOf maps a rule and a body index to the edge's index.
	edgesOf map[*lang.RuleInfo]map[int]int
	// dist and pred: shortest path from any channel over all edges.
	dist []int
	pred []int // edge index, -1 for a channel or an unreached collection
	// carries marks the collections that carry message data in the tick
	// (see the package documentation); mpred gives their paths.
	carries []bool
	mpred   []int
	// writerCount counts the rules (not facts) whose head is a collection.
	writerCount []int
}

func (a *analyzer) indexEdges() {
	for ei, e := range a.plan.Graph.Edges {
		a.rep.Edges = append(a.rep.Edges, &EdgeLabel{Edge: e, From: a.plan.Colls[e.From].Name, To: a.plan.Colls[e.To].Name})
		m := a.edgesOf[e.Rule]
		if m == nil {
			m = map[int]int{}
			a.edgesOf[e.Rule] = m
		}
		for bi, b := range e.Rule.Body {
			if b.Atom != nil && b.Atom.Atom.At == e.AtomPos {
				m[bi] = ei
				break
			}
		}
	}
}

// channelDeps computes, for every collection, the channels that reach it
// over any edge, the shortest such path, and which collections carry
// message data.
func (a *analyzer) channelDeps() {
	n := len(a.plan.Colls)
	out := make([][]int, n)
	for ei, e := range a.plan.Graph.Edges {
		out[e.From] = append(out[e.From], ei)
	}
	deps := make([]map[string]bool, n)
	for _, c := range a.plan.Colls {
		if c.Info.Kind != lang.Channel {
			continue
		}
		seen := make([]bool, n)
		seen[c.ID] = true
		queue := []int{c.ID}
		for len(queue) > 0 {
			v := queue[0]
			queue = queue[1:]
			if deps[v] == nil {
				deps[v] = map[string]bool{}
			}
			deps[v][c.Name] = true
			for _, ei := range out[v] {
				if w := a.plan.Graph.Edges[ei].To; !seen[w] {
					seen[w] = true
					queue = append(queue, w)
				}
			}
		}
	}
	for id, d := range deps {
		if len(d) == 0 {
			continue
		}
		names := make([]string, 0, len(d))
		for ch := range d {
			names = append(names, ch)
		}
		sort.Strings(names)
		a.rep.DependsOn[a.plan.Colls[id].Name] = names
	}
	a.dist, a.pred = a.bfs(out, func(*compiler.Edge) bool { return true })
	// Message data: channels, and transient collections filled from
	// message data (not by deletions, which carry none).
	_, a.mpred = a.bfs(out, func(e *compiler.Edge) bool {
		to := a.plan.Colls[e.To]
		return e.Kind != compiler.Delete && to.Transient && to.Info.Kind != lang.Periodic
	})
	a.carries = make([]bool, n)
	for id, c := range a.plan.Colls {
		a.carries[id] = c.Info.Kind == lang.Channel || a.mpred[id] >= 0
	}
}

// bfs is a multi-source breadth-first search from every channel, in
// declaration order, over the edges that follow accepts.
func (a *analyzer) bfs(out [][]int, follow func(*compiler.Edge) bool) (dist, pred []int) {
	n := len(a.plan.Colls)
	dist = make([]int, n)
	pred = make([]int, n)
	var queue []int
	for id, c := range a.plan.Colls {
		pred[id] = -1
		dist[id] = -1
		if c.Info.Kind == lang.Channel {
			dist[id] = 0
			queue = append(queue, id)
		}
	}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, ei := range out[v] {
			e := a.plan.Graph.Edges[ei]
			if dist[e.To] >= 0 || !follow(e) {
				continue
			}
			dist[e.To] = dist[v] + 1
			pred[e.To] = ei
			queue = append(queue, e.To)
		}
	}
	return dist, pred
}

// path returns the steps from a channel to collection id following pred.
func (a *analyzer) path(pred []int, id int) []Step {
	var steps []Step
	for v := id; ; {
		ei := pred[v]
		if ei < 0 {
			steps = append(steps, Step{Collection: a.plan.Colls[v].Name})
			break
		}
		e := a.plan.Graph.Edges[ei]
		steps = append(steps, Step{Collection: a.plan.Colls[v].Name, Rule: e.Rule, Op: e.Rule.Rule.Op.String()})
		v = e.From
	}
	for i, j := 0, len(steps)-1; i < j; i, j = i+1, j-1 {
		steps[i], steps[j] = steps[j], steps[i]
	}
	return steps
}

func (a *analyzer) dependent(name string) bool { return len(a.rep.DependsOn[name]) > 0 }

func (a *analyzer) writers() {
	a.writerCount = make([]int, len(a.plan.Colls))
	for _, r := range a.plan.Prog.Rules {
		if !r.Rule.IsFact() {
			a.writerCount[a.plan.ByName[r.Head.Collection.Name].ID]++
		}
	}
}

// ruleCtx is what one rule's analysis needs.
type ruleCtx struct {
	r       *lang.RuleInfo
	sources map[string]map[int]bool // variable -> positive body atoms binding it
}

// pending describes a construct found in a rule before its verdict.
type pending struct {
	construct Construct
	pos       lang.Pos
	detail    string
	what      string
	atoms     []int // body indexes of the input atoms
	head      bool  // the head collection is an input too
	ruleWide  bool  // labels every edge of the rule
	remedy    string
	verb      string // " reads " unless set
}

func (a *analyzer) rule(r *lang.RuleInfo) {
	rc := &ruleCtx{r: r, sources: map[string]map[int]bool{}}
	rc.bindSources()
	var found []pending
	all := rc.allAtoms()
	head := r.Head.Collection.Name

	for i, b := range r.Body {
		if b.Atom != nil && b.Atom.Atom.Negated {
			text := "not " + atomText(b.Atom)
			found = append(found, pending{construct: Negation, pos: b.Atom.Atom.At, detail: text,
				what: "negation `" + text + "`", atoms: []int{i}, remedy: remedyNegation(b.Atom.Collection.Name)})
		}
	}
	for _, ci := range r.Head.AggCols {
		call, ok := r.Head.Args[ci].(*lang.Call)
		if !ok || call.Name == "set" {
			continue
		}
		text := lang.ExprString(call)
		found = append(found, pending{construct: Aggregate, pos: call.At, detail: text,
			what: "aggregate `" + text + "`", atoms: all, ruleWide: true, remedy: remedyAggregate(call.Name)})
	}
	switch r.Rule.Op {
	case lang.OpDelete:
		found = append(found, pending{construct: Deletion, pos: r.Rule.OpPos, detail: "<-",
			what: "deletion `<-` from " + head, atoms: all, head: true, ruleWide: true, remedy: remedyDeletion(head)})
	case lang.OpUpsert:
		found = append(found, pending{construct: Upsert, pos: r.Rule.OpPos, detail: "<+-",
			what: "upsert `<+-` into " + head, atoms: all, head: true, ruleWide: true, remedy: remedyUpsert(a.plan.ByName[head])})
	}
	found = append(found, rc.exprConstructs(all)...)
	found = append(found, rc.latticeJoins()...)
	if p, ok := a.keyConstraint(r, all); ok {
		found = append(found, p)
	}

	edges := a.edgesOf[r]
	for _, f := range found {
		p := &Point{Construct: f.construct, Pos: f.pos, Rule: r, Detail: f.detail, What: f.what, Remedy: f.remedy, verb: f.verb}
		if p.verb == "" {
			p.verb = " reads "
		}
		// Inputs and the nearest channel-dependent one.
		seen := map[string]bool{}
		chans := map[string]bool{}
		bestDist := -1
		consider := func(name string) {
			if !seen[name] {
				seen[name] = true
				p.Inputs = append(p.Inputs, name)
			}
			for _, ch := range a.rep.DependsOn[name] {
				chans[ch] = true
			}
			id := a.plan.ByName[name].ID
			if d := a.dist[id]; d >= 0 && (bestDist < 0 || d < bestDist) {
				bestDist = d
				p.Input = name
			}
		}
		for _, i := range f.atoms {
			consider(r.Body[i].Atom.Collection.Name)
		}
		if f.head {
			consider(head)
		}
		if p.Input != "" {
			p.Path = a.path(a.pred, a.plan.ByName[p.Input].ID)
			p.Channel = p.Path[0].Collection
			for ch := range chans {
				p.Channels = append(p.Channels, ch)
			}
			sort.Strings(p.Channels)
			p.Verdict = PointOfOrder
			if r.HasCoordinated {
				p.Verdict = Acknowledged
				p.Reason = r.Coordinated
			}
		}
		// Label the edges.
		var idx []int
		if f.ruleWide {
			for _, ei := range edges {
				idx = append(idx, ei)
			}
		} else {
			for _, i := range f.atoms {
				if ei, ok := edges[i]; ok {
					idx = append(idx, ei)
				}
			}
		}
		sort.Ints(idx)
		for _, ei := range idx {
			l := a.rep.Edges[ei]
			l.Constructs = append(l.Constructs, f.construct)
			l.Points = append(l.Points, p)
		}
		p.Edges = idx
		a.rep.Points = append(a.rep.Points, p)
	}
}

// bindSources maps each variable to the positive body atoms it comes from,
// through assignments.
func (rc *ruleCtx) bindSources() {
	add := func(name string, i int) bool {
		m := rc.sources[name]
		if m == nil {
			m = map[int]bool{}
			rc.sources[name] = m
		}
		if m[i] {
			return false
		}
		m[i] = true
		return true
	}
	for i, b := range rc.r.Body {
		if b.Atom == nil || b.Atom.Atom.Negated {
			continue
		}
		for _, arg := range b.Atom.Args {
			if id, ok := arg.(*lang.Ident); ok {
				add(id.Name, i)
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for _, b := range rc.r.Body {
			if b.Assign == nil {
				continue
			}
			for _, i := range rc.exprAtoms(b.Assign.X) {
				if add(b.Assign.Var.Name, i) {
					changed = true
				}
			}
		}
	}
}

// exprAtoms returns the body atoms that bind the variables of e, sorted.
func (rc *ruleCtx) exprAtoms(e lang.Expr) []int {
	set := map[int]bool{}
	lang.Walk(e, func(x lang.Expr) {
		if id, ok := x.(*lang.Ident); ok {
			for i := range rc.sources[id.Name] {
				set[i] = true
			}
		}
	})
	out := make([]int, 0, len(set))
	for i := range set {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

// allAtoms returns the indexes of every body atom, positive or negated.
func (rc *ruleCtx) allAtoms() []int {
	var out []int
	for i, b := range rc.r.Body {
		if b.Atom != nil {
			out = append(out, i)
		}
	}
	return out
}

// exprs returns every expression of the rule outside body atoms: head
// arguments, conditions and assignments.
func (rc *ruleCtx) exprs() []lang.Expr {
	var out []lang.Expr
	for _, b := range rc.r.Body {
		switch {
		case b.Cond != nil:
			out = append(out, b.Cond.X)
		case b.Assign != nil:
			out = append(out, b.Assign.X)
		}
	}
	out = append(out, rc.r.Head.Args...)
	return out
}

func (rc *ruleCtx) typeOf(e lang.Expr) *lang.Type { return rc.r.Types[e] }

func isComparison(op string) bool {
	switch op {
	case "==", "!=", "<", "<=", ">", ">=":
		return true
	}
	return false
}

// exprConstructs finds now(), value() (and other scalar functions applied
// to lattices), non-threshold comparisons of lattice values and negated
// lbools.
func (rc *ruleCtx) exprConstructs(all []int) []pending {
	var found []pending
	for _, root := range rc.exprs() {
		lang.Walk(root, func(e lang.Expr) {
			switch e := e.(type) {
			case *lang.Call:
				if lang.IsAggregate(e) {
					return
				}
				text := lang.ExprString(e)
				if e.Name == "now" { // stdlib marks it NonMonotone
					found = append(found, pending{construct: Now, pos: e.At, detail: text,
						what: "`now()`", verb: " in a rule that reads ", atoms: all, ruleWide: true, remedy: remedyNow()})
					return
				}
				if fnMonotone(e.Name) {
					return
				}
				var lat []lang.Expr
				for _, arg := range e.Args {
					if rc.typeOf(arg).IsLattice() {
						lat = append(lat, arg)
					}
				}
				if reveals := fnRevealsValue(e.Name); reveals || len(lat) > 0 {
					if reveals {
						lat = e.Args
					}
					found = append(found, pending{construct: Value, pos: e.At, detail: text,
						what: valueWhat(e, text), atoms: rc.latticeAtoms(lat), remedy: remedyValue()})
				}
			case *lang.Binary:
				if !isComparison(e.Op) {
					return
				}
				xt, yt := rc.typeOf(e.X), rc.typeOf(e.Y)
				if !xt.IsLattice() && !yt.IsLattice() {
					return
				}
				if t := rc.typeOf(e); t != nil && t.Kind == lang.LBool {
					return // a threshold: monotone
				}
				if lboolTrueTest(e, xt, yt) {
					return
				}
				var lat []lang.Expr
				if xt.IsLattice() {
					lat = append(lat, e.X)
				}
				if yt.IsLattice() {
					lat = append(lat, e.Y)
				}
				text := lang.ExprString(e)
				found = append(found, pending{construct: LatticeComparison, pos: e.Pos(), detail: text,
					what: "comparison `" + text + "` of a lattice value", atoms: rc.latticeAtoms(lat), remedy: remedyComparison(e, xt, yt)})
			case *lang.Unary:
				if e.Op != "!" {
					return
				}
				if t := rc.typeOf(e.X); t == nil || t.Kind != lang.LBool {
					return
				}
				text := lang.ExprString(e)
				found = append(found, pending{construct: LatticeComparison, pos: e.At, detail: text,
					what: "negated lattice test `" + text + "`", atoms: rc.latticeAtoms([]lang.Expr{e.X}), remedy: remedyNotLBool()})
			}
		})
	}
	return found
}

func (rc *ruleCtx) exprsAtoms(es []lang.Expr) []int {
	set := map[int]bool{}
	for _, e := range es {
		for _, i := range rc.exprAtoms(e) {
			set[i] = true
		}
	}
	out := make([]int, 0, len(set))
	for i := range set {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

// latticeAtoms returns the body atoms that bind the lattice-typed variables
// of es (the lattice whose value a construct reads, not the scalars it is
// compared with or looked up by), or those of every variable when es has
// no lattice-typed variable.
func (rc *ruleCtx) latticeAtoms(es []lang.Expr) []int {
	var lat []lang.Expr
	for _, e := range es {
		lang.Walk(e, func(x lang.Expr) {
			if id, ok := x.(*lang.Ident); ok && rc.r.Vars[id.Name].IsLattice() {
				lat = append(lat, id)
			}
		})
	}
	if len(lat) == 0 {
		return rc.exprsAtoms(es)
	}
	return rc.exprsAtoms(lat)
}

// lboolTrueTest reports whether e is `l == true` or `l != false` (or the
// mirrored forms) on an lbool: monotone, since an lbool only goes from
// false to true.
func lboolTrueTest(e *lang.Binary, xt, yt *lang.Type) bool {
	lit, lt := e.Y, xt
	if yt != nil && yt.Kind == lang.LBool {
		lit, lt = e.X, yt
	}
	if lt == nil || lt.Kind != lang.LBool {
		return false
	}
	b, ok := lit.(*lang.BoolLit)
	if !ok {
		return false
	}
	return (e.Op == "==" && b.Val) || (e.Op == "!=" && !b.Val)
}

// latticeJoins finds a lattice-typed variable that appears in more than one
// positive body atom: the join tests equality of lattice values, which
// stops holding when either side grows.
func (rc *ruleCtx) latticeJoins() []pending {
	var found []pending
	first := map[string]int{}
	for i, b := range rc.r.Body {
		if b.Atom == nil || b.Atom.Atom.Negated {
			continue
		}
		for _, arg := range b.Atom.Args {
			id, ok := arg.(*lang.Ident)
			if !ok || !rc.r.Vars[id.Name].IsLattice() {
				continue
			}
			j, seen := first[id.Name]
			if !seen {
				first[id.Name] = i
				continue
			}
			other := rc.r.Body[j].Atom.Collection.Name
			found = append(found, pending{construct: LatticeComparison, pos: id.At, detail: "join on " + id.Name,
				what:  "join on the lattice value " + id.Name + " (of " + other + " and " + b.Atom.Collection.Name + ")",
				atoms: rc.exprAtoms(id), remedy: remedyLatticeJoin()})
		}
	}
	return found
}

// keyConstraint reports a rule that writes a keyed collection whose
// non-key columns are not all lattices: a second tuple with the same key
// fails the tick. An upsert replaces by key (and is reported as an upsert);
// a deletion adds nothing. A transient collection written only by this
// rule, an aggregate grouping by key columns only, cannot get two tuples
// with one key.
func (a *analyzer) keyConstraint(r *lang.RuleInfo, all []int) (pending, bool) {
	coll := a.plan.ByName[r.Head.Collection.Name]
	info := coll.Info
	if !info.HasKey || coll.Merge || info.Kind == lang.Lattice || len(info.Key) >= len(info.Cols) {
		return pending{}, false
	}
	switch r.Rule.Op {
	case lang.OpSame, lang.OpNext, lang.OpAsync:
	default:
		return pending{}, false
	}
	if coll.Transient && r.Rule.Op == lang.OpSame && a.writerCount[coll.ID] == 1 && groupsByKey(r, info) {
		return pending{}, false
	}
	var keys, bad []string
	for _, k := range info.Key {
		keys = append(keys, info.Cols[k].Name)
	}
	for i, c := range info.Cols {
		if !info.IsKey(i) && !c.Type.IsLattice() {
			bad = append(bad, c.Name+": "+c.Type.String())
		}
	}
	detail := "key(" + strings.Join(keys, ", ") + ") of " + coll.Name
	isNot := " is not a lattice"
	if len(bad) > 1 {
		isNot = " are not lattices"
	}
	what := "key constraint " + detail + " can reject a second tuple with the same key (" + strings.Join(bad, ", ") + isNot + ")"
	return pending{construct: KeyConstraint, pos: r.Head.Atom.At, detail: detail, what: what,
		verb: "; the rule reads ", atoms: all, ruleWide: true, remedy: remedyKey(coll)}, true
}

// groupsByKey reports whether r's head aggregates (without argmin/argmax,
// which yield a row per tied winner) and every group-by column is a key
// column.
func groupsByKey(r *lang.RuleInfo, info *lang.Collection) bool {
	if len(r.Head.AggCols) == 0 {
		return false
	}
	agg := map[int]bool{}
	for _, i := range r.Head.AggCols {
		agg[i] = true
		if c, ok := r.Head.Args[i].(*lang.Call); ok && (c.Name == "argmin" || c.Name == "argmax") {
			return false
		}
	}
	for i := range r.Head.Args {
		if !agg[i] && !info.IsKey(i) {
			return false
		}
	}
	return true
}

// race finds a same-tick join of message data with other channel-dependent
// data in r's body.
func (a *analyzer) race(r *lang.RuleInfo) {
	var sides []RaceSide
	carrying := 0
	for _, b := range r.Body {
		if b.Atom == nil || b.Atom.Atom.Negated {
			continue
		}
		name := b.Atom.Collection.Name
		if !a.dependent(name) {
			continue
		}
		id := a.plan.ByName[name].ID
		s := RaceSide{Collection: name, Pos: b.Atom.Atom.At, Atom: atomText(b.Atom), Transient: a.carries[id]}
		if s.Transient {
			carrying++
			s.Path = a.path(a.mpred, id)
		} else {
			s.Path = a.path(a.pred, id)
		}
		s.Channel = s.Path[0].Collection
		sides = append(sides, s)
	}
	if carrying == 0 || len(sides) < 2 {
		return
	}
	rc := &Race{Rule: r, Sides: sides, Acknowledged: r.HasCoordinated, Reason: r.Coordinated}
	var fixes []string
	fixed := map[string]int{}
	for _, s := range sides {
		if !s.Transient {
			continue
		}
		if !rc.Pos.IsValid() {
			rc.Pos = s.Pos
		}
		if n, ok := fixed[s.Collection]; ok {
			if !strings.HasSuffix(fixes[n], likewise) {
				fixes[n] += likewise
			}
			continue
		}
		for _, b := range r.Body {
			if b.Atom != nil && b.Atom.Atom.At == s.Pos {
				fixed[s.Collection] = len(fixes)
				fixes = append(fixes, persistFix(r, b.Atom))
			}
		}
	}
	rc.Remedy = remedyRace(fixes)
	edges := a.edgesOf[r]
	for bi, b := range r.Body {
		if b.Atom == nil || b.Atom.Atom.Negated || !a.dependent(b.Atom.Collection.Name) {
			continue
		}
		if ei, ok := edges[bi]; ok {
			a.rep.Edges[ei].Race = true
		}
	}
	a.rep.Races = append(a.rep.Races, rc)
}

const likewise = " (and likewise at its other occurrences)"

// atomText renders a resolved atom with its arguments in column order.
func atomText(ai *lang.AtomInfo) string {
	var b strings.Builder
	b.WriteString(ai.Atom.QualName())
	b.WriteByte('(')
	for i, arg := range ai.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(lang.ExprString(arg))
	}
	b.WriteByte(')')
	return b.String()
}

func valueWhat(e *lang.Call, text string) string {
	if fnRevealsValue(e.Name) {
		return "`" + text + "`"
	}
	return "`" + text + "` of a lattice value"
}
