package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/bloomlang/bloom/lang"
)

func cmdFmt(env *cliEnv, args []string) int {
	fs := newFlags(env, "fmt", "[-w | -l] FILE...", "Prints each program in the canonical style (aligned declarations, one\nstatement per line, comments kept). With -w the files are rewritten in place;\nwith -l only the names of files whose formatting differs are listed.")
	write := fs.Bool("w", false, "write the result back to the file")
	list := fs.Bool("l", false, "list files whose formatting differs (exit 1 if any)")
	files, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(files) == 0 {
		return usageError(env, fs, "no files given")
	}
	status := exitOK
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintf(env.stderr, "%s: %v\n", name, err)
			status = exitErrors
			continue
		}
		f, err := lang.ParseFile(name, src)
		if err != nil {
			printErrors(env, err)
			status = exitErrors
			continue
		}
		out := []byte(lang.Format(f))
		switch {
		case *list:
			if !bytes.Equal(out, src) {
				fmt.Fprintln(env.stdout, name)
				status = exitErrors
			}
		case *write:
			if !bytes.Equal(out, src) {
				if err := os.WriteFile(name, out, 0o644); err != nil {
					fmt.Fprintf(env.stderr, "%s: %v\n", name, err)
					status = exitErrors
				}
			}
		default:
			env.stdout.Write(out)
		}
	}
	return status
}
