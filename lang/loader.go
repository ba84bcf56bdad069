package lang

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Loader loads a program: the root file and, recursively, the modules it
// imports, then checks all of them. A Loader holds no state between loads
// and may be reused.
//
// Import paths resolve as follows:
//   - "std/NAME" is the standard library module NAME.bloom, read from Std;
//   - any other path is relative to the directory of the importing file
//     (inside the standard library, relative to the importing module);
//     an absolute path is used as is;
//   - ".bloom" is appended when the path does not end with it.
//
// Every import is an instance of the module: its collections are named with
// the alias path that leads to them from the root ("dl.pending", "a.b.c"),
// so a module imported twice under two aliases has two independent sets of
// collections and rules. An import cycle is an error.
type Loader struct {
	// Std holds the standard library modules, with paths such as
	// "delivery.bloom" for import "std/delivery". It may be nil.
	Std fs.FS
	// ReadFile reads a file from disk; nil means os.ReadFile.
	ReadFile func(name string) ([]byte, error)
}

// Load reads, parses and checks the program whose root file is path. On
// failure the Program is nil and the error is an ErrorList holding every
// error of every file, sorted by position.
func (l *Loader) Load(path string) (*Program, error) {
	return newSession(l).run(path, nil)
}

// LoadSource is Load with the root file's contents given (for the REPL and
// tests); imports are still read through the Loader.
func (l *Loader) LoadSource(filename string, src []byte) (*Program, error) {
	if src == nil {
		src = []byte{}
	}
	return newSession(l).run(filename, src)
}

func (l *Loader) readFile(name string) ([]byte, error) {
	if l.ReadFile != nil {
		return l.ReadFile(name)
	}
	return os.ReadFile(name)
}

const stdPrefix = "std/"

// loadedFile is one parsed file, shared by all the instances of it.
type loadedFile struct {
	key  string // cleaned path; "std/x.bloom" for standard library modules
	file *File  // nil when the file could not be read or parsed at all
	std  bool
}

// instance is one import of a file: its collections are qualified by
// prefix.
type instance struct {
	lf      *loadedFile
	file    *File
	prefix  string
	colls   map[string]*Collection // by local name
	imports map[string]*importRef  // by alias
}

type importRef struct {
	imp  *Import
	inst *instance // nil when the import failed (error already reported)
}

// session is one run of the loader and checker.
type session struct {
	l      *Loader // nil for Check: only the given files exist
	given  map[string]*File
	files  map[string]*loadedFile
	order  []*loadedFile
	insts  []*instance
	errs   ErrorList
	parser *Parser
}

func newSession(l *Loader) *session {
	return &session{l: l, given: map[string]*File{}, files: map[string]*loadedFile{}}
}

func cleanKey(name string) string {
	if strings.HasPrefix(name, stdPrefix) {
		return stdPrefix + path.Clean(strings.TrimPrefix(name, stdPrefix))
	}
	return filepath.Clean(name)
}

// run loads the root (from src when non-nil), its imports, and checks.
func (s *session) run(rootName string, src []byte) (*Program, error) {
	key := cleanKey(rootName)
	var lf *loadedFile
	if f, ok := s.given[key]; ok {
		lf = s.addFile(key, f)
	} else {
		if src == nil {
			var err error
			src, err = s.l.readFile(rootName)
			if err != nil {
				return nil, ErrorList{{Pos: Pos{File: rootName, Line: 1, Col: 1}, Msg: "cannot read file: " + describeReadError(err)}}
			}
		}
		lf = s.parse(key, rootName, src, false)
	}
	s.instantiate(lf, "", []*loadedFile{lf})
	if lf.file == nil {
		s.errs.Sort()
		return nil, s.errs
	}

	c := &checker{errs: s.errs, prog: &Program{Root: lf.file, ByName: map[string]*Collection{}}}
	if lf.file.Module != nil {
		c.prog.Name = lf.file.Module.Name
	}
	for _, f := range s.order {
		if f.file != nil {
			c.prog.Files = append(c.prog.Files, f.file)
			c.moduleDecls(f.file)
		}
	}
	for _, inst := range s.insts {
		if inst.file != nil {
			c.declare(inst)
		}
	}
	for _, inst := range s.insts {
		if inst.file != nil {
			for _, r := range inst.file.Rules {
				if ri := c.rule(inst, r); ri != nil {
					c.prog.Rules = append(c.prog.Rules, ri)
				}
			}
		}
	}
	if len(c.errs) > 0 {
		c.errs.Sort()
		return nil, c.errs
	}
	return c.prog, nil
}

// moduleDecls checks the module lines of a file.
func (c *checker) moduleDecls(f *File) {
	var first *ModuleDecl
	for _, st := range f.Stmts {
		if m, ok := st.(*ModuleDecl); ok {
			if first != nil {
				c.errorf(m.At, "second module declaration (the first is at %s)", lineCol(first.At))
				continue
			}
			first = m
		}
	}
}

func (s *session) addFile(key string, f *File) *loadedFile {
	lf := &loadedFile{key: key, file: f, std: strings.HasPrefix(key, stdPrefix)}
	s.files[key] = lf
	s.order = append(s.order, lf)
	return lf
}

func (s *session) parse(key, name string, src []byte, std bool) *loadedFile {
	p := s.parser
	if p == nil {
		p = defaultParser
	}
	f, err := p.ParseFile(name, src)
	if err != nil {
		// A file with syntax errors is not checked further (its partial
		// AST would only produce follow-on errors), and references to
		// its collections stay quiet.
		f = nil
		var el ErrorList
		if errors.As(err, &el) {
			s.errs = append(s.errs, el...)
		} else {
			s.errs.Add(Pos{File: name, Line: 1, Col: 1}, "%v", err)
		}
	}
	lf := s.addFile(key, f)
	lf.std = std
	return lf
}

// instantiate creates the instance of a file under prefix and, recursively,
// of its imports. stack holds the files being imported, for cycles.
func (s *session) instantiate(lf *loadedFile, prefix string, stack []*loadedFile) *instance {
	inst := &instance{lf: lf, file: lf.file, prefix: prefix, colls: map[string]*Collection{}, imports: map[string]*importRef{}}
	s.insts = append(s.insts, inst)
	if lf.file == nil {
		return inst
	}
	for _, im := range lf.file.Imports {
		if reservedWords[im.Alias] {
			s.errs.Add(im.AliasPos, "%s is a reserved word and cannot be an import alias", im.Alias)
		}
		if prev, dup := inst.imports[im.Alias]; dup {
			s.errs.Add(im.AliasPos, "import alias %s is already used at %s", im.Alias, lineCol(prev.imp.AliasPos))
			continue
		}
		ref := &importRef{imp: im}
		inst.imports[im.Alias] = ref
		target := s.importFile(lf, im)
		if target == nil {
			continue
		}
		if cyc := cycleFrom(stack, target); cyc != nil {
			names := make([]string, 0, len(cyc)+1)
			for _, f := range cyc {
				names = append(names, f.key)
			}
			names = append(names, target.key)
			s.errs.Add(im.PathPos, "import cycle: %s", strings.Join(names, " -> "))
			continue
		}
		if target.file == nil {
			continue // could not be parsed: its errors are reported
		}
		ref.inst = s.instantiate(target, qualify(prefix, im.Alias), append(stack[:len(stack):len(stack)], target))
	}
	return inst
}

func cycleFrom(stack []*loadedFile, f *loadedFile) []*loadedFile {
	for i, g := range stack {
		if g == f {
			return stack[i:]
		}
	}
	return nil
}

// importFile resolves, reads and parses the file an import names (once per
// session); it returns nil after reporting an error.
func (s *session) importFile(from *loadedFile, im *Import) *loadedFile {
	if im.Path == "" {
		s.errs.Add(im.PathPos, "empty import path")
		return nil
	}
	p := im.Path
	if !strings.HasSuffix(p, ".bloom") {
		p += ".bloom"
	}
	var key string
	std := false
	switch {
	case strings.HasPrefix(p, stdPrefix):
		key, std = cleanKey(p), true
	case from.std:
		key, std = stdPrefix+path.Join(path.Dir(strings.TrimPrefix(from.key, stdPrefix)), p), true
		key = cleanKey(key)
	case filepath.IsAbs(p):
		key = filepath.Clean(p)
	default:
		key = filepath.Join(filepath.Dir(from.key), filepath.FromSlash(p))
	}
	if lf, ok := s.files[key]; ok {
		return lf
	}
	if f, ok := s.given[key]; ok {
		return s.addFile(key, f)
	}
	var src []byte
	var err error
	switch {
	case s.l == nil:
		err = fs.ErrNotExist
	case std && s.l.Std == nil:
		s.errs.Add(im.PathPos, "cannot import %q: no standard library is available", im.Path)
		return nil
	case std:
		src, err = fs.ReadFile(s.l.Std, strings.TrimPrefix(key, stdPrefix))
	default:
		src, err = s.l.readFile(key)
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if std {
				s.errs.Add(im.PathPos, "cannot import %q: the standard library has no module %s", im.Path, strings.TrimSuffix(strings.TrimPrefix(key, stdPrefix), ".bloom"))
			} else {
				s.errs.Add(im.PathPos, "cannot import %q: file %s not found", im.Path, key)
			}
		} else {
			s.errs.Add(im.PathPos, "cannot import %q: %s", im.Path, describeReadError(err))
		}
		return nil
	}
	return s.parse(key, key, src, std)
}

func describeReadError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if errors.Is(err, fs.ErrNotExist) {
			return "no such file"
		}
		return fmt.Sprintf("%s", pe.Err)
	}
	return err.Error()
}
