package repl

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
)

// ANSI colours, used only with Options.Color.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[1;31m"
	ansiYellow = "\x1b[1;33m"
	ansiGreen  = "\x1b[32m"
	ansiDim    = "\x1b[2m"
)

// diag is a diagnostic, positioned where the offending text was typed or
// read when pos is valid.
type diag struct {
	pos  lang.Pos
	msg  string
	warn bool
}

// caret returns spaces (and the line's tabs) up to byte column col, then ^.
func caret(line string, col int) string {
	var b strings.Builder
	for i, r := range line {
		if i >= col-1 {
			break
		}
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	if col-1 > len(line) {
		b.WriteString(strings.Repeat(" ", col-1-len(line)))
	}
	b.WriteByte('^')
	return b.String()
}

var (
	virtualRef = regexp.MustCompile(regexp.QuoteMeta(virtualName) + `:(\d+):(\d+)`)
	atRef      = regexp.MustCompile(`\bat (\d+):(\d+)\b`)
	lineRef    = regexp.MustCompile(`\bline (\d+)\b`)
	leadingPos = regexp.MustCompile(`^([^\s:][^:\n]*):(\d+):(\d+): `)
)

// diagnose turns an error from checking, compiling or running the
// program built as b into diagnostics positioned at the statements'
// origins. Positions inside messages ("already declared at 3:7",
// "(line 4, line 7)") are mapped too.
func (s *Session) diagnose(b *build, err error) []diag {
	var list lang.ErrorList
	if errors.As(err, &list) {
		var ds []diag
		for _, e := range list {
			pos, mapped := b.mapPos(e.Pos)
			msg := e.Msg
			if mapped {
				msg = s.mapRefs(b, msg, pos.File)
			}
			ds = append(ds, diag{pos: pos, msg: msg})
		}
		return ds
	}
	prefix := ""
	var te *tickError
	if errors.As(err, &te) {
		prefix = fmt.Sprintf("tick %d failed: ", te.tick)
		err = te.err
	}
	var kv *runtime.KeyViolationError
	if errors.As(err, &kv) {
		pos, _ := b.mapPos(kv.Pos)
		return []diag{{pos: pos, msg: prefix + strings.TrimPrefix(err.Error(), kv.Pos.String()+": ")}}
	}
	text := virtualRef.ReplaceAllStringFunc(err.Error(), func(ref string) string {
		m := virtualRef.FindStringSubmatch(ref)
		l, _ := strconv.Atoi(m[1])
		c, _ := strconv.Atoi(m[2])
		p, _ := b.mapPos(lang.Pos{File: virtualName, Line: l, Col: c})
		return p.String()
	})
	if m := leadingPos.FindStringSubmatch(text); m != nil {
		l, _ := strconv.Atoi(m[2])
		c, _ := strconv.Atoi(m[3])
		return []diag{{pos: lang.Pos{File: m[1], Line: l, Col: c}, msg: prefix + text[len(m[0]):]}}
	}
	return []diag{{msg: prefix + text}}
}

// mapText rewrites the positions in the virtual file that a text holds
// (<repl>:L:C) to where the statements came from.
func (s *Session) mapText(text string) string {
	return virtualRef.ReplaceAllStringFunc(text, func(ref string) string {
		m := virtualRef.FindStringSubmatch(ref)
		l, _ := strconv.Atoi(m[1])
		c, _ := strconv.Atoi(m[2])
		p, _ := s.cur.mapPos(lang.Pos{File: virtualName, Line: l, Col: c})
		return p.String()
	})
}

// mapRefs rewrites "at L:C" and "line L" references to the virtual file in
// a message about a statement from file.
func (s *Session) mapRefs(b *build, msg, file string) string {
	ref := func(l, c int) (lang.Pos, bool) {
		return b.mapPos(lang.Pos{File: virtualName, Line: l, Col: c})
	}
	msg = atRef.ReplaceAllStringFunc(msg, func(m string) string {
		sm := atRef.FindStringSubmatch(m)
		l, _ := strconv.Atoi(sm[1])
		c, _ := strconv.Atoi(sm[2])
		p, ok := ref(l, c)
		switch {
		case !ok:
			return m
		case p.File == file:
			return fmt.Sprintf("at %d:%d", p.Line, p.Col)
		}
		return "at " + p.String()
	})
	return lineRef.ReplaceAllStringFunc(msg, func(m string) string {
		sm := lineRef.FindStringSubmatch(m)
		l, _ := strconv.Atoi(sm[1])
		p, ok := ref(l, 1)
		switch {
		case !ok:
			return m
		case p.File == file:
			return fmt.Sprintf("line %d", p.Line)
		}
		return fmt.Sprintf("%s line %d", p.File, p.Line)
	})
}

// numeric reports whether values of t print as numbers (right-aligned).
func numeric(t *lang.Type) bool {
	switch t.Kind {
	case lang.Int, lang.Float, lang.Time, lang.LCounter:
		return true
	case lang.LMax, lang.LMin:
		return numeric(t.Elem)
	}
	return false
}

// tickRange renders "tick 3" or "ticks 3-7".
func tickRange(from, to int64) string {
	if from == to {
		return fmt.Sprintf("tick %d", from)
	}
	return fmt.Sprintf("ticks %d-%d", from, to)
}
