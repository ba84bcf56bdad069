package lang

import "github.com/alecthomas/participle/v2/lexer"

// The g* types are the participle grammar. Participle drives the statement
// level: it picks the alternative of gStmt, and module and import statements
// are struct-tag productions that the converter (parse.go) turns into the
// AST of ast.go. Rules and declarations, which are nearly all of any program,
// implement participle.Parseable instead and build their AST directly: see
// gRule (ruleparse.go) and gDecl (declparse.go) for why.

// gOne is one statement: the parser is fed a statement at a time.
type gOne struct {
	Stmt *gStmt `parser:"@@"`
}

type gStmt struct {
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

type gName struct {
	Pos  lexer.Position
	Name string `parser:"@Ident"`
}
