package transport

import (
	"testing"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
)

// testProgram declares a channel of every type the codec knows.
const testProgram = `
channel scalars(@to: addr, i: int, f: float, s: string, b: bool, from: addr, t: time, raw: bytes);
channel lats(@to: addr, hi: lmax<int>, lo: lmin<float>, flag: lbool, seen: lset<string>, votes: lmap<string, lmax<int>>, n: lcounter, p: lpair<lmax<int>, lset<addr>>);
channel nested(@to: addr, m: lmap<int, lset<string>>, ls: lmin<string>);
channel ping(@to: addr, from: addr, seq: int);
channel pong(@to: addr, seq: int);
input put(k: string, v: int);
output got(k: string, v: int);
table kv(k: string, v: int) key(k);
kv(k, v) <+- put(k, v);
got(k, v) <= kv(k, v);
pong(@f, s) <~ ping(_, f, s);
`

func mustPlan(tb testing.TB, src string) *compiler.Plan {
	tb.Helper()
	prog, err := (&lang.Loader{}).LoadSource("test.bloom", []byte(src))
	if err != nil {
		tb.Fatalf("load: %v", err)
	}
	plan, err := compiler.Compile(prog)
	if err != nil {
		tb.Fatalf("compile: %v", err)
	}
	return plan
}
