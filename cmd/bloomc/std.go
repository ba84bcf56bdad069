package main

import "io/fs"

// stdModules is the standard library's Bloom modules (import "std/...").
func stdModules() fs.FS { return nil }
