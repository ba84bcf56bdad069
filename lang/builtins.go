package lang

import (
	"fmt"
	"sort"
	"strings"
)

// Builtin is the type-checking signature of a built-in function or
// aggregate. The implementations live in package stdlib under the same
// names; this table only says which arguments are accepted and what type a
// call has.
type Builtin struct {
	Name string
	// Sig is the signature as shown in error messages and documentation,
	// e.g. "substr(s: string, start: int, n: int) -> string".
	Sig string
	// Aggregate marks the aggregates, which are only allowed as a whole
	// argument of a rule head.
	Aggregate bool
	MinArgs   int
	MaxArgs   int // -1: variadic

	check func(b *callCheck) *Type
}

// LookupFunc returns the built-in function called name, or nil. min and max
// are the two-argument scalar functions here; see LookupAggregate.
func LookupFunc(name string) *Builtin { return builtinFuncs[name] }

// LookupAggregate returns the aggregate called name, or nil.
func LookupAggregate(name string) *Builtin { return builtinAggs[name] }

// FuncNames returns the names of the built-in functions, sorted.
func FuncNames() []string { return sortedKeys(builtinFuncs) }

// AggregateNames returns the names of the aggregates, sorted.
func AggregateNames() []string { return sortedKeys(builtinAggs) }

func sortedKeys(m map[string]*Builtin) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// arityText describes how many arguments b takes, for messages.
func (b *Builtin) arityText() string {
	switch {
	case b.MaxArgs < 0:
		return fmt.Sprintf("at least %d %s", b.MinArgs, plural(b.MinArgs, "argument"))
	case b.MinArgs == b.MaxArgs:
		return fmt.Sprintf("%d %s", b.MinArgs, plural(b.MinArgs, "argument"))
	}
	return fmt.Sprintf("%d to %d arguments", b.MinArgs, b.MaxArgs)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// callCheck is handed to a Builtin's check function: it types the call's
// arguments (with a hint for literals) and reports argument errors.
type callCheck struct {
	rc   *ruleCheck
	call *Call
	b    *Builtin
	x    *ectx
	hint *Type // the type the call's result is expected to have, or nil
}

// arg types argument i; hint types untyped literals (see literalType).
func (cc *callCheck) arg(i int, hint *Type) *Type {
	return cc.rc.expr(cc.call.Args[i], hint, cc.x)
}

// bad reports that argument i has type got where want (a description) was
// needed; it stays quiet when got is invalid (already reported).
func (cc *callCheck) bad(i int, got *Type, want string) {
	if got == nil || got.Kind == Invalid {
		return
	}
	what := cc.b.Name
	if cc.b.Aggregate {
		what = "aggregate " + what
	}
	cc.rc.c.errorf(cc.call.Args[i].Pos(), "argument %d of %s must be %s, got %s", i+1, what, want, got)
}

// exact types argument i and requires it to be exactly t (after literal
// typing); it returns the argument's type.
func (cc *callCheck) exact(i int, t *Type) *Type {
	got := cc.arg(i, t)
	if got.Kind != Invalid && !got.Equal(t) {
		cc.bad(i, got, t.String())
	}
	return got
}

// oneOf types argument i and requires one of the kinds; want describes them.
func (cc *callCheck) oneOf(i int, hint *Type, want string, kinds ...Kind) *Type {
	got := cc.arg(i, hint)
	if got.Kind == Invalid {
		return got
	}
	for _, k := range kinds {
		if got.Kind == k {
			return got
		}
	}
	cc.bad(i, got, want)
	return TInvalid
}

// same types two arguments that must have the same type, checking a typed
// one before an untyped literal so that the literal takes the other's type
// (min(x, 0) with x float). It returns both types.
func (cc *callCheck) same(i, j int) (*Type, *Type) {
	var ti, tj *Type
	if literalKind(cc.call.Args[i]) != NotLiteral && literalKind(cc.call.Args[j]) == NotLiteral {
		tj = cc.arg(j, cc.hint)
		ti = cc.arg(i, tj)
	} else {
		ti = cc.arg(i, cc.hint)
		tj = cc.arg(j, ti)
	}
	return ti, tj
}

func lmaxOf(t *Type) *Type { return &Type{Kind: LMax, Elem: t} }
func lsetOf(t *Type) *Type { return &Type{Kind: LSet, Elem: t} }

const orderedText = "an ordered type (int, float, string, time or addr)"

// builtinFuncs and builtinAggs are the tables of built-in functions and
// aggregates. They are filled by init (the check functions refer back to
// the checker, which refers to the tables) and never modified afterwards.
var builtinFuncs, builtinAggs map[string]*Builtin

func init() {
	builtinFuncs = funcTable()
	builtinAggs = aggTable()
}

func funcTable() map[string]*Builtin {
	return map[string]*Builtin{
		"len": {Name: "len", Sig: "len(string|bytes|lset<T>|lmap<K, L>) -> int", MinArgs: 1, MaxArgs: 1,
			check: func(cc *callCheck) *Type {
				cc.oneOf(0, nil, "a string, bytes, lset or lmap", String, Bytes, LSet, LMap)
				return TInt
			}},
		"lower": {Name: "lower", Sig: "lower(string) -> string", MinArgs: 1, MaxArgs: 1,
			check: func(cc *callCheck) *Type { cc.exact(0, TString); return TString }},
		"upper": {Name: "upper", Sig: "upper(string) -> string", MinArgs: 1, MaxArgs: 1,
			check: func(cc *callCheck) *Type { cc.exact(0, TString); return TString }},
		"substr": {Name: "substr", Sig: "substr(s: string, start: int, n: int) -> string", MinArgs: 3, MaxArgs: 3,
			check: func(cc *callCheck) *Type {
				cc.exact(0, TString)
				cc.exact(1, TInt)
				cc.exact(2, TInt)
				return TString
			}},
		"contains": {Name: "contains", Sig: "contains(s: string, sub: string) -> bool", MinArgs: 2, MaxArgs: 2,
			check: func(cc *callCheck) *Type {
				cc.exact(0, TString)
				cc.exact(1, TString)
				return TBool
			}},
		"concat": {Name: "concat", Sig: "concat(scalar, ...) -> string", MinArgs: 1, MaxArgs: -1,
			check: func(cc *callCheck) *Type {
				for i := range cc.call.Args {
					if t := cc.arg(i, nil); t.Kind != Invalid && !t.IsScalar() {
						cc.bad(i, t, "a scalar (use str(...) to print a lattice)")
					}
				}
				return TString
			}},
		"hash": {Name: "hash", Sig: "hash(any) -> int", MinArgs: 1, MaxArgs: 1,
			check: func(cc *callCheck) *Type { cc.arg(0, nil); return TInt }},
		"str": {Name: "str", Sig: "str(any) -> string", MinArgs: 1, MaxArgs: 1,
			check: func(cc *callCheck) *Type { cc.arg(0, nil); return TString }},
		"int": {Name: "int", Sig: "int(int|float|string|bool|time) -> int", MinArgs: 1, MaxArgs: 1,
			check: func(cc *callCheck) *Type {
				cc.oneOf(0, nil, "an int, float, string, bool or time", Int, Float, String, Bool, Time)
				return TInt
			}},
		"float": {Name: "float", Sig: "float(int|float|string|time) -> float", MinArgs: 1, MaxArgs: 1,
			check: func(cc *callCheck) *Type {
				cc.oneOf(0, nil, "an int, float, string or time", Int, Float, String, Time)
				return TFloat
			}},
		"abs": {Name: "abs", Sig: "abs(int|float) -> same type", MinArgs: 1, MaxArgs: 1,
			check: func(cc *callCheck) *Type {
				return cc.oneOf(0, cc.hint, "an int or float", Int, Float)
			}},
		"min": {Name: "min", Sig: "min(a: T, b: T) -> T, T ordered", MinArgs: 2, MaxArgs: 2, check: checkMinMax},
		"max": {Name: "max", Sig: "max(a: T, b: T) -> T, T ordered", MinArgs: 2, MaxArgs: 2, check: checkMinMax},
		"self": {Name: "self", Sig: "self() -> addr", MinArgs: 0, MaxArgs: 0,
			check: func(*callCheck) *Type { return TAddr }},
		"now": {Name: "now", Sig: "now() -> time", MinArgs: 0, MaxArgs: 0,
			check: func(*callCheck) *Type { return TTime }},

		// Lattice functions.
		"size": {Name: "size", Sig: "size(lset<T>) -> lmax<int>", MinArgs: 1, MaxArgs: 1,
			check: func(cc *callCheck) *Type {
				cc.oneOf(0, nil, "an lset", LSet)
				return lmaxOf(TInt)
			}},
		"has": {Name: "has", Sig: "has(lset<T>, T) -> lbool", MinArgs: 2, MaxArgs: 2,
			check: func(cc *callCheck) *Type {
				s := cc.oneOf(0, nil, "an lset", LSet)
				if s.Kind != LSet {
					cc.arg(1, nil)
					return TLBool
				}
				if x := cc.arg(1, s.Elem); x.Kind != Invalid && !x.Equal(s.Elem) {
					cc.bad(1, x, fmt.Sprintf("%s (the element type of %s)", s.Elem, s))
				}
				return TLBool
			}},
		"at": {Name: "at", Sig: "at(lmap<K, L>, K) -> L", MinArgs: 2, MaxArgs: 2,
			check: func(cc *callCheck) *Type {
				m := cc.oneOf(0, nil, "an lmap", LMap)
				if m.Kind != LMap {
					cc.arg(1, nil)
					return TInvalid
				}
				if k := cc.arg(1, m.Key); k.Kind != Invalid && !k.Equal(m.Key) {
					cc.bad(1, k, fmt.Sprintf("%s (the key type of %s)", m.Key, m))
				}
				return m.Elem
			}},
		"first":  {Name: "first", Sig: "first(lpair<L1, L2>) -> L1", MinArgs: 1, MaxArgs: 1, check: pairPart(true)},
		"second": {Name: "second", Sig: "second(lpair<L1, L2>) -> L2", MinArgs: 1, MaxArgs: 1, check: pairPart(false)},
		"value": {Name: "value", Sig: "value(lmax<T>|lmin<T>|lbool|lcounter) -> T|bool|int", MinArgs: 1, MaxArgs: 1,
			check: func(cc *callCheck) *Type {
				t := cc.arg(0, nil)
				switch {
				case t.Kind == Invalid:
					return TInvalid
				case t.Kind == LSet || t.Kind == LMap || t.Kind == LPair:
					cc.bad(0, t, "an lmax, lmin, lbool or lcounter (sets, maps and pairs have no scalar value; size(...) and len(...) count a set)")
					return TInvalid
				case !t.IsLattice():
					cc.bad(0, t, "a lattice (lmax, lmin, lbool or lcounter)")
					return TInvalid
				}
				return t.ValueType()
			}},
	}
}

func checkMinMax(cc *callCheck) *Type {
	a, b := cc.same(0, 1)
	if a.Kind == Invalid || b.Kind == Invalid {
		return TInvalid
	}
	if !a.IsOrdered() {
		cc.bad(0, a, orderedText)
		return TInvalid
	}
	if !a.Equal(b) {
		cc.bad(1, b, fmt.Sprintf("%s like the first argument", a))
		return TInvalid
	}
	return a
}

func aggTable() map[string]*Builtin {
	return map[string]*Builtin{
		"count": {Name: "count", Sig: "count(x) -> int", Aggregate: true, MinArgs: 1, MaxArgs: 1,
			check: func(cc *callCheck) *Type { cc.arg(0, nil); return TInt }},
		"sum": {Name: "sum", Sig: "sum(int|float) -> same type", Aggregate: true, MinArgs: 1, MaxArgs: 1,
			check: func(cc *callCheck) *Type { return cc.oneOf(0, cc.hint, "an int or float", Int, Float) }},
		"avg": {Name: "avg", Sig: "avg(int|float) -> float", Aggregate: true, MinArgs: 1, MaxArgs: 1,
			check: func(cc *callCheck) *Type { cc.oneOf(0, nil, "an int or float", Int, Float); return TFloat }},
		"min":    {Name: "min", Sig: "min(x: T) -> T, T ordered", Aggregate: true, MinArgs: 1, MaxArgs: 1, check: checkAggExtreme},
		"max":    {Name: "max", Sig: "max(x: T) -> T, T ordered", Aggregate: true, MinArgs: 1, MaxArgs: 1, check: checkAggExtreme},
		"argmin": {Name: "argmin", Sig: "argmin(x: T, by: U) -> T, U ordered", Aggregate: true, MinArgs: 2, MaxArgs: 2, check: checkArgExtreme},
		"argmax": {Name: "argmax", Sig: "argmax(x: T, by: U) -> T, U ordered", Aggregate: true, MinArgs: 2, MaxArgs: 2, check: checkArgExtreme},
		"set": {Name: "set", Sig: "set(x: T) -> lset<T>, T scalar", Aggregate: true, MinArgs: 1, MaxArgs: 1,
			check: func(cc *callCheck) *Type {
				var hint *Type
				if cc.hint != nil && cc.hint.Kind == LSet {
					hint = cc.hint.Elem
				}
				t := cc.arg(0, hint)
				if t.Kind == Invalid {
					return TInvalid
				}
				if !t.IsScalar() {
					cc.bad(0, t, "a scalar (an lset holds scalars)")
					return TInvalid
				}
				return lsetOf(t)
			}},
	}
}

func checkAggExtreme(cc *callCheck) *Type {
	t := cc.arg(0, cc.hint)
	if t.Kind != Invalid && !t.IsOrdered() {
		cc.bad(0, t, orderedText)
		return TInvalid
	}
	return t
}

func checkArgExtreme(cc *callCheck) *Type {
	x := cc.arg(0, cc.hint)
	if by := cc.arg(1, nil); by.Kind != Invalid && !by.IsOrdered() {
		cc.bad(1, by, orderedText)
	}
	return x
}

// builtinList is used for "did you mean" suggestions.
func builtinList() []string {
	names := FuncNames()
	for _, n := range AggregateNames() {
		if builtinFuncs[n] == nil {
			names = append(names, n)
		}
	}
	return names
}

// sigList renders the signatures of a builtin for an arity message.
func (b *Builtin) usage() string {
	return strings.TrimSpace(b.Sig)
}

// pairPart checks first(p) or second(p): p must be an lpair, and the
// result is its first or second lattice.
func pairPart(first bool) func(cc *callCheck) *Type {
	return func(cc *callCheck) *Type {
		t := cc.oneOf(0, nil, "an lpair", LPair)
		switch {
		case t.Kind != LPair:
			return TInvalid
		case first:
			return t.Key
		}
		return t.Elem
	}
}
