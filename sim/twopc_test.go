package sim

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bloomlang/bloom/stdlib"
)

// Two-phase commit (examples/two_phase_commit.bloom on std/twopc):
// 127.0.0.1:7001 coordinates, 7002 and 7003 participate.

var (
	coord = exampleAddrs[0]
	part2 = exampleAddrs[1]
	part3 = exampleAddrs[2]
)

func startTx(tx int) string {
	return fmt.Sprintf(`start(%d, %q); start(%d, %q);`, tx, part2, tx, part3)
}

func twopcCluster(t *testing.T, net Network) *Cluster {
	return cluster(t, load(t, "../examples/two_phase_commit.bloom"), net, exampleAddrs...)
}

func decisionOf(c *Cluster, tx int) string {
	prefix := fmt.Sprintf("tp.decision(%d, ", tx)
	for _, s := range c.Node(coord).Strings("tp.decision") {
		if strings.HasPrefix(s, prefix) {
			return strings.TrimSuffix(strings.TrimPrefix(s, prefix), ")")
		}
	}
	return ""
}

func learnedAt(c *Cluster, addr stdlib.Addr, tx int) []string {
	prefix := fmt.Sprintf("tp.learned(%d, ", tx)
	var out []string
	for _, s := range c.Node(addr).Strings("tp.learned") {
		if strings.HasPrefix(s, prefix) {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(s, prefix), ")"))
		}
	}
	return out
}

func TestTwoPCCommit(t *testing.T) {
	c := twopcCluster(t, nil)
	must(t, c.Input(coord, startTx(1)))
	_, err := c.Run(func() bool { return len(learnedAt(c, part2, 1)) > 0 && len(learnedAt(c, part3, 1)) > 0 }, 1000)
	must(t, err)
	if d := decisionOf(c, 1); d != "true" {
		t.Fatalf("decision %q, want commit", d)
	}
	for _, p := range []stdlib.Addr{part2, part3} {
		if l := learnedAt(c, p, 1); !slices.Equal(l, []string{"true"}) {
			t.Errorf("%s learned %v", p, l)
		}
	}
	// prepare, vote, decide, outcome: a handful of 1ms hops, no timeout.
	if d := c.Now().Sub(DefaultStart); d > 10*time.Millisecond {
		t.Errorf("commit took %v", d)
	}
	// Published once, and nothing changes later (the timeout does not
	// abort a decided transaction).
	_, err = c.RunFor(2*time.Second, 0)
	must(t, err)
	if pub := c.Node(coord).Published("tp.decided"); !slices.Equal(pub, []string{"tp.decided(1, true)"}) {
		t.Errorf("decided published %v", pub)
	}
	if got := c.Node(coord).Strings("tp.decision"); !slices.Equal(got, []string{"tp.decision(1, true)"}) {
		t.Errorf("decisions %v", got)
	}
}

func TestTwoPCAbortOnNo(t *testing.T) {
	c := twopcCluster(t, nil)
	must(t, c.Input(part3, `refuse(2);`))
	c.InputAfter(5*time.Millisecond, coord, startTx(2))
	_, err := c.Run(func() bool { return len(learnedAt(c, part2, 2)) > 0 && len(learnedAt(c, part3, 2)) > 0 }, 1000)
	must(t, err)
	if d := decisionOf(c, 2); d != "false" {
		t.Fatalf("decision %q, want abort", d)
	}
	for _, p := range []stdlib.Addr{part2, part3} {
		if l := learnedAt(c, p, 2); !slices.Equal(l, []string{"false"}) {
			t.Errorf("%s learned %v", p, l)
		}
	}
	if d := c.Now().Sub(DefaultStart); d > 20*time.Millisecond {
		t.Errorf("abort took %v: it should not wait for the timeout", d)
	}
}

func TestTwoPCAbortOnTimeout(t *testing.T) {
	fn := NewFaultNetwork(nil, 1, Faults{})
	c := twopcCluster(t, fn)
	fn.Partition([]stdlib.Addr{part3})
	must(t, c.Input(coord, startTx(3)))
	_, err := c.Run(func() bool { return decisionOf(c, 3) != "" }, 10000)
	must(t, err)
	if d := decisionOf(c, 3); d != "false" {
		t.Fatalf("decision %q, want abort", d)
	}
	// The coordinator's periodic timer (250ms) aborts once the transaction
	// is 1s old.
	if d := c.Now().Sub(DefaultStart); d < time.Second || d > 1300*time.Millisecond {
		t.Errorf("aborted after %v, want between 1s and 1.3s", d)
	}
	_, err = c.RunFor(100*time.Millisecond, 0)
	must(t, err)
	if l := learnedAt(c, part2, 3); !slices.Equal(l, []string{"false"}) {
		t.Errorf("%s learned %v", part2, l)
	}
	// The cut-off participant never prepared and learns nothing, even
	// after the heal (an undecided transaction is no longer re-asked).
	fn.Heal()
	_, err = c.RunFor(time.Second, 0)
	must(t, err)
	if l := learnedAt(c, part3, 3); len(l) != 0 {
		t.Errorf("%s learned %v", part3, l)
	}
	if got := c.Node(coord).Strings("tp.decision"); !slices.Equal(got, []string{"tp.decision(3, false)"}) {
		t.Errorf("decisions %v", got)
	}
}

// TestTwoPCAgreementUnderFaults: with lossy, duplicating, reordering links
// every transaction is decided once, a refused one aborts, every
// participant that voted learns the decision, and no participant learns
// anything else.
func TestTwoPCAgreementUnderFaults(t *testing.T) {
	commits, seeds := 0, uint64(4)
	for seed := uint64(1); seed <= seeds; seed++ {
		fn := NewFaultNetwork(NewNetwork(NetConfig{Seed: seed, Jitter: 3 * time.Millisecond}), seed,
			Faults{Drop: 0.3, Duplicate: 0.3, Reorder: 0.3, Delay: 10 * time.Millisecond})
		c := twopcCluster(t, fn)
		must(t, c.Input(part2, `refuse(12);`))
		for tx := 10; tx < 14; tx++ {
			c.InputAfter(time.Duration(tx-10)*20*time.Millisecond, coord, startTx(tx))
		}
		_, err := c.RunFor(4*time.Second, 0)
		must(t, err)
		for tx := 10; tx < 14; tx++ {
			d := decisionOf(c, tx)
			if d == "" {
				t.Errorf("seed %d: tx %d undecided", seed, tx)
				continue
			}
			if tx == 12 && d != "false" {
				t.Errorf("seed %d: refused tx 12 decided %s", seed, d)
			}
			if d == "true" {
				commits++
			}
			for _, p := range []stdlib.Addr{part2, part3} {
				// A participant that was asked (and so voted) learns the
				// decision; one whose every prepare was lost before an
				// abort never hears of the transaction. None learns
				// anything else.
				l := learnedAt(c, p, tx)
				asked := slices.Contains(c.Node(p).Strings("tp.asked"), fmt.Sprintf("tp.asked(%q, %d)", coord, tx))
				if len(l) > 1 || len(l) == 1 && l[0] != d || len(l) == 0 && (asked || d == "true") {
					t.Errorf("seed %d: tx %d decided %s but %s (asked: %v) learned %v", seed, tx, d, p, asked, l)
				}
			}
		}
		pub := c.Node(coord).Published("tp.decided")
		if len(pub) != 4 {
			t.Errorf("seed %d: decided published %v, want once per transaction", seed, pub)
		}
	}
	if commits == 0 {
		t.Error("no transaction committed under faults")
	}
	t.Logf("%d of %d transactions without a refusal committed (the others timed out)", commits, 3*seeds)
}
