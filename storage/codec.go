package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
)

// The value encoding (docs/storage.md): self-delimiting, directed by the
// column's type, so a tuple is the concatenation of its columns.
//
//	int, time        8 bytes big-endian, sign bit flipped
//	float            8 bytes big-endian IEEE 754 bits (in keys: -0 as +0,
//	                 every NaN as one NaN, so that keys agree with equality)
//	string/addr/bytes uvarint length, then the bytes
//	bool, lbool      1 byte, 0 or 1
//	lmax<T>, lmin<T> 0 (bottom), or 1 then T
//	lset<T>          uvarint count, then the elements in ascending order
//	lmap<K, L>       uvarint count, then key K and value L pairs by key
//	lcounter         uvarint count, then (uvarint length, address bytes,
//	                 uvarint count) by address
//	lpair<L1, L2>    L1 then L2

// errShort is returned for an encoding that ends early.
var errShort = errors.New("truncated value")

// appendValue appends the encoding of v (of type t). With key set,
// floats are canonicalised so that equal values encode equally.
func appendValue(buf []byte, t *lang.Type, v stdlib.Value, key bool) ([]byte, error) {
	switch t.Kind {
	case lang.Int:
		x, ok := v.(int64)
		if !ok {
			return nil, typeErr(t, v)
		}
		return binary.BigEndian.AppendUint64(buf, uint64(x)^1<<63), nil
	case lang.Time:
		x, ok := v.(stdlib.Time)
		if !ok {
			return nil, typeErr(t, v)
		}
		return binary.BigEndian.AppendUint64(buf, uint64(x)^1<<63), nil
	case lang.Float:
		f, ok := v.(float64)
		if !ok {
			return nil, typeErr(t, v)
		}
		if key {
			if f != f {
				f = math.NaN()
			} else if f == 0 {
				f = 0
			}
		}
		return binary.BigEndian.AppendUint64(buf, math.Float64bits(f)), nil
	case lang.String:
		s, ok := v.(string)
		if !ok {
			return nil, typeErr(t, v)
		}
		return appendString(buf, s), nil
	case lang.Addr:
		s, ok := v.(stdlib.Addr)
		if !ok {
			return nil, typeErr(t, v)
		}
		return appendString(buf, string(s)), nil
	case lang.Bytes:
		s, ok := v.(stdlib.Bytes)
		if !ok {
			return nil, typeErr(t, v)
		}
		return appendString(buf, string(s)), nil
	case lang.Bool, lang.LBool:
		var b bool
		switch x := v.(type) {
		case bool:
			b = x
		case nil:
			if t.Kind != lang.LBool {
				return nil, typeErr(t, v)
			}
		default:
			return nil, typeErr(t, v)
		}
		if b {
			return append(buf, 1), nil
		}
		return append(buf, 0), nil
	case lang.LMax, lang.LMin:
		if v == nil {
			return append(buf, 0), nil
		}
		return appendValue(append(buf, 1), t.Elem, v, key)
	case lang.LSet:
		var s *stdlib.Set
		switch x := v.(type) {
		case *stdlib.Set:
			s = x
		case nil:
		default:
			return nil, typeErr(t, v)
		}
		buf = binary.AppendUvarint(buf, uint64(s.Len()))
		var err error
		for i := 0; i < s.Len(); i++ {
			if buf, err = appendValue(buf, t.Elem, s.Elem(i), key); err != nil {
				return nil, err
			}
		}
		return buf, nil
	case lang.LMap:
		var m *stdlib.Map
		switch x := v.(type) {
		case *stdlib.Map:
			m = x
		case nil:
		default:
			return nil, typeErr(t, v)
		}
		buf = binary.AppendUvarint(buf, uint64(m.Len()))
		var err error
		for i := 0; i < m.Len(); i++ {
			k, e := m.Entry(i)
			if buf, err = appendValue(buf, t.Key, k, key); err != nil {
				return nil, err
			}
			if buf, err = appendValue(buf, t.Elem, e, key); err != nil {
				return nil, err
			}
		}
		return buf, nil
	case lang.LCounter:
		var c *stdlib.Counter
		switch x := v.(type) {
		case *stdlib.Counter:
			c = x
		case nil:
		default:
			return nil, typeErr(t, v)
		}
		buf = binary.AppendUvarint(buf, uint64(c.Len()))
		for i := 0; i < c.Len(); i++ {
			a, n := c.Entry(i)
			buf = appendString(buf, string(a))
			buf = binary.AppendUvarint(buf, uint64(n))
		}
		return buf, nil
	case lang.LPair:
		var p stdlib.Pair
		switch x := v.(type) {
		case stdlib.Pair:
			p = x
		case *stdlib.Pair:
			if x != nil {
				p = *x
			} else {
				p = stdlib.Bottom(t).(stdlib.Pair)
			}
		case nil:
			p = stdlib.Bottom(t).(stdlib.Pair)
		default:
			return nil, typeErr(t, v)
		}
		buf, err := appendValue(buf, t.Key, p.A, key)
		if err != nil {
			return nil, err
		}
		return appendValue(buf, t.Elem, p.B, key)
	}
	return nil, fmt.Errorf("cannot store values of type %s", t)
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// typeError is a value whose Go representation is not the canonical one
// of its type.
type typeError struct {
	t *lang.Type
	v stdlib.Value
}

func (e *typeError) Error() string { return fmt.Sprintf("cannot store %v (%T) as %s", e.v, e.v, e.t) }

func typeErr(t *lang.Type, v stdlib.Value) error { return &typeError{t, v} }

// appendColumn is appendValue that, for a value in a non-canonical
// representation (which the runtime should never produce), converts it
// with stdlib.Coerce and tries once more.
func appendColumn(buf []byte, t *lang.Type, v stdlib.Value, key bool) ([]byte, error) {
	out, err := appendValue(buf, t, v, key)
	var te *typeError
	if err != nil && errors.As(err, &te) {
		if c, cerr := stdlib.Coerce(t, v); cerr == nil {
			return appendValue(buf, t, c, key)
		}
	}
	return out, err
}

// decoder reads values back; every read checks the remaining length, so
// damaged bytes give an error, never a panic or a huge allocation.
type decoder struct {
	b []byte
}

func (d *decoder) uvarint() (uint64, error) {
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		return 0, errShort
	}
	d.b = d.b[n:]
	return x, nil
}

// count reads an element count; each element takes at least min bytes.
func (d *decoder) count(min int) (int, error) {
	x, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	if x > uint64(len(d.b)/min) {
		return 0, fmt.Errorf("count %d exceeds the remaining %d bytes", x, len(d.b))
	}
	return int(x), nil
}

func (d *decoder) u64() (uint64, error) {
	if len(d.b) < 8 {
		return 0, errShort
	}
	x := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return x, nil
}

func (d *decoder) byte1() (byte, error) {
	if len(d.b) < 1 {
		return 0, errShort
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c, nil
}

func (d *decoder) str() (string, error) {
	n, err := d.uvarint()
	if err != nil {
		return "", err
	}
	if n > uint64(len(d.b)) {
		return "", errShort
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s, nil
}

// minSize is the fewest bytes a value of t encodes to.
func minSize(t *lang.Type) int {
	switch t.Kind {
	case lang.Int, lang.Time, lang.Float:
		return 8
	case lang.LPair:
		return minSize(t.Key) + minSize(t.Elem)
	}
	return 1
}

func (d *decoder) value(t *lang.Type) (stdlib.Value, error) {
	switch t.Kind {
	case lang.Int:
		x, err := d.u64()
		return int64(x ^ 1<<63), err
	case lang.Time:
		x, err := d.u64()
		return stdlib.Time(int64(x ^ 1<<63)), err
	case lang.Float:
		x, err := d.u64()
		return math.Float64frombits(x), err
	case lang.String:
		return d.str()
	case lang.Addr:
		s, err := d.str()
		return stdlib.Addr(s), err
	case lang.Bytes:
		s, err := d.str()
		return stdlib.Bytes(s), err
	case lang.Bool, lang.LBool:
		c, err := d.byte1()
		if err != nil {
			return nil, err
		}
		if c > 1 {
			return nil, fmt.Errorf("bad bool byte %d", c)
		}
		return c == 1, nil
	case lang.LMax, lang.LMin:
		c, err := d.byte1()
		if err != nil {
			return nil, err
		}
		switch c {
		case 0:
			return nil, nil
		case 1:
			return d.value(t.Elem)
		}
		return nil, fmt.Errorf("bad %s presence byte %d", t.Kind, c)
	case lang.LSet:
		n, err := d.count(minSize(t.Elem))
		if err != nil {
			return nil, err
		}
		elems := make([]stdlib.Value, n)
		for i := range elems {
			if elems[i], err = d.value(t.Elem); err != nil {
				return nil, err
			}
		}
		return stdlib.NewSet(t.Elem, elems...), nil
	case lang.LMap:
		n, err := d.count(minSize(t.Key) + minSize(t.Elem))
		if err != nil {
			return nil, err
		}
		keys := make([]stdlib.Value, n)
		vals := make([]stdlib.Value, n)
		for i := range keys {
			if keys[i], err = d.value(t.Key); err != nil {
				return nil, err
			}
			if vals[i], err = d.value(t.Elem); err != nil {
				return nil, err
			}
		}
		return stdlib.NewMap(t.Key, t.Elem, keys, vals), nil
	case lang.LCounter:
		n, err := d.count(2)
		if err != nil {
			return nil, err
		}
		m := make(map[stdlib.Addr]int64, n)
		for range n {
			a, err := d.str()
			if err != nil {
				return nil, err
			}
			c, err := d.uvarint()
			if err != nil {
				return nil, err
			}
			if c > math.MaxInt64 {
				return nil, fmt.Errorf("lcounter count %d out of range", c)
			}
			m[stdlib.Addr(a)] = int64(c)
		}
		return stdlib.NewCounterFrom(m), nil
	case lang.LPair:
		a, err := d.value(t.Key)
		if err != nil {
			return nil, err
		}
		b, err := d.value(t.Elem)
		if err != nil {
			return nil, err
		}
		return stdlib.Pair{A: a, B: b}, nil
	}
	return nil, fmt.Errorf("cannot read values of type %s", t)
}

// appendTuple appends the encodings of every column.
func appendTuple(buf []byte, types []*lang.Type, t runtime.Tuple) ([]byte, error) {
	if len(t) != len(types) {
		return nil, fmt.Errorf("tuple has %d values, want %d", len(t), len(types))
	}
	var err error
	for i, typ := range types {
		if buf, err = appendColumn(buf, typ, t[i], false); err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// decodeTuple reads a whole tuple; trailing bytes are an error.
func decodeTuple(b []byte, types []*lang.Type) (runtime.Tuple, error) {
	d := &decoder{b: b}
	t, err := d.tuple(types)
	if err != nil {
		return nil, err
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%d unexpected bytes after the tuple", len(d.b))
	}
	return t, nil
}

func (d *decoder) tuple(types []*lang.Type) (runtime.Tuple, error) {
	t := make(runtime.Tuple, len(types))
	for i, typ := range types {
		v, err := d.value(typ)
		if err != nil {
			return nil, fmt.Errorf("column %d (%s): %w", i+1, typ, err)
		}
		t[i] = v
	}
	return t, nil
}

// Key layout (docs/storage.md). Collection names never contain 0x00.
const (
	keyMeta     = "m"  // format version, tick counter, flags
	keyPending  = "p"  // the pending next-tick changes to durable collections
	prefSchema  = "s/" // s/NAME: the collection's schema (JSON)
	prefData    = "d/" // d/NAME 0x00 KEY: one tuple; KEY encodes the key columns
	metaVersion = 1
	flagFacts   = 1 // meta flags: the facts tick committed
)

// dataPrefix is the prefix of every data key of collection name.
func dataPrefix(name string) []byte {
	return append([]byte(prefData+name), 0)
}

// appendDataKey appends the data key of tuple t of a collection with the
// given name, column types and key columns.
func appendDataKey(buf []byte, name string, types []*lang.Type, key []int, t runtime.Tuple) ([]byte, error) {
	buf = append(buf, prefData...)
	buf = append(buf, name...)
	buf = append(buf, 0)
	var err error
	for _, k := range key {
		if buf, err = appendColumn(buf, types[k], t[k], true); err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// meta is the decoded meta record.
type meta struct {
	version   int
	tick      int64
	factsDone bool
}

func encodeMeta(m meta) []byte {
	b := []byte{byte(m.version)}
	b = binary.AppendUvarint(b, uint64(m.tick))
	var flags byte
	if m.factsDone {
		flags |= flagFacts
	}
	return append(b, flags)
}

func decodeMeta(b []byte) (meta, error) {
	if len(b) == 0 {
		return meta{}, errShort
	}
	m := meta{version: int(b[0])}
	if m.version != metaVersion {
		return m, fmt.Errorf("format version %d (this bloomc reads version %d)", m.version, metaVersion)
	}
	d := &decoder{b: b[1:]}
	tick, err := d.uvarint()
	if err != nil {
		return m, err
	}
	flags, err := d.byte1()
	if err != nil {
		return m, err
	}
	if len(d.b) != 0 || tick > math.MaxInt64 {
		return m, errors.New("malformed meta record")
	}
	m.tick, m.factsDone = int64(tick), flags&flagFacts != 0
	return m, nil
}

// Pending ops on disk: 1 <+, 2 <-, 3 <+-.
var opCodes = map[lang.Op]byte{lang.OpNext: 1, lang.OpDelete: 2, lang.OpUpsert: 3}

func opOf(c byte) (lang.Op, bool) {
	for op, code := range opCodes {
		if code == c {
			return op, true
		}
	}
	return 0, false
}

// encodePending encodes the pending changes: a uvarint count, then for
// each the op byte, the collection name (uvarint length, bytes) and the
// tuple.
func encodePending(ps []runtime.PendingChange, types func(string) []*lang.Type) ([]byte, error) {
	b := binary.AppendUvarint(nil, uint64(len(ps)))
	for _, p := range ps {
		code, ok := opCodes[p.Op]
		if !ok {
			return nil, fmt.Errorf("pending change to %s has op %s", p.Coll, p.Op)
		}
		ts := types(p.Coll)
		if ts == nil {
			return nil, fmt.Errorf("pending change to unknown collection %s", p.Coll)
		}
		b = append(b, code)
		b = appendString(b, p.Coll)
		var err error
		if b, err = appendTuple(b, ts, p.Tuple); err != nil {
			return nil, fmt.Errorf("pending change to %s: %w", p.Coll, err)
		}
	}
	return b, nil
}

func decodePending(b []byte, types func(string) []*lang.Type) ([]runtime.PendingChange, error) {
	d := &decoder{b: b}
	n, err := d.count(3)
	if err != nil {
		return nil, err
	}
	out := make([]runtime.PendingChange, 0, n)
	for range n {
		c, err := d.byte1()
		if err != nil {
			return nil, err
		}
		op, ok := opOf(c)
		if !ok {
			return nil, fmt.Errorf("bad op byte %d", c)
		}
		name, err := d.str()
		if err != nil {
			return nil, err
		}
		ts := types(name)
		if ts == nil {
			return nil, fmt.Errorf("pending change to %s, which has no stored schema", name)
		}
		t, err := d.tuple(ts)
		if err != nil {
			return nil, fmt.Errorf("pending change to %s: %w", name, err)
		}
		out = append(out, runtime.PendingChange{Op: op, Coll: name, Tuple: t})
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%d unexpected bytes after the pending changes", len(d.b))
	}
	return out, nil
}
