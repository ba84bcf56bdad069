package compiler

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/bloomlang/bloom/lang"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// loadTestPlan loads and compiles a program from disk (imports resolved
// relative to it; no standard library).
func loadTestPlan(t *testing.T, path string) *Plan {
	t.Helper()
	prog, err := (&lang.Loader{}).Load(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	p, err := Compile(prog)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

// graphPrograms lists the golden programs of testdata/graph.
func graphPrograms(t *testing.T) []string {
	files, err := filepath.Glob("testdata/graph/*.bloom")
	if err != nil || len(files) == 0 {
		t.Fatalf("no programs in testdata/graph: %v", err)
	}
	return files
}

// examplePrograms lists examples/*.bloom that are whole programs the
// compiler package can load: facts files (*.facts.bloom) are skipped, and
// so are programs importing the standard library, which only bloomc has.
func examplePrograms(t *testing.T) []string {
	files, _ := filepath.Glob("../examples/*.bloom")
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, ".facts.bloom") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(src, []byte(`import "std/`)) {
			t.Logf("%s: skipped (imports the standard library)", f)
			continue
		}
		out = append(out, f)
	}
	return out
}

// edgesBetween returns the indexes of Plan.Graph.Edges from one collection
// to another.
func edgesBetween(t *testing.T, p *Plan, from, to string) []int {
	t.Helper()
	var out []int
	for i, e := range p.Graph.Edges {
		if p.Colls[e.From].Name == from && p.Colls[e.To].Name == to {
			out = append(out, i)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no edge %s -> %s", from, to)
	}
	return out
}

// channelMarks is what a CALM analysis could say about channels.bloom.
func channelMarks(t *testing.T, p *Plan) Marks {
	m := Marks{NonMonotone: map[int]string{}, PointOfOrder: map[int]string{}, Race: map[int]string{}}
	for _, i := range edgesBetween(t, p, "ballots", "tally") {
		m.PointOfOrder[i] = "count over ballots, fed by channel ballot"
	}
	for _, i := range edgesBetween(t, p, "tally", "winner") {
		if p.Graph.Edges[i].Kind == Negated {
			m.PointOfOrder[i] = `not tally("veto", _), fed by channel ballot`
		}
	}
	for _, i := range edgesBetween(t, p, "ack", "acked") {
		m.Race[i] = ""
	}
	for _, i := range edgesBetween(t, p, "cast", "ballot") {
		m.NonMonotone[i] = "now() in the rule"
	}
	return m
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./compiler -run Graph -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./compiler -run Graph -update rewrites it)\n--- got\n%s--- want\n%s", path, got, want)
	}
}

var goldenExt = map[string]string{"dot": ".dot", "mermaid": ".mmd", "json": ".json"}

func TestGraphGolden(t *testing.T) {
	for _, path := range graphPrograms(t) {
		base := strings.TrimSuffix(path, ".bloom")
		t.Run(filepath.Base(base), func(t *testing.T) {
			p := loadTestPlan(t, path)
			variants := map[string]Marks{"": {}}
			if filepath.Base(base) == "channels" {
				variants[".marked"] = channelMarks(t, p)
			}
			for suffix, marks := range variants {
				for _, format := range GraphFormats {
					var b bytes.Buffer
					if err := p.Render(&b, format, marks); err != nil {
						t.Fatal(err)
					}
					checkGolden(t, base+suffix+goldenExt[format], b.Bytes())
				}
			}
		})
	}
}

// TestGraphDeterministic compiles and renders each program twice.
func TestGraphDeterministic(t *testing.T) {
	for _, path := range append(graphPrograms(t), examplePrograms(t)...) {
		a, b := loadTestPlan(t, path), loadTestPlan(t, path)
		ja, _ := a.JSON()
		jb, _ := b.JSON()
		if a.Dot() != b.Dot() || a.Mermaid() != b.Mermaid() || !bytes.Equal(ja, jb) {
			t.Errorf("%s: output differs between two runs", path)
		}
	}
}

func TestGraphConvenienceMatchesRender(t *testing.T) {
	p := loadTestPlan(t, "testdata/graph/closure.bloom")
	var d, m, j bytes.Buffer
	p.Render(&d, "dot", Marks{})
	p.Render(&m, "mermaid", Marks{})
	p.Render(&j, "json", Marks{})
	js, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if p.Dot() != d.String() || p.Mermaid() != m.String() || string(js) != j.String() {
		t.Error("Dot/Mermaid/JSON differ from Render with no marks")
	}
	if err := p.Render(&d, "svg", Marks{}); err == nil || !strings.Contains(err.Error(), "unknown graph format") {
		t.Errorf("Render(svg) = %v, want an unknown format error", err)
	}
}

// TestGraphDotSVG renders every example and golden program with Graphviz.
func TestGraphDotSVG(t *testing.T) {
	dot, err := exec.LookPath("dot")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("graphviz is required in CI: `dot` is not on PATH (.ci/run installs it)")
		}
		t.Skip("graphviz `dot` not on PATH")
	}
	programs := append(graphPrograms(t), examplePrograms(t)...)
	for _, path := range programs {
		p := loadTestPlan(t, path)
		srcs := map[string]string{"": p.Dot()}
		if filepath.Base(path) == "channels.bloom" {
			var b bytes.Buffer
			p.Render(&b, "dot", channelMarks(t, p))
			srcs[" (marked)"] = b.String()
		}
		for what, src := range srcs {
			cmd := exec.Command(dot, "-Tsvg")
			cmd.Stdin = strings.NewReader(src)
			var out, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &stderr
			if err := cmd.Run(); err != nil {
				t.Errorf("%s%s: dot -Tsvg: %v\n%s", path, what, err, stderr.String())
				continue
			}
			if !bytes.Contains(out.Bytes(), []byte("<svg")) {
				t.Errorf("%s%s: dot -Tsvg produced no <svg", path, what)
			}
			for _, line := range strings.Split(stderr.String(), "\n") {
				l := strings.ToLower(line)
				if (strings.Contains(l, "warning") || strings.Contains(l, "error")) && !strings.Contains(l, "font") {
					t.Errorf("%s%s: dot says: %s", path, what, line)
				}
			}
		}
	}
}

// TestGraphMermaidStructure checks the Mermaid output of every program
// against the subset of the flowchart syntax the renderer writes.
func TestGraphMermaidStructure(t *testing.T) {
	for _, path := range append(graphPrograms(t), examplePrograms(t)...) {
		p := loadTestPlan(t, path)
		outs := []string{p.Mermaid()}
		if filepath.Base(path) == "channels.bloom" {
			var b bytes.Buffer
			p.Render(&b, "mermaid", channelMarks(t, p))
			outs = append(outs, b.String())
		}
		for _, out := range outs {
			nodes, err := checkMermaid(out)
			if err != nil {
				t.Errorf("%s: %v\n%s", path, err, out)
				continue
			}
			if nodes != len(p.Colls) {
				t.Errorf("%s: %d nodes declared, want one per collection (%d)", path, nodes, len(p.Colls))
			}
		}
	}
}

var (
	mmdID       = `[A-Za-z_][A-Za-z0-9_]*`
	mmdText     = `"(?:[^"<>&]|<br/>)*"`
	mmdSubgraph = regexp.MustCompile(`^subgraph (` + mmdID + `)\[` + mmdText + `\]$`)
	mmdNode     = regexp.MustCompile(`^(` + mmdID + `)(\[|\[\(|\(|\[/|\[\\|>|\(\(|\{\{)(` + mmdText + `)(\]|\)\]|\)|/\]|\\\]|\)\)|\}\})$`)
	mmdEdge     = regexp.MustCompile(`^(` + mmdID + `) (-->|-\.->|==>)(?:\|(` + mmdText + `)\|)? (` + mmdID + `)$`)
	mmdLinkSty  = regexp.MustCompile(`^linkStyle (\d+) ([a-z-]+:[^,;]+)(,[a-z-]+:[^,;]+)*$`)
	mmdEntity   = regexp.MustCompile(`#[a-z0-9]+;`)
	mmdShapes   = map[string]string{"[": "]", "[(": ")]", "(": ")", "[/": "/]", `[\`: `\]`, ">": "]", "((": "))", "{{": "}}"}
	mmdKeywords = []string{"end", "subgraph", "graph", "flowchart", "style", "class", "classDef", "click", "linkStyle", "direction", "default"}
)

// checkMermaid validates out structurally: one flowchart header, balanced
// subgraph/end, unique ids that are not keywords, nodes declared inside
// subgraphs before any edge, edges between declared nodes, linkStyle
// indexes within range, labels quoted with no raw quote or HTML except
// <br/> and only entity codes after '#'. It returns the number of nodes.
func checkMermaid(out string) (int, error) {
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	ids := map[string]string{} // id -> "node" or "subgraph"
	depth, edges, header := 0, 0, false
	checkText := func(s string) error {
		s = strings.ReplaceAll(s, "<br/>", "")
		if strings.Count(mmdEntity.ReplaceAllString(s, ""), "#") > 0 {
			return fmt.Errorf("label %s has a '#' that is not an entity code", s)
		}
		return nil
	}
	declare := func(id, what string) error {
		if slices.Contains(mmdKeywords, id) || slices.Contains(mmdKeywords, strings.ToLower(id)) {
			return fmt.Errorf("id %q is a keyword", id)
		}
		if ids[id] != "" {
			return fmt.Errorf("id %q declared twice", id)
		}
		ids[id] = what
		return nil
	}
	for n, raw := range lines {
		line := strings.TrimSpace(raw)
		fail := func(format string, args ...any) (int, error) {
			return 0, fmt.Errorf("line %d %q: %s", n+1, raw, fmt.Sprintf(format, args...))
		}
		switch {
		case strings.HasPrefix(line, "%%"):
			continue
		case !header:
			if line != "flowchart LR" {
				return fail("want the flowchart LR header first")
			}
			header = true
		case line == "end":
			if depth == 0 {
				return fail("end without subgraph")
			}
			depth--
		case mmdSubgraph.MatchString(line):
			if edges > 0 {
				return fail("subgraph after edges")
			}
			if err := declare(mmdSubgraph.FindStringSubmatch(line)[1], "subgraph"); err != nil {
				return fail("%v", err)
			}
			depth++
		case mmdNode.MatchString(line):
			m := mmdNode.FindStringSubmatch(line)
			if mmdShapes[m[2]] != m[4] {
				return fail("shape %s closed by %s", m[2], m[4])
			}
			if depth == 0 || edges > 0 {
				return fail("node outside a subgraph or after edges")
			}
			if err := declare(m[1], "node"); err != nil {
				return fail("%v", err)
			}
			if err := checkText(m[3]); err != nil {
				return fail("%v", err)
			}
		case mmdEdge.MatchString(line):
			m := mmdEdge.FindStringSubmatch(line)
			if depth != 0 {
				return fail("edge inside a subgraph")
			}
			for _, id := range []string{m[1], m[4]} {
				if ids[id] != "node" {
					return fail("edge endpoint %q is not a declared node", id)
				}
			}
			if err := checkText(m[3]); err != nil {
				return fail("%v", err)
			}
			edges++
		case mmdLinkSty.MatchString(line):
			i, _ := strconv.Atoi(mmdLinkSty.FindStringSubmatch(line)[1])
			if i >= edges {
				return fail("linkStyle %d but only %d edges", i, edges)
			}
		default:
			return fail("not a line the renderer writes")
		}
	}
	if !header {
		return 0, fmt.Errorf("no flowchart header")
	}
	if depth != 0 {
		return 0, fmt.Errorf("%d subgraph(s) not closed", depth)
	}
	nodes := 0
	for _, what := range ids {
		if what == "node" {
			nodes++
		}
	}
	return nodes, nil
}

func TestCheckMermaidRejects(t *testing.T) {
	for _, bad := range []string{
		"flowchart LR\n  subgraph s[\"x\"]\n    c_a[\"a\"]\n",                       // unclosed
		"flowchart LR\n  end\n",                                                     // stray end
		"flowchart LR\n  subgraph s[\"x\"]\n    c_a[\"a\"]\n  end\n  c_a --> c_b\n", // undeclared
		"flowchart LR\n  subgraph s[\"x\"]\n    c_a[\"a\"b\"]\n  end\n",             // raw quote
		"flowchart LR\n  subgraph s[\"x\"]\n    end[\"a\"]\n  end\n",                // keyword id
		"flowchart LR\n  subgraph s[\"x\"]\n    c_a[\"<b>\"]\n  end\n",              // raw html
		"flowchart LR\n  subgraph s[\"x\"]\n    c_a[\"a\"]\n  end\n  linkStyle 0 stroke:red\n",
	} {
		if _, err := checkMermaid(bad); err == nil {
			t.Errorf("checkMermaid accepted\n%s", bad)
		}
	}
}

// TestGraphJSONSchema checks the JSON against the documented field sets and
// the plan it came from.
func TestGraphJSONSchema(t *testing.T) {
	fields := map[string][]string{
		"top":        {"version", "file", "module", "collections", "rules", "edges", "components", "strata"},
		"collection": {"id", "name", "module", "kind", "durable", "transient", "columns", "key", "merge", "facts", "stratum", "component", "recursive", "pos"},
		"column":     {"name", "type", "key", "loc"},
		"rule":       {"index", "pos", "module", "head", "op", "text", "aggregates", "stratum", "recursive", "coordinated"},
		"edge":       {"index", "from", "to", "kind", "op", "rule", "pos", "label", "negated", "aggregates", "temporal", "monotone", "non_monotone", "point_of_order", "race"},
		"component":  {"index", "collections", "recursive", "stratum"},
		"stratum":    {"index", "collections", "components", "recursive"},
	}
	optional := map[string][]string{
		"collection": {"every"},
		"edge":       {"point_of_order_reason", "race_reason"},
	}
	checkKeys := func(what string, obj map[string]any) {
		t.Helper()
		for _, k := range fields[what] {
			if _, ok := obj[k]; !ok {
				t.Errorf("%s lacks %q: %v", what, k, obj)
			}
		}
		for k := range obj {
			if !slices.Contains(fields[what], k) && !slices.Contains(optional[what], k) {
				t.Errorf("%s has undocumented field %q", what, k)
			}
		}
	}
	for _, path := range graphPrograms(t) {
		p := loadTestPlan(t, path)
		marks := Marks{}
		if filepath.Base(path) == "channels.bloom" {
			marks = channelMarks(t, p)
		}
		var b bytes.Buffer
		if err := p.Render(&b, "json", marks); err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		checkKeys("top", doc)
		list := func(v any) []map[string]any {
			var out []map[string]any
			for _, x := range v.([]any) {
				out = append(out, x.(map[string]any))
			}
			return out
		}
		for _, c := range list(doc["collections"]) {
			checkKeys("collection", c)
			for _, col := range list(c["columns"]) {
				checkKeys("column", col)
			}
		}
		for _, r := range list(doc["rules"]) {
			checkKeys("rule", r)
		}
		for _, e := range list(doc["edges"]) {
			checkKeys("edge", e)
		}
		for _, c := range list(doc["components"]) {
			checkKeys("component", c)
		}
		for _, s := range list(doc["strata"]) {
			checkKeys("stratum", s)
		}

		// Typed round trip, and agreement with the plan.
		var g GraphJSON
		if err := json.Unmarshal(b.Bytes(), &g); err != nil {
			t.Fatal(err)
		}
		if len(g.Collections) != len(p.Colls) || len(g.Rules) != len(p.Rules) || len(g.Edges) != len(p.Graph.Edges) || len(g.Components) != len(p.Components) {
			t.Fatalf("%s: JSON sizes differ from the plan", path)
		}
		inStrata := 0
		for _, s := range g.Strata {
			inStrata += len(s.Collections)
			if !sort.StringsAreSorted(s.Collections) {
				t.Errorf("%s: stratum %d collections not sorted", path, s.Index)
			}
			for _, c := range s.Collections {
				if got := p.Graph.Stratum[p.ByName[c].ID]; got != s.Index {
					t.Errorf("%s: %s listed in stratum %d, plan says %d", path, c, s.Index, got)
				}
			}
		}
		if inStrata != len(p.Colls) {
			t.Errorf("%s: strata list %d collections, want %d", path, inStrata, len(p.Colls))
		}
		for i, e := range g.Edges {
			pe := p.Graph.Edges[i]
			if e.Index != i || e.From != p.Colls[pe.From].Name || e.To != p.Colls[pe.To].Name || e.Kind != pe.Kind.String() {
				t.Errorf("%s: edge %d = %+v, plan has %s -> %s %s", path, i, e, p.Colls[pe.From].Name, p.Colls[pe.To].Name, pe.Kind)
			}
			if p.Rules[e.Rule].Info != pe.Rule {
				t.Errorf("%s: edge %d names rule %d, which is not its rule", path, i, e.Rule)
			}
			if pe.Kind.NonMonotone() && e.Monotone {
				t.Errorf("%s: edge %d is %s but monotone", path, i, pe.Kind)
			}
			_, poo := marks.PointOfOrder[i]
			_, race := marks.Race[i]
			_, nm := marks.NonMonotone[i]
			if e.PointOfOrder != poo || e.Race != race || (nm && e.Monotone) {
				t.Errorf("%s: edge %d marks not reflected: %+v", path, i, e)
			}
		}
	}
}

func TestDotEscape(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:        `"plain"`,
		`a"b`:          `"a\"b"`,
		`back\slash`:   `"back\\slash"`,
		`\N \G \l`:     `"\\N \\G \\l"`,
		"two\nlines":   `"two\nlines"`,
		`"\"`:          `"\"\\\""`,
		`lset<string>`: `"lset<string>"`,
	} {
		if got := dotQuote(in); got != want {
			t.Errorf("dotQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestMermaidEscape(t *testing.T) {
	if got, want := mermaidText([]string{`a "b" <c> & #1;`, "x\ny"}), `"a #quot;b#quot; #lt;c#gt; #amp; #35;1;<br/>x y"`; got != want {
		t.Errorf("mermaidText = %s, want %s", got, want)
	}
	ids := mermaidIDs([]*Coll{{ID: 0, Name: "lib.out"}, {ID: 1, Name: "lib_out"}, {ID: 2, Name: "end"}, {ID: 3, Name: "o"}})
	if want := []string{"c_lib_out_0", "c_lib_out_1", "c_end", "c_o"}; !slices.Equal(ids, want) {
		t.Errorf("mermaidIDs = %v, want %v", ids, want)
	}
}
