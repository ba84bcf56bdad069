package stdlib

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bloomlang/bloom/lang"
)

func TestCompare(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		t    *lang.Type
		a, b Value
		want int
	}{
		{tInt, int64(1), int64(2), -1},
		{tInt, int64(2), int64(2), 0},
		{tInt, int64(math.MaxInt64), int64(math.MinInt64), 1},
		{tFloat, 1.5, 2.5, -1},
		{tFloat, 0.0, math.Copysign(0, -1), 0},
		{tFloat, nan, nan, 0},
		{tFloat, nan, math.Inf(-1), -1},
		{tFloat, math.Inf(1), 1e308, 1},
		{tFloat, int64(2), 2.0, 0},
		{tString, "a", "b", -1},
		{tString, "ab", "a", 1},
		{tString, "Z", "a", -1}, // bytewise
		{tString, "é", "z", 1},  // bytewise UTF-8
		{tBool, false, true, -1},
		{tBool, true, true, 0},
		{tAddr, Addr("a:1"), Addr("a:2"), -1},
		{tTime, Time(5), Time(3), 1},
		{tBytes, Bytes("\x00"), Bytes(""), 1},
		{tLMax(tInt), nil, int64(math.MinInt64), -1},
		{tLMax(tInt), nil, nil, 0},
		{tLMin(tInt), int64(1), int64(2), -1}, // natural order, not lattice order
		{tLMin(tInt), int64(1), nil, 1},
		{tLBool, nil, false, 0},
		{tLSet(tInt), intSet(1, 2), intSet(1, 3), -1},
		{tLSet(tInt), intSet(1), intSet(1, 2), -1},
		{tLSet(tInt), intSet(), nil, 0},
		{tLSet(tInt), intSet(5), intSet(1, 2, 3), 1},
		{tLMap(tString, tLMax(tInt)), NewMap(tString, tLMax(tInt), strs("a"), ints(1)), NewMap(tString, tLMax(tInt), strs("a"), ints(2)), -1},
		{tLMap(tString, tLMax(tInt)), NewMap(tString, tLMax(tInt), strs("b"), ints(1)), NewMap(tString, tLMax(tInt), strs("a"), ints(2)), 1},
		{tLCount, counter("a", 1), counter("b", 1), -1},
		{tLCount, counter("z", 1), counter("a", 2), -1}, // by value first
		{tLCount, counter("a", 1, "b", 1), counter("b", 1, "a", 1), 0},
		{tLPair(tLMax(tInt), tLBool), Pair{A: int64(1), B: true}, Pair{A: int64(1), B: false}, 1},
		{tLPair(tLMax(tInt), tLBool), Pair{A: int64(0), B: true}, Pair{A: int64(1), B: false}, -1},
	}
	for _, tt := range tests {
		if got := Compare(tt.t, tt.a, tt.b); got != tt.want {
			t.Errorf("Compare(%s, %v, %v) = %d, want %d", tt.t, tt.a, tt.b, got, tt.want)
		}
		if got := Compare(tt.t, tt.b, tt.a); got != -tt.want {
			t.Errorf("Compare(%s, %v, %v) = %d, want %d (reversed)", tt.t, tt.b, tt.a, got, -tt.want)
		}
		if got := Equal(tt.t, tt.a, tt.b); got != (tt.want == 0) {
			t.Errorf("Equal(%s, %v, %v) = %v", tt.t, tt.a, tt.b, got)
		}
		ka, kb := string(AppendKey(nil, tt.t, tt.a)), string(AppendKey(nil, tt.t, tt.b))
		if (ka == kb) != (tt.want == 0) {
			t.Errorf("AppendKey(%s) equality of %v and %v = %v, want %v", tt.t, tt.a, tt.b, ka == kb, tt.want == 0)
		}
	}
}

// TestCompareProperties checks, on random values of every type, that Compare
// is a total order (antisymmetric, transitive) agreeing with Equal and with
// AppendKey equality, and that Hash agrees with equality.
func TestCompareProperties(t *testing.T) {
	types := append([]*lang.Type{tInt, tFloat, tString, tBool, tAddr, tBytes, tTime}, latticeTypes...)
	r := rand.New(rand.NewPCG(3, 9))
	for _, typ := range types {
		vals := make([]Value, 60)
		for i := range vals {
			vals[i] = gen(r, typ)
		}
		for _, a := range vals {
			for _, b := range vals {
				c := Compare(typ, a, b)
				if Compare(typ, b, a) != -c {
					t.Fatalf("%s: Compare not antisymmetric on %s, %s", typ, Format(typ, a), Format(typ, b))
				}
				keq := string(AppendKey(nil, typ, a)) == string(AppendKey(nil, typ, b))
				if keq != (c == 0) || Equal(typ, a, b) != (c == 0) {
					t.Fatalf("%s: key/Equal/Compare disagree on %s, %s", typ, Format(typ, a), Format(typ, b))
				}
				if c == 0 && Hash(typ, a) != Hash(typ, b) {
					t.Fatalf("%s: equal values hash differently", typ)
				}
			}
		}
		sorted := slices.Clone(vals)
		slices.SortFunc(sorted, func(a, b Value) int { return Compare(typ, a, b) })
		for i := 0; i+2 < len(sorted); i++ {
			if Compare(typ, sorted[i], sorted[i+2]) > 0 {
				t.Fatalf("%s: Compare not transitive around %s", typ, Format(typ, sorted[i]))
			}
		}
	}
}

func TestAppendKeyInjective(t *testing.T) {
	// Tuples that differ must encode differently, including tricky
	// boundaries between variable-length columns.
	types := []*lang.Type{tString, tString}
	tuples := [][]Value{
		{"ab", "c"}, {"a", "bc"}, {"", "abc"}, {"abc", ""}, {"a\x00", "b"}, {"a", "\x00b"},
	}
	seen := map[string]int{}
	for i, tup := range tuples {
		k := string(AppendTupleKey(nil, types, tup))
		if j, dup := seen[k]; dup {
			t.Errorf("tuples %v and %v share a key", tuples[j], tup)
		}
		seen[k] = i
	}
	// Nested sets: {{1}, {2}} vs {{1, 2}} vs {{}, {1, 2}}.
	ss := tLSet(tLSet(tInt))
	vals := []Value{
		NewSet(tLSet(tInt), intSet(1), intSet(2)),
		NewSet(tLSet(tInt), intSet(1, 2)),
		NewSet(tLSet(tInt), intSet(), intSet(1, 2)),
		NewSet(tLSet(tInt), intSet()),
		NewSet(tLSet(tInt)),
	}
	keys := map[string]bool{}
	for _, v := range vals {
		keys[string(AppendKey(nil, ss, v))] = true
	}
	if len(keys) != len(vals) {
		t.Errorf("nested set keys collide: %d distinct of %d", len(keys), len(vals))
	}
	// Different ints, including sign boundaries, differ and preserve order.
	prev := ""
	for _, x := range []int64{math.MinInt64, -1, 0, 1, 255, 256, math.MaxInt64} {
		k := string(AppendKey(nil, tInt, x))
		if k <= prev {
			t.Errorf("int keys are not increasing at %d", x)
		}
		prev = k
	}
	// Floats: -0 and +0 share a key, NaNs share a key.
	if string(AppendKey(nil, tFloat, 0.0)) != string(AppendKey(nil, tFloat, math.Copysign(0, -1))) {
		t.Errorf("-0 and +0 should share a key")
	}
	if string(AppendKey(nil, tFloat, math.NaN())) != string(AppendKey(nil, tFloat, -math.NaN())) {
		t.Errorf("NaNs should share a key")
	}
	if string(AppendKey(nil, tFloat, 1.0)) == string(AppendKey(nil, tFloat, 2.0)) {
		t.Errorf("1.0 and 2.0 share a key")
	}
	// lmax bottom differs from every value.
	if string(AppendKey(nil, tLMax(tInt), nil)) == string(AppendKey(nil, tLMax(tInt), int64(0))) {
		t.Errorf("lmax bottom and 0 share a key")
	}
	// AppendKey appends.
	if k := AppendKey([]byte("pre"), tBool, true); string(k) != "pre\x01" {
		t.Errorf("AppendKey did not append: %q", k)
	}
	if TupleKey([]*lang.Type{tInt}, []Value{int64(1)}) != string(AppendKey(nil, tInt, int64(1))) {
		t.Errorf("TupleKey differs from AppendTupleKey")
	}
}

func TestHash(t *testing.T) {
	// FNV-1a of the 8-byte key of int 0 (0x80 00 00 00 00 00 00 00).
	h := uint64(fnvOffset64)
	for _, c := range []byte{0x80, 0, 0, 0, 0, 0, 0, 0} {
		h ^= uint64(c)
		h *= fnvPrime64
	}
	if got := Hash(tInt, int64(0)); got != int64(h) {
		t.Errorf("Hash(0) = %d, want %d", got, int64(h))
	}
	if Hash(tString, "a") == Hash(tString, "b") {
		t.Errorf("hash collision on tiny strings")
	}
}

func TestTypeOf(t *testing.T) {
	tests := []struct {
		v    Value
		want string
	}{
		{int64(1), "int"}, {1.5, "float"}, {"s", "string"}, {true, "bool"},
		{Addr("a"), "addr"}, {Time(1), "time"}, {Bytes("b"), "bytes"},
		{intSet(1), "lset<int>"}, {NewCounter(), "lcounter"},
	}
	for _, tt := range tests {
		if got := TypeOf(tt.v).String(); got != tt.want {
			t.Errorf("TypeOf(%v) = %s, want %s", tt.v, got, tt.want)
		}
	}
	if TypeOf(nil) != nil || TypeOf(Pair{}) != nil {
		t.Errorf("TypeOf(nil/Pair) should be nil")
	}
}
