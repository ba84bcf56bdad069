package lang

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseGolden parses every program in testdata/parse and compares the
// positioned AST dump (or the error list) with NAME.ast. Run with -update to
// rewrite the golden files after an intended change.
func TestParseGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/parse/*.bloom")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			f, err := ParseFile(path, src)
			if err != nil {
				got = "errors:\n" + err.Error() + "\n"
			} else {
				got = Dump(f, true)
			}
			golden := strings.TrimSuffix(path, ".bloom") + ".ast"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./lang -update)", err)
			}
			if got != string(want) {
				t.Errorf("AST of %s differs from %s:\n--- got\n%s--- want\n%s", path, golden, got, want)
			}
		})
	}
}

// roundTrip checks that printing is idempotent and that the printed program
// parses to the same AST (positions aside).
func roundTrip(t *testing.T, name string, src []byte) {
	t.Helper()
	f, err := ParseFile(name, src)
	if err != nil {
		return
	}
	out := Format(f)
	g, err := ParseFile(name, []byte(out))
	if err != nil {
		t.Fatalf("printed program does not parse: %v\n--- source\n%s\n--- printed\n%s", err, src, out)
	}
	if a, b := Dump(f, false), Dump(g, false); a != b {
		t.Fatalf("round trip changed the AST\n--- source\n%s\n--- printed\n%s\n--- before\n%s--- after\n%s", src, out, a, b)
	}
	if again := Format(g); again != out {
		t.Fatalf("printing is not idempotent\n--- first\n%s--- second\n%s", out, again)
	}
}

func TestRoundTripCorpus(t *testing.T) {
	var files []string
	for _, pat := range []string{"testdata/*/*.bloom", "../examples/*.bloom", "../testdata/conformance/*/*.bloom", "../stdlib/std/*.bloom"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	if len(files) < 20 {
		t.Fatalf("only %d corpus files", len(files))
	}
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(path, func(t *testing.T) { roundTrip(t, path, src) })
	}
}

func TestFormatCanonical(t *testing.T) {
	src := "table  a(x:int)key(x);\ndurable   table bb(y : string);\n\n\n\np(x)<=a(x),x>1;   // c\nq( 1 ,2 );\n"
	want := "table         a(x: int) key(x);\ndurable table bb(y: string);\n\np(x) <= a(x), x > 1; // c\nq(1, 2);\n"
	f, err := ParseFile("c.bloom", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := Format(f); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestLtMinusSplit(t *testing.T) {
	// After the rule operator `<-` can only be `<` and a minus sign.
	f, err := ParseFile("x.bloom", []byte("p(x) <- q(x), x<-1;"))
	if err != nil {
		t.Fatal(err)
	}
	r := f.Rules[0]
	if r.Op != OpDelete {
		t.Fatalf("op = %v, want <-", r.Op)
	}
	c, ok := r.Body[1].(*Cond)
	if !ok {
		t.Fatalf("second literal is %T, want *Cond", r.Body[1])
	}
	b := c.X.(*Binary)
	if b.Op != "<" || b.Y.(*IntLit).Val != -1 {
		t.Errorf("got %s, want x < -1", ExprString(c.X))
	}
	if b.OpPos.Col != 16 {
		t.Errorf("< at column %d, want 16", b.OpPos.Col)
	}
}

func FuzzParse(f *testing.F) {
	for _, pat := range []string{"testdata/*/*.bloom", "../examples/*.bloom"} {
		m, _ := filepath.Glob(pat)
		for _, path := range m {
			if src, err := os.ReadFile(path); err == nil {
				f.Add(src)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := ParseFile("fuzz.bloom", src)
		if err != nil {
			if _, ok := err.(ErrorList); !ok {
				t.Fatalf("error of type %T, want ErrorList: %v", err, err)
			}
			for _, e := range err.(ErrorList) {
				if !e.Pos.IsValid() {
					t.Fatalf("error without a position: %v", e)
				}
			}
			return
		}
		_ = file
		roundTrip(t, "fuzz.bloom", src)
	})
}
