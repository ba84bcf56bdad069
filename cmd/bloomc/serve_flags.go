package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/transport"
)

// tlsFlags are the credentials flags shared by run --listen, send and
// watch. Unset flags default to $BLOOM_CA, $BLOOM_CERT and $BLOOM_KEY.
type tlsFlags struct {
	ca, cert, key string
	insecureDev   bool
}

func (f *tlsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.ca, "ca", os.Getenv("BLOOM_CA"), "cluster CA certificate `FILE` (default $BLOOM_CA)")
	fs.StringVar(&f.cert, "cert", os.Getenv("BLOOM_CERT"), "this node's or client's certificate `FILE` (default $BLOOM_CERT)")
	fs.StringVar(&f.key, "key", os.Getenv("BLOOM_KEY"), "private key `FILE` of --cert (default $BLOOM_KEY)")
	fs.BoolVar(&f.insecureDev, "insecure-dev", false, "generate throwaway certificates and do not verify peers (local play only)")
}

// credentials loads the certificates, or makes throwaway ones with
// --insecure-dev (warning loudly). hosts name the certificate's SANs.
func (f *tlsFlags) credentials(env *cliEnv, fs *flag.FlagSet, hosts []string) (*transport.Credentials, int) {
	if f.insecureDev {
		conflict := false
		fs.Visit(func(fl *flag.Flag) {
			if fl.Name == "ca" || fl.Name == "cert" || fl.Name == "key" {
				conflict = true
			}
		})
		if conflict {
			return nil, usageError(env, fs, "--insecure-dev excludes --ca, --cert and --key")
		}
		c, err := transport.InsecureDevCredentials(hosts)
		if err != nil {
			fmt.Fprintf(env.stderr, "bloomc %s: %v\n", fs.Name(), err)
			return nil, exitErrors
		}
		fmt.Fprintf(env.stderr, "bloomc %s: WARNING: --insecure-dev: throwaway certificates, peers are NOT authenticated; anyone who can reach this port can send tuples. For local play only.\n", fs.Name())
		slog.Warn("insecure-dev mode: TLS peers are not verified", "command", fs.Name())
		return c, 0
	}
	if f.ca == "" || f.cert == "" || f.key == "" {
		return nil, usageError(env, fs, "mutual TLS needs --ca, --cert and --key (make them with 'bloomc cert'), or --insecure-dev for local play")
	}
	c, err := transport.LoadCredentials(f.ca, f.cert, f.key)
	if err != nil {
		fmt.Fprintf(env.stderr, "bloomc %s: %v\n", fs.Name(), err)
		return nil, exitErrors
	}
	return c, 0
}

// serveFlags are run's flags for a long-lived networked node.
type serveFlags struct {
	tlsFlags
	listen, advertise, metrics string
	flush                      time.Duration
	queue                      int
	logLevel                   string
}

func (f *serveFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.listen, "listen", "", "run a long-lived node on UDP `HOST:PORT` (QUIC); self() is this address")
	fs.StringVar(&f.advertise, "advertise", "", "with --listen: the `HOST:PORT` peers dial and self() returns, if not the listen address")
	fs.StringVar(&f.metrics, "metrics", "", "with --listen: serve Prometheus metrics on http://`ADDR`/metrics")
	fs.DurationVar(&f.flush, "flush-timeout", 2*time.Second, "with --listen: at shutdown, how long to wait for queued messages to be delivered")
	fs.IntVar(&f.queue, "send-queue", 1<<16, "with --listen: messages queued per peer before the oldest are dropped")
	fs.StringVar(&f.logLevel, "log-level", "info", "with --listen: log level (debug, info, warn, error)")
	f.tlsFlags.register(fs)
}

// serveNode runs a networked node until SIGINT/SIGTERM, then finishes the
// current tick, flushes, and prints like the batch path.
func serveNode(env *cliEnv, fs *flag.FlagSet, plan *compiler.Plan, f *serveFlags, data *dataFlags, facts, prints, counts []string) int {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return usageError(env, fs, "--log-level: %v", err)
	}
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: level}))
	host, port, err := net.SplitHostPort(f.listen)
	if err != nil {
		return usageError(env, fs, "--listen %s: want HOST:PORT", f.listen)
	}
	self := f.advertise
	if self == "" {
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			return usageError(env, fs, "--listen %s: self() must be an address peers can dial; give --advertise HOST:PORT", f.listen)
		}
		if port != "0" {
			self = f.listen
		}
	} else if _, _, err := net.SplitHostPort(self); err != nil {
		return usageError(env, fs, "--advertise %s: want HOST:PORT", self)
	}
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if host != "" {
		hosts = append(hosts, host)
	}
	if h, _, err := net.SplitHostPort(self); err == nil && h != "" {
		hosts = append(hosts, h)
	}
	slog.SetDefault(log)
	creds, code := f.credentials(env, fs, hosts)
	if creds == nil {
		return code
	}

	reg := prometheus.NewRegistry()
	metrics := transport.NewMetrics(reg)
	var metricsSrv *http.Server
	if f.metrics != "" {
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		ln, err := net.Listen("tcp", f.metrics)
		if err != nil {
			fmt.Fprintf(env.stderr, "bloomc run: --metrics: %v\n", err)
			return exitErrors
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
		metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go metricsSrv.Serve(ln)
		log.Info("metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	}

	h, err := transport.NewHost(plan, transport.HostConfig{
		Config: transport.Config{
			Listen: f.listen, Creds: creds, Plan: plan, Logger: log, Metrics: metrics,
			QueueLimit: f.queue,
		},
		Advertise: self,
	})
	if err != nil {
		fmt.Fprintf(env.stderr, "bloomc run: --listen %s: %v\n", f.listen, err)
		return exitErrors
	}
	// Durable state (--data, data.go): restored before the first tick,
	// closed (recording the tick counter) after the last.
	closeData, code := data.attach(env, h.Node, facts, log)
	if closeData == nil {
		h.Close(0)
		return code
	}
	defer closeData()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("node listening", "self", string(h.Self), "addr", h.T.Addr().String(), "program", plan.Prog.Name, "mtls", !creds.Insecure)
	runErr := h.Run(ctx)
	stop()
	log.Info("shutting down", "ticks", h.Node.TickCount())
	if err := h.Close(f.flush); err != nil {
		log.Warn("transport close", "err", err)
	}
	if metricsSrv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		metricsSrv.Shutdown(sctx)
		cancel()
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		fmt.Fprintf(env.stderr, "bloomc run: %v\n", runErr)
		return exitErrors
	}
	st := h.T.Stats()
	log.Info("transport totals", "sent", st.Sent, "received", st.Received, "dropped", st.Dropped, "rejected_frames", st.FramesRejected)
	printResults(env, h.Node, plan, prints, counts)
	return exitOK
}

// splitHosts splits a comma-separated --host list.
func splitHosts(s string) []string {
	var out []string
	for _, h := range strings.Split(s, ",") {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	return out
}
