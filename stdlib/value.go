package stdlib

import (
	"errors"
	"fmt"
	"math"

	"github.com/bloomlang/bloom/lang"
)

// Value is a runtime value. Its Go representation is fixed by its static
// Bloom type (see the package documentation); operations are always told the
// type.
type Value = any

// Addr is a node address "host:port" (Bloom type addr).
type Addr string

// Time is an instant in nanoseconds since the Unix epoch (Bloom type time).
type Time int64

// Bytes is a byte string (Bloom type bytes). It is a string type so that
// values stay comparable and hashable.
type Bytes string

// Pair is a value of lpair<L1, L2>: A is the L1 part, B the L2 part.
type Pair struct {
	A, B Value
}

// ErrBottom is returned (wrapped) by value() and similar functions when a
// lattice has no scalar to reveal yet (an lmax or lmin that is still bottom).
// Evaluators may test for it with errors.Is and treat the binding as absent.
var ErrBottom = errors.New("lattice is bottom: no value yet")

// toInt64 converts the Go representations that can stand for an integer.
func toInt64(v Value) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case Time:
		return int64(x), true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint64:
		return int64(x), true
	case *Counter:
		return x.Value(), true
	}
	return 0, false
}

// toFloat64 converts the Go representations that can stand for a float.
func toFloat64(v Value) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case Time:
		return float64(x), true
	}
	return 0, false
}

// toStr returns the text of the string-like representations.
func toStr(v Value) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case Addr:
		return string(x), true
	case Bytes:
		return string(x), true
	}
	return "", false
}

// toBool returns the truth of a bool (lbool) value; nil counts as false, the
// bottom of lbool.
func toBool(v Value) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case nil:
		return false, true
	}
	return false, false
}

// Coerce converts v to the canonical representation of type t. It accepts
// the representations a parser naturally produces (int64 for an integer
// literal, float64, string, bool) and, for lattices, already-built values
// whose element types need converting. It is meant for literals and facts;
// values computed by stdlib already have the right representation.
func Coerce(t *lang.Type, v Value) (Value, error) {
	if t == nil {
		return v, nil
	}
	switch t.Kind {
	case lang.Int:
		if x, ok := v.(int64); ok {
			return x, nil
		}
		if x, ok := v.(float64); ok {
			if x != math.Trunc(x) || math.IsInf(x, 0) || math.IsNaN(x) {
				return nil, fmt.Errorf("cannot use %v as int", x)
			}
			return int64(x), nil
		}
		if x, ok := toInt64(v); ok {
			return x, nil
		}
	case lang.Float:
		if x, ok := toFloat64(v); ok {
			return x, nil
		}
	case lang.String:
		if s, ok := toStr(v); ok {
			return s, nil
		}
	case lang.Addr:
		if s, ok := toStr(v); ok {
			return Addr(s), nil
		}
	case lang.Bytes:
		if s, ok := toStr(v); ok {
			return Bytes(s), nil
		}
	case lang.Bool, lang.LBool:
		if b, ok := toBool(v); ok {
			return b, nil
		}
	case lang.Time:
		if x, ok := toInt64(v); ok {
			return Time(x), nil
		}
	case lang.LMax, lang.LMin:
		if v == nil {
			return nil, nil
		}
		return Coerce(t.Elem, v)
	case lang.LCounter:
		switch x := v.(type) {
		case nil:
			return (*Counter)(nil), nil
		case *Counter:
			return x, nil
		}
		if n, ok := toInt64(v); ok {
			if n < 0 {
				return nil, fmt.Errorf("cannot use negative %d as lcounter", n)
			}
			return CounterOf("", n), nil
		}
	case lang.LSet:
		switch x := v.(type) {
		case nil:
			return NewSet(t.Elem), nil
		case *Set:
			if x == nil {
				return NewSet(t.Elem), nil
			}
			elems := make([]Value, len(x.elems))
			for i, e := range x.elems {
				c, err := Coerce(t.Elem, e)
				if err != nil {
					return nil, err
				}
				elems[i] = c
			}
			return NewSet(t.Elem, elems...), nil
		case []Value:
			elems := make([]Value, len(x))
			for i, e := range x {
				c, err := Coerce(t.Elem, e)
				if err != nil {
					return nil, err
				}
				elems[i] = c
			}
			return NewSet(t.Elem, elems...), nil
		}
	case lang.LMap:
		switch x := v.(type) {
		case nil:
			return NewMap(t.Key, t.Elem, nil, nil), nil
		case *Map:
			if x == nil {
				return NewMap(t.Key, t.Elem, nil, nil), nil
			}
			keys := make([]Value, len(x.keys))
			vals := make([]Value, len(x.vals))
			for i := range x.keys {
				k, err := Coerce(t.Key, x.keys[i])
				if err != nil {
					return nil, err
				}
				e, err := Coerce(t.Elem, x.vals[i])
				if err != nil {
					return nil, err
				}
				keys[i], vals[i] = k, e
			}
			return NewMap(t.Key, t.Elem, keys, vals), nil
		}
	case lang.LPair:
		switch x := v.(type) {
		case nil:
			return Bottom(t), nil
		case Pair:
			a, err := Coerce(t.Key, x.A)
			if err != nil {
				return nil, err
			}
			b, err := Coerce(t.Elem, x.B)
			if err != nil {
				return nil, err
			}
			return Pair{A: a, B: b}, nil
		}
	}
	return nil, fmt.Errorf("cannot use %v (%T) as %s", v, v, t)
}
