package stdlib

import (
	"encoding/binary"
	"math"

	"github.com/bloomlang/bloom/lang"
)

// AppendKey appends the canonical binary encoding of v (of type t) to buf and
// returns the extended buffer. The encoding is injective and prefix-free for
// a given type: two values of t encode to equal bytes exactly when
// Equal(t, a, b), and the encodings of several values may be concatenated
// (see AppendTupleKey) without ambiguity. Use the result (converted to a
// string) as a hash-map key.
//
// Layout: int and time are 8 bytes big-endian with the sign bit flipped,
// float is 8 order-preserving bytes (-0 encoded as +0, every NaN alike),
// string/addr/bytes are a uvarint length then the bytes, bool/lbool one byte,
// lmax/lmin a presence byte then the scalar, lset/lmap/lcounter a uvarint
// count then the entries, lpair its two components.
func AppendKey(buf []byte, t *lang.Type, v Value) []byte {
	if t == nil {
		if t = TypeOf(v); t == nil {
			return append(buf, 0)
		}
	}
	switch t.Kind {
	case lang.Int:
		x, ok := v.(int64)
		if !ok {
			x = keyInt(v)
		}
		return binary.BigEndian.AppendUint64(buf, uint64(x)^(1<<63))
	case lang.Time:
		x, ok := v.(Time)
		if !ok {
			return binary.BigEndian.AppendUint64(buf, uint64(keyInt(v))^(1<<63))
		}
		return binary.BigEndian.AppendUint64(buf, uint64(x)^(1<<63))
	case lang.Float:
		f, _ := toFloat64(v)
		return binary.BigEndian.AppendUint64(buf, floatKey(f))
	case lang.String, lang.Addr, lang.Bytes:
		s, _ := toStr(v)
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		return append(buf, s...)
	case lang.Bool, lang.LBool:
		if b, _ := toBool(v); b {
			return append(buf, 1)
		}
		return append(buf, 0)
	case lang.LMax, lang.LMin:
		if v == nil {
			return append(buf, 0)
		}
		return AppendKey(append(buf, 1), t.Elem, v)
	case lang.LSet:
		s := asSet(v)
		buf = binary.AppendUvarint(buf, uint64(s.Len()))
		for _, e := range s.Elems() {
			buf = AppendKey(buf, t.Elem, e)
		}
		return buf
	case lang.LMap:
		m := asMap(v)
		buf = binary.AppendUvarint(buf, uint64(m.Len()))
		for i := 0; i < m.Len(); i++ {
			buf = AppendKey(buf, t.Key, m.keys[i])
			buf = AppendKey(buf, t.Elem, m.vals[i])
		}
		return buf
	case lang.LCounter:
		c := asCounter(v)
		buf = binary.AppendUvarint(buf, uint64(c.Len()))
		for i := 0; i < c.Len(); i++ {
			buf = binary.AppendUvarint(buf, uint64(len(c.addrs[i])))
			buf = append(buf, c.addrs[i]...)
			buf = binary.AppendUvarint(buf, uint64(c.counts[i]))
		}
		return buf
	case lang.LPair:
		p := asPair(t, v)
		buf = AppendKey(buf, t.Key, p.A)
		return AppendKey(buf, t.Elem, p.B)
	}
	return append(buf, 0)
}

// keyInt converts a non-int64 integer representation; integral floats map to
// the equal integer so that keys agree with Compare.
func keyInt(v Value) int64 {
	if f, ok := v.(float64); ok {
		return int64(f)
	}
	x, _ := toInt64(v)
	return x
}

// floatKey maps a float to an order-preserving uint64 with -0 == +0 and a
// single NaN (below every other float, as in Compare).
func floatKey(f float64) uint64 {
	if f != f {
		return 0
	}
	if f == 0 {
		f = 0 // -0 -> +0
	}
	b := math.Float64bits(f)
	if b&(1<<63) != 0 {
		return ^b
	}
	return b | 1<<63
}

// AppendTupleKey appends the keys of vals (of the parallel types) to buf.
func AppendTupleKey(buf []byte, types []*lang.Type, vals []Value) []byte {
	for i, v := range vals {
		var t *lang.Type
		if i < len(types) {
			t = types[i]
		}
		buf = AppendKey(buf, t, v)
	}
	return buf
}

// TupleKey returns the AppendTupleKey encoding as a string, ready to be used
// as a map key.
func TupleKey(types []*lang.Type, vals []Value) string {
	var arr [64]byte
	return string(AppendTupleKey(arr[:0], types, vals))
}

const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// Hash returns the 64-bit FNV-1a hash of v's AppendKey encoding, as int64.
// It is the builtin hash().
func Hash(t *lang.Type, v Value) int64 {
	var arr [64]byte
	return int64(fnv1a(AppendKey(arr[:0], t, v)))
}

func fnv1a(b []byte) uint64 {
	h := uint64(fnvOffset64)
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime64
	}
	return h
}
