package lang

import (
	"fmt"
	"strconv"
	"strings"
)

// Dump renders the AST as an indented tree, one node per line. With
// positions it is the golden-test format; without, two ASTs of the same
// program written differently (spacing, comments, parentheses) dump alike,
// which is what the printer round-trip tests compare.
func Dump(f *File, positions bool) string {
	d := &dumper{pos: positions}
	d.line(0, "file", Pos{})
	for _, s := range f.Stmts {
		d.stmt(1, s)
	}
	return d.b.String()
}

type dumper struct {
	b   strings.Builder
	pos bool
}

func (d *dumper) line(depth int, text string, p Pos) {
	d.b.WriteString(strings.Repeat("  ", depth))
	d.b.WriteString(text)
	if d.pos && p.IsValid() {
		fmt.Fprintf(&d.b, " @%d:%d", p.Line, p.Col)
	}
	d.b.WriteByte('\n')
}

func (d *dumper) stmt(n int, s Stmt) {
	switch s := s.(type) {
	case *ModuleDecl:
		d.line(n, "module "+s.Name, s.At)
	case *Import:
		d.line(n, fmt.Sprintf("import %q as %s", s.Path, s.Alias), s.At)
	case *Decl:
		head := s.Kind.String()
		if s.Durable {
			head = "durable " + head
		}
		d.line(n, head+" "+s.Name, s.At)
		for _, c := range s.Cols {
			loc := ""
			if c.Loc {
				loc = "@"
			}
			d.line(n+1, "col "+loc+c.Name+": "+TypeExprString(c.Type), c.At)
		}
		if s.Key != nil {
			names := make([]string, len(s.Key))
			for i, k := range s.Key {
				names[i] = k.Name
			}
			d.line(n+1, "key("+strings.Join(names, ", ")+")", Pos{})
		}
		if s.Kind == Periodic {
			d.line(n+1, "every "+s.EveryRaw, s.EveryPos)
		}
		if s.LatType != nil {
			d.line(n+1, "type "+TypeExprString(s.LatType), s.LatType.At)
		}
	case *Rule:
		for _, a := range s.Annotations {
			d.line(n, "@"+a.Name, a.At)
			for _, x := range a.Args {
				d.expr(n+1, x)
			}
		}
		if s.IsFact() {
			d.line(n, "fact", s.At)
		} else {
			d.line(n, "rule "+s.Op.String(), s.OpPos)
		}
		d.atom(n+1, "head", s.Head)
		for _, l := range s.Body {
			switch l := l.(type) {
			case *Atom:
				d.atom(n+1, "atom", l)
			case *Cond:
				d.line(n+1, "cond", Pos{})
				d.expr(n+2, l.X)
			case *Assign:
				d.line(n+1, "assign "+l.Var.Name, l.Var.At)
				d.expr(n+2, l.X)
			}
		}
	}
}

func (d *dumper) atom(n int, what string, a *Atom) {
	if a.Negated {
		what += " not"
	}
	d.line(n, what+" "+a.QualName(), a.NamePos)
	for _, arg := range a.Args {
		label := "arg"
		if arg.Loc {
			label += " @"
		}
		if arg.Name != "" {
			label += " " + arg.Name + ":"
		}
		d.line(n+1, label, Pos{})
		d.expr(n+2, arg.X)
	}
}

func (d *dumper) expr(n int, e Expr) {
	switch e := e.(type) {
	case *Ident:
		d.line(n, "var "+e.Name, e.At)
	case *Wildcard:
		d.line(n, "_", e.At)
	case *IntLit:
		d.line(n, "int "+strconv.FormatInt(e.Val, 10), e.At)
	case *FloatLit:
		d.line(n, "float "+strconv.FormatFloat(e.Val, 'g', -1, 64), e.At)
	case *StringLit:
		d.line(n, "string "+strconv.Quote(e.Val), e.At)
	case *BoolLit:
		d.line(n, "bool "+strconv.FormatBool(e.Val), e.At)
	case *Unary:
		d.line(n, "unary "+e.Op, e.At)
		d.expr(n+1, e.X)
	case *Binary:
		d.line(n, "binary "+e.Op, e.OpPos)
		d.expr(n+1, e.X)
		d.expr(n+1, e.Y)
	case *Call:
		d.line(n, "call "+e.Name, e.At)
		for _, a := range e.Args {
			d.expr(n+1, a)
		}
	case *SetLit:
		d.line(n, "set", e.At)
		for _, a := range e.Elems {
			d.expr(n+1, a)
		}
	case *MapLit:
		d.line(n, "map", e.At)
		for i := range e.Keys {
			d.expr(n+1, e.Keys[i])
			d.expr(n+2, e.Vals[i])
		}
	case *PairLit:
		d.line(n, "pair", e.At)
		d.expr(n+1, e.A)
		d.expr(n+1, e.B)
	default:
		d.line(n, fmt.Sprintf("?%T", e), Pos{})
	}
}

// TypeExprString renders a written type, e.g. lmap<string, lset<int>>.
func TypeExprString(t *TypeExpr) string {
	if t == nil {
		return "?"
	}
	if len(t.Args) == 0 {
		return t.Name
	}
	parts := make([]string, len(t.Args))
	for i, a := range t.Args {
		parts[i] = TypeExprString(a)
	}
	return t.Name + "<" + strings.Join(parts, ", ") + ">"
}
