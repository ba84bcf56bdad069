package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startKVS starts examples/kvs.bloom as three replicas on free 127.0.0.1
// ports (the example's peer facts rewritten to them).
func startKVS(t *testing.T) (bin, dir string, addrs []string, nodes []*proc) {
	t.Helper()
	bin = bloomcBinary(t)
	dir = t.TempDir()
	src, err := os.ReadFile("../../examples/kvs.bloom")
	if err != nil {
		t.Fatal(err)
	}
	addrs = []string{freeUDPAddr(t), freeUDPAddr(t), freeUDPAddr(t)}
	prog := string(src)
	for i, a := range addrs {
		prog = strings.ReplaceAll(prog, `"127.0.0.1:700`+string(rune('1'+i))+`"`, `"`+a+`"`)
	}
	if err := os.WriteFile(filepath.Join(dir, "kvs.bloom"), []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		nodes = append(nodes, start(t, dir, bin, true, "run", "kvs.bloom", "--listen", a, "--insecure-dev", "--print", "kv.kv"))
	}
	return bin, dir, addrs, nodes
}

// TestThreeNodeKVS runs examples/kvs.bloom as three real processes on
// 127.0.0.1: writes at two replicas reach the third by gossip, and on
// SIGTERM the three print identical stores.
func TestThreeNodeKVS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	bin, dir, addrs, nodes := startKVS(t)
	bloomcOK(t, dir, bin, "send", "--insecure-dev", addrs[0], `set("color", "blue")`)
	bloomcOK(t, dir, bin, "send", "--insecure-dev", addrs[1], `set("size", "L")`)

	// Read at every replica until both writes have arrived there.
	for r, addr := range addrs {
		watch := start(t, dir, bin, true, "watch", "--insecure-dev", addr, "value")
		seen := map[string]bool{}
		deadline := time.After(20 * time.Second)
		for !(seen["color"] && seen["size"]) {
			time.Sleep(100 * time.Millisecond) // pace the reads while replication catches up
			bloomcOK(t, dir, bin, "send", "--insecure-dev", addr, `get("color")`, `get("size")`)
		drain:
			for {
				select {
				case l := <-watch.lines:
					seen["color"] = seen["color"] || strings.Contains(l, `"blue"`)
					seen["size"] = seen["size"] || strings.Contains(l, `"L"`)
				case <-time.After(200 * time.Millisecond):
					break drain
				case <-deadline:
					t.Fatalf("replica %d did not see both writes; saw %v\n%s", r+1, seen, nodes[r].errText())
				}
			}
		}
		watch.cmd.Process.Kill()
	}
	var outs []string
	for _, n := range nodes {
		n.stop(t)
		outs = append(outs, n.outText())
	}
	if !strings.Contains(outs[0], `"blue"`) || !strings.Contains(outs[0], `"L"`) {
		t.Fatalf("replica 1 store:\n%s", outs[0])
	}
	for i := 1; i < 3; i++ {
		if outs[i] != outs[0] {
			t.Errorf("replica %d differs from replica 1:\n%s\nvs\n%s", i+1, outs[i], outs[0])
		}
	}
}

// waitLine reads a watch's lines until one contains want.
func waitLine(t *testing.T, w *proc, want string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case l := <-w.lines:
			if strings.Contains(l, want) {
				return
			}
		case <-deadline:
			t.Fatalf("no %q within %v; watch printed:\n%s", want, within, w.outText())
		}
	}
}

// TestTwoPhaseCommitProcesses runs examples/two_phase_commit.bloom as three
// real processes: all yes commits, one no aborts, and a participant cut off
// (SIGSTOP: it neither answers nor notices) makes the coordinator abort on
// its timeout.
func TestTwoPhaseCommitProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	bin := bloomcBinary(t)
	dir := t.TempDir()
	prog, err := filepath.Abs("../../examples/two_phase_commit.bloom")
	if err != nil {
		t.Fatal(err)
	}
	addrs := []string{freeUDPAddr(t), freeUDPAddr(t), freeUDPAddr(t)}
	var nodes []*proc
	for _, a := range addrs {
		nodes = append(nodes, start(t, dir, bin, true, "run", prog, "--listen", a, "--insecure-dev"))
	}
	watch := start(t, dir, bin, true, "watch", "--insecure-dev", addrs[0], "tp.decided")
	begin := func(tx string) {
		bloomcOK(t, dir, bin, "send", "--insecure-dev", addrs[0],
			`start(`+tx+`, "`+addrs[1]+`")`, `start(`+tx+`, "`+addrs[2]+`")`)
	}
	begin("1")
	waitLine(t, watch, "tp.decided(1, true)", 10*time.Second)

	bloomcOK(t, dir, bin, "send", "--insecure-dev", addrs[2], `refuse(2)`)
	begin("2")
	waitLine(t, watch, "tp.decided(2, false)", 10*time.Second)

	nodes[2].cmd.Process.Signal(syscall.SIGSTOP)
	defer nodes[2].cmd.Process.Signal(syscall.SIGCONT)
	started := time.Now()
	begin("3")
	waitLine(t, watch, "tp.decided(3, false)", 10*time.Second)
	if d := time.Since(started); d < 900*time.Millisecond {
		t.Errorf("transaction 3 aborted after %v, before the 1 s vote timeout", d)
	}
}

// TestKVSPartitionHeals cuts one kvs replica off (SIGSTOP), writes at the
// others, and checks that after the partition heals (SIGCONT) the replica
// catches up by gossip and anti-entropy.
func TestKVSPartitionHeals(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	bin, dir, addrs, nodes := startKVS(t)
	nodes[2].cmd.Process.Signal(syscall.SIGSTOP)
	bloomcOK(t, dir, bin, "send", "--insecure-dev", addrs[0], `set("during", "partition")`)
	time.Sleep(1500 * time.Millisecond) // gossip to the cut-off replica is lost meanwhile
	nodes[2].cmd.Process.Signal(syscall.SIGCONT)

	watch := start(t, dir, bin, true, "watch", "--insecure-dev", addrs[2], "value")
	deadline := time.After(20 * time.Second)
	for found := false; !found; {
		time.Sleep(200 * time.Millisecond)
		bloomcOK(t, dir, bin, "send", "--insecure-dev", addrs[2], `get("during")`)
	drain:
		for {
			select {
			case l := <-watch.lines:
				found = found || strings.Contains(l, `"partition"`)
			case <-time.After(200 * time.Millisecond):
				break drain
			case <-deadline:
				t.Fatalf("the healed replica never caught up\n%s", nodes[2].errText())
			}
		}
	}
	watch.cmd.Process.Kill()
	for _, n := range nodes {
		n.stop(t)
	}
	for i := 1; i < 3; i++ {
		if a, b := nodes[i].outText(), nodes[0].outText(); a != b {
			t.Errorf("replica %d differs after healing:\n%s\nvs\n%s", i+1, a, b)
		}
	}
}
