// Command bloomc is the Bloom toolchain: it checks, runs, formats, lints and
// graphs Bloom programs. Exit codes: 0 success, 1 program errors, 2 usage
// errors, 3 points of order found by lint.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Exit codes of the CLI contract (spec section 9).
const (
	exitOK       = 0
	exitErrors   = 1
	exitUsage    = 2
	exitPoints   = 3
	toolName     = "bloomc"
	usageSummary = `bloomc — the Bloom language toolchain

Usage:
  bloomc <command> [arguments]

Commands:
`
)

type command struct {
	name    string
	summary string
	run     func(env *cliEnv, args []string) int
}

// cliEnv carries the process's streams so that commands are testable in
// process.
type cliEnv struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func commands() []command {
	return []command{
		{"check", "check programs for errors", cmdCheck},
		{"run", "run a program on one node", cmdRun},
		{"fmt", "print programs in canonical style", cmdFmt},
		{"lint", "find points of order and races (CALM analysis)", cmdLint},
		{"graph", "print the stratified dataflow graph", cmdGraph},
		{"repl", "explore a program interactively, tick by tick", cmdRepl},
		{"send", "insert tuples into a running node's inputs", cmdSend},
		{"watch", "stream a running node's output collection", cmdWatch},
		{"cert", "create the cluster CA and node/client certificates", cmdCert},
		{"build", "build a standalone executable embedding a program", cmdBuild},
		{"data", "inspect a --data directory (dump its durable collections)", cmdData},
		{"version", "print the version", cmdVersion},
	}
}

func main() {
	env := &cliEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	// An executable made by 'bloomc build' carries its program (build.go).
	if err := detectEmbedded(); err != nil {
		fmt.Fprintf(env.stderr, "bloomc: %v\n", err)
		os.Exit(exitErrors)
	}
	if embedded != nil {
		os.Exit(runEmbedded(os.Args[1:], env))
	}
	os.Exit(run(os.Args[1:], env))
}

func run(args []string, env *cliEnv) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 {
			return run([]string{args[1], "--help"}, env)
		}
		printUsage(env.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(env, args[1:])
		}
	}
	fmt.Fprintf(env.stderr, "%s: unknown command %q\n\n", toolName, args[0])
	printUsage(env.stderr)
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, usageSummary)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'bloomc <command> --help' for a command's flags.\n")
}

func cmdVersion(env *cliEnv, args []string) int {
	fmt.Fprintln(env.stdout, "bloomc", version)
	return exitOK
}

var version = "0.1.0-dev"

// newFlags makes a flag set whose usage text names the command.
func newFlags(env *cliEnv, name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: bloomc %s %s\n\n%s\n", name, synopsis, about)
		var any bool
		fs.VisitAll(func(*flag.Flag) { any = true })
		if any {
			fmt.Fprintln(fs.Output(), "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseArgs parses flags that may come before, between or after the
// positional arguments (`bloomc run prog.bloom --print p`), as the spec's
// examples write them. It returns the positional arguments, or an exit
// code when parsing failed or help was asked for.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, int, bool) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, false
			}
			return nil, exitUsage, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, 0, true
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func usageError(env *cliEnv, fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(env.stderr, "bloomc %s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fmt.Fprintf(env.stderr, "Run 'bloomc %s --help' for usage.\n", fs.Name())
	return exitUsage
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
