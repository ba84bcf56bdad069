package storage

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
)

// testOptions keep badger small: tests open many stores on a shared
// machine.
func testOptions() Options {
	return Options{MemTableSize: 4 << 20, MinFree: -1, NoSync: true}
}

func mustPlan(tb testing.TB, src string) *compiler.Plan {
	tb.Helper()
	prog, err := (&lang.Loader{}).LoadSource("test.bloom", []byte(src))
	if err != nil {
		tb.Fatal(err)
	}
	plan, err := compiler.Compile(prog)
	if err != nil {
		tb.Fatal(err)
	}
	return plan
}

// node is a test node on a data directory.
type node struct {
	*runtime.Node
	st   *Store
	info *runtime.RestoreInfo
}

func openNode(tb testing.TB, dir, src string, o Options) *node {
	tb.Helper()
	n, err := tryOpenNode(dir, src, o)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func tryOpenNode(dir, src string, o Options) (*node, error) {
	prog, err := (&lang.Loader{}).LoadSource("test.bloom", []byte(src))
	if err != nil {
		return nil, err
	}
	plan, err := compiler.Compile(prog)
	if err != nil {
		return nil, err
	}
	st, err := Open(dir, o)
	if err != nil {
		return nil, err
	}
	n := runtime.New(plan, runtime.Options{Clock: runtime.NewVirtualClock(time.Unix(1000, 0)), Self: "n1:1"})
	info, err := n.UseStore(st)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &node{Node: n, st: st, info: info}, nil
}

// crash drops the node without recording anything more: the store is
// closed (badger's lock must be released to reopen it in-process) but,
// unlike CloseStore, the tick counter of ticks without durable changes is
// not written.
func (n *node) crash(tb testing.TB) {
	tb.Helper()
	if err := n.st.Close(); err != nil {
		tb.Fatal(err)
	}
}

func (n *node) put(tb testing.TB, coll string, vals ...stdlib.Value) {
	tb.Helper()
	if err := n.Enqueue(coll, runtime.Tuple(vals)); err != nil {
		tb.Fatal(err)
	}
}

func (n *node) tick(tb testing.TB) {
	tb.Helper()
	if err := n.Tick(); err != nil {
		tb.Fatal(err)
	}
}

func (n *node) run(tb testing.TB) {
	tb.Helper()
	if err := n.RunBatch(0); err != nil {
		tb.Fatal(err)
	}
}

func (n *node) show(tb testing.TB, rel string) string {
	tb.Helper()
	ts, err := n.Contents(rel)
	if err != nil {
		tb.Fatal(err)
	}
	c := n.Plan().ByName[rel]
	var lines []string
	for _, t := range ts {
		lines = append(lines, stdlib.FormatTuple(rel, c.Types, t))
	}
	return strings.Join(lines, " ")
}

const kvsProgram = `
durable table kv(k: string, v: int) key(k);
durable table log(seq: int, k: string);
durable lattice hi: lmax<int>;
durable lattice later: lset<string>;
durable table next(k: string);
table mem(k: string);
scratch seen(k: string);
input put(k: string, v: int);
input del(k: string);
kv(k, v) <+- put(k, v);
kv(k, v) <- del(k), kv(k, v);
log(v, k) <= put(k, v);
hi(v) <= put(_, v);
later({k}) <+ put(k, _);
next(k) <+ put(k, _);
mem(k) <= put(k, _);
seen(k) <= put(k, _);
kv("fact", 0);
`

// Restart restores durable collections, pending <+- and <- changes, the
// tick counter and lattices; non-durable collections start empty; facts
// are not inserted again (a deleted fact stays deleted).
func TestRestartSemantics(t *testing.T) {
	dir := t.TempDir()
	n := openNode(t, dir, kvsProgram, testOptions())
	n.put(t, "put", "a", int64(1))
	n.put(t, "put", "b", int64(2))
	n.tick(t) // tick 1: facts, log, hi; kv upserts pending
	if got := n.show(t, "kv"); got != `kv("fact", 0)` {
		t.Fatalf("kv after tick 1: %s", got)
	}
	n.crash(t)

	n = openNode(t, dir, kvsProgram, testOptions())
	if n.TickCount() != 1 || !n.info.FactsDone || n.info.Pending != 6 {
		t.Fatalf("restored tick %d, facts %v, %d pending", n.TickCount(), n.info.FactsDone, n.info.Pending)
	}
	if got := n.show(t, "mem") + n.show(t, "seen"); got != "" {
		t.Fatalf("non-durable state restored: %s", got)
	}
	if got := n.show(t, "hi"); got != "hi(2)" {
		t.Fatalf("hi: %s", got)
	}
	if !n.HasWork() {
		t.Fatal("restored pending changes give no work")
	}
	n.put(t, "del", "fact")
	n.tick(t) // tick 2: pending applied; delete of the fact pending
	if got := n.show(t, "kv"); got != `kv("a", 1) kv("b", 2) kv("fact", 0)` {
		t.Fatalf("kv after tick 2: %s", got)
	}
	if got := n.show(t, "next") + " " + n.show(t, "later"); got != `next("a") next("b") later({"a", "b"})` {
		t.Fatalf("<+ after restart: %s", got)
	}
	n.crash(t)

	n = openNode(t, dir, kvsProgram, testOptions())
	if n.TickCount() != 2 || n.info.Pending != 1 {
		t.Fatalf("restored tick %d, %d pending", n.TickCount(), n.info.Pending)
	}
	n.run(t) // tick 3 applies the delete; the fact is not inserted again
	if got := n.show(t, "kv"); got != `kv("a", 1) kv("b", 2)` {
		t.Fatalf("kv after tick 3: %s", got)
	}
	// Ticks without durable changes do not commit; CloseStore records
	// the counter, a crash does not.
	n.put(t, "put", "a", int64(1)) // same value: log(1, "a") exists, upsert is a no-op
	n.tick(t)
	if n.TickCount() != 4 {
		t.Fatalf("tick %d", n.TickCount())
	}
	n.crash(t)
	n = openNode(t, dir, kvsProgram, testOptions())
	if n.TickCount() != 3 {
		t.Fatalf("after a crash, tick %d, want 3 (tick 4 changed nothing durable)", n.TickCount())
	}
	n.put(t, "put", "a", int64(1))
	n.tick(t)
	n.tick(t)
	if err := n.CloseStore(); err != nil {
		t.Fatal(err)
	}
	n = openNode(t, dir, kvsProgram, testOptions())
	if n.TickCount() != 5 {
		t.Fatalf("after CloseStore, tick %d, want 5", n.TickCount())
	}
	n.run(t)
	if got := n.show(t, "kv") + " " + n.show(t, "log") + " " + n.show(t, "hi"); got != `kv("a", 1) kv("b", 2) log(1, "a") log(2, "b") hi(2)` {
		t.Fatalf("final: %s", got)
	}
	n.CloseStore()
}

const allTypesProgram = `
durable table vals(i: int, f: float, s: string, b: bool, a: addr, t: time, by: bytes) key(i);
durable table lats(k: int, mx: lmax<int>, mn: lmin<string>, lb: lbool, st: lset<float>, mp: lmap<string, lmax<int>>, c: lcounter, p: lpair<lmax<int>, lset<string>>) key(k);
durable lattice big: lmap<addr, lset<int>>;
durable table whole(a: int, s: lset<int>);
input go(n: int);
vals(1, 2.5, "tab\tquote\"é", true, "h:1", t, "\x00\xff") <= go(n), t = now();
vals(2, -0.0, "", false, "", t, "") <= go(n), t = now();
lats(1, 5, "z", true, {1.5, -2.0}, {"a": 1, "b": 2}, 3, (1, {"x"})) <= go(_);
lats(1, 7, "b", false, {3.0}, {"a": 4}, 2, (1, {"y"})) <= go(_);
lats(2, 1, "a", false, {}, {}, 0, (0, {})) <= go(n), n > 1;
big({"n:1": {1, 2}}) <= go(_);
big({"n:2": {3}}) <= go(_);
whole(1, {1, 2}) <= go(_);
whole(1, {3}) <= go(_);
`

// Every value type survives a restart exactly, lattices merged as they
// were; Contents (bloomc data dump) reads them back without the program.
func TestAllTypesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	n := openNode(t, dir, allTypesProgram, testOptions())
	n.put(t, "go", int64(1))
	n.tick(t)
	want := map[string]string{}
	for _, rel := range []string{"vals", "lats", "big", "whole"} {
		want[rel] = n.show(t, rel)
		if want[rel] == "" {
			t.Fatalf("%s empty", rel)
		}
	}
	n.crash(t)
	n = openNode(t, dir, allTypesProgram, testOptions())
	for rel, w := range want {
		if got := n.show(t, rel); got != w {
			t.Fatalf("%s restored as\n  %s\nwant\n  %s", rel, got, w)
		}
	}
	// The lattices keep merging after the restart.
	n.put(t, "go", int64(2))
	n.tick(t)
	if got := n.show(t, "lats"); !strings.Contains(got, `{"x", "y"}`) || !strings.Contains(got, "lats(1, 7, ") || !strings.Contains(got, "lats(2, ") {
		t.Fatalf("lats after merge: %s", got)
	}
	n.crash(t)

	st, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.Contents()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, col := range c.Colls {
		names = append(names, col.Name)
	}
	if strings.Join(names, " ") != "big lats vals whole" || c.Tick != 2 || !c.FactsDone {
		t.Fatalf("contents: %v tick %d facts %v", names, c.Tick, c.FactsDone)
	}
	for _, col := range c.Colls {
		var lines []string
		for _, tu := range col.Tuples {
			lines = append(lines, stdlib.FormatTuple(col.Name, col.Types, tu))
		}
		if col.Name == "vals" && strings.Join(lines, " ") != want["vals"] {
			t.Fatalf("dump of vals: %s", strings.Join(lines, " "))
		}
	}
	if err := st.Commit(&runtime.TickCommit{}); err == nil {
		t.Fatal("Commit on a read-only store succeeded")
	}
}

func TestSchemaChanges(t *testing.T) {
	base := `
durable table kv(k: string, v: int) key(k);
durable table gone(x: int);
durable lattice hi: lmax<int>;
input put(k: string, v: int);
kv(k, v) <= put(k, v);
hi(v) <= put(_, v);
`
	dir := t.TempDir()
	n := openNode(t, dir, base, testOptions())
	n.put(t, "put", "a", int64(1))
	n.tick(t)
	n.CloseStore()

	cases := []struct {
		name, src, want string
	}{
		{"type", strings.Replace(strings.Replace(base, "v: int) key", "v: string) key", 1), "kv(k, v) <= put(k, v);", `kv(k, "x") <= put(k, _);`, 1),
			"durable table kv: column 2 (v) changed type from int to string"},
		{"key", strings.Replace(base, "key(k)", "key(k, v)", 1),
			"durable table kv: its key changed from (k) to (k, v)"},
		{"columns", strings.Replace(strings.Replace(base, "v: int) key(k)", "v: int, w: int) key(k)", 1), "kv(k, v) <= put(k, v);", "kv(k, v, 0) <= put(k, v);", 1),
			"durable table kv: its columns changed from (k: string, v: int) to (k: string, v: int, w: int)"},
		{"lattice", strings.Replace(base, "hi: lmax<int>", "hi: lmin<int>", 1),
			"durable lattice hi: column 1 (value) changed type from lmax<int> to lmin<int>"},
		{"removed", strings.Replace(base, "durable table kv(k: string, v: int) key(k);", "", 1),
			"durable table kv: the store holds 1 tuple of it, but the program no longer declares it"},
		{"not durable", strings.Replace(base, "durable table kv", "table kv", 1),
			"durable table kv: the store holds 1 tuple of it, but the program declares it without durable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.src
			if tc.name == "removed" {
				src = strings.Replace(src, "kv(k, v) <= put(k, v);", "", 1)
			}
			_, err := tryOpenNode(dir, src, testOptions())
			var se *SchemaError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), dir) {
				t.Fatalf("error does not name the directory: %v", err)
			}
		})
	}

	// Compatible: a new durable collection, a renamed column, and the
	// removal of a collection that holds no data.
	compat := strings.Replace(base, "durable table gone(x: int);", "durable table extra(x: int);", 1)
	compat = strings.Replace(compat, "v: int) key(k)", "value: int) key(k)", 1)
	n = openNode(t, dir, compat, testOptions())
	if got := n.show(t, "kv"); got != `kv("a", 1)` {
		t.Fatalf("kv: %s", got)
	}
	n.CloseStore()
	// The schema now records the new collection, and no longer the
	// removed one: declaring gone(x: string) is a new collection.
	n = openNode(t, dir, strings.Replace(compat, "durable table extra(x: int);", "durable table extra(x: int); durable table gone(x: string);", 1), testOptions())
	n.CloseStore()
	// A collection that holds nothing may change in any way.
	n = openNode(t, dir, strings.Replace(compat, "extra(x: int)", "extra(x: float)", 1), testOptions())
	n.CloseStore()

	// The message names the directory, the collection and the change.
	_, err := tryOpenNode(dir, cases[0].src, testOptions())
	t.Logf("schema error:\n%v", err)
}

func TestOpenErrors(t *testing.T) {
	src := `durable table kv(k: string, v: int) key(k); input put(k: string, v: int); kv(k, v) <= put(k, v);`
	t.Run("locked", func(t *testing.T) {
		dir := t.TempDir()
		n := openNode(t, dir, src, testOptions())
		defer n.CloseStore()
		_, err := Open(dir, testOptions())
		if err == nil || !strings.Contains(err.Error(), "in use by another process") {
			t.Fatalf("second open: %v", err)
		}
	})
	t.Run("not a data directory", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)
		_, err := Open(dir, testOptions())
		if err == nil || !strings.Contains(err.Error(), "not a bloom data directory") {
			t.Fatalf("open: %v", err)
		}
	})
	t.Run("a file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "f")
		os.WriteFile(f, []byte("x"), 0o644)
		if _, err := Open(f, testOptions()); err == nil {
			t.Fatal("opened a file")
		}
	})
	t.Run("corrupt manifest", func(t *testing.T) {
		dir := t.TempDir()
		n := openNode(t, dir, src, testOptions())
		n.put(t, "put", "a", int64(1))
		n.tick(t)
		n.CloseStore()
		if err := os.WriteFile(filepath.Join(dir, "MANIFEST"), []byte("garbage garbage garbage"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Open(dir, testOptions())
		if err == nil || !strings.Contains(err.Error(), "damaged") {
			t.Fatalf("open: %v", err)
		}
	})
	t.Run("corrupt value", func(t *testing.T) {
		dir := t.TempDir()
		n := openNode(t, dir, src, testOptions())
		n.put(t, "put", "a", int64(1))
		n.tick(t)
		n.CloseStore()
		st, err := Open(dir, testOptions())
		if err != nil {
			t.Fatal(err)
		}
		key, _ := appendDataKey(nil, "kv", []*lang.Type{lang.TString, lang.TInt}, []int{0}, runtime.Tuple{"a", int64(1)})
		st.update(func(txn *badger.Txn) error { return txn.Set(key, []byte{1, 'a', 0, 0}) })
		st.Close()
		_, err = tryOpenNode(dir, src, testOptions())
		if err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "kv") {
			t.Fatalf("open: %v", err)
		}
	})
	t.Run("permission denied", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root ignores permissions")
		}
		dir := t.TempDir()
		os.Chmod(dir, 0o500)
		defer os.Chmod(dir, 0o700)
		_, err := Open(filepath.Join(dir, "data"), testOptions())
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("open: %v", err)
		}
	})
}

// A tick whose changes exceed one badger transaction fails clearly, and
// is not split: nothing of it is stored.
func TestTxnTooBig(t *testing.T) {
	dir := t.TempDir()
	src := `durable table kv(k: int, v: string) key(k); input put(k: int, v: string); kv(k, v) <= put(k, v);`
	o := testOptions()
	o.MemTableSize = 1 << 20 // transactions up to ~150 KiB
	n := openNode(t, dir, src, o)
	n.put(t, "put", int64(-1), "first")
	n.tick(t)
	for i := range 5000 {
		n.put(t, "put", int64(i), strings.Repeat("x", 100))
	}
	err := n.Tick()
	var tb *TxnTooBigError
	if !errors.As(err, &tb) || !strings.Contains(err.Error(), "nothing was committed") {
		t.Fatalf("tick: %v", err)
	}
	t.Log(err)
	if n.Halted() == nil {
		t.Fatal("not halted")
	}
	n.CloseStore()
	n = openNode(t, dir, src, o)
	defer n.CloseStore()
	if got := n.show(t, "kv"); got != `kv(-1, "first")` || n.TickCount() != 1 {
		t.Fatalf("after the failed tick: %s, tick %d", got, n.TickCount())
	}
}
