package sim

import (
	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/stdlib"
)

// Load reads, checks and compiles a program, with the standard library
// (stdlib.Modules) available to its `import "std/..."` lines.
func Load(path string) (*compiler.Plan, error) {
	prog, err := (&lang.Loader{Std: stdlib.Modules}).Load(path)
	if err != nil {
		return nil, err
	}
	return compiler.Compile(prog)
}

// LoadSource is Load with the root file's text given.
func LoadSource(filename string, src []byte) (*compiler.Plan, error) {
	prog, err := (&lang.Loader{Std: stdlib.Modules}).LoadSource(filename, src)
	if err != nil {
		return nil, err
	}
	return compiler.Compile(prog)
}
