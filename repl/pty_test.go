package repl

// Interactive tests: the REPL runs in a child process (this test binary,
// re-executed with BLOOM_REPL_CHILD set) attached to a pseudo-terminal
// from github.com/creack/pty, a test-only dependency: it is how a test can
// be a terminal, so that readline's line editing, completion and history
// are exercised exactly as a person at a terminal would.

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

func TestMain(m *testing.M) {
	if os.Getenv("BLOOM_REPL_CHILD") == "1" {
		maxTicks, _ := strconv.ParseInt(os.Getenv("BLOOM_REPL_MAX_TICKS"), 10, 64)
		os.Exit(Run(Config{
			Session:     Options{Start: testStart, MaxRunTicks: maxTicks},
			Stdin:       os.Stdin,
			Stdout:      os.Stdout,
			Stderr:      os.Stderr,
			HistoryFile: os.Getenv("BLOOM_REPL_HISTORY"),
			Banner:      "bloom test session",
			Color:       true,
		}))
	}
	os.Exit(m.Run())
}

// term is a child REPL on a pseudo-terminal.
type term struct {
	t    *testing.T
	cmd  *exec.Cmd
	ptmx *os.File
	mu   sync.Mutex
	out  bytes.Buffer // everything the child wrote
	seen int          // bytes of out that expect has consumed
	done chan struct{}
}

func startTerm(t *testing.T, env ...string) *term {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{"BLOOM_REPL_CHILD=1", "TERM=xterm"}, env...)...)
	cmd.Dir = t.TempDir()
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 160})
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	tm := &term{t: t, cmd: cmd, ptmx: ptmx, done: make(chan struct{})}
	go func() {
		defer close(tm.done)
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			tm.mu.Lock()
			tm.out.Write(buf[:n])
			tm.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		ptmx.Close()
		<-tm.done
		cmd.Wait()
	})
	return tm
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\r`)

// screen returns what the child wrote since the last match, without
// escape sequences and carriage returns.
func (tm *term) screen() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return ansi.ReplaceAllString(tm.out.String()[tm.seen:], "")
}

// expect waits until the output since the last match contains want, and
// consumes the output up to the end of the match.
func (tm *term) expect(want string) {
	tm.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		tm.mu.Lock()
		raw := tm.out.String()[tm.seen:]
		clean := ansi.ReplaceAllString(raw, "")
		if i := strings.Index(clean, want); i >= 0 {
			// Find how many raw bytes produce the clean text up to the
			// end of the match.
			end := len(raw)
			for j := 1; j <= len(raw); j++ {
				if strings.Contains(ansi.ReplaceAllString(raw[:j], ""), want) {
					end = j
					break
				}
			}
			tm.seen += end
			tm.mu.Unlock()
			return
		}
		tm.mu.Unlock()
		select {
		case <-tm.done:
			tm.t.Fatalf("the REPL exited while waiting for %q; its output:\n%s", want, tm.screen())
		default:
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out waiting for %q; output since the last match:\n%q", want, tm.screen())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (tm *term) send(keys string) {
	tm.t.Helper()
	if _, err := tm.ptmx.Write([]byte(keys)); err != nil {
		tm.t.Fatal(err)
	}
}

// wait waits for the child to exit and returns its exit status.
func (tm *term) wait() int {
	tm.t.Helper()
	select {
	case <-tm.done:
	case <-time.After(20 * time.Second):
		tm.t.Fatalf("the REPL did not exit; output:\n%s", tm.screen())
	}
	err := tm.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return 0
}

const (
	keyUp    = "\x1b[A"
	keyTab   = "\t"
	keyEnter = "\r"
	ctrlC    = "\x03"
	ctrlD    = "\x04"
)

// TestReplTerminal types at the REPL through a pseudo-terminal: a
// statement over two lines (continuation prompt), Tab completion of
// commands, collection names and keywords, Ctrl-C and Ctrl-D; then starts
// it again and recalls the earlier session's lines from the history file.
func TestReplTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes on a pseudo-terminal")
	}
	hist := filepath.Join(t.TempDir(), "history")
	tm := startTerm(t, "BLOOM_REPL_HISTORY="+hist)
	tm.expect("bloom test session")
	tm.expect(Prompt)

	// A statement over two lines.
	tm.send("table link(from: string," + keyEnter)
	tm.expect(ContPrompt)
	tm.send("           to: string);" + keyEnter)
	tm.expect(Prompt)
	tm.send(`link("a", "b");` + keyEnter)
	tm.expect(Prompt)

	// Completion of a command name (one candidate: inserted).
	tm.send(":ti" + keyTab)
	tm.expect(":tick ")
	tm.send(keyEnter)
	tm.expect("tick 1")
	tm.expect(Prompt)

	// Completion of a collection name after :dump.
	tm.send(":dump li" + keyTab)
	tm.expect(":dump link")
	tm.send(keyEnter)
	tm.expect(`"a"   "b"`)
	tm.expect(Prompt)

	// Completion of a keyword in a statement; Ctrl-C drops the line.
	tm.send("scr" + keyTab)
	tm.expect("scratch")
	tm.send(ctrlC)
	tm.expect(Prompt)

	// Several candidates are listed.
	tm.send(":d" + keyTab)
	tm.expect(":drop")
	tm.send(ctrlC)
	tm.expect(Prompt)
	tm.send(":d" + keyTab + keyTab)
	tm.expect(":dump")
	tm.send(ctrlC)
	tm.expect(Prompt)

	// Ctrl-C in the middle of a statement discards it.
	tm.send("table half(" + keyEnter)
	tm.expect(ContPrompt)
	tm.send(ctrlC)
	tm.expect(Prompt)
	tm.send(":collections" + keyEnter)
	tm.expect("link(from: string, to: string)")
	tm.expect(Prompt)
	if strings.Contains(tm.screen(), "half") {
		t.Error("the discarded statement was declared")
	}

	tm.send(ctrlD)
	if code := tm.wait(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}

	// The statement typed over two lines is one history entry.
	b, err := os.ReadFile(hist)
	if err != nil {
		t.Fatal(err)
	}
	wantHist := "table link(from: string, to: string);\nlink(\"a\", \"b\");\n:tick\n:dump link\n:collections\n"
	if string(b) != wantHist {
		t.Errorf("history file:\n%s\nwant:\n%s", b, wantHist)
	}

	// A new session recalls the lines with the up arrow.
	tm = startTerm(t, "BLOOM_REPL_HISTORY="+hist)
	tm.expect(Prompt)
	tm.send(keyUp)
	tm.expect(":collections")
	tm.send(keyUp + keyUp + keyUp + keyUp)
	tm.expect("table link(from: string, to: string);")
	tm.send(keyEnter)
	tm.expect(Prompt)
	tm.send(":collections" + keyEnter)
	tm.expect("table  link(from: string, to: string)  0 tuples")
	tm.expect(Prompt)
	tm.send(":quit" + keyEnter)
	if code := tm.wait(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
}

// TestReplTerminalInterrupt stops a :run that would not end with Ctrl-C,
// which reaches the REPL as SIGINT while a command runs.
func TestReplTerminalInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes on a pseudo-terminal")
	}
	tm := startTerm(t, "BLOOM_REPL_MAX_TICKS=1000000000")
	tm.expect(Prompt)
	tm.send("table c(id: int, n: int) key(id); c(1, 0); c(i, n + 1) <+- c(i, n);" + keyEnter)
	tm.expect(Prompt)
	tm.send(":run" + keyEnter)
	time.Sleep(200 * time.Millisecond)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(tm.screen(), "interrupted") {
		if time.Now().After(deadline) {
			t.Fatalf("Ctrl-C did not stop :run; output:\n%s", tm.screen())
		}
		tm.send(ctrlC)
		time.Sleep(300 * time.Millisecond)
	}
	tm.expect("interrupted")
	tm.expect(Prompt)
	tm.send(":dump c" + keyEnter)
	tm.expect("c (table, 1 tuple, tick ")
	tm.send(ctrlD)
	if code := tm.wait(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
}
