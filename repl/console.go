package repl

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
)

// console is what a Session and a Remote share: input lines assembled into
// statements and commands, and the output with its diagnostics.
type console struct {
	opts   Options
	out    io.Writer
	errw   io.Writer
	prompt string
	// mu serializes output: a Remote prints watched outputs from other
	// goroutines.
	mu sync.Mutex

	// statements receives the statements completed by a line, command a
	// command line.
	statements func([]*entry)
	command    func(line string)

	lines     []string // every input line, for showing errors in context
	pending   string   // an incomplete statement
	pendLine  int      // position of pending[0]
	pendCol   int
	pendState scanState
	files     map[string][]string // lines of files read, for errors
	failed    bool
	quit      bool
	interrupt atomic.Bool
}

// init sets the defaults of opts and the console's output.
func (c *console) init(opts Options, prompt string) {
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Err == nil {
		opts.Err = opts.Out
	}
	if opts.InputName == "" {
		opts.InputName = DefaultInputName
	}
	c.opts, c.out, c.errw, c.prompt = opts, opts.Out, opts.Err, prompt
	c.files = map[string][]string{}
}

// setOutput redirects the output (to readline's writer, which redraws the
// prompt around output printed while a line is being edited).
func (c *console) setOutput(out, errw io.Writer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out, c.errw = out, errw
}

// Failed reports whether any statement or command has failed.
func (c *console) Failed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed
}

// Done reports whether :quit was given.
func (c *console) Done() bool { return c.quit }

// Pending reports whether an incomplete statement is waiting for more
// lines.
func (c *console) Pending() bool { return c.pending != "" }

// Prompt returns the prompt for the next line: Prompt (for a Remote, the
// node's address and "> "), or ContPrompt while a statement is incomplete.
func (c *console) Prompt() string {
	if c.Pending() {
		return ContPrompt
	}
	return c.prompt
}

// Interrupt asks a running :tick or :run to stop after the current tick
// (for a Remote, abandons the wait for a send). It may be called from
// another goroutine (a signal handler).
func (c *console) Interrupt() { c.interrupt.Store(true) }

// Cancel discards an incomplete statement (Ctrl-C at the prompt). It
// reports whether there was one.
func (c *console) Cancel() bool {
	had := c.Pending()
	c.pending, c.pendState = "", inCode
	return had
}

// Line processes one line of input (without its newline): statements
// complete when their `;` arrives, and a line whose first non-blank
// character is `:` is a command.
func (c *console) Line(text string) {
	if c.opts.Echo {
		fmt.Fprintf(c.out, "%s%s\n", c.Prompt(), text)
	}
	c.lines = append(c.lines, text)
	lineNo := len(c.lines)
	if t := strings.TrimSpace(text); strings.HasPrefix(t, ":") && c.pendState != inBlockComment {
		c.discardPending()
		c.command(t)
		return
	}
	if c.pending == "" {
		c.pending, c.pendLine, c.pendCol = text, lineNo, 1
	} else {
		c.pending += "\n" + text
	}
	c.drain()
}

// Finish ends the input: an incomplete statement is an error.
func (c *console) Finish() {
	c.discardPending()
}

func (c *console) discardPending() {
	if c.pending == "" {
		return
	}
	_, rest, tokens, state := split(c.pending)
	if tokens || state == inBlockComment {
		l, col := lineCol(c.pendLine, c.pendCol, c.pending[:rest])
		what := "statement"
		if !tokens {
			what = "comment"
		}
		c.report(diag{pos: lang.Pos{File: c.opts.InputName, Line: l, Col: col}, msg: "unterminated " + what + " discarded (a statement ends with ;)"})
	}
	c.pending, c.pendState = "", inCode
}

// drain runs the complete statements of the pending text.
func (c *console) drain() {
	stmts, rest, tokens, state := split(c.pending)
	text, line, col := c.pending, c.pendLine, c.pendCol
	var news []*entry
	for _, r := range stmts {
		l, cl := lineCol(line, col, text[:r[0]])
		news = append(news, &entry{file: c.opts.InputName, line: l, col: cl, text: text[r[0]:r[1]]})
	}
	restLine, restCol := lineCol(line, col, text[:rest])
	c.pending, c.pendState = "", inCode
	if len(news) > 0 {
		c.statements(news)
	}
	switch r := strings.TrimSpace(text[rest:]); {
	case tokens && strings.HasPrefix(r, ":") && len(stmts) > 0:
		c.command(r) // `a(1); :tick` on one line
	case tokens || state == inBlockComment:
		c.pending, c.pendLine, c.pendCol, c.pendState = text[rest:], restLine, restCol, state
	}
}

func (c *console) color(code, text string) string {
	if !c.opts.Color {
		return text
	}
	return code + text + ansiReset
}

func (c *console) printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.out, format, args...)
}

// errorf reports an error without a position; the session has failed.
func (c *console) errorf(format string, args ...any) {
	c.report(diag{msg: fmt.Sprintf(format, args...)})
}

// warnf reports a warning; it does not fail the session.
func (c *console) warnf(format string, args ...any) {
	c.report(diag{msg: fmt.Sprintf(format, args...), warn: true})
}

// report prints diagnostics: `FILE:LINE:COL: error: message`, then the
// offending line with a caret under the column when the line is known.
func (c *console) report(ds ...diag) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range ds {
		kind := c.color(ansiRed, "error:")
		if d.warn {
			kind = c.color(ansiYellow, "warning:")
		} else {
			c.failed = true
		}
		if !d.pos.IsValid() {
			fmt.Fprintf(c.errw, "%s %s\n", kind, d.msg)
			continue
		}
		fmt.Fprintf(c.errw, "%s %s %s\n", c.color(ansiBold, d.pos.String()+":"), kind, d.msg)
		if line, ok := c.sourceLine(d.pos.File, d.pos.Line); ok {
			fmt.Fprintf(c.errw, "    %s\n    %s\n", strings.TrimRight(line, " \t\r"), c.color(ansiRed, caret(line, d.pos.Col)))
		}
	}
}

// sourceLine returns line n of a file the session has read or typed.
func (c *console) sourceLine(file string, n int) (string, bool) {
	var lines []string
	if file == c.opts.InputName {
		lines = c.lines
	} else {
		var ok bool
		if lines, ok = c.files[file]; !ok {
			if src, err := os.ReadFile(file); err == nil {
				lines = strings.Split(string(src), "\n")
			}
			c.files[file] = lines
		}
	}
	if n < 1 || n > len(lines) {
		return "", false
	}
	return lines[n-1], true
}

// table prints a collection's tuples as an aligned table with a header
// line naming the collection, and column names underlined.
func (c *console) table(coll *compiler.Coll, ts []runtime.Tuple, when string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	info := coll.Info
	kind := info.Kind.String()
	if info.Durable {
		kind = "durable " + kind
	}
	fmt.Fprintf(c.out, "%s %s\n", c.color(ansiBold, coll.Name), c.color(ansiDim, fmt.Sprintf("(%s, %s, %s)", kind, plural(len(ts), "tuple"), when)))
	cols := len(coll.Types)
	rows := make([][]string, 0, len(ts)+2)
	head := make([]string, cols)
	for i, col := range info.Cols {
		head[i] = col.Name
		if col.Loc {
			head[i] = "@" + col.Name
		}
	}
	rows = append(rows, head, nil)
	for _, t := range ts {
		row := make([]string, cols)
		for i := range row {
			row[i] = formatValue(coll.Types[i], t[i])
		}
		rows = append(rows, row)
	}
	width := make([]int, cols)
	for _, r := range rows {
		for i, cell := range r {
			width[i] = max(width[i], utf8.RuneCountInString(cell))
		}
	}
	rows[1] = make([]string, cols)
	for i := range rows[1] {
		rows[1][i] = strings.Repeat("-", width[i])
	}
	for ri, r := range rows {
		var b strings.Builder
		for i, cell := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell))
			if i > 0 {
				b.WriteString("  ")
			}
			switch {
			case ri >= 2 && numeric(coll.Types[i]):
				b.WriteString(pad + cell)
			case i == cols-1:
				b.WriteString(cell)
			default:
				b.WriteString(cell + pad)
			}
		}
		line := b.String()
		if ri == 0 {
			line = c.color(ansiBold, line)
		}
		fmt.Fprintln(c.out, line)
	}
	if len(ts) == 0 {
		fmt.Fprintln(c.out, c.color(ansiDim, "(empty)"))
	}
}

// formatValue prints a value as bloomc run --print does.
func formatValue(t *lang.Type, v stdlib.Value) string { return stdlib.Format(t, v) }

// close ends the session; a Session has nothing to stop.
func (c *console) close() {}
