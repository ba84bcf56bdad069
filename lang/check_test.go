package lang

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
)

// update is shared by every golden test of the package (parse_test.go uses
// it too): go test ./lang -update rewrites the golden files.
var update = flag.Bool("update", false, "rewrite golden files")

// testLoader reads the standard library of the tests from
// testdata/check/std.
func testLoader() *Loader {
	return &Loader{Std: os.DirFS("testdata/check/std")}
}

// TestCheckGolden checks every testdata/check/NAME.bloom and compares the
// errors with NAME.err (empty for a valid program).
func TestCheckGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/check/*.bloom")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no test files")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".bloom")
		t.Run(name, func(t *testing.T) {
			prog, err := testLoader().Load(file)
			got := ""
			if err != nil {
				var el ErrorList
				if !errors.As(err, &el) {
					t.Fatalf("error is %T, not an ErrorList: %v", err, err)
				}
				if prog != nil {
					t.Errorf("a Program was returned with errors")
				}
				if !sort.SliceIsSorted(el, func(i, j int) bool { return el[i].Pos.Before(el[j].Pos) }) {
					t.Errorf("errors are not sorted")
				}
				got = err.Error() + "\n"
			} else if prog == nil {
				t.Fatalf("no Program and no error")
			} else {
				checkProgramInvariants(t, prog)
			}
			golden := strings.TrimSuffix(file, ".bloom") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("missing golden file (run go test ./lang -update): %v", err)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s\n--- got:\n%s--- want:\n%s", golden, got, want)
			}
		})
	}
}

// checkProgramInvariants verifies the contract of program.go on a valid
// program.
func checkProgramInvariants(t *testing.T, prog *Program) {
	t.Helper()
	if prog.Root == nil || len(prog.Files) == 0 || prog.Files[0] != prog.Root {
		t.Errorf("Root must be Files[0]")
	}
	for _, c := range prog.Collections {
		if prog.ByName[c.Name] != c {
			t.Errorf("ByName[%q] is not the collection", c.Name)
		}
		if len(c.Key) == 0 && len(c.Cols) > 0 {
			t.Errorf("%s: empty Key", c.Name)
		}
		for _, col := range c.Cols {
			if col.Type == nil || col.Type.Kind == Invalid {
				t.Errorf("%s.%s: invalid type", c.Name, col.Name)
			}
		}
	}
	for _, ri := range prog.Rules {
		where := RuleString(ri.Rule)
		if ri.Head == nil || ri.Head.Collection == nil {
			t.Errorf("%s: no head", where)
			continue
		}
		if len(ri.Head.Args) != ri.Head.Collection.Arity() {
			t.Errorf("%s: head has %d args for %d columns", where, len(ri.Head.Args), ri.Head.Collection.Arity())
		}
		if len(ri.Body) != len(ri.Rule.Body) {
			t.Errorf("%s: %d body infos for %d literals", where, len(ri.Body), len(ri.Rule.Body))
		}
		check := func(e Expr) {
			Walk(e, func(e Expr) {
				if ty := ri.Types[e]; ty == nil || ty.Kind == Invalid {
					t.Errorf("%s: expression %s (%T) has no type", where, ExprString(e), e)
				}
			})
		}
		for _, a := range ri.Head.Args {
			check(a)
		}
		for _, b := range ri.Body {
			n := 0
			if b.Atom != nil {
				n++
				if len(b.Atom.Args) != b.Atom.Collection.Arity() {
					t.Errorf("%s: body atom %s has %d args", where, b.Atom.Atom.QualName(), len(b.Atom.Args))
				}
				for _, a := range b.Atom.Args {
					check(a)
				}
			}
			if b.Cond != nil {
				n++
				check(b.Cond.X)
			}
			if b.Assign != nil {
				n++
				check(b.Assign.X)
				if ri.Vars[b.Assign.Var.Name] == nil {
					t.Errorf("%s: assigned variable %s has no type", where, b.Assign.Var.Name)
				}
			}
			if n != 1 {
				t.Errorf("%s: body info has %d fields set", where, n)
			}
		}
		for name, ty := range ri.Vars {
			if ty == nil || ty.Kind == Invalid {
				t.Errorf("%s: variable %s has no type", where, name)
			}
		}
	}
}

func mustLoad(t *testing.T, src string) *Program {
	t.Helper()
	prog, err := testLoader().LoadSource("test.bloom", []byte(src))
	if err != nil {
		t.Fatalf("unexpected errors:\n%v", err)
	}
	checkProgramInvariants(t, prog)
	return prog
}

func typ(t *testing.T, s string) *Type {
	t.Helper()
	f, err := ParseFile("t.bloom", []byte("lattice x: "+s+";"))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	ty, err := ResolveType(f.Decls[0].LatType)
	if err != nil {
		t.Fatalf("resolve %s: %v", s, err)
	}
	return ty
}

func TestResolveType(t *testing.T) {
	tests := []struct {
		src  string
		want string // the type's String, or the error
	}{
		{"int", "int"},
		{"float", "float"},
		{"string", "string"},
		{"bool", "bool"},
		{"addr", "addr"},
		{"time", "time"},
		{"bytes", "bytes"},
		{"lbool", "lbool"},
		{"lcounter", "lcounter"},
		{"lmax<int>", "lmax<int>"},
		{"lmin<time>", "lmin<time>"},
		{"lmax<addr>", "lmax<addr>"},
		{"lset<bytes>", "lset<bytes>"},
		{"lset<bool>", "lset<bool>"},
		{"lmap<string, lset<int>>", "lmap<string, lset<int>>"},
		{"lmap<int, lmap<string, lmax<float>>>", "lmap<int, lmap<string, lmax<float>>>"},
		{"lpair<lmax<int>, lset<string>>", "lpair<lmax<int>, lset<string>>"},
		{"lpair<lbool, lpair<lcounter, lmin<string>>>", "lpair<lbool, lpair<lcounter, lmin<string>>>"},
		{"strng", "t.bloom:1:12: unknown type strng; did you mean `string`?"},
		{"integer", "t.bloom:1:12: unknown type integer"},
		{"lsets<int>", "t.bloom:1:12: unknown type lsets; did you mean `lset`?"},
		{"int<string>", "t.bloom:1:12: int takes no type parameters"},
		{"lbool<int>", "t.bloom:1:12: lbool takes no type parameters"},
		{"lmax", "t.bloom:1:12: lmax takes 1 type parameter (lmax<T>), got 0"},
		{"lmap<int>", "t.bloom:1:12: lmap takes 2 type parameters (lmap<K, L>), got 1"},
		{"lset<int, int>", "t.bloom:1:12: lset takes 1 type parameter (lset<T>), got 2"},
		{"lmax<bool>", "t.bloom:1:17: lmax needs an ordered scalar type parameter (int, float, string, time or addr), got bool"},
		{"lmin<lmax<int>>", "t.bloom:1:17: lmin needs an ordered scalar type parameter (int, float, string, time or addr), got lmax<int>"},
		{"lset<lset<int>>", "t.bloom:1:17: lset needs a scalar element type, got lset<int>"},
		{"lmap<lset<int>, lbool>", "t.bloom:1:17: lmap needs a scalar key type, got lset<int>"},
		{"lmap<string, int>", "t.bloom:1:25: lmap needs a lattice value type (such as lmax<int> or lset<string>), got int"},
		{"lpair<int, lbool>", "t.bloom:1:18: lpair needs lattice types (such as lmax<int>), got int"},
		{"lset<strin>", "t.bloom:1:17: unknown type strin; did you mean `string`?"},
	}
	for _, tc := range tests {
		f, err := ParseFile("t.bloom", []byte("lattice x: "+tc.src+";"))
		if err != nil {
			t.Fatalf("parse %s: %v", tc.src, err)
		}
		ty, err := ResolveType(f.Decls[0].LatType)
		got := ""
		if err != nil {
			got = err.Error()
			if ty != TInvalid {
				t.Errorf("%s: error with type %s", tc.src, ty)
			}
		} else {
			got = ty.String()
		}
		if got != tc.want {
			t.Errorf("ResolveType(%s) = %q, want %q", tc.src, got, tc.want)
		}
	}
}

func TestAssignable(t *testing.T) {
	tests := []struct {
		from string
		lit  LiteralKind
		to   string
		want bool
	}{
		{"int", NotLiteral, "int", true},
		{"int", NotLiteral, "float", false},
		{"float", NotLiteral, "int", false},
		{"int", IntLiteral, "float", true},
		{"int", IntLiteral, "time", true},
		{"int", NotLiteral, "time", false},
		{"int", IntLiteral, "string", false},
		{"string", StringLiteral, "addr", true},
		{"string", StringLiteral, "bytes", true},
		{"string", NotLiteral, "addr", false},
		{"addr", NotLiteral, "string", false},
		{"string", StringLiteral, "int", false},
		{"int", NotLiteral, "lmax<int>", true},
		{"int", NotLiteral, "lmin<int>", true},
		{"int", IntLiteral, "lmax<float>", true},
		{"int", NotLiteral, "lmax<float>", false},
		{"string", StringLiteral, "lmin<addr>", true},
		{"lmax<int>", NotLiteral, "lmax<int>", true},
		{"lmax<int>", NotLiteral, "int", false},
		{"lmax<int>", NotLiteral, "lmin<int>", false},
		{"bool", NotLiteral, "lbool", true},
		{"lbool", NotLiteral, "bool", false},
		{"int", NotLiteral, "lcounter", true},
		{"float", NotLiteral, "lcounter", false},
		{"lset<int>", NotLiteral, "lset<int>", true},
		{"lset<int>", NotLiteral, "lset<float>", false},
		{"int", NotLiteral, "lset<int>", false},
		{"lset<int>", EmptyBraces, "lmap<string, lbool>", true},
		{"lset<int>", EmptyBraces, "lset<string>", true},
		{"lset<int>", EmptyBraces, "int", false},
		{"lmap<string, lmax<int>>", NotLiteral, "lmap<string, lmax<int>>", true},
		{"lmap<string, lmax<int>>", NotLiteral, "lmap<string, lmin<int>>", false},
		{"lpair<lmax<int>, lbool>", NotLiteral, "lpair<lmax<int>, lbool>", true},
		{"bool", NotLiteral, "int", false},
		{"time", NotLiteral, "int", false},
	}
	for _, tc := range tests {
		from, to := typ(t, tc.from), typ(t, tc.to)
		if got := Assignable(from, tc.lit, to); got != tc.want {
			t.Errorf("Assignable(%s, %d, %s) = %v, want %v", tc.from, tc.lit, tc.to, got, tc.want)
		}
	}
	// Invalid fits both ways, so that one error gives one message.
	if !Assignable(TInvalid, NotLiteral, TInt) || !Assignable(TInt, NotLiteral, TInvalid) {
		t.Errorf("invalid must be assignable both ways")
	}
}

func TestLiteralType(t *testing.T) {
	tests := []struct {
		lit  LiteralKind
		hint string // "" for none
		want string // "" for nil
	}{
		{IntLiteral, "", "int"},
		{IntLiteral, "float", "float"},
		{IntLiteral, "time", "time"},
		{IntLiteral, "lmax<float>", "float"},
		{IntLiteral, "lcounter", "int"},
		{IntLiteral, "string", "int"},
		{StringLiteral, "", "string"},
		{StringLiteral, "addr", "addr"},
		{StringLiteral, "lmin<addr>", "addr"},
		{StringLiteral, "bytes", "bytes"},
		{EmptyBraces, "lset<int>", "lset<int>"},
		{EmptyBraces, "lmap<int, lbool>", "lmap<int, lbool>"},
		{EmptyBraces, "int", ""},
		{EmptyBraces, "", ""},
	}
	for _, tc := range tests {
		var hint *Type
		if tc.hint != "" {
			hint = typ(t, tc.hint)
		}
		got := literalType(tc.lit, hint)
		gs := ""
		if got != nil {
			gs = got.String()
		}
		if gs != tc.want {
			t.Errorf("literalType(%d, %s) = %q, want %q", tc.lit, tc.hint, gs, tc.want)
		}
	}
}

// TestProgram checks the filled Program of a program using modules.
func TestProgram(t *testing.T) {
	fsys := fstest.MapFS{
		"app/main.bloom": {Data: []byte(`module app;
import "lib/queue" as q;
import "std/util" as u;
table t(a: int, b: string, c: float) key(a);
scratch s(a: int, n: int);
t(1, "x", 2);
q.push(id: x) <= t(x, _, _);
s(a, count(b)) <= t(c: f, a: a, b: b), f > 1.5;
`)},
		"app/lib/queue.bloom": {Data: []byte(`import "inner" as in;
input push(id: int);
output popped(id: int);
popped(x) <= push(x), not in.skip(x);
`)},
		"app/lib/inner.bloom": {Data: []byte(`table skip(id: int);
skip(3);
`)},
		"std/util.bloom": {Data: []byte(`table util_t(x: int);
`)},
	}
	l := &Loader{
		Std:      mustSub(t, fsys, "std"),
		ReadFile: func(name string) ([]byte, error) { return fsys.ReadFile(filepath.ToSlash(name)) },
	}
	prog, err := l.Load("app/main.bloom")
	if err != nil {
		t.Fatal(err)
	}
	checkProgramInvariants(t, prog)
	if prog.Name != "app" {
		t.Errorf("Name = %q", prog.Name)
	}
	var names []string
	for _, c := range prog.Collections {
		names = append(names, c.Name+"/"+c.Local+"/"+c.Module)
	}
	want := "t/t/ s/s/ q.push/push/q q.popped/popped/q q.in.skip/skip/q.in u.util_t/util_t/u"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("collections:\n got %s\nwant %s", got, want)
	}
	var files []string
	for _, f := range prog.Files {
		files = append(files, f.Name)
	}
	if got := strings.Join(files, " "); got != "app/main.bloom app/lib/queue.bloom app/lib/inner.bloom std/util.bloom" {
		t.Errorf("files: %s", got)
	}
	tc := prog.ByName["t"]
	if !tc.HasKey || len(tc.Key) != 1 || tc.Key[0] != 0 {
		t.Errorf("key of t: %v %v", tc.HasKey, tc.Key)
	}
	if s := prog.ByName["s"]; s.HasKey || len(s.Key) != 2 {
		t.Errorf("key of s: %v %v", s.HasKey, s.Key)
	}
	if len(prog.Rules) != 5 {
		t.Fatalf("%d rules", len(prog.Rules))
	}
	// The fact: int literal 2 in a float column is typed float.
	fact := prog.Rules[0]
	if fact.Head.Collection != tc || fact.Types[fact.Head.Args[2]] != TFloat {
		t.Errorf("fact: %v %v", fact.Head.Collection.Name, fact.Types[fact.Head.Args[2]])
	}
	// Named head argument into a module's input.
	r := prog.Rules[1]
	if r.Head.Collection.Name != "q.push" || r.Module != "" {
		t.Errorf("rule 1 head %s module %q", r.Head.Collection.Name, r.Module)
	}
	// Aggregate with named body arguments normalised to column order.
	r = prog.Rules[2]
	if !r.Head.Agg || len(r.Head.AggCols) != 1 || r.Head.AggCols[0] != 1 {
		t.Errorf("aggregate cols %v", r.Head.AggCols)
	}
	body := r.Body[0].Atom
	var args []string
	for _, a := range body.Args {
		args = append(args, ExprString(a))
	}
	if got := strings.Join(args, ","); got != "a,b,f" {
		t.Errorf("normalised args %s", got)
	}
	if r.Vars["f"] != TFloat || r.Vars["b"] != TString || r.Vars["a"] != TInt {
		t.Errorf("vars %v", r.Vars)
	}
	if r.Body[1].Cond == nil || r.Types[r.Body[1].Cond.X] != TBool {
		t.Errorf("condition")
	}
	// The module rule.
	r = prog.Rules[3]
	if r.Module != "q" || r.Head.Collection.Name != "q.popped" || r.Body[1].Atom.Collection.Name != "q.in.skip" || !r.Body[1].Atom.Atom.Negated {
		t.Errorf("module rule: %q %s", r.Module, r.Head.Collection.Name)
	}
	if r := prog.Rules[4]; r.Module != "q.in" || r.Head.Collection.Name != "q.in.skip" {
		t.Errorf("nested module fact: %q", r.Module)
	}
}

func mustSub(t *testing.T, fsys fstest.MapFS, dir string) fstest.MapFS {
	sub := fstest.MapFS{}
	for name, f := range fsys {
		if rest, ok := strings.CutPrefix(name, dir+"/"); ok {
			sub[rest] = f
		}
	}
	return sub
}

// TestTwoInstances: a module imported under two aliases is two instances.
func TestTwoInstances(t *testing.T) {
	fsys := fstest.MapFS{
		"m.bloom":   {Data: []byte(`import "c" as a; import "c" as b; table t(x: int); t(x) <= a.o(x); t(x) <= b.o(x);`)},
		"c.bloom":   {Data: []byte(`table o(x: int); o(1);`)},
		"bad.bloom": {Data: []byte(`import "c2" as a; import "c2" as b;`)},
		"c2.bloom":  {Data: []byte(`table o(x: int); o("one");`)},
	}
	l := &Loader{ReadFile: func(name string) ([]byte, error) { return fsys.ReadFile(name) }}
	prog, err := l.Load("m.bloom")
	if err != nil {
		t.Fatal(err)
	}
	if prog.ByName["a.o"] == nil || prog.ByName["b.o"] == nil || len(prog.Rules) != 4 {
		t.Errorf("instances: %v, %d rules", prog.ByName, len(prog.Rules))
	}
	if len(prog.Files) != 2 {
		t.Errorf("%d files, want each file once", len(prog.Files))
	}
	// An error in a module imported twice is reported once.
	_, err = l.Load("bad.bloom")
	if err == nil || strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("want one error, got:\n%v", err)
	}
}

// TestCheckParsed covers Check on files parsed by the caller.
func TestCheckParsed(t *testing.T) {
	root, err := ParseFile("dir/a.bloom", []byte(`import "b" as b; table t(x: int); t(x) <= b.u(x);`))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := ParseFile("dir/b.bloom", []byte(`table u(x: int); u(1);`))
	if err != nil {
		t.Fatal(err)
	}
	prog, err := Check(root, mod)
	if err != nil {
		t.Fatal(err)
	}
	if prog.ByName["b.u"] == nil {
		t.Errorf("b.u not found")
	}
	_, err = Check(root)
	if err == nil || err.Error() != `dir/a.bloom:1:8: cannot import "b": file dir/b.bloom not found` {
		t.Errorf("Check without the module: %v", err)
	}
}

func TestMissingRoot(t *testing.T) {
	_, err := (&Loader{}).Load("testdata/check/no_such_file.bloom")
	var el ErrorList
	if !errors.As(err, &el) || len(el) != 1 || !strings.Contains(err.Error(), "no_such_file.bloom:1:1: cannot read file") {
		t.Errorf("got %v", err)
	}
}

func TestNoStd(t *testing.T) {
	_, err := CheckFile("x.bloom", []byte(`import "std/delivery" as dl;`))
	if err == nil || err.Error() != `x.bloom:1:8: cannot import "std/delivery": no standard library is available` {
		t.Errorf("got %v", err)
	}
}

// TestTypes checks the types given to expressions.
func TestTypes(t *testing.T) {
	prog := mustLoad(t, `
table e(a: int, f: float, t: time, s: lset<string>, m: lmax<int>, d: lmin<float>, c: lcounter, b: lbool);
scratch out(x: float, y: time, z: lbool, w: lmin<float>, v: lbool, u: bool, k: int);
out(f * 2, t + 1000, m >= 3, d + 1, has(s, "a") && b, c > 1 && f <= 2, len(s)) <= e(_, f, t, s, m, d, c, b);
`)
	r := prog.Rules[0]
	want := []string{"float", "time", "lbool", "lmin<float>", "lbool", "bool", "int"}
	for i, a := range r.Head.Args {
		if got := r.Types[a].String(); got != want[i] {
			t.Errorf("head arg %d %s: %s, want %s", i, ExprString(a), got, want[i])
		}
	}
	// The literal 2 in f * 2 is a float, 1000 in t + 1000 an int.
	mul := r.Head.Args[0].(*Binary)
	if r.Types[mul.Y] != TFloat {
		t.Errorf("2 in f * 2 is %s", r.Types[mul.Y])
	}
	add := r.Head.Args[1].(*Binary)
	if r.Types[add.Y] != TInt {
		t.Errorf("1000 in t + 1000 is %s", r.Types[add.Y])
	}
}

func TestBuiltinTables(t *testing.T) {
	for _, n := range []string{"len", "lower", "upper", "substr", "contains", "concat", "hash", "str", "int", "float", "abs", "min", "max", "self", "now", "size", "has", "at", "value"} {
		if LookupFunc(n) == nil {
			t.Errorf("function %s missing", n)
		}
	}
	for n := range Aggregates {
		if b := LookupAggregate(n); b == nil || !b.Aggregate {
			t.Errorf("aggregate %s missing", n)
		}
	}
	if len(AggregateNames()) != len(Aggregates) {
		t.Errorf("aggregates: %v", AggregateNames())
	}
}

// FuzzCheck: the checker never panics, and it returns either a Program or
// an ErrorList, never both.
func FuzzCheck(f *testing.F) {
	files, _ := filepath.Glob("testdata/check/*.bloom")
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err == nil {
			f.Add(string(src))
		}
	}
	l := &Loader{ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist }}
	f.Fuzz(func(t *testing.T, src string) {
		prog, err := l.LoadSource("fuzz.bloom", []byte(src))
		if (prog == nil) == (err == nil) {
			t.Fatalf("prog %v, err %v", prog != nil, err)
		}
		if err != nil {
			var el ErrorList
			if !errors.As(err, &el) || len(el) == 0 {
				t.Fatalf("error is not a non-empty ErrorList: %v", err)
			}
		}
	})
}
