package storage

import (
	"bytes"
	"math"
	"testing"

	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
)

func mustType(t testing.TB, s string) *lang.Type {
	t.Helper()
	typ, err := parseType(s)
	if err != nil {
		t.Fatal(err)
	}
	if typ.String() != s {
		t.Fatalf("parseType(%q) prints as %q", s, typ)
	}
	return typ
}

// Edge values round-trip exactly (floats bit for bit), and key encodings
// agree with stdlib.Equal.
func TestCodecRoundTrip(t *testing.T) {
	cases := []struct {
		typ  string
		vals []stdlib.Value
	}{
		{"int", []stdlib.Value{int64(0), int64(-1), int64(math.MinInt64), int64(math.MaxInt64)}},
		{"float", []stdlib.Value{0.0, math.Copysign(0, -1), math.NaN(), math.Inf(-1), 1e300, -2.5}},
		{"string", []stdlib.Value{"", "é\x00\xff", string(make([]byte, 300))}},
		{"addr", []stdlib.Value{stdlib.Addr(""), stdlib.Addr("h:1")}},
		{"bytes", []stdlib.Value{stdlib.Bytes(""), stdlib.Bytes("\x00")}},
		{"time", []stdlib.Value{stdlib.Time(-5), stdlib.Time(1 << 62)}},
		{"bool", []stdlib.Value{true, false}},
		{"lbool", []stdlib.Value{true, false}},
		{"lmax<int>", []stdlib.Value{nil, int64(3)}},
		{"lmin<string>", []stdlib.Value{nil, "a"}},
		{"lset<float>", []stdlib.Value{stdlib.NewSet(lang.TFloat), stdlib.NewSet(lang.TFloat, 2.0, -1.0, 2.0)}},
		{"lcounter", []stdlib.Value{stdlib.NewCounter(), stdlib.NewCounterFrom(map[stdlib.Addr]int64{"a:1": 3, "b:2": 1 << 40})}},
		{"lmap<string, lset<int>>", []stdlib.Value{
			stdlib.NewMap(lang.TString, mustType(t, "lset<int>"), nil, nil),
			stdlib.NewMap(lang.TString, mustType(t, "lset<int>"), []stdlib.Value{"x", "a"}, []stdlib.Value{stdlib.NewSet(lang.TInt, int64(1)), stdlib.NewSet(lang.TInt)}),
		}},
		{"lpair<lmax<int>, lset<string>>", []stdlib.Value{
			stdlib.Pair{A: nil, B: stdlib.NewSet(lang.TString)},
			stdlib.Pair{A: int64(2), B: stdlib.NewSet(lang.TString, "q")},
		}},
	}
	for _, c := range cases {
		typ := mustType(t, c.typ)
		for _, v := range c.vals {
			b, err := appendValue(nil, typ, v, false)
			if err != nil {
				t.Fatalf("%s %v: %v", c.typ, v, err)
			}
			d := &decoder{b: b}
			got, err := d.value(typ)
			if err != nil || len(d.b) != 0 {
				t.Fatalf("%s %v: decode: %v, %d bytes left", c.typ, v, err, len(d.b))
			}
			if f, ok := v.(float64); ok {
				if math.Float64bits(f) != math.Float64bits(got.(float64)) {
					t.Fatalf("float %v read back as %v", f, got)
				}
			} else if !stdlib.Equal(typ, v, got) || stdlib.Format(typ, v) != stdlib.Format(typ, got) {
				t.Fatalf("%s: %s read back as %s", c.typ, stdlib.Format(typ, v), stdlib.Format(typ, got))
			}
			// Keys: equal values, equal keys.
			for _, w := range c.vals {
				kv, _ := appendValue(nil, typ, v, true)
				kw, _ := appendValue(nil, typ, w, true)
				if eq := stdlib.Equal(typ, v, w); eq != bytes.Equal(kv, kw) {
					t.Fatalf("%s: %v and %v: Equal %v, keys equal %v", c.typ, v, w, eq, !eq)
				}
			}
		}
	}
	if _, err := appendValue(nil, lang.TInt, "x", false); err == nil {
		t.Fatal("stored a string as an int")
	}
	// A non-canonical representation is converted, not refused.
	if b, err := appendColumn(nil, lang.TFloat, int64(2), false); err != nil || len(b) != 8 {
		t.Fatalf("int as float: %v", err)
	}
}

func TestMetaAndPending(t *testing.T) {
	m := meta{version: metaVersion, tick: 1 << 40, factsDone: true}
	got, err := decodeMeta(encodeMeta(m))
	if err != nil || got != m {
		t.Fatalf("meta: %+v %v", got, err)
	}
	if _, err := decodeMeta([]byte{2, 0, 0}); err == nil {
		t.Fatal("accepted format version 2")
	}
	types := func(name string) []*lang.Type {
		if name == "kv" {
			return []*lang.Type{lang.TString, lang.TInt}
		}
		return nil
	}
	ps := []runtime.PendingChange{
		{Op: lang.OpUpsert, Coll: "kv", Tuple: runtime.Tuple{"a", int64(1)}},
		{Op: lang.OpDelete, Coll: "kv", Tuple: runtime.Tuple{"b", int64(2)}},
		{Op: lang.OpNext, Coll: "kv", Tuple: runtime.Tuple{"c", int64(3)}},
	}
	b, err := encodePending(ps, types)
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodePending(b, types)
	if err != nil || len(back) != 3 || back[1].Op != lang.OpDelete || back[2].Tuple[0] != "c" {
		t.Fatalf("pending: %v %v", back, err)
	}
	if _, err := decodePending(b[:len(b)-1], types); err == nil {
		t.Fatal("accepted truncated pending changes")
	}
}

// Decoding arbitrary bytes returns an error or a value, never panics or
// allocates without bound.
func FuzzDecodeTuple(f *testing.F) {
	types := []*lang.Type{
		lang.TString, mustType(f, "lmap<string, lpair<lmax<int>, lset<addr>>>"), lang.TLCount, lang.TFloat,
	}
	good, err := appendTuple(nil, types, runtime.Tuple{"k",
		stdlib.NewMap(lang.TString, types[1].Elem, []stdlib.Value{"a"}, []stdlib.Value{stdlib.Pair{A: int64(1), B: stdlib.NewSet(lang.TAddr, stdlib.Addr("h:1"))}}),
		stdlib.NewCounterFrom(map[stdlib.Addr]int64{"x:1": 5}), 1.5})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		tu, err := decodeTuple(b, types)
		if err != nil {
			return
		}
		again, err := appendTuple(nil, types, tu)
		if err != nil {
			t.Fatalf("decoded tuple does not encode: %v", err)
		}
		if _, err := decodeTuple(again, types); err != nil {
			t.Fatalf("re-encoded tuple does not decode: %v", err)
		}
	})
}

func TestParseTypeErrors(t *testing.T) {
	for _, s := range []string{"", "lmax", "lmax<int", "lmap<int>", "foo", "int<int>", "lset<int> x"} {
		if _, err := parseType(s); err == nil {
			t.Errorf("parseType(%q) succeeded", s)
		}
	}
}
