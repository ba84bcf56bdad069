package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/bloomlang/bloom/transport"
)

func cmdCert(env *cliEnv, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(env.stderr, `Usage: bloomc cert init DIR
       bloomc cert issue DIR NAME --host H[,H2...] [--days N]

Manages the certificates of a cluster (mutual TLS: every node and client
presents a certificate signed by the cluster CA and accepts only peers whose
certificate chains to it).

  init   creates the cluster CA: DIR/ca.pem and DIR/ca.key (ECDSA P-256;
         keys are written with mode 0600). Refuses to overwrite a CA.
  issue  issues DIR/NAME.pem and DIR/NAME.key signed by DIR's CA, usable by a
         node and by a client. --host lists the IP addresses and DNS names
         peers use to reach the node (they become the certificate's SANs;
         peers check them). A client-only certificate needs no --host.
`)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	switch args[0] {
	case "init":
		fs := newFlags(env, "cert init", "DIR", "Creates the cluster CA: DIR/ca.pem and DIR/ca.key.")
		pos, code, ok := parseArgs(fs, args[1:])
		if !ok {
			return code
		}
		if len(pos) != 1 {
			return usageError(env, fs, "want DIR")
		}
		if err := transport.InitCA(pos[0]); err != nil {
			fmt.Fprintf(env.stderr, "bloomc cert init: %v\n", err)
			return exitErrors
		}
		fmt.Fprintf(env.stdout, "created %s and %s (keep ca.key secret)\n", filepath.Join(pos[0], "ca.pem"), filepath.Join(pos[0], "ca.key"))
		return exitOK
	case "issue":
		fs := newFlags(env, "cert issue", "DIR NAME --host H[,H2...] [--days N]", "Issues DIR/NAME.pem and DIR/NAME.key signed by the CA in DIR.")
		var hosts multiFlag
		fs.Var(&hosts, "host", "IP addresses and DNS names of the node, comma-separated (repeatable)")
		days := fs.Int("days", 365, "validity in `DAYS`")
		pos, code, ok := parseArgs(fs, args[1:])
		if !ok {
			return code
		}
		if len(pos) != 2 {
			return usageError(env, fs, "want DIR NAME")
		}
		if *days <= 0 {
			return usageError(env, fs, "--days must be positive")
		}
		var hs []string
		for _, h := range hosts {
			hs = append(hs, splitHosts(h)...)
		}
		if err := transport.IssueCert(pos[0], pos[1], hs, time.Duration(*days)*24*time.Hour); err != nil {
			fmt.Fprintf(env.stderr, "bloomc cert issue: %v\n", err)
			return exitErrors
		}
		fmt.Fprintf(env.stdout, "issued %s and %s for %v\n", filepath.Join(pos[0], pos[1]+".pem"), filepath.Join(pos[0], pos[1]+".key"), hs)
		return exitOK
	}
	fmt.Fprintf(env.stderr, "bloomc cert: unknown subcommand %q (want init or issue)\n", args[0])
	return exitUsage
}
