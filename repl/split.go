package repl

// scanState is how the text scanned so far ends: inside a string literal,
// a /* comment, or neither. It carries across input lines.
type scanState int

const (
	inCode scanState = iota
	inString
	inBlockComment
)

// split cuts text into complete statements, each ending at a `;` that is
// outside string literals and comments. It returns the [start, end) byte
// ranges of the complete statements (start at the statement's first
// character that is not white space, comments included; end just after
// the `;`), where the rest begins, whether the rest holds anything besides
// white space and comments, and the state at the end of the text.
//
// A string literal ends at the end of its line, as in the lexer, so that an
// unterminated string cannot swallow the statements after it; the parser
// then reports it.
func split(text string) (stmts [][2]int, rest int, restTokens bool, end scanState) {
	state := inCode
	start := -1 // first non-space byte of the current statement
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch state {
		case inString:
			switch c {
			case '\\':
				if i+1 < len(text) && text[i+1] != '\n' {
					i++
				}
			case '"', '\n':
				state = inCode
			}
			continue
		case inBlockComment:
			if c == '*' && i+1 < len(text) && text[i+1] == '/' {
				i++
				state = inCode
			}
			continue
		}
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			continue
		case c == '/' && i+1 < len(text) && text[i+1] == '/':
			if start < 0 {
				start = i
			}
			for i < len(text) && text[i] != '\n' {
				i++
			}
			continue
		case c == '/' && i+1 < len(text) && text[i+1] == '*':
			if start < 0 {
				start = i
			}
			i++
			state = inBlockComment
			continue
		}
		if start < 0 {
			start = i
		}
		restTokens = true
		switch c {
		case '"':
			state = inString
		case ';':
			stmts = append(stmts, [2]int{start, i + 1})
			start, restTokens = -1, false
		}
	}
	rest = len(text)
	if start >= 0 {
		rest = start
	}
	return stmts, rest, restTokens, state
}

// lineCol advances a 1-based line and byte column over text.
func lineCol(line, col int, text string) (int, int) {
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}
