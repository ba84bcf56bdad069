package compiler

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bloomlang/bloom/lang"
)

// FuzzCompile feeds whatever the checker accepts to the compiler: no panic,
// and any error is a positioned lang.ErrorList.
func FuzzCompile(f *testing.F) {
	for _, pat := range []string{"../lang/testdata/check/*.bloom", "../testdata/conformance/*/prog.bloom", "../examples/*.bloom", "testdata/graph/*.bloom"} {
		m, _ := filepath.Glob(pat)
		for _, p := range m {
			if src, err := os.ReadFile(p); err == nil {
				f.Add(src)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		prog, err := (&lang.Loader{ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist }}).LoadSource("fuzz.bloom", src)
		if err != nil {
			return
		}
		plan, err := Compile(prog)
		if err != nil {
			list, ok := err.(lang.ErrorList)
			if !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			for _, e := range list {
				if !e.Pos.IsValid() {
					t.Fatalf("error without a position: %v", e)
				}
			}
			return
		}
		for _, format := range GraphFormats {
			if err := plan.Render(discard{}, format, Marks{}); err != nil {
				t.Fatalf("render %s: %v", format, err)
			}
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
