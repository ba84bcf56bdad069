package main

// End-to-end tests: the conformance corpus in testdata/conformance (at the
// repository root) is run through the built bloomc binary, byte for byte,
// since that is how programs written by outsiders are run against us.
//
// Each case is a directory holding
//
//	prog.bloom        the program
//	args              extra arguments after `bloomc run prog.bloom`, one a
//	                  line (blank lines ignored); paths are relative to the
//	                  case directory, which is the working directory
//	expected          the exact expected stdout
//	expected_stderr   optional: the exact expected stderr, or, when the file
//	                  starts with "re:", a regexp (Go syntax) that stderr
//	                  must match; without the file stderr must be empty
//	exit              optional: the expected exit code (default 0)
//
// and any facts files the arguments name. `go test ./cmd/bloomc -run
// Conformance -update` rewrites the expected files from the binary's
// output; use it only to review a change, never to accept output that was
// not checked by hand against the spec.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the conformance cases' expected files from bloomc's output")

const conformanceDir = "../../testdata/conformance"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// bloomcBinary builds the command once per test process into a temporary
// directory and returns the binary's absolute path.
func bloomcBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bloomc-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		name := "bloomc"
		if runtime.GOOS == "windows" {
			name += ".exe"
		}
		binPath = filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func TestConformance(t *testing.T) {
	entries, err := os.ReadDir(conformanceDir)
	if err != nil {
		t.Fatal(err)
	}
	bin := bloomcBinary(t)
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n++
		dir := filepath.Join(conformanceDir, e.Name())
		t.Run(e.Name(), func(t *testing.T) {
			t.Parallel()
			runCase(t, bin, dir)
		})
	}
	if n == 0 {
		t.Fatalf("no cases in %s", conformanceDir)
	}
}

func runCase(t *testing.T, bin, dir string) {
	args := []string{"run", "prog.bloom"}
	raw, err := os.ReadFile(filepath.Join(dir, "args"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if line = strings.TrimRight(line, "\r"); strings.TrimSpace(line) != "" {
			args = append(args, line)
		}
	}
	wantOut, err := os.ReadFile(filepath.Join(dir, "expected"))
	if err != nil && !(*update && errors.Is(err, os.ErrNotExist)) {
		t.Fatal(err)
	}
	wantErr, err := os.ReadFile(filepath.Join(dir, "expected_stderr"))
	haveErrFile := err == nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	wantCode := 0
	if b, err := os.ReadFile(filepath.Join(dir, "exit")); err == nil {
		if wantCode, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
			t.Fatalf("exit file: %v", err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running bloomc: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("bloomc %s: timed out", strings.Join(args, " "))
	}

	if *update {
		write := func(name string, data []byte) {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("expected", stdout.Bytes())
		if code != wantCode {
			write("exit", []byte(strconv.Itoa(code)+"\n"))
		}
		if !bytes.HasPrefix(wantErr, []byte("re:")) && (haveErrFile || stderr.Len() > 0) {
			write("expected_stderr", stderr.Bytes())
		}
		return
	}

	cmdline := "bloomc " + strings.Join(args, " ")
	if code != wantCode {
		t.Errorf("%s: exit code %d, want %d\nstderr:\n%s", cmdline, code, wantCode, stderr.String())
	}
	if got := stdout.String(); got != string(wantOut) {
		t.Errorf("%s: stdout differs (-want +got):\n%s", cmdline, diffLines(string(wantOut), got))
	}
	switch {
	case bytes.HasPrefix(wantErr, []byte("re:")):
		pat := strings.TrimSpace(string(wantErr[len("re:"):]))
		re, err := regexp.Compile(pat)
		if err != nil {
			t.Fatalf("expected_stderr: bad regexp: %v", err)
		}
		if !re.MatchString(stderr.String()) {
			t.Errorf("%s: stderr does not match %q:\n%s", cmdline, pat, stderr.String())
		}
	case stderr.String() != string(wantErr):
		t.Errorf("%s: stderr differs (-want +got):\n%s", cmdline, diffLines(string(wantErr), stderr.String()))
	}
}

// diffLines is a small line diff (longest common subsequence): lines only
// in want are prefixed "-", lines only in got "+", common lines " ".
func diffLines(want, got string) string {
	split := func(s string) []string {
		if s == "" {
			return nil
		}
		lines := strings.SplitAfter(s, "\n")
		if lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		return lines
	}
	a, b := split(want), split(got)
	// lcs[i][j] = length of the LCS of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var sb strings.Builder
	line := func(prefix, s string) {
		sb.WriteString(prefix)
		sb.WriteString(s)
		if !strings.HasSuffix(s, "\n") {
			sb.WriteString("\n\\ no newline at end\n")
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			line(" ", a[i])
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			line("-", a[i])
			i++
		default:
			line("+", b[j])
			j++
		}
	}
	return sb.String()
}

// TestUsageErrors checks the CLI's usage exit codes in process.
func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "p.bloom")
	if err := os.WriteFile(prog, []byte("table t(x: int);\nt(1);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.bloom")
	if err := os.WriteFile(bad, []byte("table t(x: int);\nt(y) <= t(x);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring of stdout, "" for none expected
		stderr string // substring of stderr
	}{
		{name: "no arguments", args: nil, code: exitUsage, stdout: "Usage:"},
		{name: "unknown command", args: []string{"frobnicate"}, code: exitUsage, stderr: `unknown command "frobnicate"`},
		{name: "help", args: []string{"--help"}, code: exitOK, stdout: "Commands:"},
		{name: "run help", args: []string{"run", "--help"}, code: exitOK, stderr: "Usage: bloomc run"},
		{name: "run without file", args: []string{"run"}, code: exitUsage, stderr: "want exactly one program file"},
		{name: "run two files", args: []string{"run", prog, prog}, code: exitUsage, stderr: "want exactly one program file"},
		{name: "run unknown flag", args: []string{"run", prog, "--frob"}, code: exitUsage, stderr: "-frob"},
		{name: "run unknown print", args: []string{"run", prog, "--print", "nope"}, code: exitUsage, stderr: "no collection nope"},
		{name: "run unknown count", args: []string{"run", prog, "--count", "nope"}, code: exitUsage, stderr: "no collection nope"},
		{name: "run negative ticks", args: []string{"run", prog, "--ticks", "-1"}, code: exitUsage, stderr: "--ticks"},
		{name: "run ok", args: []string{"run", prog, "--print", "t"}, code: exitOK, stdout: "t(1)\n"},
		{name: "check without file", args: []string{"check"}, code: exitUsage, stderr: "no files given"},
		{name: "check ok", args: []string{"check", prog}, code: exitOK},
		{name: "check error", args: []string{"check", bad}, code: exitErrors, stderr: bad + ":2:3: "},
		{name: "run compile error", args: []string{"run", bad, "--print", "t"}, code: exitErrors, stderr: bad + ":2:3: "},
		{name: "run missing file", args: []string{"run", filepath.Join(dir, "missing.bloom")}, code: exitErrors},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(c.args, &cliEnv{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr})
			if code != c.code {
				t.Errorf("bloomc %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(c.args, " "), code, c.code, stdout.String(), stderr.String())
			}
			if c.stdout != "" && !strings.Contains(stdout.String(), c.stdout) {
				t.Errorf("bloomc %s: stdout lacks %q:\n%s", strings.Join(c.args, " "), c.stdout, stdout.String())
			}
			if c.stderr != "" && !strings.Contains(stderr.String(), c.stderr) {
				t.Errorf("bloomc %s: stderr lacks %q:\n%s", strings.Join(c.args, " "), c.stderr, stderr.String())
			}
		})
	}
}
