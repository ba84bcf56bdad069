package lang

import "github.com/alecthomas/participle/v2/lexer"

// The g* types are the participle grammar: a concrete syntax tree that
// convert.go turns into the AST of ast.go. Keeping the two apart lets the
// grammar follow participle's shape (one struct per precedence level) while
// the AST stays small and convenient for the checker and compiler.

// gOne is one statement: the parser is fed a statement at a time.
type gOne struct {
	Stmt *gStmt `parser:"@@"`
}

type gStmt struct {
	Pos    lexer.Position
	Rule   *gRule   `parser:"  @@"`
	Module *gModule `parser:"| @@"`
	Import *gImport `parser:"| @@"`
	Decl   *gDecl   `parser:"| @@"`
}

type gModule struct {
	Name *gName `parser:"'module' @@ ';'"`
}

type gImport struct {
	Path  *gStr  `parser:"'import' @@"`
	Alias *gName `parser:"'as' @@ ';'"`
}

type gStr struct {
	Pos lexer.Position
	Val string `parser:"@String"`
}

type gDecl struct {
	Pos     lexer.Position
	Durable bool       `parser:"@'durable'?"`
	Kind    string     `parser:"@('table' | 'scratch' | 'input' | 'output' | 'channel' | 'periodic' | 'lattice')"`
	Name    *gName     `parser:"@@"`
	Cols    *gColList  `parser:"(  @@"`
	Key     *gKey      `parser:"   @@?"`
	Every   *gDuration `parser:"| 'every' @@"`
	LatType *gType     `parser:"| ':' @@ )?"`
	End     string     `parser:"@';'"`
}

type gName struct {
	Pos  lexer.Position
	Name string `parser:"@Ident"`
}

type gColList struct {
	Pos  lexer.Position
	Cols []*gCol `parser:"'(' (@@ (',' @@)*)? ')'"`
}

type gCol struct {
	Pos  lexer.Position
	Loc  bool   `parser:"@'@'?"`
	Name string `parser:"@Ident ':'"`
	Type *gType `parser:"@@"`
}

type gKey struct {
	Pos  lexer.Position
	Cols []*gName `parser:"'key' '(' (@@ (',' @@)*)? ')'"`
}

type gDuration struct {
	Pos lexer.Position
	Raw string `parser:"@(Duration | Int)"`
}

type gType struct {
	Pos  lexer.Position
	Name string   `parser:"@Ident"`
	Args []*gType `parser:"('<' @@ (',' @@)* '>')?"`
}
