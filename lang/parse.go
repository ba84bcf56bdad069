package lang

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Parser parses Bloom source files. It holds the compiled grammar, so build
// one and reuse it; it is safe for concurrent use.
type Parser struct {
	p *participle.Parser[gOne]
}

// NewParser builds a parser.
func NewParser() *Parser {
	p := participle.MustBuild[gOne](
		participle.Lexer(bloomLexer{}),
		participle.UseLookahead(2),
	)
	return &Parser{p: p}
}

var defaultParser = NewParser()

// ParseFile parses one file. On failure the error is an ErrorList whose
// entries carry FILE:LINE:COL positions; the returned File may then be nil.
func ParseFile(filename string, src []byte) (*File, error) {
	return defaultParser.ParseFile(filename, src)
}

// ParseFile parses one file; see the package-level ParseFile.
func (ps *Parser) ParseFile(filename string, src []byte) (*File, error) {
	var comments []*Comment
	lx := bloomLexer{comments: &comments}
	c := &converter{file: &File{Name: filename, Comments: comments}}
	c.file.ends = make(map[Stmt]Pos)

	// The file is lexed once and cut at each `;` (which only ever ends a
	// statement); participle then parses statement by statement. A syntax
	// error thus costs only its own statement, so one run reports the
	// errors of every statement, and the parser's working set stays small
	// however long the file is.
	sc, _ := lx.LexString(filename, string(src))
	var stmt []lexer.Token
	for {
		t, err := sc.Next()
		if err != nil {
			c.errs = append(c.errs, syntaxError(filename, err))
			if len(stmt) > 0 {
				break // the statement is cut short; don't report it twice
			}
			break
		}
		if t.EOF() {
			if len(stmt) > 0 {
				c.statement(ps, filename, append(stmt, t))
			}
			break
		}
		stmt = append(stmt, t)
		if t.Type == tokPunct && t.Value == ";" {
			end := toPos(t.Pos)
			end.Offset++
			end.Col++
			c.semi = end
			c.statement(ps, filename, append(stmt, lexer.Token{Type: tokEOF, Pos: t.Pos}))
			stmt = stmt[:0]
		}
		if len(c.errs) >= MaxErrors {
			break
		}
	}
	c.file.Comments = comments
	if len(c.errs) > 0 {
		c.errs.Sort()
		return c.file, c.errs
	}
	return c.file, nil
}

// statement parses one statement's tokens (ending in EOF) and converts it.
func (c *converter) statement(ps *Parser, filename string, toks []lexer.Token) {
	pl, err := lexer.Upgrade(&sliceLexer{toks: toks})
	var g *gStmt
	if err == nil {
		var one *gOne
		one, err = ps.p.ParseFromLexer(pl)
		if one != nil {
			g = one.Stmt
		}
	}
	if err != nil {
		c.errs = append(c.errs, syntaxError(filename, err))
		return
	}
	c.convert(g)
}

type sliceLexer struct {
	toks []lexer.Token
	i    int
}

func (s *sliceLexer) Next() (lexer.Token, error) {
	t := s.toks[s.i]
	if s.i < len(s.toks)-1 {
		s.i++
	}
	return t, nil
}

// syntaxError turns a participle error into a positioned Error with a
// message phrased for people.
func syntaxError(filename string, err error) *Error {
	var perr participle.Error
	if errors.As(err, &perr) {
		pos := toPos(perr.Position())
		if pos.File == "" {
			pos.File = filename
		}
		return &Error{Pos: pos, Msg: "syntax error: " + tidySyntaxMessage(perr.Message())}
	}
	return &Error{Pos: Pos{File: filename, Line: 1, Col: 1}, Msg: "syntax error: " + err.Error()}
}

func tidySyntaxMessage(m string) string {
	m = strings.ReplaceAll(m, `unexpected token "<EOF>"`, "unexpected end of file")
	if i := strings.Index(m, " (expected "); i >= 0 {
		// participle lists the grammar's internal structure; keep only
		// the leading literal token, which is what a person can act on.
		exp := m[i+len(" (expected ") : len(m)-1]
		if !grammarName.MatchString(exp) {
			return m
		}
		if tok := leadingToken.FindString(exp); tok != "" {
			return m[:i] + " (expected " + tok + ")"
		}
		return m[:i]
	}
	return m
}

var (
	leadingToken = regexp.MustCompile(`^"[^"]+"`)
	grammarName  = regexp.MustCompile(`\bG[A-Z]\w*`)
)

type converter struct {
	file *File
	semi Pos // just after the current statement's `;`
	errs ErrorList
}

func (c *converter) errorf(p lexer.Position, format string, args ...any) {
	c.errs.Add(toPos(p), format, args...)
}

func (c *converter) convert(s *gStmt) {
	f := c.file
	switch {
	case s.Module != nil:
		m := &ModuleDecl{At: toPos(s.Pos), Name: s.Module.Name.Name}
		f.Module = m
		f.Stmts = append(f.Stmts, m)
	case s.Import != nil:
		path, err := strconv.Unquote(s.Import.Path.Val)
		if err != nil {
			c.errorf(s.Import.Path.Pos, "bad import path %s", s.Import.Path.Val)
		}
		im := &Import{At: toPos(s.Pos), Path: path, PathPos: toPos(s.Import.Path.Pos), Alias: s.Import.Alias.Name, AliasPos: toPos(s.Import.Alias.Pos)}
		f.Imports = append(f.Imports, im)
		f.Stmts = append(f.Stmts, im)
	case s.Decl != nil:
		d := c.decl(s.Decl)
		f.Decls = append(f.Decls, d)
		f.Stmts = append(f.Stmts, d)
	case s.Rule != nil:
		r := c.rule(s.Rule)
		f.Rules = append(f.Rules, r)
		f.Stmts = append(f.Stmts, r)
	default:
		return
	}
	f.ends[f.Stmts[len(f.Stmts)-1]] = c.semi
}

var kindByKeyword = map[string]CollKind{
	"table": Table, "scratch": Scratch, "input": Input, "output": Output,
	"channel": Channel, "periodic": Periodic, "lattice": Lattice,
}

func (c *converter) decl(g *gDecl) *Decl {
	d := &Decl{At: toPos(g.Pos), Durable: g.Durable, Kind: kindByKeyword[g.Kind], Name: g.Name.Name, NamePos: toPos(g.Name.Pos)}
	switch d.Kind {
	case Periodic:
		if g.Every == nil {
			c.errorf(g.Name.Pos, "periodic %s needs `every DURATION`", d.Name)
			break
		}
		d.EveryRaw, d.EveryPos = g.Every.Raw, toPos(g.Every.Pos)
		dur, err := time.ParseDuration(g.Every.Raw)
		if err != nil || dur <= 0 {
			c.errorf(g.Every.Pos, "bad duration %q: want a positive Go duration such as 500ms or 2s", g.Every.Raw)
		}
		d.Every = dur
	case Lattice:
		if g.LatType == nil {
			c.errorf(g.Name.Pos, "lattice %s needs a type: `lattice %s: lset<int>;`", d.Name, d.Name)
			break
		}
		d.LatType = c.typ(g.LatType)
	default:
		if g.Cols == nil {
			c.errorf(g.Name.Pos, "%s %s needs columns: `%s %s(name: type, ...);`", g.Kind, d.Name, g.Kind, d.Name)
			break
		}
		for _, col := range g.Cols.Cols {
			d.Cols = append(d.Cols, &Column{At: toPos(col.Pos), Loc: col.Loc, Name: col.Name, Type: c.typ(col.Type)})
		}
		if d.Cols == nil {
			d.Cols = []*Column{}
		}
		if g.Key != nil {
			d.Key = []*Ident{}
			for _, k := range g.Key.Cols {
				d.Key = append(d.Key, &Ident{At: toPos(k.Pos), Name: k.Name})
			}
		}
	}
	if d.Kind != Periodic && g.Every != nil {
		c.errorf(g.Pos, "only a periodic collection has `every`")
	}
	if d.Kind != Lattice && g.LatType != nil {
		c.errorf(g.LatType.Pos, "only a lattice declaration has `: TYPE`; declare columns as %s %s(name: type)", g.Kind, d.Name)
	}
	if d.Kind == Periodic || d.Kind == Lattice {
		if g.Cols != nil {
			c.errorf(g.Cols.Pos, "a %s declaration has no column list", g.Kind)
		}
	}
	if d.Durable && d.Kind != Table && d.Kind != Lattice {
		c.errorf(g.Pos, "only tables and lattices can be durable, not %s", g.Kind)
	}
	return d
}

func (c *converter) typ(g *gType) *TypeExpr {
	t := &TypeExpr{At: toPos(g.Pos), Name: g.Name}
	for _, a := range g.Args {
		t.Args = append(t.Args, c.typ(a))
	}
	return t
}

var opByText = map[string]Op{"<=": OpSame, "<+": OpNext, "<-": OpDelete, "<+-": OpUpsert, "<~": OpAsync}

func (c *converter) rule(g *gRule) *Rule {
	c.errs = append(c.errs, g.errs...)
	return g.rule
}
