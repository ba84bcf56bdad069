package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
)

// Frame layout (docs/wire.md is the normative description):
//
//	header  magic "BLM" | version (1 byte) | body length (uint32, big endian)
//	body    group*
//	group   name (uvarint length + bytes) | arity (uvarint) |
//	        type fingerprint (uint32, big endian) | count (uvarint, ≥ 1) |
//	        count tuples, each its values in column order
//
// Values are encoded by their declared column type; see appendValue.
const (
	// HeaderSize is the size of a frame header.
	HeaderSize = 8
	// Version is the wire format version this package speaks.
	Version = 1
	// DefaultMaxFrame is the default limit on a frame's body length.
	DefaultMaxFrame = 4 << 20
	// maxNameLen bounds a collection name on the wire.
	maxNameLen = 255
)

var magic = [3]byte{'B', 'L', 'M'}

// Errors returned by the decoder; every decode error wraps ErrMalformed.
var (
	ErrMalformed = errors.New("malformed frame")
	ErrOversized = fmt.Errorf("%w: frame too large", ErrMalformed)
)

// Frame-level decode errors carry a reason usable as a metric label.
type decodeError struct {
	reason string
	msg    string
}

func (e *decodeError) Error() string { return "malformed frame: " + e.msg }
func (e *decodeError) Unwrap() error { return ErrMalformed }

// Reason returns a short, bounded label for a decode error ("truncated",
// "unknown_channel", ...), or "other".
func Reason(err error) string {
	var de *decodeError
	if errors.As(err, &de) {
		return de.reason
	}
	if errors.Is(err, ErrOversized) {
		return "oversized"
	}
	return "other"
}

func derr(reason, format string, args ...any) error {
	return &decodeError{reason: reason, msg: fmt.Sprintf(format, args...)}
}

// Schema is the set of collections a decoder accepts, with their column
// types: for node-to-node frames the program's channels, for client
// inserts its inputs, for watch streams its outputs.
type Schema struct {
	colls map[string]*schemaColl
}

type schemaColl struct {
	name  string
	kind  lang.CollKind
	types []*lang.Type
	fp    uint32
}

// NewSchema makes a schema of the plan's collections of the given kinds.
func NewSchema(plan *compiler.Plan, kinds ...lang.CollKind) *Schema {
	s := &Schema{colls: map[string]*schemaColl{}}
	for _, c := range plan.Colls {
		for _, k := range kinds {
			if c.Info.Kind == k {
				s.add(c.Name, k, c.Types)
			}
		}
	}
	return s
}

func (s *Schema) add(name string, kind lang.CollKind, types []*lang.Type) {
	s.colls[name] = &schemaColl{name: name, kind: kind, types: types, fp: Fingerprint(types)}
}

// Types returns the column types of a collection in the schema.
func (s *Schema) Types(name string) ([]*lang.Type, bool) {
	c := s.colls[name]
	if c == nil {
		return nil, false
	}
	return c.types, true
}

// Fingerprint is the 32-bit FNV-1a hash of the column types written as in
// source and joined by commas ("addr,int,lset<string>"). Two programs
// whose channels have the same name and fingerprint agree on the encoding.
func Fingerprint(types []*lang.Type) uint32 {
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = t.String()
	}
	h := fnv.New32a()
	h.Write([]byte(strings.Join(parts, ",")))
	return h.Sum32()
}

// AppendFrame appends one frame holding msgs to buf. Consecutive messages
// for the same collection share a group. Every message's collection must
// be in the schema and its tuple must match the column types.
func (s *Schema) AppendFrame(buf []byte, msgs []runtime.Message) ([]byte, error) {
	start := len(buf)
	buf = append(buf, magic[0], magic[1], magic[2], Version, 0, 0, 0, 0)
	for i := 0; i < len(msgs); {
		j := i + 1
		for j < len(msgs) && msgs[j].Coll == msgs[i].Coll {
			j++
		}
		c := s.colls[msgs[i].Coll]
		if c == nil {
			return buf[:start], fmt.Errorf("encode: %s is not in the schema", msgs[i].Coll)
		}
		buf = appendString(buf, c.name)
		buf = binary.AppendUvarint(buf, uint64(len(c.types)))
		buf = binary.BigEndian.AppendUint32(buf, c.fp)
		buf = binary.AppendUvarint(buf, uint64(j-i))
		for _, m := range msgs[i:j] {
			if len(m.Tuple) != len(c.types) {
				return buf[:start], fmt.Errorf("encode: %s has %d columns, got %d values", c.name, len(c.types), len(m.Tuple))
			}
			for k, t := range c.types {
				var err error
				if buf, err = appendValue(buf, t, m.Tuple[k]); err != nil {
					return buf[:start], fmt.Errorf("encode: %s column %d: %w", c.name, k, err)
				}
			}
		}
		i = j
	}
	body := len(buf) - start - HeaderSize
	if uint64(body) > math.MaxUint32 {
		return buf[:start], errors.New("encode: frame too large")
	}
	binary.BigEndian.PutUint32(buf[start+4:], uint32(body))
	return buf, nil
}

// ParseHeader checks a frame header and returns the body length.
func ParseHeader(h []byte, maxBody int) (int, error) {
	if len(h) < HeaderSize {
		return 0, derr("truncated", "header has %d bytes", len(h))
	}
	if h[0] != magic[0] || h[1] != magic[1] || h[2] != magic[2] {
		return 0, derr("bad_magic", "bad magic %q", h[:3])
	}
	if h[3] != Version {
		return 0, derr("bad_version", "unsupported version %d", h[3])
	}
	n := binary.BigEndian.Uint32(h[4:8])
	if maxBody <= 0 {
		maxBody = DefaultMaxFrame
	}
	if uint64(n) > uint64(maxBody) {
		return 0, &decodeError{reason: "oversized", msg: fmt.Sprintf("body of %d bytes exceeds the limit of %d", n, maxBody)}
	}
	return int(n), nil
}

// DecodeFrame decodes one complete frame (header and body, nothing after)
// against the schema. It never panics: any deviation from the canonical
// encoding, an unknown collection, a wrong arity or type fingerprint, a
// truncated or oversized frame and trailing bytes are errors wrapping
// ErrMalformed. On error no message is returned.
func (s *Schema) DecodeFrame(frame []byte, maxBody int) ([]runtime.Message, error) {
	n, err := ParseHeader(frame, maxBody)
	if err != nil {
		return nil, err
	}
	if len(frame)-HeaderSize < n {
		return nil, derr("truncated", "body has %d of %d bytes", len(frame)-HeaderSize, n)
	}
	if len(frame)-HeaderSize > n {
		return nil, derr("trailing", "%d bytes after the frame", len(frame)-HeaderSize-n)
	}
	msgs, err := s.DecodeBody(frame[HeaderSize:], nil)
	if err != nil {
		return nil, err
	}
	return msgs, nil
}

// DecodeBody decodes a frame body (see DecodeFrame), appending to msgs.
func (s *Schema) DecodeBody(body []byte, msgs []runtime.Message) ([]runtime.Message, error) {
	d := decoder{b: body}
	start := len(msgs)
	prev := ""
	for len(d.b) > 0 {
		name, err := d.str("name")
		if err != nil {
			return msgs[:start], err
		}
		if len(name) == 0 || len(name) > maxNameLen {
			return msgs[:start], derr("bad_name", "collection name of %d bytes", len(name))
		}
		c := s.colls[name]
		if c == nil {
			return msgs[:start], derr("unknown_collection", "unknown collection %q", clip(name))
		}
		if name == prev {
			return msgs[:start], derr("non_canonical", "two consecutive groups for %s", name)
		}
		prev = name
		arity, err := d.uvarint()
		if err != nil {
			return msgs[:start], err
		}
		if arity != uint64(len(c.types)) {
			return msgs[:start], derr("wrong_arity", "%s has %d columns, the frame says %d", name, len(c.types), arity)
		}
		fp, err := d.uint32()
		if err != nil {
			return msgs[:start], err
		}
		if fp != c.fp {
			return msgs[:start], derr("wrong_type", "%s: column types differ from this node's (fingerprint %08x, want %08x)", name, fp, c.fp)
		}
		count, err := d.uvarint()
		if err != nil {
			return msgs[:start], err
		}
		// Every tuple takes at least one byte (arity ≥ 1 for channels and
		// inputs; a zero-column collection is not declarable).
		if count == 0 || count > uint64(len(d.b)) {
			return msgs[:start], derr("bad_count", "%s: %d tuples in %d bytes", name, count, len(d.b))
		}
		// One backing array for the group's values; a column that repeats
		// the previous tuple's string (the @ address, typically) reuses
		// that value instead of allocating.
		vals := make([]stdlib.Value, int(count)*len(c.types))
		msgs = slices.Grow(msgs, int(count))
		for i := range int(count) {
			t := runtime.Tuple(vals[i*len(c.types) : (i+1)*len(c.types) : (i+1)*len(c.types)])
			for k, typ := range c.types {
				var v stdlib.Value
				var err error
				if i > 0 && isStringKind(typ.Kind) {
					v, err = d.strLike(typ.Kind, vals[(i-1)*len(c.types)+k])
				} else {
					v, err = d.value(typ)
				}
				if err != nil {
					return msgs[:start], err
				}
				t[k] = v
			}
			var to stdlib.Addr
			if c.kind == lang.Channel && len(t) > 0 {
				to, _ = t[0].(stdlib.Addr)
			}
			msgs = append(msgs, runtime.Message{To: to, Coll: name, Tuple: t})
		}
	}
	return msgs, nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// appendValue encodes v as a value of type t:
//
//	int, time          zig-zag varint (minimal length)
//	float              8 bytes, IEEE 754 bits, little endian
//	string, addr, bytes uvarint length + bytes
//	bool, lbool        one byte, 0 or 1
//	lmax<T>, lmin<T>   0 (bottom) or 1 followed by T
//	lset<T>            uvarint count + elements in strictly increasing order
//	lmap<K, L>         uvarint count + (K, L) pairs, keys strictly increasing
//	lcounter           uvarint count + (addr, uvarint n ≥ 1) pairs, addrs increasing
//	lpair<L1, L2>      L1 then L2
func appendValue(buf []byte, t *lang.Type, v stdlib.Value) ([]byte, error) {
	switch t.Kind {
	case lang.Int:
		x, ok := v.(int64)
		if !ok {
			return buf, typeErr(t, v)
		}
		return binary.AppendVarint(buf, x), nil
	case lang.Time:
		x, ok := v.(stdlib.Time)
		if !ok {
			return buf, typeErr(t, v)
		}
		return binary.AppendVarint(buf, int64(x)), nil
	case lang.Float:
		x, ok := v.(float64)
		if !ok {
			return buf, typeErr(t, v)
		}
		return binary.LittleEndian.AppendUint64(buf, math.Float64bits(x)), nil
	case lang.String:
		x, ok := v.(string)
		if !ok {
			return buf, typeErr(t, v)
		}
		return appendString(buf, x), nil
	case lang.Addr:
		x, ok := v.(stdlib.Addr)
		if !ok {
			return buf, typeErr(t, v)
		}
		return appendString(buf, string(x)), nil
	case lang.Bytes:
		x, ok := v.(stdlib.Bytes)
		if !ok {
			return buf, typeErr(t, v)
		}
		return appendString(buf, string(x)), nil
	case lang.Bool, lang.LBool:
		x, ok := v.(bool)
		if !ok && !(v == nil && t.Kind == lang.LBool) {
			return buf, typeErr(t, v)
		}
		if x {
			return append(buf, 1), nil
		}
		return append(buf, 0), nil
	case lang.LMax, lang.LMin:
		if v == nil {
			return append(buf, 0), nil
		}
		return appendValue(append(buf, 1), t.Elem, v)
	case lang.LSet:
		s, ok := v.(*stdlib.Set)
		if !ok && v != nil {
			return buf, typeErr(t, v)
		}
		buf = binary.AppendUvarint(buf, uint64(s.Len()))
		for i := range s.Len() {
			var err error
			if buf, err = appendValue(buf, t.Elem, s.Elem(i)); err != nil {
				return buf, err
			}
		}
		return buf, nil
	case lang.LMap:
		m, ok := v.(*stdlib.Map)
		if !ok && v != nil {
			return buf, typeErr(t, v)
		}
		buf = binary.AppendUvarint(buf, uint64(m.Len()))
		for i := range m.Len() {
			k, x := m.Entry(i)
			var err error
			if buf, err = appendValue(buf, t.Key, k); err != nil {
				return buf, err
			}
			if buf, err = appendValue(buf, t.Elem, x); err != nil {
				return buf, err
			}
		}
		return buf, nil
	case lang.LCounter:
		c, ok := v.(*stdlib.Counter)
		if !ok && v != nil {
			return buf, typeErr(t, v)
		}
		buf = binary.AppendUvarint(buf, uint64(c.Len()))
		for i := range c.Len() {
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
			}
		case nil:
		default:
			return buf, typeErr(t, v)
		}
		if p.A == nil {
			p.A = stdlib.Bottom(t.Key)
		}
		if p.B == nil {
			p.B = stdlib.Bottom(t.Elem)
		}
		buf, err := appendValue(buf, t.Key, p.A)
		if err != nil {
			return buf, err
		}
		return appendValue(buf, t.Elem, p.B)
	}
	return buf, fmt.Errorf("cannot encode type %s", t)
}

func typeErr(t *lang.Type, v stdlib.Value) error {
	return fmt.Errorf("value %v (%T) is not a %s", v, v, t)
}

type decoder struct {
	b []byte
}

func (d *decoder) uvarint() (uint64, error) {
	x, n := binary.Uvarint(d.b)
	if n == 0 {
		return 0, derr("truncated", "truncated varint")
	}
	if n < 0 {
		return 0, derr("bad_varint", "varint overflows 64 bits")
	}
	// Canonical: minimal length (no trailing 0x80 groups).
	if n > 1 && d.b[n-1] == 0 {
		return 0, derr("non_canonical", "non-minimal varint")
	}
	d.b = d.b[n:]
	return x, nil
}

func (d *decoder) varint() (int64, error) {
	ux, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x, nil
}

func (d *decoder) uint32() (uint32, error) {
	if len(d.b) < 4 {
		return 0, derr("truncated", "truncated fingerprint")
	}
	x := binary.BigEndian.Uint32(d.b)
	d.b = d.b[4:]
	return x, nil
}

func (d *decoder) str(what string) (string, error) {
	n, err := d.uvarint()
	if err != nil {
		return "", err
	}
	if n > uint64(len(d.b)) {
		return "", derr("truncated", "%s of %d bytes, %d left", what, n, len(d.b))
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s, nil
}

func isStringKind(k lang.Kind) bool {
	return k == lang.String || k == lang.Addr || k == lang.Bytes
}

// strLike decodes a string, addr or bytes value, returning prev itself
// when it holds the same bytes.
func (d *decoder) strLike(k lang.Kind, prev stdlib.Value) (stdlib.Value, error) {
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(d.b)) {
		return nil, derr("truncated", "%s of %d bytes, %d left", k, n, len(d.b))
	}
	b := d.b[:n]
	d.b = d.b[n:]
	switch k {
	case lang.String:
		if p, ok := prev.(string); ok && p == string(b) {
			return prev, nil
		}
		return string(b), nil
	case lang.Addr:
		if p, ok := prev.(stdlib.Addr); ok && string(p) == string(b) {
			return prev, nil
		}
		return stdlib.Addr(b), nil
	}
	if p, ok := prev.(stdlib.Bytes); ok && string(p) == string(b) {
		return prev, nil
	}
	return stdlib.Bytes(b), nil
}

func (d *decoder) count(min int) (int, error) {
	n, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	// Every element takes at least min bytes: bound allocations by the
	// bytes that are really there.
	if n > uint64(len(d.b)/min) {
		return 0, derr("bad_count", "%d elements in %d bytes", n, len(d.b))
	}
	return int(n), nil
}

func (d *decoder) value(t *lang.Type) (stdlib.Value, error) {
	switch t.Kind {
	case lang.Int:
		return d.varint()
	case lang.Time:
		x, err := d.varint()
		return stdlib.Time(x), err
	case lang.Float:
		if len(d.b) < 8 {
			return nil, derr("truncated", "truncated float")
		}
		x := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
		d.b = d.b[8:]
		return x, nil
	case lang.String:
		return d.str("string")
	case lang.Addr:
		s, err := d.str("addr")
		return stdlib.Addr(s), err
	case lang.Bytes:
		s, err := d.str("bytes")
		return stdlib.Bytes(s), err
	case lang.Bool, lang.LBool:
		if len(d.b) < 1 {
			return nil, derr("truncated", "truncated bool")
		}
		b := d.b[0]
		d.b = d.b[1:]
		if b > 1 {
			return nil, derr("bad_value", "bool byte %d", b)
		}
		return b == 1, nil
	case lang.LMax, lang.LMin:
		if len(d.b) < 1 {
			return nil, derr("truncated", "truncated %s", t.Kind)
		}
		b := d.b[0]
		d.b = d.b[1:]
		switch b {
		case 0:
			return nil, nil
		case 1:
			return d.value(t.Elem)
		}
		return nil, derr("bad_value", "%s presence byte %d", t.Kind, b)
	case lang.LSet:
		n, err := d.count(1)
		if err != nil {
			return nil, err
		}
		elems := make([]stdlib.Value, n)
		for i := range elems {
			if elems[i], err = d.value(t.Elem); err != nil {
				return nil, err
			}
			if i > 0 && stdlib.Compare(t.Elem, elems[i-1], elems[i]) >= 0 {
				return nil, derr("non_canonical", "set elements not strictly increasing")
			}
		}
		return stdlib.NewSet(t.Elem, elems...), nil
	case lang.LMap:
		n, err := d.count(2)
		if err != nil {
			return nil, err
		}
		keys := make([]stdlib.Value, n)
		vals := make([]stdlib.Value, n)
		for i := range keys {
			if keys[i], err = d.value(t.Key); err != nil {
				return nil, err
			}
			if i > 0 && stdlib.Compare(t.Key, keys[i-1], keys[i]) >= 0 {
				return nil, derr("non_canonical", "map keys not strictly increasing")
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
		var prev string
		for i := range n {
			a, err := d.str("addr")
			if err != nil {
				return nil, err
			}
			if i > 0 && a <= prev {
				return nil, derr("non_canonical", "counter addresses not strictly increasing")
			}
			prev = a
			c, err := d.uvarint()
			if err != nil {
				return nil, err
			}
			if c == 0 || c > math.MaxInt64 {
				return nil, derr("bad_value", "counter count %d", c)
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
	return nil, derr("bad_type", "cannot decode type %s", t)
}
