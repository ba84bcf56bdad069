package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/storage"
	"github.com/bloomlang/bloom/transport"
)

// crashProgram is the write-heavy program of the crash harness: every
// put is logged in the tick that consumes it (<=) and upserted into kv
// in the next tick (<+-, so a crash can fall between the two and the
// pending change must survive), and a lattice keeps the highest value.
const crashProgram = `// crash harness: a key-value store with a write log
durable table kv(k: string, v: int) key(k);
durable table log(seq: int, k: string);
durable lattice hi: lmax<int>;
table recent(k: string);
input put(k: string, v: int);
kv(k, v) <+- put(k, v);
log(v, k) <= put(k, v);
hi(v) <= put(_, v);
recent(k) <= put(k, _);
`

// crashClients write concurrently, each to its own keys; a client's
// batch b puts (C-k0..C-k9, b) and (C-u<b>, b).
const (
	crashClients  = 2
	crashKeysEach = 10
)

// nodeProc is a `bloomc run --listen` process.
type nodeProc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan error
}

func (p *nodeProc) errText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// startNode starts bin with args in dir and waits until it listens.
func startNode(t *testing.T, dir, bin string, args ...string) *nodeProc {
	t.Helper()
	p := &nodeProc{cmd: exec.Command(bin, args...), done: make(chan error, 1)}
	p.cmd.Dir = dir
	p.cmd.Stdout = &bytes.Buffer{}
	errPipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(errPipe)
		once := sync.Once{}
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if strings.Contains(sc.Text(), "node listening") {
				once.Do(func() { close(ready) })
			}
		}
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() { p.cmd.Process.Kill() })
	select {
	case <-ready:
	case err := <-p.done:
		t.Fatalf("bloomc %v exited: %v\n%s", args, err, p.errText())
	case <-time.After(20 * time.Second):
		t.Fatalf("bloomc %v: not listening after 20s\n%s", args, p.errText())
	}
	return p
}

// runBloomc runs bin to completion and returns its stdout; it fails the
// test on a non-zero exit.
func runBloomc(t *testing.T, dir, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bloomc %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.String()
}

// crashClient is one writer's view: what it sent and what was acked.
type crashClient struct {
	id        int
	next      int   // next batch to send
	acked     int   // highest acknowledged batch
	ackedTick int64 // the tick that consumed it
}

func (c *crashClient) key(j int) string { return fmt.Sprintf("c%d-k%d", c.id, j) }

func (c *crashClient) batch(b int) []runtime.Message {
	var msgs []runtime.Message
	for j := range crashKeysEach {
		msgs = append(msgs, runtime.Message{Coll: "put", Tuple: runtime.Tuple{c.key(j), int64(b)}})
	}
	return append(msgs, runtime.Message{Coll: "put", Tuple: runtime.Tuple{fmt.Sprintf("c%d-u%d", c.id, b), int64(b)}})
}

// write sends batches until the connection fails (the node was killed).
func (c *crashClient) write(ctx context.Context, cl *transport.Client, mu *sync.Mutex) {
	for ctx.Err() == nil {
		mu.Lock()
		b := c.next
		mu.Unlock()
		tick, err := cl.Send(ctx, c.batch(b))
		if err != nil {
			return
		}
		mu.Lock()
		c.acked, c.ackedTick, c.next = b, tick, b+1
		mu.Unlock()
	}
}

// checkCrashState checks the stored state after a kill: every
// acknowledged batch is there, each batch entirely or not at all (no
// partial tick), kv agrees with the log once the stored pending upserts
// are applied, and the lattice and tick counter are consistent. It
// returns the stored tick and, per client, the last batch stored.
func checkCrashState(t *testing.T, plan *compiler.Plan, dataDir string, clients []*crashClient, lastTick int64) (int64, []int, int) {
	t.Helper()
	st, err := storage.Open(dataDir, storage.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("open after kill: %v", err)
	}
	defer st.Close()
	c, err := st.Contents()
	if err != nil {
		t.Fatalf("read after kill: %v", err)
	}
	if c.Tick < lastTick {
		t.Fatalf("stored tick %d went back (was %d)", c.Tick, lastTick)
	}
	colls := map[string][]runtime.Tuple{}
	for _, col := range c.Colls {
		colls[col.Name] = col.Tuples
	}
	kv := map[string]int64{}
	for _, tu := range colls["kv"] {
		kv[tu[0].(string)] = tu[1].(int64)
	}
	inFlight := 0
	for _, p := range c.Pending {
		if p.Coll != "kv" || p.Op != lang.OpUpsert {
			t.Fatalf("unexpected pending change %s %s%v", p.Op, p.Coll, p.Tuple)
		}
		kv[p.Tuple[0].(string)] = p.Tuple[1].(int64)
	}
	logged := map[string]map[int64]bool{} // key -> batches
	for _, tu := range colls["log"] {
		k := tu[1].(string)
		if logged[k] == nil {
			logged[k] = map[int64]bool{}
		}
		logged[k][tu[0].(int64)] = true
	}
	var stored []int
	var hi int64
	for _, cc := range clients {
		// The batches of this client in the log: 1..m with no gap.
		bs := logged[cc.key(0)]
		m := 0
		for b := range bs {
			m = max(m, int(b))
		}
		if len(bs) != m {
			t.Fatalf("client %d: log has %d batches, the highest being %d", cc.id, len(bs), m)
		}
		if m < cc.acked {
			t.Fatalf("client %d: batch %d was acknowledged (tick %d) but the store has only up to %d", cc.id, cc.acked, cc.ackedTick, m)
		}
		if m > cc.next {
			t.Fatalf("client %d: store has batch %d, never sent (next was %d)", cc.id, m, cc.next)
		}
		if m > cc.acked {
			inFlight++ // committed, killed before the acknowledgement
		}
		if cc.acked > 0 && c.Tick < cc.ackedTick {
			t.Fatalf("client %d: acknowledged at tick %d, store has tick %d", cc.id, cc.ackedTick, c.Tick)
		}
		// Each batch is whole: every key of it logged.
		for b := 1; b <= m; b++ {
			for j := range crashKeysEach {
				if !logged[cc.key(j)][int64(b)] {
					t.Fatalf("client %d: partial batch %d: %s not logged", cc.id, b, cc.key(j))
				}
			}
			if u := fmt.Sprintf("c%d-u%d", cc.id, b); !logged[u][int64(b)] || kv[u] != int64(b) {
				t.Fatalf("client %d: batch %d: %s logged %v, kv %d", cc.id, b, u, logged[u][int64(b)], kv[u])
			}
		}
		if u := fmt.Sprintf("c%d-u%d", cc.id, m+1); logged[u] != nil || kv[u] != 0 {
			t.Fatalf("client %d: batch %d partly stored", cc.id, m+1)
		}
		// kv, with the pending upserts, holds the last batch everywhere.
		for j := range crashKeysEach {
			if m > 0 && kv[cc.key(j)] != int64(m) {
				t.Fatalf("client %d: kv[%s] = %d, the last batch is %d", cc.id, cc.key(j), kv[cc.key(j)], m)
			}
		}
		stored = append(stored, m)
		hi = max(hi, int64(m))
	}
	if hi > 0 {
		if len(colls["hi"]) != 1 || colls["hi"][0][0] != hi {
			t.Fatalf("hi = %v, want %d", colls["hi"], hi)
		}
	}
	return c.Tick, stored, inFlight
}

// TestCrashHarness runs the write-heavy crashProgram under `bloomc run
// --listen --data`, with clients writing through the transport client,
// kills the node with SIGKILL at random moments (at least 50 times,
// BLOOM_CRASH_KILLS to change) and restarts it on the same data
// directory. After each kill the stored state must hold every
// acknowledged write and be one the program could have reached.
func TestCrashHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("crash harness: starts and kills ~50 processes")
	}
	kills := 50
	if s := os.Getenv("BLOOM_CRASH_KILLS"); s != "" {
		kills, _ = strconv.Atoi(s)
	}
	budget := 4 * time.Minute
	start := time.Now()
	bin := bloomcBinary(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "crash.bloom"), []byte(crashProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	prog, err := (&lang.Loader{}).LoadSource("crash.bloom", []byte(crashProgram))
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
	dataDir := filepath.Join(dir, "data")
	var clients []*crashClient
	for i := range crashClients {
		clients = append(clients, &crashClient{id: i, next: 1})
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var lastTick int64
	inFlight := 0
	for round := 0; round < kills; round++ {
		if time.Since(start) > budget {
			t.Fatalf("only %d kills in %v", round, budget)
		}
		addr := freeUDPAddr(t)
		p := startNode(t, dir, bin, "run", "crash.bloom", "--listen", addr, "--insecure-dev", "--data", "data", "--log-level", "info")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cl, err := transport.Dial(ctx, addr, creds)
		if err != nil {
			cancel()
			t.Fatalf("round %d: dial: %v\n%s", round, err, p.errText())
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, c := range clients {
			wg.Add(1)
			go func() { defer wg.Done(); c.write(ctx, cl, &mu) }()
		}
		// Kill at a random moment: mostly while writes stream in,
		// sometimes right away (during restore or the first ticks).
		delay := time.Duration(rng.IntN(300)) * time.Millisecond
		if rng.IntN(5) == 0 {
			delay = time.Duration(rng.IntN(20)) * time.Millisecond
		}
		time.Sleep(delay)
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		// A send in flight is unknown, not acknowledged: stop waiting
		// for it (QUIC would notice the dead peer only at its idle
		// timeout).
		cancel()
		wg.Wait()
		cl.Close()
		tick, stored, inf := checkCrashState(t, plan, dataDir, clients, lastTick)
		lastTick = tick
		inFlight += inf
		for i, c := range clients {
			c.next = stored[i] + 1 // an unacknowledged batch not stored is sent again
		}
	}
	total := 0
	for _, c := range clients {
		total += c.acked
	}
	// A last, graceful run: the restored state prints as the store
	// holds it, and bloomc data dump agrees.
	addr := freeUDPAddr(t)
	p := startNode(t, dir, bin, "run", "crash.bloom", "--listen", addr, "--insecure-dev", "--data", "data", "--print", "kv", "--print", "hi")
	time.Sleep(200 * time.Millisecond)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p.done; err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, p.errText())
	}
	printed := p.cmd.Stdout.(*bytes.Buffer).String()
	dump := runBloomc(t, dir, bin, "data", "dump", "data", "kv")
	hi := runBloomc(t, dir, bin, "data", "dump", "data", "hi")
	if printed != dump+hi || !strings.Contains(printed, "hi(") {
		t.Fatalf("--print after restart:\n%s\ndata dump:\n%s%s", printed, dump, hi)
	}
	t.Logf("%d kills in %v; %d batches (of %d writes) acknowledged; %d committed batches were killed before their acknowledgement; final tick %d",
		kills, time.Since(start).Round(time.Second), total, crashKeysEach+1, inFlight, lastTick)
}

// runBloomcCode runs bin and returns its exit code, stdout and stderr.
func runBloomcCode(t *testing.T, dir, bin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("bloomc %v: %v", args, err)
	}
	return code, stdout.String(), stderr.String()
}

// The --data flag on batch runs, bloomc data dump, the warning without
// --data, and a schema change stopping the node.
func TestDataCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bloomc")
	}
	bin := bloomcBinary(t)
	dir := t.TempDir()
	prog := `// a counter that counts to 3 over ticks, and a fact deleted in tick 2
durable table counter(name: string, n: int) key(name);
durable table seen(x: int);
durable lattice most: lmax<int>;
table notes(s: string);
counter("c", 0);
seen(7);
notes("hello");
counter(c, n + 1) <+- counter(c, n), n < 3;
seen(x) <- seen(x), x == 7, counter(_, 1);
seen(n) <= counter(_, n);
most(n) <= counter(_, n);
`
	os.WriteFile(filepath.Join(dir, "p.bloom"), []byte(prog), 0o644)

	// Without --data: the warning, once.
	code, out, errOut := runBloomcCode(t, dir, bin, "run", "p.bloom", "--print", "counter")
	if code != 0 || out != "counter(\"c\", 3)\n" || strings.Count(errOut, "warning") != 1 ||
		!strings.Contains(errOut, "durable collections (counter, seen, most) are not persisted without --data DIR") {
		t.Fatalf("run without --data: %d\n%s\n%s", code, out, errOut)
	}

	// Two ticks, then two more on the restored state.
	code, out, errOut = runBloomcCode(t, dir, bin, "run", "p.bloom", "--data", "d", "--ticks", "2", "--print", "counter", "--print", "seen")
	if code != 0 || out != "counter(\"c\", 1)\nseen(0)\nseen(1)\nseen(7)\n" || errOut != "" {
		t.Fatalf("first run: %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runBloomcCode(t, dir, bin, "run", "p.bloom", "--data", "d", "--ticks", "1", "--print", "counter", "--print", "seen", "--print", "notes")
	if code != 0 || out != "counter(\"c\", 2)\nseen(0)\nseen(1)\nseen(2)\n" {
		t.Fatalf("second run: %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "facts are not inserted again, so these non-durable collections with facts start empty: notes") {
		t.Fatalf("second run stderr: %s", errOut)
	}
	dumpV := runBloomc(t, dir, bin, "data", "dump", "-v", "d")
	if !strings.Contains(dumpV, "// d: tick 3, facts inserted: true") || !strings.Contains(dumpV, `<+- counter("c", 3)`) {
		t.Fatalf("dump -v:\n%s", dumpV)
	}
	code, out, _ = runBloomcCode(t, dir, bin, "run", "p.bloom", "--data", "d", "--print", "counter", "--print", "most", "--print", "seen")
	want := "counter(\"c\", 3)\nmost(3)\nseen(0)\nseen(1)\nseen(2)\nseen(3)\n"
	if code != 0 || out != want {
		t.Fatalf("third run: %d\n%s", code, out)
	}
	if got := runBloomc(t, dir, bin, "data", "dump", "d"); got != want {
		t.Fatalf("dump:\n%s\nwant\n%s", got, want)
	}
	if got := runBloomc(t, dir, bin, "data", "dump", "d", "most"); got != "most(3)\n" {
		t.Fatalf("dump most: %s", got)
	}
	if code, _, errOut := runBloomcCode(t, dir, bin, "data", "dump", "d", "nope"); code != 1 || !strings.Contains(errOut, "holds no durable collection nope (it holds counter, most, seen)") {
		t.Fatalf("dump nope: %d %s", code, errOut)
	}
	if code, _, errOut := runBloomcCode(t, dir, bin, "data", "dump", "missing"); code != 1 || !strings.Contains(errOut, "missing") {
		t.Fatalf("dump missing: %d %s", code, errOut)
	}

	// A schema change stops the node before it runs.
	os.WriteFile(filepath.Join(dir, "q.bloom"), []byte(strings.Replace(prog, "key(name)", "key(name, n)", 1)), 0o644)
	code, out, errOut = runBloomcCode(t, dir, bin, "run", "q.bloom", "--data", "d", "--print", "counter")
	if code != 1 || out != "" || !strings.Contains(errOut, "durable table counter: its key changed from (name) to (name, n)") {
		t.Fatalf("schema change: %d\n%s\n%s", code, out, errOut)
	}

	// A data directory in use by a running node.
	addr := freeUDPAddr(t)
	p := startNode(t, dir, bin, "run", "p.bloom", "--listen", addr, "--insecure-dev", "--data", "d")
	code, _, errOut = runBloomcCode(t, dir, bin, "run", "p.bloom", "--data", "d")
	if code != 1 || !strings.Contains(errOut, "in use by another process") {
		t.Fatalf("second node on d: %d %s", code, errOut)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p.done; err != nil {
		t.Fatalf("stop: %v\n%s", err, p.errText())
	}
}
