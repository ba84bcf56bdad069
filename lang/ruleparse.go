package lang

import (
	"math"
	"strconv"
	"time"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// gRule is the grammar's rule statement. Participle drives the statement
// level and parses module and import statements from struct tags, but rules
// (like declarations, see gDecl) are parsed by hand through participle's
// Parseable hook: they are most of any program, reflection-driven parsing
// of eight precedence levels per term ran at a fraction of a megabyte a
// second, and an atom, a condition and an assignment share a prefix that a
// hand parser tells apart without backtracking.
type gRule struct {
	rule *Rule
	errs ErrorList // non-fatal errors (e.g. a literal out of range)
}

// Parse implements participle.Parseable.
func (g *gRule) Parse(lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	if t.Type != tokIdent && !(t.Type == tokPunct && t.Value == "@") {
		return participle.NextMatch
	}
	if t.Type == tokIdent && statementKeywords[t.Value] {
		// `table t(...)` is a declaration, but `table(...)` would be a
		// rule about a collection named table: look one token further.
		cp := lex.MakeCheckpoint()
		lex.Next()
		n := lex.Peek()
		lex.LoadCheckpoint(cp)
		if !(n.Type == tokPunct && (n.Value == "(" || n.Value == ".")) {
			return participle.NextMatch
		}
	}
	p := &ruleParser{lex: lex}
	r, err := p.rule()
	if err != nil {
		return err
	}
	g.rule, g.errs = r, p.errs
	return nil
}

var statementKeywords = map[string]bool{
	"module": true, "import": true, "durable": true, "table": true, "scratch": true,
	"input": true, "output": true, "channel": true, "periodic": true, "lattice": true,
}

type ruleParser struct {
	lex  *lexer.PeekingLexer
	errs ErrorList
}

// atomExpr is a parsed `name(args)` or `mod.name(args)` before it is known
// whether it is an atom (a body literal or a head) or a function call
// (inside an expression).
type atomExpr struct{ atom *Atom }

func (a *atomExpr) Pos() Pos { return a.atom.At }
func (*atomExpr) expr()      {}

func (p *ruleParser) peek() *lexer.Token { return p.lex.Peek() }
func (p *ruleParser) next() *lexer.Token { return p.lex.Next() }

// is reports whether the next token is the operator or punctuation v.
func (p *ruleParser) is(v string) bool {
	t := p.peek()
	return (t.Type == tokPunct || t.Type == tokRuleOp) && t.Value == v
}

func (p *ruleParser) unexpected(t *lexer.Token, want string) error {
	what := strconv.Quote(t.Value)
	if t.EOF() {
		what = "end of file"
	} else if t.Type == tokString {
		what = "string " + t.Value
	}
	return participle.Errorf(t.Pos, "unexpected %s (expected %s)", what, want)
}

func (p *ruleParser) expect(v string) (*lexer.Token, error) {
	if !p.is(v) {
		return nil, p.unexpected(p.peek(), strconv.Quote(v))
	}
	return p.next(), nil
}

func (p *ruleParser) ident(what string) (*lexer.Token, error) {
	t := p.peek()
	if t.Type != tokIdent {
		return nil, p.unexpected(t, what)
	}
	return p.next(), nil
}

func (p *ruleParser) rule() (*Rule, error) {
	r := &Rule{Op: OpFact}
	for p.is("@") {
		a, err := p.annotation()
		if err != nil {
			return nil, err
		}
		r.Annotations = append(r.Annotations, a)
	}
	headTok := p.peek()
	if headTok.Type != tokIdent {
		return nil, p.unexpected(headTok, "a rule head such as p(x)")
	}
	head, err := p.primary()
	if err != nil {
		return nil, err
	}
	ae, ok := head.(*atomExpr)
	if !ok {
		return nil, participle.Errorf(headTok.Pos, "a statement must be a declaration, a rule or a fact; %q is not an atom", headTok.Value)
	}
	r.Head, r.At = ae.atom, ae.atom.At
	if t := p.peek(); t.Type == tokRuleOp || (t.Type == tokPunct && t.Value == "<=") {
		p.next()
		r.Op, r.OpPos = opByText[t.Value], toPos(t.Pos)
		for {
			l, err := p.literal()
			if err != nil {
				return nil, err
			}
			r.Body = append(r.Body, l)
			if !p.is(",") {
				break
			}
			p.next()
		}
	}
	if !p.is(";") {
		want := `";"`
		if r.Op == OpFact {
			want = `";" or a rule operator (<= <+ <- <+- <~)`
		} else {
			want = `"," or ";"`
		}
		return nil, p.unexpected(p.peek(), want)
	}
	p.next()
	return r, nil
}

func (p *ruleParser) annotation() (*Annotation, error) {
	at := p.next() // "@"
	name, err := p.ident("an annotation name")
	if err != nil {
		return nil, err
	}
	a := &Annotation{At: toPos(at.Pos), Name: name.Value}
	if p.is("(") {
		p.next()
		a.Args = []Expr{}
		for !p.is(")") {
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			a.Args = append(a.Args, p.value(x))
			if !p.is(",") {
				break
			}
			p.next()
		}
		if _, err := p.expect(")"); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (p *ruleParser) literal() (Literal, error) {
	start := p.peek()
	if start.Type == tokIdent && start.Value == "not" {
		p.next()
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		if p.is("=") {
			p.errs.Add(toPos(start.Pos), "`not` applies to an atom, not to an assignment")
			p.next()
			if _, err := p.expr(); err != nil {
				return nil, err
			}
		}
		ae, ok := x.(*atomExpr)
		if !ok {
			p.errs.Add(toPos(start.Pos), "`not` must be followed by an atom such as not p(x)")
			return &Cond{X: p.value(x)}, nil
		}
		ae.atom.Negated = true
		ae.atom.At = toPos(start.Pos)
		return ae.atom, nil
	}
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.is("=") {
		eq := p.next()
		rhs, err := p.expr()
		if err != nil {
			return nil, err
		}
		id, ok := x.(*Ident)
		if !ok {
			p.errs.Add(x.Pos(), "left of `=` must be a new variable (use `==` to compare)")
			id = &Ident{At: toPos(eq.Pos), Name: "_"}
		}
		return &Assign{Var: id, X: p.value(rhs)}, nil
	}
	if ae, ok := x.(*atomExpr); ok {
		return ae.atom, nil
	}
	return &Cond{X: x}, nil
}

// value turns an atom-shaped expression met inside an expression into a
// function call, reporting what a call cannot have.
func (p *ruleParser) value(x Expr) Expr {
	ae, ok := x.(*atomExpr)
	if !ok {
		return x
	}
	a := ae.atom
	if a.Module != "" {
		p.errs.Add(a.At, "%s(...) is an atom, not a value; atoms cannot be nested in expressions", a.QualName())
	}
	c := &Call{At: a.At, Name: a.Name, Args: []Expr{}}
	for _, arg := range a.Args {
		if arg.Loc || arg.Name != "" {
			p.errs.Add(arg.At, "`@` and named arguments belong to atoms, not to the call %s(...)", a.Name)
		}
		c.Args = append(c.Args, arg.X)
	}
	return c
}

func binaryPrec(t *lexer.Token) int {
	if t.Type != tokPunct {
		return 0
	}
	return precedence(t.Value) % 6 // 6 marks "not a binary operator"
}

// expr parses an expression by precedence climbing; see precedence() in
// printer.go for the levels. Comparisons do not chain.
func (p *ruleParser) expr() (Expr, error) { return p.binary(1) }

func (p *ruleParser) binary(minPrec int) (Expr, error) {
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		prec := binaryPrec(t)
		if prec == 0 || prec < minPrec {
			return x, nil
		}
		p.next()
		y, err := p.binary(prec + 1)
		if err != nil {
			return nil, err
		}
		x = &Binary{OpPos: toPos(t.Pos), Op: t.Value, X: p.value(x), Y: p.value(y)}
		if prec == 3 {
			if n := p.peek(); binaryPrec(n) == 3 {
				return nil, participle.Errorf(n.Pos, "comparisons do not chain: write a < b && b < c")
			}
		}
	}
}

func (p *ruleParser) unary() (Expr, error) {
	t := p.peek()
	if t.Type == tokPunct && (t.Value == "-" || t.Value == "!") {
		p.next()
		// Fold a minus sign into a numeric literal so that -1 is a
		// constant (facts need constants) and -9223372036854775808 fits.
		if n := p.peek(); t.Value == "-" && (n.Type == tokInt || n.Type == tokFloat) {
			p.next()
			return p.number(n, toPos(t.Pos), true), nil
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Unary{At: toPos(t.Pos), Op: t.Value, X: p.value(x)}, nil
	}
	return p.primary()
}

func (p *ruleParser) number(t *lexer.Token, at Pos, neg bool) Expr {
	text := t.Value
	if neg {
		text = "-" + text
	}
	if t.Type == tokInt {
		v, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			p.errs.Add(at, "integer literal %s out of range", text)
		}
		return &IntLit{At: at, Val: v}
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(v, 0) {
		p.errs.Add(at, "float literal %s out of range", text)
	}
	return &FloatLit{At: at, Val: v, Raw: text}
}

func (p *ruleParser) primary() (Expr, error) {
	t := p.peek()
	at := toPos(t.Pos)
	switch t.Type {
	case tokInt, tokFloat:
		p.next()
		return p.number(t, at, false), nil
	case tokString:
		p.next()
		s, err := strconv.Unquote(t.Value)
		if err != nil {
			p.errs.Add(at, "bad string literal %s: %v", t.Value, unquoteReason(err))
		}
		return &StringLit{At: at, Val: s}, nil
	case tokDuration:
		p.next()
		if _, err := time.ParseDuration(t.Value); err == nil {
			p.errs.Add(at, "a duration such as %s is only allowed after `every`", t.Value)
		}
		return &IntLit{At: at}, nil
	case tokIdent:
		p.next()
		switch t.Value {
		case "true", "false":
			return &BoolLit{At: at, Val: t.Value == "true"}, nil
		case "_":
			return &Wildcard{At: at}, nil
		}
		if p.is(".") || p.is("(") {
			return p.atom(t)
		}
		return &Ident{At: at, Name: t.Value}, nil
	case tokPunct:
		switch t.Value {
		case "(":
			p.next()
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			x = p.value(x)
			if p.is(",") {
				p.next()
				y, err := p.expr()
				if err != nil {
					return nil, err
				}
				if _, err := p.expect(")"); err != nil {
					return nil, err
				}
				return &PairLit{At: at, A: x, B: p.value(y)}, nil
			}
			if _, err := p.expect(")"); err != nil {
				return nil, err
			}
			return x, nil
		case "{":
			return p.braces()
		}
	}
	return nil, p.unexpected(t, "an expression")
}

// atom parses `name(args)` or `mod.name(args)` after its first identifier.
func (p *ruleParser) atom(first *lexer.Token) (Expr, error) {
	a := &Atom{At: toPos(first.Pos), Name: first.Value, NamePos: toPos(first.Pos), Args: []*Arg{}}
	if p.is(".") {
		p.next()
		name, err := p.ident("a collection name after `.`")
		if err != nil {
			return nil, err
		}
		a.Module, a.Name, a.NamePos = first.Value, name.Value, toPos(name.Pos)
	}
	if _, err := p.expect("("); err != nil {
		return nil, err
	}
	for !p.is(")") {
		arg := &Arg{At: toPos(p.peek().Pos)}
		if p.is("@") {
			p.next()
			arg.Loc = true
		}
		if t := p.peek(); t.Type == tokIdent {
			cp := p.lex.MakeCheckpoint()
			p.next()
			if p.is(":") {
				p.next()
				arg.Name, arg.NamePos = t.Value, toPos(t.Pos)
			} else {
				p.lex.LoadCheckpoint(cp)
			}
		}
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		arg.X = p.value(x)
		a.Args = append(a.Args, arg)
		if !p.is(",") {
			break
		}
		p.next()
	}
	if _, err := p.expect(")"); err != nil {
		return nil, err
	}
	return &atomExpr{atom: a}, nil
}

// braces parses a set literal {a, b} or a map literal {k: v}; {} is empty.
func (p *ruleParser) braces() (Expr, error) {
	open := p.next()
	at := toPos(open.Pos)
	var keys, vals []Expr
	isMap := false
	for i := 0; !p.is("}"); i++ {
		k, err := p.expr()
		if err != nil {
			return nil, err
		}
		keys = append(keys, p.value(k))
		if p.is(":") {
			p.next()
			if i == 0 {
				isMap = true
			} else if !isMap {
				p.errs.Add(k.Pos(), "set literal elements have no `: value` (mixing set and map syntax)")
			}
			v, err := p.expr()
			if err != nil {
				return nil, err
			}
			vals = append(vals, p.value(v))
		} else if isMap {
			p.errs.Add(k.Pos(), "map literal entry needs `key: value`")
			vals = append(vals, &Wildcard{At: k.Pos()})
		}
		if !p.is(",") {
			break
		}
		p.next()
	}
	if _, err := p.expect("}"); err != nil {
		return nil, err
	}
	if isMap {
		return &MapLit{At: at, Keys: keys, Vals: vals}, nil
	}
	return &SetLit{At: at, Elems: keys}, nil
}

func unquoteReason(err error) string {
	if err == strconv.ErrSyntax {
		return "invalid escape sequence"
	}
	return err.Error()
}
