package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const netPingProgram = `// ping-pong between two nodes
input go(to: addr, seq: int);
channel ping(@to: addr, from: addr, seq: int);
channel pong(@to: addr, seq: int);
table pings(from: addr, seq: int);
table pongs(seq: int);
output ponged(seq: int);
ping(@t, self(), s) <~ go(t, s);
pong(@f, s) <~ ping(_, f, s);
pings(f, s) <= ping(_, f, s);
pongs(s) <= pong(_, s);
ponged(s) <= pong(_, s);
`

// freeUDPAddr returns a 127.0.0.1 address whose UDP port was free a
// moment ago.
func freeUDPAddr(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

// proc is a running bloomc process.
type proc struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	mu     sync.Mutex
	stderr bytes.Buffer
	ready  chan struct{}
	lines  chan string // stdout lines, for watchers
	done   chan error
}

// start runs bin with args. With wait, it waits until the process is
// ready: a node listening, or a `bloomc watch` registered.
func start(t *testing.T, dir, bin string, wait bool, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), ready: make(chan struct{}), lines: make(chan string, 100), done: make(chan error, 1)}
	p.cmd.Dir = dir
	outPipe, _ := p.cmd.StdoutPipe()
	errPipe, _ := p.cmd.StderrPipe()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(outPipe)
		for sc.Scan() {
			p.mu.Lock()
			p.stdout.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
	}()
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(errPipe)
		once := sync.Once{}
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if strings.Contains(sc.Text(), "node listening") || strings.HasPrefix(sc.Text(), "bloomc watch: watching ") {
				once.Do(func() { close(p.ready) })
			}
		}
	}()
	go func() {
		wg.Wait()
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() { p.cmd.Process.Kill() })
	if wait {
		select {
		case <-p.ready:
		case err := <-p.done:
			t.Fatalf("%v exited: %v\n%s", args, err, p.errText())
		case <-time.After(10 * time.Second):
			t.Fatalf("%v: not ready after 10s\n%s", args, p.errText())
		}
	}
	return p
}

func (p *proc) errText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func (p *proc) outText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String()
}

// stop sends SIGTERM and waits for exit status 0.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.errText())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no exit 10s after SIGTERM\n%s", p.errText())
	}
}

func bloomcOK(t *testing.T, dir, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bloomc %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func bloomcFails(t *testing.T, dir, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("bloomc %v succeeded:\n%s", args, out)
	}
	return string(out)
}

// TestNetworkedNodes runs real processes: a node from `bloomc run
// --listen` and one from a `bloomc build` executable, with mutual TLS;
// `bloomc send`, `bloomc watch`, a foreign-CA client that is refused, a
// peer killed and restarted on the same address, and SIGTERM printing
// the final state.
func TestNetworkedNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	bin := bloomcBinary(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ping.bloom"), []byte(netPingProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	bloomcOK(t, dir, bin, "cert", "init", "certs")
	for _, n := range []string{"n1", "n2", "client"} {
		bloomcOK(t, dir, bin, "cert", "issue", "certs", n, "--host", "127.0.0.1,localhost")
	}
	bloomcOK(t, dir, bin, "cert", "init", "evil")
	bloomcOK(t, dir, bin, "cert", "issue", "evil", "mallory", "--host", "127.0.0.1")
	if st, err := os.Stat(filepath.Join(dir, "certs", "ca.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("ca.key mode: %v %v", st.Mode(), err)
	}
	bloomcOK(t, dir, bin, "build", "ping.bloom", "-o", "pingnode")
	node := filepath.Join(dir, "pingnode")

	a1, a2 := freeUDPAddr(t), freeUDPAddr(t)
	tlsArgs := func(name string) []string {
		return []string{"--ca", "certs/ca.pem", "--cert", "certs/" + name + ".pem", "--key", "certs/" + name + ".key"}
	}
	n1 := start(t, dir, bin, true, append([]string{"run", "ping.bloom", "--listen", a1, "--print", "pongs"}, tlsArgs("n1")...)...)
	n2 := start(t, dir, node, true, append([]string{"--listen", a2, "--print", "pings"}, tlsArgs("n2")...)...)

	watch := start(t, dir, bin, true, append([]string{"watch", a1, "ponged"}, tlsArgs("client")...)...)

	send := func(seq int) {
		t.Helper()
		bloomcOK(t, dir, bin, append(append([]string{"send"}, tlsArgs("client")...), a1, fmt.Sprintf(`go("%s", %d)`, a2, seq))...)
	}
	send(1)
	send(2)
	waitLine := func(want string, d time.Duration) bool {
		deadline := time.After(d)
		for {
			select {
			case l := <-watch.lines:
				if l == want {
					return true
				}
			case <-deadline:
				return false
			}
		}
	}
	if !waitLine("ponged(2)", 10*time.Second) {
		t.Fatalf("watch did not see ponged(2); watch output:\n%s\n%s", watch.outText(), watch.errText())
	}

	// A client with a certificate of another CA is refused.
	out := bloomcFails(t, dir, bin, "send", "--ca", "evil/ca.pem", "--cert", "evil/mallory.pem", "--key", "evil/mallory.key", a1, fmt.Sprintf(`go("%s", 99)`, a2))
	t.Logf("foreign client: %s", strings.TrimSpace(out))
	// And a client that trusts the right CA but shows a foreign cert.
	bloomcFails(t, dir, bin, "send", "--ca", "certs/ca.pem", "--cert", "evil/mallory.pem", "--key", "evil/mallory.key", "--timeout", "5s", a1, fmt.Sprintf(`go("%s", 98)`, a2))

	// Kill n2 hard and restart it on the same address: n1 reconnects.
	n2.cmd.Process.Kill()
	<-n2.done
	n2 = start(t, dir, node, true, append([]string{"--listen", a2, "--print", "pings"}, tlsArgs("n2")...)...)
	ok := false
	for seq := 3; seq < 40 && !ok; seq++ {
		send(seq)
		ok = waitLine(fmt.Sprintf("ponged(%d)", seq), 500*time.Millisecond)
	}
	if !ok {
		t.Fatalf("no pong from the restarted n2\nn1:\n%s\nn2:\n%s", n1.errText(), n2.errText())
	}

	n2.stop(t)
	n1.stop(t)
	watch.cmd.Process.Signal(syscall.SIGTERM)
	<-watch.done
	// The refused sends (seq 99 and 98) must leave no trace. Match whole
	// tuples: the ports in these lines are random and may contain "99".
	if got := n1.outText(); !strings.HasPrefix(got, "pongs(1)\npongs(2)\n") || strings.Contains(got, "pongs(99)") || strings.Contains(got, "pongs(98)") {
		t.Fatalf("n1 printed:\n%s", got)
	}
	if got := n2.outText(); !strings.Contains(got, fmt.Sprintf("pings(%q, ", a1)) || strings.Contains(got, ", 99)") || strings.Contains(got, ", 98)") {
		t.Fatalf("restarted n2 printed:\n%s", got)
	}
	_ = io.Discard
}
