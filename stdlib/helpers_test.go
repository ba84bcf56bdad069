package stdlib

import (
	"math"
	"math/rand/v2"

	"github.com/bloomlang/bloom/lang"
)

// Type constructors for tests.
func tLMax(e *lang.Type) *lang.Type    { return &lang.Type{Kind: lang.LMax, Elem: e} }
func tLMin(e *lang.Type) *lang.Type    { return &lang.Type{Kind: lang.LMin, Elem: e} }
func tLSet(e *lang.Type) *lang.Type    { return &lang.Type{Kind: lang.LSet, Elem: e} }
func tLMap(k, v *lang.Type) *lang.Type { return &lang.Type{Kind: lang.LMap, Key: k, Elem: v} }
func tLPair(a, b *lang.Type) *lang.Type {
	return &lang.Type{Kind: lang.LPair, Key: a, Elem: b}
}

var (
	tInt    = lang.TInt
	tFloat  = lang.TFloat
	tString = lang.TString
	tBool   = lang.TBool
	tAddr   = lang.TAddr
	tTime   = lang.TTime
	tBytes  = lang.TBytes
	tLBool  = lang.TLBool
	tLCount = lang.TLCount
)

func ints(xs ...int64) []Value {
	out := make([]Value, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func strs(xs ...string) []Value {
	out := make([]Value, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func intSet(xs ...int64) *Set  { return NewSet(tInt, ints(xs...)...) }
func strSet(xs ...string) *Set { return NewSet(tString, strs(xs...)...) }
func counter(kv ...any) *Counter { // counter("a", 1, "b", 2)
	m := map[Addr]int64{}
	for i := 0; i < len(kv); i += 2 {
		m[Addr(kv[i].(string))] = int64(kv[i+1].(int))
	}
	return NewCounterFrom(m)
}

// gen draws a random value of type t from a deliberately small domain, so
// that equal and overlapping values are frequent.
func gen(r *rand.Rand, t *lang.Type) Value {
	switch t.Kind {
	case lang.Int:
		return int64(r.IntN(7) - 3)
	case lang.Float:
		fs := []float64{-2, -0.5, 0, math.Copysign(0, -1), 0.5, 1, 3.25, math.Inf(1), math.Inf(-1), math.NaN()}
		return fs[r.IntN(len(fs))]
	case lang.String:
		ss := []string{"", "a", "ab", "b", "c\n", "é"}
		return ss[r.IntN(len(ss))]
	case lang.Addr:
		return Addr([]string{"n1:80", "n2:80", "n3:81"}[r.IntN(3)])
	case lang.Bytes:
		return Bytes([]string{"", "\x00", "\xff\x01", "z"}[r.IntN(4)])
	case lang.Bool, lang.LBool:
		return r.IntN(2) == 0
	case lang.Time:
		return Time(r.IntN(5) * 1000)
	case lang.LMax, lang.LMin:
		if r.IntN(5) == 0 {
			return nil
		}
		return gen(r, t.Elem)
	case lang.LSet:
		n := r.IntN(5)
		elems := make([]Value, n)
		for i := range elems {
			elems[i] = gen(r, t.Elem)
		}
		return NewSet(t.Elem, elems...)
	case lang.LMap:
		n := r.IntN(4)
		keys, vals := make([]Value, n), make([]Value, n)
		for i := range keys {
			keys[i], vals[i] = gen(r, t.Key), gen(r, t.Elem)
		}
		return NewMap(t.Key, t.Elem, keys, vals)
	case lang.LCounter:
		m := map[Addr]int64{}
		for i := r.IntN(4); i > 0; i-- {
			m[Addr([]string{"a:1", "b:1", "c:1"}[r.IntN(3)])] = int64(r.IntN(4))
		}
		return NewCounterFrom(m)
	case lang.LPair:
		return Pair{A: gen(r, t.Key), B: gen(r, t.Elem)}
	}
	panic("gen: unsupported type " + t.String())
}
