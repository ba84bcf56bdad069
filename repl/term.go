package repl

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/chzyer/readline"

	"github.com/bloomlang/bloom/transport"
)

// Config configures Run.
type Config struct {
	// Session holds the session's options; Run sets its Out, Err, Color
	// and Echo.
	Session Options
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	// HistoryFile keeps the lines typed at the terminal across sessions
	// ("" keeps none). Statements that span lines are kept as one line.
	HistoryFile string
	// Files are loaded (as by :load) before the first prompt.
	Files []string
	// Color allows colour at a terminal.
	Color bool
	// Echo writes the prompt and each line read to Stdout when the input
	// is not a terminal, so that the output reads like a session.
	Echo bool
	// Banner is printed at the start of an interactive session.
	Banner string
}

// Terminal reports whether r and w are both terminals: then Run edits
// lines with readline; otherwise it reads plain lines.
func Terminal(r io.Reader, w io.Writer) bool {
	in, ok1 := r.(*os.File)
	out, ok2 := w.(*os.File)
	return ok1 && ok2 && readline.IsTerminal(int(in.Fd())) && readline.IsTerminal(int(out.Fd()))
}

// lineSession is what the drivers need of a Session or a Remote.
type lineSession interface {
	Line(text string)
	Prompt() string
	Pending() bool
	Cancel() bool
	Done() bool
	Failed() bool
	Finish()
	Interrupt()
	Complete(line string, pos int) ([]string, int)
	setOutput(out, errw io.Writer)
	close()
}

// Run runs a session over the configured streams and returns the exit
// status: at a terminal, 0; otherwise 1 when any statement or command
// failed, else 0.
func Run(cfg Config) int {
	return run(cfg, func(opts Options) (lineSession, error) {
		s := NewSession(opts)
		for _, f := range cfg.Files {
			s.Load(f)
		}
		return s, nil
	})
}

// RunRemote is Run for a session attached to the node at addr through
// client (bloomc repl --connect). It returns 1 when the node's schema
// cannot be read.
func RunRemote(cfg Config, client *transport.Client, addr string) int {
	return run(cfg, func(opts Options) (lineSession, error) {
		ctx, cancel := context.WithTimeout(context.Background(), SendTimeout)
		defer cancel()
		return NewRemote(ctx, client, addr, opts)
	})
}

func run(cfg Config, start func(Options) (lineSession, error)) int {
	if Terminal(cfg.Stdin, cfg.Stdout) {
		return runTerminal(cfg, start)
	}
	return runPlain(cfg, start)
}

// runPlain reads lines with bufio: no prompt, no colour, no line editing.
func runPlain(cfg Config, start func(Options) (lineSession, error)) int {
	opts := cfg.Session
	opts.Out, opts.Err, opts.Color, opts.Echo = cfg.Stdout, cfg.Stderr, false, cfg.Echo
	s, err := start(opts)
	if err != nil {
		fmt.Fprintf(cfg.Stderr, "error: %v\n", err)
		return 1
	}
	defer s.close()
	sc := bufio.NewScanner(cfg.Stdin)
	sc.Buffer(make([]byte, 64*1024), 64<<20)
	for !s.Done() && sc.Scan() {
		s.Line(strings.TrimSuffix(sc.Text(), "\r"))
	}
	s.Finish()
	if err := sc.Err(); err != nil {
		fmt.Fprintf(cfg.Stderr, "error: reading input: %v\n", err)
		return 1
	}
	if s.Failed() {
		return 1
	}
	return 0
}

// completer adapts a session's Complete to readline. Its session is set
// once the session exists (after readline, whose writer it prints to).
type completer struct{ s *lineSession }

func (c completer) Do(line []rune, pos int) ([][]rune, int) {
	if *c.s == nil {
		return nil, 0
	}
	text := string(line)
	bpos := len(string(line[:pos]))
	words, n := (*c.s).Complete(text, bpos)
	prefix := text[bpos-n : bpos]
	out := make([][]rune, 0, len(words))
	for _, w := range words {
		out = append(out, []rune(strings.TrimPrefix(w, prefix)))
	}
	return out, utf8.RuneCountInString(prefix)
}

// runTerminal reads lines with readline: editing, history, completion.
func runTerminal(cfg Config, start func(Options) (lineSession, error)) int {
	var s lineSession
	rl, err := readline.NewEx(&readline.Config{
		Prompt:                 Prompt,
		HistoryFile:            cfg.HistoryFile,
		DisableAutoSaveHistory: true,
		HistorySearchFold:      true,
		AutoComplete:           completer{&s},
		InterruptPrompt:        "^C",
		EOFPrompt:              "\n",
		Stdout:                 cfg.Stdout,
		Stderr:                 cfg.Stderr,
	})
	if err != nil {
		fmt.Fprintf(cfg.Stderr, "repl: cannot use the terminal (%v); reading plain lines\n", err)
		return runPlain(cfg, start)
	}
	defer rl.Close()
	if cfg.Banner != "" {
		fmt.Fprintln(cfg.Stdout, cfg.Banner)
	}
	// Output goes through readline's writer, which redraws the line being
	// edited around what is printed meanwhile (a Remote's watches).
	// Whole lines only: readline redraws the prompt after every Write, so a
	// line written in pieces would come out with prompts inside it.
	out := &lineWriter{w: rl.Stdout()}
	defer out.Flush()
	opts := cfg.Session
	opts.Out, opts.Err, opts.Color, opts.Echo = out, out, cfg.Color, false
	if s, err = start(opts); err != nil {
		fmt.Fprintf(cfg.Stderr, "error: %v\n", err)
		return 1
	}
	defer s.close()

	// Ctrl-C while a command runs (the terminal is not in raw mode then)
	// stops :tick and :run after the current tick.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	go func() {
		for range sigs {
			s.Interrupt()
		}
	}()

	var stmt []string // the lines of the statement being typed
	for !s.Done() {
		rl.SetPrompt(s.Prompt())
		line, err := rl.Readline()
		if errors.Is(err, readline.ErrInterrupt) {
			if !s.Cancel() && line == "" {
				fmt.Fprintln(rl.Stdout(), "(:quit or Ctrl-D leaves)")
			}
			stmt = nil
			continue
		}
		if err != nil { // io.EOF: Ctrl-D on an empty line
			break
		}
		wasPending := s.Pending()
		s.Line(line)
		out.Flush()
		if strings.HasPrefix(strings.TrimSpace(line), ":") || !wasPending && !s.Pending() {
			stmt = nil
			if t := strings.TrimSpace(line); t != "" {
				rl.SaveHistory(t)
			}
			continue
		}
		stmt = append(stmt, line)
		if !s.Pending() {
			for _, h := range historyLines(stmt) {
				rl.SaveHistory(h)
			}
			stmt = nil
		}
	}
	s.Finish()
	return 0
}

// historyLines turns the lines of a statement into history entries: one
// line, joined with spaces, unless a // comment would then swallow the
// rest.
func historyLines(lines []string) []string {
	for _, l := range lines {
		if strings.Contains(l, "//") {
			return lines
		}
	}
	parts := make([]string, 0, len(lines))
	for _, l := range lines {
		if t := strings.TrimSpace(l); t != "" {
			parts = append(parts, t)
		}
	}
	return []string{strings.Join(parts, " ")}
}

// lineWriter passes on complete lines, one Write per batch of lines.
type lineWriter struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if i := bytes.LastIndexByte(l.buf, '\n'); i >= 0 {
		_, err := l.w.Write(l.buf[:i+1])
		l.buf = append(l.buf[:0], l.buf[i+1:]...)
		if err != nil {
			return len(p), err
		}
	}
	return len(p), nil
}

// Flush writes out a last unterminated line.
func (l *lineWriter) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.w.Write(l.buf)
		l.buf = l.buf[:0]
	}
}
