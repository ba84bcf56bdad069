package runtime

import (
	"cmp"
	"slices"
	"strings"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/stdlib"
)

// Tuple is one row; values follow the collection's column types.
type Tuple []stdlib.Value

// relation stores one collection: a slice of tuples (scanned by joins), a
// map from the key columns' encoding to the tuple's position, and hash
// indexes built on first use for each set of lookup columns.
type relation struct {
	coll    *compiler.Coll
	tuples  []Tuple
	pos     table // key columns -> position in tuples
	indexes map[uint64]*index
	keyBuf  []byte
	hashBuf []byte
	// version counts changes; an index built at an older version of a
	// relation that lost tuples is rebuilt.
	undo *undoLog
	// The tuples gained in the current tick (the input of incremental
	// evaluation) are tuples[gainFrom:] — appends go to the end and
	// removals only happen before a tick's first append — plus grown, the
	// tuples a lattice merge replaced. gainEpoch and grownEpoch tell
	// whether those belong to the current tick (the undo log's epoch).
	gainFrom   int32
	gainEpoch  int64
	grown      []Tuple
	grownEpoch int64
	// grownRows is grown for a packed relation: the rows a merge grew.
	grownRows []int32
	// logged has, per row of a packed merging relation, the undo epoch
	// + 1 in which its old value was last logged for a rollback. It is
	// indexed by row position and never shrinks: rows only move or go
	// (removals, clears) before a tick's first merge, so an entry for
	// the current epoch always belongs to the row now there.
	logged []int64
	// Spare buffers for a transient's next clear (see clear).
	spareTuples []Tuple
	spareTab    table
	// markEpoch is the undo epoch in which this relation's first append
	// was logged: appends are undone by truncation, so one entry per
	// relation and tick is enough.
	markEpoch int64
	// Packed storage (packed.go): when width > 0, the rows are in store
	// and tuples is unused.
	width      int
	store      rowStore
	rowBuf     []uint64
	spareStore rowStore
	// ixGen counts the times indexes were dropped, so that a cached
	// *index (kernel.go) knows when it is stale.
	ixGen uint64
	// addrs numbers the addresses of packed addr columns (addrs.go);
	// the node's relations share it.
	addrs *addrTable
}

func (r *relation) dropIndexes() {
	clear(r.indexes)
	r.ixGen++
}

// index is a hash index on some columns: a table from the columns' hash
// to the newest tuple with those values, and a chain through next[] to the
// older ones (all tuples of a chain have equal values in the columns).
type index struct {
	cols  []int
	heads table
	next  []int32
	// built covers tuples[:built]; later appends are added on lookup.
	built int
	// dense replaces heads in a one-column index of a packed relation
	// whose values span a range not much wider than its row count (node
	// numbers, mostly): dense[v-lo] is the newest row with value v, plus
	// one (0: none). A lookup is then an array load, not a hash and a
	// probe (extendDense). sparse records that the values outgrew it.
	dense  []int32
	lo     uint64
	sparse bool
}

func newRelation(c *compiler.Coll, undo *undoLog, addrs *addrTable) *relation {
	r := &relation{coll: c, indexes: map[uint64]*index{}, undo: undo, addrs: addrs}
	if packable(c) {
		r.width = len(c.Types)
		r.store.width = r.width
	}
	return r
}

func (r *relation) packed() bool { return r.width > 0 }

// keyHash hashes t's key columns.
func (r *relation) keyHash(t Tuple) uint32 {
	var h uint64
	for _, c := range r.coll.Key {
		h = combine(h, hashValue(r.coll.Types[c], t[c], &r.hashBuf))
	}
	return uint32(h)
}

func (r *relation) sameKey(a, b Tuple) bool {
	for _, c := range r.coll.Key {
		if !stdlib.Equal(r.coll.Types[c], a[c], b[c]) {
			return false
		}
	}
	return true
}

// lookup finds the slot of the tuple with t's key.
func (r *relation) lookup(t Tuple) (h uint32, slot int, pos int32, found bool) {
	h = r.keyHash(t)
	slot, found = r.pos.find(h, func(p int32) bool { return r.sameKey(r.tuples[p], t) })
	if found {
		pos = r.pos.slots[slot].pos - 1
	}
	return h, slot, pos, found
}

func (r *relation) len() int {
	if r.packed() {
		return r.rows()
	}
	return len(r.tuples)
}

// key encodes the key columns of t into r.keyBuf.
func (r *relation) key(t Tuple) []byte {
	b := r.keyBuf[:0]
	for _, c := range r.coll.Key {
		b = stdlib.AppendKey(b, r.coll.Types[c], t[c])
	}
	r.keyBuf = b
	return b
}

// insertPacked is insert for a packed relation when the caller does not
// need the stored tuple back, reporting whether the relation changed.
func (r *relation) insertPacked(t Tuple) (bool, *KeyViolation) {
	changed, demoted, kv := r.insertPackedRow(t)
	if demoted {
		nt, kv := r.insertCopy(slices.Clone(t), nil)
		return nt != nil, kv
	}
	return changed, kv
}

// insertPackedRow packs t and inserts (or merges) it. demoted is true
// when t had no words and the relation was demoted to boxed storage
// instead (the caller then inserts t as a boxed tuple).
func (r *relation) insertPackedRow(t Tuple) (changed, demoted bool, kv *KeyViolation) {
	row, err := r.pack(t)
	if err != nil {
		r.demote()
		return false, true, nil
	}
	changed, kv = r.insertRowHash(row, rowHash(row, r.coll.Key))
	return changed, false, kv
}

// KeyViolation is two different tuples with the same key in one tick where
// the non-key columns are not all lattices.
type KeyViolation struct {
	Coll     string
	Old, New Tuple
	// Err, when set, is not a key violation but a tuple the relation
	// cannot store (a value of the wrong type).
	Err error
}

// insert adds t. It returns the tuple now stored under t's key when that
// changed (t itself, or the merge of t into the stored tuple), or nil when
// the relation already held it. A key violation is returned as an error.
func (r *relation) insert(t Tuple) (Tuple, *KeyViolation) {
	return r.insertCopy(t, nil)
}

// insertCopy is insert for a t that the caller reuses: when t is stored,
// a copy made with alloc is (alloc nil stores t itself).
func (r *relation) insertCopy(t Tuple, alloc func(int) Tuple) (Tuple, *KeyViolation) {
	if r.packed() {
		changed, demoted, kv := r.insertPackedRow(t)
		if demoted {
			return r.insertCopy(t, alloc)
		}
		if !changed || kv != nil {
			return nil, kv
		}
		if r.coll.Merge {
			// The stored row may be a merge of t and what was there.
			_, i, _ := r.lookupPacked(t)
			return r.unpack(r.row(i)), nil
		}
		if alloc != nil {
			c := alloc(len(t))
			copy(c, t)
			t = c
		}
		return t, nil
	}
	h, slot, i, ok := r.lookup(t)
	if ok {
		old := r.tuples[i]
		if r.coll.Merge {
			merged, changed := r.merge(old, t)
			if !changed {
				return nil, nil
			}
			r.replace(i, merged)
			return merged, nil
		}
		if len(r.coll.Key) == len(r.coll.Types) || r.equal(old, t) {
			return nil, nil
		}
		return nil, &KeyViolation{Coll: r.coll.Name, Old: old, New: slices.Clone(t)}
	}
	if alloc != nil {
		c := alloc(len(t))
		copy(c, t)
		t = c
	}
	r.add(slot, h, t)
	return t, nil
}

func (r *relation) equal(a, b Tuple) bool {
	for i, t := range r.coll.Types {
		if !stdlib.Equal(t, a[i], b[i]) {
			return false
		}
	}
	return true
}

// merge joins the lattice columns of t into old.
func (r *relation) merge(old, t Tuple) (Tuple, bool) {
	var out Tuple
	for _, c := range r.coll.LatticeCols {
		typ := r.coll.Types[c]
		m := stdlib.Merge(typ, old[c], t[c])
		if stdlib.Leq(typ, m, old[c]) {
			continue
		}
		if out == nil {
			out = slices.Clone(old)
		}
		out[c] = m
	}
	return out, out != nil
}

// add appends t, whose key is not stored, at the empty slot found for it.
func (r *relation) add(slot int, h uint32, t Tuple) {
	if u := r.undo; u != nil && u.on && r.markEpoch != u.epoch {
		r.markEpoch = u.epoch
		u.log(undoEntry{rel: r, kind: undoAppends, at: int32(len(r.tuples))})
	}
	if u := r.undo; u != nil && r.gainEpoch != u.epoch {
		r.gainEpoch, r.gainFrom = u.epoch, int32(len(r.tuples))
	}
	r.pos.put(slot, h, int32(len(r.tuples)))
	r.tuples = append(r.tuples, t)
}

// gained returns the tuples added or grown in the current tick.
func (r *relation) gained() []Tuple {
	var out []Tuple
	if r.packed() {
		from := r.gainedFrom()
		for i := from; i < r.rows(); i++ {
			out = append(out, r.unpack(r.row(int32(i))))
		}
		for _, i := range r.grownSince(0, from) {
			out = append(out, r.unpack(r.row(i)))
		}
		return out
	}
	if r.undo != nil && r.gainEpoch == r.undo.epoch {
		out = r.tuples[r.gainFrom:len(r.tuples):len(r.tuples)]
	}
	if r.undo != nil && r.grownEpoch == r.undo.epoch && len(r.grown) > 0 {
		out = append(append([]Tuple(nil), out...), r.grown...)
	}
	return out
}

func (r *relation) replace(i int32, t Tuple) {
	old := r.tuples[i]
	r.tuples[i] = t
	if u := r.undo; u != nil {
		if r.grownEpoch != u.epoch {
			clear(r.grown)
			r.grown, r.grownEpoch = r.grown[:0], u.epoch
		}
		r.grown = append(r.grown, t)
	}
	if r.undo != nil {
		r.undo.log(undoEntry{rel: r, kind: undoReplace, at: i, old: old})
	}
	r.dropLatticeIndexes()
}

// dropLatticeIndexes drops the indexes over lattice columns, which a
// merge has made stale.
func (r *relation) dropLatticeIndexes() {
	for h, ix := range r.indexes {
		for _, c := range ix.cols {
			if slices.Contains(r.coll.LatticeCols, c) {
				delete(r.indexes, h)
				r.ixGen++
				break
			}
		}
	}
}

// remove deletes the tuple stored under t's key if it equals t (a delete
// of a tuple that is not there is a no-op), reporting whether it did.
func (r *relation) remove(t Tuple) bool {
	if r.packed() {
		slot, i, ok := r.lookupPacked(t)
		if !ok || !r.equal(r.unpack(r.row(i)), t) {
			return false
		}
		r.removeRowAt(slot, i)
		return true
	}
	_, slot, i, ok := r.lookup(t)
	if !ok || !r.equal(r.tuples[i], t) {
		return false
	}
	r.removeAt(slot, i)
	return true
}

// removeKey deletes whatever tuple is stored under t's key.
func (r *relation) removeKey(t Tuple) bool {
	if r.packed() {
		slot, i, ok := r.lookupPacked(t)
		if ok {
			r.removeRowAt(slot, i)
		}
		return ok
	}
	_, slot, i, ok := r.lookup(t)
	if !ok {
		return false
	}
	r.removeAt(slot, i)
	return true
}

// removeAt deletes the tuple at position i (held in slot), moving the
// last tuple into its place.
func (r *relation) removeAt(slot int, i int32) {
	old := r.tuples[i]
	r.pos.remove(slot)
	last := int32(len(r.tuples) - 1)
	if i != last {
		moved := r.tuples[last]
		r.pos.slots[r.pos.slotOf(r.keyHash(moved), last)].pos = i + 1
		r.tuples[i] = moved
	}
	r.tuples[last] = nil
	r.tuples = r.tuples[:last]
	r.dropIndexes()
	if r.undo != nil {
		r.undo.log(undoEntry{rel: r, kind: undoRemove, old: old})
	}
}

// get returns the tuple stored under the key of t, if any.
func (r *relation) get(t Tuple) Tuple {
	if r.packed() {
		if _, i, ok := r.lookupPacked(t); ok {
			return r.unpack(r.row(i))
		}
		return nil
	}
	if _, _, i, ok := r.lookup(t); ok {
		return r.tuples[i]
	}
	return nil
}

// contains reports whether exactly t is stored (for a merging relation:
// whether t adds nothing to the stored tuple).
func (r *relation) contains(t Tuple) bool {
	old := r.get(t)
	if old == nil {
		return false
	}
	if r.coll.Merge {
		_, changed := r.merge(old, t)
		return !changed
	}
	return r.equal(old, t)
}

func (r *relation) clear() {
	if r.packed() {
		r.clearPacked()
		return
	}
	if len(r.tuples) == 0 {
		return
	}
	if r.undo != nil && r.undo.on {
		// The old contents stay with the undo log until the tick
		// succeeds, and then come back as r's spare buffers
		// (undoLog.reset), so a transient that is refilled every tick
		// does not reallocate.
		r.undo.logClear(r, clearedState{tuples: r.tuples, posTab: r.pos})
		r.tuples, r.pos = r.spareTuples, r.spareTab
		r.spareTuples, r.spareTab = nil, table{}
	} else {
		clear(r.tuples)
		r.tuples = r.tuples[:0]
		r.pos.reset()
	}
	r.dropIndexes()
}

// indexFor returns the index on cols, created empty if there is none.
func (r *relation) indexFor(cols []int) *index {
	var h uint64 = 1469598103934665603
	for _, c := range cols {
		h = (h ^ uint64(c+1)) * 1099511628211
	}
	ix := r.indexes[h]
	if ix == nil || !slices.Equal(ix.cols, cols) {
		ix = &index{cols: cols}
		r.indexes[h] = ix
	}
	return ix
}

// index returns the hash index on cols, built or brought up to date.
func (r *relation) index(cols []int) *index {
	ix := r.indexFor(cols)
	for i := ix.built; i < len(r.tuples); i++ {
		t := r.tuples[i]
		hh := r.colsHash(t, cols)
		slot, found := ix.heads.find(hh, func(p int32) bool { return r.sameCols(r.tuples[p], t, cols) })
		ix.link(slot, found, hh, int32(i))
	}
	ix.built = len(r.tuples)
	return ix
}

func (r *relation) colsHash(t Tuple, cols []int) uint32 {
	var h uint64
	for _, c := range cols {
		h = combine(h, hashValue(r.coll.Types[c], t[c], &r.hashBuf))
	}
	return uint32(h)
}

func (r *relation) sameCols(a, b Tuple, cols []int) bool {
	for _, c := range cols {
		if !stdlib.Equal(r.coll.Types[c], a[c], b[c]) {
			return false
		}
	}
	return true
}

// sorted returns the tuples in the canonical order used for printing.
func (r *relation) sorted() []Tuple {
	if r.packed() {
		return r.sortedPacked()
	}
	out := slices.Clone(r.tuples)
	types := r.coll.Types
	slices.SortFunc(out, func(a, b Tuple) int { return compareTuples(types, a, b) })
	return out
}

// sortedPacked is sorted for a packed relation. Word order is Compare's
// order for every word type (ints, times and lmin/lmax<int> as signed
// words, false < true), so the rows sort as words before they are
// unpacked; one and two columns sort as plain arrays, which do not chase
// a row per comparison (printing a 2.5M-tuple closure spent 2 s there).
func (r *relation) sortedPacked() []Tuple {
	n, w := r.rows(), r.width
	out := make([]Tuple, 0, n)
	// The tuples share one backing array.
	vals := make([]stdlib.Value, n*w)
	next := func(row ...uint64) Tuple {
		t := vals[len(out)*w : (len(out)+1)*w : (len(out)+1)*w]
		r.unpackInto(row, t)
		return t
	}
	const flip = 1 << 63 // signed order as unsigned order
	if slices.ContainsFunc(r.coll.Types, func(t *lang.Type) bool { return t.Kind == lang.Addr }) {
		// Address numbers are not in address order.
		return r.sortedRows(out, vals)
	}
	switch w {
	case 1:
		keys := make([]uint64, 0, n)
		r.store.each(0, n, func(row []uint64) bool { keys = append(keys, row[0]^flip); return true })
		slices.Sort(keys)
		for _, k := range keys {
			out = append(out, next(k^flip))
		}
		return out
	case 2:
		keys := make([][2]uint64, 0, n)
		r.store.each(0, n, func(row []uint64) bool { keys = append(keys, [2]uint64{row[0] ^ flip, row[1] ^ flip}); return true })
		slices.SortFunc(keys, func(a, b [2]uint64) int {
			if a[0] != b[0] {
				return cmpUint(a[0], b[0])
			}
			return cmpUint(a[1], b[1])
		})
		for _, k := range keys {
			out = append(out, next(k[0]^flip, k[1]^flip))
		}
		return out
	}
	return r.sortedRows(out, vals)
}

// sortedRows is sortedPacked's general case (wider rows, addr columns):
// it sorts row positions, comparing addresses as strings (their numbers
// are not in address order) and other words as signed ints. The tuples
// are carved out of vals.
func (r *relation) sortedRows(out []Tuple, vals []stdlib.Value) []Tuple {
	w := r.width
	order := make([]int32, r.rows())
	for i := range order {
		order[i] = int32(i)
	}
	types, addrs := r.coll.Types, r.addrs.vals
	slices.SortFunc(order, func(a, b int32) int {
		x, y := r.row(a), r.row(b)
		for c, t := range types {
			if x[c] == y[c] {
				continue
			}
			if t.Kind == lang.Addr {
				return strings.Compare(string(addrs[x[c]].(stdlib.Addr)), string(addrs[y[c]].(stdlib.Addr)))
			}
			return cmp.Compare(int64(x[c]), int64(y[c]))
		}
		return 0
	})
	for k, p := range order {
		t := vals[k*w : (k+1)*w : (k+1)*w]
		r.unpackInto(r.row(p), t)
		out = append(out, t)
	}
	return out
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compareTuples(types []*lang.Type, a, b Tuple) int {
	for i, t := range types {
		if c := stdlib.Compare(t, a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// undoLog records the changes of a tick so that a failed tick can be
// rolled back and change no state.
type undoLog struct {
	entries []undoEntry
	cleared []clearedState // kept between ticks: transients clear every tick
	words   []uint64       // old packed rows of undoReplace entries
	on      bool
	epoch   int64
}

type undoKind int

const (
	undoAppends undoKind = iota // tuples[at:] were appended
	undoReplace
	undoRemove
	undoClear
)

type undoEntry struct {
	rel  *relation
	kind undoKind
	at   int32
	old  Tuple // the tuple replaced or removed
	// row, when old is nil in an undoReplace, is the offset in the log's
	// words of a packed relation's old row (packed merges, which are
	// many, log no boxed tuple).
	row int
	clr int // undoClear: the index of the relation's old state in undoLog.cleared
}

// clearedState is what a relation held before a clear.
type clearedState struct {
	tuples []Tuple
	store  rowStore
	width  int
	posTab table
}

func (u *undoLog) logClear(r *relation, c clearedState) {
	if u.on {
		u.entries = append(u.entries, undoEntry{rel: r, kind: undoClear, clr: len(u.cleared)})
		u.cleared = append(u.cleared, c)
	}
}

func (u *undoLog) log(e undoEntry) {
	if u.on {
		u.entries = append(u.entries, e)
	}
}

// rollback undoes every logged change, newest first.
func (u *undoLog) rollback() {
	on := u.on
	u.on = false
	for i := len(u.entries) - 1; i >= 0; i-- {
		e := u.entries[i]
		r := e.rel
		switch e.kind {
		case undoAppends:
			if r.packed() {
				for j := int32(r.rows()) - 1; j >= e.at; j-- {
					r.pos.remove(r.pos.slotOf(rowHash(r.row(j), r.coll.Key), j))
				}
				r.store.truncate(int(e.at))
				break
			}
			for j := len(r.tuples) - 1; j >= int(e.at); j-- {
				r.pos.remove(r.pos.slotOf(r.keyHash(r.tuples[j]), int32(j)))
				r.tuples[j] = nil
			}
			r.tuples = r.tuples[:e.at]
		case undoReplace:
			old := e.old
			if old == nil {
				row := u.words[e.row : e.row+len(r.coll.Types)]
				if r.packed() {
					copy(r.row(e.at), row)
					break
				}
				old = r.unpack(row) // demoted since
			}
			if r.packed() {
				row, _ := r.pack(old)
				copy(r.row(e.at), row)
				break
			}
			r.tuples[e.at] = old
		case undoRemove:
			if r.packed() {
				row, _ := r.pack(e.old)
				h := rowHash(row, r.coll.Key)
				slot, _ := r.findRow(h, row)
				r.pos.put(slot, h, int32(r.rows()))
				r.store.push(row)
				break
			}
			h, slot, _, _ := r.lookup(e.old)
			r.pos.put(slot, h, int32(len(r.tuples)))
			r.tuples = append(r.tuples, e.old)
		case undoClear:
			c := &u.cleared[e.clr]
			r.tuples, r.store, r.pos, r.width = c.tuples, c.store, c.posTab, c.width
		}
		r.dropIndexes()
	}
	u.entries = u.entries[:0]
	u.words = u.words[:0]
	clear(u.cleared)
	u.cleared = u.cleared[:0]
	u.on = on
}

func (u *undoLog) reset() {
	for _, e := range u.entries {
		// A cleared relation's old buffers become its spares, if it is
		// still stored the way it was when cleared (see demote).
		if e.kind != undoClear {
			continue
		}
		if c := &u.cleared[e.clr]; c.width > 0 && e.rel.width == c.width && e.rel.spareStore.chunks == nil {
			c.posTab.reset()
			c.store.truncate(0)
			e.rel.spareStore, e.rel.spareTab = c.store, c.posTab
		} else if c.width == 0 && !e.rel.packed() && e.rel.spareTuples == nil {
			clear(c.tuples)
			c.posTab.reset()
			e.rel.spareTuples, e.rel.spareTab = c.tuples[:0], c.posTab
		}
	}
	clear(u.entries)
	u.entries = u.entries[:0]
	u.words = u.words[:0]
	clear(u.cleared)
	u.cleared = u.cleared[:0]
	u.epoch++
	// A tick that changed a million tuples leaves a large log behind;
	// a long-running node should not keep it for the ticks after.
	if cap(u.entries) > 1<<16 {
		u.entries = nil
	}
	if cap(u.words) > 1<<17 {
		u.words = nil
	}
}

// clearPacked is clear for a packed relation.
func (r *relation) clearPacked() {
	if r.rows() == 0 {
		return
	}
	if r.undo != nil && r.undo.on {
		r.undo.logClear(r, clearedState{store: r.store, posTab: r.pos, width: r.width})
		r.store, r.pos = r.spareStore, r.spareTab
		r.store.width = r.width
		r.spareStore, r.spareTab = rowStore{}, table{}
	} else {
		r.store.truncate(0)
		r.pos.reset()
	}
	r.dropIndexes()
}

func (u *undoLog) epochOrZero() int64 {
	if u == nil {
		return 0
	}
	return u.epoch
}
