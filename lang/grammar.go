package lang

import "github.com/alecthomas/participle/v2/lexer"

// The g* types are the participle grammar: a concrete syntax tree that
// convert.go turns into the AST of ast.go. Keeping the two apart lets the
// grammar follow participle's shape (one struct per precedence level) while
// the AST stays small and convenient for the checker and compiler.

type gFile struct {
	Stmts []*gStmt `parser:"@@*"`
}

type gStmt struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Module *gModule `parser:"  @@"`
	Import *gImport `parser:"| @@"`
	Decl   *gDecl   `parser:"| @@"`
	Rule   *gRule   `parser:"| @@"`
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

type gRule struct {
	Pos  lexer.Position
	Anns []*gAnnotation `parser:"@@*"`
	Head *gCall         `parser:"@@"`
	Body *gBody         `parser:"@@? ';'"`
}

type gBody struct {
	Pos  lexer.Position
	Op   string      `parser:"@('<=' | RuleOp)"`
	Lits []*gLiteral `parser:"@@ (',' @@)*"`
}

type gAnnotation struct {
	Pos  lexer.Position
	Name string   `parser:"'@' @Ident"`
	Args []*gExpr `parser:"('(' (@@ (',' @@)*)? ')')?"`
}

// gLiteral is a body literal. An atom, a condition and an assignment all
// start like an expression, so the grammar reads `not`? and an expression,
// optionally followed by `= expr`; convert.go decides which it is.
type gLiteral struct {
	Pos    lexer.Position
	Not    bool   `parser:"@'not'?"`
	X      *gExpr `parser:"@@"`
	Assign *gExpr `parser:"('=' @@)?"`
}

type gExpr struct {
	Pos   lexer.Position
	Left  *gAnd      `parser:"@@"`
	Right []*gOrTail `parser:"@@*"`
}

type gOrTail struct {
	Pos lexer.Position
	Op  string `parser:"@'||'"`
	X   *gAnd  `parser:"@@"`
}

type gAnd struct {
	Pos   lexer.Position
	Left  *gCmp       `parser:"@@"`
	Right []*gAndTail `parser:"@@*"`
}

type gAndTail struct {
	Pos lexer.Position
	Op  string `parser:"@'&&'"`
	X   *gCmp  `parser:"@@"`
}

type gCmp struct {
	Pos   lexer.Position
	Left  *gAdd     `parser:"@@"`
	Right *gCmpTail `parser:"@@?"`
}

type gCmpTail struct {
	Pos lexer.Position
	Op  string `parser:"@('==' | '!=' | '<=' | '>=' | '<' | '>')"`
	X   *gAdd  `parser:"@@"`
}

type gAdd struct {
	Pos   lexer.Position
	Left  *gMul       `parser:"@@"`
	Right []*gAddTail `parser:"@@*"`
}

type gAddTail struct {
	Pos lexer.Position
	Op  string `parser:"@('+' | '-')"`
	X   *gMul  `parser:"@@"`
}

type gMul struct {
	Pos   lexer.Position
	Left  *gUnary     `parser:"@@"`
	Right []*gMulTail `parser:"@@*"`
}

type gMulTail struct {
	Pos lexer.Position
	Op  string  `parser:"@('*' | '/' | '%')"`
	X   *gUnary `parser:"@@"`
}

type gUnary struct {
	Pos  lexer.Position
	Op   string    `parser:"(  @('-' | '!')"`
	X    *gUnary   `parser:"   @@ )"`
	Prim *gPrimary `parser:"| @@"`
}

type gPrimary struct {
	Pos    lexer.Position
	Float  *string  `parser:"  @Float"`
	Int    *string  `parser:"| @Int"`
	Str    *string  `parser:"| @String"`
	True   bool     `parser:"| @'true'"`
	False  bool     `parser:"| @'false'"`
	Call   *gCall   `parser:"| @@"`
	Ident  *string  `parser:"| @Ident"`
	Braces *gBraces `parser:"| @@"`
	Paren  *gParen  `parser:"| @@"`
	Dur    *string  `parser:"| @Duration"`
}

// gCall is `name(args)` or `parser:"mod.name(args)"`: a function call, an aggregate,
// or an atom (in a head or as a body literal).
type gCall struct {
	Pos    lexer.Position
	Module *gName  `parser:"(@@ '.')?"`
	Name   *gName  `parser:"@@ '('"`
	Args   []*gArg `parser:"(@@ (',' @@)*)? ')'"`
}

type gArg struct {
	Pos  lexer.Position
	Loc  bool   `parser:"@'@'?"`
	Name *gName `parser:"(@@ ':')?"`
	X    *gExpr `parser:"@@"`
}

// gBraces is a set literal {a, b} or a map literal {k: v}.
type gBraces struct {
	Pos   lexer.Position
	Elems []*gBraceElem `parser:"'{' (@@ (',' @@)*)? '}'"`
}

type gBraceElem struct {
	Key *gExpr `parser:"@@"`
	Val *gExpr `parser:"(':' @@)?"`
}

// gParen is a parenthesised expression, or a pair literal (a, b).
type gParen struct {
	Pos    lexer.Position
	X      *gExpr `parser:"'(' @@"`
	Second *gExpr `parser:"(',' @@)? ')'"`
}
