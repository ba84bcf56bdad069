package stdlib

import (
	"math"
	"strconv"

	"github.com/bloomlang/bloom/lang"
)

// BottomText is how Format prints the bottom (empty) value of lmax and lmin,
// which has no scalar. ParseLiteral reads it back.
const BottomText = "bottom"

// Format returns the canonical literal text of v (of type t), as printed by
// `bloomc run --print` (spec section 9). See AppendFormat.
func Format(t *lang.Type, v Value) string {
	var arr [32]byte
	return string(AppendFormat(arr[:0], t, v))
}

// AppendFormat appends the canonical literal text of v to buf:
//
//   - string, addr, bytes: double-quoted with Go escaping (strconv.Quote);
//   - int, time: decimal (time as its nanoseconds since the epoch);
//   - float: see AppendFloat ("3.0", "2.5", "1e+21", "NaN", "+Inf");
//   - bool, lbool: true / false;
//   - lmax, lmin: the scalar; their bottom prints as BottomText ("bottom");
//   - lcounter: its value (the sum of its counts; 0 when empty);
//   - lset: {e1, e2} sorted, {} when empty;
//   - lmap: {k1: v1, k2: v2} sorted by key, {} when empty;
//   - lpair: (a, b).
func AppendFormat(buf []byte, t *lang.Type, v Value) []byte {
	if t == nil {
		if t = TypeOf(v); t == nil {
			return append(buf, "<nil>"...)
		}
	}
	switch t.Kind {
	case lang.Int, lang.Time:
		if x, ok := v.(int64); ok {
			return strconv.AppendInt(buf, x, 10)
		}
		if f, ok := v.(float64); ok {
			return AppendFloat(buf, f)
		}
		x, _ := toInt64(v)
		return strconv.AppendInt(buf, x, 10)
	case lang.Float:
		f, _ := toFloat64(v)
		return AppendFloat(buf, f)
	case lang.String, lang.Addr, lang.Bytes:
		s, _ := toStr(v)
		return strconv.AppendQuote(buf, s)
	case lang.Bool, lang.LBool:
		b, _ := toBool(v)
		return strconv.AppendBool(buf, b)
	case lang.LMax, lang.LMin:
		if v == nil {
			return append(buf, BottomText...)
		}
		return AppendFormat(buf, t.Elem, v)
	case lang.LCounter:
		return strconv.AppendInt(buf, asCounter(v).Value(), 10)
	case lang.LSet:
		buf = append(buf, '{')
		for i, e := range asSet(v).Elems() {
			if i > 0 {
				buf = append(buf, ", "...)
			}
			buf = AppendFormat(buf, t.Elem, e)
		}
		return append(buf, '}')
	case lang.LMap:
		m := asMap(v)
		buf = append(buf, '{')
		for i := 0; i < m.Len(); i++ {
			if i > 0 {
				buf = append(buf, ", "...)
			}
			buf = AppendFormat(buf, t.Key, m.keys[i])
			buf = append(buf, ": "...)
			buf = AppendFormat(buf, t.Elem, m.vals[i])
		}
		return append(buf, '}')
	case lang.LPair:
		p := asPair(t, v)
		buf = append(buf, '(')
		buf = AppendFormat(buf, t.Key, p.A)
		buf = append(buf, ", "...)
		buf = AppendFormat(buf, t.Elem, p.B)
		return append(buf, ')')
	}
	return append(buf, "<invalid>"...)
}

// AppendFloat appends the canonical text of a float: the shortest decimal
// that reads back exactly, in positional notation when 1e-4 <= |f| < 1e16
// (and for zero) with ".0" appended when it would otherwise look like an
// integer ("3.0", "2.5", "-0.0", "1000000.0"), and otherwise in Go's
// exponent form ("1e+16", "1.5e-07"). NaN and the infinities print as
// "NaN", "+Inf" and "-Inf" (the spellings strconv.ParseFloat accepts).
func AppendFloat(buf []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, "NaN"...)
	case math.IsInf(f, 1):
		return append(buf, "+Inf"...)
	case math.IsInf(f, -1):
		return append(buf, "-Inf"...)
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-4 || abs >= 1e16) {
		return strconv.AppendFloat(buf, f, 'g', -1, 64)
	}
	start := len(buf)
	buf = strconv.AppendFloat(buf, f, 'f', -1, 64)
	for _, c := range buf[start:] {
		if c == '.' {
			return buf
		}
	}
	return append(buf, ".0"...)
}

// FormatFloat returns AppendFloat's text.
func FormatFloat(f float64) string { return string(AppendFloat(nil, f)) }

// FormatTuple renders a tuple in fact syntax: rel(1, "a").
func FormatTuple(name string, types []*lang.Type, vals []Value) string {
	return string(AppendFormatTuple(make([]byte, 0, 32), name, types, vals))
}

// AppendFormatTuple appends FormatTuple's text to buf.
func AppendFormatTuple(buf []byte, name string, types []*lang.Type, vals []Value) []byte {
	buf = append(buf, name...)
	buf = append(buf, '(')
	for i, v := range vals {
		if i > 0 {
			buf = append(buf, ", "...)
		}
		var t *lang.Type
		if i < len(types) {
			t = types[i]
		}
		buf = AppendFormat(buf, t, v)
	}
	return append(buf, ')')
}

// Str is the builtin str(x): the canonical text of a value, except that a
// string, addr or bytes value is given unquoted (str("a") == "a"). Values
// nested inside sets, maps and pairs keep their quotes.
func Str(t *lang.Type, v Value) string {
	if s, ok := toStr(v); ok && (t == nil || t.Kind == lang.String || t.Kind == lang.Addr || t.Kind == lang.Bytes) {
		return s
	}
	return Format(t, v)
}
