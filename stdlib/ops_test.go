package stdlib

import (
	"errors"
	"math"
	"testing"

	"github.com/bloomlang/bloom/lang"
)

func TestBinaryOp(t *testing.T) {
	lmaxI, lminI := tLMax(tInt), tLMin(tInt)
	tests := []struct {
		op   string
		t    *lang.Type
		a, b Value
		want Value
	}{
		{"+", tInt, int64(2), int64(3), int64(5)},
		{"-", tInt, int64(2), int64(3), int64(-1)},
		{"*", tInt, int64(-4), int64(3), int64(-12)},
		{"/", tInt, int64(7), int64(2), int64(3)},
		{"/", tInt, int64(-7), int64(2), int64(-3)}, // truncation toward zero
		{"%", tInt, int64(7), int64(3), int64(1)},
		{"%", tInt, int64(-7), int64(3), int64(-1)},
		{"/", tInt, int64(math.MinInt64), int64(-1), int64(math.MinInt64)}, // wraps, no panic
		{"+", tInt, int64(math.MaxInt64), int64(1), int64(math.MinInt64)},
		{"+", tFloat, 1.5, 2.25, 3.75},
		{"+", tFloat, int64(1), 0.5, 1.5}, // int where float expected
		{"/", tFloat, 1.0, 4.0, 0.25},
		{"/", tFloat, 1.0, 0.0, math.Inf(1)},
		{"*", tInt, int64(2), 1.5, 3.0}, // float operand promotes
		{"+", tString, "ab", "cd", "abcd"},
		{"+", tBytes, Bytes("a"), Bytes("b"), Bytes("ab")},
		{"+", tTime, Time(100), int64(5), Time(105)},
		{"+", tTime, int64(5), Time(100), Time(105)},
		{"-", tTime, Time(100), int64(5), Time(95)},
		{"-", tTime, Time(100), Time(40), int64(60)},
		{"+", lminI, int64(3), int64(2), int64(5)},
		{"-", lmaxI, int64(3), int64(2), int64(1)},
		{"+", lminI, nil, int64(2), nil}, // bottom stays bottom
		{"+", tLMin(tFloat), 1.5, int64(1), 2.5},
		{"==", tInt, int64(1), int64(1), true},
		{"!=", tInt, int64(1), int64(1), false},
		{"<", tString, "a", "b", true},
		{"<=", tFloat, 2.0, 2.0, true},
		{">", tInt, int64(1), 0.5, true}, // mixed
		{">=", tBool, false, true, false},
		{"==", tLSet(tInt), intSet(1, 2), intSet(2, 1), true},
		{"<", tAddr, Addr("a:1"), Addr("b:1"), true},
		{">=", lmaxI, int64(5), int64(3), true}, // threshold
		{">=", lmaxI, nil, int64(3), false},     // bottom below everything
		{"<", lmaxI, nil, int64(math.MinInt64), true},
		{">=", tInt, nil, int64(3), false}, // lmax bottom with the scalar type
		{">=", tLCount, counter("a", 2, "b", 2), int64(4), true},
		{">", tLCount, counter("a", 2, "b", 2), int64(4), false},
		{"==", tLBool, nil, false, true},
		{"==", tFloat, math.NaN(), math.NaN(), true}, // Compare's total order
		{"&&", tBool, true, false, false},
		{"||", tBool, true, false, true},
		{"&&", tLBool, true, true, true},
	}
	for _, tt := range tests {
		got, err := BinaryOp(tt.op, tt.t, tt.a, tt.b)
		if err != nil {
			t.Errorf("%v %s %v (%s): %v", tt.a, tt.op, tt.b, tt.t, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%v %s %v (%s) = %#v, want %#v", tt.a, tt.op, tt.b, tt.t, got, tt.want)
		}
	}
	errs := []struct {
		op   string
		t    *lang.Type
		a, b Value
	}{
		{"/", tInt, int64(1), int64(0)},
		{"%", tInt, int64(1), int64(0)},
		{"%", tFloat, 1.0, 2.0},
		{"-", tString, "a", "b"},
		{"*", lmaxI, int64(1), int64(2)},
		{"+", tLSet(tInt), intSet(1), intSet(2)},
		{"+", tTime, Time(1), Time(2)},
		{"&&", tInt, int64(1), int64(1)},
		{"^", tInt, int64(1), int64(1)},
		{"+", nil, nil, nil},
	}
	for _, tt := range errs {
		if got, err := BinaryOp(tt.op, tt.t, tt.a, tt.b); err == nil {
			t.Errorf("%v %s %v (%s) = %v, want an error", tt.a, tt.op, tt.b, tt.t, got)
		}
	}
	if _, err := BinaryOp("/", tInt, int64(1), int64(0)); !errors.Is(err, ErrDivByZero) {
		t.Errorf("division by zero error should wrap ErrDivByZero: %v", err)
	}
	if _, err := BinaryOp("%", tInt, int64(1), int64(0)); !errors.Is(err, ErrDivByZero) {
		t.Errorf("modulo by zero error should wrap ErrDivByZero: %v", err)
	}
}

func TestUnaryOp(t *testing.T) {
	tests := []struct {
		op   string
		t    *lang.Type
		a    Value
		want Value
	}{
		{"-", tInt, int64(3), int64(-3)},
		{"-", tInt, int64(math.MinInt64), int64(math.MinInt64)},
		{"-", tFloat, 2.5, -2.5},
		{"!", tBool, true, false},
		{"!", tLBool, nil, true},
	}
	for _, tt := range tests {
		got, err := UnaryOp(tt.op, tt.t, tt.a)
		if err != nil || got != tt.want {
			t.Errorf("%s%v = %v, %v; want %v", tt.op, tt.a, got, err, tt.want)
		}
	}
	for _, bad := range []struct {
		op string
		t  *lang.Type
		a  Value
	}{{"-", tString, "a"}, {"!", tInt, int64(1)}, {"~", tInt, int64(1)}} {
		if _, err := UnaryOp(bad.op, bad.t, bad.a); err == nil {
			t.Errorf("%s on %s should fail", bad.op, bad.t)
		}
	}
}
