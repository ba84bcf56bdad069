package analysis

import (
	"encoding/json"
	"io"

	"github.com/bloomlang/bloom/lang"
)

// Tool names the program that produced a JSON or SARIF document.
type Tool struct {
	Name    string
	Version string
}

// The JSON document of `bloomc lint --format json`, version 1. The schema
// is documented in docs/lint-schema.md and given as a JSON Schema in
// docs/lint-schema.json; it only ever grows (new fields), and a breaking
// change would bump Version. Every field is always present; lists are
// never null.

// JSONFormat and JSONVersion identify the document.
const (
	JSONFormat  = "bloom-lint"
	JSONVersion = 1
)

// JSONDocument is the top-level object.
type JSONDocument struct {
	Format           string         `json:"format"`
	Version          int            `json:"version"`
	Tool             JSONTool       `json:"tool"`
	CoordinationFree bool           `json:"coordinationFree"`
	Programs         []*JSONProgram `json:"programs"`
}

// JSONTool names the producer.
type JSONTool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// JSONLocation is a source position; line and column are 1-based, the
// column counts bytes.
type JSONLocation struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

// JSONError is a compile error.
type JSONError struct {
	Location JSONLocation `json:"location"`
	Message  string       `json:"message"`
}

// JSONProgram is the lint of one program file.
type JSONProgram struct {
	File   string      `json:"file"`
	Module string      `json:"module"`
	Errors []JSONError `json:"errors"`
	// Verdict is "coordination-free", "not-coordination-free" or "error".
	Verdict          string               `json:"verdict"`
	CoordinationFree bool                 `json:"coordinationFree"`
	Summary          JSONSummary          `json:"summary"`
	Channels         []string             `json:"channels"`
	ChannelDependent []JSONChannelDepends `json:"channelDependent"`
	Points           []JSONPoint          `json:"points"`
	Races            []JSONRace           `json:"races"`
	Edges            []JSONEdge           `json:"edges"`
}

// JSONSummary counts the findings.
type JSONSummary struct {
	PointsOfOrder int `json:"pointsOfOrder"`
	Races         int `json:"races"`
	Acknowledged  int `json:"acknowledged"`
	Local         int `json:"local"`
}

// JSONChannelDepends lists the channels a collection depends on.
type JSONChannelDepends struct {
	Collection string   `json:"collection"`
	Channels   []string `json:"channels"`
}

// JSONStep is one hop of a path from a channel. The first step is the
// channel (op "" and rule null); every other step is the collection
// derived by the rule at rule with operator op.
type JSONStep struct {
	Collection string        `json:"collection"`
	Op         string        `json:"op"`
	Rule       *JSONLocation `json:"rule"`
}

// JSONPoint is a non-monotone point.
type JSONPoint struct {
	// Verdict is "point-of-order", "acknowledged" or "local".
	Verdict string `json:"verdict"`
	// Construct is "negation", "aggregate", "deletion", "upsert", "value",
	// "now", "key-constraint" or "lattice-comparison".
	Construct string       `json:"construct"`
	Detail    string       `json:"detail"`
	Message   string       `json:"message"`
	Location  JSONLocation `json:"location"`
	Rule      JSONLocation `json:"rule"`
	Inputs    []string     `json:"inputs"`
	// Input, Channel and Path are "" / "" / [] for a local point.
	Input    string     `json:"input"`
	Channel  string     `json:"channel"`
	Channels []string   `json:"channels"`
	Path     []JSONStep `json:"path"`
	Reason   string     `json:"reason"`
	Remedy   string     `json:"remedy"`
}

// JSONRace is a race.
type JSONRace struct {
	// Verdict is "race" or "acknowledged".
	Verdict  string         `json:"verdict"`
	Message  string         `json:"message"`
	Location JSONLocation   `json:"location"`
	Rule     JSONLocation   `json:"rule"`
	Sides    []JSONRaceSide `json:"sides"`
	Reason   string         `json:"reason"`
	Remedy   string         `json:"remedy"`
}

// JSONRaceSide is one channel-dependent atom of a racing join.
type JSONRaceSide struct {
	Collection string       `json:"collection"`
	Atom       string       `json:"atom"`
	Location   JSONLocation `json:"location"`
	Transient  bool         `json:"transient"`
	Channel    string       `json:"channel"`
	Path       []JSONStep   `json:"path"`
}

// JSONEdge labels a dependency edge (body atom to head) of one rule.
type JSONEdge struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Kind is the compiler's edge kind: positive, negated, aggregated,
	// next, delete, upsert or async.
	Kind     string       `json:"kind"`
	Op       string       `json:"op"`
	Rule     JSONLocation `json:"rule"`
	Atom     JSONLocation `json:"atom"`
	Monotone bool         `json:"monotone"`
	// Constructs name what makes the edge non-monotone.
	Constructs []string `json:"constructs"`
	// Verdict is "monotone", "local", "acknowledged" or "point-of-order".
	Verdict string `json:"verdict"`
	Race    bool   `json:"race"`
}

func jsonLoc(p lang.Pos) JSONLocation {
	return JSONLocation{File: p.File, Line: p.Line, Column: p.Col}
}

func jsonPath(steps []Step) []JSONStep {
	out := make([]JSONStep, 0, len(steps))
	for _, s := range steps {
		js := JSONStep{Collection: s.Collection, Op: s.Op}
		if s.Rule != nil {
			l := jsonLoc(s.Rule.Rule.At)
			js.Rule = &l
		}
		out = append(out, js)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// NewJSONDocument builds the JSON document of a set of results.
func NewJSONDocument(results []*Result, tool Tool) *JSONDocument {
	doc := &JSONDocument{Format: JSONFormat, Version: JSONVersion, Tool: JSONTool{tool.Name, tool.Version},
		CoordinationFree: StatusOf(results) == StatusOK, Programs: []*JSONProgram{}}
	for _, res := range results {
		doc.Programs = append(doc.Programs, jsonProgram(res))
	}
	return doc
}

func jsonProgram(res *Result) *JSONProgram {
	jp := &JSONProgram{File: res.File, Errors: []JSONError{}, Verdict: "error", Channels: []string{},
		ChannelDependent: []JSONChannelDepends{}, Points: []JSONPoint{}, Races: []JSONRace{}, Edges: []JSONEdge{}}
	for _, e := range res.Errors {
		jp.Errors = append(jp.Errors, JSONError{Location: jsonLoc(e.Pos), Message: e.Msg})
	}
	r := res.Report
	if r == nil {
		return jp
	}
	jp.Module = r.Module
	jp.CoordinationFree = r.CoordinationFree()
	jp.Verdict = "not-coordination-free"
	if jp.CoordinationFree {
		jp.Verdict = "coordination-free"
	}
	s := r.Summary()
	jp.Summary = JSONSummary{PointsOfOrder: s.PointsOfOrder, Races: s.Races, Acknowledged: s.Acknowledged, Local: s.Local}
	jp.Channels = nonNil(r.Channels)
	for _, c := range r.Plan.Colls {
		if chs := r.DependsOn[c.Name]; len(chs) > 0 {
			jp.ChannelDependent = append(jp.ChannelDependent, JSONChannelDepends{Collection: c.Name, Channels: chs})
		}
	}
	for _, p := range r.Points {
		jp.Points = append(jp.Points, JSONPoint{
			Verdict: p.Verdict.String(), Construct: p.Construct.String(), Detail: p.Detail, Message: p.Message(),
			Location: jsonLoc(p.Pos), Rule: jsonLoc(p.Rule.Rule.At), Inputs: nonNil(p.Inputs),
			Input: p.Input, Channel: p.Channel, Channels: nonNil(p.Channels), Path: jsonPath(p.Path),
			Reason: p.Reason, Remedy: p.Remedy,
		})
	}
	for _, rc := range r.Races {
		jr := JSONRace{Verdict: "race", Message: rc.Message(), Location: jsonLoc(rc.Pos), Rule: jsonLoc(rc.Rule.Rule.At),
			Sides: []JSONRaceSide{}, Reason: rc.Reason, Remedy: rc.Remedy}
		if rc.Acknowledged {
			jr.Verdict = "acknowledged"
		}
		for _, s := range rc.Sides {
			jr.Sides = append(jr.Sides, JSONRaceSide{Collection: s.Collection, Atom: s.Atom, Location: jsonLoc(s.Pos),
				Transient: s.Transient, Channel: s.Channel, Path: jsonPath(s.Path)})
		}
		jp.Races = append(jp.Races, jr)
	}
	for _, l := range r.Edges {
		je := JSONEdge{From: l.From, To: l.To, Kind: l.Edge.Kind.String(), Op: l.Edge.Rule.Rule.Op.String(),
			Rule: jsonLoc(l.Edge.Rule.Rule.At), Atom: jsonLoc(l.Edge.AtomPos), Monotone: l.Monotone,
			Constructs: []string{}, Verdict: l.Verdict(), Race: l.Race}
		for _, c := range l.Constructs {
			je.Constructs = append(je.Constructs, c.String())
		}
		jp.Edges = append(jp.Edges, je)
	}
	return jp
}

// WriteJSON writes the JSON document of a set of results, indented.
func WriteJSON(w io.Writer, results []*Result, tool Tool) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(NewJSONDocument(results, tool))
}
