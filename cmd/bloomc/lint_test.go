package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lintRun runs `bloomc lint ARGS...` in process.
func lintRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(append([]string{"lint"}, args...), &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb})
	return code, out.String(), errb.String()
}

// lintFiles writes programs into a temporary directory.
func lintFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	lintFree = `channel add_item(@server: addr, session: string, item: string);
channel checkout(@server: addr, client: addr, session: string, n: int);
channel receipt(@client: addr, session: string, items: lset<string>);
table   cart(session: string, items: lset<string>) key(session);
table   pending(client: addr, session: string, n: int);

cart(s, set(i)) <= add_item(_, s, i);
pending(c, s, n) <= checkout(_, c, s, n);
receipt(@c, s, items) <~ pending(c, s, n), cart(s, items), size(items) >= n;
`
	lintPoint = `channel ban(@server: addr, user: string);
input   login(user: string);
table   banned(user: string);
output  welcome(user: string);

banned(u) <= ban(_, u);
welcome(u) <= login(u), not banned(u);
`
	lintRace = `channel put(@server: addr, key: string, val: int);
channel get(@server: addr, client: addr, key: string);
channel reply(@client: addr, key: string, val: int);
table   store(key: string, val: int);

store(k, v) <= put(_, k, v);
reply(@c, k, v) <~ get(_, c, k), store(k, v);
`
	lintAck = `channel vote(@coord: addr, voter: addr, round: int);
table   votes(round: int, voter: addr);
scratch tally(round: int, n: int);

votes(r, v) <= vote(_, v, r);
@coordinated("rounds are closed by two-phase commit")
tally(r, count(v)) <= votes(r, v);
`
	lintBroken = `table t(x: int);
t(y) <= t(x);
`
)

func TestLintExitCodes(t *testing.T) {
	dir := lintFiles(t, map[string]string{
		"free.bloom": lintFree, "point.bloom": lintPoint, "race.bloom": lintRace,
		"ack.bloom": lintAck, "broken.bloom": lintBroken,
	})
	p := func(name string) string { return filepath.Join(dir, name) }
	for _, c := range []struct {
		name   string
		args   []string
		code   int
		stdout []string // substrings
		stderr []string
	}{
		{"coordination-free", []string{p("free.bloom")}, 0, []string{"free.bloom: coordination-free\n"}, nil},
		{"point of order", []string{p("point.bloom")}, 3,
			[]string{p("point.bloom") + ":7:25: point of order: negation `not banned(u)` reads banned, which depends on channel ban\n",
				"    path: ban -> banned (6:1 <=) -> [not banned(u)]\n", "    remedy: ", "std/twopc",
				p("point.bloom") + ": not coordination-free: 1 point of order\n"}, nil},
		{"race", []string{p("race.bloom")}, 3,
			[]string{p("race.bloom") + ":7:20: race: ", "pending_get(c, k) <= get(_, c, k);", "not coordination-free: 1 race"}, nil},
		{"acknowledged", []string{p("ack.bloom")}, 0,
			[]string{`acknowledged point of order (@coordinated "rounds are closed by two-phase commit")`, "coordination-free (1 acknowledged)"}, nil},
		{"compile error", []string{p("broken.bloom")}, 1, nil, []string{p("broken.bloom") + ":2:3: "}},
		{"missing file", []string{p("nope.bloom")}, 1, nil, []string{"nope.bloom"}},
		{"worst of several", []string{p("free.bloom"), p("point.bloom"), p("ack.bloom")}, 3,
			[]string{"free.bloom: coordination-free\n", "point.bloom: not coordination-free"}, nil},
		{"errors win", []string{p("point.bloom"), p("broken.bloom")}, 1, []string{"point.bloom: not coordination-free"}, nil},
		{"flags after the file", []string{p("free.bloom"), "--format", "json"}, 0, []string{`"format": "bloom-lint"`}, nil},
		{"verbose", []string{"-v", p("point.bloom")}, 3, []string{"edges:\n", "    not banned -> welcome (7:1 <=, negated): point-of-order [negation]\n"}, nil},
		{"no files", nil, 2, nil, []string{"no files given"}},
		{"bad format", []string{"--format", "xml", p("free.bloom")}, 2, nil, []string{`unknown --format "xml"`}},
		{"help", []string{"--help"}, 0, nil, []string{"Usage: bloomc lint", "Exit status: 0 coordination-free, 3"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := lintRun(t, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, stdout, stderr)
			}
			for _, s := range c.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range c.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}

func TestLintJSONAndSARIF(t *testing.T) {
	dir := lintFiles(t, map[string]string{"point.bloom": lintPoint, "free.bloom": lintFree, "broken.bloom": lintBroken})
	code, stdout, _ := lintRun(t, "--format", "json", filepath.Join(dir, "point.bloom"), filepath.Join(dir, "free.bloom"))
	if code != 3 {
		t.Errorf("json: exit %d, want 3", code)
	}
	var doc struct {
		Format           string `json:"format"`
		Version          int    `json:"version"`
		CoordinationFree bool   `json:"coordinationFree"`
		Programs         []struct {
			Verdict string `json:"verdict"`
			Points  []struct {
				Verdict, Construct, Channel string
			} `json:"points"`
		} `json:"programs"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("json: %v\n%s", err, stdout)
	}
	if doc.Format != "bloom-lint" || doc.Version != 1 || doc.CoordinationFree || len(doc.Programs) != 2 ||
		doc.Programs[0].Verdict != "not-coordination-free" || doc.Programs[1].Verdict != "coordination-free" ||
		len(doc.Programs[0].Points) != 1 || doc.Programs[0].Points[0].Construct != "negation" || doc.Programs[0].Points[0].Channel != "ban" {
		t.Errorf("json document: %+v", doc)
	}

	// SARIF from inside the directory: relative URIs.
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	code, stdout, stderr := lintRun(t, "--format", "sarif", filepath.Join(dir, "point.bloom"), "broken.bloom")
	if code != 1 || !strings.Contains(stderr, "broken.bloom:2:3:") {
		t.Errorf("sarif: exit %d, want 1; stderr %s", code, stderr)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string } `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(stdout), &log); err != nil {
		t.Fatalf("sarif: %v\n%s", err, stdout)
	}
	got := map[string]string{}
	for _, r := range log.Runs[0].Results {
		got[r.RuleID] = r.Locations[0].PhysicalLocation.ArtifactLocation.URI
	}
	if log.Version != "2.1.0" || got["BLOOM001"] != "point.bloom" || got["BLOOM000"] != "broken.bloom" {
		t.Errorf("sarif results: %v", got)
	}
}

// TestLintExamples checks the lint verdict that every example states in
// its header comment: the paragraph that starts with "// Lint verdict:"
// says "not coordination-free" (exit 3), or "coordination-free" or
// "`bloomc lint` passes" (exit 0).
func TestLintExamples(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*.bloom")
	n := 0
	for _, path := range files {
		if strings.HasSuffix(path, ".facts.bloom") {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		verdict := ""
		in := false
		for _, line := range strings.Split(string(src), "\n") {
			if rest, ok := strings.CutPrefix(line, "// Lint verdict:"); ok {
				verdict, in = strings.TrimSpace(rest), true
				continue
			}
			rest, ok := strings.CutPrefix(line, "// ")
			if !in || !ok || strings.TrimSpace(rest) == "" {
				if in {
					break
				}
				continue
			}
			verdict += " " + strings.TrimSpace(rest)
		}
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			want := -1
			switch {
			case strings.Contains(verdict, "not coordination-free"):
				want = 3
			case strings.Contains(verdict, "coordination-free"), strings.Contains(verdict, "lint` passes"):
				want = 0
			default:
				t.Fatalf("%s: the header comment has no `// Lint verdict: coordination-free` (or `not coordination-free`) paragraph", path)
			}
			code, stdout, stderr := lintRun(t, path)
			if code != want {
				t.Errorf("%s states %q but bloomc lint exits %d:\n%s%s", path, verdict, code, stdout, stderr)
			}
		})
		n++
	}
	if n == 0 {
		t.Fatal("no examples")
	}
}
