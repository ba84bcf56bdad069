// Command bench runs the whole-process benchmark suite of `make bench`:
// it generates deterministic inputs of the reference workloads' shapes,
// runs `bloomc run ... --count REL` on each several times with
// GOMAXPROCS=2 and GOMAXPROCS=1, and prints one table with the median wall
// time, tuples/s, peak memory (max RSS) and the ratios against the
// reference figures measured on this kind of machine (Soufflé 2.5 and
// Mangle could not be installed here: see docs/performance.md). Then come
// the in-process engine rows (engine.go) and the network rows (net.go:
// the transport benchmarks of transport/bench_test.go, run by go test).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"syscall"
	"time"
)

type workload struct {
	name    string
	program string
	rel     string
	facts   map[string][][]string // relation -> CSV rows
	// Reference figures (2 cores, medians of 3, whole process).
	soufflé    float64 // best Soufflé seconds
	souffléMiB float64 // Soufflé compiled -j1 peak memory
	mangle     float64 // seconds, 0 = cannot express
	refTuples  int
}

const tc = `table edge(x: int, y: int);
table path(x: int, y: int);
path(x, y) <= edge(x, y);
path(x, z) <= path(x, y), edge(y, z);
`

const sg = `table parent(child: int, par: int);
table sg(a: int, b: int);
sg(x, y) <= parent(x, p), parent(y, p), x != y;
sg(x, y) <= parent(x, xp), sg(xp, yp), parent(y, yp);
`

const sssp = `table source(n: int);
table edge(x: int, y: int, w: int);
table dist(n: int, d: lmin<int>) key(n);
dist(s, 0) <= source(s);
dist(y, d + w) <= dist(x, d), edge(x, y, w);
`

func workloads() []workload {
	var chain [][]string
	for i := 0; i < 1999; i++ {
		chain = append(chain, []string{fmt.Sprint(i), fmt.Sprint(i + 1)})
	}
	r := rand.New(rand.NewPCG(2000, 4000))
	seen := map[[2]int]bool{}
	var random [][]string
	for len(random) < 4000 {
		e := [2]int{r.IntN(2000), r.IntN(2000)}
		if !seen[e] {
			seen[e] = true
			random = append(random, []string{fmt.Sprint(e[0]), fmt.Sprint(e[1])})
		}
	}
	r = rand.New(rand.NewPCG(5000, 1))
	var tree [][]string
	for i := 1; i < 5000; i++ {
		tree = append(tree, []string{fmt.Sprint(i), fmt.Sprint(r.IntN(i))})
	}
	r = rand.New(rand.NewPCG(10000, 50000))
	var wedges [][]string
	seen = map[[2]int]bool{}
	for len(wedges) < 50000 {
		e := [2]int{r.IntN(10000), r.IntN(10000)}
		if !seen[e] && e[0] != e[1] {
			seen[e] = true
			wedges = append(wedges, []string{fmt.Sprint(e[0]), fmt.Sprint(e[1]), fmt.Sprint(1 + r.IntN(100))})
		}
	}
	return []workload{
		{"transitive closure, chain 2,000", tc, "path", map[string][][]string{"edge": chain}, 0.97, 25, 26.0, 1999000},
		{"transitive closure, random 2,000/4,000", tc, "path", map[string][][]string{"edge": random}, 1.23, 40, 42.0, 2574558},
		{"same generation, random tree 5,000", sg, "sg", map[string][][]string{"parent": tree}, 0.88, 42, 35.7, 2486172},
		{"shortest paths (lmin), 10,000/50,000", sssp, "dist", map[string][][]string{"edge": wedges, "source": {{"0"}}}, 0.11, 7, 0, 9950},
	}
}

type result struct {
	wall   time.Duration
	maxRSS int64 // KiB
	tuples int
}

// procs are the GOMAXPROCS settings each workload runs under; the last one
// (2, the reference machine's cores) gives the main line of the table.
var procs = []int{1, 2}

// stats is the median of one workload's runs under one GOMAXPROCS.
type stats struct {
	wall   time.Duration // median
	tuples int           // of the median run
	peak   int64         // KiB, the maximum over the runs
}

func summarize(rs []result) stats {
	sort.Slice(rs, func(a, b int) bool { return rs[a].wall < rs[b].wall })
	s := stats{wall: rs[len(rs)/2].wall, tuples: rs[len(rs)/2].tuples}
	for _, r := range rs {
		s.peak = max(s.peak, r.maxRSS)
	}
	return s
}

func main() {
	runs := flag.Int("runs", 3, "runs per workload and GOMAXPROCS setting (the median is reported)")
	bin := flag.String("bloomc", "bin/bloomc", "the bloomc binary")
	only := flag.String("only", "", "run only workloads (or the sections \"engine\", \"network\") whose name contains this")
	skipNet := flag.Bool("skip-net", false, "skip the network rows (go test -bench ./transport)")
	netBenchtime := flag.String("net-benchtime", "1s", "go test -benchtime for the network benchmarks")
	flag.Parse()
	if *runs < 1 {
		fail(fmt.Errorf("-runs must be at least 1"))
	}
	var selected []int
	all := workloads()
	for i, w := range all {
		if *only == "" || strings.Contains(w.name, *only) {
			selected = append(selected, i)
		}
	}
	engine := *only == "" || strings.Contains("engine", *only)
	network := *only == "" || strings.Contains("network", *only)
	if len(selected) == 0 && !engine && !network {
		fail(fmt.Errorf("-only %q matches no workload and neither \"engine\" nor \"network\"", *only))
	}
	machineNote("start")
	dir, err := os.MkdirTemp("", "bloom-bench")
	if err != nil {
		fail(err)
	}
	tmpDir = dir
	defer os.RemoveAll(dir)
	if len(selected) > 0 {
		fmt.Printf("\n%-38s %9s %8s %11s %13s %10s %9s\n", "workload (GOMAXPROCS=2)", "tuples", "wall", "tuples/s", "peak MiB", "vs Soufflé", "vs Mangle")
	}
	for _, i := range selected {
		w := all[i]
		args, err := prepare(dir, i, w)
		if err != nil {
			fail(err)
		}
		// Alternate the settings run by run, so that a change in the
		// machine's load during the suite hits both alike.
		rs := make([][]result, len(procs))
		for k := 0; k < *runs; k++ {
			for j, p := range procs {
				res, err := runOnce(*bin, args, w.rel, p)
				if err != nil {
					fail(fmt.Errorf("%s (GOMAXPROCS=%d): %w", w.name, p, err))
				}
				rs[j] = append(rs[j], res)
			}
		}
		one, two := summarize(rs[0]), summarize(rs[1])
		if one.tuples != two.tuples {
			fail(fmt.Errorf("%s: %d tuples with GOMAXPROCS=1, %d with GOMAXPROCS=2", w.name, one.tuples, two.tuples))
		}
		mangle := "n/a"
		if w.mangle > 0 {
			mangle = fmt.Sprintf("%.1fx", w.mangle/two.wall.Seconds())
		}
		fmt.Printf("%-38s %9d %7.2fs %11.0f %13s %9.2fx %9s\n", w.name, two.tuples, two.wall.Seconds(),
			float64(two.tuples)/two.wall.Seconds(), mib(two.peak, w.souffléMiB), w.soufflé/two.wall.Seconds(), mangle)
		fmt.Printf("%-38s %9s %7.2fs %11.0f %13s   2nd core: %.2fx\n", "  GOMAXPROCS=1", "", one.wall.Seconds(),
			float64(one.tuples)/one.wall.Seconds(), mib(one.peak, w.souffléMiB), one.wall.Seconds()/two.wall.Seconds())
	}
	if len(selected) > 0 {
		fmt.Println("\nvs Soufflé: best Soufflé time / ours (>1 means faster); (N.Nx) after peak MiB: our peak memory /")
		fmt.Println("Soufflé's; 2nd core: wall with GOMAXPROCS=1 / wall with GOMAXPROCS=2 (>1 means the 2nd core helps).")
	}
	failed := false
	if engine {
		engineRows()
	}
	if network && !*skipNet {
		if err := netRows(*runs, *netBenchtime); err != nil {
			fmt.Fprintln(os.Stderr, "bench: network rows:", err)
			failed = true
		}
	}
	fmt.Println()
	machineNote("end")
	if failed {
		os.RemoveAll(dir)
		os.Exit(1)
	}
}

// mib formats a peak RSS in KiB as MiB with its ratio to Soufflé's peak.
func mib(kib int64, soufflé float64) string {
	m := float64(kib) / 1024
	return fmt.Sprintf("%.0f (%.1fx)", m, m/soufflé)
}

// machineNote prints the machine, the Go version and the load average:
// the numbers are noisy, and the load says how much.
func machineNote(when string) {
	if when == "start" {
		cpu := ""
		if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
					cpu = ", " + strings.TrimSpace(v)
					break
				}
			}
		}
		fmt.Printf("machine: %d CPUs%s, %s %s/%s\n", goruntime.NumCPU(), cpu, goruntime.Version(), goruntime.GOOS, goruntime.GOARCH)
	}
	load := "unknown"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = strings.Join(f[:3], " ")
		}
	}
	fmt.Printf("load average at %s: %s (1, 5, 15 min)\n", when, load)
}

func prepare(dir string, i int, w workload) ([]string, error) {
	prog := filepath.Join(dir, fmt.Sprintf("w%d.bloom", i))
	if err := os.WriteFile(prog, []byte(w.program), 0o644); err != nil {
		return nil, err
	}
	args := []string{"run", prog}
	for _, rel := range sortedKeys(w.facts) {
		path := filepath.Join(dir, fmt.Sprintf("w%d-%s.csv", i, rel))
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		bw := bufio.NewWriter(f)
		for _, row := range w.facts[rel] {
			bw.WriteString(strings.Join(row, ","))
			bw.WriteByte('\n')
		}
		if err := bw.Flush(); err != nil {
			return nil, err
		}
		f.Close()
		args = append(args, "--facts", rel+"="+path)
	}
	return args, nil
}

func runOnce(bin string, args []string, rel string, procs int) (result, error) {
	cmd := exec.Command(bin, append(args, "--count", rel)...)
	cmd.Env = append(withoutVar(os.Environ(), "GOMAXPROCS"), fmt.Sprintf("GOMAXPROCS=%d", procs))
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return result{}, err
	}
	wall := time.Since(start)
	var n int
	fmt.Sscanf(strings.TrimPrefix(strings.TrimSpace(out.String()), rel+": "), "%d", &n)
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var rss int64
	if ru != nil {
		rss = ru.Maxrss
	}
	return result{wall: wall, maxRSS: rss, tuples: n}, nil
}

// withoutVar returns env without the variable name.
func withoutVar(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

func sortedKeys(m map[string][][]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// tmpDir holds the generated inputs; fail removes it.
var tmpDir string

func fail(err error) {
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
