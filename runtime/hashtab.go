package runtime

import (
	"hash/maphash"
	"math"
	"math/bits"

	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/stdlib"
)

// The relations' hash tables are open-addressed with linear probing and
// keep a 32-bit hash beside each position, so that probing compares
// integers and only a hash match touches the tuple. They replaced
// map[string]int32 keyed by encoded tuples, which allocated a key string
// per tuple and re-hashed every key on growth (a quarter of transitive
// closure's time).

// hashSeed is fixed per process: hashes never leave memory.
var hashSeed = maphash.MakeSeed()

func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// hashValue hashes a value so that Equal values hash alike.
func hashValue(t *lang.Type, v stdlib.Value, buf *[]byte) uint64 {
	switch x := v.(type) {
	case int64:
		return mix64(uint64(x))
	case string:
		return maphash.String(hashSeed, x)
	case stdlib.Addr:
		return maphash.String(hashSeed, string(x))
	case stdlib.Time:
		return mix64(uint64(x))
	case bool:
		if x {
			return 0x9e3779b97f4a7c15
		}
		return 0x7f4a7c159e3779b9
	case float64:
		if x == 0 {
			x = 0 // -0 and +0 are equal
		}
		if x != x {
			return 0x5bd1e995 // every NaN is equal to itself
		}
		return mix64(math.Float64bits(x))
	}
	*buf = stdlib.AppendKey((*buf)[:0], t, v)
	return maphash.Bytes(hashSeed, *buf)
}

func combine(h, v uint64) uint64 { return mix64(h ^ (v + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2))) }

type slot struct {
	hash uint32
	pos  int32 // position + 1; 0 marks an empty slot
}

// table maps hashes to positions; equality is decided by the caller.
// A hash's home slot is given by its top bits (h >> shift), so that slot
// order is hash order at every table size: the kernel inserts a batch of
// rows sorted by hash and walks the table front to back (kernel.go).
type table struct {
	slots []slot
	n     int
	shift uint8
}

// home is the slot where a probe for h starts.
func (t *table) home(h uint32) uint32 { return uint32(uint64(h) >> t.shift) }

func (t *table) grow() {
	old := t.slots
	size := 16
	if len(old) > 0 {
		size = len(old) * 2
	}
	t.slots = make([]slot, size)
	t.shift = uint8(32 - bits.TrailingZeros(uint(size)))
	mask := uint32(size - 1)
	for _, s := range old {
		if s.pos == 0 {
			continue
		}
		i := t.home(s.hash)
		for t.slots[i].pos != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// reserve grows the table now so that holding n entries will not grow
// it. Inserting in hash order needs this: a growth in the middle of a
// sorted batch leaves the batch's remaining keys packed into the front
// of a half-empty table, where each one probes past all the others (a
// sorted batch then probed ten times as much as a random one).
func (t *table) reserve(n int) {
	for len(t.slots) == 0 || n*4 > len(t.slots)*3 {
		t.grow()
	}
}

// find returns the slot index holding a position for which eq is true, or
// the empty slot where such an entry would go (found false).
func (t *table) find(h uint32, eq func(pos int32) bool) (int, bool) {
	if len(t.slots) == 0 {
		t.grow()
	}
	mask := uint32(len(t.slots) - 1)
	i := t.home(h)
	for {
		s := t.slots[i]
		if s.pos == 0 {
			return int(i), false
		}
		if s.hash == h && eq(s.pos-1) {
			return int(i), true
		}
		i = (i + 1) & mask
	}
}

// put stores pos in the empty slot i returned by find, growing when
// needed (then i is recomputed).
func (t *table) put(i int, h uint32, pos int32) {
	// Grow at a load of 3/4: linear probing stays short at that load (the
	// probes of one run share cache lines), and the table is a third of
	// a packed relation's memory.
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow()
		mask := uint32(len(t.slots) - 1)
		j := t.home(h)
		for t.slots[j].pos != 0 {
			j = (j + 1) & mask
		}
		i = int(j)
	}
	t.slots[i] = slot{hash: h, pos: pos + 1}
	t.n++
}

// slotOf finds the slot that holds exactly pos.
func (t *table) slotOf(h uint32, pos int32) int {
	mask := uint32(len(t.slots) - 1)
	i := t.home(h)
	for t.slots[i].pos != pos+1 {
		i = (i + 1) & mask
	}
	return int(i)
}

// remove empties slot i, shifting later entries of the probe run back so
// that lookups need no tombstones.
func (t *table) remove(i int) {
	mask := len(t.slots) - 1
	j := i
	for {
		t.slots[i] = slot{}
		for {
			j = (j + 1) & mask
			if t.slots[j].pos == 0 {
				t.n--
				return
			}
			k := int(t.home(t.slots[j].hash))
			// Move j to i unless its home k lies cyclically in (i, j].
			if (i <= j && (i < k && k <= j)) || (i > j && (i < k || k <= j)) {
				continue
			}
			t.slots[i] = t.slots[j]
			i = j
			break
		}
	}
}

func (t *table) reset() {
	clear(t.slots)
	t.n = 0
}
