package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bloomlang/bloom/repl"
	"github.com/bloomlang/bloom/transport"
)

func cmdRepl(env *cliEnv, args []string) int {
	fs := newFlags(env, "repl", "[FILE...] [--history N] [--history-file PATH] [--echo] [--no-color] [--max-ticks N]\n       bloomc repl --connect ADDR (--ca FILE --cert FILE --key FILE | --insecure-dev)",
		`Starts an interactive session: type declarations, facts and rules (a
statement ends with ';' and may span lines) and commands such as :tick,
:run, :dump REL, :rules, :drop N, :watch REL, :history REL TICK, :lint,
:graph, :save FILE; :help lists them all. Each statement is checked with the
whole program as it arrives. A fact for an input collection is queued for
the next tick. The FILEs are loaded first, as by :load.

At a terminal, lines are edited with readline, with a history kept in
--history-file and Tab completion of commands, collection names and
keywords. When standard input is not a terminal, lines are read plainly:
no prompt, no colour, and the exit status is 1 if any statement or command
failed (--echo prints each line after a prompt, for transcripts).

--connect ADDR attaches to a node started with bloomc run --listen, with
--ca, --cert and --key (from bloomc cert) or --insecure-dev: typed facts
for the node's input collections are sent to it (the facts of one line are
consumed by one tick) and :watch REL prints an output collection as the
node publishes it. See docs/repl.md.`)
	history := fs.Int("history", repl.DefaultHistory, "keep the last `N` ticks for :history (0: none)")
	histFile := fs.String("history-file", defaultHistoryFile(), "keep typed lines in `PATH` across sessions (\"\": none)")
	echo := fs.Bool("echo", false, "when input is not a terminal, print the prompt and each line read")
	noColor := fs.Bool("no-color", false, "no colour at a terminal (also when NO_COLOR is set)")
	maxTicks := fs.Int64("max-ticks", repl.DefaultMaxRunTicks, "the most ticks one :run may take")
	connect := fs.String("connect", "", "attach to the node at `ADDR` (host:port)")
	caFile := fs.String("ca", "", "cluster CA certificate `FILE` (PEM), with --connect")
	certFile := fs.String("cert", "", "client certificate `FILE` (PEM), with --connect")
	keyFile := fs.String("key", "", "client private key `FILE` (PEM), with --connect")
	insecure := fs.Bool("insecure-dev", false, "with --connect, use throwaway certificates and do not verify the node's (local play only)")
	files, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if *history < 0 {
		return usageError(env, fs, "--history must be 0 or more")
	}
	if *maxTicks < 1 {
		return usageError(env, fs, "--max-ticks must be positive")
	}
	h := *history
	if h == 0 {
		h = -1 // repl.Options: negative keeps none
	}
	_, noColorEnv := os.LookupEnv("NO_COLOR")
	cfg := repl.Config{
		Session: repl.Options{
			History:     h,
			MaxRunTicks: *maxTicks,
			Std:         stdModules(),
		},
		Stdin:       env.stdin,
		Stdout:      env.stdout,
		Stderr:      env.stderr,
		HistoryFile: *histFile,
		Files:       files,
		Color:       !*noColor && !noColorEnv,
		Echo:        *echo,
		Banner:      "bloom " + version + " — :help lists the commands; :quit or Ctrl-D leaves",
	}
	if *connect == "" {
		if *caFile != "" || *certFile != "" || *keyFile != "" || *insecure {
			return usageError(env, fs, "--ca, --cert, --key and --insecure-dev go with --connect")
		}
		return repl.Run(cfg)
	}
	if len(files) > 0 {
		return usageError(env, fs, "with --connect the program is the node's: no FILE arguments")
	}
	var creds *transport.Credentials
	var err error
	switch {
	case *insecure:
		creds, err = transport.InsecureDevCredentials(nil)
	case *caFile == "" || *certFile == "" || *keyFile == "":
		return usageError(env, fs, "--connect needs --ca, --cert and --key (or --insecure-dev)")
	default:
		creds, err = transport.LoadCredentials(*caFile, *certFile, *keyFile)
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "bloomc repl: %v\n", err)
		return exitErrors
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	client, err := transport.Dial(ctx, *connect, creds)
	cancel()
	if err != nil {
		fmt.Fprintf(env.stderr, "bloomc repl: %v\n", err)
		return exitErrors
	}
	defer client.Close()
	cfg.Banner = "bloom " + version + " attached to " + *connect + " — :help lists the commands; :quit or Ctrl-D leaves"
	return repl.RunRemote(cfg, client, *connect)
}

// defaultHistoryFile is ~/.bloom_history, or "" without a home directory.
func defaultHistoryFile() string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".bloom_history")
}
