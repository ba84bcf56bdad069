package runtime

import (
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/stdlib"
)

// Addresses as words. A node numbers the addresses it stores in packed
// relations, so that a relation with addr columns (a channel, a member
// list) is packed like one of ints: the @ column of every tuple a node
// receives is its own address, and boxing it cost a delivered tuple most
// of its time. The numbers are the node's own: they never leave it, and
// they say nothing about order (sortedPacked compares the strings).
// The table only grows, up to maxAddrs; a relation that needs an address
// beyond that is demoted to boxed storage, as for any value without a
// word.
type addrTable struct {
	ids map[stdlib.Addr]uint64
	// vals has each address boxed once, so that unpacking one does
	// not allocate.
	vals []stdlib.Value
	// The last address looked up and its number: the tuples of one
	// batch or one channel share their address.
	last   stdlib.Addr
	lastID uint64
	max    int
}

// maxAddrs bounds a node's address table (a program may make addresses
// from data).
const maxAddrs = 1 << 16

func newAddrTable() *addrTable {
	return &addrTable{ids: map[stdlib.Addr]uint64{}, max: maxAddrs, lastID: ^uint64(0)}
}

// intern returns a's number, numbering it if it is new; false when the
// table is full.
func (at *addrTable) intern(a stdlib.Addr) (uint64, bool) {
	if at.lastID != ^uint64(0) && a == at.last {
		return at.lastID, true
	}
	id, ok := at.ids[a]
	if !ok {
		if len(at.vals) >= at.max {
			return 0, false
		}
		id = uint64(len(at.vals))
		at.ids[a] = id
		at.vals = append(at.vals, a)
	}
	at.last, at.lastID = a, id
	return id, true
}

// lookup returns a's number without numbering it: an address the table
// does not hold is in no packed relation.
func (at *addrTable) lookup(a stdlib.Addr) (uint64, bool) {
	if at.lastID != ^uint64(0) && a == at.last {
		return at.lastID, true
	}
	id, ok := at.ids[a]
	return id, ok
}

// packableType reports whether a column of type t can be stored packed:
// a word type, or an addr (numbered by the node's table).
func packableType(t *lang.Type) bool {
	return stdlib.IsWordType(t) || t != nil && t.Kind == lang.Addr
}

// packWord is stdlib.PackWord for the relation's column type t, with
// addresses numbered (intern) or looked up (!intern).
func (r *relation) packWord(t *lang.Type, v stdlib.Value, intern bool) (uint64, bool) {
	if t.Kind != lang.Addr {
		return stdlib.PackWord(t, v)
	}
	a, ok := v.(stdlib.Addr)
	if !ok {
		c, err := stdlib.Coerce(t, v)
		if a, ok = c.(stdlib.Addr); err != nil || !ok {
			return 0, false
		}
	}
	if intern {
		return r.addrs.intern(a)
	}
	return r.addrs.lookup(a)
}

// unpackWord is stdlib.UnpackWord for the relation's column type t.
func (r *relation) unpackWord(t *lang.Type, w uint64) stdlib.Value {
	if t.Kind == lang.Addr {
		return r.addrs.vals[w]
	}
	return stdlib.UnpackWord(t, w)
}
