package runtime

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// A one-column index of a packed relation is a dense array while the
// column's values span a range near the row count and a hash index once
// they do not; lookups give every matching row either way, across
// extensions that widen the range below and above and the switch.
func TestDenseIndex(t *testing.T) {
	cases := []struct {
		name   string
		values func(r *rand.Rand, i int) int64
		sparse bool
	}{
		{"node numbers", func(r *rand.Rand, i int) int64 { return r.Int64N(300) }, false},
		{"increasing", func(r *rand.Rand, i int) int64 { return int64(i / 3) }, false},
		{"decreasing below zero", func(r *rand.Rand, i int) int64 { return int64(-i / 2) }, false},
		{"wide", func(r *rand.Rand, i int) int64 { return r.Int64N(1 << 40) }, true},
		{"extremes", func(r *rand.Rand, i int) int64 {
			return []int64{math.MinInt64, math.MaxInt64, 0, -1}[i%4]
		}, true},
		{"dense then wide", func(r *rand.Rand, i int) int64 {
			if i == 700 {
				return 1 << 50
			}
			return r.Int64N(100)
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := packedNode(t, "table e(x: int, y: int);", false)
			rel := n.rels[n.plan.ByName["e"].ID]
			r := rand.New(rand.NewPCG(1, 2))
			var vals []int64
			check := func() {
				t.Helper()
				probes := append(slices.Clone(vals[max(0, len(vals)-20):]), -5, 301, math.MinInt64, math.MaxInt64)
				for _, v := range probes {
					var got []int64
					rel.eachMatch([]int{0}, []uint64{uint64(v)}, func(row []uint64) bool {
						if int64(row[0]) != v {
							t.Fatalf("probe %d matched row %v", v, row)
						}
						got = append(got, int64(row[1]))
						return true
					})
					var want []int64
					for i, x := range vals {
						if x == v {
							want = append(want, int64(i))
						}
					}
					slices.Sort(got)
					if !slices.Equal(got, want) {
						t.Fatalf("probe %d after %d rows: rows %v, want %v", v, len(vals), got, want)
					}
				}
			}
			// Rows arrive in batches between lookups, so that the index
			// is extended many times.
			for i := 0; i < 1000; i++ {
				v := tc.values(r, i)
				vals = append(vals, v)
				if ok, kv := rel.insertRow([]uint64{uint64(v), uint64(i)}); !ok || kv != nil {
					t.Fatalf("insert %d: %v %v", i, ok, kv)
				}
				if i%97 == 0 || i == 999 {
					check()
				}
			}
			ix := rel.indexRows([]int{0})
			if ix.sparse != tc.sparse {
				t.Errorf("sparse = %v, want %v", ix.sparse, tc.sparse)
			}
			if !ix.sparse && uint64(len(ix.dense)) > denseLimit(rel.rows()) {
				t.Errorf("dense index of %d entries for %d rows", len(ix.dense), rel.rows())
			}
		})
	}
}

// An index that covers more rows than the relation holds (rows went
// without it being dropped) is rebuilt rather than read past the end.
func TestIndexOutlivesRows(t *testing.T) {
	for _, wide := range []bool{false, true} {
		n := packedNode(t, "table e(x: int, y: int);", false)
		rel := n.rels[n.plan.ByName["e"].ID]
		v := func(i int) uint64 {
			if wide {
				return uint64(i%7) << 40
			}
			return uint64(i % 7)
		}
		for i := 0; i < 100; i++ {
			rel.insertRow([]uint64{v(i), uint64(i)})
		}
		count := func() int {
			c := 0
			rel.eachMatch([]int{0}, []uint64{v(3)}, func([]uint64) bool { c++; return true })
			return c
		}
		if got := count(); got != 14 {
			t.Fatalf("wide=%v: %d rows match before, want 14", wide, got)
		}
		rel.store.truncate(50)
		if got := count(); got != 7 {
			t.Fatalf("wide=%v: %d rows match after truncation to 50, want 7", wide, got)
		}
	}
}

// A dense index whose room above its values reaches past the largest
// int64 widens and then gives way to hashing correctly when values at
// the other end arrive.
func TestDenseIndexNearIntLimits(t *testing.T) {
	n := packedNode(t, "table e(x: int, y: int);", false)
	rel := n.rels[n.plan.ByName["e"].ID]
	var vals []int64
	add := func(vs ...int64) {
		for _, v := range vs {
			rel.insertRow([]uint64{uint64(v), uint64(len(vals))})
			vals = append(vals, v)
		}
		for _, p := range vals {
			c, want := 0, 0
			rel.eachMatch([]int{0}, []uint64{uint64(p)}, func([]uint64) bool { c++; return true })
			for _, v := range vals {
				if v == p {
					want++
				}
			}
			if c != want {
				t.Fatalf("after %v: %d rows match %d, want %d", vals, c, p, want)
			}
		}
	}
	top := int64(math.MaxInt64)
	add(top, top-1, top-5)
	add(top - 10) // widened with room above, past the top
	add(top - 12)
	add(math.MinInt64+5, math.MinInt64)
	if ix := rel.indexRows([]int{0}); !ix.sparse {
		t.Errorf("values at both ends of int64 still in a dense index of %d", len(ix.dense))
	}
}
