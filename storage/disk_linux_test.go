package storage

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// tmpfs mounts a tmpfs of the given size (e.g. "16m") on a new directory,
// or skips the test where that is not allowed (not root, no mount).
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	return dir
}

const diskProgram = `
durable table kv(k: string, v: string) key(k);
input put(k: string, v: string);
kv(k, v) <= put(k, v);
`

func randomText(n int) string {
	b := make([]byte, n/2)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// A full disk fails the commit with a clear error before badger could
// fault on its memory-mapped files; the node halts, and everything it
// committed is intact (read back read-only, then read-write once there is
// room again).
func TestDiskFull(t *testing.T) {
	mnt := tmpfs(t, "32m")
	dir := filepath.Join(mnt, "data")
	o := Options{MemTableSize: 1 << 20, MinFree: 8 << 20}
	n := openNode(t, dir, diskProgram, o)
	committed := map[string]string{}
	for i := range 20 {
		for j := range 10 {
			k := randomText(8) + "-" + string(rune('a'+j))
			v := randomText(512)
			n.put(t, "put", k, v)
			committed[k] = v
		}
		n.tick(t)
		_ = i
	}
	// Fill the file system up to a little above the reserve.
	free, ok := freeSpace(mnt)
	if !ok {
		t.Skip("no statfs")
	}
	filler := filepath.Join(mnt, "filler")
	if err := os.WriteFile(filler, make([]byte, free-(8<<20)-(256<<10)), 0o600); err != nil {
		t.Fatal(err)
	}
	var tickErr error
	for i := 0; i < 100 && tickErr == nil; i++ {
		batch := map[string]string{}
		for range 10 {
			k, v := randomText(8), randomText(2048)
			n.put(t, "put", k, v)
			batch[k] = v
		}
		if tickErr = n.Tick(); tickErr == nil {
			for k, v := range batch {
				committed[k] = v
			}
		}
	}
	if tickErr == nil || !strings.Contains(tickErr.Error(), "disk full") {
		t.Fatalf("tick error: %v", tickErr)
	}
	t.Log(tickErr)
	if n.Halted() == nil {
		t.Fatal("node not halted")
	}
	if err := n.CloseStore(); err != nil {
		t.Logf("close: %v", err)
	}

	check := func(st *Store) {
		t.Helper()
		c, err := st.Contents()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, tu := range c.Colls[0].Tuples {
			got[tu[0].(string)] = tu[1].(string)
		}
		if len(got) != len(committed) {
			t.Fatalf("store holds %d tuples, %d were committed", len(got), len(committed))
		}
		for k, v := range committed {
			if got[k] != v {
				t.Fatalf("committed %s lost", k)
			}
		}
	}
	// Still full: a read-only open (bloomc data dump) works.
	st, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	check(st)
	st.Close()
	// With room again the node starts and goes on.
	os.Remove(filler)
	n = openNode(t, dir, diskProgram, o)
	check(n.st)
	n.put(t, "put", "after", "x")
	n.tick(t)
	n.CloseStore()
}

// A data directory on a read-only file system: the node does not start,
// with a clear error; bloomc data dump (read-only) still reads it.
func TestReadOnlyFileSystem(t *testing.T) {
	mnt := tmpfs(t, "16m")
	dir := filepath.Join(mnt, "data")
	n := openNode(t, dir, diskProgram, Options{MemTableSize: 1 << 20, MinFree: -1})
	n.put(t, "put", "a", "1")
	n.tick(t)
	if err := n.CloseStore(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("", mnt, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot remount read-only: %v", err)
	}
	defer syscall.Mount("", mnt, "", syscall.MS_REMOUNT, "")
	_, err := tryOpenNode(dir, diskProgram, Options{MemTableSize: 1 << 20})
	if err == nil || !strings.Contains(err.Error(), "read-only file system") {
		t.Fatalf("open on a read-only file system: %v", err)
	}
	t.Log(err)
	st, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.Contents()
	if err != nil || len(c.Colls) != 1 || len(c.Colls[0].Tuples) != 1 {
		t.Fatalf("contents %v %v", c, err)
	}
}
