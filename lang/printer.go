package lang

import (
	"strconv"
	"strings"
)

// Format prints a file in the canonical style that `bloomc fmt` writes:
// one statement per line, runs of declarations aligned on the collection
// name, single spaces around operators, minimal parentheses, comments kept
// where they were (own-line comments before the statement that follows them,
// end-of-line comments after their statement), and at most one blank line
// between statements. Printing is idempotent and the output parses back to
// the same AST.
func Format(f *File) string {
	p := &printer{f: f}
	p.file()
	return p.b.String()
}

type printer struct {
	f        *File
	b        strings.Builder
	comments []*Comment // not yet printed
	last     int        // last source line printed, 0 when unknown
}

func (p *printer) file() {
	p.comments = p.f.Comments
	p.last = 0
	first := true
	var prev Stmt
	for i, s := range p.f.Stmts {
		end, hasEnd := p.f.ends[s]
		// Comments before the statement, and any inside it, go on their
		// own lines before it.
		for len(p.comments) > 0 && hasEnd && p.comments[0].At.Offset < end.Offset {
			p.ownLineComment(first)
			first = false
		}
		if !first {
			start := stmtStart(s)
			if hasEnd && start.IsValid() && p.last > 0 {
				if start.Line > p.last+1 {
					p.b.WriteByte('\n')
				}
			} else if stmtGroup(prev) != stmtGroup(s) {
				p.b.WriteByte('\n')
			}
		}
		first = false
		switch s := s.(type) {
		case *ModuleDecl:
			p.b.WriteString("module " + s.Name + ";")
		case *Import:
			p.b.WriteString("import " + strconv.Quote(s.Path) + " as " + s.Alias + ";")
		case *Decl:
			p.decl(s, p.declWidth(i))
		case *Rule:
			p.rule(s)
		}
		if hasEnd {
			p.last = end.Line
			for len(p.comments) > 0 && p.comments[0].At.Line == end.Line {
				c := p.comments[0]
				p.b.WriteString(" " + c.Text)
				p.last = c.At.Line + strings.Count(c.Text, "\n")
				p.comments = p.comments[1:]
			}
		} else {
			p.last = 0
		}
		p.b.WriteByte('\n')
		prev = s
	}
	for len(p.comments) > 0 {
		p.ownLineComment(first)
		first = false
	}
}

// ownLineComment prints the next comment on a line of its own, keeping one
// blank line before it if the source had any.
func (p *printer) ownLineComment(first bool) {
	c := p.comments[0]
	p.comments = p.comments[1:]
	if !first && p.last > 0 && c.At.Line > p.last+1 {
		p.b.WriteByte('\n')
	}
	p.b.WriteString(c.Text)
	p.b.WriteByte('\n')
	p.last = c.At.Line + strings.Count(c.Text, "\n")
}

func stmtGroup(s Stmt) int {
	switch s.(type) {
	case *ModuleDecl:
		return 0
	case *Import:
		return 1
	case *Decl:
		return 2
	}
	return 3
}

// stmtStart is where a statement's text begins (its first annotation for an
// annotated rule).
func stmtStart(s Stmt) Pos {
	if r, ok := s.(*Rule); ok && len(r.Annotations) > 0 {
		return r.Annotations[0].At
	}
	return s.Pos()
}

// blankBetween reports whether the source had an empty line between the end
// of one statement and the start of the next, ignoring comment lines.
func (p *printer) blankBetween(end, start Pos) bool {
	line := end.Line
	for _, c := range p.f.Comments {
		if c.At.Offset >= start.Offset {
			break
		}
		if c.At.Offset < end.Offset || c.At.Line == end.Line {
			line = max(line, c.At.Line+strings.Count(c.Text, "\n"))
			continue
		}
		if c.At.Line > line+1 {
			return true
		}
		line = c.At.Line + strings.Count(c.Text, "\n")
	}
	return start.Line > line+1
}

// declWidth is the width of the widest kind keyword in the run of
// declarations that statement i belongs to, so the names line up.
func (p *printer) declWidth(i int) int {
	lo, hi := i, i
	for lo > 0 && p.sameRun(lo-1, lo) {
		lo--
	}
	for hi+1 < len(p.f.Stmts) && p.sameRun(hi, hi+1) {
		hi++
	}
	w := 0
	for j := lo; j <= hi; j++ {
		if d, ok := p.f.Stmts[j].(*Decl); ok {
			w = max(w, len(declKeyword(d)))
		}
	}
	return w
}

// sameRun: consecutive declarations with no blank line between them.
func (p *printer) sameRun(i, j int) bool {
	_, ok1 := p.f.Stmts[i].(*Decl)
	_, ok2 := p.f.Stmts[j].(*Decl)
	if !ok1 || !ok2 {
		return false
	}
	end, ok := p.f.ends[p.f.Stmts[i]]
	if !ok {
		return true
	}
	return !p.blankBetween(end, stmtStart(p.f.Stmts[j]))
}

func declKeyword(d *Decl) string {
	if d.Durable {
		return "durable " + d.Kind.String()
	}
	return d.Kind.String()
}

func (p *printer) decl(d *Decl, width int) {
	kw := declKeyword(d)
	p.b.WriteString(kw)
	p.b.WriteString(strings.Repeat(" ", width-len(kw)+1))
	p.b.WriteString(d.Name)
	switch d.Kind {
	case Periodic:
		p.b.WriteString(" every " + d.EveryRaw)
	case Lattice:
		p.b.WriteString(": " + TypeExprString(d.LatType))
	default:
		p.b.WriteByte('(')
		for i, c := range d.Cols {
			if i > 0 {
				p.b.WriteString(", ")
			}
			if c.Loc {
				p.b.WriteByte('@')
			}
			p.b.WriteString(c.Name + ": " + TypeExprString(c.Type))
		}
		p.b.WriteByte(')')
		if d.Key != nil {
			p.b.WriteString(" key(")
			for i, k := range d.Key {
				if i > 0 {
					p.b.WriteString(", ")
				}
				p.b.WriteString(k.Name)
			}
			p.b.WriteByte(')')
		}
	}
	p.b.WriteByte(';')
}

func (p *printer) rule(r *Rule) {
	for _, a := range r.Annotations {
		p.b.WriteString("@" + a.Name)
		if a.Args != nil {
			p.b.WriteByte('(')
			for i, x := range a.Args {
				if i > 0 {
					p.b.WriteString(", ")
				}
				p.b.WriteString(ExprString(x))
			}
			p.b.WriteByte(')')
		}
		p.b.WriteByte('\n')
	}
	p.b.WriteString(AtomString(r.Head))
	if !r.IsFact() {
		p.b.WriteString(" " + r.Op.String() + " ")
		for i, l := range r.Body {
			if i > 0 {
				p.b.WriteString(", ")
			}
			p.b.WriteString(LiteralString(l))
		}
	}
	p.b.WriteByte(';')
}

// RuleString prints one rule or fact in canonical form, without comments.
func RuleString(r *Rule) string {
	p := &printer{f: &File{}}
	p.rule(r)
	return p.b.String()
}

// LiteralString prints a body literal.
func LiteralString(l Literal) string {
	switch l := l.(type) {
	case *Atom:
		return AtomString(l)
	case *Cond:
		if _, ok := l.X.(*Call); ok {
			// A bare call in a body reads as an atom; keep it a condition.
			return "(" + ExprString(l.X) + ")"
		}
		return ExprString(l.X)
	case *Assign:
		return l.Var.Name + " = " + ExprString(l.X)
	}
	return "?"
}

// AtomString prints an atom, e.g. `not cart(session: s, _)`.
func AtomString(a *Atom) string {
	var b strings.Builder
	if a.Negated {
		b.WriteString("not ")
	}
	b.WriteString(a.QualName())
	b.WriteByte('(')
	for i, arg := range a.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		if arg.Loc {
			b.WriteByte('@')
		}
		if arg.Name != "" {
			b.WriteString(arg.Name + ": ")
		}
		b.WriteString(ExprString(arg.X))
	}
	b.WriteByte(')')
	return b.String()
}

// Operator precedence, loosest first; comparisons do not chain.
func precedence(op string) int {
	switch op {
	case "||":
		return 1
	case "&&":
		return 2
	case "==", "!=", "<", "<=", ">", ">=":
		return 3
	case "+", "-":
		return 4
	case "*", "/", "%":
		return 5
	}
	return 6
}

// ExprString prints an expression with the fewest parentheses that keep its
// structure.
func ExprString(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e, 0)
	return b.String()
}

func writeExpr(b *strings.Builder, e Expr, ctx int) {
	switch e := e.(type) {
	case *Ident:
		b.WriteString(e.Name)
	case *Wildcard:
		b.WriteByte('_')
	case *IntLit:
		b.WriteString(strconv.FormatInt(e.Val, 10))
	case *FloatLit:
		b.WriteString(formatFloatLit(e.Val))
	case *StringLit:
		b.WriteString(strconv.Quote(e.Val))
	case *BoolLit:
		b.WriteString(strconv.FormatBool(e.Val))
	case *Unary:
		b.WriteString(e.Op)
		// `- -x` must not print as `--x`, and `-(1)` must not fold into
		// the literal -1 when read back.
		switch x := e.X.(type) {
		case *Unary:
			if x.Op == e.Op && e.Op == "-" {
				b.WriteByte('(')
				writeExpr(b, e.X, 0)
				b.WriteByte(')')
				return
			}
		case *IntLit, *FloatLit:
			b.WriteByte('(')
			writeExpr(b, e.X, 0)
			b.WriteByte(')')
			return
		}
		writeExpr(b, e.X, 6)
	case *Binary:
		prec := precedence(e.Op)
		paren := prec < ctx
		if paren {
			b.WriteByte('(')
		}
		left := prec
		if prec == 3 {
			left = 4 // comparisons do not chain: a nested one needs parens
		}
		writeExpr(b, e.X, left)
		b.WriteString(" " + e.Op + " ")
		writeExpr(b, e.Y, prec+1) // left-associative
		if paren {
			b.WriteByte(')')
		}
	case *Call:
		b.WriteString(e.Name)
		b.WriteByte('(')
		for i, a := range e.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			writeExpr(b, a, 0)
		}
		b.WriteByte(')')
	case *SetLit:
		b.WriteByte('{')
		for i, a := range e.Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			writeExpr(b, a, 0)
		}
		b.WriteByte('}')
	case *MapLit:
		b.WriteByte('{')
		for i := range e.Keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writeExpr(b, e.Keys[i], 0)
			b.WriteString(": ")
			writeExpr(b, e.Vals[i], 0)
		}
		b.WriteByte('}')
	case *PairLit:
		b.WriteByte('(')
		writeExpr(b, e.A, 0)
		b.WriteString(", ")
		writeExpr(b, e.B, 0)
		b.WriteByte(')')
	default:
		b.WriteString("?")
	}
}

// formatFloatLit prints a float so that it lexes back as a float literal.
func formatFloatLit(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") { // n: NaN, Inf
		s += ".0"
	}
	return s
}
