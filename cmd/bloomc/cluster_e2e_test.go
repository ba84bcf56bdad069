package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestThreeNodeKVS runs examples/kvs.bloom as three real processes on
// 127.0.0.1: writes at two replicas reach the third by gossip, and on
// SIGTERM the three print identical stores.
func TestThreeNodeKVS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	bin := bloomcBinary(t)
	dir := t.TempDir()
	src, err := os.ReadFile("../../examples/kvs.bloom")
	if err != nil {
		t.Fatal(err)
	}
	addrs := []string{freeUDPAddr(t), freeUDPAddr(t), freeUDPAddr(t)}
	prog := string(src)
	for i, a := range addrs {
		prog = strings.ReplaceAll(prog, `"127.0.0.1:700`+string(rune('1'+i))+`"`, `"`+a+`"`)
	}
	if err := os.WriteFile(filepath.Join(dir, "kvs.bloom"), []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	var nodes []*proc
	for _, a := range addrs {
		nodes = append(nodes, start(t, dir, bin, true, "run", "kvs.bloom", "--listen", a, "--insecure-dev", "--print", "kv.kv"))
	}
	bloomcOK(t, dir, bin, "send", "--insecure-dev", addrs[0], `set("color", "blue")`)
	bloomcOK(t, dir, bin, "send", "--insecure-dev", addrs[1], `set("size", "L")`)

	// Read at every replica until both writes have arrived there.
	for r, addr := range addrs {
		watch := start(t, dir, bin, false, "watch", "--insecure-dev", addr, "value")
		seen := map[string]bool{}
		deadline := time.After(20 * time.Second)
		for !(seen["color"] && seen["size"]) {
			time.Sleep(100 * time.Millisecond) // let the watch register before asking
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
