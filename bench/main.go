// Command bench runs the whole-process benchmark suite of `make bench`:
// it generates deterministic inputs of the reference workloads' shapes,
// runs `bloomc run ... --count REL` on each several times, and prints one
// table with the median wall time, tuples/s, peak memory (max RSS) and the
// ratios against the reference figures measured on this kind of machine
// (Soufflé 2.5 and Mangle could not be installed here: see
// docs/performance.md).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
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

func main() {
	runs := flag.Int("runs", 3, "runs per workload (the median is reported)")
	bin := flag.String("bloomc", "bin/bloomc", "the bloomc binary")
	only := flag.String("only", "", "run only workloads whose name contains this")
	flag.Parse()
	dir, err := os.MkdirTemp("", "bloom-bench")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	fmt.Printf("%-40s %10s %9s %12s %9s %9s %9s\n", "workload", "tuples", "wall", "tuples/s", "peak MiB", "vs Soufflé", "vs Mangle")
	for i, w := range workloads() {
		if *only != "" && !strings.Contains(w.name, *only) {
			continue
		}
		args, err := prepare(dir, i, w)
		if err != nil {
			fail(err)
		}
		var rs []result
		for k := 0; k < *runs; k++ {
			res, err := runOnce(*bin, args, w.rel)
			if err != nil {
				fail(fmt.Errorf("%s: %w", w.name, err))
			}
			rs = append(rs, res)
		}
		sort.Slice(rs, func(a, b int) bool { return rs[a].wall < rs[b].wall })
		med := rs[len(rs)/2]
		var peak int64
		for _, r := range rs {
			peak = max(peak, r.maxRSS)
		}
		mangle := "n/a"
		if w.mangle > 0 {
			mangle = fmt.Sprintf("%.1fx", w.mangle/med.wall.Seconds())
		}
		fmt.Printf("%-40s %10d %8.2fs %12.0f %9.0f %8.2fx %9s\n", w.name, med.tuples, med.wall.Seconds(),
			float64(med.tuples)/med.wall.Seconds(), float64(peak)/1024, w.soufflé/med.wall.Seconds(), mangle)
		fmt.Printf("%-40s %10s %9s %12s %9s %9s\n", "", "", "", "", fmt.Sprintf("(%.1fx)", float64(peak)/1024/w.souffléMiB), "")
	}
	fmt.Println("\nvs Soufflé: best Soufflé time / ours (>1 means faster); (N.Nx) under peak MiB: our memory / Soufflé's.")
	if *only == "" {
		engineRows()
	}
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

func runOnce(bin string, args []string, rel string) (result, error) {
	cmd := exec.Command(bin, append(args, "--count", rel)...)
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

func sortedKeys(m map[string][][]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
