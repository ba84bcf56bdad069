package stdlib

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bloomlang/bloom/lang"
)

func TestFormat(t *testing.T) {
	mapSS := tLMap(tString, tLSet(tInt))
	nested := NewMap(tString, tLSet(tInt), strs("b", "a"), []Value{intSet(3, 1), intSet()})
	tests := []struct {
		t    *lang.Type
		v    Value
		want string
	}{
		{tInt, int64(42), "42"},
		{tInt, int64(-7), "-7"},
		{tInt, int64(math.MinInt64), "-9223372036854775808"},
		{tFloat, 3.0, "3.0"},
		{tFloat, 2.5, "2.5"},
		{tFloat, -1.0, "-1.0"},
		{tFloat, 0.0, "0.0"},
		{tFloat, math.Copysign(0, -1), "-0.0"},
		{tFloat, 0.30000000000000004, "0.30000000000000004"},
		{tFloat, 1.0 / 3, "0.3333333333333333"},
		{tFloat, 1e6, "1000000.0"},
		{tFloat, 1234567.5, "1234567.5"},
		{tFloat, 1e20, "1e+20"},
		{tFloat, 1e15, "1000000000000000.0"},
		{tFloat, 1e16, "1e+16"},
		{tFloat, 1e21, "1e+21"},
		{tFloat, 1.5e300, "1.5e+300"},
		{tFloat, 0.0001, "0.0001"},
		{tFloat, 0.00001, "1e-05"},
		{tFloat, 5e-324, "5e-324"},
		{tFloat, math.MaxFloat64, "1.7976931348623157e+308"},
		{tFloat, math.NaN(), "NaN"},
		{tFloat, math.Inf(1), "+Inf"},
		{tFloat, math.Inf(-1), "-Inf"},
		{tFloat, int64(4), "4.0"}, // int representation tolerated
		{tString, "a", `"a"`},
		{tString, "", `""`},
		{tString, "say \"hi\"\n\t\\", `"say \"hi\"\n\t\\"`},
		{tString, "é☃", `"é☃"`},
		{tAddr, Addr("localhost:8000"), `"localhost:8000"`},
		{tBytes, Bytes("\x00\xffa"), `"\x00\xffa"`},
		{tBool, true, "true"},
		{tBool, false, "false"},
		{tTime, Time(1700000000000000000), "1700000000000000000"},
		{tLMax(tInt), int64(5), "5"},
		{tLMax(tInt), nil, "bottom"},
		{tLMin(tFloat), 2.0, "2.0"},
		{tLMin(tString), "z", `"z"`},
		{tLBool, true, "true"},
		{tLBool, nil, "false"},
		{tLCount, counter("a", 2, "b", 3), "5"},
		{tLCount, nil, "0"},
		{tLCount, (*Counter)(nil), "0"},
		{tLSet(tInt), intSet(3, 1, 2), "{1, 2, 3}"},
		{tLSet(tInt), intSet(), "{}"},
		{tLSet(tInt), nil, "{}"},
		{tLSet(tInt), (*Set)(nil), "{}"},
		{tLSet(tString), strSet("b", "a"), `{"a", "b"}`},
		{tLSet(tFloat), NewSet(tFloat, 2.0, 0.5), "{0.5, 2.0}"},
		{tLSet(tAddr), NewSet(tAddr, Addr("b:1"), Addr("a:2")), `{"a:2", "b:1"}`},
		{mapSS, nested, `{"a": {}, "b": {1, 3}}`},
		{mapSS, nil, "{}"},
		{tLMap(tInt, tLMax(tInt)), NewMap(tInt, tLMax(tInt), ints(2, 1), ints(20, 10)), "{1: 10, 2: 20}"},
		{tLPair(tLMax(tInt), tLSet(tString)), Pair{A: int64(1), B: strSet("x")}, `(1, {"x"})`},
		{tLPair(tLMax(tInt), tLSet(tString)), nil, "(bottom, {})"},
		{tLSet(tLSet(tInt)), NewSet(tLSet(tInt), intSet(2), intSet(1, 5), intSet()), "{{}, {1, 5}, {2}}"},
	}
	for _, tt := range tests {
		if got := Format(tt.t, tt.v); got != tt.want {
			t.Errorf("Format(%s, %#v) = %s, want %s", tt.t, tt.v, got, tt.want)
		}
		if got := string(AppendFormat([]byte("x="), tt.t, tt.v)); got != "x="+tt.want {
			t.Errorf("AppendFormat(%s) = %s", tt.t, got)
		}
	}
}

func TestFormatTupleAndStr(t *testing.T) {
	got := FormatTuple("rel", []*lang.Type{tInt, tString, tFloat, tLSet(tInt)}, []Value{int64(1), "a", 2.0, intSet(2, 1)})
	if want := `rel(1, "a", 2.0, {1, 2})`; got != want {
		t.Errorf("FormatTuple = %s, want %s", got, want)
	}
	if got := FormatTuple("empty", nil, nil); got != "empty()" {
		t.Errorf("FormatTuple of no columns = %s", got)
	}
	strTests := []struct {
		t    *lang.Type
		v    Value
		want string
	}{
		{tString, "a", "a"},
		{tString, "with \"quotes\"", "with \"quotes\""},
		{tAddr, Addr("h:1"), "h:1"},
		{tBytes, Bytes("raw"), "raw"},
		{tInt, int64(-3), "-3"},
		{tFloat, 1.0, "1.0"},
		{tBool, true, "true"},
		{tLSet(tString), strSet("a"), `{"a"}`},
		{tLMax(tInt), int64(9), "9"},
	}
	for _, tt := range strTests {
		if got := Str(tt.t, tt.v); got != tt.want {
			t.Errorf("Str(%s, %v) = %q, want %q", tt.t, tt.v, got, tt.want)
		}
	}
}

func TestParseText(t *testing.T) {
	tests := []struct {
		t    *lang.Type
		in   string
		want Value
	}{
		{tInt, "42", int64(42)},
		{tInt, " -3 ", int64(-3)},
		{tFloat, "2.5", 2.5},
		{tFloat, "3", 3.0},
		{tBool, "true", true},
		{tBool, "FALSE", false},
		{tString, " spaced text ", " spaced text "},
		{tString, "", ""},
		{tAddr, "localhost:9000", Addr("localhost:9000")},
		{tBytes, "abc", Bytes("abc")},
		{tTime, "1000", Time(1000)},
		{tTime, "1970-01-01T00:00:01Z", Time(1e9)},
		{tLMax(tInt), "7", int64(7)},
		{tLMax(tInt), "bottom", nil},
		{tLMin(tString), "bottom", "bottom"},
		{tLBool, "true", true},
	}
	for _, tt := range tests {
		got, err := ParseText(tt.t, tt.in)
		if err != nil {
			t.Errorf("ParseText(%s, %q): %v", tt.t, tt.in, err)
			continue
		}
		if !Equal(tt.t, got, tt.want) || (got != nil && tt.want != nil && got != tt.want) {
			t.Errorf("ParseText(%s, %q) = %#v, want %#v", tt.t, tt.in, got, tt.want)
		}
	}
	if v, err := ParseText(tLSet(tInt), "{3, 1}"); err != nil || Format(tLSet(tInt), v) != "{1, 3}" {
		t.Errorf("ParseText lset = %v, %v", v, err)
	}
	if v, err := ParseText(tLCount, "4"); err != nil || asCounter(v).Value() != 4 {
		t.Errorf("ParseText lcounter = %v, %v", v, err)
	}
	bad := []struct {
		t   *lang.Type
		in  string
		msg string
	}{
		{tInt, "abc", `cannot parse "abc" as int`},
		{tInt, "1.5", `cannot parse "1.5" as int`},
		{tInt, "99999999999999999999", `cannot parse "99999999999999999999" as int: out of range`},
		{tFloat, "x", `cannot parse "x" as float`},
		{tBool, "yes", `cannot parse "yes" as bool`},
		{tTime, "yesterday", `cannot parse "yesterday" as time`},
		{tLMax(tInt), "q", `cannot parse "q" as lmax<int>`},
		{tLCount, "-1", `cannot parse "-1" as lcounter`},
		{tLSet(tInt), "{1,", `cannot parse "{1," as lset<int>`},
	}
	for _, tt := range bad {
		_, err := ParseText(tt.t, tt.in)
		if err == nil || !strings.HasPrefix(err.Error(), tt.msg) {
			t.Errorf("ParseText(%s, %q) error = %v, want prefix %q", tt.t, tt.in, err, tt.msg)
		}
	}
}

func TestParseLiteral(t *testing.T) {
	mt := tLMap(tString, tLSet(tInt))
	v, err := ParseLiteral(mt, ` { "b" : {3,1} , "a":{} } `)
	if err != nil {
		t.Fatal(err)
	}
	if got := Format(mt, v); got != `{"a": {}, "b": {1, 3}}` {
		t.Errorf("got %s", got)
	}
	pt := tLPair(tLMin(tFloat), tLSet(tString))
	v, err = ParseLiteral(pt, `(2.5, {"x,y", "}"})`)
	if err != nil {
		t.Fatal(err)
	}
	if got := Format(pt, v); got != `(2.5, {"x,y", "}"})` {
		t.Errorf("got %s", got)
	}
	if v, err := ParseLiteral(tTime, `"1970-01-01T00:00:00.000000002Z"`); err != nil || v != Time(2) {
		t.Errorf("quoted time: %v, %v", v, err)
	}
	for _, s := range []string{`{1, 2`, `{1 2}`, `"abc`, `1 2`, `{"a": }`, ``} {
		typ := tLSet(tInt)
		if strings.HasPrefix(s, `{"`) {
			typ = tLMap(tString, tLMax(tInt))
		} else if strings.HasPrefix(s, `"`) {
			typ = tString
		} else if s == "1 2" {
			typ = tInt
		}
		if _, err := ParseLiteral(typ, s); err == nil {
			t.Errorf("ParseLiteral(%s, %q) should fail", typ, s)
		}
	}
}

// TestFormatRoundTrip checks that ParseLiteral reads Format's output back to
// an equal value, for random values of many types.
func TestFormatRoundTrip(t *testing.T) {
	types := append([]*lang.Type{tInt, tFloat, tString, tBool, tAddr, tBytes, tTime}, latticeTypes...)
	r := rand.New(rand.NewPCG(7, 7))
	for _, typ := range types {
		if typ.Kind == lang.LCounter {
			continue // prints only its sum
		}
		for i := 0; i < 100; i++ {
			v := gen(r, typ)
			s := Format(typ, v)
			back, err := ParseLiteral(typ, s)
			if err != nil {
				t.Fatalf("%s: ParseLiteral(%q): %v", typ, s, err)
			}
			if !Equal(typ, v, back) {
				t.Fatalf("%s: round trip of %s gave %s", typ, s, Format(typ, back))
			}
		}
	}
}

func TestCoerce(t *testing.T) {
	tests := []struct {
		t    *lang.Type
		in   Value
		want string
	}{
		{tFloat, int64(3), "3.0"},
		{tAddr, "h:1", `"h:1"`},
		{tTime, int64(5), "5"},
		{tLSet(tAddr), NewSet(tString, "b:1", "a:1"), `{"a:1", "b:1"}`},
		{tLSet(tFloat), []Value{int64(2), int64(1)}, "{1.0, 2.0}"},
		{tLMap(tString, tLMax(tFloat)), NewMap(tString, tLMax(tInt), strs("k"), ints(1)), `{"k": 1.0}`},
		{tLPair(tLMax(tFloat), tLBool), Pair{A: int64(1), B: true}, "(1.0, true)"},
		{tLCount, int64(3), "3"},
		{tLMax(tInt), nil, "bottom"},
	}
	for _, tt := range tests {
		got, err := Coerce(tt.t, tt.in)
		if err != nil {
			t.Errorf("Coerce(%s, %v): %v", tt.t, tt.in, err)
			continue
		}
		if s := Format(tt.t, got); s != tt.want {
			t.Errorf("Coerce(%s, %v) = %s, want %s", tt.t, tt.in, s, tt.want)
		}
	}
	if v, _ := Coerce(tAddr, "h:1"); v != Addr("h:1") {
		t.Errorf("Coerce to addr must give an Addr, got %T", v)
	}
	if _, err := Coerce(tInt, "x"); err == nil {
		t.Errorf("Coerce(int, string) should fail")
	}
	if _, err := Coerce(tInt, 1.5); err == nil {
		t.Errorf("Coerce(int, 1.5) should fail")
	}
}
