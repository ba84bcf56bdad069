package repl

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
)

func writeTestFile(name, text string) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	return os.WriteFile(name, []byte(text), 0o644)
}

func TestReplSplit(t *testing.T) {
	cases := []struct {
		text   string
		stmts  []string
		rest   string
		tokens bool
		state  scanState
	}{
		{text: "a(1);", stmts: []string{"a(1);"}},
		{text: "  a(1); b(2);  ", stmts: []string{"a(1);", "b(2);"}, rest: ""},
		{text: "a(1); b(2", stmts: []string{"a(1);"}, rest: "b(2", tokens: true},
		{text: `a("x;y");`, stmts: []string{`a("x;y");`}},
		{text: `a("x\";y");`, stmts: []string{`a("x\";y");`}},
		{text: "a(1); // b(2);", stmts: []string{"a(1);"}, rest: "// b(2);"},
		{text: "/* a; */ b(1);", stmts: []string{"/* a; */ b(1);"}},
		{text: "/* a;\n b", rest: "/* a;\n b", state: inBlockComment},
		{text: "// only a comment", rest: "// only a comment"},
		{text: "a(\"open\n);", stmts: []string{"a(\"open\n);"}},
		{text: "t(x) <=\n  u(x);", stmts: []string{"t(x) <=\n  u(x);"}},
	}
	for _, c := range cases {
		ranges, rest, tokens, state := split(c.text)
		var stmts []string
		for _, r := range ranges {
			stmts = append(stmts, c.text[r[0]:r[1]])
		}
		if !slices.Equal(stmts, c.stmts) || c.text[rest:] != c.rest || tokens != c.tokens || state != c.state {
			t.Errorf("split(%q) = %q, rest %q, tokens %v, state %v; want %q, %q, %v, %v",
				c.text, stmts, c.text[rest:], tokens, state, c.stmts, c.rest, c.tokens, c.state)
		}
	}
}

func TestReplCaret(t *testing.T) {
	for _, c := range []struct {
		line string
		col  int
		want string
	}{
		{"abc", 1, "^"},
		{"abc", 3, "  ^"},
		{"\tx(é, y)", 8, "\t     ^"}, // é is two bytes, one column
		{"ab", 5, "    ^"},
	} {
		if got := caret(c.line, c.col); got != c.want {
			t.Errorf("caret(%q, %d) = %q, want %q", c.line, c.col, got, c.want)
		}
	}
}

func newTestSession(t *testing.T, lines ...string) (*Session, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	s := NewSession(Options{Out: &out, Start: testStart})
	for _, l := range lines {
		s.Line(l)
	}
	return s, &out
}

func TestReplComplete(t *testing.T) {
	s, out := newTestSession(t,
		"table link(from: string, to: string);",
		"scratch linked(x: string);",
		"table path(from: string, to: string);",
	)
	if s.Failed() {
		t.Fatal(out)
	}
	cases := []struct {
		line    string
		words   []string
		replace int
	}{
		{":ti", []string{":tick "}, 3},
		{":d", []string{":dump ", ":drop "}, 2}, // in :help order
		{"  :wat", []string{":watch "}, 4},
		{":dump li", []string{"link", "linked"}, 2},
		{":dump ", []string{"link", "linked", "path"}, 0},
		{":watch link x", nil, 0},
		{":help ti", []string{"tick"}, 2},
		{":nosuch a", nil, 0},
		{"scr", []string{"scratch"}, 3},
		{"path(x, y) <= li", []string{"link", "linked"}, 2},
		{"p(x) <= cou", []string{"count"}, 3},
		{"table t(x: lm", []string{"lmap", "lmax", "lmin"}, 2},
		{"p(x) <= ", []string{"link", "linked", "path"}, 0},
	}
	for _, c := range cases {
		words, n := s.Complete(c.line, len(c.line))
		if !slices.Equal(words, c.words) || n != c.replace {
			t.Errorf("Complete(%q) = %q, %d; want %q, %d", c.line, words, n, c.words, c.replace)
		}
	}
	// In the middle of a line, the word before the cursor is completed.
	if words, n := s.Complete(":dump pa and more", 8); !slices.Equal(words, []string{"path"}) || n != 2 {
		t.Errorf("Complete mid-line = %q, %d", words, n)
	}
}

func TestReplCompleteFiles(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, f := range []string{"prog.bloom", "prog.txt", "other.bloom", "sub/lib.bloom"} {
		if err := writeTestFile(f, "table t(x: int);\n"); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := newTestSession(t)
	for _, c := range []struct {
		line  string
		words []string
	}{
		{":load pr", []string{"prog.bloom"}},
		{":load ", []string{"other.bloom", "prog.bloom", "sub/"}},
		{":load sub/", []string{"sub/lib.bloom"}},
		{":graph pr", []string{"prog.bloom", "prog.txt"}},
	} {
		if words, _ := s.Complete(c.line, len(c.line)); !slices.Equal(words, c.words) {
			t.Errorf("Complete(%q) = %q, want %q", c.line, words, c.words)
		}
	}
}

// TestReplReplayMatchesFreshRun checks the invariant the replay design
// gives: after the program changes between ticks, every collection holds
// what a fresh session running the final program on the same inputs holds.
func TestReplReplayMatchesFreshRun(t *testing.T) {
	decls := []string{
		"table kv(k: string, v: int) key(k);",
		"input put(k: string, v: int);",
		"table log(k: string, v: int);",
		"kv(k, v) <+- put(k, v);",
	}
	inputs := [][]string{
		{`put("a", 1);`, `put("b", 2);`},
		{`put("a", 3);`},
		{},
		{`put("c", 4);`, `put("b", 5);`},
	}
	later := []string{ // statements typed after the first ticks
		"log(k, v) <= put(k, v);",
		"table big(k: string);",
		"big(k) <= kv(k, v), v > 2;",
		`kv("z", 0);`,
	}
	live, out := newTestSession(t, decls...)
	for i, in := range inputs {
		for _, l := range in {
			live.Line(l)
		}
		live.Line(":tick")
		if i < len(later) {
			live.Line(later[i])
		}
	}
	fresh, out2 := newTestSession(t, append(slices.Clone(decls), later...)...)
	for _, in := range inputs {
		for _, l := range in {
			fresh.Line(l)
		}
		fresh.Line(":tick")
	}
	if live.Failed() || fresh.Failed() {
		t.Fatalf("failed:\n%s\n%s", out, out2)
	}
	if live.node.TickCount() != fresh.node.TickCount() {
		t.Fatalf("ticks %d and %d", live.node.TickCount(), fresh.node.TickCount())
	}
	for _, c := range fresh.plan.Colls {
		a, _ := live.node.Contents(c.Name)
		b, _ := fresh.node.Contents(c.Name)
		if !sameTuples(c.Types, a, b) {
			t.Errorf("%s: live %s, fresh %s", c.Name, formatTuples(c.Name, c.Types, a), formatTuples(c.Name, c.Types, b))
		}
	}
	for k := range live.hist {
		lh, fh := live.hist[k], fresh.hist[k]
		for _, c := range fresh.plan.Colls {
			if !sameTuples(c.Types, lh.colls[c.Name], fh.colls[c.Name]) {
				t.Errorf("history of %s at tick %d differs", c.Name, lh.tick)
			}
		}
	}
}

func formatTuples(name string, types []*lang.Type, ts []runtime.Tuple) string {
	var parts []string
	for _, t := range ts {
		parts = append(parts, stdlib.FormatTuple(name, types, t))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// TestReplPositionsInMessages checks that positions inside messages are
// mapped back to the input.
func TestReplPositionsInMessages(t *testing.T) {
	s, out := newTestSession(t,
		"",
		"table a(x: int);",
		"",
		"table a(y: int);",
		"table p(x: int); table q(x: int);",
		"p(x) <= q(x), not p(x);",
	)
	if !s.Failed() {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"<stdin>:4:7: error: a is already declared at 2:7\n",
		"<stdin>:6:",
		"line 6",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	t.Log(out)
}

// TestReplGraphFiles writes the graph in each format :graph knows.
func TestReplGraphFiles(t *testing.T) {
	t.Chdir(t.TempDir())
	s, out := newTestSession(t, "table a(x: int);", "table b(x: int);", "b(x) <= a(x);")
	files := map[string]string{"g.dot": "digraph", "g.mmd": "flowchart", "g.json": "{"}
	if _, err := exec.LookPath("dot"); err == nil {
		files["g.svg"] = "<svg"
	} else {
		t.Log("no Graphviz dot: .svg not tested")
	}
	for name, want := range files {
		s.Line(":graph " + name)
		b, err := os.ReadFile(name)
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf(":graph %s: %v; file starts %.40q", name, err, b)
		}
	}
	s.Line(":graph g.txt")
	if !s.Failed() || !strings.Contains(out.String(), "cannot write a graph as .txt") {
		t.Errorf("no error for .txt:\n%s", out)
	}
}
