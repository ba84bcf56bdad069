package stdlib

import "github.com/bloomlang/bloom/lang"

// Word types are the types whose values fit one machine word with
// equality as word equality: int, bool, time, and lmin<int> and
// lmax<int> other than their bottom (which has no word: PackWord refuses
// it). The runtime stores relations of word-typed columns packed, as rows
// of uint64 words, which the garbage collector does not scan and joins
// compare without unboxing. (Floats are left out: -0 == +0 and NaN == NaN
// under Compare, so their bits are not an equality.)
func IsWordType(t *lang.Type) bool {
	if t == nil {
		return false
	}
	switch t.Kind {
	case lang.Int, lang.Bool, lang.Time:
		return true
	case lang.LMin, lang.LMax:
		return t.Elem != nil && t.Elem.Kind == lang.Int
	}
	return false
}

// IsIntWord reports whether t's words are ints: int, lmin<int>, lmax<int>.
func IsIntWord(t *lang.Type) bool {
	return t != nil && (t.Kind == lang.Int || IsWordType(t) && (t.Kind == lang.LMin || t.Kind == lang.LMax))
}

// PackWord returns v, a value of word type t, as a word. It accepts what
// Coerce accepts and reports false for anything else.
func PackWord(t *lang.Type, v Value) (uint64, bool) {
	if !IsWordType(t) {
		return 0, false
	}
	switch x := v.(type) {
	case int64:
		if IsIntWord(t) {
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
		return uint64(x), IsIntWord(t)
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
