package stdlib

import (
	"errors"
	"fmt"

	"github.com/bloomlang/bloom/lang"
)

// ErrDivByZero is returned (wrapped) for integer division or modulo by zero.
var ErrDivByZero = errors.New("integer division by zero")

// BinaryOp evaluates `a op b` where t is the static type of the operands (the
// type checker makes both sides the same type, except for the lattice
// operations below, where t is the lattice's type and the other operand is a
// scalar). Supported:
//
//   - + - * / % on int (wrapping on overflow; / and % by zero are errors;
//     / truncates toward zero) and + - * / on float (IEEE: x/0 is ±Inf);
//     an int64 operand where a float is expected is converted, and an
//     int-typed operation with a float64 operand is done in float;
//   - + on string (concatenation), also on bytes;
//   - time + int and int + time → time, time - int → time, time - time → int
//     (nanoseconds);
//   - lmax/lmin + c and - c (and c + l): the arithmetic on the scalar, bottom
//     stays bottom (order-preserving, hence monotone);
//   - == != < <= > >= on every type via Compare, giving bool. With a lattice
//     type they compare the lattice's current value (lmax/lmin bottom is
//     below every scalar, an lcounter compares by its sum), so `l >= c` is
//     the threshold test; floats follow Compare's total order (NaN == NaN);
//   - && || on bool and lbool.
//
// Errors are returned, never panics.
func BinaryOp(op string, t *lang.Type, a, b Value) (Value, error) {
	if t == nil {
		if t = TypeOf(a); t == nil {
			t = TypeOf(b)
		}
		if t == nil {
			return nil, fmt.Errorf("operator %s: operands of unknown type", op)
		}
	}
	switch op {
	case "==":
		return compareOperands(t, a, b) == 0, nil
	case "!=":
		return compareOperands(t, a, b) != 0, nil
	case "<":
		return compareOperands(t, a, b) < 0, nil
	case "<=":
		return compareOperands(t, a, b) <= 0, nil
	case ">":
		return compareOperands(t, a, b) > 0, nil
	case ">=":
		return compareOperands(t, a, b) >= 0, nil
	case "&&", "||":
		x, ok1 := toBool(a)
		y, ok2 := toBool(b)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("operator %s not defined on %s", op, t)
		}
		if op == "&&" {
			return x && y, nil
		}
		return x || y, nil
	case "+", "-", "*", "/", "%":
		return arith(op, t, a, b)
	}
	return nil, fmt.Errorf("unknown operator %s", op)
}

// compareOperands compares for the comparison operators; a lattice may be
// compared with a scalar.
func compareOperands(t *lang.Type, a, b Value) int {
	if t.Kind == lang.LCounter {
		x, _ := toInt64(a)
		y, _ := toInt64(b)
		return compareNumbers(x, y)
	}
	if t.Kind == lang.LBool {
		return Compare(lang.TBool, a, b)
	}
	return Compare(t, a, b)
}

func arith(op string, t *lang.Type, a, b Value) (Value, error) {
	switch t.Kind {
	case lang.LMax, lang.LMin:
		if a == nil || b == nil {
			return nil, nil // bottom stays bottom
		}
		if op != "+" && op != "-" {
			return nil, fmt.Errorf("operator %s not defined on %s", op, t)
		}
		return arith(op, t.Elem, a, b)
	case lang.Int:
		_, af := a.(float64)
		_, bf := b.(float64)
		if af || bf {
			return arith(op, lang.TFloat, a, b)
		}
		if _, ok := a.(Time); ok {
			return arith(op, lang.TTime, a, b)
		}
		if _, ok := b.(Time); ok {
			return arith(op, lang.TTime, a, b)
		}
		x, ok1 := toInt64(a)
		y, ok2 := toInt64(b)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("operator %s: bad int operands %v, %v", op, a, b)
		}
		return intArith(op, x, y)
	case lang.Float:
		x, ok1 := toFloat64(a)
		y, ok2 := toFloat64(b)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("operator %s: bad float operands %v, %v", op, a, b)
		}
		switch op {
		case "+":
			return x + y, nil
		case "-":
			return x - y, nil
		case "*":
			return x * y, nil
		case "/":
			return x / y, nil
		}
		return nil, fmt.Errorf("operator %% not defined on float")
	case lang.String, lang.Bytes:
		if op != "+" {
			return nil, fmt.Errorf("operator %s not defined on %s", op, t)
		}
		x, ok1 := toStr(a)
		y, ok2 := toStr(b)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("operator +: bad %s operands %v, %v", t, a, b)
		}
		if t.Kind == lang.Bytes {
			return Bytes(x + y), nil
		}
		return x + y, nil
	case lang.Time:
		_, at := a.(Time)
		_, bt := b.(Time)
		x, ok1 := toInt64(a)
		y, ok2 := toInt64(b)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("operator %s: bad time operands %v, %v", op, a, b)
		}
		switch {
		case op == "+" && !(at && bt):
			return Time(x + y), nil
		case op == "-" && at && bt:
			return x - y, nil
		case op == "-" && at:
			return Time(x - y), nil
		}
		return nil, fmt.Errorf("operator %s not defined on these time operands", op)
	}
	return nil, fmt.Errorf("operator %s not defined on %s", op, t)
}

func intArith(op string, x, y int64) (Value, error) {
	switch op {
	case "+":
		return x + y, nil
	case "-":
		return x - y, nil
	case "*":
		return x * y, nil
	case "/":
		if y == 0 {
			return nil, ErrDivByZero
		}
		return x / y, nil
	case "%":
		if y == 0 {
			return nil, fmt.Errorf("integer modulo by zero: %w", ErrDivByZero)
		}
		return x % y, nil
	}
	return nil, fmt.Errorf("unknown operator %s", op)
}

// UnaryOp evaluates `-a` (int, wrapping; float) or `!a` (bool, lbool). t is
// the operand's static type.
func UnaryOp(op string, t *lang.Type, a Value) (Value, error) {
	if t == nil {
		t = TypeOf(a)
	}
	switch op {
	case "-":
		switch x := a.(type) {
		case int64:
			return -x, nil
		case float64:
			return -x, nil
		}
		if t != nil && t.Kind == lang.Int {
			if x, ok := toInt64(a); ok {
				return -x, nil
			}
		}
	case "!":
		if b, ok := toBool(a); ok && (t == nil || t.Kind == lang.Bool || t.Kind == lang.LBool) {
			return !b, nil
		}
	default:
		return nil, fmt.Errorf("unknown operator %s", op)
	}
	return nil, fmt.Errorf("operator %s not defined on %s", op, t)
}
