package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/transport"
)

func cmdSend(env *cliEnv, args []string) int {
	fs := newFlags(env, "send", "[--insecure-dev | --ca F --cert F --key F] [--program FILE] ADDR 'rel(1, \"a\")'...",
		`Inserts tuples into input collections of the node at ADDR (host:port) over
mutual-TLS QUIC, and returns once the node has run the tick that consumed
them: a send that returns 0 is applied. Tuples are written as facts; "-"
reads them from standard input, one a line. They are converted with the
node's schema, fetched from the node (or, with --program, read from the
program's source). All the tuples of one send are consumed by one tick.
Exit status 1 when the node refuses them or the tick failed.`)
	var tf tlsFlags
	tf.register(fs)
	program := fs.String("program", "", "parse tuples against this program `FILE` instead of asking the node")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	verbose := fs.Bool("v", false, "print the tick that consumed the tuples")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) < 2 {
		return usageError(env, fs, "want ADDR and at least one tuple")
	}
	addr, facts := pos[0], pos[1:]
	if len(facts) == 1 && facts[0] == "-" {
		facts = nil
		sc := bufio.NewScanner(env.stdin)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "//") {
				facts = append(facts, line)
			}
		}
		if err := sc.Err(); err != nil {
			fmt.Fprintf(env.stderr, "bloomc send: stdin: %v\n", err)
			return exitErrors
		}
	}
	if len(facts) == 0 {
		return usageError(env, fs, "no tuples to send")
	}
	creds, code := tf.credentials(env, fs, nil)
	if creds == nil {
		return code
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var msgs []runtime.Message
	if *program != "" {
		plan, ok := loadProgramPlan(env, *program)
		if !ok {
			return exitErrors
		}
		var err error
		if msgs, err = transport.ParseFacts(transport.Interface(plan), facts...); err != nil {
			printErrors(env, err)
			return exitErrors
		}
	}
	cl, err := transport.Dial(ctx, addr, creds)
	if err != nil {
		fmt.Fprintf(env.stderr, "bloomc send: %v\n", err)
		return exitErrors
	}
	defer cl.Close()
	if msgs == nil {
		if msgs, err = cl.Parse(ctx, facts...); err != nil {
			printErrors(env, err)
			return exitErrors
		}
	}
	tick, err := cl.Send(ctx, msgs)
	if err != nil {
		fmt.Fprintf(env.stderr, "bloomc send: %s: %v\n", addr, err)
		return exitErrors
	}
	if *verbose {
		fmt.Fprintf(env.stdout, "%d tuple(s) consumed by tick %d of %s\n", len(msgs), tick, addr)
	}
	return exitOK
}
