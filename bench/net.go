package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The network rows of the table: two nodes on loopback over QUIC, measured
// by the benchmarks of transport/bench_test.go (they use the package's
// test helpers, so they run under go test and their custom metrics are
// parsed from its output).

var netBenchmarks = []string{"BenchmarkTransportTuples", "BenchmarkBareQUIC", "BenchmarkNodeTuples", "BenchmarkPingPong"}

// goTool returns the go command of the toolchain that built this program,
// or the one on PATH.
func goTool() string {
	if root := goruntime.GOROOT(); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}

// moduleRoot returns the nearest directory at or above the working
// directory that holds go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// parseBench collects, per benchmark (without its -GOMAXPROCS suffix) and
// unit, the values reported by each run in go test -bench output.
func parseBench(out []byte) map[string]map[string][]float64 {
	res := map[string]map[string][]float64{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil { // the iteration count
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		if res[name] == nil {
			res[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			res[name][f[i+1]] = append(res[name][f[i+1]], v)
		}
	}
	return res
}

func median(vs []float64) float64 {
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// mtps formats tuples/s in millions.
func mtps(v float64) string { return fmt.Sprintf("%.2fM tuples/s", v/1e6) }

func netRows(runs int, benchtime string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	args := []string{"test", "-run", "^$", "-bench", "^(" + strings.Join(netBenchmarks, "|") + ")$",
		"-benchtime", benchtime, "-count", strconv.Itoa(runs), "./transport"}
	cmd := exec.Command(goTool(), args...)
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		os.Stderr.Write(out.Bytes())
		return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	took := time.Since(start)
	res := parseBench(out.Bytes())
	get := func(bench, unit string) (float64, error) {
		vs := res[bench][unit]
		if len(vs) == 0 {
			return 0, fmt.Errorf("no %q metric for %s in the go test output:\n%s", unit, bench, out.Bytes())
		}
		return median(vs), nil
	}
	var firstErr error
	must := func(bench, unit string) float64 {
		v, err := get(bench, unit)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return v
	}
	tt := must("BenchmarkTransportTuples", "tuples/s")
	bare := must("BenchmarkBareQUIC", "tuples/s")
	bareMB := must("BenchmarkBareQUIC", "MB/s")
	node := must("BenchmarkNodeTuples", "tuples/s")
	p50 := must("BenchmarkPingPong", "p50-µs")
	p99 := must("BenchmarkPingPong", "p99-µs")
	if firstErr != nil {
		return firstErr
	}
	fmt.Printf("\n%-52s %s\n", fmt.Sprintf("network: 2 nodes, loopback QUIC (median of %d)", runs), "measured (target)")
	fmt.Printf("%-52s %s\n", "transport to transport, small tuples", mtps(tt))
	fmt.Printf("%-52s %s (%.0f MB/s)\n", "same bytes over a bare quic-go stream (ceiling)", mtps(bare), bareMB)
	fmt.Printf("%-52s %.2f (>= 0.70)\n", "ratio transport / bare QUIC", tt/bare)
	fmt.Printf("%-52s %s (>= 1M)\n", "node to node (inject, tick, send, receive, tick)", mtps(node))
	fmt.Printf("%-52s p50 %.0fµs, p99 %.0fµs (p50 < 300µs)\n", "ping-pong round trip (3 ticks, 2 hops)", p50, p99)
	fmt.Printf("(go test -bench ./transport -benchtime %s -count %d: %v with the build)\n", benchtime, runs, took.Round(100*time.Millisecond))
	return nil
}
