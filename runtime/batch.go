package runtime

import (
	"fmt"
	"math"

	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/stdlib"
)

// A Batch is tuples of one collection as a transport decodes them off the
// wire: rows of one word per column, with the values that are not scalars
// kept aside. Decoding into words rather than boxed tuples costs no
// allocation per value, and the words' memory can be reused from frame
// to frame: Node.DeliverBatches copies what it is given.
//
// Column j of a row holds, according to the column's type (BatchWord):
//   - int and time: the integer;
//   - bool and lbool: 0 or 1;
//   - float: the IEEE 754 bits, exactly as sent;
//   - any other type: an index into Vals.
type Batch struct {
	Coll  string
	Width int      // the collection's column count, ≥ 1
	Words []uint64 // row i is Words[i*Width : (i+1)*Width]
	Vals  []stdlib.Value
}

// Len is the number of rows.
func (b *Batch) Len() int {
	if b.Width == 0 {
		return 0
	}
	return len(b.Words) / b.Width
}

// BatchWord reports whether a column of type t holds its value in a
// Batch word (rather than an index into Vals).
func BatchWord(t *lang.Type) bool {
	switch t.Kind {
	case lang.Int, lang.Time, lang.Bool, lang.LBool, lang.Float:
		return true
	}
	return false
}

// value is the value of a column of type t whose word is w.
func (b *Batch) value(t *lang.Type, w uint64) stdlib.Value {
	switch t.Kind {
	case lang.Int:
		return int64(w)
	case lang.Time:
		return stdlib.Time(int64(w))
	case lang.Bool, lang.LBool:
		return w != 0
	case lang.Float:
		return math.Float64frombits(w)
	}
	return b.Vals[w]
}

// box sets t to the values of row, a row of b.
func (b *Batch) box(types []*lang.Type, row []uint64, t Tuple) {
	for j, typ := range types {
		t[j] = b.value(typ, row[j])
	}
}

// check reports whether b is well formed for columns of types: a
// transport builds it so, but a node does not index out of range on the
// word of a caller who did not.
func (b *Batch) check(types []*lang.Type) error {
	if b.Width != len(types) {
		return fmt.Errorf("channel %s has %d columns, got %d values", b.Coll, len(types), b.Width)
	}
	if len(b.Words)%b.Width != 0 {
		return fmt.Errorf("channel %s: %d words do not make rows of %d", b.Coll, len(b.Words), b.Width)
	}
	for j, t := range types {
		if BatchWord(t) {
			continue
		}
		for i := j; i < len(b.Words); i += b.Width {
			if b.Words[i] >= uint64(len(b.Vals)) {
				return fmt.Errorf("channel %s: value index %d of %d", b.Coll, b.Words[i], len(b.Vals))
			}
		}
	}
	return nil
}

// AppendMessages boxes b's rows, tuples of a collection whose column
// types are types, and appends them to msgs. The tuples share one backing
// array. For a channel, To is the first column.
func (b *Batch) AppendMessages(msgs []Message, types []*lang.Type, channel bool) []Message {
	w := b.Width
	rows := b.Len()
	if rows == 0 {
		return msgs
	}
	vals := make([]stdlib.Value, rows*w)
	for i := range rows {
		t := vals[i*w : (i+1)*w : (i+1)*w]
		b.box(types, b.Words[i*w:(i+1)*w], t)
		m := Message{Coll: b.Coll, Tuple: t}
		if channel {
			m.To, _ = t[0].(stdlib.Addr)
		}
		msgs = append(msgs, m)
	}
	return msgs
}
