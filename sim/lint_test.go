package sim

import (
	"testing"

	"github.com/bloomlang/bloom/analysis"
)

// TestLintVerdicts pins the CALM verdicts that the other tests of this
// package observe in practice: the programs that converge under every
// fault are the coordination-free ones, the ones that diverge under
// reordering have points of order, and 2PC's points of order are all
// acknowledged.
func TestLintVerdicts(t *testing.T) {
	cases := []struct {
		path string
		free bool // coordination-free (no unacknowledged point or race)
		ack  bool // has acknowledged points
	}{
		{"../examples/kvs.bloom", true, false},
		{"../examples/chat.bloom", true, false},
		{"../examples/quorum.bloom", true, false},
		{"../examples/two_phase_commit.bloom", true, true},
		{"testdata/cart_monotone.bloom", true, false},
		{"testdata/cart_destructive.bloom", false, false},
		{"testdata/kvs_overwrite.bloom", false, false},
	}
	for _, tc := range cases {
		rep, err := analysis.Analyze(load(t, tc.path))
		if err != nil {
			t.Fatal(err)
		}
		s := rep.Summary()
		if rep.CoordinationFree() != tc.free || (s.Acknowledged > 0) != tc.ack {
			t.Errorf("%s: coordination-free %v, summary %+v; want coordination-free %v, acknowledged points %v",
				tc.path, rep.CoordinationFree(), s, tc.free, tc.ack)
		}
	}
}
