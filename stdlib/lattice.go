package stdlib

import "github.com/bloomlang/bloom/lang"

// Bottom returns the least element of lattice type t. For a scalar type it
// returns the type's zero value (0, 0.0, "", false, Addr(""), Time(0),
// Bytes("")), which is handy for initialisation but has no lattice meaning.
func Bottom(t *lang.Type) Value {
	if t == nil {
		return nil
	}
	switch t.Kind {
	case lang.Int:
		return int64(0)
	case lang.Float:
		return float64(0)
	case lang.String:
		return ""
	case lang.Bool, lang.LBool:
		return false
	case lang.Addr:
		return Addr("")
	case lang.Time:
		return Time(0)
	case lang.Bytes:
		return Bytes("")
	case lang.LMax, lang.LMin:
		return nil
	case lang.LSet:
		return NewSet(t.Elem)
	case lang.LMap:
		return NewMap(t.Key, t.Elem, nil, nil)
	case lang.LCounter:
		return NewCounter()
	case lang.LPair:
		return Pair{A: Bottom(t.Key), B: Bottom(t.Elem)}
	}
	return nil
}

// IsBottom reports whether v is the bottom of lattice type t. For scalar
// types it reports whether v is the zero value.
func IsBottom(t *lang.Type, v Value) bool {
	if t == nil {
		return v == nil
	}
	switch t.Kind {
	case lang.LMax, lang.LMin:
		return v == nil
	case lang.LBool:
		b, _ := toBool(v)
		return !b
	case lang.LSet:
		return asSet(v).Len() == 0
	case lang.LMap:
		return asMap(v).Len() == 0
	case lang.LCounter:
		return asCounter(v).Len() == 0
	case lang.LPair:
		p := asPair(t, v)
		return IsBottom(t.Key, p.A) && IsBottom(t.Elem, p.B)
	}
	return Equal(t, v, Bottom(t))
}

// asPair extracts a Pair; nil stands for the bottom pair.
func asPair(t *lang.Type, v Value) Pair {
	switch p := v.(type) {
	case Pair:
		return p
	case *Pair:
		if p != nil {
			return *p
		}
	}
	return Pair{A: Bottom(t.Key), B: Bottom(t.Elem)}
}

// Merge returns the least upper bound of a and b in lattice type t. It never
// modifies its arguments. When b ≤ a it returns a itself, and when a ≤ b it
// returns b itself, so for the pointer-represented lattices (lset, lmap,
// lcounter) "nothing changed" can be detected by comparing the result with
// the old value; in general use !Leq(t, b, a).
//
// lpair<L1, L2> is the lexicographic product (the order
// (a1,b1) ≤ (a2,b2) ⟺ a1 < a2, or a1 = a2 and b1 ≤ b2), whose least upper
// bound is:
//
//	a1 > a2:            (a1, b1)
//	a2 > a1:            (a2, b2)
//	a1 = a2:            (a1, b1 ⊔ b2)
//	a1, a2 incomparable: (a1 ⊔ a2, ⊥)
//
// In the incomparable case every upper bound has a first component strictly
// above both a1 and a2, so the second component restarts from bottom; this
// is what makes the join associative (a property test checks it).
//
// For a scalar (non-lattice) type Merge is not defined; it returns a.
func Merge(t *lang.Type, a, b Value) Value {
	if t == nil {
		return a
	}
	switch t.Kind {
	case lang.LMax:
		if a == nil {
			return b
		}
		if b == nil || Compare(t.Elem, a, b) >= 0 {
			return a
		}
		return b
	case lang.LMin:
		if a == nil {
			return b
		}
		if b == nil || Compare(t.Elem, a, b) <= 0 {
			return a
		}
		return b
	case lang.LBool:
		if x, _ := toBool(a); x {
			return a
		}
		if y, _ := toBool(b); y {
			return b
		}
		return false
	case lang.LSet:
		s := asSet(a).Union(asSet(b))
		if s == nil {
			return NewSet(t.Elem)
		}
		return s
	case lang.LMap:
		m := mergeMaps(t, asMap(a), asMap(b))
		if m == nil {
			return NewMap(t.Key, t.Elem, nil, nil)
		}
		return m
	case lang.LCounter:
		c := mergeCounters(asCounter(a), asCounter(b))
		if c == nil {
			return NewCounter()
		}
		return c
	case lang.LPair:
		return mergePairs(t, a, b)
	}
	return a
}

func mergePairs(t *lang.Type, av, bv Value) Value {
	a, b := asPair(t, av), asPair(t, bv)
	ab := Leq(t.Key, a.A, b.A)
	ba := Leq(t.Key, b.A, a.A)
	switch {
	case ab && ba: // equal firsts: merge the seconds
		if Leq(t.Elem, b.B, a.B) {
			return a
		}
		if Leq(t.Elem, a.B, b.B) {
			return b
		}
		return Pair{A: a.A, B: Merge(t.Elem, a.B, b.B)}
	case ba:
		return a
	case ab:
		return b
	}
	return Pair{A: Merge(t.Key, a.A, b.A), B: Bottom(t.Elem)}
}

// Leq reports a ≤ b in the lattice order of t. lmin is ordered by reverse
// natural order (bottom, the empty lmin, is "+infinity"). For a scalar type
// the order is discrete: Leq is Equal.
func Leq(t *lang.Type, a, b Value) bool {
	if t == nil {
		return Equal(t, a, b)
	}
	switch t.Kind {
	case lang.LMax:
		if a == nil {
			return true
		}
		return b != nil && Compare(t.Elem, a, b) <= 0
	case lang.LMin:
		if a == nil {
			return true
		}
		return b != nil && Compare(t.Elem, a, b) >= 0
	case lang.LBool:
		x, _ := toBool(a)
		y, _ := toBool(b)
		return !x || y
	case lang.LSet:
		return asSet(a).SubsetOf(asSet(b))
	case lang.LMap:
		ma, mb := asMap(a), asMap(b)
		if ma.Len() > mb.Len() {
			return false
		}
		for i := 0; i < ma.Len(); i++ {
			v, ok := mb.Get(ma.keys[i])
			if !ok || !Leq(t.Elem, ma.vals[i], v) {
				return false
			}
		}
		return true
	case lang.LCounter:
		return leqCounters(asCounter(a), asCounter(b))
	case lang.LPair:
		pa, pb := asPair(t, a), asPair(t, b)
		if !Leq(t.Key, pa.A, pb.A) {
			return false
		}
		if !Leq(t.Key, pb.A, pa.A) {
			return true // strictly below in the first component
		}
		return Leq(t.Elem, pa.B, pb.B)
	}
	return Equal(t, a, b)
}
