package stdlib

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/bloomlang/bloom/lang"
)

// CallContext is what built-in functions may read besides their arguments.
// It is fixed for the duration of a tick.
type CallContext struct {
	Self Addr // this node's address, returned by self()
	Now  Time // the tick's start time, returned by now()
}

// Builtin describes a built-in scalar or lattice function.
//
// Call receives the static types of the arguments (parallel to args) so that
// polymorphic functions (len, str, hash, min, ...) can dispatch; the type
// checker has already verified them against Result. Call returns errors,
// never panics. Builtin values are shared and must not be modified.
type Builtin struct {
	Name    string
	MinArgs int
	MaxArgs int // -1: variadic
	// Monotone marks lattice functions that are monotone (size, has, at): a
	// lattice morphism/monotone function in the CALM sense.
	Monotone bool
	// NonMonotone marks functions the analysis must treat as non-monotone
	// constructs (value, now).
	NonMonotone bool
	// Result computes the result type from the argument types, or returns an
	// error describing why the arguments are not acceptable.
	Result func(args []*lang.Type) (*lang.Type, error)
	Call   func(ctx *CallContext, argTypes []*lang.Type, args []Value) (Value, error)
	Doc    string
}

// ResultType checks the number of arguments and computes the result type
// of a call with arguments of the given types.
func (b *Builtin) ResultType(args []*lang.Type) (*lang.Type, error) {
	if err := b.CheckArity(len(args)); err != nil {
		return nil, err
	}
	return b.Result(args)
}

// Apply checks the number of arguments and calls the function. argTypes may
// be shorter than args (missing types are nil: the value's representation is
// then used to dispatch).
func (b *Builtin) Apply(ctx *CallContext, argTypes []*lang.Type, args []Value) (Value, error) {
	if err := b.CheckArity(len(args)); err != nil {
		return nil, err
	}
	if len(argTypes) < len(args) {
		t := make([]*lang.Type, len(args))
		copy(t, argTypes)
		argTypes = t
	}
	return b.Call(ctx, argTypes, args)
}

// CheckArity reports an error unless n arguments are acceptable.
func (b *Builtin) CheckArity(n int) error {
	if n < b.MinArgs || (b.MaxArgs >= 0 && n > b.MaxArgs) {
		switch {
		case b.MaxArgs < 0:
			return fmt.Errorf("%s takes at least %d argument(s), got %d", b.Name, b.MinArgs, n)
		case b.MinArgs == b.MaxArgs:
			return fmt.Errorf("%s takes %d argument(s), got %d", b.Name, b.MinArgs, n)
		}
		return fmt.Errorf("%s takes %d to %d arguments, got %d", b.Name, b.MinArgs, b.MaxArgs, n)
	}
	return nil
}

// LookupBuiltin returns the built-in function called name. (min and max
// with two arguments are these functions; with one argument in a rule head
// they are aggregates, see NewAgg.)
func LookupBuiltin(name string) (*Builtin, bool) {
	b, ok := builtins[name]
	return b, ok
}

// BuiltinNames returns the names of all built-in functions, sorted.
func BuiltinNames() []string {
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// builtins is read-only after package initialisation.
var builtins = map[string]*Builtin{
	"len": {
		Name: "len", MinArgs: 1, MaxArgs: 1,
		Doc: "len(s) -> int: length in bytes of a string or bytes; number of elements of an lset (keys of an lmap)",
		Result: func(a []*lang.Type) (*lang.Type, error) {
			return needKind("len", a[0], lang.TInt, lang.String, lang.Bytes, lang.Addr, lang.LSet, lang.LMap)
		},
		Call: func(_ *CallContext, t []*lang.Type, a []Value) (Value, error) {
			switch x := a[0].(type) {
			case string:
				return int64(len(x)), nil
			case Bytes:
				return int64(len(x)), nil
			case Addr:
				return int64(len(x)), nil
			case *Set:
				return int64(x.Len()), nil
			case *Map:
				return int64(x.Len()), nil
			case nil:
				if k := kindOf(t, 0); k == lang.LSet || k == lang.LMap {
					return int64(0), nil
				}
			}
			return nil, badArg("len", a[0])
		},
	},
	"lower": {
		Name: "lower", MinArgs: 1, MaxArgs: 1,
		Doc:    "lower(s) -> string: s in lower case (Unicode)",
		Result: func(a []*lang.Type) (*lang.Type, error) { return needKind("lower", a[0], lang.TString, lang.String) },
		Call: func(_ *CallContext, _ []*lang.Type, a []Value) (Value, error) {
			s, ok := toStr(a[0])
			if !ok {
				return nil, badArg("lower", a[0])
			}
			return strings.ToLower(s), nil
		},
	},
	"upper": {
		Name: "upper", MinArgs: 1, MaxArgs: 1,
		Doc:    "upper(s) -> string: s in upper case (Unicode)",
		Result: func(a []*lang.Type) (*lang.Type, error) { return needKind("upper", a[0], lang.TString, lang.String) },
		Call: func(_ *CallContext, _ []*lang.Type, a []Value) (Value, error) {
			s, ok := toStr(a[0])
			if !ok {
				return nil, badArg("upper", a[0])
			}
			return strings.ToUpper(s), nil
		},
	},
	"substr": {
		Name: "substr", MinArgs: 3, MaxArgs: 3,
		Doc: "substr(s, start, n) -> string: the n bytes of s from 0-based byte offset start, clamped to s (negative start or n count as 0); never fails",
		Result: func(a []*lang.Type) (*lang.Type, error) {
			if _, err := needKind("substr", a[0], nil, lang.String); err != nil {
				return nil, err
			}
			for _, x := range a[1:] {
				if _, err := needKind("substr", x, nil, lang.Int); err != nil {
					return nil, err
				}
			}
			return lang.TString, nil
		},
		Call: func(_ *CallContext, _ []*lang.Type, a []Value) (Value, error) {
			s, ok := toStr(a[0])
			start, ok1 := toInt64(a[1])
			n, ok2 := toInt64(a[2])
			if !ok || !ok1 || !ok2 {
				return nil, fmt.Errorf("substr: bad arguments %v, %v, %v", a[0], a[1], a[2])
			}
			return Substr(s, start, n), nil
		},
	},
	"contains": {
		Name: "contains", MinArgs: 2, MaxArgs: 2,
		Doc: "contains(s, sub) -> bool: whether sub occurs in s",
		Result: func(a []*lang.Type) (*lang.Type, error) {
			if _, err := needKind("contains", a[0], nil, lang.String); err != nil {
				return nil, err
			}
			return needKind("contains", a[1], lang.TBool, lang.String)
		},
		Call: func(_ *CallContext, _ []*lang.Type, a []Value) (Value, error) {
			s, ok1 := toStr(a[0])
			sub, ok2 := toStr(a[1])
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("contains: bad arguments %v, %v", a[0], a[1])
			}
			return strings.Contains(s, sub), nil
		},
	},
	"concat": {
		Name: "concat", MinArgs: 1, MaxArgs: -1,
		Doc:    "concat(a, b, ...) -> string: the concatenation of its arguments; non-strings are converted as by str()",
		Result: func([]*lang.Type) (*lang.Type, error) { return lang.TString, nil },
		Call: func(_ *CallContext, t []*lang.Type, a []Value) (Value, error) {
			var b strings.Builder
			for i, v := range a {
				b.WriteString(Str(typeAt(t, i), v))
			}
			return b.String(), nil
		},
	},
	"hash": {
		Name: "hash", MinArgs: 1, MaxArgs: 1,
		Doc:    "hash(x) -> int: 64-bit FNV-1a of x's canonical key encoding (AppendKey), as a signed int",
		Result: func([]*lang.Type) (*lang.Type, error) { return lang.TInt, nil },
		Call: func(_ *CallContext, t []*lang.Type, a []Value) (Value, error) {
			return Hash(typeAt(t, 0), a[0]), nil
		},
	},
	"str": {
		Name: "str", MinArgs: 1, MaxArgs: 1,
		Doc:    `str(x) -> string: canonical text of x (as printed), except that strings, addrs and bytes are not quoted: str("a") == "a", str(1.0) == "1.0"`,
		Result: func([]*lang.Type) (*lang.Type, error) { return lang.TString, nil },
		Call: func(_ *CallContext, t []*lang.Type, a []Value) (Value, error) {
			return Str(typeAt(t, 0), a[0]), nil
		},
	},
	"int": {
		Name: "int", MinArgs: 1, MaxArgs: 1,
		Doc: "int(x) -> int: from int; float (truncated toward zero; NaN, Inf and out-of-range are errors); string (decimal, surrounding spaces ignored; bad text is an error); bool (1/0); time (ns)",
		Result: func(a []*lang.Type) (*lang.Type, error) {
			return needKind("int", a[0], lang.TInt, lang.Int, lang.Float, lang.String, lang.Bool, lang.Time)
		},
		Call: func(_ *CallContext, _ []*lang.Type, a []Value) (Value, error) { return ToInt(a[0]) },
	},
	"float": {
		Name: "float", MinArgs: 1, MaxArgs: 1,
		Doc: "float(x) -> float: from int, float, string (strconv.ParseFloat syntax; bad text is an error) or time (ns)",
		Result: func(a []*lang.Type) (*lang.Type, error) {
			return needKind("float", a[0], lang.TFloat, lang.Int, lang.Float, lang.String, lang.Time)
		},
		Call: func(_ *CallContext, _ []*lang.Type, a []Value) (Value, error) { return ToFloat(a[0]) },
	},
	"abs": {
		Name: "abs", MinArgs: 1, MaxArgs: 1,
		Doc: "abs(x) -> int|float: absolute value (abs of the most negative int is an overflow error)",
		Result: func(a []*lang.Type) (*lang.Type, error) {
			return needKind("abs", a[0], a[0], lang.Int, lang.Float)
		},
		Call: func(_ *CallContext, _ []*lang.Type, a []Value) (Value, error) {
			switch x := a[0].(type) {
			case int64:
				if x == math.MinInt64 {
					return nil, fmt.Errorf("abs(%d): integer overflow", x)
				}
				if x < 0 {
					return -x, nil
				}
				return x, nil
			case float64:
				return math.Abs(x), nil
			}
			return nil, badArg("abs", a[0])
		},
	},
	"min": {
		Name: "min", MinArgs: 2, MaxArgs: 2,
		Doc:    "min(a, b) -> T: the smaller of two values of the same type, by Compare (a on ties)",
		Result: func(a []*lang.Type) (*lang.Type, error) { return sameTypes("min", a) },
		Call: func(_ *CallContext, t []*lang.Type, a []Value) (Value, error) {
			if Compare(typeAt(t, 0), a[1], a[0]) < 0 {
				return a[1], nil
			}
			return a[0], nil
		},
	},
	"max": {
		Name: "max", MinArgs: 2, MaxArgs: 2,
		Doc:    "max(a, b) -> T: the larger of two values of the same type, by Compare (a on ties)",
		Result: func(a []*lang.Type) (*lang.Type, error) { return sameTypes("max", a) },
		Call: func(_ *CallContext, t []*lang.Type, a []Value) (Value, error) {
			if Compare(typeAt(t, 0), a[1], a[0]) > 0 {
				return a[1], nil
			}
			return a[0], nil
		},
	},
	"self": {
		Name: "self", MinArgs: 0, MaxArgs: 0,
		Doc:    "self() -> addr: this node's address",
		Result: func([]*lang.Type) (*lang.Type, error) { return lang.TAddr, nil },
		Call: func(ctx *CallContext, _ []*lang.Type, _ []Value) (Value, error) {
			if ctx == nil {
				return nil, fmt.Errorf("self(): no call context")
			}
			return ctx.Self, nil
		},
	},
	"now": {
		Name: "now", MinArgs: 0, MaxArgs: 0, NonMonotone: true,
		Doc:    "now() -> time: the start time of the current tick (the same for the whole tick)",
		Result: func([]*lang.Type) (*lang.Type, error) { return lang.TTime, nil },
		Call: func(ctx *CallContext, _ []*lang.Type, _ []Value) (Value, error) {
			if ctx == nil {
				return nil, fmt.Errorf("now(): no call context")
			}
			return ctx.Now, nil
		},
	},
	"size": {
		Name: "size", MinArgs: 1, MaxArgs: 1, Monotone: true,
		Doc: "size(s) -> lmax<int>: number of elements of an lset (keys of an lmap); monotone",
		Result: func(a []*lang.Type) (*lang.Type, error) {
			return needKind("size", a[0], &lang.Type{Kind: lang.LMax, Elem: lang.TInt}, lang.LSet, lang.LMap)
		},
		Call: func(_ *CallContext, _ []*lang.Type, a []Value) (Value, error) { return Size(a[0]), nil },
	},
	"has": {
		Name: "has", MinArgs: 2, MaxArgs: 2, Monotone: true,
		Doc: "has(s, x) -> lbool: whether x is an element of the lset s; monotone",
		Result: func(a []*lang.Type) (*lang.Type, error) {
			if a[0] == nil || a[0].Kind != lang.LSet {
				return nil, fmt.Errorf("has: first argument must be an lset, not %s", a[0])
			}
			if !a[0].Elem.Equal(a[1]) {
				return nil, fmt.Errorf("has: element type %s does not match %s", a[1], a[0])
			}
			return lang.TLBool, nil
		},
		Call: func(_ *CallContext, t []*lang.Type, a []Value) (Value, error) {
			return Has(typeAt(t, 0), a[0], a[1]), nil
		},
	},
	"at": {
		Name: "at", MinArgs: 2, MaxArgs: 2, Monotone: true,
		Doc: "at(m, k) -> L: the value of the lmap<K, L> m at key k, bottom of L when k is absent; monotone in m",
		Result: func(a []*lang.Type) (*lang.Type, error) {
			if a[0] == nil || a[0].Kind != lang.LMap {
				return nil, fmt.Errorf("at: first argument must be an lmap, not %s", a[0])
			}
			if !a[0].Key.Equal(a[1]) {
				return nil, fmt.Errorf("at: key type %s does not match %s", a[1], a[0])
			}
			return a[0].Elem, nil
		},
		Call: func(_ *CallContext, t []*lang.Type, a []Value) (Value, error) {
			mt := typeAt(t, 0)
			if mt == nil || mt.Kind != lang.LMap {
				return nil, fmt.Errorf("at: first argument must be an lmap")
			}
			return At(mt, a[0], a[1]), nil
		},
	},
	"first": {
		Name: "first", MinArgs: 1, MaxArgs: 1, Monotone: true,
		Doc:    "first(p) -> L1: the first component of an lpair<L1, L2>; monotone (a pair only grows by a greater first, or by its second under an equal first)",
		Result: pairPartType(true),
		Call:   pairPart(true),
	},
	"second": {
		Name: "second", MinArgs: 1, MaxArgs: 1, NonMonotone: true,
		Doc:    "second(p) -> L2: the second component of an lpair<L1, L2>; not monotone (it restarts from bottom when the first component grows)",
		Result: pairPartType(false),
		Call:   pairPart(false),
	},
	"value": {
		Name: "value", MinArgs: 1, MaxArgs: 1, NonMonotone: true,
		Doc: "value(l) -> scalar: the current scalar of a lattice: lmax/lmin → T (error wrapping ErrBottom when empty), lbool → bool, lcounter → int (the sum), lset/lmap → int (the size); not monotone",
		Result: func(a []*lang.Type) (*lang.Type, error) {
			if a[0] == nil {
				return nil, fmt.Errorf("value: missing argument type")
			}
			switch a[0].Kind {
			case lang.LSet, lang.LMap:
				return lang.TInt, nil
			}
			if vt := a[0].ValueType(); vt != nil {
				return vt, nil
			}
			return nil, fmt.Errorf("value: %s has no scalar value", a[0])
		},
		Call: func(_ *CallContext, t []*lang.Type, a []Value) (Value, error) {
			return ValueOf(typeAt(t, 0), a[0])
		},
	},
}

func typeAt(t []*lang.Type, i int) *lang.Type {
	if i < len(t) {
		return t[i]
	}
	return nil
}

func kindOf(t []*lang.Type, i int) lang.Kind {
	if x := typeAt(t, i); x != nil {
		return x.Kind
	}
	return lang.Invalid
}

func badArg(fn string, v Value) error {
	return fmt.Errorf("%s: unsupported argument %v (%T)", fn, v, v)
}

// needKind checks that t has one of kinds and then returns res.
func needKind(fn string, t, res *lang.Type, kinds ...lang.Kind) (*lang.Type, error) {
	if t != nil && slices.Contains(kinds, t.Kind) {
		return res, nil
	}
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.String()
	}
	return nil, fmt.Errorf("%s: argument of type %s, want %s", fn, t, strings.Join(names, " or "))
}

func sameTypes(fn string, a []*lang.Type) (*lang.Type, error) {
	if a[0] == nil || !a[0].Equal(a[1]) {
		return nil, fmt.Errorf("%s: arguments must have the same type, got %s and %s", fn, a[0], a[1])
	}
	return a[0], nil
}

// Substr returns the n bytes of s starting at byte offset start, clamped to
// s; negative start and n count as 0. It never fails.
func Substr(s string, start, n int64) string {
	l := int64(len(s))
	if start < 0 {
		start = 0
	}
	if start > l {
		start = l
	}
	if n < 0 {
		n = 0
	}
	end := l
	if n < l-start {
		end = start + n
	}
	return s[start:end]
}

// ToInt is the builtin int(x).
func ToInt(v Value) (Value, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case float64:
		if math.IsNaN(x) || x >= 0x1p63 || x < -0x1p63 {
			return nil, fmt.Errorf("int(%s): out of range", FormatFloat(x))
		}
		return int64(x), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return nil, parseErr(x, lang.TInt, err)
		}
		return n, nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case Time:
		return int64(x), nil
	case *Counter:
		return x.Value(), nil
	case nil:
		return nil, fmt.Errorf("int(): %w", ErrBottom)
	}
	return nil, badArg("int", v)
}

// ToFloat is the builtin float(x).
func ToFloat(v Value) (Value, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return nil, parseErr(x, lang.TFloat, err)
		}
		return f, nil
	case Time:
		return float64(x), nil
	case bool:
		if x {
			return 1.0, nil
		}
		return 0.0, nil
	case nil:
		return nil, fmt.Errorf("float(): %w", ErrBottom)
	}
	return nil, badArg("float", v)
}

// Size is the lattice function size(s): the number of elements of an lset
// (or keys of an lmap), as an lmax<int> (int64). nil counts as empty.
func Size(v Value) int64 {
	switch x := v.(type) {
	case *Set:
		return int64(x.Len())
	case *Map:
		return int64(x.Len())
	}
	return 0
}

// Has is the lattice function has(s, x) for s of type t = lset<T>: whether x
// is an element (an lbool, i.e. bool).
func Has(t *lang.Type, s, x Value) bool {
	set := asSet(s)
	if set.Len() == 0 {
		return false
	}
	var elem *lang.Type
	if t != nil {
		elem = t.Elem
	}
	if elem == nil {
		elem = set.elem
	}
	_, ok := slices.BinarySearchFunc(set.elems, x, func(e, x Value) int { return Compare(elem, e, x) })
	return ok
}

// At is the lattice function at(m, k) for m of type t = lmap<K, L>: the value
// at k, or the bottom of L when k is absent.
func At(t *lang.Type, m, k Value) Value {
	if v, ok := asMap(m).Get(k); ok {
		return v
	}
	if t == nil {
		return nil
	}
	return Bottom(t.Elem)
}

// ValueOf is the builtin value(l) for l of type t: lmax/lmin reveal their
// scalar (an error wrapping ErrBottom when empty), lbool a bool, lcounter
// its sum (int64), lset and lmap their size (int64); a scalar is returned
// as is. lpair has no scalar value (error).
func ValueOf(t *lang.Type, v Value) (Value, error) {
	if t == nil {
		return v, nil
	}
	switch t.Kind {
	case lang.LMax, lang.LMin:
		if v == nil {
			return nil, fmt.Errorf("value() of %s: %w", t, ErrBottom)
		}
		return v, nil
	case lang.LBool:
		b, _ := toBool(v)
		return b, nil
	case lang.LCounter:
		return asCounter(v).Value(), nil
	case lang.LSet, lang.LMap:
		return Size(v), nil
	case lang.LPair:
		return nil, fmt.Errorf("value() of %s: an lpair has no scalar value", t)
	}
	return v, nil
}

// pairPartType and pairPart implement first (first == true) and second.
func pairPartType(first bool) func(a []*lang.Type) (*lang.Type, error) {
	return func(a []*lang.Type) (*lang.Type, error) {
		switch {
		case a[0] == nil || a[0].Kind != lang.LPair:
			return nil, fmt.Errorf("first/second: argument must be an lpair, not %s", a[0])
		case first:
			return a[0].Key, nil
		}
		return a[0].Elem, nil
	}
}

func pairPart(first bool) func(_ *CallContext, t []*lang.Type, a []Value) (Value, error) {
	return func(_ *CallContext, t []*lang.Type, a []Value) (Value, error) {
		p, ok := a[0].(Pair)
		if !ok { // bottom pair: bottom of the component's lattice
			pt := typeAt(t, 0)
			if pt == nil || pt.Kind != lang.LPair {
				return nil, nil
			}
			if first {
				return Bottom(pt.Key), nil
			}
			return Bottom(pt.Elem), nil
		}
		if first {
			return p.A, nil
		}
		return p.B, nil
	}
}
