package analysis

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
)

var update = flag.Bool("update", false, "rewrite the golden files (testdata/*.golden) from the current output")

// programs returns the analyzer cases: every testdata/*.bloom file.
func programs(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.bloom")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

func lint(t *testing.T, file string) *Report {
	t.Helper()
	res := Lint(&lang.Loader{}, file)
	if len(res.Errors) > 0 {
		t.Fatalf("%s does not compile:\n%s", file, lang.ErrorList(res.Errors).Error())
	}
	return res.Report
}

func textOf(t *testing.T, r *Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteText(&b, r, TextOptions{Verbose: true}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestGolden compares the verbose text output of every case (findings with
// their paths and remedies, the channel dependence, every edge's label and
// the verdict) with testdata/NAME.golden. Run with -update to rewrite them.
func TestLintGolden(t *testing.T) {
	files := programs(t)
	if len(files) < 30 {
		t.Fatalf("only %d analyzer cases in testdata; want at least 30", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".bloom")
		t.Run(name, func(t *testing.T) {
			got := textOf(t, lint(t, f))
			golden := strings.TrimSuffix(f, ".bloom") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./analysis -run TestLintGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s: output differs from %s\n--- got:\n%s\n--- want:\n%s", f, golden, got, want)
			}
		})
	}
}

// want is the expected verdict of a case: the count of each finding and
// the constructs of its points, in position order (verdict:construct).
type want struct {
	free   bool
	points []string // "poo:negation", "local:aggregate", "ack:aggregate"
	races  []string // "race" or "ack"
}

var verdicts = map[string]want{
	"transitive_closure":     {free: true},
	"local_negation":         {free: true, points: []string{"local:negation"}},
	"local_aggregation":      {free: true, points: []string{"local:aggregate", "local:aggregate"}},
	"negation_channel":       {points: []string{"poo:negation"}},
	"vote_count":             {points: []string{"poo:aggregate"}},
	"vote_quorum_lattice":    {free: true},
	"kvs_upsert":             {points: []string{"poo:upsert"}},
	"kvs_lattice":            {free: true},
	"twopc_coordinator":      {points: []string{"poo:aggregate", "local:aggregate", "poo:key-constraint", "poo:negation", "poo:key-constraint", "poo:negation"}},
	"deletion_downstream":    {points: []string{"poo:deletion"}},
	"mod_relay":              {free: true},
	"module_point":           {points: []string{"poo:negation"}},
	"agg_next_tick_cycle":    {points: []string{"poo:aggregate"}},
	"race_request_state":     {races: []string{"race"}},
	"race_two_scratches":     {races: []string{"race"}},
	"race_guarded":           {free: true},
	"acknowledged":           {free: true, points: []string{"ack:aggregate"}},
	"acknowledged_race":      {free: true, races: []string{"ack"}},
	"value_channel":          {points: []string{"poo:value", "local:value"}},
	"now_channel":            {points: []string{"poo:now", "local:now"}},
	"lattice_compare":        {points: []string{"poo:lattice-comparison"}},
	"shortest_paths_channel": {free: true},
	"key_constraint_channel": {points: []string{"poo:key-constraint"}},
	"key_constraint_lattice": {free: true},
	"lattice_join":           {points: []string{"poo:lattice-comparison"}},
	"lbool_negation":         {points: []string{"poo:lattice-comparison"}},
	"negation_local_input":   {free: true, points: []string{"local:negation"}},
	"periodic_local":         {free: true, points: []string{"local:aggregate"}},
	"argmin_set":             {points: []string{"poo:aggregate"}},
	"channel_self_join":      {races: []string{"race"}},
	"scratch_view_guarded":   {free: true},
	"local_upsert_delete":    {free: true, points: []string{"local:upsert", "local:deletion"}},
	"lmap_at":                {free: true},
	"multi_channel_path":     {points: []string{"poo:aggregate"}},
	"cart_destructive":       {points: []string{"poo:upsert", "poo:deletion", "poo:aggregate"}, races: []string{"race", "race", "race"}},
	"cart_lattice":           {free: true},
	"cart_race":              {races: []string{"race"}},
}

// TestVerdicts pins the verdict of every case independently of the golden
// files, so that -update cannot silently flip one.
func TestLintVerdicts(t *testing.T) {
	short := map[Verdict]string{Local: "local", PointOfOrder: "poo", Acknowledged: "ack"}
	seen := map[string]bool{}
	for _, f := range programs(t) {
		name := strings.TrimSuffix(filepath.Base(f), ".bloom")
		seen[name] = true
		w, ok := verdicts[name]
		if !ok {
			t.Errorf("%s: no expected verdict in the verdicts table", f)
			continue
		}
		r := lint(t, f)
		if r.CoordinationFree() != w.free {
			t.Errorf("%s: coordination-free = %v, want %v", f, r.CoordinationFree(), w.free)
		}
		var points []string
		for _, p := range r.Points {
			points = append(points, short[p.Verdict]+":"+p.Construct.String())
		}
		if strings.Join(points, " ") != strings.Join(w.points, " ") {
			t.Errorf("%s: points %v, want %v", f, points, w.points)
		}
		var races []string
		for _, rc := range r.Races {
			if rc.Acknowledged {
				races = append(races, "ack")
			} else {
				races = append(races, "race")
			}
		}
		if strings.Join(races, " ") != strings.Join(w.races, " ") {
			t.Errorf("%s: races %v, want %v", f, races, w.races)
		}
		// Every point of order names a channel, a path that starts at
		// it and ends at an input, and a remedy naming the coordination
		// modules; local points have none.
		for _, p := range r.Points {
			if p.Verdict == Local {
				if p.Channel != "" || len(p.Path) != 0 {
					t.Errorf("%s: local point %s has a channel path", f, p.Detail)
				}
				continue
			}
			if len(p.Path) == 0 || p.Path[0].Collection != p.Channel || p.Path[len(p.Path)-1].Collection != p.Input {
				t.Errorf("%s: point %s: path %v does not lead from %s to %s", f, p.Detail, p.Path, p.Channel, p.Input)
			}
			if r.Plan.ByName[p.Channel].Info.Kind != lang.Channel {
				t.Errorf("%s: point %s: %s is not a channel", f, p.Detail, p.Channel)
			}
			if !strings.Contains(p.Remedy, "std/twopc") || !strings.Contains(p.Remedy, "std/quorum") {
				t.Errorf("%s: remedy of %s does not name the coordination modules: %s", f, p.Detail, p.Remedy)
			}
		}
		for _, rc := range r.Races {
			if !strings.Contains(rc.Remedy, "<= ") {
				t.Errorf("%s: race remedy suggests no persisting rule: %s", f, rc.Remedy)
			}
		}
	}
	for name := range verdicts {
		if !seen[name] {
			t.Errorf("verdicts table names %s, which has no testdata/%s.bloom", name, name)
		}
	}
}

// TestEdgeLabels checks that Report.Edges labels Plan.Graph.Edges index for
// index and that the labels name the constructs.
func TestLintEdgeLabels(t *testing.T) {
	r := lint(t, "testdata/cart_destructive.bloom")
	if len(r.Edges) != len(r.Plan.Graph.Edges) {
		t.Fatalf("%d labels for %d edges", len(r.Edges), len(r.Plan.Graph.Edges))
	}
	for i, l := range r.Edges {
		if l.Edge != r.Plan.Graph.Edges[i] {
			t.Fatalf("label %d is not for edge %d", i, i)
		}
	}
	got := map[string]string{}
	for _, l := range r.Edges {
		var cs []string
		for _, c := range l.Constructs {
			cs = append(cs, c.String())
		}
		got[l.From+"->"+l.To+" "+l.Edge.Kind.String()] = l.Verdict() + " " + strings.Join(cs, ",")
	}
	for edge, label := range map[string]string{
		"add_item->cart upsert":   "point-of-order upsert",
		"del_item->cart delete":   "point-of-order deletion",
		"cart->cart delete":       "point-of-order deletion",
		"checkout->receipt async": "monotone ",
		"cart->receipt async":     "monotone ",
		"checkout->total async":   "point-of-order aggregate",
		"cart->total async":       "point-of-order aggregate",
	} {
		if got[edge] != label {
			t.Errorf("edge %s: label %q, want %q", edge, got[edge], label)
		}
	}
	for _, l := range r.Edges {
		if l.To == "receipt" && !l.Race {
			t.Errorf("edge %s -> receipt is not marked as a race side", l.From)
		}
	}
}

// TestChannelDependence checks dependence through next-tick cycles and
// modules.
func TestLintChannelDependence(t *testing.T) {
	r := lint(t, "testdata/agg_next_tick_cycle.bloom")
	for _, c := range []string{"ping", "inbox", "cur", "total"} {
		if got := r.DependsOn[c]; len(got) != 1 || got[0] != "ping" {
			t.Errorf("%s depends on %v, want [ping]", c, got)
		}
	}
	r = lint(t, "testdata/module_point.bloom")
	if got := r.DependsOn["missing"]; len(got) != 1 || got[0] != "r.msg" {
		t.Errorf("missing depends on %v, want [r.msg]", got)
	}
	if len(r.DependsOn["expected"]) != 0 {
		t.Errorf("expected depends on %v, want nothing", r.DependsOn["expected"])
	}
	r = lint(t, "testdata/multi_channel_path.bloom")
	if got := strings.Join(r.DependsOn["both"], ","); got != "a_msg,b_msg" {
		t.Errorf("both depends on %s, want a_msg,b_msg", got)
	}
}

func TestLintAnalyzeNil(t *testing.T) {
	if _, err := Analyze(nil); err == nil {
		t.Error("Analyze(nil) returned no error")
	}
	if _, err := Analyze(&compiler.Plan{}); err == nil {
		t.Error("Analyze of an empty plan returned no error")
	}
}

func TestLintDeterministic(t *testing.T) {
	for _, f := range []string{"testdata/twopc_coordinator.bloom", "testdata/cart_destructive.bloom"} {
		a, b := textOf(t, lint(t, f)), textOf(t, lint(t, f))
		if a != b {
			t.Errorf("%s: two runs differ", f)
		}
	}
}

func TestLintStatusOf(t *testing.T) {
	free := Lint(&lang.Loader{}, "testdata/transitive_closure.bloom")
	poo := Lint(&lang.Loader{}, "testdata/negation_channel.bloom")
	ack := Lint(&lang.Loader{}, "testdata/acknowledged.bloom")
	bad := Lint(&lang.Loader{}, "testdata/no_such_file.bloom")
	if len(bad.Errors) == 0 || bad.Report != nil {
		t.Fatalf("missing file: %+v", bad)
	}
	for _, c := range []struct {
		rs   []*Result
		want Status
	}{
		{[]*Result{free}, StatusOK},
		{[]*Result{ack}, StatusOK},
		{[]*Result{free, poo}, StatusPoints},
		{[]*Result{poo, bad}, StatusErrors},
		{[]*Result{}, StatusOK},
	} {
		if got := StatusOf(c.rs); got != c.want {
			t.Errorf("StatusOf(%d results) = %d, want %d", len(c.rs), got, c.want)
		}
	}
}

func TestLintVerdictLine(t *testing.T) {
	for file, want := range map[string]string{
		"testdata/transitive_closure.bloom": "testdata/transitive_closure.bloom: coordination-free",
		"testdata/local_aggregation.bloom":  "testdata/local_aggregation.bloom: coordination-free (2 local non-monotone points)",
		"testdata/cart_destructive.bloom":   "testdata/cart_destructive.bloom: not coordination-free: 3 points of order, 3 races",
		"testdata/acknowledged.bloom":       "testdata/acknowledged.bloom: coordination-free (1 acknowledged)",
		"testdata/now_channel.bloom":        "testdata/now_channel.bloom: not coordination-free: 1 point of order (1 local non-monotone point)",
	} {
		if got := VerdictLine(lint(t, file)); got != want {
			t.Errorf("VerdictLine = %q, want %q", got, want)
		}
	}
}
