package analysis

import (
	"fmt"
	"strings"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/stdlib"
)

// Remedies. Every point-of-order remedy names a monotone rewrite (which
// lattice or threshold), a seal, and ends with the coordination option.

// coordinate is appended to every point-of-order remedy.
const coordinate = "; or coordinate: decide it through std/twopc (two-phase commit) or std/quorum and mark the rule @coordinated(\"why\")"

// fnMonotone reports whether the built-in function is a monotone lattice
// function (size, has, at).
func fnMonotone(name string) bool {
	b, ok := stdlib.LookupBuiltin(name)
	return ok && b.Monotone
}

// fnRevealsValue reports whether the built-in function reveals a lattice's
// current value (value): stdlib marks it NonMonotone. now() is the other
// NonMonotone function and is reported as its own construct.
func fnRevealsValue(name string) bool {
	b, ok := stdlib.LookupBuiltin(name)
	return ok && b.NonMonotone && name != "now"
}

func remedyNegation(coll string) string {
	return "seal the input: the negation is only safe once " + coll + " is complete, so have the sender say when it is " +
		"(send the expected count, collect with set(...) and test `size(s) >= n`, as in the monotone shopping cart), " +
		"or record the absence as a positive fact (an lbool flag or an lset of settled keys tested with has())" + coordinate
}

func remedyAggregate(name string) string {
	var s string
	switch name {
	case "count":
		s = "rewrite with a lattice: collect the elements with set(x) into an lset column and test the threshold `size(s) >= n`, " +
			"which only flips from false to true; or seal the input (the sender says how many to expect, as in the monotone shopping cart)"
	case "sum":
		s = "rewrite with a lattice: an lcounter for non-negative increments (grow-only, one entry per node), or an lmax<int> of a " +
			"running total the sender stamps, tested with the threshold `l >= c`; or seal the input (the sender says how many values to expect)"
	case "min":
		s = "rewrite with a lattice: declare the column lmin<T>, merge into it with <= and test the threshold `l <= c`; or seal the input"
	case "max":
		s = "rewrite with a lattice: declare the column lmax<T>, merge into it with <= and test the threshold `l >= c`; or seal the input"
	case "avg":
		s = "seal the input: an average has no lattice form, so have the sender say how many values to expect " +
			"(collect them with set(...), test `size(s) >= n`, then average)"
	default: // argmin, argmax
		s = "rewrite with a lattice: keep the best ranking value per group in an lmin<T> (argmin) or lmax<T> (argmax) column " +
			"and join back to find the winner once it is sealed; or seal the input (the sender says how many candidates to expect)"
	}
	return s + coordinate
}

func remedyDeletion(coll string) string {
	return "make removal monotone: instead of deleting from " + coll + ", record removals as facts (a 2P-set: an lset of added " +
		"and an lset of removed items, both only growing) and compute the live contents only at a sealed point, e.g. once the " +
		"client's checkout says how many actions to expect (the monotone shopping cart)" + coordinate
}

func remedyUpsert(coll *compiler.Coll) string {
	return "make the value a lattice: declare the non-key columns of " + coll.Name + " as lattices (e.g. lmax<int> for a " +
		"version, or lpair<lmax<int>, lmax<T>> for last-writer-wins by version) and merge with <= instead of overwriting" + coordinate
}

func remedyValue() string {
	return "keep the lattice: replace value(...) by a threshold test that only flips from false to true " +
		"(`l >= c` on lmax or lcounter, `l <= c` on lmin, `size(s) >= n` on an lset or lmap); or seal the input" + coordinate
}

func remedyNow() string {
	return "do not read the clock on channel data: let the sender stamp its messages (a time column), " +
		"or keep an lmax<time> logical clock that only moves forward" + coordinate
}

func remedyKey(coll *compiler.Coll) string {
	return "declare the non-key columns of " + coll.Name + " as lattices (e.g. lmax<int>, lset<T>) so that tuples with " +
		"one key merge, or drop key(...) so that every tuple is kept" + coordinate
}

func remedyNotLBool() string {
	return "test the lbool itself (has(...), a threshold), which only flips from false to true; " +
		"the negated test is only safe once the input is sealed" + coordinate
}

func remedyLatticeJoin() string {
	return "join on scalar key columns and compare the lattice values with a threshold (`l >= c` on lmax, `l <= c` on lmin); " +
		"equality of growing values does not last" + coordinate
}

// remedyComparison suggests the threshold form of a comparison of a lattice
// value.
func remedyComparison(e *lang.Binary, xt, yt *lang.Type) string {
	l, s, op := e.X, e.Y, e.Op
	lt := xt
	if !xt.IsLattice() {
		l, s, op, lt = e.Y, e.X, flip(op), yt
	}
	var want string
	switch lt.Kind {
	case lang.LMax, lang.LCounter:
		switch op {
		case "<", "==", "!=":
			want = ">="
		case "<=":
			want = ">"
		}
	case lang.LMin:
		switch op {
		case ">", "==", "!=":
			want = "<="
		case ">=":
			want = "<"
		}
	case lang.LBool:
		return "test the lbool itself (`" + lang.ExprString(l) + "`), which only flips from false to true; " +
			"acting on false is only safe once the input is sealed" + coordinate
	}
	if want == "" || s == nil || (xt.IsLattice() && yt.IsLattice()) {
		return "compare lattice values only with thresholds (`l >= c` on lmax and lcounter, `l <= c` on lmin, " +
			"`size(s) >= n` on lset), which only flip from false to true; or seal the input" + coordinate
	}
	return fmt.Sprintf("use the threshold `%s %s %s` on %s, which only flips from false to true (a test that can flip back, "+
		"like `%s`, is only safe once the input is sealed: the sender says how many to expect)",
		lang.ExprString(l), want, lang.ExprString(s), lt, lang.ExprString(e)) + coordinate
}

func flip(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return op
}

// persistFix suggests persisting a transient atom of rule r into a table.
func persistFix(r *lang.RuleInfo, ai *lang.AtomInfo) string {
	name := "pending_" + strings.ReplaceAll(ai.Collection.Local, ".", "_")
	var vars, cols []string
	seen := map[string]bool{}
	for _, arg := range ai.Args {
		if id, ok := arg.(*lang.Ident); ok && !seen[id.Name] {
			seen[id.Name] = true
			vars = append(vars, id.Name)
			cols = append(cols, id.Name+": "+r.Vars[id.Name].String())
		}
	}
	body := atomText(ai)
	if len(vars) == 0 {
		// No variables: keep every non-location column.
		var args []string
		for _, c := range ai.Collection.Cols {
			if c.Loc {
				args = append(args, "_")
				continue
			}
			vars = append(vars, c.Name)
			args = append(args, c.Name)
			cols = append(cols, c.Name+": "+c.Type.String())
		}
		body = ai.Atom.QualName() + "(" + strings.Join(args, ", ") + ")"
	}
	head := name + "(" + strings.Join(vars, ", ") + ")"
	return fmt.Sprintf("declare `table %s(%s);`, add `%s <= %s;` and join %s instead of %s",
		name, strings.Join(cols, ", "), head, body, head, atomText(ai))
}

func remedyRace(fixes []string) string {
	return "persist the channel data in a table first and join the table, so that the join sees every message " +
		"whatever tick it arrived in: " + strings.Join(fixes, "; ")
}
