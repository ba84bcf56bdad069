package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/transport"
)

// TestRepl runs `bloomc repl` in process with a script on standard input
// (not a terminal): no prompt, no colour, exit status 1 when anything
// failed.
func TestRepl(t *testing.T) {
	t.Chdir(t.TempDir())
	cases := []struct {
		name           string
		args           []string
		script         string
		code           int
		stdout, stderr string // exact
	}{
		{
			name: "ok",
			args: []string{"repl", "--history-file", ""},
			script: "table link(from: string, to: string);\n" +
				"link(\"a\", \"b\");\n" +
				":tick\n" +
				":dump link\n",
			stdout: "tick 1\n" +
				"link (table, 1 tuple, tick 1)\n" +
				"from  to\n" +
				"----  ---\n" +
				"\"a\"   \"b\"\n",
		},
		{
			name:   "statement error",
			args:   []string{"repl"},
			script: "table t(x: int);\nt(y) <= t(x);\n:rules\n",
			code:   exitErrors,
			stdout: "no rules or facts yet\n",
			stderr: "<stdin>:2:3: error: unsafe variable y: it is not bound by a positive atom or an earlier assignment\n" +
				"    t(y) <= t(x);\n" +
				"      ^\n",
		},
		{
			name:   "command error",
			args:   []string{"repl"},
			script: ":dump nothing\n",
			code:   exitErrors,
			stderr: "error: no collection nothing: nothing is declared yet\n",
		},
		{
			name:   "unterminated at end of input",
			args:   []string{"repl"},
			script: "table t(x: int)\n",
			code:   exitErrors,
			stderr: "<stdin>:1:1: error: unterminated statement discarded (a statement ends with ;)\n" +
				"    table t(x: int)\n" +
				"    ^\n",
		},
		{
			name:   "echo",
			args:   []string{"repl", "--echo"},
			script: "table t(x: int);\n:quit\n:tick\n",
			stdout: "bloom> table t(x: int);\nbloom> :quit\n",
		},
		{
			name:   "connect without credentials",
			args:   []string{"repl", "--connect", "127.0.0.1:7000"},
			code:   exitUsage,
			stderr: "bloomc repl: --connect needs --ca, --cert and --key (or --insecure-dev)\nRun 'bloomc repl --help' for usage.\n",
		},
		{
			name:   "credentials without connect",
			args:   []string{"repl", "--insecure-dev"},
			code:   exitUsage,
			stderr: "bloomc repl: --ca, --cert, --key and --insecure-dev go with --connect\nRun 'bloomc repl --help' for usage.\n",
		},
		{
			name:   "bad history",
			args:   []string{"repl", "--history", "-1"},
			code:   exitUsage,
			stderr: "bloomc repl: --history must be 0 or more\nRun 'bloomc repl --help' for usage.\n",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(c.args, &cliEnv{stdin: strings.NewReader(c.script), stdout: &stdout, stderr: &stderr})
			if code != c.code {
				t.Errorf("exit %d, want %d", code, c.code)
			}
			if stdout.String() != c.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), c.stdout)
			}
			if stderr.String() != c.stderr {
				t.Errorf("stderr:\n%s\nwant:\n%s", stderr.String(), c.stderr)
			}
		})
	}
}

// TestReplLoadsFiles loads the FILE arguments before reading the input.
func TestReplLoadsFiles(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var stdout, stderr bytes.Buffer
	if err := os.WriteFile("p.bloom", []byte("table t(x: int);\nt(1);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code := run([]string{"repl", "p.bloom", "--history", "0"}, &cliEnv{stdin: strings.NewReader(":run\n:history\n"), stdout: &stdout, stderr: &stderr})
	want := "loaded p.bloom: 1 declaration, 1 fact\ntick 1 (quiescent)\nno ticks are kept (history is off)\n"
	if code != exitOK || stdout.String() != want || stderr.Len() != 0 {
		t.Errorf("exit %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s", code, stdout.String(), want, stderr.String())
	}
}

// TestReplConnect attaches `bloomc repl --connect` to a node served in
// process and sends it a fact read from a script.
func TestReplConnect(t *testing.T) {
	if testing.Short() {
		t.Skip("serves a node over QUIC")
	}
	prog, err := newLoader().LoadSource("node.bloom", []byte("input put(k: string);\noutput got(k: string);\ngot(k) <= put(k);\n"))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := compiler.Compile(prog)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := transport.InsecureDevCredentials(nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := transport.NewHost(plan, transport.HostConfig{Config: transport.Config{Listen: "127.0.0.1:0", Creds: creds, Plan: plan}})
	if err != nil {
		t.Skipf("cannot serve a node here: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	defer func() {
		cancel()
		<-done
		h.Close(time.Second)
	}()
	var stdout, stderr bytes.Buffer
	script := ":collections\nput(\"x\");\n"
	code := run([]string{"repl", "--connect", string(h.Self), "--insecure-dev"}, &cliEnv{stdin: strings.NewReader(script), stdout: &stdout, stderr: &stderr})
	want := "output  got(k: string)\ninput   put(k: string)\nsent put(\"x\"): consumed by tick "
	if code != exitOK || !strings.HasPrefix(stdout.String(), want) || stderr.Len() != 0 {
		t.Errorf("exit %d\nstdout:\n%s\nwant it to start:\n%s\nstderr:\n%s", code, stdout.String(), want, stderr.String())
	}
}
