package repl

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/transport"
)

// SendTimeout bounds how long a Remote waits for the node to run the tick
// that consumes a send.
const SendTimeout = 30 * time.Second

// remoteCommands are the commands of a Remote (run by Remote.runCommand).
var remoteCommands = []command{
	{name: "watch", args: "[REL]", help: "print the node's output REL as it publishes it (no REL: list watches)", arg: argColl},
	{name: "unwatch", args: "[REL]", help: "stop watching REL (no REL: all)", arg: argColl},
	{name: "collections", aliases: []string{"colls"}, help: "list the node's input and output collections"},
	{name: "sleep", args: "DURATION", help: "wait (printing watched outputs), e.g. :sleep 500ms; for scripts"},
	{name: "help", args: "[COMMAND]", help: "list the commands", arg: argCommand},
	{name: "quit", aliases: []string{"q", "exit"}, help: "leave (Ctrl-D also does)"},
}

// Remote is a session attached to a running node through a
// transport.Client (bloomc repl --connect). The program is the node's: a
// Remote sends facts for the node's input collections, which the node
// consumes in its next tick, and prints the node's output collections as it
// publishes them (:watch). The facts completed by one input line are sent
// together, so one tick consumes them all.
type Remote struct {
	console
	client *transport.Client
	addr   string
	colls  []transport.Coll
	plan   *compiler.Plan // the node's inputs and outputs, for printing
	inputs *compiler.Plan // its inputs, for parsing facts

	wmu     sync.Mutex
	watches map[string]context.CancelFunc
	wg      sync.WaitGroup

	smu        sync.Mutex
	cancelSend context.CancelFunc // of the send in progress
}

// NewRemote attaches a session to the node at addr, reading its schema.
func NewRemote(ctx context.Context, client *transport.Client, addr string, opts Options) (*Remote, error) {
	colls, err := client.Schema(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: reading the node's collections: %w", addr, err)
	}
	r := &Remote{client: client, addr: addr, watches: map[string]context.CancelFunc{}}
	r.init(opts, addr+"> ")
	var ifc, ins []transport.Coll
	for _, c := range colls {
		switch c.Kind {
		case lang.Input:
			ins = append(ins, c)
			ifc = append(ifc, c)
		case lang.Output:
			ifc = append(ifc, c)
		}
	}
	r.colls, r.plan, r.inputs = ifc, transport.PlanOf(ifc), transport.PlanOf(ins)
	r.statements = r.send
	r.command = r.runCommand
	return r, nil
}

// Interrupt abandons the wait for a send in progress.
func (r *Remote) Interrupt() {
	r.smu.Lock()
	defer r.smu.Unlock()
	if r.cancelSend != nil {
		r.cancelSend()
	}
}

// Close stops the watches.
func (r *Remote) Close() { r.close() }

func (r *Remote) close() {
	r.wmu.Lock()
	for _, cancel := range r.watches {
		cancel()
	}
	r.wmu.Unlock()
	r.wg.Wait()
}

func (r *Remote) names(kind lang.CollKind) []string {
	var out []string
	for _, c := range r.colls {
		if c.Kind == kind {
			out = append(out, c.Name)
		}
	}
	return out
}

// send parses the statements as facts for the node's inputs and sends
// them in one batch.
func (r *Remote) send(news []*entry) {
	var msgs []runtime.Message
	var diags []diag
	for _, e := range news {
		// Laid out at its input position, errors need no mapping.
		src := strings.Repeat("\n", e.line-1) + strings.Repeat(" ", e.col-1) + e.text
		f, err := lang.ParseFile(e.file, []byte(src))
		if err != nil {
			diags = append(diags, errorDiags(err)...)
			continue
		}
		bad := false
		for _, st := range f.Stmts {
			if rule, ok := st.(*lang.Rule); !ok || !rule.IsFact() {
				diags = append(diags, diag{pos: st.Pos(), msg: fmt.Sprintf("attached to %s, only facts for its inputs can be typed (the program is the node's)", r.addr)})
				bad = true
			}
		}
		if bad {
			continue
		}
		facts, err := r.inputs.FactsFromSource(e.file, []byte(src))
		if err != nil {
			ds := errorDiags(err)
			for i := range ds {
				if strings.HasPrefix(ds[i].msg, "unknown collection") {
					ds[i].msg += fmt.Sprintf(" (the inputs of %s: %s)", r.addr, orNone(r.names(lang.Input)))
				}
			}
			diags = append(diags, ds...)
			continue
		}
		for _, fa := range facts {
			msgs = append(msgs, runtime.Message{Coll: r.inputs.Colls[fa.Coll].Name, Tuple: fa.Tuple})
		}
	}
	if len(diags) > 0 {
		r.report(diags...)
		if len(msgs) > 0 {
			r.errorf("nothing sent: the line has errors")
		}
		return
	}
	if len(msgs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), SendTimeout)
	r.smu.Lock()
	r.cancelSend = cancel
	r.smu.Unlock()
	tick, err := r.client.Send(ctx, msgs)
	r.smu.Lock()
	r.cancelSend = nil
	r.smu.Unlock()
	cancel()
	what := plural(len(msgs), "tuple")
	if len(msgs) == 1 {
		m := msgs[0]
		what = formatMsg(r.plan, m)
	}
	switch {
	case errors.Is(err, context.Canceled):
		r.errorf("sending %s: interrupted; the node may or may not have consumed it", what)
	case err != nil:
		r.errorf("sending %s: %v", what, err)
	default:
		r.printf("sent %s: consumed by tick %d\n", what, tick)
	}
}

func formatMsg(plan *compiler.Plan, m runtime.Message) string {
	c := plan.ByName[m.Coll]
	if c == nil {
		return m.Coll
	}
	var b strings.Builder
	b.WriteString(m.Coll)
	b.WriteByte('(')
	for i, v := range m.Tuple {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(formatValue(c.Types[i], v))
	}
	b.WriteByte(')')
	return b.String()
}

// errorDiags turns a lang.ErrorList (or another error) into diagnostics.
func errorDiags(err error) []diag {
	var list lang.ErrorList
	if errors.As(err, &list) {
		ds := make([]diag, len(list))
		for i, e := range list {
			ds[i] = diag{pos: e.Pos, msg: e.Msg}
		}
		return ds
	}
	return []diag{{msg: err.Error()}}
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// runCommand runs a command line of a Remote.
func (r *Remote) runCommand(line string) {
	fields := strings.Fields(strings.TrimPrefix(line, ":"))
	if len(fields) == 0 {
		r.errorf("empty command; :help lists them")
		return
	}
	name, args := fields[0], fields[1:]
	c := lookupIn(remoteCommands, name)
	if c == nil {
		if lookupCommand(name) != nil {
			r.errorf(":%s is not available when attached to a node (%s runs its own program and ticks); :help lists what is", name, r.addr)
		} else {
			r.errorf("unknown command :%s; :help lists the commands", name)
		}
		return
	}
	switch c.name {
	case "help":
		r.help(args)
	case "quit":
		r.quit = true
	case "collections":
		r.collections()
	case "watch":
		r.watch(args)
	case "unwatch":
		r.unwatch(args)
	case "sleep":
		if len(args) != 1 {
			r.errorf("usage: :sleep DURATION")
			return
		}
		d, err := time.ParseDuration(args[0])
		if err != nil || d < 0 {
			r.errorf(":sleep wants a duration such as 500ms or 2s, not %q", args[0])
			return
		}
		r.interrupt.Store(false)
		for end := time.Now().Add(d); time.Now().Before(end) && !r.interrupt.Load(); {
			time.Sleep(min(20*time.Millisecond, time.Until(end)))
		}
	}
}

func (r *Remote) help(args []string) {
	if len(args) > 0 {
		c := lookupIn(remoteCommands, strings.TrimPrefix(args[0], ":"))
		if c == nil {
			r.errorf("no command :%s", strings.TrimPrefix(args[0], ":"))
			return
		}
		r.printf(":%s %s\n    %s\n", c.name, c.args, c.help)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.out, "Attached to %s. Type facts for its input collections; the facts of one\n"+
		"line are sent together and consumed by one tick of the node.\nCommands:\n", r.addr)
	tw := tabwriter.NewWriter(r.out, 0, 8, 2, ' ', 0)
	for _, c := range remoteCommands {
		fmt.Fprintf(tw, "  :%s %s\t%s\n", c.name, c.args, c.help)
	}
	tw.Flush()
}

func (r *Remote) collections() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.colls) == 0 {
		fmt.Fprintf(r.out, "%s has no input or output collections\n", r.addr)
		return
	}
	tw := tabwriter.NewWriter(r.out, 0, 8, 2, ' ', 0)
	for _, c := range r.colls {
		var cols []string
		for i, name := range c.Cols {
			cols = append(cols, name+": "+c.Types[i].String())
		}
		fmt.Fprintf(tw, "%s\t%s(%s)\n", c.Kind, c.Name, strings.Join(cols, ", "))
	}
	tw.Flush()
}

func (r *Remote) watchList() string {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if len(r.watches) == 0 {
		return "watching nothing"
	}
	return "watching " + strings.Join(sortedNames(r.watches), ", ")
}

func (r *Remote) watch(args []string) {
	if len(args) == 0 {
		r.printf("%s\n", r.watchList())
		return
	}
	if len(args) > 1 {
		r.errorf("usage: :watch [REL]")
		return
	}
	rel := args[0]
	c := r.plan.ByName[rel]
	if c == nil || c.Info.Kind != lang.Output {
		r.errorf("%s is not an output collection of %s (its outputs: %s)", rel, r.addr, orNone(r.names(lang.Output)))
		return
	}
	r.wmu.Lock()
	if _, ok := r.watches[rel]; ok {
		r.wmu.Unlock()
		r.printf("%s\n", r.watchList())
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.watches[rel] = cancel
	r.wmu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		err := r.client.Watch(ctx, rel, func(tick int64, ts []runtime.Tuple) error {
			r.table(c, ts, fmt.Sprintf("tick %d", tick))
			return nil
		})
		if ctx.Err() == nil {
			if err == nil {
				err = errors.New("the watch ended")
			}
			r.errorf("watching %s: %v", rel, err)
		}
		r.wmu.Lock()
		if r.watches[rel] != nil && ctx.Err() == nil {
			delete(r.watches, rel)
		}
		r.wmu.Unlock()
		cancel()
	}()
	r.printf("%s\n", r.watchList())
}

func (r *Remote) unwatch(args []string) {
	r.wmu.Lock()
	switch len(args) {
	case 0:
		for rel, cancel := range r.watches {
			cancel()
			delete(r.watches, rel)
		}
	case 1:
		cancel, ok := r.watches[args[0]]
		if !ok {
			r.wmu.Unlock()
			r.errorf("not watching %s", args[0])
			return
		}
		cancel()
		delete(r.watches, args[0])
	default:
		r.wmu.Unlock()
		r.errorf("usage: :unwatch [REL]")
		return
	}
	r.wmu.Unlock()
	r.printf("%s\n", r.watchList())
}

// Complete completes commands, output names after :watch and :unwatch,
// and input names (and true, false) in facts.
func (r *Remote) Complete(line string, pos int) ([]string, int) {
	pos = min(max(pos, 0), len(line))
	before := line[:pos]
	trimmed := strings.TrimLeft(before, " \t")
	if strings.HasPrefix(trimmed, ":") {
		fields := strings.Fields(trimmed)
		atWordEnd := !strings.HasSuffix(trimmed, " ") && !strings.HasSuffix(trimmed, "\t")
		if len(fields) == 1 && atWordEnd {
			var words []string
			for _, c := range remoteCommands {
				if strings.HasPrefix(":"+c.name, fields[0]) {
					words = append(words, ":"+c.name+" ")
				}
			}
			return words, len(fields[0])
		}
		c := lookupIn(remoteCommands, strings.TrimPrefix(fields[0], ":"))
		prefix := ""
		if atWordEnd {
			prefix = fields[len(fields)-1]
		}
		nth := len(fields) - 1
		if !atWordEnd {
			nth++
		}
		if c == nil || nth != 1 {
			return nil, 0
		}
		switch c.arg {
		case argColl:
			return matching(r.names(lang.Output), prefix), len(prefix)
		case argCommand:
			var names []string
			for _, c := range remoteCommands {
				names = append(names, c.name)
			}
			return matching(names, prefix), len(prefix)
		}
		return nil, 0
	}
	i := len(before)
	for i > 0 && isWordByte(before[i-1]) {
		i--
	}
	prefix := before[i:]
	return matching(append(r.names(lang.Input), "true", "false"), prefix), len(prefix)
}
