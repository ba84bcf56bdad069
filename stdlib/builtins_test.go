package stdlib

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/bloomlang/bloom/lang"
)

func call(t *testing.T, name string, types []*lang.Type, args ...Value) (Value, error) {
	t.Helper()
	b, ok := LookupBuiltin(name)
	if !ok {
		t.Fatalf("no builtin %s", name)
	}
	ctx := &CallContext{Self: "node1:7000", Now: Time(123456789)}
	return b.Apply(ctx, types, args)
}

func TestBuiltins(t *testing.T) {
	mt := tLMap(tString, tLSet(tInt))
	m := NewMap(tString, tLSet(tInt), strs("a"), []Value{intSet(1, 2)})
	tests := []struct {
		name  string
		types []*lang.Type
		args  []Value
		want  string // Format of the result under its type
		rt    *lang.Type
	}{
		{"len", []*lang.Type{tString}, []Value{"héllo"}, "6", tInt}, // bytes
		{"len", []*lang.Type{tString}, []Value{""}, "0", tInt},
		{"len", []*lang.Type{tBytes}, []Value{Bytes("\x00\x01")}, "2", tInt},
		{"len", []*lang.Type{tLSet(tInt)}, []Value{intSet(1, 2, 3)}, "3", tInt},
		{"len", []*lang.Type{tLSet(tInt)}, []Value{nil}, "0", tInt},
		{"lower", []*lang.Type{tString}, []Value{"HeLLo É"}, `"hello é"`, tString},
		{"upper", []*lang.Type{tString}, []Value{"abc"}, `"ABC"`, tString},
		{"substr", []*lang.Type{tString, tInt, tInt}, []Value{"hello", int64(1), int64(3)}, `"ell"`, tString},
		{"substr", []*lang.Type{tString, tInt, tInt}, []Value{"hello", int64(3), int64(10)}, `"lo"`, tString},
		{"substr", []*lang.Type{tString, tInt, tInt}, []Value{"hello", int64(-2), int64(2)}, `"he"`, tString},
		{"substr", []*lang.Type{tString, tInt, tInt}, []Value{"hello", int64(9), int64(2)}, `""`, tString},
		{"substr", []*lang.Type{tString, tInt, tInt}, []Value{"hello", int64(1), int64(-1)}, `""`, tString},
		{"substr", []*lang.Type{tString, tInt, tInt}, []Value{"hello", int64(0), int64(math.MaxInt64)}, `"hello"`, tString},
		{"substr", []*lang.Type{tString, tInt, tInt}, []Value{"", int64(0), int64(1)}, `""`, tString},
		{"contains", []*lang.Type{tString, tString}, []Value{"hello", "ell"}, "true", tBool},
		{"contains", []*lang.Type{tString, tString}, []Value{"hello", "xyz"}, "false", tBool},
		{"contains", []*lang.Type{tString, tString}, []Value{"hello", ""}, "true", tBool},
		{"concat", []*lang.Type{tString}, []Value{"a"}, `"a"`, tString},
		{"concat", []*lang.Type{tString, tString, tString}, []Value{"a", "b", "c"}, `"abc"`, tString},
		{"concat", []*lang.Type{tString, tInt, tFloat, tAddr}, []Value{"n=", int64(3), 1.0, Addr("h:1")}, `"n=31.0h:1"`, tString},
		{"str", []*lang.Type{tString}, []Value{"a"}, `"a"`, tString},
		{"str", []*lang.Type{tInt}, []Value{int64(-5)}, `"-5"`, tString},
		{"str", []*lang.Type{tFloat}, []Value{2.0}, `"2.0"`, tString},
		{"str", []*lang.Type{tLSet(tString)}, []Value{strSet("x")}, `"{\"x\"}"`, tString},
		{"int", []*lang.Type{tInt}, []Value{int64(4)}, "4", tInt},
		{"int", []*lang.Type{tFloat}, []Value{-2.9}, "-2", tInt},
		{"int", []*lang.Type{tString}, []Value{" 17 "}, "17", tInt},
		{"int", []*lang.Type{tBool}, []Value{true}, "1", tInt},
		{"int", []*lang.Type{tTime}, []Value{Time(99)}, "99", tInt},
		{"float", []*lang.Type{tInt}, []Value{int64(2)}, "2.0", tFloat},
		{"float", []*lang.Type{tString}, []Value{"2.5"}, "2.5", tFloat},
		{"float", []*lang.Type{tFloat}, []Value{0.5}, "0.5", tFloat},
		{"abs", []*lang.Type{tInt}, []Value{int64(-3)}, "3", tInt},
		{"abs", []*lang.Type{tInt}, []Value{int64(3)}, "3", tInt},
		{"abs", []*lang.Type{tFloat}, []Value{-1.5}, "1.5", tFloat},
		{"min", []*lang.Type{tInt, tInt}, []Value{int64(3), int64(-1)}, "-1", tInt},
		{"max", []*lang.Type{tInt, tInt}, []Value{int64(3), int64(-1)}, "3", tInt},
		{"min", []*lang.Type{tString, tString}, []Value{"b", "a"}, `"a"`, tString},
		{"max", []*lang.Type{tFloat, tFloat}, []Value{1.5, 2.5}, "2.5", tFloat},
		{"self", nil, nil, `"node1:7000"`, tAddr},
		{"now", nil, nil, "123456789", tTime},
		{"size", []*lang.Type{tLSet(tInt)}, []Value{intSet(4, 5)}, "2", tLMax(tInt)},
		{"size", []*lang.Type{tLSet(tInt)}, []Value{nil}, "0", tLMax(tInt)},
		{"size", []*lang.Type{mt}, []Value{m}, "1", tLMax(tInt)},
		{"has", []*lang.Type{tLSet(tInt), tInt}, []Value{intSet(4, 5), int64(5)}, "true", tLBool},
		{"has", []*lang.Type{tLSet(tInt), tInt}, []Value{intSet(4, 5), int64(6)}, "false", tLBool},
		{"has", []*lang.Type{tLSet(tInt), tInt}, []Value{nil, int64(6)}, "false", tLBool},
		{"at", []*lang.Type{mt, tString}, []Value{m, "a"}, "{1, 2}", tLSet(tInt)},
		{"at", []*lang.Type{mt, tString}, []Value{m, "zz"}, "{}", tLSet(tInt)},
		{"at", []*lang.Type{tLMap(tString, tLMax(tInt)), tString}, []Value{nil, "zz"}, "bottom", tLMax(tInt)},
		{"value", []*lang.Type{tLMax(tInt)}, []Value{int64(8)}, "8", tInt},
		{"value", []*lang.Type{tLMin(tFloat)}, []Value{1.5}, "1.5", tFloat},
		{"value", []*lang.Type{tLBool}, []Value{nil}, "false", tBool},
		{"value", []*lang.Type{tLCount}, []Value{counter("a", 2, "b", 5)}, "7", tInt},
		{"value", []*lang.Type{tLSet(tInt)}, []Value{intSet(1, 2)}, "2", tInt},
	}
	for _, tt := range tests {
		got, err := call(t, tt.name, tt.types, tt.args...)
		if err != nil {
			t.Errorf("%s%v: %v", tt.name, tt.args, err)
			continue
		}
		if s := Format(tt.rt, got); s != tt.want {
			t.Errorf("%s%v = %s, want %s", tt.name, tt.args, s, tt.want)
		}
		// The declared result type agrees.
		b, _ := LookupBuiltin(tt.name)
		rt, err := b.ResultType(tt.types)
		if err != nil {
			t.Errorf("%s: ResultType(%v): %v", tt.name, tt.types, err)
		} else if !rt.Equal(tt.rt) {
			t.Errorf("%s: ResultType(%v) = %s, want %s", tt.name, tt.types, rt, tt.rt)
		}
	}
}

func TestBuiltinResultTypes(t *testing.T) {
	// The Go representation of each result matches its declared type.
	if v, _ := call(t, "self", nil); v != Addr("node1:7000") {
		t.Errorf("self() = %#v, want an Addr", v)
	}
	if v, _ := call(t, "now", nil); v != Time(123456789) {
		t.Errorf("now() = %#v, want a Time", v)
	}
	if v, _ := call(t, "size", []*lang.Type{tLSet(tInt)}, intSet(1)); v != int64(1) {
		t.Errorf("size = %#v, want int64", v)
	}
	if v, _ := call(t, "has", []*lang.Type{tLSet(tInt), tInt}, intSet(1), int64(1)); v != true {
		t.Errorf("has = %#v, want bool", v)
	}
	if v, _ := call(t, "hash", []*lang.Type{tString}, "abc"); v != Hash(tString, "abc") {
		t.Errorf("hash = %#v", v)
	}
	if a, _ := call(t, "hash", []*lang.Type{tInt}, int64(1)); a == Value(int64(0)) {
		t.Errorf("hash of 1 is 0?")
	}
	// hash of equal sets built in different orders agrees.
	h1, _ := call(t, "hash", []*lang.Type{tLSet(tInt)}, intSet(1, 2))
	h2, _ := call(t, "hash", []*lang.Type{tLSet(tInt)}, intSet(2, 1, 2))
	if h1 != h2 {
		t.Errorf("hash of equal sets differs")
	}
}

func TestBuiltinErrors(t *testing.T) {
	tests := []struct {
		name  string
		types []*lang.Type
		args  []Value
		msg   string
	}{
		{"int", []*lang.Type{tString}, []Value{"x"}, `cannot parse "x" as int`},
		{"int", []*lang.Type{tString}, []Value{"1.5"}, `cannot parse "1.5" as int`},
		{"int", []*lang.Type{tFloat}, []Value{math.NaN()}, "out of range"},
		{"int", []*lang.Type{tFloat}, []Value{1e19}, "out of range"},
		{"float", []*lang.Type{tString}, []Value{"abc"}, `cannot parse "abc" as float`},
		{"abs", []*lang.Type{tInt}, []Value{int64(math.MinInt64)}, "overflow"},
		{"value", []*lang.Type{tLMax(tInt)}, []Value{nil}, "bottom"},
		{"value", []*lang.Type{tLPair(tLBool, tLBool)}, []Value{Pair{A: true, B: true}}, "no scalar"},
		{"len", nil, []Value{int64(3)}, "unsupported"},
		{"lower", []*lang.Type{tString}, []Value{}, "takes 1 argument"},
		{"substr", []*lang.Type{tString}, []Value{"a", int64(1)}, "takes 3 argument"},
		{"concat", nil, []Value{}, "at least 1"},
		{"self", nil, []Value{int64(1)}, "takes 0 argument"},
	}
	for _, tt := range tests {
		_, err := call(t, tt.name, tt.types, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s%v error = %v, want one containing %q", tt.name, tt.args, err, tt.msg)
		}
	}
	if _, err := call(t, "value", []*lang.Type{tLMin(tInt)}, nil); !errors.Is(err, ErrBottom) {
		t.Errorf("value of bottom should wrap ErrBottom, got %v", err)
	}
	// No context: an error, not a panic.
	b, _ := LookupBuiltin("now")
	if _, err := b.Apply(nil, nil, nil); err == nil {
		t.Errorf("now() without context should fail")
	}
	if _, ok := LookupBuiltin("nosuch"); ok {
		t.Errorf("LookupBuiltin(nosuch) found something")
	}
}

func TestBuiltinResultTypeErrors(t *testing.T) {
	tests := []struct {
		name  string
		types []*lang.Type
	}{
		{"len", []*lang.Type{tInt}},
		{"lower", []*lang.Type{tInt}},
		{"substr", []*lang.Type{tString, tString, tInt}},
		{"contains", []*lang.Type{tString, tInt}},
		{"int", []*lang.Type{tLSet(tInt)}},
		{"abs", []*lang.Type{tString}},
		{"min", []*lang.Type{tInt, tFloat}},
		{"size", []*lang.Type{tInt}},
		{"has", []*lang.Type{tLSet(tInt), tString}},
		{"at", []*lang.Type{tLMap(tString, tLBool), tInt}},
		{"value", []*lang.Type{tLPair(tLBool, tLBool)}},
		{"len", []*lang.Type{tString, tString}},
	}
	for _, tt := range tests {
		b, _ := LookupBuiltin(tt.name)
		if rt, err := b.ResultType(tt.types); err == nil {
			t.Errorf("%s(%v) should not type-check, got %s", tt.name, tt.types, rt)
		}
	}
}

func TestBuiltinTable(t *testing.T) {
	want := []string{"abs", "at", "concat", "contains", "first", "float", "has", "hash", "int", "len", "lower",
		"max", "min", "now", "second", "self", "size", "str", "substr", "upper", "value"}
	got := BuiltinNames()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("BuiltinNames = %v", got)
	}
	for _, n := range got {
		b, _ := LookupBuiltin(n)
		if b.Name != n || b.Doc == "" || b.Call == nil || b.Result == nil {
			t.Errorf("builtin %s is incomplete", n)
		}
	}
	for _, n := range []string{"value", "now"} {
		if b, _ := LookupBuiltin(n); !b.NonMonotone {
			t.Errorf("%s should be marked non-monotone", n)
		}
	}
	for _, n := range []string{"size", "has", "at"} {
		if b, _ := LookupBuiltin(n); !b.Monotone {
			t.Errorf("%s should be marked monotone", n)
		}
	}
}

func TestPairComponents(t *testing.T) {
	pt := &lang.Type{Kind: lang.LPair, Key: &lang.Type{Kind: lang.LMax, Elem: lang.TInt}, Elem: &lang.Type{Kind: lang.LMax, Elem: lang.TString}}
	first, _ := LookupBuiltin("first")
	second, _ := LookupBuiltin("second")
	p := Pair{A: int64(5), B: "x"}
	if v, err := first.Apply(&CallContext{}, []*lang.Type{pt}, []Value{p}); err != nil || v != int64(5) {
		t.Errorf("first = %v, %v", v, err)
	}
	if v, err := second.Apply(&CallContext{}, []*lang.Type{pt}, []Value{p}); err != nil || v != "x" {
		t.Errorf("second = %v, %v", v, err)
	}
	if !first.Monotone || !second.NonMonotone {
		t.Error("first must be monotone and second not (it restarts when the first grows)")
	}
	if rt, err := first.ResultType([]*lang.Type{pt}); err != nil || !rt.Equal(pt.Key) {
		t.Errorf("first type = %v, %v", rt, err)
	}
}
