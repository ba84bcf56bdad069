package analysis

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/bloomlang/bloom/lang"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The JSON Schema validator is a test-only dependency: the analyzer and
// bloomc do not use it.

func compileSchema(t *testing.T, path string) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	url := "file://" + filepath.ToSlash(abs)
	if err := c.AddResource(url, doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, what string, data []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: not JSON: %v", what, err)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("%s does not validate:\n%v", what, err)
	}
}

// allResults lints every case plus a program with compile errors.
func allResults(t *testing.T) []*Result {
	t.Helper()
	var rs []*Result
	for _, f := range programs(t) {
		rs = append(rs, Lint(&lang.Loader{}, f))
	}
	bad := Lint(&lang.Loader{ReadFile: func(string) ([]byte, error) {
		return []byte("table t(x: int);\nt(y) <= t(x);\n"), nil
	}}, "broken.bloom")
	if len(bad.Errors) == 0 {
		t.Fatal("broken.bloom compiled")
	}
	return append(rs, bad)
}

// TestJSONSchema validates the JSON output against docs/lint-schema.json
// and checks that it decodes strictly into the documented types.
func TestLintJSONSchema(t *testing.T) {
	s := compileSchema(t, "../docs/lint-schema.json")
	rs := allResults(t)
	var buf bytes.Buffer
	if err := WriteJSON(&buf, rs, Tool{Name: "bloomc", Version: "test"}); err != nil {
		t.Fatal(err)
	}
	validate(t, s, "bloomc lint --format json", buf.Bytes())
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.DisallowUnknownFields()
	var doc JSONDocument
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.CoordinationFree || len(doc.Programs) != len(rs) {
		t.Fatalf("document: coordinationFree %v, %d programs", doc.CoordinationFree, len(doc.Programs))
	}
	byFile := map[string]*JSONProgram{}
	for _, p := range doc.Programs {
		byFile[p.File] = p
	}
	if p := byFile["broken.bloom"]; p.Verdict != "error" || len(p.Errors) == 0 || p.Errors[0].Location.Line != 2 {
		t.Errorf("broken.bloom: %+v", p)
	}
	p := byFile["testdata/negation_channel.bloom"]
	if p.Verdict != "not-coordination-free" || len(p.Points) != 1 {
		t.Fatalf("negation_channel: %+v", p)
	}
	pt := p.Points[0]
	if pt.Verdict != "point-of-order" || pt.Construct != "negation" || pt.Channel != "ban" || pt.Input != "banned" ||
		pt.Location != (JSONLocation{"testdata/negation_channel.bloom", 10, 25}) || len(pt.Path) != 2 ||
		pt.Path[0].Rule != nil || pt.Path[1].Op != "<=" || pt.Path[1].Rule.Line != 9 {
		t.Errorf("negation_channel point: %+v", pt)
	}
	if p := byFile["testdata/cart_race.bloom"]; len(p.Races) != 1 || len(p.Races[0].Sides) != 2 || !p.Races[0].Sides[0].Transient || p.Races[0].Sides[1].Transient {
		t.Errorf("cart_race: %+v", p.Races)
	}
	// One program alone: coordination-free at the top too.
	buf.Reset()
	WriteJSON(&buf, []*Result{Lint(&lang.Loader{}, "testdata/cart_lattice.bloom")}, Tool{Name: "bloomc", Version: "test"})
	validate(t, s, "cart_lattice json", buf.Bytes())
	if !strings.Contains(buf.String(), `"coordinationFree": true`) {
		t.Error("cart_lattice: not coordination-free in JSON")
	}
}

// TestSARIFSchema validates the SARIF output against the SARIF 2.1.0 JSON
// schema (testdata/sarif, see its README for where the files come from) and
// checks what GitHub code scanning needs from it.
func TestLintSARIFSchema(t *testing.T) {
	rs := allResults(t)
	var buf bytes.Buffer
	wd, _ := os.Getwd()
	if err := WriteSARIF(&buf, rs, SARIFOptions{Tool: Tool{Name: "bloomc", Version: "0.1.0-test"}, BaseDir: wd}); err != nil {
		t.Fatal(err)
	}
	for _, schema := range []string{"testdata/sarif/sarif-schema-2.1.0.json", "testdata/sarif/sarif-2.1.0-rtm.5.json"} {
		validate(t, compileSchema(t, schema), "SARIF against "+schema, buf.Bytes())
	}

	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID                   string `json:"id"`
						DefaultConfiguration struct {
							Level string `json:"level"`
						} `json:"defaultConfiguration"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Message   struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine   int `json:"startLine"`
							StartColumn int `json:"startColumn"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name != "bloomc" {
		t.Fatalf("log header: %+v", log)
	}
	run := log.Runs[0]
	ids := map[string]string{}
	for _, r := range run.Tool.Driver.Rules {
		ids[r.ID] = r.DefaultConfiguration.Level
	}
	for id, level := range map[string]string{RuleCompileError: "error", RulePointOfOrder: "error", RuleRace: "error", RuleAcknowledged: "note"} {
		if ids[id] != level {
			t.Errorf("rule %s: level %q, want %q", id, ids[id], level)
		}
	}
	count := map[string]int{}
	for _, res := range run.Results {
		count[res.RuleID]++
		if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %s has ruleIndex %d", res.RuleID, res.RuleIndex)
		}
		if res.Level != ids[res.RuleID] {
			t.Errorf("result %s has level %s", res.RuleID, res.Level)
		}
		if len(res.Locations) != 1 {
			t.Fatalf("result %s: %d locations", res.RuleID, len(res.Locations))
		}
		loc := res.Locations[0].PhysicalLocation
		if uri := loc.ArtifactLocation.URI; strings.HasPrefix(uri, "/") || strings.Contains(uri, ":") || strings.Contains(uri, "..") {
			t.Errorf("result %s: uri %q is not relative to the repository", res.RuleID, uri)
		}
		if loc.Region.StartLine < 1 || loc.Region.StartColumn < 1 {
			t.Errorf("result %s: region %+v", res.RuleID, loc.Region)
		}
		if res.RuleID != RuleCompileError && res.PartialFingerprints["bloomLint/v1"] == "" {
			t.Errorf("result %s has no fingerprint", res.RuleID)
		}
	}
	// Every unacknowledged point of order and race of the cases, once
	// each (mod_relay's findings are not repeated through module_point).
	var poo, races, ack int
	for _, r := range rs {
		if r.Report == nil {
			continue
		}
		s := r.Report.Summary()
		poo += s.PointsOfOrder
		races += s.Races
		ack += s.Acknowledged
	}
	if count[RulePointOfOrder] != poo || count[RuleRace] != races || count[RuleAcknowledged] != ack || count[RuleCompileError] != 1 {
		t.Errorf("results per rule %v, want %d points of order, %d races, %d acknowledged, 1 compile error", count, poo, races, ack)
	}
	if !strings.Contains(buf.String(), `"uri": "testdata/negation_channel.bloom"`) {
		t.Error("no relative uri for testdata/negation_channel.bloom")
	}
}

func TestLintSARIFURIsAndColumns(t *testing.T) {
	sw := &sarifWriter{opts: SARIFOptions{BaseDir: "/repo", ReadFile: func(string) ([]byte, error) {
		return []byte("x\n// é€𝄞 y\n"), nil
	}}, files: map[string][]string{}}
	for in, want := range map[string]string{
		"/repo/a/b.bloom":    "a/b.bloom",
		"./a/b.bloom":        "a/b.bloom",
		"a dir/b.bloom":      "a%20dir/b.bloom",
		"/elsewhere/b.bloom": "file:///elsewhere/b.bloom",
		"/repo/../x.bloom":   "file:///x.bloom",
	} {
		if got := sw.uri(in); got != want {
			t.Errorf("uri(%q) = %q, want %q", in, got, want)
		}
	}
	// "// é€𝄞 y": é is 2 bytes, € 3, 𝄞 4 (a surrogate pair in UTF-16);
	// y is at byte column 14, UTF-16 column 9.
	if got := sw.column(lang.Pos{File: "f", Line: 2, Col: 14}); got != 9 {
		t.Errorf("UTF-16 column = %d, want 9", got)
	}
	if got := sw.column(lang.Pos{File: "f", Line: 1, Col: 1}); got != 1 {
		t.Errorf("column = %d, want 1", got)
	}
}

// TestLintSARIFLibrary checks findings inside standard library modules:
// an unacknowledged one is reported at the import, an acknowledged one is
// left out.
func TestLintSARIFLibrary(t *testing.T) {
	std := fstest.MapFS{"gate.bloom": {Data: []byte(`module gate;
input   knock(k: string);
table   seen(k: string);
table   opened(k: string);
scratch closed(k: string);
seen(k) <= knock(k);
opened(k) <+ seen(k);
closed(k) <= seen(k), not opened(k);
@coordinated("the gate is a lease")
closed(k) <= opened(k), not seen(k);
`)}}
	root := `channel knock(@to: addr, k: string);
import "std/gate" as g;
g.knock(k) <= knock(_, k);
`
	loader := &lang.Loader{Std: std, ReadFile: func(name string) ([]byte, error) {
		if name == "door.bloom" {
			return []byte(root), nil
		}
		return nil, os.ErrNotExist
	}}
	res := Lint(loader, "door.bloom")
	if len(res.Errors) > 0 {
		t.Fatal(lang.ErrorList(res.Errors).Error())
	}
	if s := res.Report.Summary(); s.PointsOfOrder != 1 || s.Acknowledged != 1 {
		t.Fatalf("summary %+v", s)
	}
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, []*Result{res}, SARIFOptions{ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist }}); err != nil {
		t.Fatal(err)
	}
	validate(t, compileSchema(t, "testdata/sarif/sarif-schema-2.1.0.json"), "library SARIF", buf.Bytes())
	out := buf.String()
	if strings.Count(out, `"ruleId"`) != 1 || !strings.Contains(out, `"ruleId": "BLOOM001"`) {
		t.Errorf("want exactly one BLOOM001 result:\n%s", out)
	}
	if !strings.Contains(out, `"uri": "door.bloom"`) || !strings.Contains(out, `"startLine": 2`) ||
		!strings.Contains(out, "point of order: in std/gate at std/gate.bloom:8:23: negation") {
		t.Errorf("the library point of order is not reported at the import:\n%s", out)
	}
}

// TestLintMarks checks the graph marks derived from a report.
func TestLintMarks(t *testing.T) {
	r := lint(t, "testdata/cart_destructive.bloom")
	m := r.Marks()
	names := func(set map[int]string) string {
		var out []string
		for i := range r.Edges {
			if _, ok := set[i]; ok {
				l := r.Edges[i]
				out = append(out, l.From+">"+l.To)
			}
		}
		return strings.Join(out, " ")
	}
	if got := names(m.PointOfOrder); got != "add_item>cart del_item>cart cart>cart checkout>total cart>total" {
		t.Errorf("point-of-order marks: %s", got)
	}
	if got := names(m.Race); got != "del_item>cart cart>cart checkout>receipt cart>receipt checkout>total cart>total" {
		t.Errorf("race marks: %s", got)
	}
	if len(m.NonMonotone) != 0 {
		t.Errorf("non-monotone marks: %v (every construct here shows in the edge kind)", m.NonMonotone)
	}
	r = lint(t, "testdata/value_channel.bloom")
	m = r.Marks()
	if got := names(m.NonMonotone); got != "hits>report limit>cap" {
		t.Errorf("value(): non-monotone marks %s", got)
	}
	if got := names(m.PointOfOrder); got != "hits>report" {
		t.Errorf("value(): point-of-order marks %s", got)
	}
	r = lint(t, "testdata/acknowledged.bloom")
	if m := r.Marks(); len(m.PointOfOrder) != 0 || len(m.NonMonotone) != 1 {
		t.Errorf("acknowledged: marks %+v", m)
	}
}
