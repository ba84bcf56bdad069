package repl

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/bloomlang/bloom/analysis"
	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
)

// argKind says what a command's arguments are, for completion.
type argKind int

const (
	argNone argKind = iota
	argColl
	argFile
	argBloomFile
	argCommand
)

// command is one of the `:` commands.
type command struct {
	name    string
	aliases []string
	args    string // synopsis of the arguments
	help    string
	arg     argKind
	run     func(s *Session, args []string)
}

// commands is the command table, in the order :help lists them.
var commands []command

func init() {
	commands = []command{
		{name: "load", args: "FILE...", help: "add a file's statements to the program", arg: argBloomFile, run: (*Session).cmdLoad},
		{name: "tick", args: "[N]", help: "run N ticks (default 1)", run: (*Session).cmdTick},
		{name: "run", help: "run ticks until the node is quiescent", run: (*Session).cmdRun},
		{name: "dump", args: "REL", help: "print a collection as a table", arg: argColl, run: (*Session).cmdDump},
		{name: "collections", aliases: []string{"colls"}, help: "list the collections and their sizes", run: (*Session).cmdCollections},
		{name: "rules", help: "list the rules and facts, numbered", run: (*Session).cmdRules},
		{name: "drop", args: "N | REL", help: "remove rule or fact N, or the declaration of REL", arg: argColl, run: (*Session).cmdDrop},
		{name: "watch", args: "[REL]", help: "print REL after every tick (no REL: list watches)", arg: argColl, run: (*Session).cmdWatch},
		{name: "unwatch", args: "[REL]", help: "stop watching REL (no REL: all)", arg: argColl, run: (*Session).cmdUnwatch},
		{name: "history", args: "REL TICK", help: "print REL as it was at the end of an earlier tick", arg: argColl, run: (*Session).cmdHistory},
		{name: "lint", help: "the CALM verdict of the program so far", run: (*Session).cmdLint},
		{name: "graph", args: "[FILE.svg|.dot|.mmd|.json]", help: "print or write the dataflow graph", arg: argFile, run: (*Session).cmdGraph},
		{name: "save", args: "[FILE]", help: "write the program as canonical source (no FILE: print it)", arg: argBloomFile, run: (*Session).cmdSave},
		{name: "restart", help: "back to tick 0, keeping the program", run: (*Session).cmdRestart},
		{name: "reset", help: "forget the program and its state", run: (*Session).cmdReset},
		{name: "help", args: "[COMMAND]", help: "list the commands", arg: argCommand, run: (*Session).cmdHelp},
		{name: "quit", aliases: []string{"q", "exit"}, help: "leave (Ctrl-D also does)", run: (*Session).cmdQuit},
	}
}

func lookupCommand(name string) *command { return lookupIn(commands, name) }

// lookupIn finds a command of a table by name or alias.
func lookupIn(table []command, name string) *command {
	for i := range table {
		c := &table[i]
		if c.name == name || slices.Contains(c.aliases, name) {
			return c
		}
	}
	return nil
}

// sortedNames returns a map's keys, sorted.
func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// runCommand runs a `:name args` line.
func (s *Session) runCommand(line string) {
	fields := strings.Fields(strings.TrimPrefix(line, ":"))
	if len(fields) == 0 {
		s.errorf("empty command; :help lists them")
		return
	}
	c := lookupCommand(fields[0])
	if c == nil {
		var names []string
		for _, c := range commands {
			if strings.HasPrefix(c.name, fields[0]) {
				names = append(names, ":"+c.name)
			}
		}
		hint := ""
		if len(names) > 0 {
			hint = " (did you mean " + strings.Join(names, " or ") + "?)"
		}
		s.errorf("unknown command :%s%s; :help lists the commands", fields[0], hint)
		return
	}
	s.interrupt.Store(false)
	c.run(s, fields[1:])
}

func (s *Session) usage(name string) {
	c := lookupCommand(name)
	s.errorf("usage: :%s %s", c.name, c.args)
}

func (s *Session) cmdHelp(args []string) {
	if len(args) > 0 {
		c := lookupCommand(strings.TrimPrefix(args[0], ":"))
		if c == nil {
			s.errorf("no command :%s", strings.TrimPrefix(args[0], ":"))
			return
		}
		s.printf(":%s %s\n    %s\n", c.name, c.args, c.help)
		return
	}
	s.printf("Type declarations, facts and rules; a statement ends with ';' and may\n" +
		"span lines. A fact for an input collection is queued for the next tick.\n" +
		"Commands:\n")
	tw := tabwriter.NewWriter(s.out, 0, 8, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  :%s %s\t%s\n", c.name, c.args, c.help)
	}
	tw.Flush()
}

func (s *Session) cmdQuit(args []string) { s.quit = true }

func (s *Session) cmdLoad(args []string) {
	if len(args) == 0 {
		s.usage("load")
		return
	}
	for _, name := range args {
		if !s.load(name) {
			return
		}
	}
}

// load adds the statements of a file to the program.
func (s *Session) load(name string) bool {
	src, err := os.ReadFile(name)
	if err != nil {
		s.errorf("cannot read %s: %v", name, unwrapPath(err))
		return false
	}
	text := string(src)
	s.files[name] = strings.Split(text, "\n")
	f, err := lang.ParseFile(name, src)
	if err != nil {
		s.report(s.diagnose(&build{}, err)...)
		return false
	}
	ranges, _, _, _ := split(text)
	var news []*entry
	for _, r := range ranges {
		l, c := lineCol(1, 1, text[:r[0]])
		news = append(news, &entry{file: name, line: l, col: c, text: text[r[0]:r[1]]})
	}
	// A relative import is relative to the file, and the program is
	// checked as if it were in the current directory.
	if dir := filepath.Dir(name); dir != "." && len(f.Stmts) == len(news) {
		for i, st := range f.Stmts {
			im, ok := st.(*lang.Import)
			if !ok || strings.HasPrefix(im.Path, "std/") || filepath.IsAbs(im.Path) {
				continue
			}
			e := news[i]
			off := im.PathPos.Offset - ranges[i][0]
			if off < 0 || off >= len(e.text) {
				continue
			}
			lit, err := strconv.QuotedPrefix(e.text[off:])
			if err != nil {
				continue
			}
			e.text = e.text[:off] + strconv.Quote(filepath.ToSlash(filepath.Join(dir, im.Path))) + e.text[off+len(lit):]
		}
	}
	return s.add(news, name)
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func (s *Session) cmdTick(args []string) {
	n := int64(1)
	if len(args) > 1 {
		s.usage("tick")
		return
	}
	if len(args) == 1 {
		v, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil || v < 1 {
			s.errorf(":tick wants a positive number of ticks, not %q", args[0])
			return
		}
		n = v
	}
	from := s.node.TickCount() + 1
	for i := int64(0); i < n; i++ {
		if s.interrupt.Load() {
			s.ranTicks(from, "interrupted")
			return
		}
		if err := s.tick(true); err != nil {
			s.ranTicks(from, "")
			s.report(s.diagnose(s.cur, err)...)
			return
		}
	}
	s.ranTicks(from, "")
}

// ranTicks prints which ticks ran since from.
func (s *Session) ranTicks(from int64, note string) {
	to := s.node.TickCount()
	if to < from {
		if note != "" {
			s.printf("%s before any tick ran\n", note)
		}
		return
	}
	if note != "" {
		note = " (" + note + ")"
	}
	s.printf("%s%s\n", tickRange(from, to), note)
}

func (s *Session) cmdRun(args []string) {
	if len(args) > 0 {
		s.usage("run")
		return
	}
	from := s.node.TickCount() + 1
	for k := int64(0); s.node.HasWork(); k++ {
		if k == s.opts.MaxRunTicks {
			s.ranTicks(from, "")
			s.errorf("stopped after %d ticks: the program is still busy (:tick runs more; the limit is --max-ticks)", k)
			return
		}
		if s.interrupt.Load() {
			s.ranTicks(from, "interrupted")
			return
		}
		if err := s.tick(false); err != nil {
			s.ranTicks(from, "")
			s.report(s.diagnose(s.cur, err)...)
			return
		}
	}
	if s.node.TickCount() < from {
		s.printf("nothing to do (quiescent at tick %d)\n", s.node.TickCount())
		return
	}
	s.ranTicks(from, "quiescent")
}

// coll looks up a collection named on the command line.
func (s *Session) coll(name string) bool {
	if s.plan.ByName[name] != nil {
		return true
	}
	names := s.collNames()
	switch {
	case len(names) == 0:
		s.errorf("no collection %s: nothing is declared yet", name)
	case len(names) <= 12:
		s.errorf("no collection %s (there are %s)", name, strings.Join(names, ", "))
	default:
		s.errorf("no collection %s (:collections lists them)", name)
	}
	return false
}

func (s *Session) collNames() []string {
	var names []string
	for _, c := range s.plan.Colls {
		names = append(names, c.Name)
	}
	return names
}

func (s *Session) cmdDump(args []string) {
	if len(args) != 1 {
		s.usage("dump")
		return
	}
	if !s.coll(args[0]) {
		return
	}
	ts, _ := s.node.Contents(args[0])
	s.table(s.plan.ByName[args[0]], ts, s.when())
	if s.node.TickCount() == 0 && s.plan.NumFacts() > 0 {
		s.printf("%s\n", s.color(ansiDim, "(no tick has run yet: facts are inserted by tick 1; try :tick)"))
	}
}

// when describes the current state's time.
func (s *Session) when() string {
	n := s.node.TickCount()
	if n == 0 {
		return "before tick 1"
	}
	w := fmt.Sprintf("tick %d", n)
	if len(s.ticks) > 0 && s.ticks[len(s.ticks)-1].failed {
		w += ", which failed"
	}
	return w
}

func (s *Session) cmdCollections(args []string) {
	if len(s.plan.Colls) == 0 {
		s.printf("no collections yet\n")
		return
	}
	queued := map[string]int{}
	for _, in := range s.queued {
		queued[in.coll]++
	}
	tw := tabwriter.NewWriter(s.out, 0, 8, 2, ' ', 0)
	for _, c := range s.plan.Colls {
		info := c.Info
		kind := info.Kind.String()
		if info.Durable {
			kind = "durable " + kind
		}
		var sig string
		switch info.Kind {
		case lang.Periodic:
			sig = info.Name + " every " + info.Decl.EveryRaw
		case lang.Lattice:
			sig = info.Name + ": " + info.Cols[0].Type.String()
		default:
			var cols []string
			for _, col := range info.Cols {
				at := ""
				if col.Loc {
					at = "@"
				}
				cols = append(cols, at+col.Name+": "+col.Type.String())
			}
			sig = info.Name + "(" + strings.Join(cols, ", ") + ")"
			if info.HasKey {
				var keys []string
				for _, k := range info.Key {
					keys = append(keys, info.Cols[k].Name)
				}
				sig += " key(" + strings.Join(keys, ", ") + ")"
			}
		}
		n, _ := s.node.Count(c.Name)
		count := plural(n, "tuple")
		if q := queued[c.Name]; q > 0 {
			count += fmt.Sprintf(", %d queued", q)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", kind, sig, count)
	}
	tw.Flush()
}

// ruleIndexes returns the indexes in s.entries of the rules and facts.
func (s *Session) ruleIndexes() []int {
	var idx []int
	for i, st := range s.cur.stmts {
		if _, ok := st.(*lang.Rule); ok {
			idx = append(idx, i)
		}
	}
	return idx
}

func (s *Session) cmdRules(args []string) {
	idx := s.ruleIndexes()
	if len(idx) == 0 {
		s.printf("no rules or facts yet\n")
		return
	}
	w := len(strconv.Itoa(len(idx)))
	for n, i := range idx {
		text := lang.RuleString(s.cur.stmts[i].(*lang.Rule))
		text = strings.ReplaceAll(text, "\n", "\n"+strings.Repeat(" ", w+2))
		s.printf("%*d  %s\n", w, n+1, text)
	}
}

func (s *Session) cmdDrop(args []string) {
	if len(args) != 1 {
		s.usage("drop")
		return
	}
	drop := -1
	var what string
	if n, err := strconv.Atoi(args[0]); err == nil {
		idx := s.ruleIndexes()
		if n < 1 || n > len(idx) {
			s.errorf("no rule %d (:rules lists %s)", n, plural(len(idx), "rule"))
			return
		}
		drop = idx[n-1]
		what = fmt.Sprintf("rule %d: %s", n, lang.RuleString(s.cur.stmts[drop].(*lang.Rule)))
	} else {
		for i, st := range s.cur.stmts {
			if d, ok := st.(*lang.Decl); ok && d.Name == args[0] {
				drop = i
			}
		}
		if drop < 0 {
			s.errorf("%s is not declared at the prompt or by :load (:collections lists the collections)", args[0])
			return
		}
		what = "the declaration of " + args[0]
	}
	entries := slices.Delete(slices.Clone(s.entries), drop, drop+1)
	b, diags := s.build(entries)
	if diags != nil {
		s.report(diags...)
		s.errorf("%s is not dropped: the program would be invalid without it", args[0])
		return
	}
	if s.rebuild(b) {
		if s.plan.ByName[args[0]] == nil {
			s.watches = slices.DeleteFunc(s.watches, func(w string) bool { return w == args[0] })
		}
		s.printf("dropped %s\n", what)
	}
}

func (s *Session) cmdWatch(args []string) {
	switch len(args) {
	case 0:
		if len(s.watches) == 0 {
			s.printf("watching nothing\n")
		} else {
			s.printf("watching %s\n", strings.Join(s.watches, ", "))
		}
		return
	case 1:
	default:
		s.usage("watch")
		return
	}
	if !s.coll(args[0]) {
		return
	}
	if !slices.Contains(s.watches, args[0]) {
		s.watches = append(s.watches, args[0])
	}
	s.printf("watching %s\n", strings.Join(s.watches, ", "))
}

func (s *Session) cmdUnwatch(args []string) {
	switch len(args) {
	case 0:
		s.watches = nil
	case 1:
		if !slices.Contains(s.watches, args[0]) {
			s.errorf("not watching %s", args[0])
			return
		}
		s.watches = slices.DeleteFunc(s.watches, func(w string) bool { return w == args[0] })
	default:
		s.usage("unwatch")
		return
	}
	if len(s.watches) == 0 {
		s.printf("watching nothing\n")
	} else {
		s.printf("watching %s\n", strings.Join(s.watches, ", "))
	}
}

func (s *Session) cmdHistory(args []string) {
	kept := func() string {
		if s.opts.History == 0 {
			return "no ticks are kept (history is off)"
		}
		if len(s.hist) == 0 {
			return fmt.Sprintf("no ticks are kept yet (the last %s are)", plural(s.opts.History, "tick"))
		}
		return fmt.Sprintf("kept: %s (the last %s)", tickRange(s.hist[0].tick, s.hist[len(s.hist)-1].tick), plural(s.opts.History, "tick"))
	}
	if len(args) == 0 {
		s.printf("%s\n", kept())
		return
	}
	if len(args) != 2 {
		s.usage("history")
		return
	}
	if !s.coll(args[0]) {
		return
	}
	t, err := strconv.ParseInt(args[1], 10, 64)
	if err != nil {
		s.errorf(":history wants a tick number, not %q", args[1])
		return
	}
	if t <= 0 {
		t += s.node.TickCount() // 0 is the current tick, -1 the one before
	}
	for _, h := range s.hist {
		if h.tick == t {
			when := fmt.Sprintf("tick %d", t)
			if h.failed {
				when += ", which failed"
			}
			s.table(s.plan.ByName[args[0]], h.colls[args[0]], when)
			return
		}
	}
	s.errorf("tick %d is not in the history; %s", t, kept())
}

func (s *Session) cmdGraph(args []string) {
	if len(args) > 1 {
		s.usage("graph")
		return
	}
	out := ""
	if len(args) == 1 {
		out = args[0]
	}
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(out)), ".")
	format := "dot"
	switch ext {
	case "json":
		format = "json"
	case "mmd", "mermaid":
		format = "mermaid"
	}
	var buf bytes.Buffer
	if err := s.plan.Render(&buf, format, s.graphMarks()); err != nil {
		s.errorf("graph: %v", err)
		return
	}
	// Positions name where the rules were typed or read.
	text := s.mapText(buf.String())
	buf.Reset()
	buf.WriteString(strings.ReplaceAll(text, virtualName, "repl"))
	switch ext {
	case "":
		if out != "" {
			s.errorf("name the graph file FILE.svg, .png, .pdf, .dot, .mmd or .json")
			return
		}
		s.out.Write(buf.Bytes())
		return
	case "dot", "gv", "json", "mmd", "mermaid":
	case "svg", "png", "pdf":
		dot, err := exec.LookPath("dot")
		if err != nil {
			s.errorf("writing %s needs Graphviz's dot program, which is not installed; :graph FILE.dot writes the source", out)
			return
		}
		cmd := exec.Command(dot, "-T"+ext)
		cmd.Stdin = bytes.NewReader(buf.Bytes())
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		img, err := cmd.Output()
		if err != nil {
			s.errorf("dot -T%s: %v %s", ext, err, strings.TrimSpace(stderr.String()))
			return
		}
		buf.Reset()
		buf.Write(img)
	default:
		s.errorf("cannot write a graph as .%s: name the file FILE.svg, .png, .pdf, .dot, .mmd or .json", ext)
		return
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		s.errorf("%v", err)
		return
	}
	s.printf("wrote %s\n", out)
}

func (s *Session) cmdSave(args []string) {
	if len(args) > 1 {
		s.usage("save")
		return
	}
	text := s.programText()
	if len(args) == 0 {
		s.printf("%s", text)
		return
	}
	if err := os.WriteFile(args[0], []byte(text), 0o644); err != nil {
		s.errorf("%v", err)
		return
	}
	s.printf("wrote %s (%s)\n", args[0], plural(len(s.entries), "statement"))
}

// programText is the program in canonical form (lang.Format).
func (s *Session) programText() string {
	// Module and imports first, then declarations, then rules and facts,
	// each group in the order typed.
	entries := slices.Clone(s.entries)
	slices.SortStableFunc(entries, func(a, b *entry) int { return a.group() - b.group() })
	src, _ := source(entries, true)
	f, err := lang.ParseFile("", []byte(src))
	if err != nil {
		return src // cannot happen: the program was checked
	}
	return lang.Format(f)
}

func (s *Session) cmdRestart(args []string) {
	s.restart()
	s.printf("back to tick 0; the program is kept\n")
}

func (s *Session) cmdReset(args []string) {
	s.reset()
	s.watches = nil
	s.printf("program and state cleared\n")
}

func (s *Session) cmdLint(args []string) {
	rep, err := analysis.Analyze(s.plan)
	if err != nil {
		s.errorf("lint: %v", err)
		return
	}
	var buf bytes.Buffer
	if err := analysis.WriteText(&buf, rep, analysis.TextOptions{}); err != nil {
		s.errorf("lint: %v", err)
		return
	}
	// Findings start FILE:LINE:COL; their path lines give the rules'
	// positions as LINE:COL when in the same file.
	var file, mapped string // of the last finding: as printed, as mapped
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "    path: "); ok && file == virtualName {
			line = "    path: " + shortRef.ReplaceAllStringFunc(rest, func(m string) string {
				sm := shortRef.FindStringSubmatch(m)
				l, _ := strconv.Atoi(sm[1])
				c, _ := strconv.Atoi(sm[2])
				p, _ := s.cur.mapPos(lang.Pos{File: virtualName, Line: l, Col: c})
				if p.File == mapped {
					return fmt.Sprintf("(%d:%d ", p.Line, p.Col)
				}
				return "(" + p.String() + " "
			})
		}
		raw := leadingPos.FindStringSubmatch(line)
		line = s.mapText(line)
		if m := leadingPos.FindStringSubmatch(line); raw != nil && m != nil {
			file, mapped = raw[1], m[1]
		}
		line = strings.ReplaceAll(line, virtualName+": ", "the program: ")
		s.printf("%s", line)
	}
}

// shortRef is a rule's position in a lint path: "(14:1 <=)".
var shortRef = regexp.MustCompile(`\((\d+):(\d+) `)

// graphMarks marks the edges into points of order, as bloomc lint finds
// them, when the analysis succeeds.
func (s *Session) graphMarks() compiler.Marks {
	var m compiler.Marks
	rep, err := analysis.Analyze(s.plan)
	if err != nil {
		return m
	}
	for _, p := range rep.Points {
		if p.Verdict != analysis.PointOfOrder {
			continue
		}
		if m.PointOfOrder == nil {
			m.PointOfOrder = map[int]string{}
		}
		for _, e := range p.Edges {
			m.PointOfOrder[e] = p.What
		}
	}
	return m
}
