package analysis

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/bloomlang/bloom/lang"
)

// SARIF 2.1.0 output for GitHub code scanning.

// SARIF rule ids.
const (
	RuleCompileError = "BLOOM000"
	RulePointOfOrder = "BLOOM001"
	RuleRace         = "BLOOM002"
	RuleAcknowledged = "BLOOM003"
)

// SARIFOptions controls WriteSARIF.
type SARIFOptions struct {
	Tool Tool
	// BaseDir is the directory artifact URIs are made relative to (the
	// repository root in CI); "" leaves relative file names as they are.
	BaseDir string
	// ReadFile reads a source file to convert byte columns to the UTF-16
	// columns SARIF counts by default; nil means os.ReadFile.
	ReadFile func(string) ([]byte, error)
}

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	HelpURI              string         `json:"helpUri,omitempty"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           sarifRuleProps `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags            []string `json:"tags"`
	Precision       string   `json:"precision"`
	ProblemSeverity string   `json:"problem.severity"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	RelatedLocations    []sarifLocation   `json:"relatedLocations,omitempty"`
	CodeFlows           []sarifCodeFlow   `json:"codeFlows,omitempty"`
	PartialFingerprints map[string]string `json:"partialFingerprints,omitempty"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

type sarifLocation struct {
	ID               *int                  `json:"id,omitempty"`
	PhysicalLocation sarifPhysicalLocation `json:"physicalLocation"`
	Message          *sarifText            `json:"message,omitempty"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           sarifRegion           `json:"region"`
}

type sarifArtifactLocation struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

type sarifCodeFlow struct {
	Message     *sarifText        `json:"message,omitempty"`
	ThreadFlows []sarifThreadFlow `json:"threadFlows"`
}

type sarifThreadFlow struct {
	Locations []sarifThreadFlowLocation `json:"locations"`
}

type sarifThreadFlowLocation struct {
	Location sarifLocation `json:"location"`
}

const docURL = "https://github.com/bloomlang/bloom/blob/main/docs/calm.md"

var sarifRules = []sarifRule{
	{
		ID: RuleCompileError, Name: "compile-error",
		ShortDescription:     sarifText{Text: "The program does not compile."},
		FullDescription:      sarifText{Text: "The Bloom program has a syntax, type or stratification error, so it could not be analysed."},
		Help:                 sarifText{Text: "Fix the error; `bloomc check FILE` prints the same message."},
		DefaultConfiguration: sarifConfig{Level: "error"},
		Properties:           sarifRuleProps{Tags: []string{"bloom", "correctness"}, Precision: "very-high", ProblemSeverity: "error"},
	},
	{
		ID: RulePointOfOrder, Name: "point-of-order",
		ShortDescription: sarifText{Text: "Point of order: a non-monotone construct whose input depends on a channel."},
		FullDescription: sarifText{Text: "A negation, non-lattice aggregate, deletion, upsert, value(), now(), rejecting key constraint " +
			"or non-threshold lattice comparison reads data that arrives asynchronously through a channel. Its outcome depends on " +
			"message order and timing, so the program is not coordination-free (CALM theorem)."},
		Help: sarifText{
			Text: "Rewrite the construct monotonically (a lattice such as lset, lmax, lmin or lcounter, tested with a threshold such as " +
				"size(s) >= n), seal the input (the sender says how many messages to expect), or coordinate through std/twopc or " +
				"std/quorum and mark the rule @coordinated(\"reason\"). The message gives the path from the channel and a concrete remedy.",
			Markdown: "Rewrite the construct monotonically (a lattice such as `lset`, `lmax`, `lmin` or `lcounter`, tested with a " +
				"threshold such as `size(s) >= n`), **seal** the input (the sender says how many messages to expect), or " +
				"**coordinate** through `std/twopc` or `std/quorum` and mark the rule `@coordinated(\"reason\")`. " +
				"See [docs/calm.md](" + docURL + ").",
		},
		HelpURI:              docURL,
		DefaultConfiguration: sarifConfig{Level: "error"},
		Properties:           sarifRuleProps{Tags: []string{"bloom", "calm", "coordination", "distributed-systems"}, Precision: "high", ProblemSeverity: "error"},
	},
	{
		ID: RuleRace, Name: "race",
		ShortDescription: sarifText{Text: "Race: transient channel data joined in the same tick with other channel-dependent data."},
		FullDescription: sarifText{Text: "A join reads a transient collection filled by a channel (the messages of this tick) together with " +
			"other data that depends on a channel. What it produces depends on which messages had arrived by that tick, so the " +
			"outcome is not deterministic although every operator is monotone (unguarded asynchrony)."},
		Help: sarifText{
			Text: "Persist the request in a table first (e.g. pending(c, s, n) <= checkout(_, c, s, n)) and join the table: a table " +
				"accumulates every message whatever tick it arrives in.",
			Markdown: "Persist the request in a table first (e.g. `pending(c, s, n) <= checkout(_, c, s, n);`) and join the table: " +
				"a table accumulates every message whatever tick it arrives in. See [docs/calm.md](" + docURL + ").",
		},
		HelpURI:              docURL,
		DefaultConfiguration: sarifConfig{Level: "error"},
		Properties:           sarifRuleProps{Tags: []string{"bloom", "calm", "race", "distributed-systems"}, Precision: "high", ProblemSeverity: "error"},
	},
	{
		ID: RuleAcknowledged, Name: "acknowledged",
		ShortDescription: sarifText{Text: "Acknowledged point of order: the rule is marked @coordinated."},
		FullDescription: sarifText{Text: "A point of order or race in a rule marked @coordinated(\"reason\"): the programmer states that " +
			"the rule is coordinated, so it does not make the lint fail. Listed for review."},
		Help: sarifText{
			Text:     "No action needed if the coordination named in the @coordinated reason is in place.",
			Markdown: "No action needed if the coordination named in the `@coordinated` reason is in place. See [docs/calm.md](" + docURL + ").",
		},
		HelpURI:              docURL,
		DefaultConfiguration: sarifConfig{Level: "note"},
		Properties:           sarifRuleProps{Tags: []string{"bloom", "calm", "coordination"}, Precision: "high", ProblemSeverity: "recommendation"},
	},
}

func ruleIndex(id string) int {
	for i, r := range sarifRules {
		if r.ID == id {
			return i
		}
	}
	return -1
}

// sarifWriter builds the results of one run.
type sarifWriter struct {
	opts  SARIFOptions
	files map[string][]string // source lines by file, for column conversion
	seen  map[string]bool
	out   []sarifResult
}

// WriteSARIF writes a SARIF 2.1.0 log with one run holding the findings of
// every result: unacknowledged points of order (BLOOM001, error), races
// (BLOOM002, error), acknowledged ones (BLOOM003, note) and compile errors
// (BLOOM000, error). Local non-monotone points are not results: they need
// no action. A finding reported by several programs (a module linted on its
// own and through an importer) is listed once. Findings inside standard
// library modules (std/..., not files of the repository) are reported at the
// root file's import of the module when unacknowledged, and left out when
// acknowledged (the library's own coordination).
func WriteSARIF(w io.Writer, results []*Result, opts SARIFOptions) error {
	sw := &sarifWriter{opts: opts, files: map[string][]string{}, seen: map[string]bool{}, out: []sarifResult{}}
	for _, res := range results {
		for _, e := range res.Errors {
			sw.add(sarifResult{RuleID: RuleCompileError, Level: "error", Message: sarifText{Text: e.Msg},
				Locations: []sarifLocation{sw.loc(e.Pos, nil)}})
		}
		if res.Report != nil {
			sw.report(res.Report)
		}
	}
	name := opts.Tool.Name
	if name == "" {
		name = "bloomc"
	}
	log := sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs: []sarifRun{{
			Tool: sarifTool{Driver: sarifDriver{Name: name, Version: opts.Tool.Version,
				InformationURI: "https://github.com/bloomlang/bloom", Rules: sarifRules}},
			Results: sw.out,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(log)
}

func (sw *sarifWriter) add(r sarifResult) {
	r.RuleIndex = ruleIndex(r.RuleID)
	l := r.Locations[0].PhysicalLocation
	key := r.RuleID + "\x00" + l.ArtifactLocation.URI + "\x00" + itoa(l.Region.StartLine) + ":" + itoa(l.Region.StartColumn) + "\x00" + r.Message.Text
	if sw.seen[key] {
		return
	}
	sw.seen[key] = true
	sw.out = append(sw.out, r)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// isLibrary reports whether file is a standard library module ("std/...",
// read from the toolchain, not from the repository).
func (sw *sarifWriter) isLibrary(file string) bool {
	if !strings.HasPrefix(filepath.ToSlash(file), "std/") {
		return false
	}
	_, err := os.Stat(file)
	return err != nil
}

// primary is where a finding is reported: its own position, or, for one
// inside a standard library module, the root file's import of that module
// (the repository has no std/ file to point at). ok is false for a
// finding that should not be reported (an acknowledged one in the library).
func (sw *sarifWriter) primary(r *Report, pos lang.Pos, acknowledged bool) (at lang.Pos, prefix string, ok bool) {
	if !sw.isLibrary(pos.File) {
		return pos, "", true
	}
	if acknowledged {
		return pos, "", false
	}
	mod := strings.TrimSuffix(filepath.ToSlash(pos.File), ".bloom")
	at = lang.Pos{File: r.File, Line: 1, Col: 1}
	if root := r.Plan.Prog.Root; root != nil {
		for _, imp := range root.Imports {
			if strings.TrimSuffix(imp.Path, ".bloom") == mod {
				at = imp.At
				break
			}
		}
	}
	return at, "in " + mod + " at " + pos.String() + ": ", true
}

func (sw *sarifWriter) report(r *Report) {
	for _, p := range r.Points {
		if p.Verdict == Local {
			continue
		}
		at, prefix, ok := sw.primary(r, p.Pos, p.Verdict == Acknowledged)
		if !ok {
			continue
		}
		res := sarifResult{RuleID: RulePointOfOrder, Level: "error"}
		text := p.Kind() + ": " + prefix + p.Message()
		if p.Verdict == Acknowledged {
			res.RuleID, res.Level = RuleAcknowledged, "note"
			text = "acknowledged point of order (@coordinated \"" + p.Reason + "\"): " + p.Message()
		}
		text += "\nPath: " + PathString(p.Path, p.Pos, p.Detail)
		if p.Verdict == PointOfOrder {
			text += "\nRemedy: " + p.Remedy
		}
		res.Message = sarifText{Text: text}
		res.Locations = []sarifLocation{sw.loc(at, nil)}
		res.RelatedLocations, res.CodeFlows = sw.flow(r, p.Path, p.Pos, p.Detail)
		res.PartialFingerprints = fingerprint(res.RuleID, p.Pos.File, p.Construct.String(), p.Detail, lang.RuleString(p.Rule.Rule))
		res.Properties = map[string]any{"construct": p.Construct.String(), "channel": p.Channel}
		sw.add(res)
	}
	for _, rc := range r.Races {
		at, prefix, ok := sw.primary(r, rc.Pos, rc.Acknowledged)
		if !ok {
			continue
		}
		res := sarifResult{RuleID: RuleRace, Level: "error"}
		text := "race: " + prefix + rc.Message()
		if rc.Acknowledged {
			res.RuleID, res.Level = RuleAcknowledged, "note"
			text = "acknowledged race (@coordinated \"" + rc.Reason + "\"): " + rc.Message()
		}
		for _, s := range rc.Sides {
			text += "\nPath: " + PathString(s.Path, rc.Pos, s.Atom)
		}
		if !rc.Acknowledged {
			text += "\nRemedy: " + rc.Remedy
		}
		res.Message = sarifText{Text: text}
		res.Locations = []sarifLocation{sw.loc(at, nil)}
		for _, s := range rc.Sides {
			rel, flows := sw.flow(r, s.Path, s.Pos, s.Atom)
			for _, l := range rel {
				id := len(res.RelatedLocations) + 1
				l.ID = &id
				res.RelatedLocations = append(res.RelatedLocations, l)
			}
			res.CodeFlows = append(res.CodeFlows, flows...)
		}
		res.PartialFingerprints = fingerprint(res.RuleID, rc.Pos.File, "race", lang.RuleString(rc.Rule.Rule))
		res.Properties = map[string]any{"construct": "race"}
		sw.add(res)
	}
}

// flow renders a path as related locations (the channel's declaration and
// each rule on the way) and a code flow ending at the finding.
func (sw *sarifWriter) flow(r *Report, path []Step, at lang.Pos, end string) ([]sarifLocation, []sarifCodeFlow) {
	var rel []sarifLocation
	var tfl []sarifThreadFlowLocation
	for i, s := range path {
		var pos lang.Pos
		var msg string
		if s.Rule == nil {
			c := r.Plan.ByName[s.Collection]
			if c == nil || c.Info.Decl == nil {
				continue
			}
			pos = c.Info.Decl.NamePos
			msg = "channel " + s.Collection + " (messages arrive here in any order)"
		} else {
			pos = s.Rule.Rule.At
			msg = s.Collection + " is derived here (" + s.Op + ")"
		}
		id := i + 1
		rel = append(rel, sw.loc(pos, &sarifText{Text: msg}))
		rel[len(rel)-1].ID = &id
		tfl = append(tfl, sarifThreadFlowLocation{Location: sw.loc(pos, &sarifText{Text: msg})})
	}
	tfl = append(tfl, sarifThreadFlowLocation{Location: sw.loc(at, &sarifText{Text: end})})
	return rel, []sarifCodeFlow{{ThreadFlows: []sarifThreadFlow{{Locations: tfl}}}}
}

func fingerprint(parts ...string) map[string]string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return map[string]string{"bloomLint/v1": hex.EncodeToString(h[:16])}
}

func (sw *sarifWriter) loc(p lang.Pos, msg *sarifText) sarifLocation {
	return sarifLocation{
		PhysicalLocation: sarifPhysicalLocation{
			ArtifactLocation: sarifArtifactLocation{URI: sw.uri(p.File)},
			Region:           sarifRegion{StartLine: max(p.Line, 1), StartColumn: sw.column(p)},
		},
		Message: msg,
	}
}

// uri makes a file name a URI reference relative to BaseDir when it lies
// inside it, with forward slashes and percent-encoding; other absolute
// names become file: URIs.
func (sw *sarifWriter) uri(file string) string {
	name := file
	if filepath.IsAbs(name) {
		name = filepath.Clean(name)
	}
	if filepath.IsAbs(name) && sw.opts.BaseDir != "" {
		if rel, err := filepath.Rel(sw.opts.BaseDir, name); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			name = rel
		}
	}
	if filepath.IsAbs(name) {
		u := url.URL{Scheme: "file", Path: filepath.ToSlash(name)}
		return u.String()
	}
	name = filepath.ToSlash(filepath.Clean(name))
	u := url.URL{Path: name}
	// A relative path whose first segment has a colon would read as a
	// scheme; url.URL prefixes "./" in that case.
	return u.String()
}

// column converts a 1-based byte column to the 1-based UTF-16 column SARIF
// counts by default. Without the source it returns the byte column.
func (sw *sarifWriter) column(p lang.Pos) int {
	if p.Col <= 0 {
		return 0
	}
	lines, ok := sw.files[p.File]
	if !ok {
		read := sw.opts.ReadFile
		if read == nil {
			read = os.ReadFile
		}
		if src, err := read(p.File); err == nil {
			lines = strings.Split(string(src), "\n")
		}
		sw.files[p.File] = lines
	}
	if p.Line < 1 || p.Line > len(lines) {
		return p.Col
	}
	line := lines[p.Line-1]
	if p.Col-1 > len(line) {
		return p.Col
	}
	prefix := line[:p.Col-1]
	if !utf8.ValidString(prefix) {
		return p.Col
	}
	return len(utf16.Encode([]rune(prefix))) + 1
}
