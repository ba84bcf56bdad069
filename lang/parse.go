package lang

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Parser parses Bloom source files. It holds the compiled grammar, so build
// one and reuse it; it is safe for concurrent use.
type Parser struct {
	p    *participle.Parser[gOne]
	opts []participle.ParseOption
}

// NewParser builds a parser.
func NewParser() *Parser {
	p := participle.MustBuild[gOne](
		participle.Lexer(bloomLexer{}),
		participle.UseLookahead(parseLookahead),
	)
	// A statement ends at its `;`: the tokens after it are the next
	// statements of the same chunk (see ParseFile).
	return &Parser{p: p, opts: []participle.ParseOption{participle.AllowTrailing(true)}}
}

var defaultParser = NewParser()

// ParseFile parses one file. On failure the error is an ErrorList whose
// entries carry FILE:LINE:COL positions; the returned File may then be nil.
func ParseFile(filename string, src []byte) (*File, error) {
	return defaultParser.ParseFile(filename, src)
}

// chunkTokens is about how many tokens participle is given at a time.
const chunkTokens = 1024

// ParseFile parses one file; see the package-level ParseFile.
func (ps *Parser) ParseFile(filename string, src []byte) (*File, error) {
	var comments []*Comment
	lx := bloomLexer{comments: &comments}
	c := &converter{file: &File{Name: filename}}
	c.file.ends = make(map[Stmt]Pos)

	// The file is lexed once and cut at each `;` (which only ever ends a
	// statement); participle then parses statement by statement. A syntax
	// error thus costs only its own statement, so one run reports the
	// errors of every statement. Participle is given the tokens a chunk of
	// whole statements at a time (see peeker), which keeps the working set
	// small however long the file is. A statement's parse never looks past
	// its `;` (every alternative ends there), so it sees what it would see
	// alone.
	sc, _ := lx.LexString(filename, string(src))
	ch := chunker{sc: sc.(*scanner)}
	var pk peeker
	for !ch.eof {
		ch.next()
		pl := pk.load(ch.toks)
		n := len(ch.semis)
		if ch.tail {
			n++ // the end of the file cuts the last statement short
		}
		for i := 0; i < n; i++ {
			if i < len(ch.semis) {
				end := toPos(ch.semis[i])
				end.Offset++
				end.Col++
				c.semi = end
			}
			c.statement(ps, filename, pl)
			if len(c.errs) >= MaxErrors {
				if i < len(ch.semis) {
					// Stop as if the file were not read past this `;`.
					k := len(comments)
					for k > 0 && comments[k-1].At.Offset > ch.semis[i].Offset {
						k--
					}
					comments = comments[:k]
				}
				ch.err, ch.eof = nil, true
				break
			}
		}
		if ch.err != nil {
			// The statement the error cuts short is not reported too.
			c.errs = append(c.errs, syntaxError(filename, ch.err))
		}
	}
	c.file.Comments = comments
	if len(c.errs) > 0 {
		c.errs.Sort()
		return c.file, c.errs
	}
	return c.file, nil
}

// statement parses the statement at pl's cursor and converts it, leaving pl
// after the statement's `;`.
func (c *converter) statement(ps *Parser, filename string, pl *lexer.PeekingLexer) {
	start := pl.MakeCheckpoint()
	c.at = pl.Peek().Pos
	one, err := ps.p.ParseFromLexer(pl, ps.opts...)
	if err != nil {
		c.errs = append(c.errs, syntaxError(filename, err))
		pl.LoadCheckpoint(start)
		for {
			t := pl.Next()
			if t.EOF() || t.Type == tokPunct && t.Value == ";" {
				break
			}
		}
		return
	}
	c.convert(one.Stmt)
}

// chunker cuts the token stream into chunks of whole statements.
type chunker struct {
	sc    *scanner
	toks  []lexer.Token    // the chunk, ending in an EOF token
	semis []lexer.Position // the chunk's `;` tokens, one per statement
	tail  bool             // the input ended in a statement without `;`
	eof   bool             // the input is used up
	err   error            // the lexical error that ended it
}

// next reads the next chunk: statements up to the first `;` after
// chunkTokens tokens, or to the end of the input.
func (c *chunker) next() {
	c.toks, c.semis = c.toks[:0], c.semis[:0]
	since := 0 // tokens since the last `;`
	for {
		t, err := c.sc.Next()
		if err != nil {
			// The chunk ends before the statement the error is in
			// (which is not parsed, so its EOF is never reached).
			c.toks = append(c.toks[:len(c.toks)-since], lexer.Token{Type: tokEOF})
			c.err, c.eof = err, true
			return
		}
		c.toks = append(c.toks, t)
		if t.EOF() {
			c.tail, c.eof = since > 0, true
			return
		}
		since++
		if t.Type == tokPunct && t.Value == ";" {
			c.semis = append(c.semis, t.Pos)
			since = 0
			if len(c.toks) >= chunkTokens {
				c.toks = append(c.toks, lexer.Token{Type: tokEOF, Pos: t.Pos})
				return
			}
		}
	}
}

// peeker holds the lexer.PeekingLexer that participle parses from. Making
// one (lexer.Upgrade) copies the tokens one at a time into a growing slice:
// done per statement, or even per chunk, that garbage (over 100 MB per MB
// of source) made the collector the largest cost of parsing. So one
// PeekingLexer is made per file and refilled for each chunk through the
// slice lexer.PeekingLexer.Range returns, which is the lexer's own token
// array. Should a participle version copy there instead, load sees it and
// makes a PeekingLexer per chunk.
type peeker struct {
	pl    *lexer.PeekingLexer
	toks  []lexer.Token // pl's token array, when it can be refilled
	start lexer.Checkpoint
}

// load returns a PeekingLexer over toks (which end in an EOF token), at
// its first token.
func (p *peeker) load(toks []lexer.Token) *lexer.PeekingLexer {
	if len(toks) <= len(p.toks) {
		copy(p.toks, toks)
		p.pl.LoadCheckpoint(p.start)
		return p.pl
	}
	pl, _ := lexer.Upgrade(&sliceLexer{toks: toks})
	p.pl, p.start, p.toks = pl, pl.MakeCheckpoint(), nil
	if own := pl.Range(0, lexer.RawCursor(len(toks))); len(own) == len(toks) && &own[0] == pl.Peek() {
		p.toks = own
	}
	return pl
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
	at   lexer.Position // the current statement's first token
	semi Pos            // just after the current statement's `;`
	errs ErrorList
}

func (c *converter) errorf(p lexer.Position, format string, args ...any) {
	c.errs.Add(toPos(p), format, args...)
}

func (c *converter) convert(s *gStmt) {
	f := c.file
	switch {
	case s.Module != nil:
		m := &ModuleDecl{At: toPos(c.at), Name: s.Module.Name.Name}
		f.Module = m
		f.Stmts = append(f.Stmts, m)
	case s.Import != nil:
		path, err := strconv.Unquote(s.Import.Path.Val)
		if err != nil {
			c.errorf(s.Import.Path.Pos, "bad import path %s", s.Import.Path.Val)
		}
		im := &Import{At: toPos(c.at), Path: path, PathPos: toPos(s.Import.Path.Pos), Alias: s.Import.Alias.Name, AliasPos: toPos(s.Import.Alias.Pos)}
		f.Imports = append(f.Imports, im)
		f.Stmts = append(f.Stmts, im)
	case s.Decl != nil:
		d := s.Decl.decl
		c.errs = append(c.errs, s.Decl.errs...)
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

var opByText = map[string]Op{"<=": OpSame, "<+": OpNext, "<-": OpDelete, "<+-": OpUpsert, "<~": OpAsync}

func (c *converter) rule(g *gRule) *Rule {
	c.errs = append(c.errs, g.errs...)
	return g.rule
}
