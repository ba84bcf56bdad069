package transport

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
)

// pingProgram: an input makes the node ping a peer, the peer answers with
// a pong, and pongs are published in an output.
const pingProgram = `
input go(to: addr, seq: int);
channel ping(@to: addr, from: addr, seq: int);
channel pong(@to: addr, seq: int);
output pinged(from: addr, seq: int);
output ponged(seq: int);
ping(@t, self(), s) <~ go(t, s);
pong(@f, s) <~ ping(_, f, s);
pinged(f, s) <= ping(_, f, s);
ponged(s) <= pong(_, s);
`

// certs makes a CA in a temporary directory and issues certificates for
// the names, valid for 127.0.0.1.
func certs(t testing.TB, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	if err := InitCA(dir); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := IssueCert(dir, n, []string{"127.0.0.1", "localhost"}, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// rawStream dials addr as "x" (certs(t, ..., "x") in dir) and opens a
// bare stream on which a test writes frames of its own making; the
// connection closes with the test.
func rawStream(ctx context.Context, t testing.TB, dir, addr string) (*quic.Conn, *quic.Stream) {
	t.Helper()
	xc := creds(t, dir, "x")
	conn, err := quic.DialAddr(ctx, addr, xc.ClientConfig(addr), &quic.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseWithError(0, "") })
	s, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return conn, s
}

func creds(t testing.TB, dir, name string) *Credentials {
	t.Helper()
	c, err := LoadCredentials(filepath.Join(dir, "ca.pem"), filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testHost is a served node whose outputs are recorded.
type testHost struct {
	*Host
	cancel context.CancelFunc
	done   chan error

	mu   sync.Mutex
	outs map[string][]runtime.Tuple
	ch   chan struct{}
}

func startHost(t testing.TB, src string, c *Credentials, listen string, tune func(*HostConfig)) *testHost {
	t.Helper()
	th := &testHost{outs: map[string][]runtime.Tuple{}, ch: make(chan struct{}, 1)}
	cfg := HostConfig{Config: Config{Listen: listen, Creds: c, Plan: mustPlan(t, src), DialTimeout: 2 * time.Second}}
	cfg.Observe = func(_ int64, coll string, ts []runtime.Tuple) {
		th.mu.Lock()
		th.outs[coll] = append(th.outs[coll], ts...)
		th.mu.Unlock()
		select {
		case th.ch <- struct{}{}:
		default:
		}
	}
	if tune != nil {
		tune(&cfg)
	}
	h, err := NewHost(cfg.Plan, cfg)
	if err != nil {
		t.Fatal(err)
	}
	th.Host = h
	ctx, cancel := context.WithCancel(context.Background())
	th.cancel, th.done = cancel, make(chan error, 1)
	go func() { th.done <- h.Run(ctx) }()
	t.Cleanup(func() { th.stop(t) })
	return th
}

func (th *testHost) stop(t testing.TB) {
	if th.cancel == nil {
		return
	}
	th.cancel()
	th.cancel = nil
	select {
	case err := <-th.done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		t.Error("Run did not return")
	}
	if err := th.Close(time.Second); err != nil {
		t.Error(err)
	}
}

func (th *testHost) count(coll string) int {
	th.mu.Lock()
	defer th.mu.Unlock()
	return len(th.outs[coll])
}

// waitFor waits until coll has at least n published tuples.
func (th *testHost) waitFor(t testing.TB, coll string, n int, d time.Duration) bool {
	t.Helper()
	deadline := time.After(d)
	for th.count(coll) < n {
		select {
		case <-th.ch:
		case <-deadline:
			return false
		}
	}
	return true
}

func goMsg(to stdlib.Addr, seq int64) runtime.Message {
	return runtime.Message{Coll: "go", Tuple: runtime.Tuple{to, seq}}
}

func TestTwoNodesPingPong(t *testing.T) {
	dir := certs(t, "a", "b", "client")
	a := startHost(t, pingProgram, creds(t, dir, "a"), "127.0.0.1:0", nil)
	b := startHost(t, pingProgram, creds(t, dir, "b"), "127.0.0.1:0", nil)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := Dial(ctx, string(a.Self), creds(t, dir, "client"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	// Watch a's pongs through the client API while sending.
	watched := make(chan int64, 100)
	wctx, wcancel := context.WithCancel(ctx)
	werr := make(chan error, 1)
	registered := make(chan struct{})
	go func() {
		werr <- cl.WatchNotify(wctx, "ponged", func() { close(registered) }, func(_ int64, ts []runtime.Tuple) error {
			for _, tu := range ts {
				watched <- tu[0].(int64)
			}
			return nil
		})
	}()
	select {
	case <-registered:
	case err := <-werr:
		t.Fatalf("watch: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("watch not registered after 10s")
	}

	msgs, err := cl.Parse(ctx, fmt.Sprintf(`go("%s", 1)`, b.Self), fmt.Sprintf(`go("%s", 2);`, b.Self))
	if err != nil {
		t.Fatal(err)
	}
	tick, err := cl.Send(ctx, msgs)
	if err != nil || tick < 1 {
		t.Fatalf("send: tick %d, %v", tick, err)
	}
	if !b.waitFor(t, "pinged", 2, 5*time.Second) {
		t.Fatalf("b saw %d pings", b.count("pinged"))
	}
	if !a.waitFor(t, "ponged", 2, 5*time.Second) {
		t.Fatalf("a saw %d pongs", a.count("ponged"))
	}
	got := map[int64]bool{}
	for len(got) < 2 {
		select {
		case s := <-watched:
			got[s] = true
		case <-time.After(5 * time.Second):
			t.Fatalf("watch saw %v", got)
		}
	}
	wcancel()
	if err := <-werr; err != nil {
		t.Fatalf("watch: %v", err)
	}
	// b answered over the connection a opened (adopted), so only a dialled.
	if d := a.T.Stats().Dials; d != 1 {
		t.Errorf("a dialled %d times", d)
	}
	if d := b.T.Stats().Dials; d != 0 {
		t.Errorf("b dialled %d times, want 0 (reuse of a's connection)", d)
	}
	// Inserting into something that is not an input is refused.
	if _, err := cl.Parse(ctx, `ping("x:1", "y:1", 1)`); err == nil {
		t.Error("parse of a channel tuple accepted")
	}
	if _, err := cl.Send(ctx, []runtime.Message{{Coll: "ponged", Tuple: runtime.Tuple{int64(1)}}}); err == nil {
		t.Error("insert into an output accepted")
	}
}

func TestForeignCAIsRejected(t *testing.T) {
	good := certs(t, "b")
	evil := certs(t, "mallory")
	b := startHost(t, pingProgram, creds(t, good, "b"), "127.0.0.1:0", nil)

	// 1. A node of another cluster: its dials fail, nothing arrives.
	m := startHost(t, pingProgram, creds(t, evil, "mallory"), "127.0.0.1:0", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := Dial(ctx, string(m.Self), creds(t, good, "b")); err == nil {
		t.Error("a client of the good CA connected to mallory")
	}
	m.T.Send([]runtime.Message{{To: b.Self, Coll: "ping", Tuple: runtime.Tuple{b.Self, m.Self, int64(1)}}})

	// 2. Mallory trusts the good CA (so she accepts b's certificate) but
	// her own certificate is from her CA: b must refuse the handshake.
	mc := creds(t, evil, "mallory")
	mc.CAs = creds(t, good, "b").CAs
	raw, err := quic.DialAddr(ctx, string(b.Self), mc.ClientConfig(string(b.Self)), &quic.Config{HandshakeIdleTimeout: 2 * time.Second})
	if err == nil {
		// TLS 1.3: the client may finish before the server has checked
		// its certificate; the server then closes the connection.
		s, err := raw.OpenStream()
		if err == nil {
			frame, _ := NewSchema(b.Node.Plan(), lang.Channel).AppendFrame(nil, []runtime.Message{{To: b.Self, Coll: "ping", Tuple: runtime.Tuple{b.Self, stdlib.Addr("m:1"), int64(2)}}})
			hello := binary.AppendUvarint([]byte{streamPeer}, 3)
			s.Write(append(append(hello, "m:1"...), frame...))
		}
		select {
		case <-raw.Context().Done():
		case <-time.After(5 * time.Second):
			t.Error("b did not close mallory's connection")
		}
	}
	// 3. A client of the other CA.
	if cl, err := Dial(ctx, string(b.Self), creds(t, evil, "mallory")); err == nil {
		if _, err := cl.Send(ctx, []runtime.Message{goMsg("x:1", 1)}); err == nil {
			t.Error("foreign client's insert accepted")
		}
		cl.Close()
	}
	time.Sleep(300 * time.Millisecond)
	if n := b.count("pinged"); n != 0 {
		t.Fatalf("b received %d tuples from a foreign CA", n)
	}
	if r := b.T.Stats().Received; r != 0 {
		t.Fatalf("b's transport received %d tuples", r)
	}
	if s := m.T.Stats(); s.DialFailures == 0 || s.Sent != 0 {
		t.Fatalf("mallory's stats: %+v", s)
	}
}

func TestRestartedPeerIsReconnected(t *testing.T) {
	t.Run("graceful", func(t *testing.T) { testRestart(t, false) })
	// A crash: b's socket goes away without closing its connections; a
	// learns it from the stateless reset of the restarted b (same key).
	t.Run("crash", func(t *testing.T) { testRestart(t, true) })
}

func testRestart(t *testing.T, crash bool) {
	dir := certs(t, "a", "b", "client")
	a := startHost(t, pingProgram, creds(t, dir, "a"), "127.0.0.1:0", nil)
	b := startHost(t, pingProgram, creds(t, dir, "b"), "127.0.0.1:0", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := Dial(ctx, string(a.Self), creds(t, dir, "client"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Send(ctx, []runtime.Message{goMsg(b.Self, 1)}); err != nil {
		t.Fatal(err)
	}
	if !b.waitFor(t, "pinged", 1, 5*time.Second) || !a.waitFor(t, "ponged", 1, 5*time.Second) {
		t.Fatal("first ping or pong lost")
	}
	addr := string(b.Self)
	if crash {
		b.T.udp.Close()
	}
	b.stop(t)
	b2 := startHost(t, pingProgram, creds(t, dir, "b"), addr, nil)
	// At most once: the first sends after the restart may be lost while
	// a notices the old connection is gone; keep sending.
	seq := int64(2)
	deadline := time.Now().Add(15 * time.Second)
	for b2.count("pinged") == 0 && time.Now().Before(deadline) {
		if _, err := cl.Send(ctx, []runtime.Message{goMsg(b2.Self, seq)}); err != nil {
			t.Fatal(err)
		}
		seq++
		b2.waitFor(t, "pinged", 1, 100*time.Millisecond)
	}
	if b2.count("pinged") == 0 {
		t.Fatalf("restarted b never received a ping (a's stats %+v)", a.T.Stats())
	}
	t.Logf("reconnected after %d sends; a's stats %+v", seq-2, a.T.Stats())
	if !a.waitFor(t, "ponged", 2, 5*time.Second) {
		t.Fatal("no pong from the restarted b")
	}
}

// TestMalformedFramesAreDroppedAndCounted writes bad frames on an
// authenticated stream: each is counted and skipped, the valid frame
// after them is delivered.
func TestMalformedFramesAreDroppedAndCounted(t *testing.T) {
	dir := certs(t, "b", "x")
	b := startHost(t, pingProgram, creds(t, dir, "b"), "127.0.0.1:0", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, s := rawStream(ctx, t, dir, string(b.Self))
	sch := NewSchema(b.Node.Plan(), lang.Channel)
	good, err := sch.AppendFrame(nil, []runtime.Message{{To: b.Self, Coll: "ping", Tuple: runtime.Tuple{b.Self, stdlib.Addr("x:1"), int64(7)}}})
	if err != nil {
		t.Fatal(err)
	}
	other := NewSchemaOf([]Coll{{Name: "ping", Kind: lang.Channel, Types: []*lang.Type{lang.TAddr, lang.TInt}, Cols: []string{"to", "n"}}})
	wrongArity, _ := other.AppendFrame(nil, []runtime.Message{{Coll: "ping", Tuple: runtime.Tuple{b.Self, int64(1)}}})
	unknown := NewSchemaOf([]Coll{{Name: "nope", Kind: lang.Channel, Types: []*lang.Type{lang.TAddr}, Cols: []string{"to"}}})
	unk, _ := unknown.AppendFrame(nil, []runtime.Message{{Coll: "nope", Tuple: runtime.Tuple{b.Self}}})
	garbage := append([]byte("BLM\x01"), 0, 0, 0, 3, 0xff, 0xff, 0xff)
	stream := binary.AppendUvarint([]byte{streamPeer}, 3)
	stream = append(stream, "x:1"...)
	for _, f := range [][]byte{wrongArity, unk, garbage, good} {
		stream = append(stream, f...)
	}
	if _, err := s.Write(stream); err != nil {
		t.Fatal(err)
	}
	if !b.waitFor(t, "pinged", 1, 5*time.Second) {
		t.Fatal("the valid frame after bad ones was not delivered")
	}
	if r := b.T.Stats().FramesRejected; r != 3 {
		t.Fatalf("rejected %d frames, want 3", r)
	}
	// A broken header loses the framing: the stream is dropped, the node
	// goes on.
	s.Write([]byte("garbage!"))
	s2, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	good2, _ := sch.AppendFrame(nil, []runtime.Message{{To: b.Self, Coll: "ping", Tuple: runtime.Tuple{b.Self, stdlib.Addr("x:1"), int64(8)}}})
	s2.Write(append(append([]byte{}, stream[:5]...), good2...))
	if !b.waitFor(t, "pinged", 2, 5*time.Second) {
		t.Fatal("the node stopped accepting after a broken stream")
	}
}

func TestDeadPeerQueueIsBounded(t *testing.T) {
	dir := certs(t, "a")
	a := startHost(t, pingProgram, creds(t, dir, "a"), "127.0.0.1:0", func(c *HostConfig) {
		c.QueueLimit = 100
		c.DialTimeout = 300 * time.Millisecond
	})
	// Nothing listens on port 9 of 127.0.0.1 (discard; UDP unanswered).
	dead := stdlib.Addr("127.0.0.1:9")
	var msgs []runtime.Message
	for i := range 1000 {
		msgs = append(msgs, runtime.Message{To: dead, Coll: "ping", Tuple: runtime.Tuple{dead, a.Self, int64(i)}})
	}
	for range 5 {
		a.T.Send(msgs)
	}
	a.T.mu.Lock()
	p := a.T.peers[string(dead)]
	a.T.mu.Unlock()
	p.mu.Lock()
	q := p.queued
	p.mu.Unlock()
	if q > 100 {
		t.Fatalf("%d messages queued for a dead peer, limit 100", q)
	}
	deadline := time.Now().Add(5 * time.Second)
	for a.T.Stats().Dropped < 5000 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if s := a.T.Stats(); s.Dropped != 5000 || s.Sent != 0 {
		t.Fatalf("stats %+v, want all 5000 dropped", s)
	}
	a.T.Send([]runtime.Message{{To: "no port", Coll: "ping", Tuple: runtime.Tuple{stdlib.Addr("no port"), a.Self, int64(1)}}})
	deadline = time.Now().Add(2 * time.Second)
	for a.T.Stats().Dropped < 5001 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if d := a.T.Stats().Dropped; d != 5001 {
		t.Fatalf("bad address not dropped: %d", d)
	}
}

func TestInsecureDevTalksToInsecureDev(t *testing.T) {
	c1, err := InsecureDevCredentials(nil)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := InsecureDevCredentials(nil)
	a := startHost(t, pingProgram, c1, "127.0.0.1:0", nil)
	b := startHost(t, pingProgram, c2, "127.0.0.1:0", nil)
	a.T.Send([]runtime.Message{{To: b.Self, Coll: "ping", Tuple: runtime.Tuple{b.Self, a.Self, int64(1)}}})
	if !a.waitFor(t, "ponged", 1, 5*time.Second) {
		t.Fatal("no pong between insecure-dev nodes")
	}
	// A verifying node does not accept an insecure-dev one.
	dir := certs(t, "v")
	v := startHost(t, pingProgram, creds(t, dir, "v"), "127.0.0.1:0", nil)
	a.T.Send([]runtime.Message{{To: v.Self, Coll: "ping", Tuple: runtime.Tuple{v.Self, a.Self, int64(2)}}})
	time.Sleep(500 * time.Millisecond)
	if v.count("pinged") != 0 {
		t.Fatal("verifying node accepted an insecure-dev peer")
	}
	_ = tls.VersionTLS13
}
