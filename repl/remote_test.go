package repl

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/transport"
)

const remoteProgram = `
input put(k: string, v: int);
output echoed(k: string, v: int);
output total(n: int);
table kv(k: string, v: int);
kv(k, v) <= put(k, v);
echoed(k, v) <= put(k, v);
total(count(k)) <= kv(k, _);
`

// syncBuffer is a bytes.Buffer that watches may write to concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the buffer contains want.
func (s *syncBuffer) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(s.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %q in:\n%s", want, s.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startNode serves remoteProgram on a local port with throwaway
// credentials and dials it.
func startNode(t *testing.T) (*transport.Client, string) {
	t.Helper()
	prog, err := (&lang.Loader{}).LoadSource("node.bloom", []byte(remoteProgram))
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
	t.Cleanup(func() {
		cancel()
		<-done
		h.Close(time.Second)
	})
	ccreds, err := transport.InsecureDevCredentials(nil)
	if err != nil {
		t.Fatal(err)
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer dcancel()
	client, err := transport.Dial(dctx, string(h.Self), ccreds)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client, string(h.Self)
}

// TestReplRemote attaches a session to a served node: facts for its inputs
// are sent, watched outputs are printed as the node publishes them, and
// what cannot be done to a remote program is refused with a reason.
func TestReplRemote(t *testing.T) {
	if testing.Short() {
		t.Skip("serves a node over QUIC")
	}
	client, addr := startNode(t)
	var out syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := NewRemote(ctx, client, addr, Options{Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Prompt() != addr+"> " {
		t.Errorf("prompt %q", r.Prompt())
	}

	r.Line(":collections")
	out.waitFor(t, "input   put(k: string, v: int)")
	out.waitFor(t, "output  echoed(k: string, v: int)")

	r.Line(":watch echoed")
	out.waitFor(t, "watching echoed")
	// The watch is registered by the node asynchronously: send until the
	// published output shows up.
	deadline := time.Now().Add(15 * time.Second)
	for i := 1; !strings.Contains(out.String(), `"w"  `); i++ {
		if time.Now().After(deadline) {
			t.Fatalf("no watched output:\n%s", out.String())
		}
		r.Line(`put("w", ` + string(rune('0'+i%10)) + `);`)
		time.Sleep(100 * time.Millisecond)
	}
	out.waitFor(t, `sent put("w", 1): consumed by tick `)
	out.waitFor(t, "echoed (output, 1 tuple, tick ")

	// One line, one batch, one tick.
	r.Line(`put("a", 1); put("b", 2);`)
	out.waitFor(t, "sent 2 tuples: consumed by tick ")
	out.waitFor(t, "echoed (output, 2 tuples, tick ")

	// A statement over two lines.
	r.Line(`put("c",`)
	if !r.Pending() || r.Prompt() != ContPrompt {
		t.Error("no continuation after an incomplete fact")
	}
	r.Line(`    3);`)
	out.waitFor(t, `sent put("c", 3): consumed by tick `)

	if r.Failed() {
		t.Fatalf("failed:\n%s", out.String())
	}
	for _, c := range []struct{ line, want string }{
		{`nosuch(1);`, "<stdin>:"},
		{`nosuch(1);`, "unknown collection nosuch (the inputs of " + addr + ": put)"},
		{`put(1, 2);`, `column k of put`},
		{`table t(x: int);`, "only facts for its inputs can be typed"},
		{`put("ok", 1); put("bad");`, "nothing sent: the line has errors"},
		{`:tick`, ":tick is not available when attached to a node"},
		{`:watch kv`, "kv is not an output collection of " + addr + " (its outputs: echoed, total)"},
		{`:unwatch total`, "not watching total"},
		{`:frob`, "unknown command :frob"},
	} {
		r.Line(c.line)
		out.waitFor(t, c.want)
	}
	if !r.Failed() {
		t.Error("errors did not fail the session")
	}
	if strings.Contains(out.String(), `put("ok", 1): consumed`) {
		t.Error("a line with errors was partly sent")
	}

	// Completion: commands, outputs after :watch, inputs in facts.
	for _, c := range []struct {
		line  string
		words []string
	}{
		{":wa", []string{":watch "}},
		{":watch e", []string{"echoed"}},
		{"pu", []string{"put"}},
		{":tic", nil},
	} {
		if words, _ := r.Complete(c.line, len(c.line)); strings.Join(words, ",") != strings.Join(c.words, ",") {
			t.Errorf("Complete(%q) = %q, want %q", c.line, words, c.words)
		}
	}

	r.Line(":unwatch")
	out.waitFor(t, "watching nothing")
	r.Line(":sleep 10ms")
	r.Line(":quit")
	if !r.Done() {
		t.Error(":quit did not end the session")
	}
}
