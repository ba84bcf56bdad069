package stdlib

import (
	"slices"
	"sort"

	"github.com/bloomlang/bloom/lang"
)

// Map is an immutable value of lmap<K, L>: keys of the scalar type K, each
// bound to a value of the lattice L, kept sorted by key. A nil *Map is the
// empty map (the bottom of lmap).
//
// As in Bloom^L, the key set is part of the value: a key bound to the bottom
// of L is present and {k: ⊥} is strictly above {}. Merge is key-wise merge
// of L; a key absent on one side is simply copied.
type Map struct {
	key, val *lang.Type
	keys     []Value
	vals     []Value
}

// NewMap builds a map from parallel key and value slices (any order).
// Duplicate keys have their values merged with Merge(val, ...). The slices
// are not retained.
func NewMap(key, val *lang.Type, keys, vals []Value) *Map {
	m := &Map{key: key, val: val}
	if len(keys) == 0 {
		return m
	}
	idx := make([]int, len(keys))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return Compare(key, keys[idx[i]], keys[idx[j]]) < 0 })
	m.keys = make([]Value, 0, len(keys))
	m.vals = make([]Value, 0, len(keys))
	for _, i := range idx {
		n := len(m.keys)
		if n > 0 && Compare(key, m.keys[n-1], keys[i]) == 0 {
			m.vals[n-1] = Merge(val, m.vals[n-1], vals[i])
			continue
		}
		m.keys = append(m.keys, keys[i])
		m.vals = append(m.vals, vals[i])
	}
	return m
}

func asMap(v Value) *Map {
	m, _ := v.(*Map)
	return m
}

// KeyType returns the key type K (nil for a nil map).
func (m *Map) KeyType() *lang.Type {
	if m == nil {
		return nil
	}
	return m.key
}

// ValType returns the value lattice type L (nil for a nil map).
func (m *Map) ValType() *lang.Type {
	if m == nil {
		return nil
	}
	return m.val
}

// Len returns the number of keys.
func (m *Map) Len() int {
	if m == nil {
		return 0
	}
	return len(m.keys)
}

// Keys returns the keys in sorted order. The slice is shared: do not modify.
func (m *Map) Keys() []Value {
	if m == nil {
		return nil
	}
	return m.keys
}

// Values returns the values in key order. The slice is shared: do not modify.
func (m *Map) Values() []Value {
	if m == nil {
		return nil
	}
	return m.vals
}

// Entry returns the i-th key and value in key order.
func (m *Map) Entry(i int) (Value, Value) { return m.keys[i], m.vals[i] }

func (m *Map) find(k Value) (int, bool) {
	return slices.BinarySearchFunc(m.keys, k, func(e, k Value) int { return Compare(m.key, e, k) })
}

// Get returns the value bound to k and whether k is present.
func (m *Map) Get(k Value) (Value, bool) {
	if m.Len() == 0 {
		return nil, false
	}
	i, ok := m.find(k)
	if !ok {
		return nil, false
	}
	return m.vals[i], true
}

// Put returns m with v merged into the value at k (inserting k if absent).
// It returns m itself when that changes nothing. key and val are only used
// when m is nil.
func (m *Map) Put(key, val *lang.Type, k, v Value) *Map {
	if m == nil {
		return &Map{key: key, val: val, keys: []Value{k}, vals: []Value{v}}
	}
	i, ok := m.find(k)
	if ok {
		nv := Merge(m.val, m.vals[i], v)
		if Equal(m.val, nv, m.vals[i]) {
			return m
		}
		vals := slices.Clone(m.vals)
		vals[i] = nv
		return &Map{key: m.key, val: m.val, keys: m.keys, vals: vals}
	}
	return &Map{key: m.key, val: m.val, keys: slices.Insert(slices.Clone(m.keys), i, k), vals: slices.Insert(slices.Clone(m.vals), i, v)}
}

// mergeMaps is the key-wise join. It returns a when b ≤ a and b when a ≤ b.
func mergeMaps(t *lang.Type, a, b *Map) *Map {
	if b.Len() == 0 {
		if a == nil {
			return b
		}
		return a
	}
	if a.Len() == 0 {
		return b
	}
	kt, vt := a.key, a.val
	if kt == nil {
		kt, vt = t.Key, t.Elem
	}
	out := &Map{key: kt, val: vt, keys: make([]Value, 0, len(a.keys)+len(b.keys)), vals: make([]Value, 0, len(a.keys)+len(b.keys))}
	aUp, bUp := false, false // a has something b lacks; b has something a lacks
	i, j := 0, 0
	for i < len(a.keys) || j < len(b.keys) {
		var c int
		switch {
		case i == len(a.keys):
			c = 1
		case j == len(b.keys):
			c = -1
		default:
			c = Compare(kt, a.keys[i], b.keys[j])
		}
		switch {
		case c < 0:
			aUp = true
			out.keys = append(out.keys, a.keys[i])
			out.vals = append(out.vals, a.vals[i])
			i++
		case c > 0:
			bUp = true
			out.keys = append(out.keys, b.keys[j])
			out.vals = append(out.vals, b.vals[j])
			j++
		default:
			v := Merge(vt, a.vals[i], b.vals[j])
			if !Equal(vt, v, a.vals[i]) {
				bUp = true
			}
			if !Equal(vt, v, b.vals[j]) {
				aUp = true
			}
			out.keys = append(out.keys, a.keys[i])
			out.vals = append(out.vals, v)
			i++
			j++
		}
	}
	if !bUp {
		return a
	}
	if !aUp {
		return b
	}
	return out
}

// String renders the map in literal syntax.
func (m *Map) String() string {
	return Format(&lang.Type{Kind: lang.LMap, Key: m.KeyType(), Elem: m.ValType()}, m)
}
