package lang

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// Token types. The names are the symbols the participle grammar uses.
const (
	tokEOF      = lexer.EOF
	tokIdent    = lexer.TokenType(-2 - iota)
	tokInt      // 42
	tokFloat    // 1.5, 2e3
	tokString   // "text" with Go escapes
	tokDuration // 500ms, 1h30m
	tokRuleOp   // <+- <+ <- <~ (<= is a Punct: it is also a comparison)
	tokPunct    // operators and punctuation
)

var tokenSymbols = map[string]lexer.TokenType{
	"EOF": tokEOF, "Ident": tokIdent, "Int": tokInt, "Float": tokFloat,
	"String": tokString, "Duration": tokDuration, "RuleOp": tokRuleOp, "Punct": tokPunct,
}

// maxNesting bounds parentheses, braces and runs of unary operators: the
// parser recurses on nesting, and no input may exhaust the stack.
const maxNesting = 200

// bloomLexer is a hand-written scanner (the regexp lexer ran at a fraction
// of a megabyte a second). Beyond tokenising it makes two context fixes a
// regular lexer cannot:
//   - after a statement's rule operator, or inside parentheses, `<-` can only
//     mean `<` followed by unary minus (`x<-1`), so it is split;
//   - comments are taken out of the stream and kept for the formatter.
type bloomLexer struct {
	comments *[]*Comment
}

func (d bloomLexer) Symbols() map[string]lexer.TokenType { return tokenSymbols }

func (d bloomLexer) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return d.LexString(filename, string(src))
}

// LexString returns a lexer that scans on demand, so that only a chunk of
// the tokens is held at a time (see Parser.ParseFile).
func (d bloomLexer) LexString(filename string, src string) (lexer.Lexer, error) {
	return &scanner{d: d, src: src, file: filename, line: 1, col: 1}, nil
}

type scanner struct {
	d    bloomLexer
	src  string
	file string
	off  int
	line int
	col  int

	depth, braces, run int
	afterOp            bool
	pending            []lexer.Token // the `-` of a split `<-`
	done               bool
}

func (s *scanner) pos() lexer.Position {
	return lexer.Position{Filename: s.file, Offset: s.off, Line: s.line, Column: s.col}
}

// advance moves over n bytes that contain no newline.
func (s *scanner) advance(n int) { s.off += n; s.col += n }

// Next implements lexer.Lexer.
func (s *scanner) Next() (lexer.Token, error) {
	if len(s.pending) > 0 {
		t := s.pending[0]
		s.pending = s.pending[1:]
		return t, nil
	}
	src, d := s.src, s.d
	errAt := func(p lexer.Position, format string, args ...any) error {
		return &lexer.Error{Msg: fmt.Sprintf(format, args...), Pos: p}
	}
	{
		// Whitespace and comments.
		for s.off < len(src) {
			c := src[s.off]
			if c == '\n' {
				s.off++
				s.line++
				s.col = 1
			} else if c == ' ' || c == '\t' || c == '\r' {
				s.advance(1)
			} else if c == '/' && s.off+1 < len(src) && (src[s.off+1] == '/' || src[s.off+1] == '*') {
				start := s.pos()
				var text string
				if src[s.off+1] == '/' {
					end := strings.IndexByte(src[s.off:], '\n')
					if end < 0 {
						end = len(src) - s.off
					}
					text = src[s.off : s.off+end]
					s.advance(end)
				} else {
					end := strings.Index(src[s.off+2:], "*/")
					if end < 0 {
						return lexer.Token{}, errAt(start, "comment not terminated")
					}
					text = src[s.off : s.off+2+end+2]
					for i := 0; i < len(text); i++ {
						if text[i] == '\n' {
							s.line++
							s.col = 1
						} else {
							s.col++
						}
					}
					s.off += len(text)
				}
				if d.comments != nil {
					*d.comments = append(*d.comments, &Comment{At: toPos(start), Text: text})
				}
			} else {
				break
			}
		}
		p := s.pos()
		if s.off >= len(src) {
			return lexer.Token{Type: tokEOF, Pos: p}, nil
		}
		c := src[s.off]
		var t lexer.Token
		t.Pos = p
		switch {
		case isLetter(c):
			n := 1
			for s.off+n < len(src) && (isLetter(src[s.off+n]) || isDigit(src[s.off+n])) {
				n++
			}
			t.Type, t.Value = tokIdent, src[s.off:s.off+n]
		case isDigit(c):
			t.Type, t.Value = scanNumber(src[s.off:])
		case c == '"':
			n, ok := scanString(src[s.off:])
			if !ok {
				return lexer.Token{}, errAt(p, "string literal not terminated")
			}
			t.Type, t.Value = tokString, src[s.off:s.off+n]
		default:
			op := scanPunct(src[s.off:])
			if op == "" {
				r, _ := utf8.DecodeRuneInString(src[s.off:])
				return lexer.Token{}, errAt(p, "unexpected character %q", r)
			}
			t.Type, t.Value = tokPunct, op
			if op[0] == '<' && len(op) > 1 && op != "<=" {
				t.Type = tokRuleOp
			}
		}
		s.advance(len(t.Value))

		if t.Type == tokPunct && (t.Value == "-" || t.Value == "!") {
			s.run++
		} else {
			s.run = 0
		}
		switch t.Value {
		case "(":
			s.depth++
		case ")":
			s.depth = max(s.depth-1, 0)
		case "{":
			s.braces++
		case "}":
			s.braces = max(s.braces-1, 0)
		case ";":
			s.depth, s.braces, s.afterOp = 0, 0, false
		case "<=":
			if s.depth == 0 {
				s.afterOp = true // the deductive rule operator
			}
		}
		if s.depth+s.braces > maxNesting || s.run > maxNesting {
			return lexer.Token{}, errAt(p, "expression nested more than %d deep", maxNesting)
		}
		if t.Type == tokRuleOp {
			if s.afterOp || s.depth > 0 {
				if t.Value == "<-" {
					lt, mt := t, t
					lt.Type, lt.Value = tokPunct, "<"
					mt.Type, mt.Value = tokPunct, "-"
					mt.Pos.Offset++
					mt.Pos.Column++
					s.pending = append(s.pending[:0], mt)
					s.run = 1
					return lt, nil
				}
			} else {
				s.afterOp = true
			}
		}
		return t, nil
	}
}

func isLetter(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// scanNumber reads an Int, a Float (1.5, 2e3, 1.5e-3) or a Duration
// (Go syntax: 500ms, 1h30m, 1.5s).
func scanNumber(s string) (lexer.TokenType, string) {
	digits := func(i int) int {
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		return i
	}
	i := digits(0)
	typ := tokInt
	if i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
		i = digits(i + 1)
		typ = tokFloat
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			return tokFloat, s[:digits(j)]
		}
	}
	if n := durationUnit(s[i:]); n > 0 {
		// A duration is one or more number+unit groups.
		i += n
		for i < len(s) && isDigit(s[i]) {
			j := digits(i)
			if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
				j = digits(j + 1)
			}
			n := durationUnit(s[j:])
			if n == 0 {
				break
			}
			i = j + n
		}
		return tokDuration, s[:i]
	}
	return typ, s[:i]
}

// durationUnit returns the length of a Go duration unit at the start of s,
// or 0. A unit must not run on into an identifier (5min is not 5m + in).
func durationUnit(s string) int {
	for _, u := range []string{"ns", "us", "µs", "ms", "s", "m", "h"} {
		if strings.HasPrefix(s, u) {
			if len(s) > len(u) && (isLetter(s[len(u)])) {
				continue
			}
			return len(u)
		}
	}
	return 0
}

// scanString returns the length of the string literal at the start of s.
func scanString(s string) (int, bool) {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		case '\n':
			return 0, false
		}
	}
	return 0, false
}

// scanPunct returns the operator or punctuation at the start of s: one of
// <+- <+ <- <~ <= >= == != && || or one of -+*/%<>=!(),;:.@{}, the
// longest that matches; "" if none does.
func scanPunct(s string) string {
	var next byte
	if len(s) > 1 {
		next = s[1]
	}
	switch s[0] {
	case '<':
		switch next {
		case '+':
			if len(s) > 2 && s[2] == '-' {
				return s[:3]
			}
			return s[:2]
		case '-', '~', '=':
			return s[:2]
		}
	case '>', '=', '!':
		if next == '=' {
			return s[:2]
		}
	case '&', '|':
		if next == s[0] {
			return s[:2]
		}
		return ""
	}
	if strings.IndexByte(puncts1, s[0]) >= 0 {
		return s[:1]
	}
	return ""
}

const puncts1 = "-+*/%<>=!(),;:.@{}"

func toPos(p lexer.Position) Pos {
	return Pos{File: p.Filename, Offset: p.Offset, Line: p.Line, Col: p.Column}
}
