package stdlib

import "github.com/bloomlang/bloom/lang"

// Word types are the scalar types whose values fit one machine word with
// equality as word equality: int, bool and time. The runtime stores
// relations of word-typed columns packed, as rows of uint64 words, which
// the garbage collector does not scan and joins compare without
// unboxing. (Floats are left out: -0 == +0 and NaN == NaN under Compare,
// so their bits are not an equality.)
func IsWordType(t *lang.Type) bool {
	return t != nil && (t.Kind == lang.Int || t.Kind == lang.Bool || t.Kind == lang.Time)
}

// PackWord returns v, a value of word type t, as a word. It accepts what
// Coerce accepts and reports false for anything else.
func PackWord(t *lang.Type, v Value) (uint64, bool) {
	switch x := v.(type) {
	case int64:
		if t.Kind == lang.Int {
			return uint64(x), true
		}
	case Time:
		if t.Kind == lang.Time {
			return uint64(x), true
		}
	case bool:
		if t.Kind == lang.Bool {
			if x {
				return 1, true
			}
			return 0, true
		}
	}
	c, err := Coerce(t, v)
	if err != nil || c == nil {
		return 0, false
	}
	switch x := c.(type) {
	case int64:
		return uint64(x), t.Kind == lang.Int
	case Time:
		return uint64(x), t.Kind == lang.Time
	case bool:
		if x {
			return 1, t.Kind == lang.Bool
		}
		return 0, t.Kind == lang.Bool
	}
	return 0, false
}

// UnpackWord is the inverse of PackWord.
func UnpackWord(t *lang.Type, w uint64) Value {
	switch t.Kind {
	case lang.Bool:
		return w != 0
	case lang.Time:
		return Time(int64(w))
	}
	return int64(w)
}
