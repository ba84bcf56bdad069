package stdlib

import (
	"slices"
	"strings"

	"github.com/bloomlang/bloom/lang"
)

// Counter is an immutable value of lcounter: a grow-only counter with one
// non-negative count per node address (a G-counter). Merge takes the
// per-address maximum; the counter's value is the sum of the counts. A nil
// *Counter is the empty counter (bottom, value 0). Addresses with count 0 are
// never stored, so equal counters have equal representations.
type Counter struct {
	addrs  []Addr // sorted, distinct
	counts []int64
}

// NewCounter returns the empty counter.
func NewCounter() *Counter { return &Counter{} }

// CounterOf returns a counter holding n at addr (empty if n <= 0).
func CounterOf(addr Addr, n int64) *Counter {
	if n <= 0 {
		return &Counter{}
	}
	return &Counter{addrs: []Addr{addr}, counts: []int64{n}}
}

// NewCounterFrom builds a counter from per-address counts; counts <= 0 are
// dropped.
func NewCounterFrom(m map[Addr]int64) *Counter {
	c := &Counter{}
	for a, n := range m {
		if n > 0 {
			c.addrs = append(c.addrs, a)
		}
	}
	slices.Sort(c.addrs)
	c.counts = make([]int64, len(c.addrs))
	for i, a := range c.addrs {
		c.counts[i] = m[a]
	}
	return c
}

func asCounter(v Value) *Counter {
	c, _ := v.(*Counter)
	return c
}

// Len returns the number of addresses with a non-zero count.
func (c *Counter) Len() int {
	if c == nil {
		return 0
	}
	return len(c.addrs)
}

// Entry returns the i-th address (in sorted order) and its count.
func (c *Counter) Entry(i int) (Addr, int64) { return c.addrs[i], c.counts[i] }

// Get returns the count recorded for addr.
func (c *Counter) Get(addr Addr) int64 {
	if c == nil {
		return 0
	}
	i, ok := slices.BinarySearch(c.addrs, addr)
	if !ok {
		return 0
	}
	return c.counts[i]
}

// Value returns the sum of all counts.
func (c *Counter) Value() int64 {
	if c == nil {
		return 0
	}
	var s int64
	for _, n := range c.counts {
		s += n
	}
	return s
}

// Add returns a counter whose count at addr is increased by n. Counters only
// grow: n <= 0 returns c unchanged.
func (c *Counter) Add(addr Addr, n int64) *Counter {
	if n <= 0 {
		if c == nil {
			return &Counter{}
		}
		return c
	}
	if c == nil {
		return CounterOf(addr, n)
	}
	i, ok := slices.BinarySearch(c.addrs, addr)
	if ok {
		counts := slices.Clone(c.counts)
		counts[i] += n
		return &Counter{addrs: c.addrs, counts: counts}
	}
	return &Counter{addrs: slices.Insert(slices.Clone(c.addrs), i, addr), counts: slices.Insert(slices.Clone(c.counts), i, n)}
}

// mergeCounters takes the per-address maximum. It returns a when b ≤ a and b
// when a ≤ b.
func mergeCounters(a, b *Counter) *Counter {
	if b.Len() == 0 {
		if a == nil {
			return b
		}
		return a
	}
	if a.Len() == 0 {
		return b
	}
	out := &Counter{addrs: make([]Addr, 0, len(a.addrs)+len(b.addrs)), counts: make([]int64, 0, len(a.addrs)+len(b.addrs))}
	aUp, bUp := false, false
	i, j := 0, 0
	for i < len(a.addrs) || j < len(b.addrs) {
		var c int
		switch {
		case i == len(a.addrs):
			c = 1
		case j == len(b.addrs):
			c = -1
		default:
			c = strings.Compare(string(a.addrs[i]), string(b.addrs[j]))
		}
		switch {
		case c < 0:
			aUp = true
			out.addrs = append(out.addrs, a.addrs[i])
			out.counts = append(out.counts, a.counts[i])
			i++
		case c > 0:
			bUp = true
			out.addrs = append(out.addrs, b.addrs[j])
			out.counts = append(out.counts, b.counts[j])
			j++
		default:
			n := a.counts[i]
			if b.counts[j] > n {
				n = b.counts[j]
				bUp = true
			} else if a.counts[i] > b.counts[j] {
				aUp = true
			}
			out.addrs = append(out.addrs, a.addrs[i])
			out.counts = append(out.counts, n)
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

// leqCounters reports a ≤ b: every count of a is at most b's.
func leqCounters(a, b *Counter) bool {
	for i := 0; i < a.Len(); i++ {
		if a.counts[i] > b.Get(a.addrs[i]) {
			return false
		}
	}
	return true
}

// String renders the counter's value.
func (c *Counter) String() string {
	return Format(lang.TLCount, c)
}
