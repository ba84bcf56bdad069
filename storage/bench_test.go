package storage

import (
	"fmt"
	"testing"
	"time"

	"github.com/bloomlang/bloom/runtime"
)

const benchKVS = `
durable table kv(k: string, v: int) key(k);
input put(k: string, v: int);
input get(k: string);
output got(k: string, v: int);
kv(k, v) <+- put(k, v);
got(k, v) <= get(k), kv(k, v);
`

// BenchmarkDurableWrites measures durable writes per second for a
// KVS-style program (kv(k, v) <+- put(k, v)): one op is one tick, with
// one write or a batch of 1,000, synced to disk (the default) or not, and
// the same ticks in memory only.
func BenchmarkDurableWrites(b *testing.B) {
	for _, mode := range []string{"sync", "nosync", "memory"} {
		for _, perTick := range []int{1, 1000} {
			name := fmt.Sprintf("perTick=%d/%s", perTick, mode)
			b.Run(name, func(b *testing.B) {
				// memory: the same ticks without a store, for comparison.
				o := Options{MinFree: -1, NoSync: mode == "nosync"}
				nn := openNode(b, b.TempDir(), benchKVS, o)
				defer nn.CloseStore()
				n := nn.Node
				if mode == "memory" {
					n = runtime.New(mustPlan(b, benchKVS), runtime.Options{Clock: runtime.NewVirtualClock(time.Unix(1000, 0)), Self: "n1:1"})
				}
				keys := make([]string, 100_000)
				for i := range keys {
					keys[i] = fmt.Sprintf("key-%06d", i)
				}
				i := 0
				b.ResetTimer()
				start := time.Now()
				for range b.N {
					for range perTick {
						n.Enqueue("put", runtime.Tuple{keys[i%len(keys)], int64(i)})
						i++
					}
					if err := n.Tick(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*perTick)/time.Since(start).Seconds(), "writes/s")
			})
		}
	}
}

// BenchmarkTickNoDurableChange measures a tick that reads durable state
// but changes none (a get against 10,000 keys), with the store and
// without: the difference is what durability costs such a tick.
func BenchmarkTickNoDurableChange(b *testing.B) {
	for _, store := range []bool{false, true} {
		b.Run(fmt.Sprintf("store=%v", store), func(b *testing.B) {
			// Both variants open a store, so that badger's memory is on
			// the heap in both and the garbage collector paces alike.
			nn := openNode(b, b.TempDir(), benchKVS, Options{MinFree: -1})
			defer nn.CloseStore()
			n := nn.Node
			if !store {
				n = runtime.New(mustPlan(b, benchKVS), runtime.Options{Clock: runtime.NewVirtualClock(time.Unix(1000, 0)), Self: "n1:1"})
			}
			for i := range 10_000 {
				n.Enqueue("put", runtime.Tuple{fmt.Sprintf("key-%06d", i), int64(i)})
			}
			if err := n.RunBatch(0); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				n.Enqueue("get", runtime.Tuple{fmt.Sprintf("key-%06d", i%10_000), int64(0)}[:1])
				if err := n.Tick(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
