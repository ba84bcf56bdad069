package repl

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
)

// Defaults of Options.
const (
	DefaultHistory     = 100
	DefaultMaxRunTicks = 10000
	// DefaultInputName names the typed input in positions: <stdin>:3:7.
	DefaultInputName = "<stdin>"
)

// virtualName is the name of the file the whole program is checked as.
// Positions in it are mapped back to where each statement came from.
const virtualName = "<repl>"

// Options configure a Session.
type Options struct {
	// Out receives the results of statements and commands; Err receives
	// diagnostics (nil: Out).
	Out, Err io.Writer
	// Echo writes the prompt and each input line to Out, so that the
	// output of a script reads like a terminal session (transcripts).
	Echo bool
	// Color marks errors, warnings and table headers with ANSI colours.
	Color bool
	// History is how many of the last ticks :history keeps; 0 means
	// DefaultHistory and a negative value keeps none.
	History int
	// MaxRunTicks bounds :run, for programs that never become quiescent;
	// 0 means DefaultMaxRunTicks.
	MaxRunTicks int64
	// Start is the virtual clock's time at the start of tick 1 (zero: the
	// time the session starts).
	Start time.Time
	// Self is the node's address, returned by self() (default
	// 127.0.0.1:0, as in bloomc run).
	Self stdlib.Addr
	// Std holds the standard library modules for import "std/...".
	Std fs.FS
	// InputName names typed input in error positions (default "<stdin>").
	InputName string
}

// entry is one statement of the program, with where its text came from.
type entry struct {
	file      string // DefaultInputName (typed) or a :load-ed file
	line, col int    // position of text[0] in file
	text      string // from the statement's first character (or leading comment) to its `;`
	grp       int    // group(text) + 1; 0 until computed
}

// group classifies the statement for :save: 0 module and imports,
// 1 declarations, 2 rules and facts.
func (e *entry) group() int {
	if e.grp == 0 {
		e.grp = group(e.text) + 1
	}
	return e.grp - 1
}

func (e *entry) lines() int { return strings.Count(e.text, "\n") + 1 }

// inputTuple is a tuple queued for an input collection.
type inputTuple struct {
	coll  string
	tuple runtime.Tuple
}

// tickRecord is what a replay needs to repeat a tick: the clock at its
// start and the inputs queued for it. failed records the outcome.
type tickRecord struct {
	at     time.Time
	inputs []inputTuple
	failed bool
}

// snapshot is the contents of every collection at the end of one tick.
type snapshot struct {
	tick   int64
	failed bool
	colls  map[string][]runtime.Tuple
}

// Session is the state of one REPL session: the program typed so far, a
// node running it, and the record of ticks that lets the node be rebuilt
// when the program changes. It knows nothing of terminals: feed it input
// lines with Line and it writes to Options.Out and Options.Err. A Session
// is not safe for concurrent use, except Interrupt.
type Session struct {
	console
	loader *lang.Loader

	cur     *build // the program: its statements, checked and compiled
	entries []*entry
	plan    *compiler.Plan
	node    *runtime.Node
	vc      *runtime.VirtualClock // the node's clock
	start   time.Time
	ticks   []tickRecord
	queued  []inputTuple
	hist    []snapshot
	watches []string
}

// NewSession starts a session with an empty program.
func NewSession(opts Options) *Session {
	switch {
	case opts.History == 0:
		opts.History = DefaultHistory
	case opts.History < 0:
		opts.History = 0
	}
	if opts.MaxRunTicks <= 0 {
		opts.MaxRunTicks = DefaultMaxRunTicks
	}
	if opts.Self == "" {
		opts.Self = "127.0.0.1:0"
	}
	s := &Session{}
	s.init(opts, Prompt)
	s.statements = func(news []*entry) {
		for _, e := range news {
			s.add([]*entry{e}, "")
		}
	}
	s.command = s.runCommand
	s.loader = &lang.Loader{Std: opts.Std}
	s.start = opts.Start
	if s.start.IsZero() {
		s.start = time.Now()
	}
	s.reset()
	return s
}

// reset empties the program and the run.
func (s *Session) reset() {
	s.entries = nil
	b, errs := s.build(nil)
	if errs != nil {
		panic("repl: the empty program does not compile: " + errs[0].msg)
	}
	s.install(b)
	s.restart()
}

// restart drops the run (ticks, inputs, history) and keeps the program.
func (s *Session) restart() {
	s.ticks, s.queued, s.hist = nil, nil, nil
	s.node, s.vc = s.newNode(s.plan)
}

func (s *Session) install(b *build) {
	s.cur, s.entries, s.plan = b, b.entries, b.plan
}

// newNode makes a node for plan with a virtual clock at the session's
// start time.
func (s *Session) newNode(plan *compiler.Plan) (*runtime.Node, *runtime.VirtualClock) {
	vc := runtime.NewVirtualClock(s.start)
	return runtime.New(plan, runtime.Options{Self: s.opts.Self, Clock: vc}), vc
}

// Prompt is a Session's prompt; ContPrompt is the prompt while a
// statement is incomplete.
const (
	Prompt     = "bloom> "
	ContPrompt = "  ...> "
)

// build is a checked and compiled program.
type build struct {
	entries []*entry
	vlines  []int       // first line of each entry in the virtual file
	stmts   []lang.Stmt // the statement of each entry
	prog    *lang.Program
	plan    *compiler.Plan
}

// source lays the entries out as one file: each entry starts on a new
// line, indented to its original column so that columns need no mapping.
// With blank, a blank line separates groups of statements (for :save).
func source(entries []*entry, blank bool) (string, []int) {
	var b strings.Builder
	vlines := make([]int, len(entries))
	line := 1
	prevGroup := -1
	for i, e := range entries {
		if blank {
			g := e.group()
			if prevGroup >= 0 && g != prevGroup {
				b.WriteByte('\n')
				line++
			}
			prevGroup = g
		}
		vlines[i] = line
		b.WriteString(strings.Repeat(" ", max(e.col-1, 0)))
		b.WriteString(e.text)
		b.WriteByte('\n')
		line += e.lines()
	}
	return b.String(), vlines
}

// group classifies statement text for blank lines in :save: module and
// imports, declarations, rules and facts.
func group(text string) int {
	f, err := lang.ParseFile("", []byte(text))
	if err != nil || len(f.Stmts) == 0 {
		return 2
	}
	switch f.Stmts[0].(type) {
	case *lang.ModuleDecl, *lang.Import:
		return 0
	case *lang.Decl:
		return 1
	}
	return 2
}

// build checks and compiles a program made of entries. Errors come back
// with their positions mapped to where the statements were typed or read.
func (s *Session) build(entries []*entry) (*build, []diag) {
	src, vlines := source(entries, false)
	b := &build{entries: entries, vlines: vlines}
	prog, err := s.loader.LoadSource(virtualName, []byte(src))
	if err != nil {
		return nil, s.diagnose(b, err)
	}
	plan, err := compiler.Compile(prog)
	if err != nil {
		return nil, s.diagnose(b, err)
	}
	b.prog, b.plan = prog, plan
	b.stmts = make([]lang.Stmt, len(entries))
	for _, st := range prog.Root.Stmts {
		if i := b.entryAt(st.Pos().Line); i >= 0 && b.stmts[i] == nil {
			b.stmts[i] = st
		}
	}
	return b, nil
}

// entryAt returns the index of the entry holding virtual line l, or -1.
func (b *build) entryAt(l int) int {
	i := sort.Search(len(b.vlines), func(i int) bool { return b.vlines[i] > l }) - 1
	if i < 0 || l >= b.vlines[i]+b.entries[i].lines() {
		return -1
	}
	return i
}

// mapPos maps a position in the virtual file to the statement's origin.
func (b *build) mapPos(p lang.Pos) (lang.Pos, bool) {
	if p.File != virtualName {
		return p, false
	}
	i := b.entryAt(p.Line)
	if i < 0 {
		return p, false
	}
	e := b.entries[i]
	return lang.Pos{File: e.file, Line: e.line + p.Line - b.vlines[i], Col: p.Col}, true
}

// ruleInfo returns the checked rule of a statement.
func (b *build) ruleInfo(st lang.Stmt) *lang.RuleInfo {
	for _, ri := range b.prog.Rules {
		if ri.Rule == st {
			return ri
		}
	}
	return nil
}

// inputFact returns the tuple of a fact for an input collection.
func (b *build) inputFact(i int) (inputTuple, bool, error) {
	r, ok := b.stmts[i].(*lang.Rule)
	if !ok || !r.IsFact() {
		return inputTuple{}, false, nil
	}
	ri := b.ruleInfo(r)
	if ri == nil || ri.Head.Collection.Kind != lang.Input {
		return inputTuple{}, false, nil
	}
	c := ri.Head.Collection
	t := make(runtime.Tuple, len(c.Cols))
	for j, a := range ri.Head.Args {
		v, err := compiler.ConstValue(a, c.Cols[j].Type)
		if err != nil {
			return inputTuple{}, true, fmt.Errorf("%s: column %s of %s: %v", a.Pos(), c.Cols[j].Name, c.Name, err)
		}
		t[j] = v
	}
	return inputTuple{coll: c.Name, tuple: t}, true, nil
}

// add checks the program with news appended; when it is valid the
// statements join the program (facts for input collections are queued as
// inputs instead) and the node is rebuilt by replaying the recorded ticks.
// what, when not "", describes the statements for a summary line.
func (s *Session) add(news []*entry, what string) bool {
	cand := append(slices.Clone(s.entries), news...)
	b, diags := s.build(cand)
	if diags != nil {
		s.report(diags...)
		return false
	}
	// Facts for input collections are inputs for the next tick.
	var inputs []inputTuple
	keep := slices.Clone(s.entries)
	for i := len(s.entries); i < len(cand); i++ {
		in, isInput, err := b.inputFact(i)
		if err != nil {
			s.report(s.diagnose(b, err)...)
			return false
		}
		if isInput {
			inputs = append(inputs, in)
			continue
		}
		keep = append(keep, cand[i])
	}
	if len(keep) != len(cand) {
		b = nil
		if len(keep) > len(s.entries) {
			if b, diags = s.build(keep); diags != nil {
				s.report(diags...)
				return false
			}
		}
	}
	if b != nil {
		if !s.rebuild(b) {
			return false
		}
	}
	for _, in := range inputs {
		s.queue(in)
	}
	if what != "" {
		s.summary(what, b, news, len(inputs))
	}
	return true
}

// queue enqueues an input tuple for the next tick.
func (s *Session) queue(in inputTuple) {
	if err := s.node.Enqueue(in.coll, in.tuple); err != nil {
		s.errorf("%v", err)
		return
	}
	s.queued = append(s.queued, in)
	c := s.plan.ByName[in.coll]
	s.printf("queued %s for tick %d\n", stdlib.FormatTuple(in.coll, c.Types, in.tuple), s.node.TickCount()+1)
}

func (s *Session) summary(what string, b *build, news []*entry, inputs int) {
	var counts [5]int
	names := [5]string{"module declaration", "import", "declaration", "rule", "fact"}
	if b != nil {
		for i := len(b.entries) - (len(news) - inputs); i < len(b.entries); i++ {
			switch st := b.stmts[i].(type) {
			case *lang.ModuleDecl:
				counts[0]++
			case *lang.Import:
				counts[1]++
			case *lang.Decl:
				counts[2]++
			case *lang.Rule:
				if st.IsFact() {
					counts[4]++
				} else {
					counts[3]++
				}
			}
		}
	}
	var parts []string
	for i, n := range counts {
		if n > 0 {
			parts = append(parts, plural(n, names[i]))
		}
	}
	if inputs > 0 {
		parts = append(parts, plural(inputs, "input")+" queued")
	}
	if len(parts) == 0 {
		parts = []string{"nothing"}
	}
	s.printf("loaded %s: %s\n", what, strings.Join(parts, ", "))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// rebuild installs a new program: a new node replays the recorded ticks
// (same clock times, same inputs). If a tick that succeeded before now
// fails, the program is rejected and the session is left as it was.
func (s *Session) rebuild(b *build) bool {
	node, vc, records, hist, err := s.replay(b.plan)
	if err != nil {
		var te *tickError
		if errors.As(err, &te) {
			d := s.diagnose(b, te.err)
			d[0].msg = fmt.Sprintf("refused: with this change, tick %d (which succeeded) fails: %s", te.tick, d[0].msg)
			s.report(d...)
		} else {
			s.report(s.diagnose(b, err)...)
		}
		return false
	}
	oldPlan, oldNode := s.plan, s.node
	s.install(b)
	s.node, s.vc, s.ticks, s.hist = node, vc, records, hist
	if n := len(records); n > 0 {
		if changed := s.changes(oldPlan, oldNode); len(changed) > 0 {
			s.printf("replayed %s; changed: %s\n", tickRange(1, int64(n)), strings.Join(changed, ", "))
		}
	}
	return true
}

// changes describes the collections whose contents differ between an old
// node and the session's node: "path (3 tuples, was 0)".
func (s *Session) changes(oldPlan *compiler.Plan, oldNode *runtime.Node) []string {
	var out []string
	for _, c := range s.plan.Colls {
		now, _ := s.node.Contents(c.Name)
		var was []runtime.Tuple
		if oc := oldPlan.ByName[c.Name]; oc != nil && slices.EqualFunc(oc.Types, c.Types, (*lang.Type).Equal) {
			was, _ = oldNode.Contents(c.Name)
		} else if len(now) == 0 {
			continue // new, and empty
		}
		if !sameTuples(c.Types, was, now) {
			out = append(out, fmt.Sprintf("%s (%s, was %d)", c.Name, plural(len(now), "tuple"), len(was)))
		}
	}
	return out
}

// tickError is a failure of a replayed tick.
type tickError struct {
	tick int64
	err  error
}

func (e *tickError) Error() string { return fmt.Sprintf("tick %d: %v", e.tick, e.err) }
func (e *tickError) Unwrap() error { return e.err }

// replay runs the recorded ticks on a new node for plan.
func (s *Session) replay(plan *compiler.Plan) (*runtime.Node, *runtime.VirtualClock, []tickRecord, []snapshot, error) {
	node, clock := s.newNode(plan)
	records := slices.Clone(s.ticks)
	var hist []snapshot
	skipped := 0
	keepFrom := int64(len(records) - s.opts.History + 1)
	for i := range records {
		rec := &records[i]
		for _, in := range rec.inputs {
			if node.Enqueue(in.coll, in.tuple) != nil {
				skipped++
			}
		}
		clock.Set(rec.at)
		err := node.Tick()
		if err != nil && !rec.failed {
			return nil, nil, nil, nil, &tickError{tick: int64(i + 1), err: err}
		}
		rec.failed = err != nil
		if int64(i+1) >= keepFrom {
			hist = s.snap(hist, node, plan, rec.failed)
		}
	}
	for _, in := range s.queued {
		if node.Enqueue(in.coll, in.tuple) != nil {
			skipped++
		}
	}
	if skipped > 0 {
		s.warnf("%s of collections no longer declared as inputs skipped", plural(skipped, "recorded input"))
	}
	return node, clock, records, hist, nil
}

// snap appends the contents of every collection after the node's last
// tick to hist, keeping at most History entries. A collection that did
// not change shares its tuples with the previous snapshot.
func (s *Session) snap(hist []snapshot, node *runtime.Node, plan *compiler.Plan, failed bool) []snapshot {
	if s.opts.History <= 0 {
		return nil
	}
	sn := snapshot{tick: node.TickCount(), failed: failed, colls: make(map[string][]runtime.Tuple, len(plan.Colls))}
	var prev *snapshot
	if len(hist) > 0 {
		prev = &hist[len(hist)-1]
	}
	for _, c := range plan.Colls {
		ts, _ := node.Contents(c.Name)
		if prev != nil {
			if old, ok := prev.colls[c.Name]; ok && sameTuples(c.Types, old, ts) {
				ts = old
			}
		}
		sn.colls[c.Name] = ts
	}
	hist = append(hist, sn)
	if len(hist) > s.opts.History {
		hist = slices.Delete(hist, 0, len(hist)-s.opts.History)
	}
	return hist
}

func sameTuples(types []*lang.Type, a, b []runtime.Tuple) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j, t := range types {
			if stdlib.Compare(t, a[i][j], b[i][j]) != 0 {
				return false
			}
		}
	}
	return true
}

// tick runs one tick live and records it for replays; watched
// collections are printed after it. The virtual clock moves 1µs past the
// previous tick; with timers, :tick (timers true) moves it on to the next
// periodic firing, so that every :tick fires a periodic. :run does not
// fire timers, as bloomc run does not.
func (s *Session) tick(timers bool) error {
	clock := s.vc
	if s.node.TickCount() > 0 {
		clock.Advance(time.Microsecond)
	}
	if next, ok := s.node.NextTimer(); ok && timers {
		clock.Set(next)
	}
	rec := tickRecord{at: clock.Now(), inputs: s.queued}
	s.queued = nil
	err := s.node.Tick()
	rec.failed = err != nil
	s.ticks = append(s.ticks, rec)
	s.hist = s.snap(s.hist, s.node, s.plan, rec.failed)
	if err != nil {
		return &tickError{tick: s.node.TickCount(), err: err}
	}
	for _, w := range s.watches {
		if c := s.plan.ByName[w]; c != nil {
			ts, _ := s.node.Contents(w)
			s.table(c, ts, fmt.Sprintf("tick %d", s.node.TickCount()))
		}
	}
	return nil
}

// Load adds the statements of a file to the program, as :load does. It
// reports whether the file was loaded.
func (s *Session) Load(name string) bool { return s.load(name) }
