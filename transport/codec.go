package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"unsafe"

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
	// ops gives, per column, the fast path that encodes and decodes it
	// (opOther: appendValue and decoder.value).
	ops []colOp
	// strInts: the first column is a string, addr or bytes and the others
	// are ints or times, the usual shape of a channel (an address and
	// some numbers), which has an encoding and a decoding loop of its own
	// (appendStrInts, decoder.strInts).
	strInts bool
}

// colOp selects a column's codec: the scalar types have inlined fast
// paths; lattices go through the general appendValue and decoder.value.
type colOp uint8

const (
	opOther colOp = iota
	opInt
	opTime
	opFloat
	opString
	opAddr
	opBytes
	opBool // bool and lbool
)

var opNames = [...]string{opString: "string", opAddr: "addr", opBytes: "bytes"}

func opOf(t *lang.Type) colOp {
	switch t.Kind {
	case lang.Int:
		return opInt
	case lang.Time:
		return opTime
	case lang.Float:
		return opFloat
	case lang.String:
		return opString
	case lang.Addr:
		return opAddr
	case lang.Bytes:
		return opBytes
	case lang.Bool, lang.LBool:
		return opBool
	}
	return opOther
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
	c := &schemaColl{name: name, kind: kind, types: types, fp: Fingerprint(types), ops: make([]colOp, len(types))}
	for i, t := range types {
		c.ops[i] = opOf(t)
	}
	c.strInts = len(types) > 0
	for i, op := range c.ops {
		if i == 0 && op != opString && op != opAddr && op != opBytes || i > 0 && op != opInt && op != opTime {
			c.strInts = false
		}
	}
	s.colls[name] = c
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
		c := s.colls[msgs[i].Coll]
		if c == nil {
			return buf[:start], fmt.Errorf("encode: %s is not in the schema", msgs[i].Coll)
		}
		buf = appendString(buf, c.name)
		buf = binary.AppendUvarint(buf, uint64(len(c.types)))
		buf = binary.BigEndian.AppendUint32(buf, c.fp)
		if c.strInts {
			// The fast loop finds the group's end as it goes: the count
			// is written after, in the room reserved for the longest.
			at := len(buf)
			room := uvarintLen(uint64(len(msgs) - i))
			if out, n, ok := c.appendStrInts(binary.AppendUvarint(buf, uint64(len(msgs)-i)), msgs[i:]); ok {
				if l := uvarintLen(uint64(n)); l < room {
					copy(out[at+l:], out[at+room:])
					out = out[:len(out)-(room-l)]
				}
				binary.PutUvarint(out[at:], uint64(n))
				buf = out
				i += n
				continue
			}
			buf = buf[:at]
		}
		j := i + 1
		for j < len(msgs) && sameString(msgs[j].Coll, msgs[i].Coll) {
			j++
		}
		buf = binary.AppendUvarint(buf, uint64(j-i))
		var err error
		if buf, err = c.appendTuples(buf, msgs[i:j]); err != nil {
			return buf[:start], err
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

// DecodeBody decodes a frame body (see DecodeFrame) into messages,
// appending to msgs. On error msgs is returned with its original length.
// The messages do not refer to body, which may be reused as soon as
// DecodeBody returns.
func (s *Schema) DecodeBody(body []byte, msgs []runtime.Message) ([]runtime.Message, error) {
	var buf [4]runtime.Batch
	bs, err := s.DecodeBatches(body, buf[:0])
	if err != nil {
		return msgs, err
	}
	for i := range bs {
		c := s.colls[bs[i].Coll]
		msgs = bs[i].AppendMessages(msgs, c.types, c.kind == lang.Channel)
	}
	return msgs, nil
}

// DecodeBatches decodes a frame body (see DecodeFrame) into one batch per
// group, appended to bs. On error bs is returned with its original
// length. The batches do not refer to body, which may be reused as soon
// as DecodeBatches returns, and nothing in them is reused later: they
// belong to the caller.
func (s *Schema) DecodeBatches(body []byte, bs []runtime.Batch) ([]runtime.Batch, error) {
	d := decoder{b: body}
	return s.decodeBatches(&d, bs)
}

// A batchDecoder decodes frame bodies into batches whose memory it
// reuses: a peer stream decodes every frame without allocating, once the
// buffers have grown.
type batchDecoder struct {
	schema *Schema
	words  []uint64
	vals   []stdlib.Value
}

// maxKeptWords bounds the words a batchDecoder keeps between frames (512
// KiB): a stream that once carried a frame of millions of values does not
// hold their memory for its lifetime.
const maxKeptWords = 64 << 10

// decode is DecodeBatches into bs, with batches that are valid only
// until the next call: their Words and Vals are reused then.
func (bd *batchDecoder) decode(body []byte, bs []runtime.Batch) ([]runtime.Batch, error) {
	bd.release()
	d := decoder{b: body, words: bd.words[:0], vals: bd.vals[:0], reuse: true}
	bs, err := bd.schema.decodeBatches(&d, bs)
	bd.words, bd.vals = d.words, d.vals
	return bs, err
}

// release ends the last decode's batches: it drops their values and
// lets go of buffers grown beyond what is worth keeping.
func (bd *batchDecoder) release() {
	clear(bd.vals)
	bd.vals = bd.vals[:0]
	if cap(bd.words) > maxKeptWords {
		bd.words = nil
	}
	if cap(bd.vals) > maxKeptWords/8 {
		bd.vals = nil
	}
}

func (s *Schema) decodeBatches(d *decoder, bs []runtime.Batch) ([]runtime.Batch, error) {
	start := len(bs)
	var prev *schemaColl
	for len(d.b) > 0 {
		name, err := d.bytes("name")
		if err != nil {
			return bs[:start], err
		}
		if len(name) == 0 || len(name) > maxNameLen {
			return bs[:start], derr("bad_name", "collection name of %d bytes", len(name))
		}
		c := s.colls[string(name)] // no allocation
		if c == nil {
			return bs[:start], derr("unknown_collection", "unknown collection %q", clip(string(name)))
		}
		if c == prev {
			return bs[:start], derr("non_canonical", "two consecutive groups for %s", c.name)
		}
		prev = c
		arity, err := d.uvarint()
		if err != nil {
			return bs[:start], err
		}
		if arity != uint64(len(c.types)) {
			return bs[:start], derr("wrong_arity", "%s has %d columns, the frame says %d", c.name, len(c.types), arity)
		}
		fp, err := d.uint32()
		if err != nil {
			return bs[:start], err
		}
		if fp != c.fp {
			return bs[:start], derr("wrong_type", "%s: column types differ from this node's (fingerprint %08x, want %08x)", c.name, fp, c.fp)
		}
		count, err := d.uvarint()
		if err != nil {
			return bs[:start], err
		}
		// Every tuple takes at least one byte (arity ≥ 1 for channels and
		// inputs; a zero-column collection is not declarable).
		if count == 0 || count > uint64(len(d.b)) {
			return bs[:start], derr("bad_count", "%s: %d tuples in %d bytes", c.name, count, len(d.b))
		}
		b, err := d.group(c, int(count))
		if err != nil {
			return bs[:start], err
		}
		bs = append(bs, b)
	}
	return bs, nil
}

// group decodes count tuples of c into a batch (runtime.Batch describes
// the words of each column type).
func (d *decoder) group(c *schemaColl, count int) (runtime.Batch, error) {
	arity := len(c.ops)
	// Every value takes at least one byte: this bounds the allocation
	// below by the bytes that are really there (count ≤ len(d.b) was
	// checked, so the product does not overflow).
	if uint64(count)*uint64(arity) > uint64(len(d.b)) {
		return runtime.Batch{}, derr("truncated", "%s: %d tuples of %d columns in %d bytes", c.name, count, arity, len(d.b))
	}
	words := d.allocWords(count * arity)
	v0 := len(d.vals) // the group's values are d.vals[v0:]
	if c.strInts {
		if n, ok := d.strInts(c, count, words); ok {
			d.b = d.b[n:]
			return d.batch(c, words, v0), nil
		}
		// Something the loop does not take (a long string or varint, or
		// an error): the general loop decodes the group again.
		clear(d.vals[v0:])
		d.vals = d.vals[:v0]
	}
	vals := d.vals
	// A string-like column that repeats the previous tuple's value (the
	// @ address, typically) takes that value's index instead of a new
	// value: prev[k] locates the previous tuple's bytes of column k.
	// (Offsets rather than slices: no pointer writes in the loop.)
	type span struct{ off, n int }
	var prevBuf [8]span
	prev := prevBuf[:]
	if arity > len(prevBuf) {
		prev = make([]span, arity)
	}
	body := d.b
	p := 0 // body[p:] is still to decode
	for i := range count {
		row := words[i*arity : (i+1)*arity : (i+1)*arity]
		for k, op := range c.ops {
			switch op {
			case opInt, opTime:
				ux, n := uvarintAt(body, p)
				if n > 0 {
					p += n
				} else {
					// Long, truncated or non-minimal.
					d.b = body[p:]
					x, err := d.uvarintSlow()
					if err != nil {
						return runtime.Batch{}, err
					}
					ux, p = x, len(body)-len(d.b)
				}
				row[k] = ux>>1 ^ -(ux & 1) // zig-zag
			case opFloat:
				if len(body)-p < 8 {
					return runtime.Batch{}, derr("truncated", "truncated float")
				}
				row[k] = binary.LittleEndian.Uint64(body[p:])
				p += 8
			case opString, opAddr, opBytes:
				var n uint64
				if p < len(body) && body[p] < 0x80 {
					n = uint64(body[p])
					p++
				} else {
					d.b = body[p:]
					x, err := d.uvarintSlow()
					if err != nil {
						return runtime.Batch{}, err
					}
					n, p = x, len(body)-len(d.b)
				}
				if n > uint64(len(body)-p) {
					return runtime.Batch{}, derr("truncated", "%s of %d bytes, %d left", opNames[op], n, len(body)-p)
				}
				q := p + int(n)
				if pv := prev[k]; i > 0 && pv.n == int(n) && string(body[p:q]) == string(body[pv.off:pv.off+pv.n]) {
					row[k] = words[(i-1)*arity+k]
				} else {
					row[k] = uint64(len(vals) - v0)
					vals = append(vals, strValue(op, body[p:q]))
				}
				prev[k] = span{p, int(n)}
				p = q
			case opBool:
				if p >= len(body) {
					return runtime.Batch{}, derr("truncated", "truncated bool")
				}
				if body[p] > 1 {
					return runtime.Batch{}, derr("bad_value", "bool byte %d", body[p])
				}
				row[k] = uint64(body[p])
				p++
			default:
				d.b = body[p:]
				v, err := d.value(c.types[k])
				if err != nil {
					return runtime.Batch{}, err
				}
				p = len(body) - len(d.b)
				row[k] = uint64(len(vals) - v0)
				vals = append(vals, v)
			}
		}
	}
	d.b = body[p:]
	d.vals = vals
	return d.batch(c, words, v0), nil
}

// allocWords returns n words for a group: new memory, or with reuse set
// the next n of d.words (which grows into a new array when full: the
// batches already made keep the old one).
func (d *decoder) allocWords(n int) []uint64 {
	if !d.reuse {
		return make([]uint64, n)
	}
	if cap(d.words)-len(d.words) < n {
		d.words = make([]uint64, 0, max(n, 2*cap(d.words)))
	}
	w := d.words[len(d.words) : len(d.words)+n : len(d.words)+n]
	d.words = d.words[:len(d.words)+n]
	return w
}

// batch makes the batch of c's words and its values d.vals[v0:].
func (d *decoder) batch(c *schemaColl, words []uint64, v0 int) runtime.Batch {
	b := runtime.Batch{Coll: c.name, Width: len(c.ops), Words: words}
	if len(d.vals) > v0 {
		b.Vals = d.vals[v0:len(d.vals):len(d.vals)]
	}
	return b
}

// strInts decodes count tuples of c, a strInts collection, from d.b
// into words and d.vals, in the common case only: string lengths under
// 128 and varints of one or two bytes. It returns the bytes read, or
// false for anything else, valid or not. Knowing the columns' order
// makes it faster than the general loop.
func (d *decoder) strInts(c *schemaColl, count int, words []uint64) (int, bool) {
	body := d.b
	op := c.ops[0]
	arity := len(c.ops)
	vals := d.vals
	v0 := len(vals)
	p, w := 0, 0
	prevOff, prevN := 0, -1
	for range count {
		if p >= len(body) || body[p] >= 0x80 {
			d.vals = vals
			return 0, false
		}
		n := int(body[p])
		p++
		q := p + n
		if q > len(body) {
			d.vals = vals
			return 0, false
		}
		if n == prevN && sameBytes(body, p, prevOff, n) {
			words[w] = words[w-arity]
		} else {
			words[w] = uint64(len(vals) - v0)
			vals = append(vals, strValue(op, body[p:q]))
		}
		prevOff, prevN = p, n
		p = q
		w++
		for range arity - 1 {
			ux, n := uvarintAt(body, p)
			if n == 0 {
				d.vals = vals
				return 0, false
			}
			p += n
			words[w] = ux>>1 ^ -(ux & 1) // zig-zag
			w++
		}
	}
	d.vals = vals
	return p, true
}

// sameBytes reports whether body[a:a+n] == body[b:b+n], both in range.
// Strings of 8 to 16 bytes (addresses) compare as two words, inline.
func sameBytes(body []byte, a, b, n int) bool {
	if n >= 8 && n <= 16 {
		return binary.LittleEndian.Uint64(body[a:]) == binary.LittleEndian.Uint64(body[b:]) &&
			binary.LittleEndian.Uint64(body[a+n-8:]) == binary.LittleEndian.Uint64(body[b+n-8:])
	}
	return string(body[a:a+n]) == string(body[b:b+n])
}

// strValue makes the string, addr or bytes value of b.
func strValue(op colOp, b []byte) stdlib.Value {
	switch op {
	case opString:
		return string(b)
	case opAddr:
		return stdlib.Addr(b)
	}
	return stdlib.Bytes(b)
}

// appendTuples encodes the tuples of msgs, all of the collection. Values
// of the scalar types are encoded inline; anything else, including a
// value whose Go type does not match its column, goes through appendSlow.
func (c *schemaColl) appendTuples(buf []byte, msgs []runtime.Message) ([]byte, error) {
	ops := c.ops
	for i := range msgs {
		t := msgs[i].Tuple
		if len(t) != len(ops) {
			return buf, c.arityErr(len(t))
		}
		for k, op := range ops {
			v := t[k]
			switch op {
			case opInt:
				if x, ok := v.(int64); ok {
					buf = appendVarint(buf, x)
					continue
				}
			case opTime:
				if x, ok := v.(stdlib.Time); ok {
					buf = appendVarint(buf, int64(x))
					continue
				}
			case opFloat:
				if x, ok := v.(float64); ok {
					buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
					continue
				}
			case opString:
				if x, ok := v.(string); ok {
					buf = appendString(buf, x)
					continue
				}
			case opAddr:
				if x, ok := v.(stdlib.Addr); ok {
					buf = appendString(buf, string(x))
					continue
				}
			case opBytes:
				if x, ok := v.(stdlib.Bytes); ok {
					buf = appendString(buf, string(x))
					continue
				}
			case opBool:
				if x, ok := v.(bool); ok {
					b := byte(0)
					if x {
						b = 1
					}
					buf = append(buf, b)
					continue
				}
			}
			var err error
			if buf, err = c.appendSlow(buf, k, v); err != nil {
				return buf, err
			}
		}
	}
	return buf, nil
}

// appendStrInts is appendTuples for a strInts collection, for the
// messages of msgs up to the first of another collection, which it
// counts. It reports false, having appended nothing that counts, for a
// value not of its column's Go type or a tuple of the wrong arity: the
// general loop then encodes the group again, or reports the error.
func (c *schemaColl) appendStrInts(buf []byte, msgs []runtime.Message) ([]byte, int, bool) {
	op, arity := c.ops[0], len(c.ops)
	for i := range msgs {
		if !sameString(msgs[i].Coll, msgs[0].Coll) {
			return buf, i, true
		}
		t := msgs[i].Tuple
		if len(t) != arity {
			return buf, 0, false
		}
		var s string
		var ok bool
		switch op {
		case opAddr:
			var a stdlib.Addr
			a, ok = t[0].(stdlib.Addr)
			s = string(a)
		case opString:
			s, ok = t[0].(string)
		default:
			var b stdlib.Bytes
			b, ok = t[0].(stdlib.Bytes)
			s = string(b)
		}
		if !ok {
			return buf, 0, false
		}
		if l, n := len(buf), len(s); n >= 8 && n <= 16 && cap(buf)-l >= 17 {
			// An address: two word moves instead of a call to memmove.
			src := unsafe.Slice(unsafe.StringData(s), n) // read only
			buf = buf[:l+1+n]
			buf[l] = byte(n)
			binary.LittleEndian.PutUint64(buf[l+1:], binary.LittleEndian.Uint64(src))
			binary.LittleEndian.PutUint64(buf[l+1+n-8:], binary.LittleEndian.Uint64(src[n-8:]))
		} else {
			buf = appendString(buf, s)
		}
		for k := 1; k < arity; k++ {
			var x int64
			if c.ops[k] == opInt {
				if x, ok = t[k].(int64); !ok {
					return buf, 0, false
				}
			} else {
				var tm stdlib.Time
				if tm, ok = t[k].(stdlib.Time); !ok {
					return buf, 0, false
				}
				x = int64(tm)
			}
			buf = appendVarint(buf, x)
		}
	}
	return buf, len(msgs), true
}

// uvarintLen is the length of x's uvarint encoding.
func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

func (c *schemaColl) arityErr(n int) error {
	return fmt.Errorf("encode: %s has %d columns, got %d values", c.name, len(c.ops), n)
}

// appendSlow encodes column k's value with appendValue.
func (c *schemaColl) appendSlow(buf []byte, k int, v stdlib.Value) ([]byte, error) {
	buf, err := appendValue(buf, c.types[k], v)
	if err != nil {
		return buf, fmt.Errorf("encode: %s column %d: %w", c.name, k, err)
	}
	return buf, nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// sameString is s == t, quicker when they share their bytes (messages of
// one collection usually carry the same name string).
func sameString(s, t string) bool {
	return len(s) == len(t) && (unsafe.StringData(s) == unsafe.StringData(t) || s == t)
}

// appendVarint is binary.AppendVarint, quicker for small values.
func appendVarint(buf []byte, x int64) []byte {
	ux := uint64(x) << 1
	if x < 0 {
		ux = ^ux
	}
	if ux < 0x80 {
		return append(buf, byte(ux))
	}
	if ux < 0x4000 {
		return append(buf, byte(ux)|0x80, byte(ux>>7))
	}
	return binary.AppendUvarint(buf, ux)
}

func appendString(buf []byte, s string) []byte {
	if len(s) < 0x80 {
		buf = append(buf, byte(len(s)))
	} else {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
	}
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
	// words and vals are the memory of the batches decoded so far; with
	// reuse set, words' spare capacity is used before new memory.
	words []uint64
	vals  []stdlib.Value
	reuse bool
}

func (d *decoder) uvarint() (uint64, error) {
	if x, n := uvarintAt(d.b, 0); n > 0 {
		d.b = d.b[n:]
		return x, nil
	}
	return d.uvarintSlow()
}

// uvarintAt decodes a canonical uvarint of one or two bytes at b[p:] and
// returns it with its length, or 0 bytes for anything else (longer,
// truncated or non-minimal: see uvarintSlow).
func uvarintAt(b []byte, p int) (uint64, int) {
	if p < len(b) && b[p] < 0x80 {
		return uint64(b[p]), 1
	}
	if p+1 < len(b) && b[p+1] < 0x80 && b[p+1] != 0 {
		return uint64(b[p]&0x7f) | uint64(b[p+1])<<7, 2
	}
	return 0, 0
}

func (d *decoder) uvarintSlow() (uint64, error) {
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

// bytes returns the next length-prefixed byte string, without copying.
func (d *decoder) bytes(what string) ([]byte, error) {
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(d.b)) {
		return nil, derr("truncated", "%s of %d bytes, %d left", what, n, len(d.b))
	}
	b := d.b[:n:n]
	d.b = d.b[n:]
	return b, nil
}

func (d *decoder) str(what string) (string, error) {
	b, err := d.bytes(what)
	return string(b), err
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
