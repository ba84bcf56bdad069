package lang

import (
	"fmt"
	"strings"
	"testing"
)

// genProgram writes a valid program of about size bytes: a block of
// declarations followed by rules of the shapes real programs use (joins,
// negation, conditions, assignments, aggregates, lattices).
func genProgram(size int) []byte {
	var b strings.Builder
	b.WriteString("module gen;\n")
	n := 0
	for b.Len() < size {
		fmt.Fprintf(&b, "table e%d(a: int, b: int, w: int);\n", n)
		fmt.Fprintf(&b, "table p%d(a: int, b: int) key(a, b);\n", n)
		fmt.Fprintf(&b, "table d%d(a: int, m: lmin<int>) key(a);\n", n)
		fmt.Fprintf(&b, "scratch c%d(a: int, n: int);\n", n)
		fmt.Fprintf(&b, "p%d(x, y) <= e%d(x, y, _);\n", n, n)
		fmt.Fprintf(&b, "p%d(x, z) <= p%d(x, y), e%d(y, z, w), w > 3, z != x;\n", n, n, n)
		fmt.Fprintf(&b, "d%d(y, m + w) <= d%d(x, m), e%d(x, y, w);\n", n, n, n)
		fmt.Fprintf(&b, "c%d(x, count(y)) <= p%d(x, y), not e%d(x, y, _);\n", n, n, n)
		fmt.Fprintf(&b, "e%d(x, y, k) <+ p%d(x, y), k = x * 2 + y %% 7, k <= 100;\n", n, n)
		fmt.Fprintf(&b, "e%d(%d, %d, %d);\n", n, n, n+1, n%13)
		n++
	}
	return []byte(b.String())
}

func benchmarkParse(b *testing.B, size int) {
	src := genProgram(size)
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ParseFile("gen.bloom", src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse1MB(b *testing.B) { benchmarkParse(b, 1<<20) }
func BenchmarkParse4MB(b *testing.B) { benchmarkParse(b, 4<<20) }

func BenchmarkParse256K(b *testing.B) { benchmarkParse(b, 256<<10) }

func benchmarkCheck(b *testing.B, size int) {
	src := genProgram(size)
	if _, err := CheckFile("gen.bloom", src); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := CheckFile("gen.bloom", src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck1MB and 4MB: parse and type-check; the ratio of the two
// shows the cost is linear in the program's size.
func BenchmarkCheck1MB(b *testing.B) { benchmarkCheck(b, 1<<20) }
func BenchmarkCheck4MB(b *testing.B) { benchmarkCheck(b, 4<<20) }
