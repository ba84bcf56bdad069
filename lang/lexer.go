package lang

import (
	"io"

	"github.com/alecthomas/participle/v2/lexer"
)

// baseLexer tokenises Bloom source. Rule operators are matched before the
// comparison and arithmetic symbols they start with (longest match), and
// durations before integers, so `500ms` is one token.
var baseLexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Comment", Pattern: `//[^\n]*|/\*([^*]|\*+[^*/])*\*+/`},
	{Name: "Whitespace", Pattern: `[ \t\r\n]+`},
	{Name: "Duration", Pattern: `(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+\b`},
	{Name: "Float", Pattern: `\d+\.\d+([eE][+-]?\d+)?|\d+[eE][+-]?\d+`},
	{Name: "Int", Pattern: `\d+`},
	{Name: "String", Pattern: `"(\\.|[^"\\\n])*"`},
	{Name: "Unterminated", Pattern: `/\*|"(\\.|[^"\\\n])*`},
	{Name: "Ident", Pattern: `[A-Za-z_][A-Za-z0-9_]*`},
	{Name: "RuleOp", Pattern: `<\+-|<\+|<-|<~`},
	{Name: "Punct", Pattern: `<=|>=|==|!=|&&|\|\||[-+*/%<>=!(),;:.@{}]`},
	{Name: "Bad", Pattern: `.`},
})

// bloomLexer wraps the regexp lexer with two context fixes that a regular
// lexer cannot make:
//   - after a statement's rule operator, or inside parentheses, `<-` can only
//     mean `<` followed by unary minus (`x<-1`), so it is split;
//   - comments are taken out of the stream and kept for the formatter.
type bloomLexer struct {
	comments *[]*Comment
}

func (d bloomLexer) Symbols() map[string]lexer.TokenType { return baseLexer.Symbols() }

func (d bloomLexer) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return d.LexString(filename, string(src))
}

func (d bloomLexer) LexBytes(filename string, src []byte) (lexer.Lexer, error) {
	return d.LexString(filename, string(src))
}

func (d bloomLexer) LexString(filename string, src string) (lexer.Lexer, error) {
	lx, err := baseLexer.LexString(filename, src)
	if err != nil {
		return nil, err
	}
	syms := baseLexer.Symbols()
	commentT, ruleOpT, punctT := syms["Comment"], syms["RuleOp"], syms["Punct"]
	badT, untermT := syms["Bad"], syms["Unterminated"]
	var toks []lexer.Token
	depth, afterOp := 0, false
	for {
		t, err := lx.Next()
		if err != nil {
			return nil, err
		}
		switch t.Type {
		case commentT:
			if d.comments != nil {
				*d.comments = append(*d.comments, &Comment{At: toPos(t.Pos), Text: t.Value})
			}
			continue
		case badT:
			return nil, &lexer.Error{Msg: "unexpected character " + quoteRune(t.Value), Pos: t.Pos}
		case untermT:
			if t.Value == "/*" {
				return nil, &lexer.Error{Msg: "comment not terminated", Pos: t.Pos}
			}
			return nil, &lexer.Error{Msg: "string literal not terminated", Pos: t.Pos}
		case punctT:
			switch t.Value {
			case "(":
				depth++
			case ")":
				if depth > 0 {
					depth--
				}
			case ";":
				depth, afterOp = 0, false
			}
		case ruleOpT:
			if afterOp || depth > 0 {
				if t.Value == "<-" {
					lt, mt := t, t
					lt.Type, lt.Value = punctT, "<"
					mt.Type, mt.Value = punctT, "-"
					mt.Pos.Offset++
					mt.Pos.Column++
					toks = append(toks, lt, mt)
					continue
				}
			} else {
				afterOp = true
			}
		}
		toks = append(toks, t)
		if t.EOF() {
			break
		}
	}
	return &sliceLexer{toks: toks}, nil
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

func quoteRune(s string) string {
	if s == "\"" {
		return "'\"'"
	}
	return "\"" + s + "\""
}

func toPos(p lexer.Position) Pos {
	return Pos{File: p.Filename, Offset: p.Offset, Line: p.Line, Col: p.Column}
}
