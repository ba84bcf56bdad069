package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExamples runs every example the way its header comment says
// ("// Run: bloomc ...", from the repository root) and compares the output
// with examples/NAME.expected, so that the documented commands stay true.
func TestExamples(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*.bloom")
	ran := 0
	for _, path := range files {
		if strings.HasSuffix(path, ".facts.bloom") {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var args []string
		for _, line := range strings.Split(string(src), "\n") {
			if rest, ok := strings.CutPrefix(line, "// Run: bloomc "); ok {
				args = strings.Fields(rest)
				break
			}
		}
		if args == nil {
			continue // a module or a multi-node example, tested elsewhere
		}
		name := strings.TrimSuffix(filepath.Base(path), ".bloom")
		t.Run(name, func(t *testing.T) {
			for i, a := range args {
				if strings.HasPrefix(a, "examples/") {
					args[i] = filepath.Join("..", "..", a)
				}
			}
			var out, errb bytes.Buffer
			code := run(args, &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb})
			if code != 0 {
				t.Fatalf("bloomc %s: exit %d\n%s", strings.Join(args, " "), code, errb.String())
			}
			want, err := os.ReadFile(strings.TrimSuffix(path, ".bloom") + ".expected")
			if err != nil {
				t.Fatalf("missing expected output: %v", err)
			}
			if out.String() != string(want) {
				t.Errorf("output differs\n--- got\n%s--- want\n%s", out.String(), want)
			}
		})
		ran++
	}
	if ran < 4 {
		t.Fatalf("only %d runnable examples", ran)
	}
}
