package runtime

import (
	"fmt"
	"math"
	"slices"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/stdlib"
)

// Packed relations. A collection whose columns all have word types (int,
// bool, time: stdlib.IsWordType; or addr, numbered by the node: addrs.go)
// and that is neither durable nor merging stores its tuples as rows of uint64 words in one flat slice instead of
// as slices of boxed values. A path(int, int) tuple then costs 16 bytes
// plus its hash slot instead of a slice header, two interfaces and two
// boxed ints, the garbage collector has nothing to scan, and a key
// comparison reads one cache line instead of chasing three pointers.
// Rules that only touch packed relations with word expressions run on the
// words directly (kernel.go); everything else sees boxed tuples, unpacked
// on the way out, through the same methods as other relations.

// packable reports whether c is stored packed.
func packable(c *compiler.Coll) bool {
	if c.Info == nil || c.Info.Durable || len(c.Types) == 0 {
		return false
	}
	if len(c.LatticeCols) > 0 && !c.Merge {
		return false
	}
	for _, t := range c.Types {
		if !packableType(t) {
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

// rowStore holds a packed relation's rows in chunks of chunkRows rows, so
// that growing never copies the rows already stored (a flat slice copied
// itself on every growth and, until the collector ran, kept its old
// copies: a third of transitive closure's peak memory) and a row's
// position is stable for as long as it is stored. Only the first chunk
// grows by reallocation, which keeps small relations small.
type rowStore struct {
	width  int
	chunks [][]uint64
	n      int
}

const (
	chunkShift = 12
	chunkRows  = 1 << chunkShift
	chunkMask  = chunkRows - 1
)

func (s *rowStore) row(i int32) []uint64 {
	ch := s.chunks[i>>chunkShift]
	o := int(i&chunkMask) * s.width
	return ch[o : o+s.width : o+s.width]
}

func (s *rowStore) push(row []uint64) {
	c := s.n >> chunkShift
	if c == len(s.chunks) {
		if c == 0 {
			s.chunks = append(s.chunks, make([]uint64, 0, 8*s.width))
		} else {
			s.chunks = append(s.chunks, make([]uint64, 0, chunkRows*s.width))
		}
	}
	s.chunks[c] = append(s.chunks[c], row...)
	s.n++
}

// truncate keeps the first n rows.
func (s *rowStore) truncate(n int) {
	if n >= s.n {
		return
	}
	s.n = n
	c := n >> chunkShift
	if c < len(s.chunks) {
		s.chunks[c] = s.chunks[c][:(n&chunkMask)*s.width]
		for j := c + 1; j < len(s.chunks); j++ {
			s.chunks[j] = s.chunks[j][:0]
		}
	}
}

// each calls f for rows [from, to) until f returns false.
func (s *rowStore) each(from, to int, f func([]uint64) bool) {
	w := s.width
	for i := from; i < to; {
		ch := s.chunks[i>>chunkShift]
		end := min(to, (i|chunkMask)+1)
		for o := (i & chunkMask) * w; i < end; i, o = i+1, o+w {
			if !f(ch[o : o+w : o+w]) {
				return
			}
		}
	}
}

func (r *relation) rows() int { return r.store.n }

func (r *relation) row(i int32) []uint64 { return r.store.row(i) }

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
	key, w, chunks := r.coll.Key, r.width, r.store.chunks
	i := t.home(h)
	for {
		s := t.slots[i]
		if s.pos == 0 {
			return int(i), false
		}
		if s.hash == h {
			p := s.pos - 1
			ch := chunks[p>>chunkShift]
			base := int(p&chunkMask) * w
			same := true
			for _, c := range key {
				if ch[base+c] != row[c] {
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
		if r.coll.Merge {
			return r.mergeRow(r.pos.slots[slot].pos-1, row), nil
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
	r.store.push(row)
}

// gainedFrom is gained for a packed relation: the rows added this tick
// are rows()[gainedFrom():].
func (r *relation) gainedFrom() int {
	if r.undo != nil && r.gainEpoch == r.undo.epoch {
		return int(r.gainFrom)
	}
	return r.rows()
}

// pack converts t into r.rowBuf.
func (r *relation) pack(t Tuple) ([]uint64, error) {
	if len(t) != r.width {
		return nil, fmt.Errorf("%s: tuple of %d values for %d columns", r.coll.Name, len(t), r.width)
	}
	row := r.rowBuf[:0]
	for i, typ := range r.coll.Types {
		w, ok := r.packWord(typ, t[i], true)
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
	r.unpackInto(row, t)
	return t
}

// unpackInto sets t to the values of row.
func (r *relation) unpackInto(row []uint64, t Tuple) {
	for i, typ := range r.coll.Types {
		t[i] = r.unpackWord(typ, row[i])
	}
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
	r.store.truncate(int(last))
	r.dropIndexes()
	if r.undo != nil {
		r.undo.log(undoEntry{rel: r, kind: undoRemove, old: old})
	}
}

// indexRows is index for a packed relation.
func (r *relation) indexRows(cols []int) *index {
	ix := r.indexFor(cols)
	r.extendIndex(ix)
	return ix
}

// extendIndex adds the rows appended since ix was last brought up to
// date.
func (r *relation) extendIndex(ix *index) {
	cols := ix.cols
	n := r.rows()
	if ix.built > n {
		// Rows went without the index being dropped (every removal
		// drops it; this is the safe side of that): start again.
		ix.dense, ix.lo, ix.next, ix.built = nil, 0, ix.next[:0], 0
		ix.heads.reset()
	}
	if len(cols) == 1 && !ix.sparse {
		if r.extendDense(ix, n) {
			return
		}
		// Rebuild it as a hash index.
		ix.sparse, ix.dense, ix.next, ix.built = true, nil, ix.next[:0], 0
	}
	for i := ix.built; i < n; i++ {
		row := r.row(int32(i))
		h := rowHash(row, cols)
		slot, found := ix.heads.find(h, func(p int32) bool {
			other := r.row(p)
			for _, c := range cols {
				if other[c] != row[c] {
					return false
				}
			}
			return true
		})
		ix.link(slot, found, h, int32(i))
	}
	ix.built = n
}

// denseLimit is how wide a dense index's value range may be for a
// relation of so many rows: two int32 entries a row (plus 4 KiB), about
// what a hash index's slots take.
func denseLimit(rows int) uint64 { return uint64(2*rows + 1024) }

// extendDense adds rows [ix.built, n) to a dense index, widening its
// range as needed, or reports false when the values would span too wide
// a range (then the index is left for the caller to rebuild).
func (r *relation) extendDense(ix *index, n int) bool {
	c := ix.cols[0]
	if ix.built == n {
		return true
	}
	// The range as offsets from lo: words compare as int64, and uint64
	// differences of them do not overflow.
	lo, hi := ix.lo, ix.lo+uint64(len(ix.dense))-1
	if int64(hi) < int64(lo) {
		hi = math.MaxInt64 // the room above reaches past the largest int
	}
	if len(ix.dense) == 0 {
		lo = r.row(int32(ix.built))[c]
		hi = lo
	}
	for i := ix.built; i < n; i++ {
		v := r.row(int32(i))[c]
		if int64(v) < int64(lo) {
			lo = v
		} else if int64(v) > int64(hi) {
			hi = v
		}
	}
	span := hi - lo + 1
	limit := denseLimit(n)
	if span == 0 || span > limit {
		return false
	}
	if lo != ix.lo || span > uint64(len(ix.dense)) {
		// Widen with room to spare above, so that values arriving in
		// increasing order do not copy the array each time.
		size := min(max(span, 2*uint64(len(ix.dense))), limit)
		dense := make([]int32, size)
		if len(ix.dense) > 0 {
			copy(dense[ix.lo-lo:], ix.dense)
		}
		ix.dense, ix.lo = dense, lo
	}
	dense := ix.dense
	ix.next = slices.Grow(ix.next, n-ix.built)
	for i := ix.built; i < n; i++ {
		d := r.row(int32(i))[c] - lo
		ix.next = append(ix.next, dense[d]-1)
		dense[d] = int32(i) + 1
	}
	ix.built = n
	return true
}

// link adds position i to the index: at the head of the chain in slot
// when found, else as a new chain in the empty slot.
func (ix *index) link(slot int, found bool, h uint32, i int32) {
	if found {
		ix.next = append(ix.next, ix.heads.slots[slot].pos-1)
		ix.heads.slots[slot].pos = i + 1
	} else {
		ix.next = append(ix.next, -1)
		ix.heads.put(slot, h, i)
	}
}

// matchesProbe reports whether row's cols hold the probe's values.
func matchesProbe(row []uint64, cols []int, probe []uint64) bool {
	for j, c := range cols {
		if row[c] != probe[j] {
			return false
		}
	}
	return true
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
		w, ok := rel.packWord(rel.coll.Types[c], v, false)
		if !ok {
			return // no stored value equals v
		}
		probe[j] = w
	}
	t := make(Tuple, rel.width)
	emit := func(row []uint64) bool {
		rel.unpackInto(row, t)
		return f(t)
	}
	rel.eachMatch(st.Lookup, probe, emit)
}

// eachMatch calls f for each row whose cols equal probe, until f returns
// false. It reads the words afresh for each row, so that rows added while
// f runs (derived heads) do not upset it.
func (r *relation) eachMatch(cols []int, probe []uint64, f func([]uint64) bool) {
	r.eachMatchCached(cols, probe, f, nil)
}

// ixCache remembers the index a step probes, saving the map lookup.
type ixCache struct {
	ix  *index
	gen uint64
}

func (r *relation) eachMatchCached(cols []int, probe []uint64, f func([]uint64) bool, cache *ixCache) {
	w := r.width
	if len(cols) == 0 {
		r.store.each(0, r.rows(), f) // rows appended meanwhile are not seen
		return
	}
	if sameCols(cols, r.coll.Key) {
		hh := probeHash(probe)
		// The probe as a row (only its key columns are read); on the
		// stack for the usual widths, so that a lookup writes nothing
		// shared (a pipeline's worker probes while the node inserts).
		var buf [8]uint64
		row := buf[:0]
		if w > len(buf) {
			row = make([]uint64, 0, w)
		}
		row = row[:w]
		for j, c := range cols {
			row[c] = probe[j]
		}
		if slot, ok := r.findRow(hh, row); ok {
			f(r.row(r.pos.slots[slot].pos - 1))
		}
		return
	}
	var ix *index
	if cache != nil && cache.ix != nil && cache.gen == r.ixGen {
		ix = cache.ix
		if ix.built < r.rows() {
			r.extendIndex(ix)
		}
	} else {
		ix = r.indexRows(cols)
		if cache != nil {
			cache.ix, cache.gen = ix, r.ixGen
		}
	}
	var head int32
	if !ix.sparse && len(cols) == 1 {
		d := probe[0] - ix.lo
		if d >= uint64(len(ix.dense)) {
			return
		}
		head = ix.dense[d] - 1
	} else {
		slot, ok := ix.heads.find(probeHash(probe), func(p int32) bool { return matchesProbe(r.row(p), cols, probe) })
		if !ok {
			return
		}
		head = ix.heads.slots[slot].pos - 1
	}
	for p := head; p >= 0; p = ix.next[p] {
		if !f(r.row(p)) {
			return
		}
	}
}

// probeHash is rowHash of the probe's values.
func probeHash(probe []uint64) uint32 {
	var h uint64
	for _, v := range probe {
		h = hashWord(h, v)
	}
	return finishHash(h)
}

// mergeRow merges row's lattice columns (lmin<int>, lmax<int>) into the
// stored row i, reporting whether it grew.
func (r *relation) mergeRow(i int32, row []uint64) bool {
	old := r.row(i)
	grew := false
	for _, c := range r.coll.LatticeCols {
		grows := int64(row[c]) < int64(old[c])
		if r.coll.Types[c].Kind == lang.LMax {
			grows = int64(row[c]) > int64(old[c])
		}
		if !grows {
			continue
		}
		if !grew {
			grew = true
			// The row's value before the tick is all a rollback needs:
			// log it on the first merge of the tick only (shortest
			// paths merges a row many times per tick).
			if int(i) >= len(r.logged) {
				r.logged = append(r.logged, make([]int64, r.rows()-len(r.logged))...)
			}
			if u := r.undo; u != nil && u.on && r.logged[i] != u.epoch+1 {
				r.logged[i] = u.epoch + 1
				u.log(undoEntry{rel: r, kind: undoReplace, at: i, row: len(u.words)})
				u.words = append(u.words, old...)
			}
		}
		old[c] = row[c]
	}
	if !grew {
		return false
	}
	if u := r.undo; u != nil {
		if r.grownEpoch != u.epoch {
			r.grownRows, r.grownEpoch = r.grownRows[:0], u.epoch
		}
		r.grownRows = append(r.grownRows, i)
	}
	r.dropLatticeIndexes()
	return true
}

// grownSince returns the rows below the append range [from, ...) whose
// lattice columns grew in this tick after the first mark entries of the
// grown list (rows at or past from are read as appended rows anyway).
func (r *relation) grownSince(mark, from int) []int32 {
	if r.undo == nil || r.grownEpoch != r.undo.epoch || mark >= len(r.grownRows) {
		return nil
	}
	var out []int32
	for _, i := range r.grownRows[mark:] {
		if int(i) < from {
			out = append(out, i)
		}
	}
	// A row that grew twice is read once.
	slices.Sort(out)
	return slices.Compact(out)
}

// grownMark is the length of this tick's grown list.
func (r *relation) grownMark() int {
	if r.undo == nil || r.grownEpoch != r.undo.epoch {
		return 0
	}
	return len(r.grownRows)
}

// demote turns a packed relation into a boxed one: the fallback for a
// value without a word (the bottom of an lmin<int> column, a value of the
// wrong type), which must be stored as it is. Row positions are kept, so
// the undo log's entries stay valid; kernels over the relation stop
// running (Node.demote).
func (r *relation) demote() {
	n := r.rows()
	r.tuples = make([]Tuple, 0, n)
	for i := range int32(n) {
		r.tuples = append(r.tuples, r.unpack(r.row(i)))
	}
	if r.grownEpoch == r.undo.epochOrZero() {
		r.grown = r.grown[:0]
		for _, i := range r.grownRows {
			r.grown = append(r.grown, r.tuples[i])
		}
	}
	r.grownRows = nil
	r.width = 0
	r.store = rowStore{}
	r.spareStore, r.spareTab = rowStore{}, table{}
	r.pos = table{}
	for i, t := range r.tuples {
		h, slot, _, _ := r.lookup(t)
		r.pos.put(slot, h, int32(i))
	}
	r.dropIndexes()
}
