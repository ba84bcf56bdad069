package runtime

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/bloomlang/bloom/stdlib"
)

// TestDeliverBatches delivers columnar batches with every kind of batch
// column (words and indexed values) and checks what the channel holds
// after the tick, and that malformed batches are refused on their own.
func TestDeliverBatches(t *testing.T) {
	n, _ := newTestNode(t, `
		channel ch(@to: addr, x: int, f: float, ok: bool, at: time, s: string, m: lmax<int>);
		table got(x: int, f: float, ok: bool, at: time, s: string, m: lmax<int>);
		got(x, f, ok, at, s, m) <= ch(_, x, f, ok, at, s, m);
	`)
	vals := []stdlib.Value{stdlib.Addr("n1:1"), "a", int64(9), "b", nil}
	vals2 := slices.Clone(vals)
	good := Batch{Coll: "ch", Width: 7, Vals: vals, Words: []uint64{
		0, uint64(1), math.Float64bits(2.5), 1, 100, 1, 2,
		0, uint64(math.MaxUint64), math.Float64bits(-0.5), 0, uint64(1 << 62), 3, 4,
	}}
	err := n.DeliverBatches([]Batch{
		good,
		{Coll: "nope", Width: 7, Words: make([]uint64, 7)},
		{Coll: "ch", Width: 6, Words: make([]uint64, 6)},
		{Coll: "ch", Width: 7, Words: make([]uint64, 8), Vals: vals},
		{Coll: "ch", Width: 7, Words: []uint64{0, 0, 0, 0, 0, 5, 0}, Vals: vals},
		{Coll: "ch", Width: 7},
	})
	if err == nil || !strings.Contains(err.Error(), "unknown channel nope") {
		t.Errorf("err = %v, want the unknown channel", err)
	}
	for _, b := range []Batch{
		{Coll: "ch", Width: 6, Words: make([]uint64, 6)},
		{Coll: "ch", Width: 7, Words: make([]uint64, 8), Vals: vals},
		{Coll: "ch", Width: 7, Words: []uint64{0, 0, 0, 0, 0, 5, 0}, Vals: vals},
	} {
		if err := n.DeliverBatches([]Batch{b}); err == nil {
			t.Errorf("batch %+v accepted", b)
		}
	}
	// The caller may reuse the batches' memory at once.
	clear(good.Words)
	vals[1], vals[3] = "x", "x"
	if !n.HasWork() {
		t.Fatal("no work after a delivery")
	}
	if err := n.Tick(); err != nil {
		t.Fatal(err)
	}
	want := `got(-1, -0.5, false, 4611686018427387904, "b", bottom) got(1, 2.5, true, 100, "a", 9)`
	if got := contents(t, n, "got"); got != want {
		t.Errorf("got = %s\nwant  %s", got, want)
	}
	// The next tick's arrivals go into the buffer this tick consumed.
	if n.HasWork() {
		t.Error("work left after the tick")
	}
	next := Batch{Coll: "ch", Width: 7, Vals: vals2, Words: []uint64{0, 6, 0, 0, 0, 1, 4}}
	if err := n.DeliverBatches([]Batch{next}); err != nil {
		t.Fatal(err)
	}
	if err := n.Tick(); err != nil {
		t.Fatal(err)
	}
	if got := contents(t, n, "got"); !strings.HasPrefix(got, `got(-1, `) || !strings.HasSuffix(got, `got(6, 0.0, false, 0, "a", bottom)`) {
		t.Errorf("after a second delivery got = %s", got)
	}
}

// TestBatchAppendMessages boxes a batch as messages: To is the address
// column of a channel, and each tuple has its own columns.
func TestBatchAppendMessages(t *testing.T) {
	n, _ := newTestNode(t, `channel ch(@to: addr, x: int, s: string);`)
	types := n.Plan().ByName["ch"].Types
	b := Batch{Coll: "ch", Width: 3, Vals: []stdlib.Value{stdlib.Addr("n:1"), "p", "q"},
		Words: []uint64{0, 5, 1, 0, uint64(1<<64 - 7), 2}}
	msgs := b.AppendMessages([]Message{{Coll: "x"}}, types, true)
	if len(msgs) != 3 {
		t.Fatalf("%d messages", len(msgs))
	}
	for i, want := range []string{`ch("n:1", 5, "p")`, `ch("n:1", -7, "q")`} {
		m := msgs[i+1]
		if m.To != "n:1" || m.Coll != "ch" || stdlib.FormatTuple("ch", types, m.Tuple) != want {
			t.Errorf("message %d = %+v, want %s to n:1", i, m, want)
		}
	}
	msgs[1].Tuple[1] = int64(0)
	if msgs[2].Tuple[1] != int64(-7) {
		t.Error("tuples share columns")
	}
	if got := b.AppendMessages(nil, types, false); got[0].To != "" {
		t.Errorf("To = %q for a non-channel", got[0].To)
	}
}

// TestDeliverBatchesBurst checks that the words of a burst of deliveries
// are not kept for the ticks after it, and those of a usual tick are.
func TestDeliverBatchesBurst(t *testing.T) {
	n, _ := newTestNode(t, `channel ch(@to: addr, x: int);`)
	deliver := func(rows int) {
		b := Batch{Coll: "ch", Width: 2, Vals: []stdlib.Value{stdlib.Addr("n:1")}, Words: make([]uint64, 2*rows)}
		for i := range rows {
			b.Words[2*i+1] = uint64(i)
		}
		if err := n.DeliverBatches([]Batch{b}); err != nil {
			t.Fatal(err)
		}
		if err := n.Tick(); err != nil {
			t.Fatal(err)
		}
		if got, _ := n.Count("ch"); got != rows {
			t.Fatalf("%d tuples in ch, want %d", got, rows)
		}
	}
	deliver(maxSpareWords/2 + 1)
	if cap(n.spareBatchWords) != 0 {
		t.Errorf("%d words kept after a burst", cap(n.spareBatchWords))
	}
	deliver(10)
	if cap(n.spareBatchWords) < 20 {
		t.Errorf("%d words kept after a usual tick", cap(n.spareBatchWords))
	}
}
