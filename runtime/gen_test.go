package runtime_test

// A generator of random, stratified-by-construction Bloom programs for the
// differential test (difftest_test.go). It produces source text through a
// small structured form (genProg) that the shrinker can cut down: rules,
// facts, body literals and declarations are separate items.

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// genColl is a generated collection: int columns, and for a keyed lattice
// collection a last column lmax<int> or lmin<int> keyed by the others. A
// "lattice" collection is `lattice NAME: lmax<int>` (one lattice column).
type genColl struct {
	name  string
	kind  string // "table", "scratch" or "lattice"
	arity int
	lat   string // "", "lmax" or "lmin": the last column's lattice
	// keyed declares key(every column but the last); implied by lat for
	// tables and scratches.
	keyed   bool
	stratum int
}

// isLat reports whether column i holds a lattice.
func (c genColl) isLat(i int) bool { return c.lat != "" && i == c.arity-1 }

// genRule is a rendered rule: the head, the op and the body literals.
type genRule struct {
	head string
	op   string
	body []string
}

// genProg is a generated program.
type genProg struct {
	colls []genColl
	facts []string
	rules []genRule
	// ticks is the number of ticks to run (1 for the single-tick corpus).
	ticks int
}

func (c genColl) decl() string {
	if c.kind == "lattice" {
		return fmt.Sprintf("lattice %s: %s<int>;", c.name, c.lat)
	}
	var cols []string
	for i := range c.arity {
		typ := "int"
		if c.lat != "" && i == c.arity-1 {
			typ = c.lat + "<int>"
		}
		cols = append(cols, fmt.Sprintf("c%d: %s", i, typ))
	}
	s := fmt.Sprintf("%s %s(%s)", c.kind, c.name, strings.Join(cols, ", "))
	if c.lat != "" || c.keyed {
		var key []string
		for i := range c.arity - 1 {
			key = append(key, fmt.Sprintf("c%d", i))
		}
		s += " key(" + strings.Join(key, ", ") + ")"
	}
	return s + ";"
}

// String renders the program as Bloom source.
func (p *genProg) String() string {
	var b strings.Builder
	if p.ticks > 1 {
		fmt.Fprintf(&b, "// ticks: %d\n", p.ticks)
	}
	for _, c := range p.colls {
		b.WriteString(c.decl())
		b.WriteByte('\n')
	}
	for _, f := range p.facts {
		b.WriteString(f)
		b.WriteByte('\n')
	}
	for _, r := range p.rules {
		fmt.Fprintf(&b, "%s %s %s;\n", r.head, r.op, strings.Join(r.body, ", "))
	}
	return b.String()
}

func (p *genProg) clone() *genProg {
	q := &genProg{ticks: p.ticks}
	q.colls = slices.Clone(p.colls)
	q.facts = slices.Clone(p.facts)
	for _, r := range p.rules {
		r.body = slices.Clone(r.body)
		q.rules = append(q.rules, r)
	}
	return q
}

// shrinkCandidates returns smaller variants of p, most aggressive first.
// Many are not valid programs (a removed literal may leave a head variable
// unbound); the shrinker drops those when the loader rejects them.
func (p *genProg) shrinkCandidates() []*genProg {
	var out []*genProg
	if p.ticks > 1 {
		q := p.clone()
		q.ticks--
		out = append(out, q)
	}
	for i := range p.rules {
		q := p.clone()
		q.rules = slices.Delete(q.rules, i, i+1)
		out = append(out, q)
	}
	if len(p.facts) > 1 {
		// Halves first, then single facts.
		h := len(p.facts) / 2
		q := p.clone()
		q.facts = q.facts[:h]
		out = append(out, q)
		q = p.clone()
		q.facts = q.facts[h:]
		out = append(out, q)
	}
	for i := range p.facts {
		q := p.clone()
		q.facts = slices.Delete(q.facts, i, i+1)
		out = append(out, q)
	}
	for i, r := range p.rules {
		if len(r.body) < 2 {
			continue
		}
		for j := range r.body {
			q := p.clone()
			q.rules[i].body = slices.Delete(q.rules[i].body, j, j+1)
			out = append(out, q)
		}
	}
	for i, r := range p.rules {
		if r.op != "<=" {
			q := p.clone()
			q.rules[i].op = "<="
			out = append(out, q)
		}
	}
	for i := range p.colls {
		q := p.clone()
		q.colls = slices.Delete(q.colls, i, i+1)
		out = append(out, q)
	}
	for i, c := range p.colls {
		if c.kind == "scratch" {
			q := p.clone()
			q.colls[i].kind = "table"
			out = append(out, q)
		}
	}
	return out
}

// genVar is a variable bound in the body of the rule being generated.
type genVar struct {
	name string
	kind string // "int", "lmax" or "lmin"
}

type generator struct {
	r        *rand.Rand
	p        *genProg
	temporal bool
	// populated holds the collections that have facts or head a rule
	// generated so far; body atoms prefer them so that rules fire.
	populated map[string]bool
	// per rule
	vars   []genVar
	nvar   int
	assign map[string]bool // variables bound by an assignment
}

// genProgram generates one program; the same seed always gives the same
// program. With temporal set, some rules use <+, <- and <+- and the program
// runs for several ticks.
func genProgram(seed uint64, temporal bool) *genProg {
	g := &generator{r: rand.New(rand.NewPCG(seed, 0x5eed_b100_da7a)), p: &genProg{ticks: 1}, temporal: temporal, populated: map[string]bool{}}
	r := g.r
	if temporal {
		g.p.ticks = 3 + r.IntN(3)
	}
	n := 3 + r.IntN(4)
	for i := range n {
		c := genColl{name: fmt.Sprintf("r%d", i), kind: "table", arity: 1 + r.IntN(3), stratum: r.IntN(3)}
		if r.IntN(3) == 0 {
			c.kind = "scratch"
		}
		switch k := r.IntN(12); {
		case k == 0:
			c.kind, c.arity, c.lat = "lattice", 1, []string{"lmax", "lmin"}[r.IntN(2)]
		case c.arity >= 2 && k < 3:
			c.lat, c.keyed = []string{"lmax", "lmin"}[r.IntN(2)], true
		case c.arity >= 2 && k == 3:
			// Key violations make the tick fail, which the test checks
			// too; they are kept rare so that most programs run.
			c.keyed = true
		}
		g.p.colls = append(g.p.colls, c)
	}
	for _, c := range g.p.colls {
		chance := 3
		if c.stratum == 0 {
			chance = 9
		}
		if r.IntN(10) >= chance {
			continue
		}
		g.populated[c.name] = true
		keys := map[string]bool{}
		for range 1 + r.IntN(6) {
			var vals []string
			for range c.arity {
				vals = append(vals, fmt.Sprint(r.IntN(6)))
			}
			if c.keyed && c.lat == "" {
				// Distinct keys: facts that violate the key would fail
				// the first tick of most such programs.
				k := strings.Join(vals[:c.arity-1], ",")
				if keys[k] {
					continue
				}
				keys[k] = true
			}
			g.p.facts = append(g.p.facts, fmt.Sprintf("%s(%s);", c.name, strings.Join(vals, ", ")))
		}
	}
	for range 2 + r.IntN(7) {
		rule := g.rule()
		g.p.rules = append(g.p.rules, rule)
		name, _, _ := strings.Cut(rule.head, "(")
		g.populated[name] = true
	}
	return g.p
}

func (g *generator) newVar(kind string) string {
	name := string(rune('a' + g.nvar))
	if g.nvar >= 26 {
		name = fmt.Sprintf("v%d", g.nvar)
	}
	g.nvar++
	g.vars = append(g.vars, genVar{name, kind})
	return name
}

// intVar returns a random bound int variable, or "".
func (g *generator) intVar() string {
	var ints []string
	for _, v := range g.vars {
		if v.kind == "int" {
			ints = append(ints, v.name)
		}
	}
	if len(ints) == 0 {
		return ""
	}
	return ints[g.r.IntN(len(ints))]
}

func (g *generator) varOfKind(kind string) string {
	var vs []string
	for _, v := range g.vars {
		if v.kind == kind {
			vs = append(vs, v.name)
		}
	}
	if len(vs) == 0 {
		return ""
	}
	return vs[g.r.IntN(len(vs))]
}

// pick returns one of cands, usually a populated one.
func (g *generator) pick(cands []genColl) genColl {
	var pop []genColl
	for _, c := range cands {
		if g.populated[c.name] {
			pop = append(pop, c)
		}
	}
	if len(pop) > 0 && g.r.IntN(10) < 8 {
		cands = pop
	}
	return cands[g.r.IntN(len(cands))]
}

// otherIntVar returns a bound int variable other than x when there is one.
func (g *generator) otherIntVar(x string) string {
	for range 4 {
		if y := g.intVar(); y != x {
			return y
		}
	}
	return x
}

// bodyLit is a body literal with the assigned variables it defines and uses
// (an assignment must come before the literals that use its variable).
type bodyLit struct {
	text string
	def  string
	uses []string
}

func (g *generator) rule() genRule {
	r := g.r
	g.vars, g.nvar, g.assign = nil, 0, map[string]bool{}
	colls := g.p.colls
	head := colls[r.IntN(len(colls))]
	op := "<="
	if g.temporal && r.IntN(5) < 2 {
		op = []string{"<+", "<+", "<-", "<+-"}[r.IntN(4)]
	}
	if head.kind == "lattice" && (op == "<-" || op == "<+-") {
		op = "<+" // a lattice only grows
	}
	temporal := op != "<="
	var below, negatable, upTo []genColl
	for _, c := range colls {
		if c.stratum < head.stratum || temporal {
			below = append(below, c)
			if c.kind != "lattice" { // a lattice cannot be negated
				negatable = append(negatable, c)
			}
		}
		if c.stratum <= head.stratum || temporal {
			upTo = append(upTo, c)
		}
	}
	agg := (op == "<=" || op == "<+") && head.lat == "" && len(below) > 0 && r.IntN(4) == 0
	pos := upTo
	if agg {
		pos = below
	}

	var lits []bodyLit
	for range 1 + r.IntN(3) {
		if r.IntN(4) == 0 && len(lits) > 0 {
			break
		}
		lits = append(lits, bodyLit{text: g.atom(g.pick(pos), false)})
	}
	for range r.IntN(4) {
		switch r.IntN(3) {
		case 0: // assignment
			x := g.intVar()
			if x == "" {
				continue
			}
			var e string
			switch r.IntN(4) {
			case 0:
				e = fmt.Sprintf("%s + %d", x, 1+r.IntN(3))
			case 1:
				e = fmt.Sprintf("%s + %s", x, g.otherIntVar(x))
			case 2:
				e = fmt.Sprintf("%s * %s", x, g.otherIntVar(x))
			default:
				e = fmt.Sprintf("%s - %s", x, g.otherIntVar(x))
			}
			uses := g.assignedIn(e)
			z := g.newVar("int")
			g.assign[z] = true
			lits = append(lits, bodyLit{text: fmt.Sprintf("%s = (%s) %% 7", z, e), def: z, uses: uses})
		case 1: // condition
			if r.IntN(4) == 0 {
				if lv := g.varOfKind("lmax"); lv != "" {
					lits = append(lits, bodyLit{text: fmt.Sprintf("%s >= %d", lv, r.IntN(6))})
					continue
				}
				if lv := g.varOfKind("lmin"); lv != "" {
					lits = append(lits, bodyLit{text: fmt.Sprintf("%s <= %d", lv, r.IntN(6))})
					continue
				}
			}
			x := g.intVar()
			if x == "" {
				continue
			}
			var c string
			switch r.IntN(7) {
			case 0:
				c = fmt.Sprintf("%s < %s", x, g.otherIntVar(x))
			case 1:
				c = fmt.Sprintf("%s != %d", x, r.IntN(6))
			case 2:
				c = fmt.Sprintf("%s + %s > %d", x, g.otherIntVar(x), r.IntN(8))
			case 3:
				c = fmt.Sprintf("%s <= %s", x, g.otherIntVar(x))
			case 4:
				c = fmt.Sprintf("%s == %d", x, r.IntN(6))
			case 5:
				c = fmt.Sprintf("(%s < %s || %s == %d)", x, g.otherIntVar(x), x, r.IntN(6))
			default:
				c = fmt.Sprintf("!(%s == %d)", x, r.IntN(6))
			}
			lits = append(lits, bodyLit{text: c, uses: g.assignedIn(c)})
		default: // negation
			if len(negatable) == 0 {
				continue
			}
			text := g.atom(g.pick(negatable), true)
			lits = append(lits, bodyLit{text: text, uses: g.assignedIn(text)})
		}
	}
	g.shuffle(lits)

	var args []string
	aggCols := map[int]bool{}
	if agg && g.intVar() != "" {
		for i := range head.arity {
			if len(aggCols) == 0 && i == head.arity-1 || r.IntN(3) == 0 {
				aggCols[i] = true
			}
		}
	}
	for i := range head.arity {
		switch {
		case aggCols[i]:
			args = append(args, fmt.Sprintf("%s(%s)", []string{"count", "sum", "min", "max"}[r.IntN(4)], g.intVar()))
		case head.isLat(i) && r.IntN(2) == 0 && g.varOfKind(head.lat) != "":
			args = append(args, g.varOfKind(head.lat))
		case r.IntN(7) == 0 || g.intVar() == "":
			args = append(args, fmt.Sprint(r.IntN(6)))
		case r.IntN(8) == 0:
			args = append(args, fmt.Sprintf("(%s + %d) %% 7", g.intVar(), 1+r.IntN(3)))
		default:
			args = append(args, g.intVar())
		}
	}
	var body []string
	for _, l := range lits {
		body = append(body, l.text)
	}
	return genRule{head: fmt.Sprintf("%s(%s)", head.name, strings.Join(args, ", ")), op: op, body: body}
}

// atom renders a body atom over c. A negated atom only uses bound
// variables; a positive one binds new variables, repeats bound ones
// (joins), and uses constants and wildcards. Lattice columns get a
// wildcard or a new variable of the lattice's kind (which is only used in
// threshold tests and lattice head columns of the same kind, so that the
// program stays monotone within a stratum).
func (g *generator) atom(c genColl, negated bool) string {
	r := g.r
	var args []string
	// A positive atom after the first joins on at least one column, so
	// that bodies are not cross products of whole relations (which would
	// make the naive reference far too slow).
	join, joinVar := -1, g.intVar() // a variable bound before this atom
	ints := c.arity                 // int columns come first
	if c.lat != "" {
		ints--
	}
	if !negated && ints > 0 && joinVar != "" {
		join = r.IntN(ints)
	}
	for i := range c.arity {
		lat := c.isLat(i)
		switch {
		case i == join:
			args = append(args, joinVar)
		case lat && (negated || r.IntN(2) == 0):
			args = append(args, "_")
		case lat:
			args = append(args, g.newVar(c.lat))
		default:
			x := g.intVar()
			k := r.IntN(20)
			switch {
			case k < 8 && x != "" && (negated || !g.assign[x]):
				args = append(args, x)
			case k < 14 && !negated:
				args = append(args, g.newVar("int"))
			case k < 17:
				args = append(args, fmt.Sprint(r.IntN(6)))
			default:
				args = append(args, "_")
			}
		}
	}
	s := fmt.Sprintf("%s(%s)", c.name, strings.Join(args, ", "))
	if negated {
		s = "not " + s
	}
	return s
}

// assignedIn lists the assignment-bound variables that text mentions.
func (g *generator) assignedIn(text string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(text, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		if g.assign[f] {
			out = append(out, f)
		}
	}
	return out
}

// shuffle reorders the body at random (half of the time), keeping every
// assignment before the literals that use its variable.
func (g *generator) shuffle(lits []bodyLit) {
	if g.r.IntN(2) == 0 {
		return
	}
	for range 10 {
		cand := slices.Clone(lits)
		g.r.Shuffle(len(cand), func(i, j int) { cand[i], cand[j] = cand[j], cand[i] })
		ok := true
		defined := map[string]bool{}
		for _, l := range cand {
			for _, u := range l.uses {
				if !defined[u] {
					ok = false
				}
			}
			if l.def != "" {
				defined[l.def] = true
			}
		}
		if ok {
			copy(lits, cand)
			return
		}
	}
}

// TestGeneratorCoverage checks that the generator is deterministic and
// that the corpora of the differential tests use every construct they are
// meant to test.
func TestGeneratorCoverage(t *testing.T) {
	for _, temporal := range []bool{false, true} {
		counts := map[string]int{}
		for seed := range uint64(1000) {
			p := genProgram(seed, temporal)
			if q := genProgram(seed, temporal); q.String() != p.String() {
				t.Fatalf("seed %d: two different programs", seed)
			}
			for _, c := range p.colls {
				switch {
				case c.kind == "lattice":
					counts["lattice collection"]++
				case c.lat != "":
					counts["keyed lattice column"]++
				case c.keyed:
					counts["keyed table"]++
				}
			}
			for _, r := range p.rules {
				head, _, _ := strings.Cut(r.head, "(")
				counts["op "+r.op]++
				for _, agg := range []string{"count(", "sum(", "min(", "max("} {
					if strings.Contains(r.head, agg) {
						counts["aggregate "+agg]++
					}
				}
				if strings.Contains(r.head, "%") {
					counts["head expression"]++
				}
				atoms := 0
				for _, l := range r.body {
					switch {
					case strings.HasPrefix(l, "not "):
						counts["negation"]++
					case strings.Contains(l, " = "):
						counts["assignment"]++
					case strings.ContainsAny(l, "<>=!"):
						counts["condition"]++
					default:
						atoms++
						if strings.HasPrefix(l, head+"(") {
							counts["recursion"]++
						}
						if strings.Contains(l, "_") {
							counts["wildcard"]++
						}
						if _, args, _ := strings.Cut(l, "("); strings.ContainsAny(args, "0123456789") {
							counts["constant in atom"]++
						}
					}
				}
				if atoms > 1 {
					counts["join"]++
				}
			}
		}
		want := []string{"lattice collection", "keyed lattice column", "keyed table", "op <=",
			"aggregate count(", "aggregate sum(", "aggregate min(", "aggregate max(", "head expression",
			"negation", "assignment", "condition", "recursion", "wildcard", "constant in atom", "join"}
		if temporal {
			want = append(want, "op <+", "op <-", "op <+-")
		}
		for _, w := range want {
			if counts[w] < 20 {
				t.Errorf("temporal=%v: %q occurs %d times in 1000 programs", temporal, w, counts[w])
			}
		}
		t.Logf("temporal=%v: %v", temporal, counts)
	}
}
