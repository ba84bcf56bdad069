package runtime

import (
	"fmt"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/stdlib"
)

// Packed relations. A collection whose columns all have word types (int,
// bool, time: stdlib.IsWordType) and that is neither durable nor merging
// stores its tuples as rows of uint64 words in one flat slice instead of
// as slices of boxed values. A path(int, int) tuple then costs 16 bytes
// plus its hash slot instead of a slice header, two interfaces and two
// boxed ints, the garbage collector has nothing to scan, and a key
// comparison reads one cache line instead of chasing three pointers.
// Rules that only touch packed relations with word expressions run on the
// words directly (kernel.go); everything else sees boxed tuples, unpacked
// on the way out, through the same methods as other relations.

// packable reports whether c is stored packed.
func packable(c *compiler.Coll) bool {
	if c.Info == nil || c.Info.Durable || c.Merge || len(c.LatticeCols) > 0 || len(c.Types) == 0 {
		return false
	}
	for _, t := range c.Types {
		if !stdlib.IsWordType(t) {
			return false
		}
	}
	return true
}

// hashWord folds one word into a running hash; finishHash spreads the
// result over the 32 bits the tables keep.
func hashWord(h, w uint64) uint64 {
	h ^= w
	h *= 0x9e3779b97f4a7c15
	return h ^ h>>29
}

func finishHash(h uint64) uint32 { return uint32(mix64(h)) }

func (r *relation) rows() int { return len(r.words) / r.width }

func (r *relation) row(i int32) []uint64 {
	o := int(i) * r.width
	return r.words[o : o+r.width : o+r.width]
}

// rowHash hashes a row's cols.
func rowHash(row []uint64, cols []int) uint32 {
	var h uint64
	for _, c := range cols {
		h = hashWord(h, row[c])
	}
	return finishHash(h)
}

// findRow finds the slot of the stored row whose key columns equal row's.
func (r *relation) findRow(h uint32, row []uint64) (int, bool) {
	t := &r.pos
	if len(t.slots) == 0 {
		t.grow()
	}
	mask := uint32(len(t.slots) - 1)
	key, w, words := r.coll.Key, r.width, r.words
	i := t.home(h)
	for {
		s := t.slots[i]
		if s.pos == 0 {
			return int(i), false
		}
		if s.hash == h {
			base := int(s.pos-1) * w
			same := true
			for _, c := range key {
				if words[base+c] != row[c] {
					same = false
					break
				}
			}
			if same {
				return int(i), true
			}
		}
		i = (i + 1) & mask
	}
}

// insertRow adds row (copied) unless its key is stored, reporting whether
// it did; a different row under the same key is a key violation.
func (r *relation) insertRow(row []uint64) (bool, *KeyViolation) {
	return r.insertRowHash(row, rowHash(row, r.coll.Key))
}

// insertRowHash is insertRow for a row whose key hash h is known.
func (r *relation) insertRowHash(row []uint64, h uint32) (bool, *KeyViolation) {
	slot, found := r.findRow(h, row)
	if found {
		if len(r.coll.Key) == r.width {
			return false, nil
		}
		old := r.row(r.pos.slots[slot].pos - 1)
		for c := range row {
			if old[c] != row[c] {
				return false, &KeyViolation{Coll: r.coll.Name, Old: r.unpack(old), New: r.unpack(row)}
			}
		}
		return false, nil
	}
	r.addRow(slot, h, row)
	return true, nil
}

func (r *relation) addRow(slot int, h uint32, row []uint64) {
	n := int32(r.rows())
	if u := r.undo; u != nil && u.on && r.markEpoch != u.epoch {
		r.markEpoch = u.epoch
		u.log(undoEntry{rel: r, kind: undoAppends, at: n})
	}
	if u := r.undo; u != nil && r.gainEpoch != u.epoch {
		r.gainEpoch, r.gainFrom = u.epoch, n
	}
	r.pos.put(slot, h, n)
	r.words = append(r.words, row...)
}

// gainedRows is gained for a packed relation: the rows added this tick.
func (r *relation) gainedRows() []uint64 {
	if r.undo != nil && r.gainEpoch == r.undo.epoch {
		return r.words[int(r.gainFrom)*r.width : len(r.words) : len(r.words)]
	}
	return nil
}

// pack converts t into r.rowBuf.
func (r *relation) pack(t Tuple) ([]uint64, error) {
	if len(t) != r.width {
		return nil, fmt.Errorf("%s: tuple of %d values for %d columns", r.coll.Name, len(t), r.width)
	}
	row := r.rowBuf[:0]
	for i, typ := range r.coll.Types {
		w, ok := stdlib.PackWord(typ, t[i])
		if !ok {
			return nil, fmt.Errorf("%s: value %v is not of column type %s", r.coll.Name, t[i], typ)
		}
		row = append(row, w)
	}
	r.rowBuf = row
	return row, nil
}

func (r *relation) unpack(row []uint64) Tuple {
	t := make(Tuple, len(row))
	for i, typ := range r.coll.Types {
		t[i] = stdlib.UnpackWord(typ, row[i])
	}
	return t
}

// lookupPacked finds the stored row with t's key.
func (r *relation) lookupPacked(t Tuple) (slot int, pos int32, found bool) {
	row, err := r.pack(t)
	if err != nil {
		return 0, 0, false
	}
	slot, found = r.findRow(rowHash(row, r.coll.Key), row)
	if found {
		pos = r.pos.slots[slot].pos - 1
	}
	return slot, pos, found
}

// removeRowAt deletes row i (held in slot), moving the last row into its
// place.
func (r *relation) removeRowAt(slot int, i int32) {
	old := r.unpack(r.row(i))
	r.pos.remove(slot)
	last := int32(r.rows() - 1)
	if i != last {
		moved := r.row(last)
		r.pos.slots[r.pos.slotOf(rowHash(moved, r.coll.Key), last)].pos = i + 1
		copy(r.row(i), moved)
	}
	r.words = r.words[:int(last)*r.width]
	clear(r.indexes)
	if r.undo != nil {
		r.undo.log(undoEntry{rel: r, kind: undoRemove, old: old})
	}
}

// indexRows is index for a packed relation.
func (r *relation) indexRows(cols []int) *index {
	ix := r.indexFor(cols)
	n := r.rows()
	w := r.width
	for i := ix.built; i < n; i++ {
		row := r.words[i*w : i*w+w]
		h := rowHash(row, cols)
		slot, found := ix.heads.find(h, func(p int32) bool {
			o := int(p) * w
			for _, c := range cols {
				if r.words[o+c] != row[c] {
					return false
				}
			}
			return true
		})
		if found {
			ix.next = append(ix.next, ix.heads.slots[slot].pos-1)
			ix.heads.slots[slot].pos = int32(i) + 1
		} else {
			ix.next = append(ix.next, -1)
			ix.heads.put(slot, h, int32(i))
		}
	}
	ix.built = n
	return ix
}

// scanPacked is evaluator.scan over a packed relation for the boxed
// evaluator: it packs the probe values and unpacks each matching row.
func (ev *evaluator) scanPacked(rel *relation, st *compiler.Step, env []stdlib.Value, f func(Tuple) bool) {
	probe := make([]uint64, len(st.Lookup))
	for j, c := range st.Lookup {
		op := st.LookupOp[j]
		v := op.Const
		if op.Slot >= 0 {
			v = env[op.Slot]
		}
		w, ok := stdlib.PackWord(rel.coll.Types[c], v)
		if !ok {
			return // no stored value equals v
		}
		probe[j] = w
	}
	t := make(Tuple, rel.width)
	emit := func(row []uint64) bool {
		for i, typ := range rel.coll.Types {
			t[i] = stdlib.UnpackWord(typ, row[i])
		}
		return f(t)
	}
	rel.eachMatch(st.Lookup, probe, emit)
}

// eachMatch calls f for each row whose cols equal probe, until f returns
// false. It reads the words afresh for each row, so that rows added while
// f runs (derived heads) do not upset it.
func (r *relation) eachMatch(cols []int, probe []uint64, f func([]uint64) bool) {
	w := r.width
	if len(cols) == 0 {
		words := r.words // a snapshot: later appends are not seen
		for o := 0; o+w <= len(words); o += w {
			if !f(words[o : o+w : o+w]) {
				return
			}
		}
		return
	}
	var h uint64
	for _, v := range probe {
		h = hashWord(h, v)
	}
	hh := finishHash(h)
	if sameCols(cols, r.coll.Key) {
		row := r.rowBuf[:0]
		row = append(row, make([]uint64, w)...)
		for j, c := range cols {
			row[c] = probe[j]
		}
		r.rowBuf = row
		if slot, ok := r.findRow(hh, row); ok {
			f(r.row(r.pos.slots[slot].pos - 1))
		}
		return
	}
	ix := r.indexRows(cols)
	slot, ok := ix.heads.find(hh, func(p int32) bool {
		o := int(p) * w
		for j, c := range cols {
			if r.words[o+c] != probe[j] {
				return false
			}
		}
		return true
	})
	if !ok {
		return
	}
	for p := ix.heads.slots[slot].pos - 1; p >= 0; p = ix.next[p] {
		if !f(r.row(p)) {
			return
		}
	}
}
