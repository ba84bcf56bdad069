package stdlib

import (
	"cmp"
	"math/bits"
	"slices"
	"strings"

	"github.com/bloomlang/bloom/lang"
)

// Set is an immutable value of lset<T>: distinct elements of T kept sorted by
// Compare. A nil *Set is the empty set (the bottom of lset). Sets are never
// modified after construction; every operation that adds elements returns a
// new Set (or the receiver itself when nothing changes).
type Set struct {
	elem  *lang.Type
	elems []Value
}

// NewSet builds a set of elements of type elem from elems, which may be in
// any order and contain duplicates. The elems slice is not retained.
func NewSet(elem *lang.Type, elems ...Value) *Set {
	s := &Set{elem: elem}
	if len(elems) == 0 {
		return s
	}
	cp := make([]Value, len(elems))
	copy(cp, elems)
	cmp := comparator(elem)
	slices.SortStableFunc(cp, cmp)
	s.elems = cp[:1]
	for _, e := range cp[1:] {
		if cmp(s.elems[len(s.elems)-1], e) != 0 {
			s.elems = append(s.elems, e)
		}
	}
	return s
}

// asSet extracts a *Set from a Value; nil (of either kind) gives nil.
func asSet(v Value) *Set {
	s, _ := v.(*Set)
	return s
}

// ElemType returns the element type the set was built with (nil for a nil
// set).
func (s *Set) ElemType() *lang.Type {
	if s == nil {
		return nil
	}
	return s.elem
}

// Len returns the number of elements.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.elems)
}

// Elems returns the elements in sorted order. The slice is shared with the
// set and must not be modified.
func (s *Set) Elems() []Value {
	if s == nil {
		return nil
	}
	return s.elems
}

// Elem returns the i-th element in sorted order.
func (s *Set) Elem(i int) Value { return s.elems[i] }

// find returns the index where x is or would be inserted, and whether it is
// present.
func (s *Set) find(x Value) (int, bool) {
	return slices.BinarySearchFunc(s.elems, x, comparator(s.elem))
}

// Has reports whether x is an element of s.
func (s *Set) Has(x Value) bool {
	if s.Len() == 0 {
		return false
	}
	_, ok := s.find(x)
	return ok
}

// Insert returns s ∪ {x}; it returns s itself when x is already present.
// elem is only used when s is nil.
func (s *Set) Insert(elem *lang.Type, x Value) *Set {
	if s == nil {
		return &Set{elem: elem, elems: []Value{x}}
	}
	i, ok := s.find(x)
	if ok {
		return s
	}
	out := make([]Value, len(s.elems)+1)
	copy(out, s.elems[:i])
	out[i] = x
	copy(out[i+1:], s.elems[i:])
	return &Set{elem: s.elem, elems: out}
}

// Union returns s ∪ o. It returns s itself when o ⊆ s and o itself when
// s ⊆ o, so callers can detect "no change" by pointer comparison.
func (s *Set) Union(o *Set) *Set {
	if o.Len() == 0 {
		if s == nil {
			return o
		}
		return s
	}
	if s.Len() == 0 {
		return o
	}
	elem := s.elem
	if elem == nil {
		elem = o.elem
	}
	cmp := comparator(elem)
	a, b := s.elems, o.elems
	// Fast paths: disjoint ranges.
	if cmp(a[len(a)-1], b[0]) < 0 {
		return &Set{elem: elem, elems: slices.Concat(a, b)}
	}
	if cmp(b[len(b)-1], a[0]) < 0 {
		return &Set{elem: elem, elems: slices.Concat(b, a)}
	}
	// A small set merged into a big one: binary searches instead of a scan.
	if len(b)*bits.Len(uint(len(a))) < len(a) {
		return unionSmall(elem, cmp, s, o)
	}
	if len(a)*bits.Len(uint(len(b))) < len(b) {
		return unionSmall(elem, cmp, o, s)
	}
	var out []Value
	i, j := 0, 0
	onlyA, onlyB := false, false // elements seen only in a, only in b
	for i < len(a) && j < len(b) {
		c := cmp(a[i], b[j])
		switch {
		case c < 0:
			onlyA = true
			if out != nil {
				out = append(out, a[i])
			}
			i++
		case c > 0:
			if out == nil {
				// First element of b missing from a: start the output.
				out = make([]Value, i, len(a)+len(b)-j)
				copy(out, a[:i])
			}
			onlyB = true
			out = append(out, b[j])
			j++
		default:
			if out != nil {
				out = append(out, a[i])
			}
			i++
			j++
		}
	}
	if i < len(a) {
		onlyA = true
		if out != nil {
			out = append(out, a[i:]...)
		}
	}
	if j < len(b) {
		if out == nil {
			out = make([]Value, i, len(a)+len(b)-j)
			copy(out, a[:i])
		}
		onlyB = true
		out = append(out, b[j:]...)
	}
	if !onlyB {
		return s
	}
	if !onlyA {
		return o
	}
	return &Set{elem: elem, elems: out}
}

// unionSmall returns big ∪ small for a small set, locating each element of
// small by binary search. It returns big itself when small ⊆ big.
func unionSmall(elem *lang.Type, cmp func(a, b Value) int, big, small *Set) *Set {
	var pos []int
	var missing []Value
	lo := 0
	for _, x := range small.elems {
		i, ok := slices.BinarySearchFunc(big.elems[lo:], x, cmp)
		i += lo
		if !ok {
			pos = append(pos, i)
			missing = append(missing, x)
		}
		lo = i
	}
	if len(missing) == 0 {
		return big
	}
	out := make([]Value, 0, len(big.elems)+len(missing))
	prev := 0
	for k, i := range pos {
		out = append(out, big.elems[prev:i]...)
		out = append(out, missing[k])
		prev = i
	}
	out = append(out, big.elems[prev:]...)
	return &Set{elem: elem, elems: out}
}

// comparator returns Compare specialised to t.
func comparator(t *lang.Type) func(a, b Value) int {
	if t != nil {
		switch t.Kind {
		case lang.Int:
			return func(a, b Value) int {
				if x, ok := a.(int64); ok {
					if y, ok := b.(int64); ok {
						return cmp.Compare(x, y)
					}
				}
				return Compare(t, a, b)
			}
		case lang.String:
			return func(a, b Value) int {
				if x, ok := a.(string); ok {
					if y, ok := b.(string); ok {
						return strings.Compare(x, y)
					}
				}
				return Compare(t, a, b)
			}
		}
	}
	return func(a, b Value) int { return Compare(t, a, b) }
}

// SubsetOf reports whether every element of s is in o.
func (s *Set) SubsetOf(o *Set) bool {
	if s.Len() == 0 {
		return true
	}
	if s.Len() > o.Len() {
		return false
	}
	a, b := s.elems, o.elems
	cmp := comparator(s.elem)
	j := 0
	for _, x := range a {
		for j < len(b) && cmp(b[j], x) < 0 {
			j++
		}
		if j == len(b) || cmp(b[j], x) != 0 {
			return false
		}
		j++
	}
	return true
}

// String renders the set in literal syntax.
func (s *Set) String() string {
	return Format(&lang.Type{Kind: lang.LSet, Elem: s.ElemType()}, s)
}
