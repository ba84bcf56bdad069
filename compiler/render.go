package compiler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/bloomlang/bloom/lang"
)

// Graph rendering: `bloomc graph` draws the stratified dependency graph of a
// plan as Graphviz dot, as a Mermaid flowchart, or as JSON (schema in the
// GraphJSON doc comment and docs/graph.md).
//
// Nodes are collections; one drawn edge stands for the body-atom-to-head
// dependencies (Plan.Graph.Edges) that share endpoints and appearance.
// Strata are clusters, recursive components nested clusters inside them.
//
//	positive (same tick)          solid
//	negated (not)                 dashed, label "not"
//	aggregated                    dashed, label the aggregate (count, sum, ...)
//	next / delete / upsert        dotted, label <+ <- <+-
//	async                         bold (mermaid: thick ==>), label <~
//	marked non-monotone           dashed (temporal edges stay dotted)
//	marked point of order         red, label line "point of order"
//	marked race                   orange, label line "race"
//
// Output is deterministic: nodes are sorted by name inside their cluster,
// drawn edges by endpoint names, JSON keeps the plan's own orders.

// GraphFormats lists the formats Render accepts; the first is the default.
var GraphFormats = []string{"dot", "mermaid", "json"}

// Marks annotates dependency edges with the findings of a later analysis
// (the CALM checks of package analysis). Each map is keyed by an index into
// Plan.Graph.Edges and holds a human-readable reason (shown in dot tooltips
// and in JSON; may be empty). A nil map marks nothing, so the zero Marks is
// "no analysis".
type Marks struct {
	// NonMonotone marks edges that are non-monotone for reasons the edge
	// kind does not show: value() or now() in the rule, a key constraint
	// that can reject. Negated and aggregated edges and <- <+- edges are
	// non-monotone without a mark.
	NonMonotone map[int]string
	// PointOfOrder marks edges into a non-monotone construct whose input
	// depends on a channel.
	PointOfOrder map[int]string
	// Race marks edges of a same-tick join that meets channel-dependent
	// data unguarded.
	Race map[int]string
}

// Render writes the plan's graph in the given format (one of GraphFormats)
// with the edges marked as marks says.
func (p *Plan) Render(w io.Writer, format string, marks Marks) error {
	var out []byte
	switch format {
	case "dot":
		out = []byte(p.newGraphView(marks).dot())
	case "mermaid":
		out = []byte(p.newGraphView(marks).mermaid())
	case "json":
		var err error
		if out, err = p.graphJSON(marks); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown graph format %q (want %s)", format, strings.Join(GraphFormats, ", "))
	}
	_, err := w.Write(out)
	return err
}

// Dot returns the graph as a Graphviz digraph, without analysis marks.
func (p *Plan) Dot() string { return p.newGraphView(Marks{}).dot() }

// Mermaid returns the graph as a Mermaid flowchart, without analysis marks.
func (p *Plan) Mermaid() string { return p.newGraphView(Marks{}).mermaid() }

// JSON returns the graph as indented JSON, without analysis marks.
func (p *Plan) JSON() ([]byte, error) { return p.graphJSON(Marks{}) }

// GraphJSON is the JSON form of a plan's graph (`bloomc graph --format
// json`). Schema version 1; fields are only ever added. Every field is
// always present unless marked "omitted when empty".
//
//	{
//	  "version": 1,
//	  "file": "shop.bloom",            // root file as given to the loader
//	  "module": "shop",                // `module NAME;`, "" without one
//	  "collections": [{
//	    "id": 0,                       // declaration order, imports included
//	    "name": "cart",                // qualified: "dl.pending" for imports
//	    "module": "",                  // import alias path, "" for the root file
//	    "kind": "table",               // table scratch input output channel periodic lattice
//	    "durable": false,
//	    "transient": false,            // emptied every tick
//	    "columns": [{"name": "session", "type": "string", "key": true, "loc": false}],
//	    "key": ["session", "item"],    // every column without a key(...) clause;
//	                                   // [] for a lattice (one merged value)
//	    "merge": false,                // same-key tuples merge (all non-key columns lattices)
//	    "every": "500ms",              // periodic only, omitted otherwise
//	    "facts": 2,                    // number of facts inserted at tick 1
//	    "stratum": 0,
//	    "component": 3,                // index into "components" order of evaluation
//	    "recursive": false,            // its component is recursive
//	    "pos": "shop.bloom:4:1"
//	  }],
//	  "rules": [{
//	    "index": 0,                    // Plan.Rules: the non-fact rules in program order
//	    "pos": "shop.bloom:9:1",
//	    "module": "",
//	    "head": "cart",
//	    "op": "<+",                    // <= <+ <- <+- <~
//	    "text": "cart(s, i, q) <+ add_item(s, i, q);",
//	    "aggregates": ["sum"],         // head aggregates in column order
//	    "stratum": 0,                  // of the head; null for <+ <- <+- <~ rules
//	    "recursive": false,            // reads its own recursive component
//	    "coordinated": null            // @coordinated("reason") text, or null
//	  }],
//	  "edges": [{
//	    "index": 0,                    // index into Plan.Graph.Edges (= Marks keys)
//	    "from": "add_item", "to": "cart",
//	    "kind": "next",                // positive negated aggregated next delete upsert async
//	    "op": "<+",
//	    "rule": 0,                     // rules[].index
//	    "pos": "shop.bloom:9:18",      // the body atom
//	    "label": "<+",                 // drawn on the edge, without mark lines
//	    "negated": false,              // the body atom is negated (any op)
//	    "aggregates": [],              // the rule's head aggregates (any op)
//	    "temporal": false,             // crosses a tick boundary (<+ <- <+- <~)
//	    "monotone": true,
//	    "non_monotone": [],            // reasons: "negation", "aggregate count",
//	                                   // "deletion <-", "upsert <+-", marks
//	    "point_of_order": false,
//	    "point_of_order_reason": "",   // omitted when empty
//	    "race": false,
//	    "race_reason": ""              // omitted when empty
//	  }],
//	  "components": [{"index": 0, "collections": ["path"], "recursive": true, "stratum": 0}],
//	  "strata": [{
//	    "index": 0,
//	    "collections": ["link", "path"],   // sorted
//	    "components": [0, 1],              // in evaluation order
//	    "recursive": true                  // some component is recursive
//	  }]
//	}
type GraphJSON struct {
	Version     int              `json:"version"`
	File        string           `json:"file"`
	Module      string           `json:"module"`
	Collections []JSONCollection `json:"collections"`
	Rules       []JSONRule       `json:"rules"`
	Edges       []JSONEdge       `json:"edges"`
	Components  []JSONComponent  `json:"components"`
	Strata      []JSONStratum    `json:"strata"`
}

// JSONCollection is one collection of GraphJSON.
type JSONCollection struct {
	ID        int          `json:"id"`
	Name      string       `json:"name"`
	Module    string       `json:"module"`
	Kind      string       `json:"kind"`
	Durable   bool         `json:"durable"`
	Transient bool         `json:"transient"`
	Columns   []JSONColumn `json:"columns"`
	Key       []string     `json:"key"`
	Merge     bool         `json:"merge"`
	Every     string       `json:"every,omitempty"`
	Facts     int          `json:"facts"`
	Stratum   int          `json:"stratum"`
	Component int          `json:"component"`
	Recursive bool         `json:"recursive"`
	Pos       string       `json:"pos"`
}

// JSONColumn is one column of a JSONCollection.
type JSONColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Key  bool   `json:"key"`
	Loc  bool   `json:"loc"`
}

// JSONRule is one non-fact rule of GraphJSON.
type JSONRule struct {
	Index       int      `json:"index"`
	Pos         string   `json:"pos"`
	Module      string   `json:"module"`
	Head        string   `json:"head"`
	Op          string   `json:"op"`
	Text        string   `json:"text"`
	Aggregates  []string `json:"aggregates"`
	Stratum     *int     `json:"stratum"`
	Recursive   bool     `json:"recursive"`
	Coordinated *string  `json:"coordinated"`
}

// JSONEdge is one dependency edge of GraphJSON.
type JSONEdge struct {
	Index        int      `json:"index"`
	From         string   `json:"from"`
	To           string   `json:"to"`
	Kind         string   `json:"kind"`
	Op           string   `json:"op"`
	Rule         int      `json:"rule"`
	Pos          string   `json:"pos"`
	Label        string   `json:"label"`
	Negated      bool     `json:"negated"`
	Aggregates   []string `json:"aggregates"`
	Temporal     bool     `json:"temporal"`
	Monotone     bool     `json:"monotone"`
	NonMonotone  []string `json:"non_monotone"`
	PointOfOrder bool     `json:"point_of_order"`
	PointReason  string   `json:"point_of_order_reason,omitempty"`
	Race         bool     `json:"race"`
	RaceReason   string   `json:"race_reason,omitempty"`
}

// JSONComponent is one evaluation component of GraphJSON.
type JSONComponent struct {
	Index       int      `json:"index"`
	Collections []string `json:"collections"`
	Recursive   bool     `json:"recursive"`
	Stratum     int      `json:"stratum"`
}

// JSONStratum is one stratum of GraphJSON.
type JSONStratum struct {
	Index       int      `json:"index"`
	Collections []string `json:"collections"`
	Components  []int    `json:"components"`
	Recursive   bool     `json:"recursive"`
}

// GraphJSON builds the JSON form of the graph with the given marks.
func (p *Plan) GraphJSON(marks Marks) *GraphJSON {
	v := p.newGraphView(marks)
	g := &GraphJSON{
		Version:     1,
		Module:      p.Prog.Name,
		Collections: []JSONCollection{},
		Rules:       []JSONRule{},
		Edges:       []JSONEdge{},
		Components:  []JSONComponent{},
		Strata:      []JSONStratum{},
	}
	if p.Prog.Root != nil {
		g.File = p.Prog.Root.Name
	}
	facts := make([]int, len(p.Colls))
	for _, f := range p.Facts {
		facts[f.Coll]++
	}
	for _, b := range p.FactRows {
		facts[b.Coll] += b.Len()
	}
	for _, c := range p.Colls {
		info := c.Info
		jc := JSONCollection{
			ID: c.ID, Name: c.Name, Module: info.Module, Kind: info.Kind.String(),
			Durable: info.Durable, Transient: c.Transient, Columns: []JSONColumn{}, Key: []string{},
			Merge: c.Merge, Facts: facts[c.ID], Stratum: p.Graph.Stratum[c.ID],
			Component: v.compOf[c.ID], Recursive: v.compRecursive(c.ID),
		}
		for i, col := range info.Cols {
			jc.Columns = append(jc.Columns, JSONColumn{Name: col.Name, Type: col.Type.String(), Key: slices.Contains(c.Key, i), Loc: col.Loc})
		}
		for _, k := range c.Key {
			jc.Key = append(jc.Key, info.Cols[k].Name)
		}
		if d := info.Decl; d != nil {
			jc.Pos = d.At.String()
			if info.Kind == lang.Periodic {
				jc.Every = d.EveryRaw
			}
		}
		g.Collections = append(g.Collections, jc)
	}
	for _, rp := range p.Rules {
		r := rp.Info
		jr := JSONRule{
			Index: rp.Index, Pos: rp.Pos.String(), Module: r.Module, Head: p.Colls[rp.Head].Name,
			Op: rp.Op.String(), Text: lang.RuleString(r.Rule), Aggregates: ruleAggregates(r),
			Recursive: rp.Recursive,
		}
		if !rp.Op.Temporal() {
			s := p.Graph.Stratum[rp.Head]
			jr.Stratum = &s
		}
		if r.HasCoordinated {
			c := r.Coordinated
			jr.Coordinated = &c
		}
		g.Rules = append(g.Rules, jr)
	}
	for i, e := range v.edges {
		je := JSONEdge{
			Index: i, From: p.Colls[e.From].Name, To: p.Colls[e.To].Name, Kind: e.Kind.String(),
			Op: e.Rule.Rule.Op.String(), Rule: e.rule, Pos: e.AtomPos.String(), Label: e.label,
			Negated: e.negated, Aggregates: e.aggs, Temporal: e.Kind.Temporal(),
			Monotone: len(e.nonMono) == 0, NonMonotone: e.nonMono,
			PointOfOrder: e.poo, PointReason: e.pooWhy, Race: e.race, RaceReason: e.raceWhy,
		}
		g.Edges = append(g.Edges, je)
	}
	for ci, comp := range p.Components {
		g.Components = append(g.Components, JSONComponent{Index: ci, Collections: v.names(comp.Colls), Recursive: comp.Recursive, Stratum: comp.Stratum})
	}
	for _, s := range v.strata {
		js := JSONStratum{Index: s.index, Collections: []string{}, Components: []int{}}
		for _, ci := range s.comps {
			js.Components = append(js.Components, ci)
			js.Collections = append(js.Collections, v.names(p.Components[ci].Colls)...)
			js.Recursive = js.Recursive || p.Components[ci].Recursive
		}
		sort.Strings(js.Collections)
		g.Strata = append(g.Strata, js)
	}
	return g
}

func (p *Plan) graphJSON(marks Marks) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p.GraphJSON(marks)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// graphView is the plan's graph prepared for drawing.
type graphView struct {
	p      *Plan
	edges  []*viewEdge // one per Plan.Graph.Edges entry, same order
	drawn  []*drawnEdge
	strata []viewStratum
	compOf []int
}

type viewEdge struct {
	*Edge
	rule    int // Plan.Rules index, -1 when unknown
	negated bool
	aggs    []string
	label   string
	nonMono []string
	poo     bool
	pooWhy  string
	race    bool
	raceWhy string
}

// drawnEdge is one arrow: the edges with the same endpoints and looks.
type drawnEdge struct {
	from, to int
	label    string // kind label plus mark lines, "\n"-separated
	style    edgeStyle
	color    string // "" (black), "red" or "darkorange"
	tooltip  []string
	first    int // lowest edge index, for a stable order among equals
}

type edgeStyle int

const (
	styleSolid edgeStyle = iota
	styleDashed
	styleDotted
	styleBold
	styleBoldDashed
)

type viewStratum struct {
	index int
	comps []int // Plan.Components indexes, evaluation order
}

func (p *Plan) newGraphView(marks Marks) *graphView {
	v := &graphView{p: p, compOf: make([]int, len(p.Colls))}
	for ci, c := range p.Components {
		for _, m := range c.Colls {
			v.compOf[m] = ci
		}
	}
	ruleIdx := map[*lang.RuleInfo]int{}
	for _, rp := range p.Rules {
		ruleIdx[rp.Info] = rp.Index
	}
	for i, e := range p.Graph.Edges {
		ve := &viewEdge{Edge: e, rule: -1, aggs: ruleAggregates(e.Rule)}
		if ri, ok := ruleIdx[e.Rule]; ok {
			ve.rule = ri
		}
		for _, b := range e.Rule.Body {
			if b.Atom != nil && b.Atom.Atom.At == e.AtomPos {
				ve.negated = b.Atom.Atom.Negated
				break
			}
		}
		var parts []string
		op := e.Rule.Rule.Op
		if op.Temporal() {
			parts = append(parts, op.String())
		}
		if ve.negated {
			parts = append(parts, "not")
			ve.nonMono = append(ve.nonMono, "negation")
		}
		if len(ve.aggs) > 0 {
			parts = append(parts, strings.Join(ve.aggs, ","))
			for _, a := range ve.aggs {
				if a != "set" {
					ve.nonMono = append(ve.nonMono, "aggregate "+a)
				}
			}
		}
		switch op {
		case lang.OpDelete:
			ve.nonMono = append(ve.nonMono, "deletion <-")
		case lang.OpUpsert:
			ve.nonMono = append(ve.nonMono, "upsert <+-")
		}
		if why, ok := marks.NonMonotone[i]; ok {
			ve.nonMono = append(ve.nonMono, orDefault(why, "marked non-monotone"))
		}
		if ve.nonMono == nil {
			ve.nonMono = []string{}
		}
		ve.pooWhy, ve.poo = marks.PointOfOrder[i]
		ve.raceWhy, ve.race = marks.Race[i]
		ve.label = strings.Join(parts, " ")
		v.edges = append(v.edges, ve)
	}
	v.drawEdges()
	byStratum := map[int]*viewStratum{}
	for ci, c := range p.Components {
		s := byStratum[c.Stratum]
		if s == nil {
			s = &viewStratum{index: c.Stratum}
			byStratum[c.Stratum] = s
		}
		s.comps = append(s.comps, ci)
	}
	for _, s := range byStratum {
		v.strata = append(v.strata, *s)
	}
	sort.Slice(v.strata, func(i, j int) bool { return v.strata[i].index < v.strata[j].index })
	return v
}

// drawEdges merges the edges that would be drawn identically and sorts
// the result by endpoint names.
func (v *graphView) drawEdges() {
	type key struct {
		from, to     int
		label, color string
		style        edgeStyle
	}
	byKey := map[key]*drawnEdge{}
	for i, e := range v.edges {
		style := styleSolid
		nonMono := len(e.nonMono) > 0
		switch {
		case e.Kind == Async && nonMono:
			style = styleBoldDashed
		case e.Kind == Async:
			style = styleBold
		case e.Kind.Temporal():
			style = styleDotted
		case nonMono:
			style = styleDashed
		}
		label := e.label
		color := ""
		var notes []string
		if e.poo {
			label = joinNonEmpty("\n", label, "point of order")
			color = "red"
			notes = append(notes, "point of order: "+orDefault(e.pooWhy, "(no reason given)"))
		}
		if e.race {
			label = joinNonEmpty("\n", label, "race")
			if color == "" {
				color = "darkorange"
			}
			notes = append(notes, "race: "+orDefault(e.raceWhy, "(no reason given)"))
		}
		if len(e.nonMono) > 0 {
			notes = append(notes, "non-monotone: "+strings.Join(e.nonMono, ", "))
		}
		k := key{e.From, e.To, label, color, style}
		d := byKey[k]
		if d == nil {
			d = &drawnEdge{from: e.From, to: e.To, label: label, style: style, color: color, first: i}
			byKey[k] = d
			v.drawn = append(v.drawn, d)
		}
		tip := fmt.Sprintf("rule at %s: %s", e.Rule.Rule.At, lang.RuleString(e.Rule.Rule))
		for _, t := range append([]string{tip}, notes...) {
			if !slices.Contains(d.tooltip, t) {
				d.tooltip = append(d.tooltip, t)
			}
		}
	}
	colls := v.p.Colls
	sort.SliceStable(v.drawn, func(i, j int) bool {
		a, b := v.drawn[i], v.drawn[j]
		if colls[a.from].Name != colls[b.from].Name {
			return colls[a.from].Name < colls[b.from].Name
		}
		if colls[a.to].Name != colls[b.to].Name {
			return colls[a.to].Name < colls[b.to].Name
		}
		return a.first < b.first
	})
}

// ruleAggregates lists the aggregate names of a rule's head, in column
// order, each once; never nil.
func ruleAggregates(r *lang.RuleInfo) []string {
	out := []string{}
	for _, i := range r.Head.AggCols {
		if c, ok := r.Head.Args[i].(*lang.Call); ok && !slices.Contains(out, c.Name) {
			out = append(out, c.Name)
		}
	}
	return out
}

func (v *graphView) compRecursive(coll int) bool { return v.p.Components[v.compOf[coll]].Recursive }

// names returns the collections' names, sorted.
func (v *graphView) names(ids []int) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, v.p.Colls[id].Name)
	}
	sort.Strings(out)
	return out
}

// sortedByName returns the collection ids ordered by name.
func (v *graphView) sortedByName(ids []int) []int {
	out := append([]int(nil), ids...)
	sort.Slice(out, func(i, j int) bool { return v.p.Colls[out[i]].Name < v.p.Colls[out[j]].Name })
	return out
}

// title is the graph's caption: the module name, else the root file's base
// name.
func (v *graphView) title() string {
	if v.p.Prog.Name != "" {
		return "module " + v.p.Prog.Name
	}
	if v.p.Prog.Root != nil {
		return filepath.Base(v.p.Prog.Root.Name)
	}
	return "bloom"
}

// nodeLines is a collection's label: its name, its kind (with durable,
// the lattice type or the period), and its lattice columns.
func (v *graphView) nodeLines(id int) []string {
	info := v.p.Colls[id].Info
	kind := info.Kind.String()
	switch info.Kind {
	case lang.Lattice:
		kind += " " + info.Cols[0].Type.String()
	case lang.Periodic:
		if info.Decl != nil {
			kind += " every " + info.Decl.EveryRaw
		}
	}
	if info.Durable {
		kind = "durable " + kind
	}
	lines := []string{info.Name, kind}
	if info.Kind != lang.Lattice {
		var lat []string
		for _, col := range info.Cols {
			if col.Type.IsLattice() {
				lat = append(lat, col.Name+": "+col.Type.String())
			}
		}
		if len(lat) > 0 {
			lines = append(lines, strings.Join(lat, ", "))
		}
	}
	return lines
}

// ---- dot ----

func (v *graphView) dot() string {
	var b strings.Builder
	b.WriteString("// Generated by bloomc graph. Strata are clusters; see docs/graph.md.\n")
	b.WriteString("digraph bloom {\n")
	fmt.Fprintf(&b, "  graph [rankdir=LR, label=%s, labelloc=t, fontname=\"Helvetica,Arial,sans-serif\"];\n", dotQuote(v.title()))
	b.WriteString("  node [shape=box, fontname=\"Helvetica,Arial,sans-serif\", fontsize=11];\n")
	b.WriteString("  edge [fontname=\"Helvetica,Arial,sans-serif\", fontsize=9];\n")
	for _, s := range v.strata {
		fmt.Fprintf(&b, "  subgraph cluster_stratum_%d {\n", s.index)
		fmt.Fprintf(&b, "    label=%s; style=rounded; color=gray60;\n", dotQuote(fmt.Sprintf("stratum %d", s.index)))
		var plain []int
		for _, ci := range s.comps {
			c := v.p.Components[ci]
			if !c.Recursive {
				plain = append(plain, c.Colls...)
				continue
			}
			fmt.Fprintf(&b, "    subgraph cluster_component_%d {\n", ci)
			b.WriteString("      label=\"recursive\"; style=dashed; color=gray40;\n")
			for _, id := range v.sortedByName(c.Colls) {
				v.dotNode(&b, "      ", id)
			}
			b.WriteString("    }\n")
		}
		for _, id := range v.sortedByName(plain) {
			v.dotNode(&b, "    ", id)
		}
		b.WriteString("  }\n")
	}
	for _, d := range v.drawn {
		var attrs []string
		if d.label != "" {
			attrs = append(attrs, "label="+dotLabel(strings.Split(d.label, "\n")))
		}
		switch d.style {
		case styleDashed:
			attrs = append(attrs, "style=dashed")
		case styleDotted:
			attrs = append(attrs, "style=dotted")
		case styleBold:
			attrs = append(attrs, "style=bold")
		case styleBoldDashed:
			attrs = append(attrs, `style="bold,dashed"`)
		}
		if d.color != "" {
			attrs = append(attrs, "color="+d.color, "fontcolor="+d.color, "penwidth=2")
		}
		attrs = append(attrs, "tooltip="+dotLabel(d.tooltip))
		fmt.Fprintf(&b, "  %s -> %s [%s];\n", dotQuote(v.p.Colls[d.from].Name), dotQuote(v.p.Colls[d.to].Name), strings.Join(attrs, ", "))
	}
	b.WriteString("}\n")
	return b.String()
}

func (v *graphView) dotNode(b *strings.Builder, indent string, id int) {
	info := v.p.Colls[id].Info
	attrs := []string{"label=" + dotLabel(v.nodeLines(id))}
	switch info.Kind {
	case lang.Table:
		if info.Durable {
			attrs = append(attrs, "shape=cylinder")
		}
	case lang.Scratch:
		attrs = append(attrs, "style=dashed")
	case lang.Input:
		attrs = append(attrs, "shape=invhouse")
	case lang.Output:
		attrs = append(attrs, "shape=house")
	case lang.Channel:
		attrs = append(attrs, "shape=cds")
	case lang.Periodic:
		attrs = append(attrs, "shape=octagon")
	case lang.Lattice:
		attrs = append(attrs, "shape=hexagon")
		if info.Durable {
			attrs = append(attrs, "peripheries=2")
		}
	}
	fmt.Fprintf(b, "%s%s [%s];\n", indent, dotQuote(info.Name), strings.Join(attrs, ", "))
}

// dotEscape escapes s for the inside of a dot double-quoted string: a
// backslash and a double quote are escaped, a newline becomes \n. Escaping
// every backslash also keeps Graphviz from expanding \N, \G, \l and the
// like in labels.
func dotEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// dotQuote returns s as a dot double-quoted ID.
func dotQuote(s string) string { return `"` + dotEscape(s) + `"` }

// dotLabel returns lines as one quoted dot label, centred lines.
func dotLabel(lines []string) string {
	esc := make([]string, len(lines))
	for i, l := range lines {
		esc[i] = dotEscape(l)
	}
	return `"` + strings.Join(esc, `\n`) + `"`
}

// ---- mermaid ----

func (v *graphView) mermaid() string {
	ids := mermaidIDs(v.p.Colls)
	var b strings.Builder
	fmt.Fprintf(&b, "%%%% Generated by bloomc graph: %s. Strata are subgraphs; see docs/graph.md.\n", mermaidComment(v.title()))
	b.WriteString("flowchart LR\n")
	for _, s := range v.strata {
		fmt.Fprintf(&b, "  subgraph stratum_%d[\"stratum %d\"]\n", s.index, s.index)
		var plain []int
		for _, ci := range s.comps {
			c := v.p.Components[ci]
			if !c.Recursive {
				plain = append(plain, c.Colls...)
				continue
			}
			fmt.Fprintf(&b, "    subgraph component_%d[\"recursive\"]\n", ci)
			for _, id := range v.sortedByName(c.Colls) {
				v.mermaidNode(&b, "      ", ids[id], id)
			}
			b.WriteString("    end\n")
		}
		for _, id := range v.sortedByName(plain) {
			v.mermaidNode(&b, "    ", ids[id], id)
		}
		b.WriteString("  end\n")
	}
	var styles []string
	for i, d := range v.drawn {
		arrow := "-->"
		var style []string
		switch d.style {
		case styleDashed:
			style = append(style, "stroke-dasharray:8 4")
		case styleDotted:
			arrow = "-.->"
		case styleBold:
			arrow = "==>"
		case styleBoldDashed:
			arrow = "==>"
			style = append(style, "stroke-dasharray:8 4")
		}
		if d.color != "" {
			style = append(style, "stroke:"+d.color, "color:"+d.color)
		}
		label := ""
		if d.label != "" {
			label = "|" + mermaidText(strings.Split(d.label, "\n")) + "|"
		}
		fmt.Fprintf(&b, "  %s %s%s %s\n", ids[d.from], arrow, label, ids[d.to])
		if len(style) > 0 {
			styles = append(styles, fmt.Sprintf("  linkStyle %d %s\n", i, strings.Join(style, ",")))
		}
	}
	for _, s := range styles {
		b.WriteString(s)
	}
	return b.String()
}

func (v *graphView) mermaidNode(b *strings.Builder, indent, mid string, id int) {
	text := mermaidText(v.nodeLines(id))
	info := v.p.Colls[id].Info
	open, closing := "[", "]"
	switch info.Kind {
	case lang.Table:
		if info.Durable {
			open, closing = "[(", ")]"
		}
	case lang.Scratch:
		open, closing = "(", ")"
	case lang.Input:
		open, closing = "[/", "/]"
	case lang.Output:
		open, closing = "[\\", "\\]"
	case lang.Channel:
		open, closing = ">", "]"
	case lang.Periodic:
		open, closing = "((", "))"
	case lang.Lattice:
		open, closing = "{{", "}}"
	}
	fmt.Fprintf(b, "%s%s%s%s%s\n", indent, mid, open, text, closing)
}

var mermaidUnsafe = regexp.MustCompile(`[^A-Za-z0-9_]`)

// mermaidIDs gives each collection a Mermaid node id: "c_" and its name
// with every character outside [A-Za-z0-9_] replaced by "_" (the prefix
// keeps ids clear of keywords such as end and of the o/x arrow heads);
// names that collide after that get their collection id appended.
func mermaidIDs(colls []*Coll) []string {
	ids := make([]string, len(colls))
	count := map[string]int{}
	for i, c := range colls {
		ids[i] = "c_" + mermaidUnsafe.ReplaceAllString(c.Name, "_")
		count[ids[i]]++
	}
	for i := range ids {
		if count[ids[i]] > 1 {
			ids[i] += "_" + strconv.Itoa(colls[i].ID)
		}
	}
	return ids
}

// mermaidText returns lines as one quoted Mermaid label, lines joined by
// <br/>. Characters Mermaid would read as syntax or HTML are written as
// its entity codes (#quot; #lt; #gt; #amp; #35;).
func mermaidText(lines []string) string {
	esc := make([]string, len(lines))
	for i, l := range lines {
		var b strings.Builder
		for _, r := range l {
			switch r {
			case '#':
				b.WriteString("#35;")
			case '"':
				b.WriteString("#quot;")
			case '<':
				b.WriteString("#lt;")
			case '>':
				b.WriteString("#gt;")
			case '&':
				b.WriteString("#amp;")
			case '\n', '\r':
				b.WriteByte(' ')
			default:
				b.WriteRune(r)
			}
		}
		esc[i] = b.String()
	}
	return `"` + strings.Join(esc, "<br/>") + `"`
}

// mermaidComment makes s safe on a %% comment line.
func mermaidComment(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
