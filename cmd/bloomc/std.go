package main

import (
	"io/fs"

	"github.com/bloomlang/bloom/stdlib"
)

// stdModules is the standard library's Bloom modules (import "std/...").
func stdModules() fs.FS { return stdlib.Modules }
