package lang

import (
	"errors"
	"math"
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
	p *participle.Parser[gFile]
}

// NewParser builds a parser.
func NewParser() *Parser {
	p := participle.MustBuild[gFile](
		participle.Lexer(bloomLexer{}),
		participle.Elide("Whitespace"),
		participle.UseLookahead(4),
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
	toks, err := lx.LexString(filename, string(src))
	var g *gFile
	if err == nil {
		var pl *lexer.PeekingLexer
		pl, err = lexer.Upgrade(toks, baseLexer.Symbols()["Whitespace"])
		if err == nil {
			g, err = ps.p.ParseFromLexer(pl)
		}
	}
	if err != nil {
		return nil, ErrorList{syntaxError(filename, err)}
	}
	c := &converter{file: &File{Name: filename, Comments: comments}}
	c.convert(g)
	if len(c.errs) > 0 {
		c.errs.Sort()
		return c.file, c.errs
	}
	return c.file, nil
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
		if tok := leadingToken.FindString(exp); tok != "" {
			return m[:i] + " (expected " + tok + ")"
		}
		return m[:i]
	}
	return m
}

var leadingToken = regexp.MustCompile(`^"[^"]+"`)

type converter struct {
	file *File
	errs ErrorList
}

func (c *converter) errorf(p lexer.Position, format string, args ...any) {
	c.errs.Add(toPos(p), format, args...)
}

func (c *converter) convert(g *gFile) {
	f := c.file
	f.ends = make(map[Stmt]Pos, len(g.Stmts))
	for _, s := range g.Stmts {
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
		}
		f.ends[f.Stmts[len(f.Stmts)-1]] = toPos(s.EndPos)
	}
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
	r := &Rule{At: toPos(g.Pos), Op: OpFact}
	for _, a := range g.Anns {
		ann := &Annotation{At: toPos(a.Pos), Name: a.Name}
		for _, x := range a.Args {
			ann.Args = append(ann.Args, c.expr(x))
		}
		r.Annotations = append(r.Annotations, ann)
	}
	if len(r.Annotations) > 0 {
		r.At = toPos(g.Head.Pos)
	}
	r.Head = c.atom(g.Head, false, toPos(g.Head.Pos))
	if g.Body != nil {
		r.Op = opByText[g.Body.Op]
		r.OpPos = toPos(g.Body.Pos)
		for _, l := range g.Body.Lits {
			r.Body = append(r.Body, c.literal(l))
		}
	}
	return r
}

func (c *converter) atom(g *gCall, neg bool, at Pos) *Atom {
	a := &Atom{At: at, Negated: neg, Name: g.Name.Name, NamePos: toPos(g.Name.Pos)}
	if g.Module != nil {
		a.Module = g.Module.Name
	}
	a.Args = []*Arg{}
	for _, ga := range g.Args {
		arg := &Arg{At: toPos(ga.Pos), Loc: ga.Loc, X: c.expr(ga.X)}
		if ga.Name != nil {
			arg.Name, arg.NamePos = ga.Name.Name, toPos(ga.Name.Pos)
		}
		a.Args = append(a.Args, arg)
	}
	return a
}

func (c *converter) literal(g *gLiteral) Literal {
	if g.Assign != nil {
		if g.Not {
			c.errorf(g.Pos, "`not` applies to an atom, not to an assignment")
		}
		id, ok := c.asIdent(g.X)
		if !ok {
			c.errorf(g.X.Pos, "left of `=` must be a new variable (use `==` to compare)")
			id = &Ident{At: toPos(g.X.Pos), Name: "_"}
		}
		return &Assign{Var: id, X: c.expr(g.Assign)}
	}
	if call := c.asCall(g.X); call != nil {
		return c.atom(call, g.Not, toPos(g.Pos))
	}
	if g.Not {
		c.errorf(g.Pos, "`not` must be followed by an atom such as not p(x)")
	}
	return &Cond{X: c.expr(g.X)}
}

// asCall returns the call when the expression is nothing but `name(args)`.
func (c *converter) asCall(g *gExpr) *gCall {
	if p := bare(g); p != nil && p.Call != nil {
		return p.Call
	}
	return nil
}

func (c *converter) asIdent(g *gExpr) (*Ident, bool) {
	if p := bare(g); p != nil && p.Ident != nil && *p.Ident != "_" {
		return &Ident{At: toPos(p.Pos), Name: *p.Ident}, true
	}
	return nil, false
}

// bare returns the primary when an expression has no operators at all.
func bare(g *gExpr) *gPrimary {
	if len(g.Right) > 0 || len(g.Left.Right) > 0 || g.Left.Left.Right != nil {
		return nil
	}
	add := g.Left.Left.Left
	if len(add.Right) > 0 || len(add.Left.Right) > 0 || add.Left.Left.Prim == nil {
		return nil
	}
	return add.Left.Left.Prim
}

func (c *converter) expr(g *gExpr) Expr {
	x := c.and(g.Left)
	for _, t := range g.Right {
		x = &Binary{OpPos: toPos(t.Pos), Op: t.Op, X: x, Y: c.and(t.X)}
	}
	return x
}

func (c *converter) and(g *gAnd) Expr {
	x := c.cmp(g.Left)
	for _, t := range g.Right {
		x = &Binary{OpPos: toPos(t.Pos), Op: t.Op, X: x, Y: c.cmp(t.X)}
	}
	return x
}

func (c *converter) cmp(g *gCmp) Expr {
	x := c.add(g.Left)
	if t := g.Right; t != nil {
		x = &Binary{OpPos: toPos(t.Pos), Op: t.Op, X: x, Y: c.add(t.X)}
	}
	return x
}

func (c *converter) add(g *gAdd) Expr {
	x := c.mul(g.Left)
	for _, t := range g.Right {
		x = &Binary{OpPos: toPos(t.Pos), Op: t.Op, X: x, Y: c.mul(t.X)}
	}
	return x
}

func (c *converter) mul(g *gMul) Expr {
	x := c.unary(g.Left)
	for _, t := range g.Right {
		x = &Binary{OpPos: toPos(t.Pos), Op: t.Op, X: x, Y: c.unary(t.X)}
	}
	return x
}

func (c *converter) unary(g *gUnary) Expr {
	if g.Prim != nil {
		return c.primary(g.Prim, false)
	}
	// Fold a minus sign into a numeric literal so that -1 is a constant
	// (facts need constants) and -9223372036854775808 fits.
	if g.Op == "-" && g.X.Prim != nil && (g.X.Prim.Int != nil || g.X.Prim.Float != nil) {
		lit := c.primary(g.X.Prim, true)
		switch l := lit.(type) {
		case *IntLit:
			l.At = toPos(g.Pos)
		case *FloatLit:
			l.At = toPos(g.Pos)
		}
		return lit
	}
	return &Unary{At: toPos(g.Pos), Op: g.Op, X: c.unary(g.X)}
}

func (c *converter) primary(g *gPrimary, neg bool) Expr {
	at := toPos(g.Pos)
	switch {
	case g.Int != nil:
		text := *g.Int
		if neg {
			text = "-" + text
		}
		v, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			c.errorf(g.Pos, "integer literal %s out of range", text)
		}
		return &IntLit{At: at, Val: v}
	case g.Float != nil:
		text := *g.Float
		if neg {
			text = "-" + text
		}
		v, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(v, 0) {
			c.errorf(g.Pos, "float literal %s out of range", text)
		}
		return &FloatLit{At: at, Val: v, Raw: text}
	case g.Str != nil:
		s, err := strconv.Unquote(*g.Str)
		if err != nil {
			c.errorf(g.Pos, "bad string literal %s", *g.Str)
		}
		return &StringLit{At: at, Val: s}
	case g.True:
		return &BoolLit{At: at, Val: true}
	case g.False:
		return &BoolLit{At: at, Val: false}
	case g.Call != nil:
		call := &Call{At: at, Name: g.Call.Name.Name}
		if g.Call.Module != nil {
			c.errorf(g.Pos, "%s.%s(...) is an atom, not a value; atoms cannot be nested in expressions", g.Call.Module.Name, call.Name)
		}
		for _, a := range g.Call.Args {
			if a.Loc || a.Name != nil {
				c.errorf(a.Pos, "`@` and named arguments belong to atoms, not to the call %s(...)", call.Name)
			}
			call.Args = append(call.Args, c.expr(a.X))
		}
		return call
	case g.Ident != nil:
		if *g.Ident == "_" {
			return &Wildcard{At: at}
		}
		return &Ident{At: at, Name: *g.Ident}
	case g.Braces != nil:
		return c.braces(g.Braces)
	case g.Paren != nil:
		if g.Paren.Second != nil {
			return &PairLit{At: at, A: c.expr(g.Paren.X), B: c.expr(g.Paren.Second)}
		}
		return c.expr(g.Paren.X)
	case g.Dur != nil:
		c.errorf(g.Pos, "a duration such as %s is only allowed after `every`", *g.Dur)
		return &IntLit{At: at}
	}
	c.errorf(g.Pos, "expected an expression")
	return &Wildcard{At: at}
}

func (c *converter) braces(g *gBraces) Expr {
	at := toPos(g.Pos)
	if len(g.Elems) == 0 {
		return &SetLit{At: at}
	}
	isMap := g.Elems[0].Val != nil
	if isMap {
		m := &MapLit{At: at}
		for _, e := range g.Elems {
			if e.Val == nil {
				c.errorf(e.Key.Pos, "map literal entry needs `key: value`")
				continue
			}
			m.Keys = append(m.Keys, c.expr(e.Key))
			m.Vals = append(m.Vals, c.expr(e.Val))
		}
		return m
	}
	s := &SetLit{At: at}
	for _, e := range g.Elems {
		if e.Val != nil {
			c.errorf(e.Key.Pos, "set literal elements have no `: value` (mixing set and map syntax)")
		}
		s.Elems = append(s.Elems, c.expr(e.Key))
	}
	return s
}
