package stdlib

import (
	"cmp"
	"strings"

	"github.com/bloomlang/bloom/lang"
)

// Compare is a total order on the values of type t, returning -1, 0 or +1.
// It is used to sort printed output, to keep lset/lmap elements sorted, by
// the comparison operators and by min/max/argmin/argmax.
//
//   - int, time: numeric; float: numeric with -0 == +0, and NaN equal to
//     itself and below every other float (so the order is total);
//   - string, addr, bytes: bytewise; bool: false < true;
//   - lmax<T>, lmin<T>: bottom (nil) first, then the natural order of T (also
//     for lmin: Compare is a sorting order, not the lattice order, see Leq);
//   - lbool: false < true;
//   - lset: lexicographic over the sorted elements (a proper prefix first);
//   - lmap: lexicographic over the sorted (key, value) entries;
//   - lcounter: by value (the sum), then lexicographic over (addr, count);
//   - lpair: by first component, then second.
//
// Compare(t, a, b) == 0 exactly when Equal(t, a, b), exactly when their
// AppendKey encodings are equal.
func Compare(t *lang.Type, a, b Value) int {
	if t == nil {
		if t = TypeOf(a); t == nil {
			if t = TypeOf(b); t == nil {
				return compareNils(a, b)
			}
		}
	}
	switch t.Kind {
	case lang.Int:
		if x, ok := a.(int64); ok {
			if y, ok := b.(int64); ok {
				return cmp.Compare(x, y)
			}
		}
		return compareNumbers(a, b)
	case lang.Time:
		if x, ok := a.(Time); ok {
			if y, ok := b.(Time); ok {
				return cmp.Compare(x, y)
			}
		}
		return compareNumbers(a, b)
	case lang.Float:
		x, _ := toFloat64(a)
		y, _ := toFloat64(b)
		return compareFloats(x, y)
	case lang.String, lang.Addr, lang.Bytes:
		x, _ := toStr(a)
		y, _ := toStr(b)
		return strings.Compare(x, y)
	case lang.Bool, lang.LBool:
		x, _ := toBool(a)
		y, _ := toBool(b)
		return compareBools(x, y)
	case lang.LMax, lang.LMin:
		switch {
		case a == nil && b == nil:
			return 0
		case a == nil:
			return -1
		case b == nil:
			return 1
		}
		return Compare(t.Elem, a, b)
	case lang.LSet:
		sa, sb := asSet(a), asSet(b)
		ea, eb := sa.Elems(), sb.Elems()
		for i := 0; i < len(ea) && i < len(eb); i++ {
			if c := Compare(t.Elem, ea[i], eb[i]); c != 0 {
				return c
			}
		}
		return cmp.Compare(len(ea), len(eb))
	case lang.LMap:
		ma, mb := asMap(a), asMap(b)
		na, nb := ma.Len(), mb.Len()
		for i := 0; i < na && i < nb; i++ {
			if c := Compare(t.Key, ma.keys[i], mb.keys[i]); c != 0 {
				return c
			}
			if c := Compare(t.Elem, ma.vals[i], mb.vals[i]); c != 0 {
				return c
			}
		}
		return cmp.Compare(na, nb)
	case lang.LCounter:
		ca, cb := asCounter(a), asCounter(b)
		if c := cmp.Compare(ca.Value(), cb.Value()); c != 0 {
			return c
		}
		na, nb := ca.Len(), cb.Len()
		for i := 0; i < na && i < nb; i++ {
			if c := strings.Compare(string(ca.addrs[i]), string(cb.addrs[i])); c != 0 {
				return c
			}
			if c := cmp.Compare(ca.counts[i], cb.counts[i]); c != 0 {
				return c
			}
		}
		return cmp.Compare(na, nb)
	case lang.LPair:
		pa, pb := asPair(t, a), asPair(t, b)
		if c := Compare(t.Key, pa.A, pb.A); c != 0 {
			return c
		}
		return Compare(t.Elem, pa.B, pb.B)
	}
	return compareNils(a, b)
}

// Equal reports whether a and b are the same value of type t.
func Equal(t *lang.Type, a, b Value) bool {
	if t != nil {
		switch t.Kind {
		case lang.Int:
			if x, ok := a.(int64); ok {
				if y, ok := b.(int64); ok {
					return x == y
				}
			}
		case lang.String:
			if x, ok := a.(string); ok {
				if y, ok := b.(string); ok {
					return x == y
				}
			}
		case lang.LSet:
			sa, sb := asSet(a), asSet(b)
			if sa == sb {
				return true
			}
			if sa.Len() != sb.Len() {
				return false
			}
		case lang.LMap:
			ma, mb := asMap(a), asMap(b)
			if ma == mb {
				return true
			}
			if ma.Len() != mb.Len() {
				return false
			}
		}
	}
	return Compare(t, a, b) == 0
}

func compareBools(x, y bool) int {
	switch {
	case x == y:
		return 0
	case !x:
		return -1
	}
	return 1
}

func compareFloats(x, y float64) int {
	xn, yn := x != x, y != y
	if xn || yn {
		switch {
		case xn && yn:
			return 0
		case xn:
			return -1
		}
		return 1
	}
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0 // including -0 == +0
}

// compareNumbers handles mixed int/float representations robustly.
func compareNumbers(a, b Value) int {
	_, af := a.(float64)
	_, bf := b.(float64)
	if af || bf {
		x, _ := toFloat64(a)
		y, _ := toFloat64(b)
		return compareFloats(x, y)
	}
	if a == nil || b == nil {
		return compareNils(a, b)
	}
	x, _ := toInt64(a)
	y, _ := toInt64(b)
	return cmp.Compare(x, y)
}

// compareNils orders nil first; other values of unknown type compare equal.
func compareNils(a, b Value) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return 0
}

// TypeOf infers the Bloom type of a value from its Go representation, for
// the cases where that is unambiguous (scalars, sets, maps, counters). It
// returns nil for nil and for Pair. It is a fallback for callers that lack
// the static type; lmax/lmin values come back as their scalar type.
func TypeOf(v Value) *lang.Type {
	switch x := v.(type) {
	case int64:
		return lang.TInt
	case float64:
		return lang.TFloat
	case string:
		return lang.TString
	case bool:
		return lang.TBool
	case Addr:
		return lang.TAddr
	case Time:
		return lang.TTime
	case Bytes:
		return lang.TBytes
	case *Set:
		return &lang.Type{Kind: lang.LSet, Elem: x.ElemType()}
	case *Map:
		return &lang.Type{Kind: lang.LMap, Key: x.KeyType(), Elem: x.ValType()}
	case *Counter:
		return lang.TLCount
	}
	return nil
}
