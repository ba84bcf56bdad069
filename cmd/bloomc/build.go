package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
)

// A built executable is the bloomc binary followed by a payload holding the
// program's source files and a trailer:
//
//	[bloomc executable][payload][payload length: uint64 BE][trailerMagic]
//	payload = uvarint file count, then per file: uvarint name length,
//	          name, uvarint content length, content (the root file first)
//
// At startup bloomc looks for the trailer at the end of its own executable;
// when it is there it behaves as `bloomc run ROOT ARGS...` with the files
// read from the payload (imports resolve inside it; std/ modules are built
// into bloomc). No Go toolchain or source is needed where it runs.
var trailerMagic = []byte("\x00BLOOM-PROGRAM-1")

const trailerSize = 8 + 16

// embeddedProgram is a program carried by the executable.
type embeddedProgram struct {
	root  string
	files map[string][]byte
	order []string
	// exeSize is the size of the bloomc part of the executable.
	exeSize int64
}

func (e *embeddedProgram) readFile(name string) ([]byte, error) {
	if b, ok := e.files[name]; ok {
		return b, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// embedded is the program embedded in this executable, if any.
var embedded *embeddedProgram

// readEmbedded looks for a program at the end of the file at path.
func readEmbedded(path string) (*embeddedProgram, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size < trailerSize {
		return nil, nil
	}
	var tr [trailerSize]byte
	if _, err := f.ReadAt(tr[:], size-trailerSize); err != nil {
		return nil, err
	}
	if !bytes.Equal(tr[8:], trailerMagic) {
		return nil, nil
	}
	n := binary.BigEndian.Uint64(tr[:8])
	if n > uint64(size-trailerSize) || n > 1<<30 {
		return nil, errors.New("corrupt embedded program (bad length)")
	}
	payload := make([]byte, n)
	start := size - trailerSize - int64(n)
	if _, err := f.ReadAt(payload, start); err != nil {
		return nil, err
	}
	e := &embeddedProgram{files: map[string][]byte{}, exeSize: start}
	r := bytes.NewReader(payload)
	count, err := binary.ReadUvarint(r)
	if err != nil || count == 0 || count > 10000 {
		return nil, errors.New("corrupt embedded program (bad file count)")
	}
	readBytes := func() ([]byte, error) {
		l, err := binary.ReadUvarint(r)
		if err != nil || l > uint64(r.Len()) {
			return nil, errors.New("corrupt embedded program")
		}
		b := make([]byte, l)
		_, err = io.ReadFull(r, b)
		return b, err
	}
	for i := range count {
		name, err := readBytes()
		if err != nil {
			return nil, err
		}
		content, err := readBytes()
		if err != nil {
			return nil, err
		}
		if i == 0 {
			e.root = string(name)
		}
		e.files[string(name)] = content
		e.order = append(e.order, string(name))
	}
	return e, nil
}

// detectEmbedded sets embedded when this executable carries a program.
func detectEmbedded() error {
	exe, err := os.Executable()
	if err != nil {
		return nil // cannot tell: behave as plain bloomc
	}
	e, err := readEmbedded(exe)
	if err != nil {
		return fmt.Errorf("%s: %w", exe, err)
	}
	embedded = e
	return nil
}

// runEmbedded runs the embedded program: `BIN [run flags]` is
// `bloomc run ROOT [run flags]`.
func runEmbedded(args []string, env *cliEnv) int {
	if len(args) > 0 && (args[0] == "version" || args[0] == "--version") {
		fmt.Fprintf(env.stdout, "bloomc %s (embedded program %s)\n", version, embedded.root)
		return exitOK
	}
	if len(args) > 0 && args[0] == "run" {
		args = args[1:]
	}
	return cmdRun(env, append([]string{embedded.root}, args...))
}

// loadProgramPlan is loadPlan, reading the embedded program's files when
// path is its root.
func loadProgramPlan(env *cliEnv, path string) (*compiler.Plan, bool) {
	if embedded == nil || path != embedded.root {
		return loadPlan(env, path)
	}
	prog, err := (&lang.Loader{Std: stdModules(), ReadFile: embedded.readFile}).Load(path)
	if err != nil {
		printErrors(env, err)
		return nil, false
	}
	plan, err := compiler.Compile(prog)
	if err != nil {
		printErrors(env, err)
		return nil, false
	}
	return plan, true
}

func cmdBuild(env *cliEnv, args []string) int {
	fs := newFlags(env, "build", "FILE -o BIN",
		`Checks the program and writes a standalone executable BIN that embeds it
(with the modules it imports). BIN runs the program as 'bloomc run FILE'
would, with the same flags (--listen, --facts, --print, ...); it needs no Go
toolchain or source where it runs. BIN is this bloomc binary with the
program appended, so build on the OS and architecture you deploy to.`)
	out := fs.String("o", "", "output executable `BIN`")
	files, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(files) != 1 {
		return usageError(env, fs, "want exactly one program file, got %d", len(files))
	}
	if *out == "" {
		return usageError(env, fs, "-o BIN is required")
	}
	// Load through a recording reader: every file the loader reads (the
	// root and its imports, by the names the loader uses) is embedded.
	rec := map[string][]byte{}
	var order []string
	read := func(name string) ([]byte, error) {
		if embedded != nil && name == embedded.root {
			if b, ok := embedded.files[name]; ok {
				rec[name] = b
				order = append(order, name)
				return b, nil
			}
		}
		b, err := os.ReadFile(name)
		if err == nil {
			if _, seen := rec[name]; !seen {
				order = append(order, name)
			}
			rec[name] = b
		}
		return b, err
	}
	prog, err := (&lang.Loader{Std: stdModules(), ReadFile: read}).Load(files[0])
	if err != nil {
		printErrors(env, err)
		return exitErrors
	}
	if _, err := compiler.Compile(prog); err != nil {
		printErrors(env, err)
		return exitErrors
	}
	if _, ok := rec[files[0]]; !ok {
		fmt.Fprintf(env.stderr, "bloomc build: the loader did not read %s\n", files[0])
		return exitErrors
	}
	var payload []byte
	payload = binary.AppendUvarint(payload, uint64(len(order)))
	names := append([]string{files[0]}, order...)
	seen := map[string]bool{}
	count := 0
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		count++
		payload = binary.AppendUvarint(payload, uint64(len(n)))
		payload = append(payload, n...)
		payload = binary.AppendUvarint(payload, uint64(len(rec[n])))
		payload = append(payload, rec[n]...)
	}
	if count != len(order) {
		// order holds distinct names; the root is among them.
		fmt.Fprintf(env.stderr, "bloomc build: internal error: %d files, %d names\n", len(order), count)
		return exitErrors
	}
	payload = binary.BigEndian.AppendUint64(payload, uint64(len(payload)))
	payload = append(payload, trailerMagic...)

	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(env.stderr, "bloomc build: cannot find this executable: %v\n", err)
		return exitErrors
	}
	src, err := os.Open(exe)
	if err != nil {
		fmt.Fprintf(env.stderr, "bloomc build: %v\n", err)
		return exitErrors
	}
	defer src.Close()
	var base io.Reader = src
	if embedded != nil {
		// Built from a built executable: copy only its bloomc part.
		base = io.LimitReader(src, embedded.exeSize)
	}
	tmp := *out + ".tmp"
	dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		fmt.Fprintf(env.stderr, "bloomc build: %v\n", err)
		return exitErrors
	}
	_, err = io.Copy(dst, base)
	if err == nil {
		_, err = dst.Write(payload)
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, *out)
	}
	if err != nil {
		os.Remove(tmp)
		fmt.Fprintf(env.stderr, "bloomc build: %v\n", err)
		return exitErrors
	}
	fmt.Fprintf(env.stderr, "bloomc build: wrote %s (%s and %d imported file(s))\n", *out, files[0], len(order)-1)
	return exitOK
}
