package stdlib

import (
	"math/rand/v2"
	"testing"

	"github.com/bloomlang/bloom/lang"
)

// latticeTypes are the lattice types whose laws are checked.
var latticeTypes = []*lang.Type{
	tLMax(tInt),
	tLMax(tString),
	tLMin(tFloat),
	tLMin(tString),
	tLMin(tInt),
	tLBool,
	tLSet(tInt),
	tLSet(tString),
	tLSet(tLSet(tInt)),
	tLMap(tString, tLMax(tInt)),
	tLMap(tString, tLSet(tInt)),
	tLMap(tInt, tLPair(tLSet(tInt), tLBool)),
	tLCount,
	tLPair(tLMax(tInt), tLSet(tString)),
	tLPair(tLSet(tInt), tLMax(tInt)), // non-chain first component
	tLPair(tLSet(tInt), tLPair(tLMap(tString, tLBool), tLSet(tInt))),
}

const propIters = 400

// TestLatticeLaws checks, for every lattice type, that Merge is associative,
// commutative and idempotent, that bottom is its identity, that Leq is the
// order induced by Merge (a ≤ b ⟺ a ⊔ b = b), that Merge is the least upper
// bound, and that Merge never mutates its arguments.
func TestLatticeLaws(t *testing.T) {
	for ti, typ := range latticeTypes {
		t.Run(typ.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(ti)+1, 42))
			bot := Bottom(typ)
			eq := func(x, y Value) bool { return Equal(typ, x, y) }
			f := func(v Value) string { return Format(typ, v) + " " + string(AppendKey(nil, typ, v)) }
			for i := 0; i < propIters; i++ {
				a, b, c := gen(r, typ), gen(r, typ), gen(r, typ)
				fa, fb := f(a), f(b)
				ab := Merge(typ, a, b)
				if f(a) != fa || f(b) != fb {
					t.Fatalf("Merge mutated an argument: %s, %s", fa, fb)
				}
				if !eq(Merge(typ, a, Merge(typ, b, c)), Merge(typ, ab, c)) {
					t.Fatalf("not associative: a=%s b=%s c=%s: %s vs %s", Format(typ, a), Format(typ, b), Format(typ, c),
						Format(typ, Merge(typ, a, Merge(typ, b, c))), Format(typ, Merge(typ, ab, c)))
				}
				if !eq(ab, Merge(typ, b, a)) {
					t.Fatalf("not commutative: a=%s b=%s", Format(typ, a), Format(typ, b))
				}
				if !eq(Merge(typ, a, a), a) {
					t.Fatalf("not idempotent: a=%s", Format(typ, a))
				}
				if !eq(Merge(typ, bot, a), a) || !eq(Merge(typ, a, bot), a) || !eq(Merge(typ, nil, a), a) {
					t.Fatalf("bottom is not the identity: a=%s", Format(typ, a))
				}
				if !Leq(typ, bot, a) || !Leq(typ, nil, a) || !IsBottom(typ, bot) {
					t.Fatalf("bottom is not least: a=%s", Format(typ, a))
				}
				if !Leq(typ, a, ab) || !Leq(typ, b, ab) {
					t.Fatalf("merge is not an upper bound: a=%s b=%s ab=%s", Format(typ, a), Format(typ, b), Format(typ, ab))
				}
				if Leq(typ, a, b) != eq(ab, b) {
					t.Fatalf("Leq inconsistent with Merge: a=%s b=%s ab=%s leq=%v", Format(typ, a), Format(typ, b), Format(typ, ab), Leq(typ, a, b))
				}
				if Leq(typ, a, b) && Leq(typ, b, a) && !eq(a, b) {
					t.Fatalf("Leq not antisymmetric: a=%s b=%s", Format(typ, a), Format(typ, b))
				}
				if Leq(typ, a, c) && Leq(typ, b, c) && !Leq(typ, ab, c) {
					t.Fatalf("merge is not least: a=%s b=%s c=%s ab=%s", Format(typ, a), Format(typ, b), Format(typ, c), Format(typ, ab))
				}
				if Leq(typ, a, b) && Leq(typ, b, c) && !Leq(typ, a, c) {
					t.Fatalf("Leq not transitive: a=%s b=%s c=%s", Format(typ, a), Format(typ, b), Format(typ, c))
				}
				// "No change" is reported by returning the old value itself.
				if Leq(typ, b, a) {
					checkSame(t, typ, ab, a)
				} else if Leq(typ, a, b) {
					checkSame(t, typ, ab, b)
				}
			}
		})
	}
}

func checkSame(t *testing.T, typ *lang.Type, got, want Value) {
	t.Helper()
	same := true
	switch w := want.(type) {
	case *Set:
		same = got.(*Set) == w
	case *Map:
		same = got.(*Map) == w
	case *Counter:
		same = got.(*Counter) == w
	}
	if !same || !Equal(typ, got, want) {
		t.Fatalf("Merge did not return the dominating argument itself: %s", Format(typ, want))
	}
}

func TestPairSemantics(t *testing.T) {
	pt := tLPair(tLMax(tInt), tLSet(tString))
	p := func(a int64, b ...string) Pair { return Pair{A: a, B: strSet(b...)} }
	tests := []struct {
		a, b Pair
		want string
	}{
		{p(1, "x"), p(2, "y"), `(2, {"y"})`},            // second's first is higher: it wins whole
		{p(3, "x"), p(2, "y"), `(3, {"x"})`},            // first's first is higher
		{p(2, "x"), p(2, "y"), `(2, {"x", "y"})`},       // tie: merge the seconds
		{Pair{A: nil, B: strSet("q")}, p(0), `(0, {})`}, // bottom first component loses
	}
	for _, tt := range tests {
		if got := Format(pt, Merge(pt, tt.a, tt.b)); got != tt.want {
			t.Errorf("Merge(%s, %s) = %s, want %s", Format(pt, tt.a), Format(pt, tt.b), got, tt.want)
		}
	}
	// Incomparable first components: join of the firsts, bottom second.
	st := tLPair(tLSet(tInt), tLMax(tInt))
	got := Merge(st, Pair{A: intSet(1), B: int64(5)}, Pair{A: intSet(2), B: int64(7)})
	if s := Format(st, got); s != "({1, 2}, bottom)" {
		t.Errorf("incomparable pair merge = %s, want ({1, 2}, bottom)", s)
	}
	if !Leq(st, Pair{A: intSet(1), B: int64(9)}, Pair{A: intSet(1, 2), B: nil}) {
		t.Errorf("(a, x) should be below (b, ⊥) when a < b")
	}
	if Leq(st, Pair{A: intSet(1), B: int64(9)}, Pair{A: intSet(1), B: int64(3)}) {
		t.Errorf("(a, 9) should not be below (a, 3)")
	}
}

func TestLatticeBasics(t *testing.T) {
	mx, mn := tLMax(tInt), tLMin(tInt)
	if got := Merge(mx, int64(3), int64(5)); got != int64(5) {
		t.Errorf("lmax merge = %v", got)
	}
	if got := Merge(mn, int64(3), int64(5)); got != int64(3) {
		t.Errorf("lmin merge = %v", got)
	}
	if got := Merge(mn, nil, int64(5)); got != int64(5) {
		t.Errorf("lmin merge with bottom = %v", got)
	}
	if !Leq(mn, int64(5), int64(3)) || Leq(mn, int64(3), int64(5)) {
		t.Errorf("lmin order is reversed natural order")
	}
	if Merge(tLBool, false, true) != true || Merge(tLBool, nil, false) != false {
		t.Errorf("lbool merge")
	}
	c := Merge(tLCount, counter("a", 3, "b", 1), counter("a", 1, "b", 4, "c", 2)).(*Counter)
	if c.Value() != 9 || c.Get("a") != 3 || c.Get("b") != 4 || c.Get("c") != 2 {
		t.Errorf("counter merge = %v", c)
	}
	if got := Merge(tString, "a", "b"); got != "a" {
		t.Errorf("scalar merge should return a, got %v", got)
	}
	m := NewMap(tString, tLMax(tInt), strs("x", "y", "x"), ints(1, 2, 7))
	if m.Len() != 2 {
		t.Fatalf("map dedup: %v", m)
	}
	if v, _ := m.Get("x"); v != int64(7) {
		t.Errorf("duplicate keys should merge: x=%v", v)
	}
	// A present key with a bottom value is above an absent key.
	mt := tLMap(tString, tLSet(tInt))
	withEmpty := NewMap(tString, tLSet(tInt), strs("k"), []Value{intSet()})
	if !Leq(mt, Bottom(mt), withEmpty) || Leq(mt, withEmpty, Bottom(mt)) {
		t.Errorf("{k: {}} should be strictly above {}")
	}
	if Format(mt, withEmpty) != `{"k": {}}` {
		t.Errorf("format = %s", Format(mt, withEmpty))
	}
}

func TestCounterOps(t *testing.T) {
	var c *Counter
	if c.Value() != 0 || c.Len() != 0 || Format(tLCount, c) != "0" || Format(tLCount, nil) != "0" {
		t.Fatalf("nil counter")
	}
	c1 := c.Add("n1:1", 2)
	c2 := c1.Add("n1:1", 3).Add("n0:1", 1)
	if c1.Value() != 2 || c2.Value() != 6 || c2.Get("n1:1") != 5 {
		t.Errorf("Add: c1=%d c2=%d", c1.Value(), c2.Value())
	}
	if c2.Add("x:1", -5) != c2 || c2.Add("x:1", 0) != c2 {
		t.Errorf("non-positive Add must not change the counter")
	}
	if a, n := c2.Entry(0); a != "n0:1" || n != 1 {
		t.Errorf("entries not sorted: %v %v", a, n)
	}
}

func TestSetOps(t *testing.T) {
	s := intSet(3, 1, 2, 3, 1)
	if s.Len() != 3 || Format(tLSet(tInt), s) != "{1, 2, 3}" {
		t.Fatalf("NewSet = %v", s)
	}
	if !s.Has(int64(2)) || s.Has(int64(4)) {
		t.Errorf("Has")
	}
	var nilSet *Set
	if nilSet.Has(int64(1)) || nilSet.Len() != 0 || nilSet.Elems() != nil {
		t.Errorf("nil set")
	}
	s2 := s.Insert(tInt, int64(0))
	if s.Len() != 3 || s2.Len() != 4 || s2.Elem(0) != int64(0) {
		t.Errorf("Insert must copy: s=%v s2=%v", s, s2)
	}
	if s.Insert(tInt, int64(2)) != s {
		t.Errorf("Insert of a present element should return the set itself")
	}
	u := s.Union(intSet(5, 2))
	if Format(tLSet(tInt), u) != "{1, 2, 3, 5}" || s.Len() != 3 {
		t.Errorf("Union = %v", u)
	}
	if u2 := intSet(7, 8).Union(intSet(1)); Format(tLSet(tInt), u2) != "{1, 7, 8}" {
		t.Errorf("disjoint Union = %v", u2)
	}
	if !intSet(1, 3).SubsetOf(s) || intSet(1, 4).SubsetOf(s) || !nilSet.SubsetOf(s) {
		t.Errorf("SubsetOf")
	}
}

// TestUnionMatchesNaive compares Set.Union, on sets of very different sizes
// (exercising the binary-search path), with a naive union.
func TestUnionMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for i := 0; i < 200; i++ {
		mk := func(n int) (*Set, map[int64]bool) {
			m := map[int64]bool{}
			var vals []Value
			for j := 0; j < n; j++ {
				x := int64(r.IntN(300))
				m[x] = true
				vals = append(vals, x)
			}
			return NewSet(tInt, vals...), m
		}
		a, ma := mk(r.IntN(200))
		b, mb := mk(r.IntN(6))
		if r.IntN(2) == 0 {
			a, b, ma, mb = b, a, mb, ma
		}
		u := a.Union(b)
		for x := range mb {
			ma[x] = true
		}
		if u.Len() != len(ma) {
			t.Fatalf("union size %d, want %d", u.Len(), len(ma))
		}
		for k, e := range u.Elems() {
			if !ma[e.(int64)] || (k > 0 && u.Elem(k-1).(int64) >= e.(int64)) {
				t.Fatalf("union not the sorted union at %d: %v", k, u)
			}
		}
		if b.SubsetOf(a) && u != a || a.SubsetOf(b) && !b.SubsetOf(a) && u != b {
			t.Fatalf("union of a set with its subset must return the superset itself")
		}
	}
}
