package stdlib

import (
	"testing"

	"github.com/bloomlang/bloom/lang"
)

func BenchmarkAppendKeyTwoInts(b *testing.B) {
	types := []*lang.Type{tInt, tInt}
	vals := []Value{int64(12345), int64(-678)}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendTupleKey(buf[:0], types, vals)
	}
}

func BenchmarkMergeLSet(b *testing.B) {
	typ := tLSet(tInt)
	big := make([]Value, 1000)
	for i := range big {
		big[i] = int64(i * 2)
	}
	a := NewSet(tInt, big...)
	small := intSet(3, 501, 999, 1501)
	sub := intSet(2, 500, 1998)
	b.Run("grow", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = Merge(typ, a, small)
		}
	})
	b.Run("nochange", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if Merge(typ, a, sub) != Value(a) {
				b.Fatal("subset merge should return the set itself")
			}
		}
	})
}
