package stdlib

import (
	"embed"
	"io/fs"
)

//go:embed std/*.bloom
var stdFiles embed.FS

// Modules is the Bloom standard library: the modules a program imports as
// "std/NAME" (import "std/delivery" as dl;). It is rooted so that module
// NAME is the file "NAME.bloom" at the top, which is what lang.Loader.Std
// expects. The modules are documented in docs/stdlib.md and in the header
// comment of each file.
var Modules fs.FS = mustSub(stdFiles, "std")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
