package lang

import (
	"time"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// gDecl is the grammar's declaration statement,
//
//	durable? KIND NAME ( "(" COL ("," COL)* ")" key(NAME, ...)? | every DURATION | ":" TYPE )? ";"
//
// parsed by hand through participle's Parseable hook, as rules are (see
// gRule), into the *Decl directly. Declarations used to be struct-tag
// productions (gDecl, gColList, gCol, gKey, gType, gDuration) that the
// converter turned into the AST, and participle's reflective engine (a
// branch context per optional group, reflect.New per production, deferred
// reflective field setting) then dominated parsing: on a 2-core Xeon, a
// megabyte of the declarations BenchmarkParse1MB uses parsed at 1.1 MB/s
// and allocated 500 MB; by hand it is 6.4 MB/s and 78 MB, nearly all of
// that the AST. Module and import statements, which are rare, stay on the
// tag grammar.
//
// The parser reproduces what the tag grammar did, including its error
// reporting, so that messages and positions are unchanged:
//   - a syntax error is a participle.UnexpectedTokenError whose expectation
//     is the EBNF participle printed for the rest of the failing production
//     (syntaxError then tidies it exactly as before), and the lexer is left
//     where participle's would have been, since the statement disjunction
//     picks the error of the alternative that got furthest;
//   - an optional part that fails within participle's lookahead (two tokens,
//     see NewParser) of its start is treated as absent, and the error comes
//     from whatever follows it; one that fails further in is the error.
//
// testdata/parse/decl_syntax.bloom holds the messages the tag grammar gave.
//
// The checks of what a declaration of each kind must have (columns, a type,
// a period) are made here too; they are not syntax errors, so they are kept
// in errs and the declaration is still returned.
type gDecl struct {
	decl *Decl
	errs ErrorList
}

// Expectations, as the participle tag grammar spelt them; see gDecl.
const (
	expKind        = `("table" | "scratch" | "input" | "output" | "channel" | "periodic" | "lattice") GName ((GColList GKey?) | ("every" GDuration) | (":" GType))? ";"`
	expDeclName    = `GName ((GColList GKey?) | ("every" GDuration) | (":" GType))? ";"`
	expSemi        = `";"`
	expColName     = `<ident> ":" GType`
	expColColon    = `":" GType`
	expType        = `GType`
	expTypeArgs    = `GType ("," GType)* ">"`
	expTypeClose   = `">"`
	expParenClose  = `")"`
	expKeyOpen     = `"(" (GName ("," GName)*)? ")"`
	expKeyName     = `GName`
	expDuration    = `GDuration`
	parseLookahead = 2 // participle.UseLookahead in NewParser
)

// collKind maps a declaration keyword to its kind.
func collKind(s string) (CollKind, bool) {
	switch s {
	case "table":
		return Table, true
	case "scratch":
		return Scratch, true
	case "input":
		return Input, true
	case "output":
		return Output, true
	case "channel":
		return Channel, true
	case "periodic":
		return Periodic, true
	case "lattice":
		return Lattice, true
	}
	return 0, false
}

// Parse implements participle.Parseable. It is the last alternative of a
// statement, so it never declines with participle.NextMatch: a statement
// nothing else matched fails here, on the missing declaration keyword.
func (g *gDecl) Parse(lex *lexer.PeekingLexer) error {
	p := declParser{lex: lex}
	first := lex.Peek()
	at := first.Pos
	durable := false
	if first.Value == "durable" {
		lex.Next()
		durable = true
	}
	kw := lex.Peek()
	kind, ok := collKind(kw.Value)
	if !ok {
		return p.fail(expKind)
	}
	lex.Next()
	name := lex.Peek()
	if name.Type != tokIdent {
		return p.fail(expDeclName)
	}
	lex.Next()

	// The optional part. Its three forms start with different tokens, so
	// at most one of participle's alternatives could get anywhere.
	var (
		cols, key bool // a column list; a key clause after it
		colList   []*Column
		keys      []*Ident
		colsAt    lexer.Position
		every     *lexer.Token // the DURATION after `every`
		latType   *TypeExpr    // the TYPE after `:`
		err       error
	)
	start := lex.MakeCheckpoint()
	switch t := lex.Peek(); t.Value {
	case "(":
		colsAt = t.Pos
		colList, err = p.colList()
		if err == nil && p.is("key") {
			keyStart := lex.MakeCheckpoint()
			keys, err = p.key()
			if err = p.optional(keyStart, err); err == nil {
				key = keys != nil
			}
		}
		cols = err == nil
	case "every":
		lex.Next()
		if d := lex.Peek(); d.Type == tokDuration || d.Type == tokInt {
			lex.Next()
			every = d
		} else {
			err = p.fail(expDuration)
		}
	case ":":
		lex.Next()
		latType, err = p.typ()
		if err == nil && latType == nil {
			err = p.fail(expType)
		}
	}
	if err != nil {
		if err = p.optional(start, err); err != nil {
			return err
		}
		cols, key, every, latType = false, false, nil, nil
	}
	if !p.is(";") {
		return p.fail(expSemi)
	}
	lex.Next()

	// What each kind must and must not have.
	d := &Decl{At: toPos(at), Durable: durable, Kind: kind, Name: name.Value, NamePos: toPos(name.Pos)}
	g.decl = d
	switch kind {
	case Periodic:
		if every == nil {
			g.errs.Add(d.NamePos, "periodic %s needs `every DURATION`", d.Name)
			break
		}
		d.EveryRaw, d.EveryPos = every.Value, toPos(every.Pos)
		dur, err := time.ParseDuration(every.Value)
		if err != nil || dur <= 0 {
			g.errs.Add(d.EveryPos, "bad duration %q: want a positive Go duration such as 500ms or 2s", every.Value)
		}
		d.Every = dur
	case Lattice:
		if latType == nil {
			g.errs.Add(d.NamePos, "lattice %s needs a type: `lattice %s: lset<int>;`", d.Name, d.Name)
			break
		}
		d.LatType = latType
	default:
		if !cols {
			g.errs.Add(d.NamePos, "%s %s needs columns: `%s %s(name: type, ...);`", kw.Value, d.Name, kw.Value, d.Name)
			break
		}
		d.Cols = colList
		if key {
			d.Key = keys
		}
	}
	if kind != Periodic && every != nil {
		g.errs.Add(d.At, "only a periodic collection has `every`")
	}
	if kind != Lattice && latType != nil {
		g.errs.Add(latType.At, "only a lattice declaration has `: TYPE`; declare columns as %s %s(name: type)", kw.Value, d.Name)
	}
	if (kind == Periodic || kind == Lattice) && cols {
		g.errs.Add(toPos(colsAt), "a %s declaration has no column list", kw.Value)
	}
	if durable && kind != Table && kind != Lattice {
		g.errs.Add(d.At, "only tables and lattices can be durable, not %s", kw.Value)
	}
	return nil
}

type declParser struct {
	lex *lexer.PeekingLexer
}

// is reports whether the next token is v. Like participle's literals it
// compares only the text: no token of another type can spell these.
func (p *declParser) is(v string) bool { return p.lex.Peek().Value == v }

// fail reports the next token as unexpected; see gDecl for exp.
func (p *declParser) fail(exp string) error {
	return &participle.UnexpectedTokenError{Unexpected: *p.lex.Peek(), Expect: exp}
}

// optional handles err from an optional part that began at start as
// participle does: an error within its lookahead of the start means the
// part is absent (nil, and the lexer is rewound); past that it stands.
func (p *declParser) optional(start lexer.Checkpoint, err error) error {
	if err == nil || p.lex.Cursor() > start.Cursor()+parseLookahead {
		return err
	}
	p.lex.LoadCheckpoint(start)
	return nil
}

// colList parses `"(" (COL ("," COL)*)? ")"` at its "(". The list is never
// nil.
func (p *declParser) colList() ([]*Column, error) {
	p.lex.Next() // "("
	cols := []*Column{}
	start := p.lex.MakeCheckpoint()
	c, err := p.col()
	if err != nil {
		if err = p.optional(start, err); err != nil {
			return nil, err
		}
	} else {
		cols = append(cols, c)
		for p.is(",") {
			start := p.lex.MakeCheckpoint()
			p.lex.Next()
			c, err := p.col()
			if err != nil {
				if err = p.optional(start, err); err != nil {
					return nil, err
				}
				break
			}
			cols = append(cols, c)
		}
	}
	if !p.is(")") {
		return nil, p.fail(expParenClose)
	}
	p.lex.Next()
	return cols, nil
}

// col parses `"@"? NAME ":" TYPE`.
func (p *declParser) col() (*Column, error) {
	first := p.lex.Peek()
	c := &Column{At: toPos(first.Pos)}
	if first.Value == "@" {
		p.lex.Next()
		c.Loc = true
	}
	name := p.lex.Peek()
	if name.Type != tokIdent {
		return nil, p.fail(expColName)
	}
	p.lex.Next()
	if !p.is(":") {
		return nil, p.fail(expColColon)
	}
	p.lex.Next()
	t, err := p.typ()
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, p.fail(expType)
	}
	c.Name, c.Type = name.Value, t
	return c, nil
}

// typ parses `NAME ("<" TYPE ("," TYPE)* ">")?`. Without a NAME it
// returns nil and no error: the caller decides what that means.
func (p *declParser) typ() (*TypeExpr, error) {
	name := p.lex.Peek()
	if name.Type != tokIdent {
		return nil, nil
	}
	p.lex.Next()
	t := &TypeExpr{At: toPos(name.Pos), Name: name.Value}
	if p.is("<") {
		start := p.lex.MakeCheckpoint()
		args, err := p.typeArgs()
		if err = p.optional(start, err); err != nil {
			return nil, err
		}
		t.Args = args
	}
	return t, nil
}

func (p *declParser) typeArgs() ([]*TypeExpr, error) {
	p.lex.Next() // "<"
	a, err := p.typ()
	if err == nil && a == nil {
		err = p.fail(expTypeArgs)
	}
	if err != nil {
		return nil, err
	}
	args := []*TypeExpr{a}
	for p.is(",") {
		start := p.lex.MakeCheckpoint()
		p.lex.Next()
		a, err := p.typ()
		if err == nil && a == nil {
			err = p.fail(expType)
		}
		if err != nil {
			if err = p.optional(start, err); err != nil {
				return nil, err
			}
			break
		}
		args = append(args, a)
	}
	if !p.is(">") {
		return nil, p.fail(expTypeClose)
	}
	p.lex.Next()
	return args, nil
}

// key parses `key "(" (NAME ("," NAME)*)? ")"` at its "key". The list is
// never nil.
func (p *declParser) key() ([]*Ident, error) {
	p.lex.Next() // "key"
	if !p.is("(") {
		return nil, p.fail(expKeyOpen)
	}
	p.lex.Next()
	keys := []*Ident{}
	if t := p.lex.Peek(); t.Type == tokIdent {
		p.lex.Next()
		keys = append(keys, &Ident{At: toPos(t.Pos), Name: t.Value})
		for p.is(",") {
			start := p.lex.MakeCheckpoint()
			p.lex.Next()
			t := p.lex.Peek()
			if t.Type != tokIdent {
				// Fails one token into the group: always "absent".
				if err := p.optional(start, p.fail(expKeyName)); err != nil {
					return nil, err
				}
				break
			}
			p.lex.Next()
			keys = append(keys, &Ident{At: toPos(t.Pos), Name: t.Value})
		}
	}
	if !p.is(")") {
		return nil, p.fail(expParenClose)
	}
	p.lex.Next()
	return keys, nil
}
