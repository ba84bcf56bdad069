package repl

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the expected transcripts (testdata/*.transcript, docs/repl.md) from the output")

// testStart is the virtual clock's start in tests, so that now() and the
// periodic timers are the same on every run.
var testStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// runScript runs a script as `bloomc repl --echo < script` does, in dir,
// and returns what it printed (stdout and stderr interleaved) with the
// exit status. A line `// repl-test: max-ticks=N history=N` sets options.
func runScript(t *testing.T, dir, script string) string {
	t.Helper()
	opts := Options{Start: testStart}
	for _, line := range strings.Split(script, "\n") {
		rest, ok := strings.CutPrefix(line, "// repl-test:")
		if !ok {
			continue
		}
		for _, f := range strings.Fields(rest) {
			k, v, _ := strings.Cut(f, "=")
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("bad option %q", f)
			}
			switch k {
			case "max-ticks":
				opts.MaxRunTicks = int64(n)
			case "history":
				opts.History = n
			default:
				t.Fatalf("unknown option %q", k)
			}
		}
	}
	t.Chdir(dir)
	var out bytes.Buffer
	code := Run(Config{Session: opts, Stdin: strings.NewReader(script), Stdout: &out, Stderr: &out, Echo: true})
	if code != 0 {
		fmt.Fprintf(&out, "[exit status %d]\n", code)
	}
	return out.String()
}

// copyTestdata copies testdata (the .bloom files the scripts load) to a
// temporary directory, where scripts may also write files.
func copyTestdata(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata", path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		if !strings.HasSuffix(path, ".bloom") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestReplTranscripts runs every testdata/*.script through Run with input
// that is not a terminal and compares the output with the .transcript
// next to it (-update rewrites them).
func TestReplTranscripts(t *testing.T) {
	scripts, _ := filepath.Glob("testdata/*.script")
	if len(scripts) == 0 {
		t.Fatal("no scripts")
	}
	for _, path := range scripts {
		name := strings.TrimSuffix(filepath.Base(path), ".script")
		t.Run(name, func(t *testing.T) {
			script, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			wantPath, _ := filepath.Abs(strings.TrimSuffix(path, ".script") + ".transcript")
			got := runScript(t, copyTestdata(t), string(script))
			if *update {
				if err := os.WriteFile(wantPath, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantPath)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("transcript differs from %s (-update rewrites it):\n%s", filepath.Base(wantPath), lineDiff(string(want), got))
			}
		})
	}
}

// lineDiff shows the first differing lines of two texts.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n  want %q\n  got  %q\n\ngot in full:\n%s", i+1, wl, gl, got)
		}
	}
	return ""
}
