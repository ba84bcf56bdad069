package analysis

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
)

// TextOptions controls WriteText.
type TextOptions struct {
	// Verbose adds the channels, the channels each collection depends on
	// and the label of every edge before the verdict line.
	Verbose bool
}

// WriteText writes the report in compiler style: one
// `FILE:LINE:COL: KIND: message` line per finding (points of order, races,
// acknowledged and local points, in source order) with indented path and
// remedy lines, then a one-line verdict.
func WriteText(w io.Writer, r *Report, opts TextOptions) error {
	bw := bufio.NewWriter(w)
	type finding struct {
		pos   lang.Pos
		order int
		lines []string
	}
	var fs []finding
	for _, p := range r.Points {
		fs = append(fs, finding{p.Pos, 0, pointLines(p)})
	}
	for _, rc := range r.Races {
		fs = append(fs, finding{rc.Pos, 1, raceLines(rc)})
	}
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].pos != fs[j].pos {
			return fs[i].pos.Before(fs[j].pos)
		}
		return fs[i].order < fs[j].order
	})
	for _, f := range fs {
		for _, l := range f.lines {
			bw.WriteString(l)
			bw.WriteByte('\n')
		}
	}
	if opts.Verbose {
		writeVerbose(bw, r)
	}
	bw.WriteString(VerdictLine(r))
	bw.WriteByte('\n')
	return bw.Flush()
}

// VerdictLine is the one-line program verdict, e.g.
// "cart.bloom: not coordination-free: 2 points of order, 1 race (1 local)".
func VerdictLine(r *Report) string {
	s := r.Summary()
	var b strings.Builder
	b.WriteString(r.File)
	b.WriteString(": ")
	var notes []string
	if s.Acknowledged > 0 {
		notes = append(notes, plural(s.Acknowledged, "acknowledged", "acknowledged"))
	}
	if s.Local > 0 {
		notes = append(notes, plural(s.Local, "local non-monotone point", "local non-monotone points"))
	}
	if r.CoordinationFree() {
		b.WriteString("coordination-free")
	} else {
		b.WriteString("not coordination-free: ")
		var parts []string
		if s.PointsOfOrder > 0 {
			parts = append(parts, plural(s.PointsOfOrder, "point of order", "points of order"))
		}
		if s.Races > 0 {
			parts = append(parts, plural(s.Races, "race", "races"))
		}
		b.WriteString(strings.Join(parts, ", "))
	}
	if len(notes) > 0 {
		b.WriteString(" (" + strings.Join(notes, ", ") + ")")
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Message is a point's one-line message, without position and kind.
func (p *Point) Message() string {
	verb := p.verb
	if verb == "" {
		verb = " reads "
	}
	if p.Verdict == Local {
		if len(p.Inputs) == 0 {
			return p.What + verb + "only local data"
		}
		return p.What + verb + "only local data (" + strings.Join(p.Inputs, ", ") + ")"
	}
	return p.What + verb + dependsText(p.Input, p.Channel, p.Channels)
}

// Kind is the finding's label in text output: "point of order",
// "acknowledged point of order" or "local".
func (p *Point) Kind() string {
	switch p.Verdict {
	case PointOfOrder:
		return "point of order"
	case Acknowledged:
		return "acknowledged point of order"
	}
	return "local"
}

func dependsText(input, channel string, channels []string) string {
	var s string
	if input == channel {
		s = "channel " + channel
	} else {
		s = input + ", which depends on channel " + channel
	}
	var others []string
	for _, ch := range channels {
		if ch != channel {
			others = append(others, ch)
		}
	}
	if len(others) > 0 {
		s += " (other channels: " + strings.Join(others, ", ") + ")"
	}
	return s
}

// PathString renders a path relative to the file of ref:
// "vote -> votes (14:1 <=) -> [count(p)]". end, when not empty, is
// appended as the final hop.
func PathString(steps []Step, ref lang.Pos, end string) string {
	var parts []string
	for _, s := range steps {
		if s.Rule == nil {
			parts = append(parts, s.Collection)
			continue
		}
		parts = append(parts, fmt.Sprintf("%s (%s %s)", s.Collection, shortPos(s.Rule.Rule.At, ref), s.Op))
	}
	if end != "" {
		parts = append(parts, "["+end+"]")
	}
	return strings.Join(parts, " -> ")
}

func shortPos(p, ref lang.Pos) string {
	if p.File == ref.File {
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return p.String()
}

func pointLines(p *Point) []string {
	head := p.Kind()
	if p.Verdict == Acknowledged {
		head += fmt.Sprintf(" (@coordinated %q)", p.Reason)
	}
	lines := []string{fmt.Sprintf("%s: %s: %s", p.Pos, head, p.Message())}
	if p.Verdict != Local {
		lines = append(lines, "    path: "+PathString(p.Path, p.Pos, p.Detail))
	}
	if p.Verdict == PointOfOrder {
		lines = append(lines, "    remedy: "+p.Remedy)
	}
	return lines
}

// Message is a race's one-line message.
func (rc *Race) Message() string {
	var tr, other []string
	for _, s := range rc.Sides {
		if s.Transient {
			tr = append(tr, "`"+s.Atom+"`")
		} else {
			other = append(other, s.Collection)
		}
	}
	var chans []string
	seen := map[string]bool{}
	for _, s := range rc.Sides {
		if !seen[s.Channel] {
			seen[s.Channel] = true
			chans = append(chans, s.Channel)
		}
	}
	msg := "same-tick join of transient channel data " + strings.Join(tr, " and ")
	if len(other) > 0 {
		msg += " with " + strings.Join(other, " and ") + ", which depends on a channel"
	}
	return msg + "; the result depends on which messages of " + strings.Join(chans, " and ") + " have arrived by that tick"
}

// Kind is "race" or "acknowledged race".
func (rc *Race) Kind() string {
	if rc.Acknowledged {
		return "acknowledged race"
	}
	return "race"
}

func raceLines(rc *Race) []string {
	head := rc.Kind()
	if rc.Acknowledged {
		head += fmt.Sprintf(" (@coordinated %q)", rc.Reason)
	}
	lines := []string{fmt.Sprintf("%s: %s: %s", rc.Pos, head, rc.Message())}
	for _, s := range rc.Sides {
		lines = append(lines, "    path: "+PathString(s.Path, rc.Pos, s.Atom))
	}
	if !rc.Acknowledged {
		lines = append(lines, "    remedy: "+rc.Remedy)
	}
	return lines
}

func writeVerbose(bw *bufio.Writer, r *Report) {
	fmt.Fprintf(bw, "channels: %s\n", orNone(strings.Join(r.Channels, ", ")))
	bw.WriteString("channel-dependent:")
	names := make([]string, 0, len(r.DependsOn))
	for _, c := range r.Plan.Colls {
		if len(r.DependsOn[c.Name]) > 0 {
			names = append(names, c.Name)
		}
	}
	if len(names) == 0 {
		bw.WriteString(" none\n")
	} else {
		bw.WriteByte('\n')
		for _, n := range names {
			fmt.Fprintf(bw, "    %s: %s\n", n, strings.Join(r.DependsOn[n], ", "))
		}
	}
	bw.WriteString("edges:")
	if len(r.Edges) == 0 {
		bw.WriteString(" none\n")
		return
	}
	bw.WriteByte('\n')
	ref := lang.Pos{File: r.File}
	for _, l := range r.Edges {
		from := l.From
		if l.Edge.Kind == compiler.Negated {
			from = "not " + from
		}
		fmt.Fprintf(bw, "    %s -> %s (%s %s, %s): %s", from, l.To, shortPos(l.Edge.Rule.Rule.At, ref), l.Edge.Rule.Rule.Op, l.Edge.Kind, l.Verdict())
		if !l.Monotone {
			var cs []string
			for _, c := range l.Constructs {
				cs = append(cs, c.String())
			}
			fmt.Fprintf(bw, " [%s]", strings.Join(cs, ", "))
		}
		if l.Race {
			bw.WriteString(" race")
		}
		bw.WriteByte('\n')
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
