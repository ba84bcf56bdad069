package runtime

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/bloomlang/bloom/stdlib"
)

// Relations with addr columns are packed, with the node's numbers for
// addresses: they sort by address (not by number), a lookup on an
// address constant finds its rows whichever evaluator runs it, and when
// the node's address table is full the relation is demoted with its
// contents intact.
func TestPackedAddrs(t *testing.T) {
	const src = `
		input add(a: addr, x: int);
		table t(a: addr, x: int);
		table atb(x: int);
		table pairs(a: addr, b: addr);
		t(a, x) <= add(a, x);
		atb(x) <= t("b:2", x);
		pairs(a, b) <= t(a, x), t(b, x), a != b;
	`
	r := rand.New(rand.NewPCG(3, 4))
	addrs := []string{"c:3", "a:1", "b:2", "a:10", "b:2", "z:0", "a:1"}
	for _, noKernel := range []bool{false, true} {
		n := packedNode(t, src, noKernel)
		rel := n.rels[n.plan.ByName["t"].ID]
		if !rel.packed() {
			t.Fatal("t(addr, int) is not packed")
		}
		var want []Tuple
		tick := func(as ...string) {
			t.Helper()
			for _, a := range as {
				tu := Tuple{stdlib.Addr(a), int64(r.IntN(3))}
				if err := n.Enqueue("add", tu); err != nil {
					t.Fatal(err)
				}
				if !slices.ContainsFunc(want, func(w Tuple) bool { return rel.equal(w, tu) }) {
					want = append(want, tu)
				}
			}
			if err := n.Tick(); err != nil {
				t.Fatal(err)
			}
			// The expected order is the boxed one: by address string,
			// then by int.
			ts := slices.Clone(want)
			slices.SortFunc(ts, func(p, q Tuple) int { return compareTuples(rel.coll.Types, p, q) })
			var lines []string
			for _, tu := range ts {
				lines = append(lines, stdlib.FormatTuple("t", rel.coll.Types, tu))
			}
			if got := contents(t, n, "t"); got != strings.Join(lines, " ") {
				t.Fatalf("noKernel=%v: t = %s\nwant %s", noKernel, got, strings.Join(lines, " "))
			}
			// atb holds the ints stored under "b:2".
			var atb []string
			seen := map[int64]bool{}
			for _, tu := range ts {
				if tu[0] == stdlib.Addr("b:2") && !seen[tu[1].(int64)] {
					seen[tu[1].(int64)] = true
					atb = append(atb, fmt.Sprintf("atb(%d)", tu[1]))
				}
			}
			slices.Sort(atb)
			if got := contents(t, n, "atb"); got != strings.Join(atb, " ") {
				t.Fatalf("noKernel=%v: atb = %s, want %s", noKernel, got, strings.Join(atb, " "))
			}
		}
		tick(addrs[:4]...)
		tick(addrs[4:]...)
		if got := contents(t, n, "pairs"); !strings.HasPrefix(got, `pairs("a:1", `) {
			t.Errorf("noKernel=%v: pairs = %s", noKernel, got)
		}
		// A full address table: the next new address demotes t.
		rel.addrs.max = len(rel.addrs.vals)
		tick("new:1", "c:3")
		if rel.packed() {
			t.Errorf("noKernel=%v: t still packed with a full address table", noKernel)
		}
		tick("new:2")
	}
}

// A delivered batch of a packed channel goes in as words, its addresses
// numbered; when the address table fills up in the middle of a batch,
// the rest go in boxed and nothing is lost.
func TestDeliverBatchesPackedAddrs(t *testing.T) {
	n, _ := newTestNode(t, `
		channel ch(@to: addr, from: addr, x: int);
		table got(from: addr, x: int);
		got(f, x) <= ch(_, f, x);
	`)
	ch := n.rels[n.plan.ByName["ch"].ID]
	if !ch.packed() {
		t.Fatal("ch(addr, addr, int) is not packed")
	}
	vals := []stdlib.Value{stdlib.Addr("n1:1"), stdlib.Addr("p:2"), stdlib.Addr("p:1")}
	b := Batch{Coll: "ch", Width: 3, Vals: vals, Words: []uint64{0, 1, 5, 0, 2, 6, 0, 1, 5}}
	if err := n.DeliverBatches([]Batch{b}); err != nil {
		t.Fatal(err)
	}
	if err := n.Tick(); err != nil {
		t.Fatal(err)
	}
	if got, want := contents(t, n, "got"), `got("p:1", 6) got("p:2", 5)`; got != want {
		t.Fatalf("got = %s, want %s", got, want)
	}
	// Room for one more address: "q:1" fits, "q:2" does not.
	ch.addrs.max = len(ch.addrs.vals) + 1
	b = Batch{Coll: "ch", Width: 3, Vals: []stdlib.Value{stdlib.Addr("n1:1"), stdlib.Addr("q:1"), stdlib.Addr("q:2")},
		Words: []uint64{0, 1, 7, 0, 2, 8, 0, 1, 9}}
	if err := n.DeliverBatches([]Batch{b}); err != nil {
		t.Fatal(err)
	}
	if err := n.Tick(); err != nil {
		t.Fatal(err)
	}
	if ch.packed() {
		t.Error("ch still packed with a full address table")
	}
	if got, want := contents(t, n, "got"), `got("p:1", 6) got("p:2", 5) got("q:1", 7) got("q:1", 9) got("q:2", 8)`; got != want {
		t.Fatalf("got = %s, want %s", got, want)
	}
}
