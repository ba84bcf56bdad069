package stdlib

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bloomlang/bloom/lang"
)

// runAgg feeds (x, by) rows into a fresh aggregate and formats the results.
func runAgg(t *testing.T, name string, argType, byType *lang.Type, rows ...[2]Value) string {
	t.Helper()
	a, err := NewAgg(name, argType, byType)
	if err != nil {
		t.Fatalf("NewAgg(%s): %v", name, err)
	}
	for _, r := range rows {
		a.Add(r[0], r[1])
	}
	rt, err := AggResultType(name, argType, byType)
	if err != nil {
		t.Fatalf("AggResultType(%s): %v", name, err)
	}
	var out []string
	for _, v := range a.Result() {
		out = append(out, Format(rt, v))
	}
	return strings.Join(out, " ")
}

func xs(vals ...Value) [][2]Value {
	rows := make([][2]Value, len(vals))
	for i, v := range vals {
		rows[i] = [2]Value{v, nil}
	}
	return rows
}

func TestAggregates(t *testing.T) {
	tests := []struct {
		name    string
		argType *lang.Type
		byType  *lang.Type
		rows    [][2]Value
		want    string
	}{
		{"count", tString, nil, xs("a", "a", "b"), "3"},
		{"count", tInt, nil, nil, "0"},
		{"sum", tInt, nil, xs(int64(100), int64(100), int64(50)), "250"}, // duplicates both count
		{"sum", tInt, nil, nil, "0"},
		{"sum", tFloat, nil, xs(0.5, 0.5, 2.0), "3.0"},
		{"sum", tFloat, nil, nil, "0.0"},
		{"sum", tFloat, nil, xs(1e100, 1.0, -1e100), "1.0"}, // exact summation
		{"sum", tLMax(tInt), nil, xs(int64(2), nil, int64(3)), "5"},
		{"min", tInt, nil, xs(int64(3), int64(-1), int64(7)), "-1"},
		{"max", tInt, nil, xs(int64(3), int64(-1), int64(7)), "7"},
		{"min", tString, nil, xs("pear", "apple", "zoo"), `"apple"`},
		{"max", tFloat, nil, xs(1.5, 2.5, -3.0), "2.5"},
		{"max", tInt, nil, nil, ""},
		{"avg", tInt, nil, xs(int64(1), int64(2)), "1.5"},
		{"avg", tInt, nil, xs(int64(2), int64(4)), "3.0"},
		{"avg", tInt, nil, xs(int64(5), int64(5), int64(2)), "4.0"},
		{"avg", tFloat, nil, xs(1.0, 2.0, 4.5), "2.5"},
		{"avg", tInt, nil, xs(int64(1<<62), int64(1<<62), int64(1<<62), int64(1<<62)), "4.611686018427388e+18"}, // overflow-safe (2^62)
		{"avg", tInt, nil, nil, ""},
		{"set", tInt, nil, xs(int64(3), int64(1), int64(3)), "{1, 3}"},
		{"set", tString, nil, nil, "{}"},
		{"argmin", tString, tInt, [][2]Value{{"a", int64(5)}, {"b", int64(2)}, {"c", int64(9)}}, `"b"`},
		{"argmax", tString, tInt, [][2]Value{{"a", int64(5)}, {"b", int64(2)}, {"c", int64(9)}}, `"c"`},
		{"argmin", tString, tInt, [][2]Value{{"z", int64(2)}, {"a", int64(5)}, {"b", int64(2)}, {"b", int64(2)}}, `"b" "z"`}, // ties, distinct x
		{"argmax", tString, tInt, [][2]Value{{"x", int64(1)}, {"y", int64(7)}, {"w", int64(7)}, {"v", int64(3)}}, `"w" "y"`},
		{"argmin", tInt, tFloat, [][2]Value{{int64(1), 0.5}, {int64(2), 0.25}, {int64(3), 0.5}, {int64(4), 0.25}}, "2 4"},
		{"argmax", tString, tInt, nil, ""},
	}
	for _, tt := range tests {
		if got := runAgg(t, tt.name, tt.argType, tt.byType, tt.rows...); got != tt.want {
			t.Errorf("%s over %v = %q, want %q", tt.name, tt.rows, got, tt.want)
		}
	}
}

func TestAggResultTypesAndErrors(t *testing.T) {
	tests := []struct {
		name         string
		arg, by, out *lang.Type
	}{
		{"count", tString, nil, tInt},
		{"sum", tInt, nil, tInt},
		{"sum", tFloat, nil, tFloat},
		{"sum", tLMax(tFloat), nil, tFloat},
		{"avg", tInt, nil, tFloat},
		{"min", tString, nil, tString},
		{"argmax", tAddr, tInt, tAddr},
		{"set", tInt, nil, tLSet(tInt)},
	}
	for _, tt := range tests {
		got, err := AggResultType(tt.name, tt.arg, tt.by)
		if err != nil || !got.Equal(tt.out) {
			t.Errorf("AggResultType(%s, %s) = %s, %v; want %s", tt.name, tt.arg, got, err, tt.out)
		}
	}
	for _, bad := range []struct {
		name    string
		arg, by *lang.Type
	}{{"sum", tString, nil}, {"avg", tLSet(tInt), nil}, {"argmin", tInt, nil}, {"median", tInt, nil}, {"count", nil, nil}} {
		if _, err := NewAgg(bad.name, bad.arg, bad.by); err == nil {
			t.Errorf("NewAgg(%s, %s) should fail", bad.name, bad.arg)
		}
	}
	if AggArity("argmin") != 2 || AggArity("sum") != 1 || AggArity("x") != 0 {
		t.Errorf("AggArity")
	}
	if !AggMonotone("set") || AggMonotone("count") || !IsAggName("avg") || IsAggName("len") {
		t.Errorf("AggMonotone/IsAggName")
	}
	if len(AggNames()) != 8 {
		t.Errorf("AggNames = %v", AggNames())
	}
}

// TestFloatSumOrderIndependent checks that sum and avg of floats do not
// depend on the order of the matches (the runtime's order is arbitrary).
func TestFloatSumOrderIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 13))
	vals := make([]Value, 200)
	for i := range vals {
		vals[i] = (r.Float64() - 0.3) * float64(int64(1)<<r.IntN(60))
	}
	want := runAgg(t, "sum", tFloat, nil, xs(vals...)...)
	wantAvg := runAgg(t, "avg", tFloat, nil, xs(vals...)...)
	for i := 0; i < 5; i++ {
		r.Shuffle(len(vals), func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
		if got := runAgg(t, "sum", tFloat, nil, xs(vals...)...); got != want {
			t.Fatalf("sum depends on order: %s vs %s", got, want)
		}
		if got := runAgg(t, "avg", tFloat, nil, xs(vals...)...); got != wantAvg {
			t.Fatalf("avg depends on order: %s vs %s", got, wantAvg)
		}
	}
	if got := runAgg(t, "sum", tFloat, nil, xs(0.1, 0.2, 0.3)...); got != "0.6" {
		t.Errorf("sum(0.1, 0.2, 0.3) = %s, want the correctly rounded 0.6", got)
	}
	if got := runAgg(t, "sum", tFloat, nil, xs(1.0, posInf(), 2.0)...); got != "+Inf" {
		t.Errorf("sum with +Inf = %s", got)
	}
}

func posInf() float64 { f, _ := ParseText(tFloat, "+Inf"); return f.(float64) }

func TestAggResultRepeatable(t *testing.T) {
	a, _ := NewAgg("set", tInt, nil)
	a.Add(int64(2), nil)
	first := a.Result()[0].(*Set)
	a.Add(int64(1), nil)
	second := a.Result()[0].(*Set)
	if first.Len() != 1 || second.Len() != 2 {
		t.Errorf("set results: %v then %v", first, second)
	}
	m, _ := NewAgg("argmax", tString, tInt)
	m.Add("a", int64(1))
	m.Add("b", int64(1))
	m.Add("c", int64(5)) // a new winner clears the ties
	if got := m.Result(); len(got) != 1 || got[0] != "c" {
		t.Errorf("argmax after a new winner = %v", got)
	}
	m.Add("a", int64(5))
	if got := m.Result(); len(got) != 2 || got[0] != "a" {
		t.Errorf("argmax ties after the reset = %v", got)
	}
}
